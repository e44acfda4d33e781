//! The writing pass, always the last: every line evaluated again, decided by the interpreter's
//! dataset checks in file order (accepted or rejected, a duplicate of a `unique` key, out of order
//! for an ordering check, and where each finding goes: `etr_interp::DatasetChecks`), its rows
//! written to the accepted, rejects, warnings and feedback files on the calling thread, and the
//! file checks judged once the file is read.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Instant;

use arrow::record_batch::RecordBatch;
use etr_interp::{
    AggregateStates, BatchResult, CheckStats, DatasetChecks, DatasetStats, DuplicateLines, Interpreter, RawBatch, Route,
};
use etr_ir::Program;

use crate::error::{Result, RuntimeError};
use crate::output::feedback::{FeedbackFile, feedback_row};
use crate::output::{OutputDir, ParquetOptions, Severity, ViolationRow, ViolationRowsBuilder};
use crate::passes::PassContext;
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
    /// Every dataset check's statistics over the file.
    pub(crate) dataset_stats: DatasetStats,
    pub(crate) verdict: FileVerdict,
}

/// Pass number `pass`, the last: evaluates every line with `interpreter`, which hashes no key
/// (the lines the `unique` checks reject are in `duplicates`, by number, per check), has the
/// interpreter's dataset checks decide each line in file order, writes the output files into
/// `output`, and judges the file.
pub(crate) fn write_pass(
    context: &mut PassContext<'_>,
    pass: u8,
    interpreter: Arc<Interpreter>,
    duplicates: DuplicateLines,
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
    let mut counts = Counts::default();
    let mut dataset = DatasetChecks::new(program, duplicates).map_err(|e| RuntimeError::Internal(e.to_string()))?;
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
            let written = write_batch(program, &interpreter, &mut dataset, batch, &result, &mut counts)?;
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
    Ok(WriteOutcome { facts, counts, check_stats, dataset_stats: dataset.into_stats(), verdict })
}

/// What the writing pass counts as it writes, for the summary.
#[derive(Default)]
pub(crate) struct Counts {
    pub(crate) accepted: u64,
    pub(crate) rejected_lines: u64,
    /// Per rule id: its rows in the rejects.
    pub(crate) per_rule: BTreeMap<String, u64>,
    /// Per rule id: its rows in the warnings.
    pub(crate) warnings: BTreeMap<String, u64>,
    /// Per rule id: its info findings on loaded lines (counted only).
    pub(crate) info: BTreeMap<String, u64>,
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

/// Builds a batch's output rows from what the interpreter decided about its lines
/// ([`DatasetChecks::judge`]: which are accepted, and every finding with where it goes).
pub(crate) fn write_batch(
    program: &Program,
    interpreter: &Interpreter,
    dataset: &mut DatasetChecks<'_>,
    batch: &RawBatch,
    result: &BatchResult,
    counts: &mut Counts,
) -> Result<WrittenBatch> {
    let decided = dataset.judge(batch, result).map_err(|e| RuntimeError::Internal(e.to_string()))?;
    let mut rejects = ViolationRowsBuilder::new();
    let mut warnings = ViolationRowsBuilder::new();
    let mut feedback = String::new();
    for finding in &decided.findings {
        let rule = &program.rules[finding.rule];
        let row = finding.row as usize;
        let (severity, builder, tally) = match finding.route {
            Route::Reject => (Severity::Reject, &mut rejects, &mut counts.per_rule),
            Route::Warn => (Severity::Warn, &mut warnings, &mut counts.warnings),
            Route::Info => {
                count(&mut counts.info, &rule.id);
                continue;
            }
        };
        count(tally, &rule.id);
        let violation = ViolationRow {
            line_no: batch.line_nos[row],
            rule: &rule.id,
            severity,
            field: finding.target,
            value: finding.value.as_deref(),
            message: &rule.message,
            raw_line: batch.lines.value(row),
        };
        feedback_row(&mut feedback, &violation);
        builder.append(violation);
    }
    let accepted_lines = decided.accepted.iter().filter(|&&accepted| accepted).count() as u64;
    counts.accepted += accepted_lines;
    counts.rejected_lines += batch.len() as u64 - accepted_lines;
    let accepted = interpreter
        .output_record(batch, result)
        .map_err(|e| RuntimeError::Internal(format!("building the accepted batch: {e}")))?;
    Ok(WrittenBatch {
        accepted,
        keep: arrow::array::BooleanArray::from(decided.accepted),
        rejects: rejects.finish()?,
        warnings: warnings.finish()?,
        feedback,
    })
}

/// Adds one to `id`'s count, allocating its key only the first time.
fn count(tally: &mut BTreeMap<String, u64>, id: &str) {
    match tally.get_mut(id) {
        Some(n) => *n += 1,
        None => {
            tally.insert(id.to_owned(), 1);
        }
    }
}
