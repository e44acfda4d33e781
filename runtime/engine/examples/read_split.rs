//! Times the reader and the splitter on a file, single-threaded: the runtime's front end alone.
//!
//! `cargo run --release -p etr-runtime --example read_split -- FILE [COLUMNS] [BLOCK_BYTES] [RUNS]`
//!
//! Uses the dialect of workload W1 (`|`, UTF-8, `H` header, `T` trailer). For reading alone and
//! for reading plus splitting, prints the median and the best wall time over the runs, and the
//! thread's on-CPU time (from `/proc/thread-self/schedstat`, so that a busy machine, where this
//! thread waits for a core, does not inflate it).

use std::time::{Duration, Instant};

use arrow::array::Array;
use etr_runtime::{ReaderConfig, SourceDialect, open, split_block};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: read_split FILE [COLUMNS] [BLOCK_BYTES] [RUNS]")?;
    let mut number = |default: usize| -> Result<usize, Box<dyn std::error::Error>> {
        Ok(args.next().map(|a| a.parse()).transpose()?.unwrap_or(default))
    };
    let columns = number(41)?;
    let block = number(4 << 20)?;
    let runs = number(7)?.max(1);
    let dialect = SourceDialect {
        header_prefix: Some(b"H".to_vec()),
        trailer_prefix: Some(b"T".to_vec()),
        ..SourceDialect::pipe(columns)
    };
    let config = ReaderConfig::with_block_size(block);

    let mut read_only = Vec::new();
    let mut read_split = Vec::new();
    let mut split_alone = Vec::new();
    let mut lines = 0;
    let mut nulls = 0;
    for _ in 0..runs {
        let (wall, cpu) = (Instant::now(), cpu_time());
        let mut reader = open(&path, &dialect, config.clone())?;
        lines = 0;
        while let Some(block) = reader.next_block()? {
            lines += block.len();
        }
        std::hint::black_box(reader.finish()?);
        read_only.push((wall.elapsed(), cpu_time().saturating_sub(cpu)));

        let (wall, cpu) = (Instant::now(), cpu_time());
        let mut reader = open(&path, &dialect, config.clone())?;
        let mut splitting = Duration::ZERO;
        while let Some(block) = reader.next_block()? {
            let t = Instant::now();
            let batch = split_block(&block, &dialect);
            splitting += t.elapsed();
            nulls += batch.columns.iter().map(Array::null_count).sum::<usize>();
        }
        std::hint::black_box(reader.finish()?);
        read_split.push((wall.elapsed(), cpu_time().saturating_sub(cpu)));
        split_alone.push(splitting);
    }
    let stats = |mut v: Vec<Duration>| {
        v.sort();
        format!("median {:.3} s, best {:.3} s", v[v.len() / 2].as_secs_f64(), v[0].as_secs_f64())
    };
    let walls = |v: &[(Duration, Duration)]| stats(v.iter().map(|x| x.0).collect());
    let cpus = |v: &[(Duration, Duration)]| stats(v.iter().map(|x| x.1).collect());
    println!("{path}: {lines} data lines, {runs} runs, block {block} bytes, {} nulls per run", nulls / runs);
    println!("  read        wall {}; cpu {}", walls(&read_only), cpus(&read_only));
    println!("  read+split  wall {}; cpu {}", walls(&read_split), cpus(&read_split));
    println!("  split alone wall {}", stats(split_alone));
    Ok(())
}

/// This thread's time on a CPU so far (zero where `/proc` does not say).
fn cpu_time() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .map_or(Duration::ZERO, Duration::from_nanos)
}
