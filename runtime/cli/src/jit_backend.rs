//! `etr run --engine jit` end to end in process: the JIT (`etr_jit::JitBackend`) handed to a run as
//! its native back end, and a compile that fails falling back to the interpreter, counted.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use etr_runtime::Summary;
use etr_runtime::pipeline::{self, Engine, RunConfig};

use etr_ir::Program;
use etr_jit::{JitBackend, JitError};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The W1 spec, compiled.
fn jcl() -> Arc<Program> {
    let (mut db, files) = crate::specs::database(&root()).expect("the workspace");
    let spec = crate::specs::load(&mut db, &files, &root().join("contributors/jcl.etr")).expect("the spec");
    crate::specs::compile(&db, spec).0.expect("the spec compiles")
}

/// Runs JCL on its 1,000-line corpus file into `out`: the summary, the accepted file and the
/// run's notices.
fn run(engine: Engine, backend: JitBackend, out: &Path) -> (Summary, Vec<u8>, Vec<String>) {
    let notices = Arc::new(Mutex::new(Vec::new()));
    let config = RunConfig {
        threads: 2,
        as_of: Some(pipeline::parse_as_of("2025-07-01").expect("a date")),
        engine,
        native_backend: Some(Arc::new(backend)),
        notify: Some({
            let notices = Arc::clone(&notices);
            Arc::new(move |notice: &str| notices.lock().expect("not poisoned").push(notice.to_string()))
        }),
        ..RunConfig::default()
    };
    let input = root().join("tests/corpus/w1/jcl_1k/input.psv");
    let summary = pipeline::run(jcl(), &input, out, &config).expect("the run succeeds");
    let accepted = std::fs::read(out.join("accepted.parquet")).expect("the accepted file");
    let notices = notices.lock().expect("not poisoned").clone();
    (summary, accepted, notices)
}

#[test]
fn a_spec_the_jit_cannot_compile_runs_on_the_interpreter_and_the_fallback_is_counted() {
    let dir = tempfile::tempdir().expect("temp dir");
    let failing = JitBackend::with_compiler(|_| Err(JitError::UnsupportedHost("forced by the test".to_owned())));
    let (summary, accepted, notices) = run(Engine::Jit, failing, &dir.path().join("fallback"));
    assert_eq!(summary.native_fallbacks.count, 1);
    assert_eq!(summary.native_fallbacks.reasons.len(), 1);
    let reason = &summary.native_fallbacks.reasons[0];
    assert!(reason.starts_with("jit: could not compile the spec") && reason.contains("forced by the test"), "{reason}");
    assert!(summary.engine.starts_with("interp "), "{}", summary.engine);
    assert!(
        notices.iter().any(|n| n.contains("fell back to the interpreter 1 time") && n.contains("forced")),
        "{notices:?}"
    );
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("fallback/summary.json")).expect("the summary file"))
            .expect("JSON");
    assert_eq!(written["native_fallbacks"]["count"], 1);

    // The same bytes as the interpreter alone.
    let (reference, reference_accepted, _) = run(Engine::Interp, JitBackend::default(), &dir.path().join("interp"));
    assert!(accepted == reference_accepted, "the accepted files differ");
    assert_eq!((summary.accepted, summary.rejected), (reference.accepted, reference.rejected));
    assert!(reference.native_fallbacks.is_empty());
}

#[test]
fn the_jit_compiles_jcl_and_nothing_falls_back() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (summary, _, notices) = run(Engine::Jit, JitBackend::default(), &dir.path().join("jit"));
    assert!(summary.engine.starts_with("jit ("), "{}", summary.engine);
    assert_eq!(summary.native_fallbacks, Default::default());
    assert!(notices.iter().all(|n| !n.contains("fell back")), "{notices:?}");
    let written = std::fs::read_to_string(dir.path().join("jit/summary.json")).expect("the summary file");
    assert!(!written.contains("native_fallbacks"), "the key is absent when nothing fell back");
}
