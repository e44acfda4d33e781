//! The JIT's parse kernels against the interpreter's, per million fields, and the JIT's compile
//! time for the JCL program. Plain `std::time` timing (no bench framework among the dependencies):
//! each figure is the median of several runs over 1,048,576 fields taken from the W1 fixture, in
//! batches of 8,192 lines as the runtime reads them.
//!
//! The interpreter is timed through its public API, `Interpreter::eval_batch`, on a program whose
//! only binding is the parse; the same call on a program without bindings is measured too and
//! subtracted (its fixed cost per batch: selection, output arrays).

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use etr_interp::test_support::*;
use etr_interp::{Interpreter, RawBatch};
use etr_ir::*;
use etr_jit::Jit;

const INPUT: &str = include_str!("../../../tests/corpus/w1/jcl_2k_dirty/input.psv");
const FIELDS: usize = 1 << 20;
const BATCH: usize = 8192;
const RUNS: usize = 9;

/// Column `k` of every W1 data line, repeated up to `FIELDS` values (empty fields stay null).
fn column_batches(columns: &[usize]) -> Vec<RawBatch> {
    let values: Vec<&str> = INPUT
        .lines()
        .filter(|l| !l.starts_with("H|") && !l.starts_with("T|"))
        .flat_map(|l| {
            let fields: Vec<&str> = l.split('|').collect();
            columns.iter().filter_map(move |&k| fields.get(k).copied()).collect::<Vec<_>>()
        })
        .collect();
    let all: Vec<Option<&str>> = values.iter().cycle().take(FIELDS).map(|v| (!v.is_empty()).then_some(*v)).collect();
    all.chunks(BATCH).map(one_column).collect()
}

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

fn time(mut f: impl FnMut()) -> Duration {
    f();
    median(
        (0..RUNS)
            .map(|_| {
                let start = Instant::now();
                f();
                start.elapsed()
            })
            .collect(),
    )
}

fn compare(name: &str, function: Builtin, kind: TypeKind, batches: &[RawBatch]) {
    let mut program = program(&["x"]);
    let empty = Interpreter::new(Arc::new(program.clone())).expect("prepares");
    program.record.fields.push(field_def("f", kind));
    program.bindings.push(Binding {
        target: Slot::Field(0),
        expr: fallible(function, column(0), kind, or_default(null_lit(kind))),
    });
    let interp = Interpreter::new(Arc::new(program.clone())).expect("prepares");
    let jit = Jit::new().expect("host").compile(&program).expect("compiles");

    let interp_time = time(|| {
        for batch in batches {
            black_box(interp.eval_batch(batch).expect("evaluates"));
        }
    });
    let base_time = time(|| {
        for batch in batches {
            black_box(empty.eval_batch(batch).expect("evaluates"));
        }
    });
    let jit_time = time(|| {
        for batch in batches {
            black_box(jit.eval_binding(0, batch).expect("runs").expect("compiled"));
        }
    });
    let net = interp_time.saturating_sub(base_time);
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "{name:<22} per 1M fields: jit {:7.2} ms | interpreter {:7.2} ms ({:7.2} ms net of {:5.2} ms fixed) | speed-up {:4.1}x net",
        ms(jit_time) / (FIELDS as f64 / 1e6),
        ms(interp_time) / (FIELDS as f64 / 1e6),
        ms(net) / (FIELDS as f64 / 1e6),
        ms(base_time) / (FIELDS as f64 / 1e6),
        net.as_secs_f64() / jit_time.as_secs_f64(),
    );
}

fn main() {
    // Compile time for every compilable binding of the JCL program (20 kernels).
    let program = jcl_program();
    let start = Instant::now();
    let mut jit = Jit::new().expect("host");
    let first = jit.compile(&program).expect("compiles");
    let cold = start.elapsed();
    let compiled = first.compiled_bindings().count();
    drop(first);
    let warm = median(
        (0..RUNS)
            .map(|_| {
                let start = Instant::now();
                black_box(jit.compile(&program).expect("compiles"));
                start.elapsed()
            })
            .collect(),
    );
    println!(
        "compile jcl.etr: {compiled} kernels, first {:.2} ms (ISA included), then {:.2} ms median",
        cold.as_secs_f64() * 1e3,
        warm.as_secs_f64() * 1e3
    );

    // Money: OS_BAL_RM, LIMIT_RM, AMT_DUE_RM, LAST_PAY_RM (23, 16, 24, 35).
    let money = column_batches(&[23, 16, 24, 35]);
    compare("parse_money(ringgit)", Builtin::ParseMoney(MoneyUnit::Ringgit), TypeKind::Money, &money);
    // Dates: DOB, OPEN_DT, ASAT_DT, STATUS_DT (5, 15, 22, 33).
    let dates = column_batches(&[5, 15, 22, 33]);
    compare("parse_date(%d/%m/%Y)", Builtin::ParseDate(date_format("%d/%m/%Y")), TypeKind::Date, &dates);
    // Ints: TERM_DAYS, TENURE, DPD (17, 19, 30).
    let ints = column_batches(&[17, 19, 30]);
    compare("parse_int", Builtin::ParseInt, TypeKind::Int, &ints);
    let months = column_batches(&[38]);
    compare("parse_month(%Y%m)", Builtin::ParseMonth(date_format("%Y%m")), TypeKind::Month, &months);
}
