//! The reference interpreter for etr IR: evaluates a compiled [`Program`] over Arrow batches.
//!
//! It is the oracle the JIT is checked against (STYLE point 15), so it is written to be read: one
//! evaluator ([`eval`]) walks the IR and calls column kernels ([`kernels`]), vectorised over a
//! batch with no per-row allocation on the hot path.
//!
//! The flow for one batch ([`Interpreter::eval_batch`]):
//! 1. Lines with the wrong field count or a bad encoding are malformed: each gets its one
//!    violation and is excluded (by a row selection) from everything else.
//! 2. The bindings run in order, filling the record's fields and the `let` locals.
//! 3. The row checks run in order; a broken check records a violation with its rendered value,
//!    and every check counts the rows it considered, broke and could not decide ([`CheckStats`]).
//! 4. The unique checks' key hashes and the aggregates' partial states are computed.
//!
//! At the end of a file the runtime merges the batches' [`AggregateStates`] and [`CheckStats`] and
//! calls [`Interpreter::file_check_outcomes`] (or [`Interpreter::finish_file`] for the broken checks
//! alone), which evaluates the file checks with the same evaluator over a one-row context.
//!
//! The rules that judge a line by other lines of the file (`unique`, `increasing`) and the routing
//! of every finding by severity are [`DatasetChecks`], fed the batches' results in file order; the
//! lines each `unique` check rejects are found by [`UniqueKeys`] (see the `dataset` module).
//!
//! API Boundary: the runtime sees `Interpreter`, `BatchResult`, `Violation`, `CheckStats`,
//! `FileViolation`, `FileCheckOutcome`, `AggregateStates`, `LineValues`, `Scalar`, and the dataset
//! checks (`DatasetChecks`, `BatchFindings`, `Finding`, `Route`, `DatasetStats`, `UniqueKeys`,
//! `DuplicateLines`); kernels and the evaluator stay private.
//! Architecture Invariant: no IO, no clock, no environment; a well-typed program never makes the
//! interpreter fail on data (only `InterpError::Internal` for broken IR invariants).

#![deny(clippy::disallowed_methods)]

pub mod aggregate;
mod backend;
pub mod batch;
mod dataset;
mod error;
mod eval;
mod kernels;
mod keyhash;
mod lines;
mod output;
// Helpers for tests and benches, this crate's and others' (`test-support` feature): not shipped.
#[cfg(any(test, feature = "test-support"))]
pub mod test_support;
mod value;

use std::sync::Arc;

use arrow::array::{Array, ArrayRef};
use arrow::buffer::{BooleanBuffer, NullBuffer};
use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use etr_ir::{
    Aggregate, AggregateFunction, Builtin, CodeTable, CodeType, ColumnIdx, Expr, ExprKind, FieldDef, IndexVec,
    LocalDef, OnFailure, Program, RuleIdx, Severity, Slot, TableIdx,
};
use hashbrown::HashMap;
use regex::Regex;

pub use aggregate::{AggregateState, AggregateStates, NumberSum, ValueList};
pub use backend::{CompiledKernels, KernelFallbacks, NativeBackend};
pub use batch::{RawBatch, RawRecordLine};
pub use dataset::{BatchFindings, DatasetChecks, DatasetStats, DuplicateLines, Finding, Route, UniqueKeys};
pub use error::InterpError;
pub use lines::LineValues;
pub use value::{Scalar, render_scalar};

/// Native kernels a back end (the Cranelift JIT) offers in place of the interpreter's own, per
/// expression: the interpreter asks before parsing a raw column, and evaluates everything else
/// itself, handlers and violations included. A kernel must give exactly the interpreter's results
/// (the differential tests hold it to that).
pub trait NativeKernels: Send + Sync + std::fmt::Debug {
    /// `function` (a parse) over column `column` of `batch`: the values (`Int64` for int and money,
    /// `Date32` for dates and months, nulls where the input is null or failed) and the rows whose
    /// non-null input failed; `None` when the back end did not compile this parse.
    fn parse_column(
        &self,
        function: &Builtin,
        column: ColumnIdx,
        batch: &RawBatch,
    ) -> Option<(ArrayRef, BooleanBuffer)>;

