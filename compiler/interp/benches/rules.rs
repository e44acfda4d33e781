//! Rule evaluation: the JCL program (workload W1, `etr_tests::jcl_program`) over batches of
//! 8,192 real W1 lines, in lines per second, with and without its row checks, and the key pass.
//!
//! - `full`: `Interpreter::eval_batch` of the whole program (41 field bindings and 2 lets, 20 row
//!   checks, the unique key hash, 5 aggregates), what the writing pass of a run does per batch;
//! - `without_row_checks`: the same program with its row checks removed. The difference between
//!   the two medians is what the rules cost (the checks themselves, and rendering the values of the
//!   broken ones), so a regression in the rules shows apart from one in the mapping;
//! - `eval_keys`: `Interpreter::eval_keys`, the key pass of a run with `unique` checks (the 5
//!   bindings the key reads, no checks; docs/notes/0008), which every line goes through once more.
//!
//! Each is measured on the clean fixture `jcl_1k` and on `jcl_2k_dirty`, where 30% of the lines
//! have a defect: broken rules record violations and render values, which clean lines never do.
//! The lines are repeated to fill a batch (repeated keys do not matter within one batch). This is
//! the interpreter alone; the JIT's parses (`etr-jit`'s `kernels` bench) would take some of the
//! bindings' share.
//!
//! Run: `cargo bench -p etr-interp --bench rules`.

use std::hint::black_box;
use std::sync::Arc;

#[path = "../../../bench/criterion_setup.rs"]
mod criterion_setup;

use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use etr_interp::Interpreter;
use etr_interp::test_support::{data_lines, split_batch};
use etr_tests::jcl_program;

const JCL_1K: &str = include_str!("../../../tests/corpus/w1/jcl_1k/input.psv");
const JCL_2K_DIRTY: &str = include_str!("../../../tests/corpus/w1/jcl_2k_dirty/input.psv");
const BATCH: usize = 8192;
const COLUMNS: usize = 41;

fn rules(c: &mut Criterion) {
    let full = Interpreter::new(Arc::new(jcl_program())).expect("prepares");
    let mut unchecked = jcl_program();
    unchecked.row_checks.clear();
    let unchecked = Interpreter::new(Arc::new(unchecked)).expect("prepares");

    let mut group = c.benchmark_group("jcl_rules");
    // Iterations take milliseconds: flat sampling (as many iterations in every sample) fits
    // the samples into the measurement time, where criterion's growing ramp would overrun it.
    group.sampling_mode(SamplingMode::Flat);
    group.throughput(Throughput::Elements(BATCH as u64));
    for (fixture, text) in [("jcl_1k", JCL_1K), ("jcl_2k_dirty", JCL_2K_DIRTY)] {
        let lines: Vec<&str> = data_lines(text).into_iter().cycle().take(BATCH).collect();
        let batch = split_batch(&lines, 2, COLUMNS);
        group.bench_function(BenchmarkId::new("full", fixture), |b| {
            b.iter(|| black_box(full.eval_batch(black_box(&batch)).expect("evaluates")))
        });
        group.bench_function(BenchmarkId::new("without_row_checks", fixture), |b| {
            b.iter(|| black_box(unchecked.eval_batch(black_box(&batch)).expect("evaluates")))
        });
        group.bench_function(BenchmarkId::new("eval_keys", fixture), |b| {
            b.iter(|| black_box(full.eval_keys(black_box(&batch)).expect("evaluates")))
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = criterion_setup::short_runs(30);
    targets = rules
}
criterion_main!(benches);
