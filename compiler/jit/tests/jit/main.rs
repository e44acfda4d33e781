//! The JIT against its oracle, the interpreter, through both public APIs: every compiled binding
//! must give the interpreter's array and the rows where the interpreter raises its handler. One
//! test binary: `w1` runs the JCL spec over real W1 lines, `props` random and malformed field
//! texts per parser, `clif` the generated code as text, `fallbacks` the kernels that fail on a
//! batch and leave it to the interpreter.

mod clif;
mod fallbacks;
mod props;
mod w1;

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Date32Array, Int64Array, UInt32Array};
use arrow::buffer::{BooleanBuffer, NullBuffer};
use arrow::datatypes::{DataType, Date32Type, Int64Type, UInt32Type};
use etr_interp::{Interpreter, RawBatch};
use etr_ir::{ExprKind, OnFailure, Program, Slot};
use etr_jit::{Jit, JitProgram};

/// Compiles `program` with a fresh code generator.
pub(crate) fn compile(program: &Program) -> JitProgram {
    Jit::new().expect("the host runs Cranelift").compile(program).expect("compiles")
}

/// The rows of `batch` the interpreter evaluates (the right field count, a good encoding).
pub(crate) fn well_formed(program: &Program, batch: &RawBatch) -> BooleanBuffer {
    let columns = program.source.columns.len() as u32;
    BooleanBuffer::collect_bool(batch.len(), |i| batch.field_counts[i] == columns && !batch.bad_encoding[i])
}

/// `array` with the malformed lines blanked, as the interpreter's `BatchResult::fields` are.
fn masked(array: &ArrayRef, keep: &BooleanBuffer) -> ArrayRef {
    let nulls = NullBuffer::union(array.nulls(), Some(&NullBuffer::new(keep.clone())));
    let nulls = nulls.filter(|n| n.null_count() > 0);
    match array.data_type() {
        DataType::Int64 => Arc::new(Int64Array::new(array.as_primitive::<Int64Type>().values().clone(), nulls)),
        DataType::Date32 => Arc::new(Date32Array::new(array.as_primitive::<Date32Type>().values().clone(), nulls)),
        DataType::UInt32 => Arc::new(UInt32Array::new(array.as_primitive::<UInt32Type>().values().clone(), nulls)),
        other => panic!("the JIT produced a {other} array"),
    }
}

/// A slot for a readable diff.
fn show(array: &ArrayRef, row: usize) -> String {
    if array.is_null(row) {
        return "null".to_owned();
    }
    match array.data_type() {
        DataType::Int64 => array.as_primitive::<Int64Type>().value(row).to_string(),
        DataType::Date32 => format!("d{}", array.as_primitive::<Date32Type>().value(row)),
        DataType::UInt32 => format!("code {}", array.as_primitive::<UInt32Type>().value(row)),
        other => format!("<{other}>"),
    }
}

/// Runs `batch` through both engines and requires, for every compiled binding of a field:
/// the same array (after the interpreter's masking of malformed lines), and for `else reject` /
/// `else fail` the same violations (row and input text) as the interpreter. Returns how many
/// bindings were compared.
pub(crate) fn check_both_engines(program: &Program, jit: &JitProgram, batch: &RawBatch) -> usize {
    let interp = Interpreter::new(Arc::new(program.clone())).expect("prepares");
    let want = interp.eval_batch(batch).expect("the interpreter evaluates");
    let keep = well_formed(program, batch);
    let mut compared = 0;
    for index in jit.compiled_bindings() {
        let binding = &program.bindings[index];
        let out = jit.eval_binding(index, batch).expect("the kernel runs").expect("compiled");
        assert_eq!(out.values.len(), batch.len());
        let Slot::Field(field) = binding.target else { continue };
        let name = &program.record.fields[field].name;
        let got = masked(&out.values, &keep);
        let expected = &want.fields[field.index()];
        if got.to_data() != expected.to_data() {
            let column = jit.input_column(index).expect("compiled").index();
            let diffs: Vec<String> = (0..batch.len())
                .filter(|&r| show(&got, r) != show(expected, r) || got.is_valid(r) != expected.is_valid(r))
                .take(10)
                .map(|r| {
                    let text = batch.columns[column].is_valid(r).then(|| batch.columns[column].value(r));
                    format!("row {r} {text:?}: jit {} interp {}", show(&got, r), show(expected, r))
                })
                .collect();
            panic!("binding {index} ({name}) differs:\n{}", diffs.join("\n"));
        }
        // The failed rows, against the violations the interpreter raised for this handler.
        let ExprKind::Fallible { on_failure, .. } = &binding.expr.kind else { unreachable!() };
        let (rule, target, raised) = match on_failure {
            OnFailure::Reject { rule, target } => (*rule, target, &want.violations),
            OnFailure::Fail { rule, target } => (*rule, target, &want.fatal),
            OnFailure::Default(_) => {
                compared += 1;
                continue;
            }
        };
        let expected: Vec<(u32, Option<String>)> = raised
            .iter()
            .filter(|v| v.rule == rule && &*v.target == target.as_str())
            .map(|v| (v.row, v.value.clone()))
            .collect();
        let column = &batch.columns[jit.input_column(index).expect("compiled").index()];
        let got: Vec<(u32, Option<String>)> =
            out.failed.iter().map(|&row| (row, Some(column.value(row as usize).to_owned()))).collect();
        assert_eq!(got, expected, "binding {index} ({name}): failed rows");
        compared += 1;
    }
    compared
}
