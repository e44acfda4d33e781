//! The JIT as the runtime's native back end ([`etr_interp::NativeBackend`]): what `etr run
//! --engine jit`, the tests and the fuzzers hand to a run.

use std::sync::Arc;

use etr_interp::{CompiledKernels, KernelFallbacks, NativeBackend, NativeKernels};
use etr_ir::Program;

use crate::{Jit, JitError, JitKernels, JitProgram};

/// The Cranelift JIT as a native back end.
pub struct JitBackend {
    /// How a program is compiled: by Cranelift, unless a caller gives its own (a test that makes
    /// the compile fail, to see the run fall back).
    compile: fn(&Program) -> Result<JitProgram, JitError>,
}

impl JitBackend {
    /// A back end that compiles with `compile` instead of the default [`Jit`].
    pub fn with_compiler(compile: fn(&Program) -> Result<JitProgram, JitError>) -> JitBackend {
        JitBackend { compile }
    }
}

impl Default for JitBackend {
    fn default() -> Self {
        JitBackend { compile: |program| Jit::new().and_then(|mut jit| jit.compile(program)) }
    }
}

impl NativeBackend for JitBackend {
    fn name(&self) -> &str {
        "jit"
    }

    fn compile(&self, program: &Program) -> Result<Box<dyn CompiledKernels>, String> {
        let compiled = (self.compile)(program).map_err(|error| error.to_string())?;
        Ok(Box::new(JitCompiledKernels(Arc::new(JitKernels::new(compiled, program)))))
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