    /// `table[column]` over `batch`: the table's values (in the layout `parse_column` uses, and
    /// `UInt32` member indices for codes; null where the key is null or not in the table) and the
    /// rows whose non-null key is not in the table; `None` when the back end did not compile this
    /// lookup.
    fn lookup_column(&self, table: TableIdx, column: ColumnIdx, batch: &RawBatch) -> Option<(ArrayRef, BooleanBuffer)> {
        let _ = (table, column, batch);
        None
    }
}

use eval::{Env, Frame, Report, Sel, truth};
use kernels::lookup::CompiledTable;
use value::{Column, Datum, Phys};

/// A program prepared for evaluation: regexes compiled, code tables hashed, output schema built.
/// Immutable and `Sync`: one interpreter serves every worker thread.
#[derive(Debug, Clone)]
pub struct Interpreter {
    program: Arc<Program>,
    regexes: HashMap<String, Regex>,
    tables: IndexVec<CodeTable, CompiledTable>,
    /// Violation targets, shared by every violation that names them.
    targets: HashMap<String, Arc<str>>,
    schema: SchemaRef,
    dictionaries: IndexVec<CodeType, ArrayRef>,
    /// The file's aggregate values, for row expressions that read them (`x > 3 * median(X)`):
    /// known only after a first pass over the file; until then such a read is null.
    file_aggregates: Option<Arc<Vec<Scalar>>>,
    /// What `run_date()` reads: the day the run is as of (days since 1970-01-01), if given.
    run_date: Option<i32>,
    /// Native kernels to use where they exist (the JIT); the interpreter's own otherwise.
    native: Option<Arc<dyn NativeKernels>>,
    /// The bindings [`Interpreter::eval_keys`] runs: those the unique checks' keys and `when`s
    /// read, directly or through other bindings, in program order.
    key_bindings: Arc<[usize]>,
    /// Whether [`Interpreter::eval_batch`] hashes the unique checks' keys (a pass that knows the
    /// duplicated lines by number does not need them).
    hash_keys: bool,
}

/// What one batch produced.
#[derive(Debug, Clone)]
pub struct BatchResult {
    /// One array per record field (codes as `UInt32` member indices), one slot per line; null on
    /// malformed lines and where unassigned.
    pub fields: Vec<ArrayRef>,
    /// Every violation of a row-level rule (any severity), ordered by row, then in the order the
    /// spec raises them (bindings in binding order, then row checks in order).
    pub violations: Vec<Violation>,
    /// Per row: some violation has `Severity::Reject`, or the line is malformed.
    pub rejected: Vec<bool>,
    /// Row-level `else fail` failures (and broken row checks of fatal rules): the file must be refused.
    pub fatal: Vec<Violation>,
    /// Per unique check, the 128-bit hash of each row's key (none at all from an interpreter
    /// made [`Interpreter::without_key_hashes`]).
    pub key_hashes: Vec<Vec<u128>>,
    /// Per unique check with a `when`: the rows where it holds (only they take part).
    pub unique_when: Vec<Option<BooleanBuffer>>,
    /// Per ordering check with a `when`: the rows where it holds.
    pub order_when: Vec<Option<BooleanBuffer>>,
    /// This batch's partial aggregate states.
    pub aggregates: AggregateStates,
    /// Per row check (in `Program::row_checks` order), how its rows went in this batch.
    pub check_stats: Vec<CheckStats>,
}

/// What the key pass needs from one batch ([`Interpreter::eval_keys`]).
#[derive(Debug, Clone)]
pub struct KeyBatch {
    /// Per unique check, the 128-bit hash of each row's key (meaningless where not `counted`).
    pub key_hashes: Vec<Vec<u128>>,
    /// Per unique check, the rows whose key is counted: the line is well formed, the check's
    /// `when` holds, and some part of the key is not null. A superset of the rows
    /// [`Interpreter::eval_batch`] would count, which also requires the line not to be rejected.
    pub counted: Vec<BooleanBuffer>,
}

/// How one row check went over a set of well-formed lines (what a rule's `mostly` is judged on).
/// A line where the check's `when` is false or null is not counted at all.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CheckStats {
    /// Lines where the condition was true or false.
    pub considered: u64,
    /// Of the considered lines, those where the condition was false (the rule is broken there).
    pub unexpected: u64,
    /// Lines where the condition was null: an input was missing, and the rule about it fires
    /// instead; not considered.
    pub missing: u64,
}

