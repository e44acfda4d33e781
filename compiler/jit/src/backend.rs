//! The JIT as the runtime's native back end ([`etr_interp::NativeBackend`]): what `etr run
//! --engine jit`, the tests and the fuzzers hand to a run.
//!
//! A back end keeps the kernels of the last few programs it compiled: a worker of `etr serve` or
//! `etr ingest` runs the same spec for file after file, and compiling it again each time cost about
//! as much as running a small file (docs/notes/0027). A program is found by equality (the whole IR,
//! not an address or a name), so an edited spec is compiled afresh.

use std::sync::{Arc, Mutex};

use etr_interp::{CompiledKernels, KernelFallbacks, NativeBackend, NativeKernels};
use etr_ir::Program;

use crate::{Jit, JitError, JitKernels, JitProgram};

/// The Cranelift JIT as a native back end.
pub struct JitBackend {
    /// How a program is compiled: by Cranelift, unless a caller gives its own (a test that makes
    /// the compile fail, to see the run fall back).
    compile: fn(&Program) -> Result<JitProgram, JitError>,
    /// The programs compiled last, most recent last, at most [`KEPT_PROGRAMS`].
    kept: Mutex<Vec<(Program, Arc<JitKernels>)>>,
}

/// How many compiled programs a back end keeps: a worker's contributors' specs, roughly.
const KEPT_PROGRAMS: usize = 16;

impl JitBackend {
    /// A back end that compiles with `compile` instead of the default [`Jit`].
    pub fn with_compiler(compile: fn(&Program) -> Result<JitProgram, JitError>) -> JitBackend {
        JitBackend { compile, kept: Mutex::new(Vec::new()) }
    }
}

impl Default for JitBackend {
    fn default() -> Self {
        JitBackend::with_compiler(|program| Jit::new().and_then(|mut jit| jit.compile(program)))
    }
}

impl NativeBackend for JitBackend {
    fn name(&self) -> &str {
        "jit"
    }

    fn compile(&self, program: &Program) -> Result<Box<dyn CompiledKernels>, String> {
        if let Ok(kept) = self.kept.lock()
            && let Some((_, kernels)) = kept.iter().find(|(kept, _)| kept == program)
        {
            return Ok(Box::new(JitCompiledKernels(Arc::new(kernels.for_another_run()))));
        }
        let compiled = (self.compile)(program).map_err(|error| error.to_string())?;
        let kernels = Arc::new(JitKernels::new(compiled, program));
        if let Ok(mut kept) = self.kept.lock() {
            if kept.len() == KEPT_PROGRAMS {
                kept.remove(0);
            }
            kept.push((program.clone(), Arc::clone(&kernels)));
        }
        Ok(Box::new(JitCompiledKernels(Arc::new(kernels.for_another_run()))))
    }
}

/// A program's JIT kernels, shared by the interpreter of every pass.
struct JitCompiledKernels(Arc<JitKernels>);

impl CompiledKernels for JitCompiledKernels {
    fn kernels(&self) -> Arc<dyn NativeKernels> {
        self.0.clone()
    }

    fn native_kernel_count(&self) -> usize {
        self.0.len()
    }

    fn fallbacks(&self) -> KernelFallbacks {
        KernelFallbacks { count: self.0.fallbacks(), reasons: self.0.fallback_reasons() }
    }
}
