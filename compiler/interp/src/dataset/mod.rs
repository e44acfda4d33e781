//! The dataset checks: the rules that judge a line by other lines of the file (`unique`, and the
//! checks in file order of `order.rs`: `increasing`, `decreasing`, ...), and the routing of every
//! finding on a line to where it is reported.
//!
//! Why here and not in the runtime: the interpreter is the oracle (STYLE 15). `eval_batch` decides
//! the row rules of a batch on its own; a dataset rule needs the lines before it in file order, or,
//! for `unique`, every line of the file. [`DatasetChecks`] holds that state from one batch to the
//! next: it is fed the batches' results in file order and returns each line's fate (accepted or
//! not) and its findings, each routed by its rule's severity. The runtime writes what it returns
//! and decides nothing about a line, and a test can ask the interpreter for a file's findings
//! without running a pipeline.
//!
//! Uniqueness takes the whole file before its first finding, since a duplicated key rejects every
//! copy, the first one included. [`UniqueKeys`] counts the keys of the lines that take part and
//! names the lines whose key occurs more than once ([`DuplicateLines`]); [`DatasetChecks`] then
//! rejects those lines as it meets them. A runtime that already knows which lines may carry a
//! duplicated key (its key pass) feeds [`UniqueKeys`] only those.
//!
//! API Boundary: the runtime sees `DatasetChecks`, `BatchFindings`, `Finding`, `Route`,
//! `DatasetStats`, `UniqueKeys` and `DuplicateLines`; the state of each kind of check stays in
//! its module (`order`, `unique`).

mod order;
mod unique;

use std::borrow::Cow;

use etr_ir::{Program, RuleIdx, Severity};

use crate::{BatchResult, CheckStats, InterpError, RawBatch};
use order::OrderState;

pub use unique::{DuplicateLines, UniqueKeys};

/// The dataset checks of one file, fed its batches in file order (see the module docs).
#[derive(Debug)]
pub struct DatasetChecks<'p> {
    program: &'p Program,
    duplicates: DuplicateLines,
    order: Vec<OrderState>,
    stats: DatasetStats,
}

/// What a batch's lines came to.
#[derive(Debug)]
pub struct BatchFindings<'r> {
    /// Per row: the line is loaded into the accepted output. A line that is not has at least one
    /// finding routed to [`Route::Reject`].
    pub accepted: Vec<bool>,
    /// Every finding to report, by row; within a row in the order the spec raises them: the row
    /// rules' violations, then the uniqueness verdict, then the checks in file order.
    pub findings: Vec<Finding<'r>>,
}

/// A broken rule on one line, with where it is reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding<'r> {
    /// The row in the batch.
    pub row: u32,
    pub rule: RuleIdx,
    /// The field or label the finding is about.
    pub target: &'r str,
    /// The offending value rendered as text, or null.
    pub value: Option<Cow<'r, str>>,
    pub route: Route,
}

/// Where a finding is reported. A finding of a fatal rule is not routed (it refuses the file,
/// see `BatchResult::fatal`), nor is a warning or an info on a line that is not loaded: they are
/// about accepted data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Route {
    /// The line is rejected, and the finding is a row of the rejects.
    Reject,
    /// The line is loaded, and the finding is a row of the warnings.
    Warn,
    /// The finding is counted only.
    Info,
}

/// How the dataset checks went over the lines fed so far (what their rules' `mostly` is judged
/// on).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DatasetStats {
    /// Per check in file order (in `Program::order_checks` order): the non-null values compared
    /// (`considered`) and those that break it (`unexpected`).
    pub order: Vec<CheckStats>,
    /// Per unique check: the lines that took part with a key (`considered`), those whose key was
    /// all null (`missing`), and the lines this check rejected (`unexpected`; a line that several
    /// checks reject is this check's when it is the first of them).
    pub unique: Vec<CheckStats>,
}

