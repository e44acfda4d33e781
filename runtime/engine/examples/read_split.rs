//! Times the reader and the splitter on a file, single-threaded, as the runtime's front end.
//!
//! `cargo run --release -p etr-runtime --example read_split -- FILE [COLUMNS] [BLOCK_BYTES]`
//! Prints the wall time of reading alone and of reading plus splitting (median of 5 runs each),
//! with the dialect of workload W1 (`|`, UTF-8, `H` header, `T` trailer).

use std::time::{Duration, Instant};

use etr_runtime::{ReaderConfig, SourceDialect, open, split_chunk};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: read_split FILE [COLUMNS] [BLOCK_BYTES]")?;
    let columns: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(41);
    let block: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(4 << 20);
    let dialect = SourceDialect {
        header_prefix: Some(b"H".to_vec()),
        trailer_prefix: Some(b"T".to_vec()),
        ..SourceDialect::pipe(columns)
    };
    let config = ReaderConfig::with_block_size(block);

    let median = |mut v: Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let mut read_only = Vec::new();
    let mut read_split = Vec::new();
    let mut lines = 0;
    let mut nulls = 0;
    for _ in 0..5 {
        let t = Instant::now();
        let mut reader = open(&path, &dialect, config.clone())?;
        while let Some(chunk) = reader.next_chunk()? {
            lines += chunk.len();
        }
        let facts = reader.finish()?;
        read_only.push(t.elapsed());
        std::hint::black_box(facts);

        let t = Instant::now();
        let mut reader = open(&path, &dialect, config.clone())?;
        while let Some(chunk) = reader.next_chunk()? {
            let batch = split_chunk(&chunk, &dialect);
            nulls += batch.columns.first().map_or(0, |c| arrow::array::Array::null_count(c));
        }
        let facts = reader.finish()?;
        read_split.push(t.elapsed());
        std::hint::black_box(facts);
    }
    println!(
        "{path}: {} lines/run; read {:.3} s; read+split {:.3} s (median of 5; {nulls} nulls)",
        lines / 5,
        median(read_only).as_secs_f64(),
        median(read_split).as_secs_f64(),
    );
    Ok(())
}