impl CheckStats {
    /// Adds `other`'s lines (another batch of the same file) to these.
    pub fn merge(&mut self, other: &CheckStats) {
        self.considered += other.considered;
        self.unexpected += other.unexpected;
        self.missing += other.missing;
    }
}

/// A row-level rule broken on one line of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The row in the batch (not the line number: see `RawBatch::line_nos`).
    pub row: u32,
    pub rule: RuleIdx,
    /// The field or label the violation is about (`line` for a malformed line).
    pub target: Arc<str>,
    /// The offending value rendered as text, or null.
    pub value: Option<String>,
}

/// A broken file check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileViolation {
    pub rule: RuleIdx,
    pub target: String,
}

/// How one file check went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileCheckOutcome {
    pub rule: RuleIdx,
    pub target: String,
    /// The condition was true (false, null or not evaluable breaks the check).
    pub passed: bool,
    /// The value of what the check measures (`etr_ir::FileCheck::observed`); `None` when it
    /// measures nothing, or it could not be evaluated. `Some(Scalar::Null)` is a null value (a sum
    /// past `i64`, say).
    pub observed: Option<Scalar>,
    /// When the check measures an aggregate that keeps its values (`distinct_values(x)`): each
    /// value with its count.
    pub value_counts: Option<Vec<(Scalar, u64)>>,
}

/// The argument of an aggregate other than `count()` and `lines_broken()`.
fn argument_of(aggregate: &Aggregate) -> Result<&Expr, InterpError> {
    aggregate
        .argument
        .as_ref()
        .ok_or_else(|| InterpError::internal(format!("{:?} without an argument", aggregate.function)))
}

/// The bindings the unique checks need, in program order: those assigning a key field or a slot
/// a check's `when` reads, then, walking back, those assigning what the chosen ones read.
fn key_bindings(program: &Program) -> Vec<usize> {
    let mut fields: IndexVec<FieldDef, bool> = program.record.fields.iter().map(|_| false).collect();
    let mut locals: IndexVec<LocalDef, bool> = program.locals.iter().map(|_| false).collect();
    let need = |e: &Expr, fields: &mut IndexVec<FieldDef, bool>, locals: &mut IndexVec<LocalDef, bool>| {
        e.walk(&mut |e| match e.kind {
            ExprKind::Field(f) => {
                if let Some(slot) = fields.get_mut(f) {
                    *slot = true;
                }
            }
            ExprKind::Local(l) => {
                if let Some(slot) = locals.get_mut(l) {
                    *slot = true;
                }
            }
            _ => {}
        });
    };
    for check in &program.unique_checks {
        for &f in &check.key {
            if let Some(slot) = fields.get_mut(f) {
                *slot = true;
            }
        }
        if let Some(when) = &check.when {
            need(when, &mut fields, &mut locals);
        }
    }
    let mut chosen = Vec::new();
    // A binding reads only slots assigned before it, so one backward sweep closes the set.
    for (idx, binding) in program.bindings.iter().enumerate().rev() {
        let wanted = match binding.target {
            Slot::Field(f) => fields.get(f).copied().unwrap_or(false),
            Slot::Local(l) => locals.get(l).copied().unwrap_or(false),
        };
        if wanted {
            chosen.push(idx);
            need(&binding.expr, &mut fields, &mut locals);
        }
    }
    chosen.reverse();
    chosen
}

