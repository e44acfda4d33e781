//! The parse kernel families, the interpreter's against the JIT's native loop, per 1,048,576 fields
//! (date, money, int, month), the same for code-table lookups (`table_lookup`, with JCL's `states`
//! and `payment_statuses`); and the JIT's compile time for the JCL program.
//!
//! These are the kernels the JIT replaces today (docs/notes/0006), so a regression in either
//! engine's parse shows here by family, apart from everything else a run does. The fields are the
//! real values of the W1 fixture `jcl_2k_dirty` (30% of its lines have a defect, so some parses
//! fail and take the failure path), repeated, in batches of 8,192 lines as the runtime reads them.
//!
//! The interpreter is measured through its public API, `Interpreter::eval_batch`, on a program
//! whose only binding is the parse. That call has a fixed cost per batch besides the parse
//! (selection, output arrays), measured on its own as `interp_fixed_cost/empty_program`: subtract
//! its median to compare the kernels alone. The JIT's kernel is called directly
//! (`JitProgram::eval_binding`), which is all the interpreter does with it.
//!
//! The compile time is for every compilable binding of the JCL program (29 kernels), with the
//! host's ISA already set up (`compile`) and with it set up too (`new_and_compile`); the target is
//! "well under 50 ms", since a run compiles once before reading the file.
//!
//! Run: `cargo bench -p etr-jit --bench kernels` (or `-- parse_date` for one family).

use std::hint::black_box;
use std::sync::Arc;

#[path = "../../../bench/criterion_setup.rs"]
mod criterion_setup;

use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use etr_interp::test_support::{
    column as raw_column, column_batches, date_format, fallible, field_def, null_lit, one_lookup, or_default, program,
};
use etr_interp::{Interpreter, RawBatch};
use etr_ir::{Binding, Builtin, MoneyUnit, Slot, TypeKind};
use etr_jit::Jit;
use etr_tests::jcl_program;

const INPUT: &str = include_str!("../../../tests/corpus/w1/jcl_2k_dirty/input.psv");
/// Fields per iteration: about what one column of a quarter-million-line file holds.
const FIELDS: usize = 1 << 20;
/// Lines per batch, as the runtime's chunks give them (a 1 MiB block of W1 is about 4,000 lines;
/// 8,192 is the batch length the earlier measurements used, kept so figures stay comparable).
const BATCH: usize = 8192;

/// One parse family: the built-in, its result type, and the W1 columns (0-based) it parses.
struct Family {
    name: &'static str,
    function: Builtin,
    kind: TypeKind,
    columns: &'static [usize],
}

fn families() -> Vec<Family> {
    vec![
        Family {
            // DOB, OPEN_DT, ASAT_DT, STATUS_DT.
            name: "parse_date",
            function: Builtin::ParseDate(date_format("%d/%m/%Y")),
            kind: TypeKind::Date,
            columns: &[5, 15, 22, 33],
        },
        Family {
            // LIMIT_RM, OS_BAL_RM, AMT_DUE_RM, LAST_PAY_RM.
            name: "parse_money",
            function: Builtin::ParseMoney(MoneyUnit::Ringgit),
            kind: TypeKind::Money,
            columns: &[16, 23, 24, 35],
        },
        Family {
            // TERM_DAYS, TENURE, DPD.
            name: "parse_int",
            function: Builtin::ParseInt,
            kind: TypeKind::Int,
            columns: &[17, 19, 30],
        },
        Family {
            // REPORT_MTH.
            name: "parse_month",
            function: Builtin::ParseMonth(date_format("%Y%m")),
            kind: TypeKind::Month,
            columns: &[38],
        },
    ]
}

/// Evaluates every batch with the interpreter, as a worker thread would.
fn eval_all(interp: &Interpreter, batches: &[RawBatch]) {
    for batch in batches {
        black_box(interp.eval_batch(black_box(batch)).expect("evaluates"));
    }
}

