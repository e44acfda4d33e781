//! The Cranelift back end: native kernels for the bindings of an etr [`Program`], checked against
//! the reference interpreter.
//!
//! [`Jit::compile`] looks at every mapping binding (`Program::bindings`) and, for each one whose
//! expression it supports, emits one native function that runs over a whole batch. Supported
//! today: a parse of a raw column with its constant arguments baked in,
//! `Fallible { Call { parse_int | parse_money(unit) | parse_date(fmt) | parse_month(fmt),
//! [Column(c)] }, else null | else <literal> | else reject | else fail }`, and a code-table lookup
//! of a raw column compiled to comparisons with the table's keys, values baked in,
//! `Fallible { Lookup { table, Column(c) }, else null | else reject | else fail }` (text keys of at
//! most 16 bytes, at most 64 entries, code, int, money or date values). Everything else is left
//! to the interpreter, per binding: [`JitProgram::eval_binding`] returns `Ok(None)` for it.
//!
//! The flow for one binding of one batch ([`JitProgram::eval_binding`]):
//! 1. The column's `StringViewArray` is handed to the kernel as raw pointers (`kernel.rs`).
//! 2. The kernel loops over the rows: null input gives null; otherwise it reads the field's bytes
//!    through its view, parses them with the specialised parser (`translate/parse.rs`), and writes
//!    the value, a validity bit, and the row index when the parse failed.
//! 3. The failed rows of malformed lines are dropped (the interpreter never selects those lines),
//!    and the values become an `Int64Array` (int, money), a `Date32Array` (date, month) or a
//!    `UInt32Array` (a code's member index).
//!
//! What the caller does with the failed rows depends on the binding's handler, which it reads from
//! the IR: nothing for `else null` and `else <literal>` (the array already holds null or the
//! literal), one violation per row for `else reject` (value: the column's text at that row), one
//! fatal violation per row for `else fail`.
//!
//! Architecture Invariant: the interpreter is the oracle. A compiled binding gives exactly the
//! interpreter's binding value (the array before output masking) and exactly the rows where the
//! interpreter raises its handler; the tests run both engines on the same batches.
//! Architecture Invariant: no IO, and no call from generated code into Rust.
//! API Boundary: callers see `Jit`, `JitProgram`, `JitOutput`, `JitError` and [`JitKernels`] (the
//! interpreter's `NativeKernels`, with a count of the kernel runs that fell back to the
//! interpreter), and [`JitBackend`], the runtime's native back end made of them; plans, translators and the kernel ABI stay private. The runtime does not depend
//! on this crate: the CLI compiles a spec with it and hands the kernels to a run.

#![deny(clippy::disallowed_methods)]

mod backend;
mod error;
mod kernel;
mod kernels;
mod plan;
mod translate;

use std::sync::Mutex;

use arrow::array::ArrayRef;
use cranelift_codegen::ir::UserFuncName;
use cranelift_codegen::ir::types::I64;
use cranelift_codegen::settings::{self, Configurable};
use cranelift_codegen::{Context, isa::OwnedTargetIsa};
use cranelift_frontend::FunctionBuilderContext;
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{FuncId, Linkage, Module, default_libcall_names};
use etr_interp::RawBatch;
use etr_ir::{ColumnIdx, ExprKind, OnFailure, Program, Slot};
use etr_values::calendar;

pub use backend::JitBackend;
pub use error::JitError;
pub use kernels::JitKernels;

use kernel::{Kernel, KernelFn};
use plan::KernelPlan;

/// The code generator: the target ISA and the contexts reused from one function to the next.
///
/// Each [`Jit::compile`] creates the `JITModule` that holds that program's machine code and moves
/// it into the [`JitProgram`], so that the code lives exactly as long as the functions that point
/// into it (a module kept here would have to outlive every program compiled with it).
pub struct Jit {
    isa: OwnedTargetIsa,
    ctx: Context,
    fctx: FunctionBuilderContext,
}

/// A program's compiled bindings. Immutable, `Send` and `Sync`: one serves every worker thread.
pub struct JitProgram {
    /// Per binding of the program: its kernel, when compiled.
    kernels: Vec<Option<(KernelPlan, Kernel)>>,
    /// The CLIF of each compiled binding, with a comment line naming it.
    clif: Vec<String>,
    /// The number of declared source columns: a line with another field count is malformed.
    columns: u32,
    /// The machine code, freed when the program is dropped (after `kernels`, which point into it).
    #[expect(dead_code, reason = "owned for its `Drop`, which frees the code the kernels point into")]
    code: CodeMemory,
}

/// What a compiled binding produced over one batch.
#[derive(Debug, Clone)]
pub struct JitOutput {
    /// The binding's value on every line, as the interpreter computes it before it masks
    /// malformed lines: `Int64` for int and money, `Date32` for date and month.
    pub values: ArrayRef,
    /// The well-formed lines (rows of the batch, ascending) whose input was not null and did not
    /// parse: where the interpreter applies the binding's failure handler.
    pub failed: Vec<u32>,
}

