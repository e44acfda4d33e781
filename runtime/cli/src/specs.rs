//! Loading specs into the compiler's database: the stdlib modules, then the spec files.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use etr_sema::{Database, Diagnostic, SourceFile};

/// A database with the stdlib loaded.
pub fn database() -> Database {
    let mut db = Database::new();
    db.set_modules(etr_stdlib::MODULES.iter().map(|m| (m.name, m.path, m.text)));
    db
}

/// Reads a spec file into the database.
pub fn load(db: &mut Database, path: &Path) -> Result<SourceFile> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read the spec {}", path.display()))?;
    Ok(db.add_file(&path.display().to_string(), &text))
}

/// The text of a file known to the database (a spec or a stdlib module), for rendering.
pub fn source_text(db: &Database, spec: SourceFile, path: &str) -> Option<String> {
    if spec.path(db) == path {
        return Some(spec.text(db).clone());
    }
    etr_stdlib::MODULES.iter().find(|m| m.path == path).map(|m| m.text.to_string())
}

/// Compiles a spec: its program when it has no error, and its diagnostics.
pub fn compile(db: &Database, spec: SourceFile) -> (Option<Arc<etr_ir::Program>>, Vec<Diagnostic>) {
    let result = etr_sema::check(db, spec);
    (etr_sema::lower(db, spec), result.diagnostics.clone())
}

/// Prints diagnostics to stderr, with colours on a terminal.
pub fn print_diagnostics(db: &Database, spec: SourceFile, diagnostics: &[Diagnostic]) {
    use std::io::IsTerminal;
    let color = std::io::stderr().is_terminal();
    for d in diagnostics {
        let text = etr_sema::render::render(d, &|p| source_text(db, spec, p), color);
        eprint!("{text}");
    }
}
