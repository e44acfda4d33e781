//! A kernel that fails on a batch falls back to the interpreter's kernel, and the failure is
//! counted: a run reports the count, so its user knows the native code did not run there.

use arrow::array::{Array, AsArray};
use arrow::datatypes::Int64Type;
use etr_interp::NativeKernels;
use etr_interp::test_support::*;
use etr_ir::*;
use etr_jit::JitKernels;

use crate::compile;

/// One column `x`, parsed as an int with `else null`: the handler whose bindings are offered to
/// the interpreter.
fn parse_x() -> Program {
    let mut p = program(&["x"]);
    p.record.fields.push(field_def("n", TypeKind::Int));
    p.bindings.push(Binding {
        target: Slot::Field(idx(0)),
        expr: fallible(Builtin::ParseInt, column(0), TypeKind::Int, or_default(null_lit(TypeKind::Int))),
    });
    p
}

#[test]
fn a_kernel_that_fails_on_a_batch_is_counted_and_left_to_the_interpreter() {
    let program = parse_x();
    let kernels = JitKernels::new(compile(&program), &program);
    assert_eq!(kernels.len(), 1);

    let good = one_column(&[Some("12"), Some("x")]);
    let (values, failed) = kernels.parse_column(&Builtin::ParseInt, idx(0), &good).expect("the kernel runs");
    assert_eq!(values.as_primitive::<Int64Type>().value(0), 12);
    assert!(values.is_null(1) && failed.value(1));
    assert_eq!(kernels.fallbacks(), 0, "a kernel that ran is no fallback");

    // A batch without the column the kernel reads: the kernel cannot run, the interpreter will.
    let mut missing = good.clone();
    missing.columns.clear();
    for _ in 0..3 {
        assert!(kernels.parse_column(&Builtin::ParseInt, idx(0), &missing).is_none(), "falls back");
    }
    assert_eq!(kernels.fallbacks(), 3);
    let reasons = kernels.fallback_reasons();
    assert_eq!(reasons.len(), 1, "one distinct reason: {reasons:?}");
    assert!(reasons[0].contains("binding 0 reads column 0"), "{reasons:?}");

    // A parse the JIT did not compile is no fallback either: the interpreter owns it.
    assert!(kernels.parse_column(&Builtin::ParseMoney(MoneyUnit::Sen), idx(0), &good).is_none());
    assert_eq!(kernels.fallbacks(), 3);
}

/// How many times the counting compiler below ran.
static COMPILES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn counting_compiler(program: &Program) -> Result<etr_jit::JitProgram, etr_jit::JitError> {
    COMPILES.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    Ok(compile(program))
}

#[test]
fn a_back_end_compiles_a_program_once_and_counts_each_runs_fallbacks_apart() {
    use etr_interp::NativeBackend;
    use std::sync::atomic::Ordering;
    let backend = etr_jit::JitBackend::with_compiler(counting_compiler);
    let program = parse_x();
    let first = backend.compile(&program).expect("compiles");
    let second = backend.compile(&program).expect("compiles");
    assert_eq!(COMPILES.load(Ordering::SeqCst), 1, "the second run reuses the first's code");
    assert_eq!(second.native_kernel_count(), 1);

    // A fallback in one run is that run's alone.
    let mut missing = one_column(&[Some("1")]);
    missing.columns.clear();
    assert!(first.kernels().parse_column(&Builtin::ParseInt, idx(0), &missing).is_none());
    assert_eq!((first.fallbacks().count, second.fallbacks().count), (1, 0));
    let good = one_column(&[Some("7")]);
    let (values, _) = second.kernels().parse_column(&Builtin::ParseInt, idx(0), &good).expect("the shared code runs");
    assert_eq!(values.as_primitive::<Int64Type>().value(0), 7);

    // Another program (an edited spec) is compiled afresh.
    let mut edited = parse_x();
    edited.record.fields.push(field_def("m", TypeKind::Int));
    backend.compile(&edited).expect("compiles");
    assert_eq!(COMPILES.load(Ordering::SeqCst), 2);
}
