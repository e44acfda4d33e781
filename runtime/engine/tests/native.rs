//! Native kernels handed to a run by its caller (`RunConfig::native_backend`): where they fall back
//! to the interpreter, the run says so in its summary and its notices, and writes the same files.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use arrow::array::ArrayRef;
use arrow::buffer::BooleanBuffer;
use etr_interp::test_support::*;
use etr_ir::{Binding, Builtin, ColumnIdx, Program, Slot, TypeKind};
use etr_runtime::pipeline::{self, Engine, RunConfig};
use etr_runtime::{CompiledKernels, KernelFallbacks, NativeBackend, NativeKernels, RawBatch, Summary};

/// Two columns, the second parsed as an int (`else null`): one parse the interpreter offers to
/// native kernels.
fn program() -> Arc<Program> {
    let mut p = etr_interp::test_support::program(&["id", "amount"]);
    p.record.fields.push(field_def("amount", TypeKind::Int));
    p.bindings.push(Binding {
        target: Slot::Field(idx(0)),
        expr: fallible(Builtin::ParseInt, column(1), TypeKind::Int, or_default(null_lit(TypeKind::Int))),
    });
    Arc::new(p)
}

/// A back end whose kernels never run: each call is a fallback, as a JIT kernel's on a batch of
/// another shape. Or, with `compiles: false`, one that cannot compile the spec at all.
struct FailingBackend {
    compiles: bool,
}

#[derive(Debug, Default)]
struct FailingKernels {
    calls: AtomicU64,
}

struct FailingCompiled(Arc<FailingKernels>);

impl NativeKernels for FailingKernels {
    fn parse_column(&self, _: &Builtin, _: ColumnIdx, _: &RawBatch) -> Option<(ArrayRef, BooleanBuffer)> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        None
    }
}

impl NativeBackend for FailingBackend {
    fn name(&self) -> &str {
        "failing"
    }

    fn compile(&self, _: &Program) -> Result<Box<dyn CompiledKernels>, String> {
        if !self.compiles {
            return Err("no code for this host".to_owned());
        }
        Ok(Box::new(FailingCompiled(Arc::default())))
    }
}

impl CompiledKernels for FailingCompiled {
    fn kernels(&self) -> Arc<dyn NativeKernels> {
        self.0.clone()
    }

    fn native_kernel_count(&self) -> usize {
        1
    }

    fn fallbacks(&self) -> KernelFallbacks {
        KernelFallbacks { count: self.0.calls.load(Ordering::Relaxed), reasons: vec!["forced by the test".into()] }
    }
}

/// Runs [`program`] over `lines` data lines (a tiny block size: many batches) and returns the
/// summary, the summary file's text, the accepted file and the notices.
fn run(
    dir: &Path,
    name: &str,
    engine: Engine,
    backend: Option<FailingBackend>,
) -> (Summary, String, Vec<u8>, Vec<String>) {
    let input = dir.join("input.psv");
    let text: String =
        (0..200).map(|i| format!("{i}|{}\n", if i % 7 == 0 { "x".to_owned() } else { i.to_string() })).collect();
    std::fs::write(&input, text).expect("the input");
    let notices = Arc::new(Mutex::new(Vec::new()));
    let mut config = RunConfig {
        threads: 2,
        as_of: Some(0),
        engine,
        native_backend: backend.map(|b| Arc::new(b) as Arc<dyn NativeBackend>),
        notify: Some({
            let notices = Arc::clone(&notices);
            Arc::new(move |notice: &str| notices.lock().expect("not poisoned").push(notice.to_owned()))
        }),
        ..RunConfig::default()
    };
    config.reader.block_size = 256;
    let out = dir.join(name);
    let summary = pipeline::run(program(), &input, &out, &config).expect("the run succeeds");
    let written = std::fs::read_to_string(out.join("summary.json")).expect("the summary");
    let accepted = std::fs::read(out.join("accepted.parquet")).expect("the accepted file");
    let notices = notices.lock().expect("not poisoned").clone();
    (summary, written, accepted, notices)
}

#[test]
fn kernels_that_fail_on_batches_are_counted_in_the_summary_and_told() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (summary, written, accepted, notices) =
        run(dir.path(), "failing", Engine::Jit, Some(FailingBackend { compiles: true }));
    assert!(summary.engine.starts_with("failing (1 native kernels) + interp"), "{}", summary.engine);
    // About 1.2 KB of lines in blocks of 256 bytes: several batches, one call (and fallback) each.
    assert!(summary.native_fallbacks.count >= 4, "{:?}", summary.native_fallbacks);
    assert_eq!(summary.native_fallbacks.reasons, ["failing: forced by the test"]);
    let json: serde_json::Value = serde_json::from_str(&written).expect("JSON");
    assert_eq!(json["native_fallbacks"]["count"], summary.native_fallbacks.count);
    let told = format!("fell back to the interpreter {} time(s)", summary.native_fallbacks.count);
    assert!(notices.iter().any(|n| n.contains(&told)), "{notices:?}");

    let (reference, reference_written, reference_accepted, reference_notices) =
        run(dir.path(), "interp", Engine::Interp, None);
    assert!(accepted == reference_accepted, "the accepted files differ");
    assert_eq!(summary.accepted, reference.accepted);
    assert!(reference.native_fallbacks.is_empty());
    assert!(!reference_written.contains("native_fallbacks"), "absent when nothing fell back");
    assert!(reference_notices.is_empty(), "{reference_notices:?}");
}

#[test]
fn a_spec_the_back_end_cannot_compile_is_one_fallback() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (summary, _, _, notices) = run(dir.path(), "out", Engine::Jit, Some(FailingBackend { compiles: false }));
    assert!(summary.engine.starts_with("interp "), "{}", summary.engine);
    assert_eq!(summary.native_fallbacks.count, 1);
    assert_eq!(
        summary.native_fallbacks.reasons,
        ["failing: could not compile the spec, the interpreter ran all of it: no code for this host"]
    );
    assert!(notices.iter().any(|n| n.contains("1 time(s)") && n.contains("no code for this host")), "{notices:?}");
}

#[test]
fn the_jit_engine_without_a_back_end_runs_the_interpreter_and_says_so() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (summary, _, _, notices) = run(dir.path(), "out", Engine::Jit, None);
    assert!(summary.engine.contains("no native back end was given"), "{}", summary.engine);
    assert!(summary.native_fallbacks.is_empty());
    assert!(notices.iter().any(|n| n.contains("no native back end was given")), "{notices:?}");
}
