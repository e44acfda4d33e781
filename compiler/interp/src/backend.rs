//! The seam through which a back end that compiles native kernels (the Cranelift JIT of `etr-jit`)
//! reaches a run, without the runtime knowing who makes them.
//!
//! It lives here, beside [`NativeKernels`], so that the back end can implement it (`etr-jit`
//! depends on this crate, not on the runtime) and every caller that runs a spec (the CLI, the
//! tests, the fuzzers) hands the same back end to the runtime. A back end never changes what a run
//! writes: what it cannot compile or run, the interpreter computes, and the run counts it.

use std::sync::Arc;

use etr_ir::Program;

use crate::NativeKernels;

/// A back end that compiles a program's native kernels: what a binary links to serve
/// the runtime's `--engine jit`.
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
/// [`NativeFallbacks`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KernelFallbacks {
    pub count: u64,
    /// The first distinct messages.
    pub reasons: Vec<String>,
}
