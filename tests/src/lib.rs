//! Shared support for etr's integration tests: compiling specs with the stdlib, running them, and
//! rendering outputs as reviewable text.
//!
//! The corpus harness (`tests/corpus.rs`) and the other integration tests use these helpers so that
//! every test goes through the same public entry points as the `etr` binary. The back ends' and
//! the runtime's tests and benches take JCL's compiled program from here (`jcl_program`), as a
//! dev-dependency: that is how they reach the front end without depending on it.

pub mod conformance;
pub mod corpus;
pub mod generate;
pub mod jcl;
pub mod render;

use std::sync::Arc;

use etr_sema::{Database, Diagnostic, SourceFile};

pub use jcl::jcl_program;

/// The run configuration's native back end for `engine`: the Cranelift JIT for
/// [`Engine::Jit`](etr_runtime::pipeline::Engine::Jit), as `etr run --engine jit` gives it, and
/// none for the interpreter. Without it a run asked for the JIT is the interpreter alone, and a
/// comparison of the two engines would compare the interpreter with itself.
pub fn native_backend(engine: etr_runtime::pipeline::Engine) -> Option<Arc<dyn etr_runtime::NativeBackend>> {
    (engine == etr_runtime::pipeline::Engine::Jit)
        .then(|| Arc::new(etr_jit::JitBackend::default()) as Arc<dyn etr_runtime::NativeBackend>)
}

/// The workspace root (the parent of this crate's folder).
pub fn workspace_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ has a parent").to_path_buf()
}

/// A database with the stdlib loaded.
pub fn database() -> Database {
    let mut db = Database::new();
    db.set_modules(etr_stdlib::MODULES.iter().map(|m| (m.name, m.path, m.text)));
    db
}

/// Compiles a spec text: the program when it has no error, and every diagnostic.
pub fn compile(path: &str, text: &str) -> (Option<Arc<etr_ir::Program>>, Vec<Diagnostic>, Database, SourceFile) {
    let mut db = database();
    let file = db.add_file(path, text);
    let diagnostics = etr_sema::check(&db, file).diagnostics.clone();
    let program = etr_sema::lower(&db, file);
    (program, diagnostics, db, file)
}

/// Diagnostics rendered as plain text (no colours), as `etr check` prints them.
pub fn render_diagnostics(db: &Database, file: SourceFile, diagnostics: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diagnostics {
        let text = etr_sema::render::render(
            d,
            &|p| {
                if file.path(db) == p {
                    Some(file.text(db).clone())
                } else {
                    etr_stdlib::MODULES.iter().find(|m| m.path == p).map(|m| m.text.to_string())
                }
            },
            false,
        );
        out.push_str(&text);
    }
    out
}
