//! `contributors/jcl.etr` (compiled by the front end, `etr_tests::jcl_program`) over the real
//! lines of the W1 fixture `jcl_2k_dirty`: 2,000 lines, 30% defective (bad dates, short lines,
//! negative balances, ...), in several batch shapes.

use etr_interp::RawBatch;
use etr_interp::test_support::{self, split_batch};
use etr_tests::jcl_program;

use crate::{check_both_engines, compile};

const INPUT: &str = include_str!("../../../../tests/corpus/w1/jcl_2k_dirty/input.psv");

/// The fixture's data lines (the header and trailer dropped).
fn data_lines() -> Vec<&'static str> {
    test_support::data_lines(INPUT)
}

/// Rows `start..start + len` of `batch`, every array sliced (so validity bitmaps start mid-byte).
fn slice(batch: &RawBatch, start: usize, len: usize) -> RawBatch {
    RawBatch {
        line_nos: batch.line_nos[start..start + len].to_vec(),
        lines: batch.lines.slice(start, len),
        field_counts: batch.field_counts[start..start + len].to_vec(),
        bad_encoding: batch.bad_encoding[start..start + len].to_vec(),
        columns: batch.columns.iter().map(|c| c.slice(start, len)).collect(),
    }
}

#[test]
fn every_compilable_binding_of_jcl_is_compiled() {
    let program = jcl_program();
    let jit = compile(&program);
    let names: Vec<&str> = jit
        .compiled_bindings()
        .map(|i| match program.bindings[i].target {
            etr_ir::Slot::Field(f) => program.record.fields[f].name.as_str(),
            etr_ir::Slot::Local(_) => "let",
        })
        .collect();
    // The month, the five dates, the eleven ringgit amounts, the three ints and the nine lookups
    // (state names of up to 15 bytes included).
    assert_eq!(names.len(), 29, "{names:?}");
    for name in [
        "reporting_month",
        "open_date",
        "credit_limit",
        "payment_term_days",
        "written_off_amount",
        "action_code",
        "state_code",
        "payment_status",
    ] {
        assert!(names.contains(&name), "{name} is not compiled: {names:?}");
    }
    // Text passthrough and the lets stay with the interpreter.
    for (i, binding) in program.bindings.iter().enumerate() {
        if let etr_ir::ExprKind::Column(_) = binding.expr.kind {
            assert!(!jit.is_compiled(i));
        }
    }
}

#[test]
fn jcl_w1_lines_match_the_interpreter() {
    let program = jcl_program();
    let jit = compile(&program);
    let lines = data_lines();
    assert_eq!(lines.len(), 2000);
    let batch = split_batch(&lines, 2, 41);
    assert_eq!(check_both_engines(&program, &jit, &batch), 29);
    // Batches of odd sizes at odd offsets: bitmaps that start and end mid-word and mid-byte.
    for (start, len) in [(0, 1), (3, 64), (5, 65), (7, 127), (13, 1000), (1999, 1), (100, 0)] {
        check_both_engines(&program, &jit, &slice(&batch, start, len));
    }
}

#[test]
fn malformed_lines_raise_nothing_and_stay_null() {
    let program = jcl_program();
    let jit = compile(&program);
    let good = data_lines()[0];
    let mut fields: Vec<&str> = good.split('|').collect();
    fields[15] = "31/02/2021"; // OPEN_DT: not a date
    fields[16] = "12.345"; // LIMIT_RM: three decimals
    let bad = fields.join("|");
    let short = fields[..40].join("|");
    let long = format!("{bad}|extra");
    let lines = [good, bad.as_str(), short.as_str(), long.as_str(), good];
    let batch = split_batch(&lines, 2, 41);
    check_both_engines(&program, &jit, &batch);
    let open_date = 18; // binding index of `open_date` (reject R2)
    assert!(jit.is_compiled(open_date));
    let out = jit.eval_binding(open_date, &batch).expect("runs").expect("compiled");
    assert_eq!(out.failed, [1], "only the well-formed line with the bad date fails");
}
