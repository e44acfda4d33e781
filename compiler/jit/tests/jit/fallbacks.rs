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
