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
//! ([`NativeFallbacks`]) and the run's notices say so.

use std::collections::BTreeMap;
use std::time::Instant;

use etr_interp::Interpreter;
pub use etr_interp::{CompiledKernels, KernelFallbacks, NativeBackend, NativeKernels};
use etr_ir::Program;

use crate::config::{Engine, RunConfig};
use crate::output::NativeFallbacks;
use crate::passes::milliseconds_since;

/// The engine of one run: the native kernels it asked for, if any, and what the summary and the
/// notices say about them.
pub(crate) struct RunEngine<'a> {
    /// The summary's engine line (`interp 0.1.0`, `jit (9 native kernels) + interp 0.1.0`).
    line: String,
    compiled: Option<(&'a dyn NativeBackend, Box<dyn CompiledKernels>)>,
    fallbacks: NativeFallbacks,
    notices: Vec<String>,
}

/// What a run reports about its engine once its passes are over.
pub(crate) struct EngineReport {
    pub(crate) line: String,
    pub(crate) fallbacks: NativeFallbacks,
    /// For [`RunConfig::notify`](crate::pipeline::RunConfig::notify), one sentence each.
    pub(crate) notices: Vec<String>,
}

impl<'a> RunEngine<'a> {
    /// Gives `interpreter` the native kernels `config` asks for, compiled once for the whole run
    /// (the time goes to `timings` as `jit_compile`).
    pub(crate) fn prepare(
        program: &Program,
        config: &'a RunConfig,
        interpreter: Interpreter,
        timings: &mut BTreeMap<String, f64>,
    ) -> (Interpreter, RunEngine<'a>) {
        let version = env!("CARGO_PKG_VERSION");
        let mut engine = RunEngine {
            line: format!("interp {version}"),
            compiled: None,
            fallbacks: NativeFallbacks::default(),
            notices: Vec::new(),
        };
        if config.engine != Engine::Jit {
            return (interpreter, engine);
        }
        let compile_start = Instant::now();
        let mut interpreter = interpreter;
        match config.native_backend.as_deref() {
            // A spec the back end cannot compile runs on the interpreter: the outputs are the same,
            // and the summary counts the fallback.
            Some(backend) => match backend.compile(program) {
                Ok(compiled) => {
                    engine.line = format!(
                        "{} ({} native kernels) + interp {version}",
                        backend.name(),
                        compiled.native_kernel_count()
                    );
                    interpreter = interpreter.with_native_kernels(compiled.kernels());
                    engine.compiled = Some((backend, compiled));
                }
                Err(reason) => engine.fallbacks.add(
                    backend.name(),
                    1,
                    [format!("could not compile the spec, the interpreter ran all of it: {reason}")],
                ),
            },
            None => {
                let missing = "the jit engine was asked for, but no native back end was given";
                engine.line.push_str(&format!(" ({missing})"));
                engine.notices.push(format!("{missing}: the interpreter ran alone"));
            }
        }
        timings.insert("jit_compile".to_string(), milliseconds_since(compile_start));
        (interpreter, engine)
    }

    /// The engine line, and every fallback of the run: the compile's, and the kernels' on batches.
    pub(crate) fn finish(self) -> EngineReport {
        let RunEngine { line, compiled, mut fallbacks, mut notices } = self;
        if let Some((backend, compiled)) = &compiled {
            let KernelFallbacks { count, reasons } = compiled.fallbacks();
            fallbacks.add(backend.name(), count, reasons);
        }
        if !fallbacks.is_empty() {
            notices.push(format!(
                "native code fell back to the interpreter {} time(s), with the same outputs: {}",
                fallbacks.count,
                fallbacks.reasons.join("; ")
            ));
        }
        EngineReport { line, fallbacks, notices }
    }
}