impl Interpreter {
    /// Prepares `program`: compiles its regexes (an invalid one is an error) and hashes its tables.
    pub fn new(program: Arc<Program>) -> Result<Interpreter, InterpError> {
        let mut exprs: Vec<&Expr> = Vec::new();
        exprs.extend(program.bindings.iter().map(|b| &b.expr));
        for check in &program.row_checks {
            exprs.extend(check.when.iter());
            exprs.push(&check.condition);
            exprs.extend(check.value.iter());
        }
        exprs.extend(program.aggregates.iter().filter_map(|a| a.argument.as_ref()));
        exprs.extend(program.file_checks.iter().map(|c| &c.condition));

        let mut regexes = HashMap::new();
        let mut targets: HashMap<String, Arc<str>> = HashMap::new();
        let mut error = None;
        for expr in exprs {
            expr.walk(&mut |e| match &e.kind {
                ExprKind::Call { function: Builtin::Matches(pattern), .. } if !regexes.contains_key(pattern) => {
                    match Regex::new(pattern) {
                        Ok(re) => {
                            regexes.insert(pattern.clone(), re);
                        }
                        Err(err) => {
                            error.get_or_insert(InterpError::InvalidRegex {
                                pattern: pattern.clone(),
                                message: err.to_string(),
                            });
                        }
                    }
                }
                ExprKind::Fallible {
                    on_failure: OnFailure::Reject { target, .. } | OnFailure::Fail { target, .. },
                    ..
                } => {
                    targets.entry(target.clone()).or_insert_with(|| Arc::from(target.as_str()));
                }
                _ => {}
            });
        }
        if let Some(error) = error {
            return Err(error);
        }
        for name in program.row_checks.iter().map(|c| &c.target).chain([&"line".to_owned()]) {
            targets.entry(name.clone()).or_insert_with(|| Arc::from(name.as_str()));
        }
        let tables = program.tables.iter().map(CompiledTable::new).collect::<Result<IndexVec<_, _>, _>>()?;
        let schema = output::schema(&program);
        let dictionaries = output::dictionaries(&program);
        Ok(Interpreter {
            regexes,
            tables,
            targets,
            schema,
            dictionaries,
            key_bindings: key_bindings(&program).into(),
            hash_keys: true,
            file_aggregates: None,
            run_date: None,
            native: None,
            program,
        })
    }

    /// The same interpreter, with the file's aggregate values for row expressions that read them.
    pub fn with_file_aggregates(&self, aggregates: &AggregateStates) -> Interpreter {
        Interpreter { file_aggregates: Some(Arc::new(aggregates.values())), ..self.clone() }
    }

    /// The same interpreter, without the unique checks' key hashes in [`BatchResult::key_hashes`]:
    /// for a pass that tells duplicates by line number.
    pub fn without_key_hashes(&self) -> Interpreter {
        Interpreter { hash_keys: false, ..self.clone() }
    }

    /// The same interpreter, with the date `run_date()` reads (days since 1970-01-01).
    pub fn with_run_date(mut self, days: i32) -> Interpreter {
        self.run_date = Some(days);
        self
    }

    /// The same interpreter, using `native` kernels where they exist.
    pub fn with_native_kernels(mut self, native: Arc<dyn NativeKernels>) -> Interpreter {
        self.native = Some(native);
        self
    }

    pub(crate) fn native(&self) -> Option<&Arc<dyn NativeKernels>> {
        self.native.as_ref()
    }

    pub(crate) fn run_date(&self) -> Option<i32> {
        self.run_date
    }

    /// Whether a row expression (a mapping, a `let`, a row check) reads an aggregate of the file,
    /// so that a run needs the aggregates before it evaluates lines.
    pub fn rows_read_aggregates(&self) -> bool {
        let program = &self.program;
        let mut row_expressions = program.bindings.iter().map(|b| &b.expr).chain(
            program.row_checks.iter().flat_map(|check| std::iter::once(&check.condition).chain(check.when.as_ref())),
        );
        row_expressions.any(|e| e.any(|e| matches!(e.kind, ExprKind::Aggregate(_))))
    }

    pub fn program(&self) -> &Program {
        &self.program
    }

    pub(crate) fn regex(&self, pattern: &str) -> Result<&Regex, InterpError> {
        self.regexes.get(pattern).ok_or_else(|| InterpError::internal(format!("regex {pattern:?} was not compiled")))
    }

    /// The shared `Arc<str>` of a violation target (allocated here only for a name `new` missed).
    pub(crate) fn target(&self, name: &str) -> Arc<str> {
        self.targets.get(name).cloned().unwrap_or_else(|| Arc::from(name))
    }

    fn severity(&self, rule: RuleIdx) -> Result<Severity, InterpError> {
        rule_severity(&self.program, rule)
    }

    fn check_shape(&self, batch: &RawBatch) -> Result<(), InterpError> {
        let len = batch.len();
        let columns = self.program.source.columns.len();
        let bad = |what: String| Err(InterpError::InvalidBatch(what));
        if batch.columns.len() != columns {
            return bad(format!("{} columns, the program declares {columns}", batch.columns.len()));
        }
        if batch.field_counts.len() != len || batch.bad_encoding.len() != len || batch.lines.len() != len {
            return bad(format!("per-line vectors of different lengths (batch of {len} lines)"));
        }
        if let Some(c) = batch.columns.iter().position(|c| c.len() != len) {
            return bad(format!("column {c} has {} rows, the batch {len}", batch.columns[c].len()));
        }
        Ok(())
    }

