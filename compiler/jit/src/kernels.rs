//! The JIT as the interpreter's native kernels: each compiled parse (or code-table lookup) of a raw
//! column serves every expression that parses (or looks up) that column the same way, and the
//! interpreter keeps everything else (handlers, violations, the rest of the expression tree).
//!
//! A kernel that fails on a batch (a batch of another shape than the program's) leaves that batch
//! to the interpreter's own kernel, which gives the same values; the failure is counted
//! ([`JitKernels::fallbacks`]) so that a run can tell its user the native code did not run there.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use arrow::array::ArrayRef;
use arrow::buffer::{BooleanBuffer, MutableBuffer};
use arrow::util::bit_util;
use etr_interp::{NativeKernels, RawBatch};
use etr_ir::{Builtin, ColumnIdx, ExprKind, FallibleOp, Literal, OnFailure, Program, TableIdx};

use crate::JitProgram;

/// Compiled parses, found by (parse, column), and lookups, by (table, column).
#[derive(Debug)]
pub struct JitKernels {
    code: Arc<KernelCode>,
    /// This run's: runs that share the code count their own.
    fallbacks: Fallbacks,
}

/// The native code of a program and which of its bindings it serves: shared by every run of the
/// program ([`JitKernels::for_another_run`]).
#[derive(Debug)]
struct KernelCode {
    program: JitProgram,
    by_parse: HashMap<(Builtin, ColumnIdx), usize>,
    by_lookup: HashMap<(TableIdx, ColumnIdx), usize>,
}

/// The kernel runs that failed and fell back to the interpreter. Touched only when one fails, so
/// the kernels' own path stays as it was.
#[derive(Debug, Default)]
struct Fallbacks {
    count: AtomicU64,
    /// The first distinct messages, at most [`MAX_FALLBACK_REASONS`].
    reasons: Mutex<Vec<String>>,
}

/// How many distinct failure messages are kept: enough to tell what went wrong, bounded however
/// many batches fail.
const MAX_FALLBACK_REASONS: usize = 8;

impl JitKernels {
    /// Wraps a compiled program. Only bindings whose failed rows stay null (`else null`,
    /// `else reject`, `else fail`) are offered: a binding with a fallback value has that value in
    /// its failed rows, which another handler of the same parse must not see.
    pub fn new(program: JitProgram, ir: &Program) -> JitKernels {
        let mut by_parse = HashMap::new();
        let mut by_lookup = HashMap::new();
        for index in program.compiled_bindings().collect::<Vec<_>>() {
            let Some(binding) = ir.bindings.get(index) else { continue };
            let ExprKind::Fallible { op, on_failure } = &binding.expr.kind else { continue };
            let null_on_failure = match on_failure {
                OnFailure::Default(fallback) => matches!(fallback.kind, ExprKind::Literal(Literal::Null)),
                OnFailure::Reject { .. } | OnFailure::Fail { .. } => true,
            };
            if !null_on_failure {
                continue;
            }
            match op {
                FallibleOp::Call { function, args } => {
                    if let [arg] = args.as_slice()
                        && let ExprKind::Column(column) = arg.kind
                    {
                        by_parse.entry((function.clone(), column)).or_insert(index);
                    }
                }
                FallibleOp::Lookup { table, key } => {
                    if let ExprKind::Column(column) = key.kind {
                        by_lookup.entry((*table, column)).or_insert(index);
                    }
                }
            }
        }
        let code = Arc::new(KernelCode { program, by_parse, by_lookup });
        JitKernels { code, fallbacks: Fallbacks::default() }
    }

    /// The same native code for another run, with a count of fallbacks of its own.
    pub fn for_another_run(&self) -> JitKernels {
        JitKernels { code: Arc::clone(&self.code), fallbacks: Fallbacks::default() }
    }

    /// How many distinct parses and lookups run natively.
    pub fn len(&self) -> usize {
        self.code.by_parse.len() + self.code.by_lookup.len()
    }

    pub fn is_empty(&self) -> bool {
        self.code.by_parse.is_empty() && self.code.by_lookup.is_empty()
    }

    /// How many kernel runs failed on a batch so far, each leaving that batch to the interpreter.
    pub fn fallbacks(&self) -> u64 {
        self.fallbacks.count.load(Ordering::Relaxed)
    }

    /// Why they failed: the first distinct messages (a few at most).
    pub fn fallback_reasons(&self) -> Vec<String> {
        self.fallbacks.reasons.lock().map(|reasons| reasons.clone()).unwrap_or_default()
    }
}

impl NativeKernels for JitKernels {
    fn parse_column(
        &self,
        function: &Builtin,
        column: ColumnIdx,
        batch: &RawBatch,
    ) -> Option<(ArrayRef, BooleanBuffer)> {
        let index = *self.code.by_parse.get(&(function.clone(), column))?;
        self.run(index, batch)
    }

    fn lookup_column(&self, table: TableIdx, column: ColumnIdx, batch: &RawBatch) -> Option<(ArrayRef, BooleanBuffer)> {
        let index = *self.code.by_lookup.get(&(table, column))?;
        self.run(index, batch)
    }
}

impl JitKernels {
    /// Compiled binding `index` over `batch`, as the interpreter's seam wants it.
    fn run(&self, index: usize, batch: &RawBatch) -> Option<(ArrayRef, BooleanBuffer)> {
        // An error (a batch of another shape) falls back to the interpreter's kernel, and is
        // counted. The failed rows of every line are reported, as the interpreter's own kernel
        // reports them: it restricts them to the lines its expression is evaluated on (not only
        // well-formed lines for an aggregate's argument).
        let output = match self.code.program.eval_binding_on_every_line(index, batch) {
            Ok(output) => output?,
            Err(error) => {
                self.fallbacks.record(error.to_string());
                return None;
            }
        };
        // The failed rows are few: set their bits in a zeroed bitmap rather than building a
        // `bool` per row and packing it.
        let len = batch.len();
        let mut bits = MutableBuffer::from_len_zeroed(len.div_ceil(8));
        for row in output.failed {
            let row = row as usize;
            if row < len {
                bit_util::set_bit(bits.as_slice_mut(), row);
            }
        }
        Some((output.values, BooleanBuffer::new(bits.into(), 0, len)))
    }
}

impl Fallbacks {
    fn record(&self, reason: String) {
        self.count.fetch_add(1, Ordering::Relaxed);
        // A poisoned lock only loses the message; the count above is what a run reports.
        if let Ok(mut reasons) = self.reasons.lock()
            && reasons.len() < MAX_FALLBACK_REASONS
            && !reasons.contains(&reason)
        {
            reasons.push(reason);
        }
    }
}
