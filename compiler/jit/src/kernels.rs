//! The JIT as the interpreter's native kernels: each compiled parse of a raw column serves every
//! expression that parses that column the same way, and the interpreter keeps everything else
//! (handlers, violations, the rest of the expression tree).

use std::collections::HashMap;

use arrow::array::ArrayRef;
use arrow::buffer::BooleanBuffer;
use etr_interp::{NativeKernels, RawBatch};
use etr_ir::{Builtin, ExprKind, FallibleOp, Literal, OnFailure, Program};

use crate::JitProgram;

/// Compiled parses, found by (parse, column).
#[derive(Debug)]
pub struct JitKernels {
    program: JitProgram,
    by_parse: HashMap<(Builtin, u32), usize>,
}

impl JitKernels {
    /// Wraps a compiled program. Only bindings whose failed rows stay null (`else null`,
    /// `else reject`, `else fail`) are offered: a binding with a fallback value has that value in
    /// its failed rows, which another handler of the same parse must not see.
    pub fn new(program: JitProgram, ir: &Program) -> JitKernels {
        let mut by_parse = HashMap::new();
        for index in program.compiled_bindings().collect::<Vec<_>>() {
            let Some(binding) = ir.bindings.get(index) else { continue };
            let ExprKind::Fallible { op: FallibleOp::Call { function, args }, on_failure } = &binding.expr.kind else {
                continue;
            };
            let null_on_failure = match on_failure {
                OnFailure::Default(fallback) => matches!(fallback.kind, ExprKind::Literal(Literal::Null)),
                OnFailure::Reject { .. } | OnFailure::Fail { .. } => true,
            };
            if let ([arg], true) = (args.as_slice(), null_on_failure)
                && let ExprKind::Column(column) = arg.kind
            {
                by_parse.entry((function.clone(), column)).or_insert(index);
            }
        }
        JitKernels { program, by_parse }
    }

    /// How many distinct parses run natively.
    pub fn len(&self) -> usize {
        self.by_parse.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_parse.is_empty()
    }
}

impl NativeKernels for JitKernels {
    fn parse_column(&self, function: &Builtin, column: u32, batch: &RawBatch) -> Option<(ArrayRef, BooleanBuffer)> {
        let index = *self.by_parse.get(&(function.clone(), column))?;
        // An error (a batch of another shape) falls back to the interpreter's kernel.
        let output = self.program.eval_binding(index, batch).ok()??;
        let mut failed = vec![false; batch.len()];
        for row in output.failed {
            if let Some(slot) = failed.get_mut(row as usize) {
                *slot = true;
            }
        }
        Some((output.values, BooleanBuffer::from(failed)))
    }
}
