//! The writing pass, always the last: every line evaluated again and decided (accepted, rejected,
//! a duplicate of a `unique` key, out of order for an ordering check), its rows written to the
//! accepted, rejects, warnings and feedback files on the calling thread, in file order, and the
//! file checks judged once the file is read.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Instant;

use arrow::record_batch::RecordBatch;
use etr_interp::{AggregateStates, BatchResult, CheckStats, Interpreter, RawBatch, Scalar};
use etr_ir::{Program, Severity as RuleSeverity, TypeKind};

use crate::error::{Result, RuntimeError};
use crate::output::feedback::{FeedbackFile, feedback_row};
use crate::output::{OutputDir, ParquetOptions, Severity, ViolationRow, ViolationRowsBuilder};
use crate::passes::PassContext;
use crate::passes::keys::{key_is_null, takes_part};
use crate::passes::stream::{StreamFacts, stream};
use crate::passes::verdict::{FileVerdict, collect_row_fatal};

/// What the writing pass found, its files finished (or, for a fatal file, the accepted one
/// discarded).
pub(crate) struct WriteOutcome {
    /// What the reader learnt about the file.
    pub(crate) facts: StreamFacts,
    pub(crate) counts: Counts,
    /// Every row check's statistics over the file.
    pub(crate) check_stats: Vec<CheckStats>,
    pub(crate) verdict: FileVerdict,
}

/// Pass number `pass`, the last: evaluates every line with `interpreter`, which hashes no key
/// (the lines the `unique` checks reject are in `duplicates`, by number, per check), writes the
/// output files into `output`, and judges the file.
pub(crate) fn write_pass(
    context: &mut PassContext<'_>,
    pass: u8,
    interpreter: Arc<Interpreter>,
    duplicates: Arc<Vec<hashbrown::HashSet<u64>>>,
    output: &OutputDir,
) -> Result<WriteOutcome> {
    let pass_start = Instant::now();
    let program = context.program;
    let options = ParquetOptions::for_program(program);
    // The accepted records are most of the output: their columns are encoded on as many threads
    // as evaluate (the writing thread alone could not keep up; see crate::output::encode).
    let accepted_options =
        ParquetOptions { encoder_threads: context.config.threads, typed_encoders: true, ..options.clone() };
    let mut accepted_sink = output.accepted_writer(interpreter.output_schema(), &accepted_options)?;
    let mut rejects_sink = output.rejects_writer(&options)?;
    let mut feedback_file = FeedbackFile::create(output)?;
    let mut warnings_sink = output.warnings_writer(&options)?;
    let mut counts = Counts::new(program);
    let mut aggregates = AggregateStates::new(program);
    let mut row_fatal = BTreeSet::new();
    let mut check_stats = vec![CheckStats::default(); program.row_checks.len()];
    let evaluate = |batch: &RawBatch| interpreter.eval_batch(batch);
    let facts = stream(
        context.input,
        context.dialect,
        context.config,
        context.sweep(pass, None),
        &evaluate,
        |_, batch, _, result| {
            aggregates.merge(&result.aggregates).map_err(|e| RuntimeError::Internal(e.to_string()))?;
            collect_row_fatal(&result, &mut row_fatal);
            for (total, batch_stats) in check_stats.iter_mut().zip(&result.check_stats) {
                total.merge(batch_stats);
            }
            let written = write_batch(program, &interpreter, &duplicates, batch, &result, &mut counts)?;
            if written.keep.true_count() > 0 {
                accepted_sink.write_selected(&written.accepted, &written.keep)?;
            }
            if written.rejects.num_rows() > 0 {
                rejects_sink.write(&written.rejects)?;
            }
            if written.warnings.num_rows() > 0 {
                warnings_sink.write(&written.warnings)?;
            }
            if !written.feedback.is_empty() {
                feedback_file.write(&written.feedback)?;
            }
            Ok(())
        },
    )?;
    context.time(format!("pass{pass}"), pass_start);
    context.same_input(facts.fingerprint, facts.input_hash.as_deref())?;
    let lines = interpreter.line_values(facts.header.as_ref(), facts.trailer.as_ref());
    let verdict = FileVerdict::new(program, interpreter.file_check_outcomes(&aggregates, &lines), row_fatal);
    // A fatal file loads nothing: the accepted rows written so far are dropped.
    if verdict.is_fatal() {
        accepted_sink.discard()?;
    } else {
        accepted_sink.finish()?;
    }
    rejects_sink.finish()?;
    warnings_sink.finish()?;
    feedback_file.finish()?;
    Ok(WriteOutcome { facts, counts, check_stats, verdict })
}

