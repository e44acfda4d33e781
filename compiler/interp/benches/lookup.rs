//! The code-table lookup family, `table[KEY] else reject`, per 1,048,576 fields, through the
//! interpreter's public API.
//!
//! Mapping contributor codes onto the standard's is the one kernel every spec runs many times
//! (nine lookups per W1 line), and the JIT does not compile it yet, so its cost is the
//! interpreter's. Two W1 columns with different shapes are measured: `STATE` (16 state names of
//! 5-15 bytes, all valid in the fixture) and `PAY_STATUS` (short codes, a few percent of them not
//! in the table, which take the reject path and record a violation each). The tables are JCL's own
//! (`etr_tests::jcl_program`, the spec compiled).
//!
//! Each figure is `Interpreter::eval_batch` on a program whose only binding is the lookup, over
//! one-column batches of 8,192 lines. `empty_program` is the same call with no binding: subtract
//! its median to see the lookup alone.
//!
//! Run: `cargo bench -p etr-interp --bench lookup`.

use std::hint::black_box;
use std::sync::Arc;

#[path = "../../../bench/criterion_setup.rs"]
mod criterion_setup;

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use etr_interp::test_support::{column_batches, one_lookup, program, reject};
use etr_interp::{Interpreter, RawBatch};

const INPUT: &str = include_str!("../../../tests/corpus/w1/jcl_2k_dirty/input.psv");
/// Fields per iteration, as in the parse kernels' bench (`etr-jit`), so the rates compare.
const FIELDS: usize = 1 << 20;
const BATCH: usize = 8192;

fn eval_all(interp: &Interpreter, batches: &[RawBatch]) {
    for batch in batches {
        black_box(interp.eval_batch(black_box(batch)).expect("evaluates"));
    }
}

fn code_lookup(c: &mut Criterion) {
    let mut group = c.benchmark_group("code_lookup");
    // Iterations take milliseconds: flat sampling (as many iterations in every sample) fits
    // the samples into the measurement time, where criterion's growing ramp would overrun it.
    group.sampling_mode(SamplingMode::Flat);
    group.throughput(Throughput::Elements(FIELDS as u64));
    // (bench name, JCL table, W1 column: STATE is 10, PAY_STATUS 31).
    let jcl = etr_tests::jcl_program();
    for (name, table, col) in [("states", "states", 10), ("payment_statuses", "payment_statuses", 31)] {
        let batches = column_batches(INPUT, &[col], FIELDS, BATCH);
        let interp = Interpreter::new(Arc::new(one_lookup(&jcl, table, reject(1, "code")))).expect("prepares");
        group.bench_function(name, |b| b.iter(|| eval_all(&interp, &batches)));
    }
    let batches = column_batches(INPUT, &[10], FIELDS, BATCH);
    let empty = Interpreter::new(Arc::new(program(&["x"]))).expect("prepares");
    group.bench_function("empty_program", |b| b.iter(|| eval_all(&empty, &batches)));
    group.finish();
}

criterion_group! {
    name = benches;
    config = criterion_setup::short_runs(30);
    targets = code_lookup
}
criterion_main!(benches);
