//! The seam through which native kernels reach a run, without the runtime knowing who makes them.
//!
//! The runtime depends on the IR and the interpreter only. A back end that compiles kernels (the
//! Cranelift JIT of `etr-jit`) is linked by the binary that offers it (`etr run --engine jit`),
//! which hands it to the run as a [`NativeBackend`] in
//! [`RunConfig::native_backend`](crate::pipeline::RunConfig::native_backend). The run compiles
//! the spec once, before its first pass, and gives the kernels to the interpreter, which calls them
//! in place of its own where they exist (`etr_interp::NativeKernels`, one call per column and
//! batch, never per row).
//!
//! A back end never changes what a run writes, and never fails it: when it cannot compile the
//! spec, the interpreter computes everything, and when a kernel fails on a batch, the
//! interpreter's own kernel computes that batch. Neither is silent: the summary counts them
//! ([`NativeFallbacks`](crate::output::NativeFallbacks)) and the run's notices say so.

use std::sync::Arc;

pub use etr_interp::NativeKernels;
use etr_ir::Program;

/// A back end that compiles a program's native kernels: what a binary links to serve
/// [`Engine::Jit`](crate::pipeline::Engine::Jit).
pub trait NativeBackend: Send + Sync {
    /// The back end's name, as the summary's engine line shows it (`jit`).
    fn name(&self) -> &str;

    /// Compiles the kernels of `program`, or says why it could not; then the run goes on with the
    /// interpreter alone.
    fn compile(&self, program: &Program) -> Result<Box<dyn CompiledKernels>, String>;
}

/// The kernels a [`NativeBackend`] compiled for one program, for the length of one run.
pub trait CompiledKernels: Send + Sync {
    /// What the interpreter calls in place of its own kernels.
    fn kernels(&self) -> Arc<dyn NativeKernels>;

    /// How many parses and lookups run natively (the summary's engine line shows it).
    fn native_kernel_count(&self) -> usize;

    /// The kernel runs that failed on a batch so far, each leaving it to the interpreter: read
    /// once the last pass is over.
    fn fallbacks(&self) -> KernelFallbacks;
}

/// What [`CompiledKernels::fallbacks`] reports; the run adds it to the summary's
/// [`NativeFallbacks`](crate::output::NativeFallbacks).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KernelFallbacks {
    pub count: u64,
    /// The first distinct messages.
    pub reasons: Vec<String>,
}