impl<'p> DatasetChecks<'p> {
    /// The checks of `program` before the first line, with the lines each unique check rejects
    /// (found by [`UniqueKeys`]).
    pub fn new(program: &'p Program, duplicates: DuplicateLines) -> Result<DatasetChecks<'p>, InterpError> {
        let order =
            program.order_checks.iter().map(|check| OrderState::new(program, check)).collect::<Result<Vec<_>, _>>()?;
        let stats = DatasetStats {
            order: vec![CheckStats::default(); program.order_checks.len()],
            unique: vec![CheckStats::default(); program.unique_checks.len()],
        };
        Ok(DatasetChecks { program, duplicates, order, stats })
    }

    /// Judges the next batch of the file: which lines are accepted, and every finding on its
    /// lines, routed. `result` is `batch`'s evaluation.
    pub fn judge<'r>(&mut self, batch: &RawBatch, result: &'r BatchResult) -> Result<BatchFindings<'r>, InterpError>
    where
        'p: 'r,
    {
        let program = self.program;
        let rows = batch.len();
        if result.rejected.len() != rows {
            return Err(InterpError::internal(format!(
                "a result of {} rows for a batch of {rows}",
                result.rejected.len()
            )));
        }
        // The checks in file order, each over the batch; then their broken lines by row.
        let mut out_of_order = Vec::new();
        for (check, (state, stats)) in self.order.iter_mut().zip(&mut self.stats.order).enumerate() {
            state.judge(program, check, result, stats, &mut out_of_order)?;
        }
        // Stable, and each check's lines are in row order: within a row, in check order.
        out_of_order.sort_by_key(|broken| broken.row);

        let mut accepted = vec![false; rows];
        let mut findings = Vec::new();
        let mut violations = result.violations.iter().peekable();
        let mut out_of_order = out_of_order.into_iter().peekable();
        // What the spec raised on one line, before routing; reused from line to line.
        let mut raised: Vec<(RuleIdx, &'r str, Option<Cow<'r, str>>)> = Vec::new();
        for (row, &line_no) in batch.line_nos.iter().enumerate() {
            let duplicate_of = match result.rejected[row] {
                true => None,
                false => unique::verdict(program, &self.duplicates, result, row, line_no, &mut self.stats.unique),
            };
            while let Some(v) = violations.next_if(|v| v.row as usize == row) {
                raised.push((v.rule, &v.target, v.value.as_deref().map(Cow::Borrowed)));
            }
            if let Some(check) = duplicate_of.and_then(|c| program.unique_checks.get(c)) {
                raised.push((check.rule, &check.target, None));
            }
            let mut rejected_out_of_order = false;
            while let Some(broken) = out_of_order.next_if(|broken| broken.row == row) {
                let check = &program.order_checks[broken.check];
                rejected_out_of_order |= self.severity(check.rule)? == Severity::Reject;
                raised.push((check.rule, &check.target, Some(Cow::Owned(broken.value))));
            }
            let loaded = !result.rejected[row] && duplicate_of.is_none() && !rejected_out_of_order;
            accepted[row] = loaded;
            let mut rejected_here = false;
            for (rule, target, value) in raised.drain(..) {
                let route = match self.severity(rule)? {
                    Severity::Reject => Route::Reject,
                    Severity::Warn if loaded => Route::Warn,
                    Severity::Info if loaded => Route::Info,
                    _ => continue,
                };
                rejected_here |= route == Route::Reject;
                findings.push(Finding { row: row as u32, rule, target, value, route });
            }
            // Every line ends in exactly one place (conservation, `docs/architecture.md`).
            if loaded == rejected_here {
                let fate = if loaded { "accepted and rejected" } else { "rejected without a reason" };
                return Err(InterpError::internal(format!("line {line_no} is {fate}")));
            }
        }
        Ok(BatchFindings { accepted, findings })
    }

    /// The checks' statistics over the lines fed so far.
    pub fn stats(&self) -> &DatasetStats {
        &self.stats
    }

    /// The statistics, once the file is over.
    pub fn into_stats(self) -> DatasetStats {
        self.stats
    }

    fn severity(&self, rule: RuleIdx) -> Result<Severity, InterpError> {
        crate::rule_severity(self.program, rule)
    }
}

/// Whether a line takes part in a dataset check: its `when` holds (or it has none).
fn takes_part(when: &[Option<arrow::buffer::BooleanBuffer>], check: usize, row: usize) -> bool {
    match when.get(check) {
        Some(Some(rows)) => row < rows.len() && rows.value(row),
        _ => true,
    }
}
