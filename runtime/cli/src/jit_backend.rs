//! `etr run --engine jit`: the Cranelift JIT of `etr-jit`, handed to the runtime as its native
//! back end.
//!
//! The runtime does not depend on the JIT (it depends on the IR and the interpreter only); this
//! binary links both and joins them here, in the runtime's terms (`etr_runtime::NativeBackend`).

use std::sync::Arc;

use etr_ir::Program;
use etr_jit::{Jit, JitKernels};
use etr_runtime::{CompiledKernels, NativeBackend, NativeKernels};

/// The Cranelift JIT as a native back end.
pub struct JitBackend;

impl NativeBackend for JitBackend {
    fn name(&self) -> &str {
        "jit"
    }

    fn compile(&self, program: &Program) -> Result<Box<dyn CompiledKernels>, String> {
        let compiled = Jit::new().and_then(|mut jit| jit.compile(program)).map_err(|error| error.to_string())?;
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
}