/// A value of an ordering check, from a field's internal array.
#[derive(Debug, Clone, PartialEq)]
enum OrderValue {
    Int(i64),
    Number(f64),
    Date(i32),
    Text(String),
}

impl OrderValue {
    fn of(array: &dyn arrow::array::Array, row: usize) -> Option<OrderValue> {
        use arrow::array::{AsArray, Date32Array, Float64Array, Int64Array};
        if row >= array.len() || array.is_null(row) {
            return None;
        }
        let any = array.as_any();
        if let Some(a) = any.downcast_ref::<Int64Array>() {
            return Some(OrderValue::Int(a.value(row)));
        }
        if let Some(a) = any.downcast_ref::<Float64Array>() {
            return Some(OrderValue::Number(a.value(row)));
        }
        if let Some(a) = any.downcast_ref::<Date32Array>() {
            return Some(OrderValue::Date(a.value(row)));
        }
        if let Some(a) = array.as_string_view_opt() {
            return Some(OrderValue::Text(a.value(row).to_string()));
        }
        array.as_string_opt::<i32>().map(|a| OrderValue::Text(a.value(row).to_string()))
    }

    fn cmp_to(&self, other: &OrderValue) -> std::cmp::Ordering {
        use std::cmp::Ordering;
        match (self, other) {
            (OrderValue::Int(a), OrderValue::Int(b)) => a.cmp(b),
            (OrderValue::Number(a), OrderValue::Number(b)) => a.partial_cmp(b).unwrap_or(Ordering::Equal),
            (OrderValue::Date(a), OrderValue::Date(b)) => a.cmp(b),
            (OrderValue::Text(a), OrderValue::Text(b)) => a.cmp(b),
            _ => Ordering::Equal,
        }
    }
}

impl OrderValue {
    /// The value as the rejects show it, rendered like every other value of its type.
    fn render(&self, program: &Program, kind: TypeKind) -> String {
        let scalar = match self {
            OrderValue::Int(v) => Scalar::Int(*v),
            OrderValue::Number(v) => Scalar::Number(*v),
            OrderValue::Date(days) => Scalar::Date(*days),
            OrderValue::Text(v) => Scalar::Text(v.as_str().into()),
        };
        etr_interp::render_scalar(program, kind, &scalar).unwrap_or_default()
    }
}

#[derive(Default)]
pub(crate) struct Counts {
    /// Per ordering check: the previous non-null value in file order.
    order_prev: Vec<Option<OrderValue>>,
    /// Per ordering check: values considered, and values that broke it.
    pub(crate) order_stats: Vec<(u64, u64)>,
    /// Per unique check: candidate lines with a key, and candidate lines whose key is all null.
    pub(crate) unique_stats: Vec<(u64, u64)>,
    pub(crate) accepted: u64,
    pub(crate) rejected_lines: u64,
    pub(crate) per_rule: BTreeMap<String, u64>,
    pub(crate) warnings: BTreeMap<String, u64>,
    pub(crate) info: BTreeMap<String, u64>,
}

impl Counts {
    /// Zero counts, sized for `program`'s dataset checks up front, so that a check's statistics
    /// exist (and its summary scope is `dataset`) even when no line reached it.
    pub(crate) fn new(program: &Program) -> Counts {
        Counts {
            order_prev: vec![None; program.order_checks.len()],
            order_stats: vec![(0, 0); program.order_checks.len()],
            unique_stats: vec![(0, 0); program.unique_checks.len()],
            ..Counts::default()
        }
    }
}

pub(crate) struct WrittenBatch {
    /// Every line's output record; the accepted ones are where `keep` is true.
    pub(crate) accepted: RecordBatch,
    pub(crate) keep: arrow::array::BooleanArray,
    pub(crate) rejects: RecordBatch,
    pub(crate) warnings: RecordBatch,
    /// The batch's rows of the contributor feedback file (CSV, file order).
    pub(crate) feedback: String,
}