fn parse_families(c: &mut Criterion) {
    for family in families() {
        let batches = column_batches(INPUT, family.columns, FIELDS, BATCH);
        // `parse_*(x) else null`: the handler the W1 spec uses for amounts, and the one that costs
        // least around the kernel itself.
        let mut one_parse = program(&["x"]);
        let field = one_parse.record.fields.push(field_def("f", family.kind));
        one_parse.bindings.push(Binding {
            target: Slot::Field(field),
            expr: fallible(family.function.clone(), raw_column(0), family.kind, or_default(null_lit(family.kind))),
        });
        let interp = Interpreter::new(Arc::new(one_parse.clone())).expect("prepares");
        let jit = Jit::new().expect("host ISA").compile(&one_parse).expect("compiles");
        assert!(jit.is_compiled(0), "{} is not compiled by the JIT", family.name);

        let mut group = c.benchmark_group(family.name);
        // Iterations take milliseconds: flat sampling (as many iterations in every sample) fits
        // the samples into the measurement time, where criterion's growing ramp would overrun it.
        group.sampling_mode(SamplingMode::Flat);
        group.throughput(Throughput::Elements(FIELDS as u64));
        group.bench_function("interpreter", |b| b.iter(|| eval_all(&interp, &batches)));
        group.bench_function("jit", |b| {
            b.iter(|| {
                for batch in &batches {
                    black_box(jit.eval_binding(0, black_box(batch)).expect("runs").expect("compiled"));
                }
            })
        });
        group.finish();
    }
}

/// `table[x] else null` with JCL's table `table` (its keys and code types), on the W1 column
/// `column` (STATE is 10: 16 names of 5 to 15 bytes; PAY_STATUS 31: 10 short codes, some rows
/// not in the table).
fn table_lookup(c: &mut Criterion) {
    let mut group = c.benchmark_group("table_lookup");
    group.sampling_mode(SamplingMode::Flat);
    group.throughput(Throughput::Elements(FIELDS as u64));
    let jcl = jcl_program();
    for (table, column) in [("states", 10), ("payment_statuses", 31)] {
        let kind = jcl.tables.iter().find(|t| t.name == table).expect("JCL has the table").value_type.kind;
        let one_lookup = one_lookup(&jcl, table, or_default(null_lit(kind)));
        let batches = column_batches(INPUT, &[column], FIELDS, BATCH);
        let interp = Interpreter::new(Arc::new(one_lookup.clone())).expect("prepares");
        let jit = Jit::new().expect("host ISA").compile(&one_lookup).expect("compiles");
        assert!(jit.is_compiled(0), "the lookup in {table} is not compiled by the JIT");
        group.bench_function(BenchmarkId::new(table, "interpreter"), |b| b.iter(|| eval_all(&interp, &batches)));
        group.bench_function(BenchmarkId::new(table, "jit"), |b| {
            b.iter(|| {
                for batch in &batches {
                    black_box(jit.eval_binding(0, black_box(batch)).expect("runs").expect("compiled"));
                }
            })
        });
    }
    group.finish();
}

/// What `eval_batch` costs with nothing to evaluate, over the same number of one-column batches:
/// the part of the interpreter's figures above that is not the parse.
fn interp_fixed_cost(c: &mut Criterion) {
    let batches = column_batches(INPUT, &[5], FIELDS, BATCH);
    let empty = Interpreter::new(Arc::new(program(&["x"]))).expect("prepares");
    let mut group = c.benchmark_group("interp_fixed_cost");
    group.sampling_mode(SamplingMode::Flat);
    group.throughput(Throughput::Elements(FIELDS as u64));
    group.bench_function("empty_program", |b| b.iter(|| eval_all(&empty, &batches)));
    group.finish();
}

fn compile(c: &mut Criterion) {
    let jcl = jcl_program();
    let kernels = Jit::new().expect("host ISA").compile(&jcl).expect("compiles").compiled_bindings().count();
    let mut group = c.benchmark_group("jit_compile");
    // A compile takes about 10 ms: ten samples keep this group to a few seconds.
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    group.throughput(Throughput::Elements(kernels as u64));
    let mut jit = Jit::new().expect("host ISA");
    group.bench_function(BenchmarkId::new("compile", "jcl"), |b| {
        b.iter(|| black_box(jit.compile(black_box(&jcl)).expect("compiles")))
    });
    group.bench_function(BenchmarkId::new("new_and_compile", "jcl"), |b| {
        b.iter(|| black_box(Jit::new().expect("host ISA").compile(black_box(&jcl)).expect("compiles")))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = criterion_setup::short_runs(30);
    targets = parse_families, table_lookup, interp_fixed_cost, compile
}
criterion_main!(benches);
