//! The runtime's two byte-level stages, in bytes per second: the splitter cutting a block's lines
//! into zero-copy field views (`split_block`), and the reader cutting a byte stream into blocks of
//! whole lines (`BlockReader`, with its blake3 hash and xxh3 fingerprint of every byte).
//!
//! Splitting was a tenth of W1's time before the JIT (docs/notes/0005), and both passes of a run
//! split every line, so a slower splitter shows in every run. The blocks are made of the real W1
//! fixture lines, repeated up to the runtime's block size (1 MiB), so a block holds about as many
//! lines and fields as one the reader would hand over: `jcl_1k` is clean, `jcl_2k_dirty` has short
//! lines, bad dates and other defects (the splitter does not care about most of them, but short
//! lines and odd field lengths change its branches).
//!
//! Run: `cargo bench -p etr-runtime --bench split` (add `-- --quick` for a rough figure).

use std::hint::black_box;

use arrow::buffer::Buffer;
#[path = "../../../bench/criterion_setup.rs"]
mod criterion_setup;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use etr_interp::test_support::data_lines;
use etr_runtime::input::dialect::SourceDialect;
use etr_runtime::input::reader::{BlockReader, RawBlock, ReaderConfig};
use etr_runtime::input::split::split_block;

const JCL_1K: &str = include_str!("../../../tests/corpus/w1/jcl_1k/input.psv");
const JCL_2K_DIRTY: &str = include_str!("../../../tests/corpus/w1/jcl_2k_dirty/input.psv");

/// W1's declared columns.
const COLUMNS: usize = 41;
/// The reader's default block size, which is what one block holds.
const CHUNK_BYTES: usize = 1 << 20;
/// The in-memory file the reader cuts: a few blocks, so that lines straddle block boundaries.
const FILE_BYTES: usize = 4 << 20;

/// The data lines of `text`, repeated and terminated by LF until adding one more would pass
/// `limit` bytes, with each line's byte range: a block as the reader would cut it.
fn repeated_lines(text: &str, limit: usize) -> (Vec<u8>, Vec<(u32, u32)>) {
    let mut bytes = Vec::with_capacity(limit);
    let mut ranges = Vec::new();
    for line in data_lines(text).into_iter().cycle() {
        if bytes.len() + line.len() + 1 > limit {
            break;
        }
        let start = bytes.len() as u32;
        bytes.extend_from_slice(line.as_bytes());
        ranges.push((start, bytes.len() as u32));
        bytes.push(b'\n');
    }
    (bytes, ranges)
}

/// A block of about 1 MiB of `text`'s data lines, numbered from line 2 (after a header).
fn block_of(text: &str) -> RawBlock {
    let (bytes, ranges) = repeated_lines(text, CHUNK_BYTES);
    RawBlock::new(Buffer::from_vec(bytes), &ranges, 2).expect("the ranges lie in the buffer")
}

/// JCL's dialect: `|`-delimited UTF-8 with `H` and `T` lines.
fn jcl_dialect() -> SourceDialect {
    SourceDialect {
        header_prefix: Some(b"H".to_vec()),
        trailer_prefix: Some(b"T".to_vec()),
        ..SourceDialect::pipe(COLUMNS)
    }
}

fn split(c: &mut Criterion) {
    let dialect = jcl_dialect();
    // The group keeps its name from before input chunks became blocks, so that results saved
    // under it (and bench/README.md's table) still compare.
    let mut group = c.benchmark_group("split_chunk");
    for (name, text) in [("jcl_1k", JCL_1K), ("jcl_2k_dirty", JCL_2K_DIRTY)] {
        let block = block_of(text);
        // Bytes of line content, terminators included, as a file of these lines would have.
        group.throughput(Throughput::Bytes(block.data().len() as u64));
        group.bench_function(name, |b| b.iter(|| black_box(split_block(black_box(&block), &dialect))));
    }
    group.finish();
}

fn read(c: &mut Criterion) {
    let dialect = jcl_dialect();
    // A whole file: the fixture's header, data lines up to FILE_BYTES, and its trailer (whose
    // count and sums are wrong for this many lines, which the reader does not check).
    let header = JCL_1K.lines().next().expect("the fixture has a header");
    let trailer = JCL_1K.lines().last().expect("the fixture has a trailer");
    let (body, body_lines) = repeated_lines(JCL_1K, FILE_BYTES);
    let file = [header.as_bytes(), b"\n", &body, trailer.as_bytes(), b"\n"].concat();
    let read_all = |file: &[u8]| {
        let mut reader = BlockReader::new(file, &dialect, ReaderConfig::default()).expect("a valid dialect");
        let mut lines = 0;
        while let Some(block) = reader.next_block().expect("reads") {
            lines += block.len();
        }
        black_box(reader.finish().expect("exhausted"));
        lines
    };
    // A reader that stopped early would look fast: check once that every data line comes out.
    assert_eq!(read_all(&file), body_lines.len());

    // The old name, kept as for `split_chunk` above.
    let mut group = c.benchmark_group("chunk_reader");
    group.throughput(Throughput::Bytes(file.len() as u64));
    group.bench_function("jcl_1k_4mib", |b| b.iter(|| read_all(black_box(&file))));
    group.finish();
}

criterion_group! {
    name = benches;
    config = criterion_setup::short_runs(50);
    targets = split, read
}
criterion_main!(benches);