/// Decides every line of a batch (accepted, rejected, duplicate) and builds its output rows.
pub(crate) fn write_batch(
    program: &Program,
    interpreter: &Interpreter,
    duplicates: &[hashbrown::HashSet<u64>],
    batch: &RawBatch,
    result: &BatchResult,
    counts: &mut Counts,
) -> Result<WrittenBatch> {
    let rows = batch.len();
    let mut keep = vec![false; rows];
    let mut duplicate_of: Vec<Option<usize>> = vec![None; rows];
    // Per row, the ordering checks it broke, with the offending value.
    let mut order_broken: Vec<Vec<(usize, String)>> = vec![Vec::new(); rows];
    for row in 0..rows {
        if result.rejected[row] {
            continue;
        }
        for (c, check) in program.unique_checks.iter().enumerate() {
            if !takes_part(&result.unique_when, c, row) {
                continue;
            }
            if key_is_null(check, result, row) {
                counts.unique_stats[c].1 += 1;
            } else {
                counts.unique_stats[c].0 += 1;
            }
        }
        // The lines a check rejects are known by number; they all took part with a key.
        duplicate_of[row] = (0..program.unique_checks.len()).find(|&c| duplicates[c].contains(&batch.line_nos[row]));
        let mut reject_order = false;
        for (c, check) in program.order_checks.iter().enumerate() {
            if !takes_part(&result.order_when, c, row) {
                continue;
            }
            let Some(value) = result.fields.get(check.field as usize).and_then(|a| OrderValue::of(a.as_ref(), row))
            else {
                continue;
            };
            counts.order_stats[c].0 += 1;
            if let Some(previous) = &counts.order_prev[c] {
                let ordering = value.cmp_to(previous);
                let broken = match (check.descending, check.strict) {
                    (false, false) => ordering == std::cmp::Ordering::Less,
                    (false, true) => ordering != std::cmp::Ordering::Greater,
                    (true, false) => ordering == std::cmp::Ordering::Greater,
                    (true, true) => ordering != std::cmp::Ordering::Less,
                };
                if broken {
                    counts.order_stats[c].1 += 1;
                    let kind = program.record.fields.get(check.field as usize).map_or(TypeKind::Null, |f| f.ty.kind);
                    order_broken[row].push((c, value.render(program, kind)));
                    reject_order |= program.rules[check.rule as usize].severity == RuleSeverity::Reject;
                }
            }
            counts.order_prev[c] = Some(value);
        }
        keep[row] = duplicate_of[row].is_none() && !reject_order;
    }
    let mut rejects = ViolationRowsBuilder::new();
    let mut warnings = ViolationRowsBuilder::new();
    let mut feedback = String::new();
    let raw_line = |row: usize| batch.lines.value(row);
    let mut violations = result.violations.iter().peekable();
    for row in 0..rows {
        let line_no = batch.line_nos[row];
        let mut rejected_here = false;
        // Every finding on the line, in the order the spec raises them: row violations, then the
        // uniqueness verdict, then the ordering checks.
        let mut findings: Vec<(u32, &str, Option<&str>)> = Vec::new();
        while let Some(v) = violations.next_if(|v| v.row as usize == row) {
            findings.push((v.rule, &v.target, v.value.as_deref()));
        }
        if let Some(c) = duplicate_of[row] {
            let check = &program.unique_checks[c];
            findings.push((check.rule, &check.target, None));
        }
        for (c, value) in &order_broken[row] {
            let check = &program.order_checks[*c];
            findings.push((check.rule, &check.target, Some(value)));
        }
        for (rule_idx, target, value) in findings {
            let rule = &program.rules[rule_idx as usize];
            let (severity, builder) = match rule.severity {
                RuleSeverity::Reject => (Severity::Reject, &mut rejects),
                RuleSeverity::Warn if keep[row] => (Severity::Warn, &mut warnings),
                RuleSeverity::Info if keep[row] => {
                    *counts.info.entry(rule.id.clone()).or_insert(0) += 1;
                    continue;
                }
                // Fatal row violations are reported in the summary; warnings on lines that are
                // not loaded are not counted (they are about accepted data).
                _ => continue,
            };
            if severity == Severity::Reject {
                rejected_here = true;
                *counts.per_rule.entry(rule.id.clone()).or_insert(0) += 1;
            } else {
                *counts.warnings.entry(rule.id.clone()).or_insert(0) += 1;
            }
            let violation = ViolationRow {
                line_no,
                rule: &rule.id,
                severity,
                field: target,
                value,
                message: &rule.message,
                raw_line: raw_line(row),
            };
            feedback_row(&mut feedback, &violation);
            builder.append(violation);
        }
        if rejected_here {
            counts.rejected_lines += 1;
        } else if result.rejected[row] {
            return Err(RuntimeError::Internal(format!("line {line_no} is rejected without a reason")));
        } else {
            counts.accepted += 1;
        }
    }
    let accepted = interpreter
        .output_record(batch, result)
        .map_err(|e| RuntimeError::Internal(format!("building the accepted batch: {e}")))?;
    Ok(WrittenBatch {
        accepted,
        keep: arrow::array::BooleanArray::from(keep),
        rejects: rejects.finish()?,
        warnings: warnings.finish()?,
        feedback,
    })
}