    /// The lines of `batch` with the declared field count and a valid encoding.
    fn well_formed(&self, batch: &RawBatch) -> BooleanBuffer {
        let columns = self.program.source.columns.len() as u32;
        BooleanBuffer::collect_bool(batch.len(), |i| batch.field_counts[i] == columns && !batch.bad_encoding[i])
    }

    /// A fresh frame over `batch`'s rows, reporting failures as `report` says.
    fn row_frame<'a>(&'a self, batch: &'a RawBatch, report: Report, violations: Vec<Violation>) -> Frame<'a> {
        Frame {
            interp: self,
            len: batch.len(),
            env: Env::Rows(batch),
            fields: self.program.record.fields.iter().map(|_| None).collect(),
            locals: self.program.locals.iter().map(|_| None).collect(),
            report,
            violations,
            fatal: Vec::new(),
            memo: Vec::new(),
        }
    }

    /// Evaluates one binding over `sel` and stores its value in its field or local.
    fn run_binding(frame: &mut Frame<'_>, binding: &etr_ir::Binding, sel: &Sel) -> Result<(), InterpError> {
        let value = frame.eval(&binding.expr, sel)?;
        let slot = match binding.target {
            Slot::Field(i) => frame.fields.get_mut(i),
            Slot::Local(i) => frame.locals.get_mut(i),
        };
        *slot.ok_or_else(|| InterpError::internal(format!("binding target {:?} does not exist", binding.target)))? =
            Some(value);
        Ok(())
    }