/// Owns a `JITModule` and frees its memory on drop.
struct CodeMemory {
    /// Behind a mutex only for `Sync` (`JITModule` is `Send`, not `Sync`): it is never locked
    /// while kernels run, only to free the code.
    module: Mutex<Option<JITModule>>,
}

impl Drop for CodeMemory {
    fn drop(&mut self) {
        let module = match self.module.get_mut() {
            Ok(module) => module.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        if let Some(module) = module {
            // SAFETY: frees the program's executable memory instead of leaking it. Sound because
            // the only pointers into it are the `KernelFn`s of the `JitProgram` that owns this
            // value, which is being dropped: nothing can call them any more.
            unsafe { module.free_memory() };
        }
    }
}

impl Jit {
    /// A code generator for the host: its native ISA, optimising for speed.
    pub fn new() -> Result<Jit, JitError> {
        if cfg!(target_endian = "big") || size_of::<usize>() != 8 {
            // The kernels read Arrow's little-endian views and pass pointers as `I64`.
            return Err(JitError::UnsupportedHost("the JIT needs a 64-bit little-endian host".to_owned()));
        }
        let mut flags = settings::builder();
        flags.set("use_colocated_libcalls", "false")?;
        flags.set("is_pic", "false")?;
        flags.set("opt_level", "speed")?;
        // Cranelift checks its IR before every function it compiles; that check was a third of the
        // compile time of a spec, paid again by every run. Debug builds (and so the tests, which
        // compare the JIT's outputs with the interpreter's) keep it.
        flags.set("enable_verifier", if cfg!(debug_assertions) { "true" } else { "false" })?;
        let isa = cranelift_native::builder()
            .map_err(|message| JitError::UnsupportedHost(message.to_owned()))?
            .finish(settings::Flags::new(flags))
            .map_err(|err| JitError::UnsupportedHost(err.to_string()))?;
        if isa.pointer_type() != I64 {
            return Err(JitError::UnsupportedHost(format!("pointer type {}", isa.pointer_type())));
        }
        Ok(Jit { isa, ctx: Context::new(), fctx: FunctionBuilderContext::new() })
    }

    /// Compiles every binding of `program` that the JIT supports, one native function each.
    /// The declare, define and finalise lifecycle of the module is all here.
    pub fn compile(&mut self, program: &Program) -> Result<JitProgram, JitError> {
        let mut builder = JITBuilder::with_isa(self.isa.clone(), default_libcall_names());
        // Data the generated code reads (never code it calls): the month table of the date parses.
        builder.symbol(translate::MONTHS_SYMBOL, calendar::MONTHS.as_ptr().cast());
        let module = JITModule::new(builder);
        let mut code = CodeMemory { module: Mutex::new(Some(module)) };
        let module = code
            .module
            .get_mut()
            .ok()
            .and_then(Option::as_mut)
            .ok_or_else(|| JitError::Codegen { binding: 0, message: "the module is gone".to_owned() })?;
        let mut sig = module.make_signature();
        translate::signature(&mut sig);
        let months = module
            .declare_data(translate::MONTHS_SYMBOL, Linkage::Import, false, false)
            .map_err(|err| JitError::Codegen { binding: 0, message: err.to_string() })?;

        let mut planned: Vec<Option<(KernelPlan, FuncId)>> = Vec::with_capacity(program.bindings.len());
        let mut clif = Vec::new();
        for (index, binding) in program.bindings.iter().enumerate() {
            let Some(plan) = KernelPlan::of(&binding.expr, program) else {
                planned.push(None);
                continue;
            };
            let codegen = |message: String| JitError::Codegen { binding: index, message };
            let id = module
                .declare_function(&format!("etr_binding_{index}"), Linkage::Local, &sig)
                .map_err(|err| codegen(err.to_string()))?;
            self.ctx.clear();
            self.ctx.func.signature = sig.clone();
            self.ctx.func.name = UserFuncName::user(0, id.as_u32());
            let months = plan.parser.reads_dates().then(|| module.declare_data_in_func(months, &mut self.ctx.func));
            translate::translate_kernel(&mut self.ctx.func, &mut self.fctx, &plan, months, module.target_config());
            let text = format!("; {}\n{}", describe(program, index, &plan), self.ctx.func.display());
            let defined = module.define_function(id, &mut self.ctx);
            module.clear_context(&mut self.ctx);
            defined.map_err(|err| codegen(format!("{err:?}\n{text}")))?;
            clif.push(text);
            planned.push(Some((plan, id)));
        }
        module.finalize_definitions().map_err(Box::new)?;

        let kernels = planned
            .into_iter()
            .map(|slot| {
                slot.map(|(plan, id)| {
                    let code = module.get_finalized_function(id);
                    // SAFETY: turns the finalised code address into a callable pointer, the only
                    // way to run JIT code. Sound because `id` was defined above with
                    // `translate::signature` (one pointer in, one `i64` out) in the host's
                    // default calling convention, which is `extern "C"`; the module that owns
                    // the code moves into the returned `JitProgram` with the pointer.
                    let entry = unsafe { std::mem::transmute::<*const u8, KernelFn>(code) };
                    (plan, Kernel { entry })
                })
            })
            .collect();
        Ok(JitProgram { kernels, clif, columns: program.source.columns.len() as u32, code })
    }
}

/// The comment line above a kernel's CLIF: which binding it computes, from what.
fn describe(program: &Program, index: usize, plan: &KernelPlan) -> String {
    let binding = &program.bindings[index];
    let target = match binding.target {
        Slot::Field(i) => format!("field {}", program.record.fields.get(i).map_or("?", |f| &f.name)),
        Slot::Local(i) => format!("let {}", program.locals.get(i).map_or("?", |l| &l.name)),
    };
    let column = program.source.columns.get(plan.column).map_or("?", String::as_str);
    let handler = match &binding.expr.kind {
        ExprKind::Fallible { on_failure: OnFailure::Reject { rule, .. }, .. } => {
            format!("else reject (rule {})", rule.raw())
        }
        ExprKind::Fallible { on_failure: OnFailure::Fail { rule, .. }, .. } => {
            format!("else fail (rule {})", rule.raw())
        }
        _ => match plan.fallback {
            Some(value) => format!("else {value}"),
            None => "else null".to_owned(),
        },
    };
    format!("binding {index} -> {target}: {} {handler}", plan.parser.describe(column))
}

impl JitProgram {
    /// The indices of the bindings this program computes natively.
    pub fn compiled_bindings(&self) -> impl Iterator<Item = usize> + '_ {
        self.kernels.iter().enumerate().filter_map(|(i, k)| k.as_ref().map(|_| i))
    }

