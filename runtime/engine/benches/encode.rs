//! Encoding the accepted file: W1's output records written to `accepted.parquet` through a
//! `ParquetSink`, in rows per second, by the writing thread alone through `ArrowWriter`
//! (`inline`), by two encoder threads with `ArrowColumnWriter`s (`lanes_2`), and by etr's own
//! column-chunk encoders on one and two threads (`typed_1`, `typed_2`: what a run on two cores
//! does; the runtime's `output::encode` and `output::column_chunk` modules).
//!
//! Encoding is the largest share of a W1 run (docs/notes/0009: zstd, plain and delta encoding,
//! statistics, filtering the accepted rows), so a regression in the writer's settings or in the
//! lanes shows here before it shows in `bench/w1.sh`. One iteration writes 64 batches of 4,096
//! lines of the JCL program's output (the real `jcl_1k` fixture lines, evaluated once up front,
//! with their keep masks) into a fresh output folder, with the run's own Parquet options
//! (`ParquetOptions::for_program`), and closes the file.
//!
//! Run: `cargo bench -p etr-runtime --bench encode`.

use std::hint::black_box;
use std::sync::Arc;

#[path = "../../../bench/criterion_setup.rs"]
mod criterion_setup;

use arrow::array::{BooleanArray, RecordBatch};
use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use etr_interp::Interpreter;
use etr_interp::test_support::{data_lines, split_batch};
use etr_runtime::{OutputDir, ParquetOptions};
use etr_tests::jcl_program;

const JCL_1K: &str = include_str!("../../../tests/corpus/w1/jcl_1k/input.psv");
const BATCH: usize = 4096;
const BATCHES: usize = 64;
const COLUMNS: usize = 41;

fn encode(c: &mut Criterion) {
    let interpreter = Interpreter::new(Arc::new(jcl_program())).expect("prepares");
    let lines: Vec<&str> = data_lines(JCL_1K).into_iter().cycle().take(BATCH).collect();
    let raw = split_batch(&lines, 2, COLUMNS);
    let result = interpreter.eval_batch(&raw).expect("evaluates");
    let records = interpreter.output_record(&raw, &result).expect("output records");
    let keep = BooleanArray::from(result.rejected.iter().map(|r| !r).collect::<Vec<bool>>());
    let batches: Vec<(RecordBatch, BooleanArray)> = (0..BATCHES).map(|_| (records.clone(), keep.clone())).collect();
    let options = ParquetOptions::for_program(interpreter.program());
    let root = tempfile::tempdir().expect("temp dir");

    let mut group = c.benchmark_group("accepted_file");
    group.sampling_mode(SamplingMode::Flat);
    group.throughput(Throughput::Elements((BATCH * BATCHES) as u64));
    for (name, threads, typed_encoders) in
        [("inline", 1, false), ("lanes_2", 2, false), ("typed_1", 1, true), ("typed_2", 2, true)]
    {
        let options = ParquetOptions { encoder_threads: threads, typed_encoders, ..options.clone() };
        group.bench_function(BenchmarkId::new(name, "jcl_1k"), |b| {
            b.iter(|| {
                let out = OutputDir::create(root.path().join("out")).expect("staging folder");
                let mut sink = out.accepted_writer(records.schema(), &options).expect("writer");
                for (batch, keep) in &batches {
                    sink.write_selected(black_box(batch), keep).expect("write");
                }
                black_box(sink.finish().expect("finish"))
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = criterion_setup::short_runs(10);
    targets = encode
}
criterion_main!(benches);