    /// Evaluates the mapping, the row checks, the unique-key hashes and the aggregates' partial
    /// states for one batch.
    pub fn eval_batch(&self, batch: &RawBatch) -> Result<BatchResult, InterpError> {
        self.check_shape(batch)?;
        let len = batch.len();
        let program = &*self.program;

        // 1. Malformed lines: one violation each, and excluded from everything else.
        let well_formed = self.well_formed(batch);
        let line_target = self.target("line");
        let mut malformed = Vec::new();
        for row in (!&well_formed).set_indices() {
            let rule = match (batch.bad_encoding[row], program.source.encoding_rule) {
                (true, Some(rule)) => rule,
                _ => program.source.field_count_rule,
            };
            malformed.push(Violation { row: row as u32, rule, target: line_target.clone(), value: None });
        }
        let all_well_formed = malformed.is_empty();
        let sel = if all_well_formed { Sel::All } else { Sel::Rows(well_formed.clone()) };

        let mut frame = self.row_frame(batch, Report::All, malformed);

        // 2. The mapping.
        for binding in &program.bindings {
            Self::run_binding(&mut frame, binding, &sel)?;
        }

        // 3. The row checks: broken where `when` holds and the condition is false (not null).
        let mut check_stats = Vec::with_capacity(program.row_checks.len());
        for check in &program.row_checks {
            let check_sel = match &check.when {
                Some(when) => {
                    let holds = frame.eval(when, &sel)?;
                    sel.and(&truth(&holds, len)?.0)
                }
                None => sel.clone(),
            };
            let condition = frame.eval(&check.condition, &check_sel)?;
            let (holds, fails) = truth(&condition, len)?;
            let broken = check_sel.restrict(&fails);
            let unexpected = broken.count_set_bits();
            let passed = check_sel.restrict(&holds).count_set_bits();
            check_stats.push(CheckStats {
                considered: (passed + unexpected) as u64,
                unexpected: unexpected as u64,
                missing: (check_sel.count(len) - passed - unexpected) as u64,
            });
            if unexpected == 0 {
                continue;
            }
            let (value, kind) = match &check.value {
                Some(expr) => (frame.eval(expr, &Sel::Rows(broken.clone()))?, expr.ty.kind),
                None => (Datum::null(), etr_ir::TypeKind::Null),
            };
            frame.record(&broken, check.rule, &check.target, &value, kind, false);
            if self.severity(check.rule)? == Severity::Fatal {
                frame.record(&broken, check.rule, &check.target, &value, kind, true);
            }
        }

        // The lines that take part in each dataset check with a `when` (true, not null).
        let mut dataset_when = |checks: Vec<Option<&Expr>>| -> Result<Vec<Option<BooleanBuffer>>, InterpError> {
            checks
                .into_iter()
                .map(|when| match when {
                    Some(when) => {
                        let holds = frame.eval(when, &sel)?;
                        Ok(Some(sel.restrict(&truth(&holds, len)?.0)))
                    }
                    None => Ok(None),
                })
                .collect()
        };
        let unique_when = dataset_when(program.unique_checks.iter().map(|c| c.when.as_ref()).collect())?;
        let order_when = dataset_when(program.order_checks.iter().map(|c| c.when.as_ref()).collect())?;

        // The aggregates, over every line (malformed ones too), in the same frame so that they reuse
        // the mapping's parses.
        frame.report = Report::FatalOnly;
        let mut aggregates = self.aggregate(&mut frame)?;

        let Frame { fields, mut violations, mut fatal, .. } = frame;
        // Stable: within a row, the order the violations were raised in is kept.
        violations.sort_by_key(|v| v.row);
        fatal.sort_by_key(|v| v.row);
        for (state, aggregate) in aggregates.states.iter_mut().zip(&program.aggregates) {
            if let (AggregateFunction::LinesBroken(rule), AggregateState::Count(n)) = (aggregate.function, state) {
                // Distinct rows: violations are sorted by row.
                let mut last_row = None;
                for v in violations.iter().filter(|v| v.rule == rule) {
                    if last_row != Some(v.row) {
                        *n += 1;
                        last_row = Some(v.row);
                    }
                }
            }
        }

        let mut rejected = vec![false; len];
        for v in &violations {
            let malformed_line = !well_formed.value(v.row as usize);
            if malformed_line || self.severity(v.rule)? == Severity::Reject {
                rejected[v.row as usize] = true;
            }
        }

        // The record's fields in their layouts, blanked on malformed lines.
        let keep = (!all_well_formed).then(|| NullBuffer::new(well_formed.clone()));
        let mut out_fields = Vec::with_capacity(fields.len());
        for (def, value) in program.record.fields.iter().zip(fields) {
            let phys = Phys::of(def.ty.kind);
            let column = match value {
                Some(value) => value.into_column(phys, len)?,
                None => Column::new_null(phys, len),
            };
            out_fields.push(column.mask(keep.as_ref())?.into_array_ref());
        }

        // 4. Key hashes (none for a pass that tells duplicates by line number).
        let mut key_hashes = Vec::new();
        if self.hash_keys {
            for check in &program.unique_checks {
                let parts = check
                    .key
                    .iter()
                    .map(|&f| {
                        out_fields.get(f.index()).ok_or_else(|| InterpError::internal(format!("key field {}", f.raw())))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                key_hashes.push(keyhash::key_hashes(&parts, len)?);
            }
        }

        Ok(BatchResult {
            fields: out_fields,
            violations,
            rejected,
            fatal,
            key_hashes,
            aggregates,
            check_stats,
            unique_when,
            order_when,
        })
    }

    /// The source columns [`Interpreter::eval_keys`] reads: a key pass needs only these split.
    pub fn key_columns(&self) -> Vec<bool> {
        let program = &*self.program;
        let mut wanted = vec![false; program.source.columns.len()];
        let mut mark = |e: &Expr| {
            if let ExprKind::Column(c) = e.kind
                && let Some(slot) = wanted.get_mut(c.index())
            {
                *slot = true;
            }
        };
        for &idx in self.key_bindings.iter() {
            if let Some(binding) = program.bindings.get(idx) {
                binding.expr.walk(&mut mark);
            }
        }
        for when in program.unique_checks.iter().filter_map(|c| c.when.as_ref()) {
            when.walk(&mut mark);
        }
        wanted
    }

    /// The key pass of a run with `unique` checks: evaluates only the bindings the checks' keys
    /// and `when`s need ([`key_bindings`]), records no violation, and returns each row's key hash
    /// and whether it is counted. Whether a line is rejected is not known here, so the counted rows
    /// are a superset of those [`Interpreter::eval_batch`] counts; a key counted once here is
    /// certainly unique, and only keys counted more than once need a full evaluation.
    pub fn eval_keys(&self, batch: &RawBatch) -> Result<KeyBatch, InterpError> {
        self.check_shape(batch)?;
        let len = batch.len();
        let program = &*self.program;
        let well_formed = self.well_formed(batch);
        let all_well_formed = well_formed.count_set_bits() == len;
        let sel = if all_well_formed { Sel::All } else { Sel::Rows(well_formed.clone()) };
        let mut frame = self.row_frame(batch, Report::Nothing, Vec::new());
        for &idx in self.key_bindings.iter() {
            let binding = program
                .bindings
                .get(idx)
                .ok_or_else(|| InterpError::internal(format!("key binding {idx} does not exist")))?;
            Self::run_binding(&mut frame, binding, &sel)?;
        }
        let keep = (!all_well_formed).then(|| NullBuffer::new(well_formed.clone()));
        let mut key_hashes = Vec::with_capacity(program.unique_checks.len());
        let mut counted = Vec::with_capacity(program.unique_checks.len());
        for check in &program.unique_checks {
            let mut rows = well_formed.clone();
            if let Some(when) = &check.when {
                let holds = frame.eval(when, &sel)?;
                rows = &rows & &truth(&holds, len)?.0;
            }
            let mut parts = Vec::with_capacity(check.key.len());
            let mut some_part = BooleanBuffer::new_unset(len);
            for &f in &check.key {
                let def = program
                    .record
                    .fields
                    .get(f)
                    .ok_or_else(|| InterpError::internal(format!("key field {}", f.raw())))?;
                let phys = Phys::of(def.ty.kind);
                let column = match frame.fields[f].clone() {
                    Some(value) => value.into_column(phys, len)?,
                    None => Column::new_null(phys, len),
                };
                let array = column.mask(keep.as_ref())?.into_array_ref();
                some_part = match array.logical_nulls() {
                    Some(nulls) => &some_part | nulls.inner(),
                    None => BooleanBuffer::new_set(len),
                };
                parts.push(array);
            }
            let parts: Vec<&ArrayRef> = parts.iter().collect();
            key_hashes.push(keyhash::key_hashes(&parts, len)?);
            counted.push(&rows & &some_part);
        }
        Ok(KeyBatch { key_hashes, counted })
    }

    /// The aggregates' partial states over every line of the batch, malformed or not. Their
    /// arguments read columns only, so the frame's fields and locals are not used.
    fn aggregate(&self, frame: &mut Frame<'_>) -> Result<AggregateStates, InterpError> {
        let len = frame.len;
        let mut states = AggregateStates::new(&self.program);
        for (state, aggregate) in states.states.iter_mut().zip(&self.program.aggregates) {
            match (aggregate.function, state) {
                // Counted from the batch's violations once they are all known (`eval_batch`).
                (AggregateFunction::LinesBroken(_), _) => {}
                (AggregateFunction::Count, AggregateState::Count(n)) => *n = len as u64,
                (_, AggregateState::Sum { sum, overflow }) => {
                    match frame.eval(argument_of(aggregate)?, &Sel::All)? {
                        Datum::Scalar(Scalar::Int(v)) => match (v as i128).checked_mul(len as i128) {
                            Some(total) => *sum = total,
                            None => *overflow = true,
                        },
                        Datum::Scalar(Scalar::Null) => {}
                        Datum::Array(Column::Int(values)) => {
                            // `len` values of at most 2^63 each cannot overflow an i128.
                            *sum = match values.nulls() {
                                None => values.values().iter().map(|&v| v as i128).sum(),
                                Some(nulls) => nulls.valid_indices().map(|i| values.values()[i] as i128).sum(),
                            };
                        }
                        other => return Err(InterpError::internal(format!("sum of {other:?}"))),
                    }
                }
                (_, AggregateState::NumberSum(sum)) => match frame.eval(argument_of(aggregate)?, &Sel::All)? {
                    Datum::Scalar(Scalar::Number(v)) => (0..len).for_each(|_| sum.add(v)),
                    Datum::Scalar(Scalar::Null) => {}
                    Datum::Array(Column::Number(values)) => match values.nulls() {
                        None => values.values().iter().for_each(|&v| sum.add(v)),
                        Some(nulls) => nulls.valid_indices().for_each(|i| sum.add(values.values()[i])),
                    },
                    // The null literal's column: nothing to add.
                    Datum::Array(col) if col.nulls().is_some_and(|n| n.null_count() == col.len()) => {}
                    other => return Err(InterpError::internal(format!("sum of {other:?}"))),
                },
                (_, state) => {
                    let argument = argument_of(aggregate)?;
                    let column = frame.eval(argument, &Sel::All)?.into_column(Phys::of(argument.ty.kind), len)?;
                    state.add_column(&column)?;
                }
            }
        }
        Ok(states)
    }

    /// Parses header and trailer fields per their declared types (missing or unparsable: null).
    pub fn line_values(&self, header: Option<&RawRecordLine>, trailer: Option<&RawRecordLine>) -> LineValues {
        let source = &self.program.source;
        LineValues {
            header: lines::values(source.header.as_ref(), header),
            trailer: lines::values(source.trailer.as_ref(), trailer),
        }
    }

    /// Evaluates the file checks on the merged aggregates; returns the broken ones (a check that
    /// is false or null is broken). A check that cannot be evaluated (broken IR) is reported as
    /// broken too: a file is never accepted on a check that did not run.
    pub fn finish_file(&self, aggregates: &AggregateStates, lines: &LineValues) -> Vec<FileViolation> {
        self.file_check_outcomes(aggregates, lines)
            .into_iter()
            .filter(|outcome| !outcome.passed)
            .map(|outcome| FileViolation { rule: outcome.rule, target: outcome.target })
            .collect()
    }

    /// Evaluates every file check on the merged aggregates, in `Program::file_checks` order, with
    /// the value it was judged on (see [`FileCheckOutcome`]); `passed` is what
    /// [`Interpreter::finish_file`] decides.
    pub fn file_check_outcomes(&self, aggregates: &AggregateStates, lines: &LineValues) -> Vec<FileCheckOutcome> {
        let values = aggregates.values();
        let mut frame = Frame {
            interp: self,
            len: 1,
            env: Env::File { header: &lines.header, trailer: &lines.trailer, aggregates: &values },
            fields: IndexVec::new(),
            locals: IndexVec::new(),
            report: Report::Nothing,
            violations: Vec::new(),
            fatal: Vec::new(),
            memo: Vec::new(),
        };
        let mut outcomes = Vec::with_capacity(self.program.file_checks.len());
        for check in &self.program.file_checks {
            let passed =
                matches!(frame.eval(&check.condition, &Sel::All).map(|d| d.scalar_at(0)), Ok(Scalar::Bool(true)));
            // What the check measures was decided by the front end; an aggregate is read from its
            // state, which also has the counts of its values. One that does not exist (broken IR)
            // is observed as null: the check broke.
            let (observed, value_counts) = match check.observed.as_ref().map(|e| (e, &e.kind)) {
                Some((_, ExprKind::Aggregate(idx))) => (
                    Some(values.get(idx.index()).cloned().unwrap_or(Scalar::Null)),
                    aggregates.states.get(idx.index()).and_then(|state| state.value_counts()),
                ),
                Some((measured, _)) => (frame.eval(measured, &Sel::All).ok().map(|d| d.scalar_at(0)), None),
                None => (None, None),
            };
            outcomes.push(FileCheckOutcome {
                rule: check.rule,
                target: check.target.clone(),
                passed,
                observed,
                value_counts,
            });
        }
        outcomes
    }

    /// The Arrow schema of the accepted output: every record field, then `line_no: UInt64`.
    pub fn output_schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// Builds the accepted output batch from a `BatchResult`, keeping the rows where `keep[row]`.
    pub fn output_batch(
        &self,
        batch: &RawBatch,
        result: &BatchResult,
        keep: &[bool],
    ) -> Result<RecordBatch, InterpError> {
        output::batch(&self.program, &self.schema, &self.dictionaries, &result.fields, &batch.line_nos, keep)
    }

    /// The output batch of every line of `batch`, rejected or not: for a writer that filters
    /// (`output_batch` is this batch filtered by `keep`).
    pub fn output_record(&self, batch: &RawBatch, result: &BatchResult) -> Result<RecordBatch, InterpError> {
        output::record(&self.program, &self.schema, &self.dictionaries, &result.fields, &batch.line_nos)
    }
}

/// The severity of `rule`; an index outside the program is an internal error (the IR is checked).
pub(crate) fn rule_severity(program: &Program, rule: RuleIdx) -> Result<Severity, InterpError> {
    program
        .rules
        .get(rule)
        .map(|r| r.severity)
        .ok_or_else(|| InterpError::internal(format!("rule {} does not exist", rule.raw())))
}