    /// Whether binding `index` is compiled.
    pub fn is_compiled(&self, index: usize) -> bool {
        matches!(self.kernels.get(index), Some(Some(_)))
    }

    /// The source column a compiled binding parses (where a rejected row's text is).
    pub fn input_column(&self, index: usize) -> Option<ColumnIdx> {
        self.kernels.get(index)?.as_ref().map(|(plan, _)| plan.column)
    }

    /// Computes binding `index` over `batch`, or `Ok(None)` when it is not compiled (the
    /// interpreter computes it). See [`JitOutput`] for what is computed.
    pub fn eval_binding(&self, index: usize, batch: &RawBatch) -> Result<Option<JitOutput>, JitError> {
        let well_formed = |row: usize| {
            batch.field_counts.get(row) == Some(&self.columns) && batch.bad_encoding.get(row) == Some(&false)
        };
        self.run_binding(index, batch, well_formed)
    }

    /// Like [`JitProgram::eval_binding`], but `failed` lists the failed rows of every line,
    /// malformed ones included: for a caller that applies its own selection of lines (the
    /// interpreter, which also evaluates aggregate arguments over malformed lines).
    pub(crate) fn eval_binding_on_every_line(
        &self,
        index: usize,
        batch: &RawBatch,
    ) -> Result<Option<JitOutput>, JitError> {
        self.run_binding(index, batch, |_| true)
    }

    fn run_binding(
        &self,
        index: usize,
        batch: &RawBatch,
        keep_failed: impl Fn(usize) -> bool,
    ) -> Result<Option<JitOutput>, JitError> {
        let Some(Some((plan, kernel))) = self.kernels.get(index) else {
            return Ok(None);
        };
        let input = batch.columns.get(plan.column.index()).ok_or(JitError::MissingColumn {
            binding: index,
            column: plan.column,
            columns: batch.columns.len(),
        })?;
        let out = kernel
            .run(plan, input, keep_failed)
            .map_err(|kernel::BadView| JitError::InvalidView { binding: index, column: plan.column })?;
        Ok(Some(JitOutput { values: out.values, failed: out.failed }))
    }

    /// The Cranelift IR of every compiled binding as text (before Cranelift's optimisations), each
    /// function under a comment line naming its binding: for snapshot tests and for reading.
    pub fn clif_text(&self) -> String {
        self.clif.join("\n")
    }
}

impl std::fmt::Debug for JitProgram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JitProgram").field("compiled", &self.compiled_bindings().collect::<Vec<_>>()).finish()
    }
}

impl std::fmt::Debug for Jit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jit").field("isa", &self.isa.triple().to_string()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn programs_are_shared_between_threads() {
        fn shared<T: Send + Sync>() {}
        shared::<JitProgram>();
    }
}
