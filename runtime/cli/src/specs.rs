//! Loading specs into the compiler's database: the stdlib modules and the workspace's specs as
//! importable modules, then the spec files.
//!
//! The workspace is a folder (`--workspace`, by default the current one) whose `*.etr` files a
//! spec can `use` by their relative path, as the editor does with the folder it opened: both
//! take the list from `etr_lsp::workspace_specs`, so `etr check` and the editor agree on what
//! `use rules.shared` means.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use etr_sema::{Database, Diagnostic, SourceFile};

/// A database with the stdlib and the specs of the `workspace` folder as importable modules. A
/// workspace file named like a stdlib module (`etr/record.etr`) does not shadow it; unreadable
/// files are skipped (a `use` of one says the module does not exist).
pub fn database(workspace: &Path) -> Database {
    let mut modules: Vec<(String, String, String)> =
        etr_stdlib::MODULES.iter().map(|m| (m.name.to_string(), m.path.to_string(), m.text.to_string())).collect();
    for (name, path) in etr_lsp::workspace_specs(workspace) {
        let Some(name) = name else { continue };
        if modules.iter().any(|(known, ..)| *known == name) {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        // Shown as the user would write it: relative to the current folder when the workspace is.
        let shown = path.strip_prefix(".").unwrap_or(&path).display().to_string();
        modules.push((name, shown, text));
    }
    let mut db = Database::new();
    db.set_modules(modules.iter().map(|(name, path, text)| (name.as_str(), path.as_str(), text.as_str())));
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
    db.module_text(path)
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
