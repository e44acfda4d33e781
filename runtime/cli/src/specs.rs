//! Loading specs into the compiler's database: the stdlib modules and the workspace's specs as
//! importable modules, then the spec files.
//!
//! The workspace is a folder (`--workspace`, by default the current one) whose `*.etr` files a
//! spec can `use` by their relative path, as the editor does with the folder it opened: both
//! take the list from `etr_lsp::workspace_specs`, so `etr check` and the editor agree on what
//! `use rules.shared` means.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use etr_sema::{Database, Diagnostic, SourceFile};

/// The workspace's specs by their canonical path, with the path the database knows them by: a
/// spec given on the command line that is one of them is that module's file.
pub struct WorkspaceFiles {
    by_canonical_path: HashMap<PathBuf, String>,
}

/// A database with the stdlib and the specs of the `workspace` folder as importable modules. A
/// workspace file named like a stdlib module (`etr/record.etr`), or that is the stdlib's own
/// source (`stdlib/etr/record.etr` in this repository), does not shadow it; unreadable files are
/// skipped (a `use` of one says the module does not exist). Fails when `workspace` is not a
/// folder.
pub fn database(workspace: &Path) -> Result<(Database, WorkspaceFiles)> {
    if !workspace.is_dir() {
        anyhow::bail!("the workspace {} is not a folder (--workspace)", workspace.display());
    }
    let mut modules: Vec<(String, String, String)> =
        etr_stdlib::MODULES.iter().map(|m| (m.name.to_string(), m.path.to_string(), m.text.to_string())).collect();
    let mut by_canonical_path = HashMap::new();
    for (name, path) in etr_lsp::workspace_specs(workspace) {
        let Some(name) = name else { continue };
        // Shown as the user would write it: relative to the current folder when the workspace is.
        let shown = path.strip_prefix(".").unwrap_or(&path).display().to_string();
        if modules.iter().any(|(known, known_path, _)| *known == name || *known_path == shown) {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        if let Ok(canonical) = path.canonicalize() {
            by_canonical_path.insert(canonical, shown.clone());
        }
        modules.push((name, shown, text));
    }
    let mut db = Database::new();
    db.set_modules(modules.iter().map(|(name, path, text)| (name.as_str(), path.as_str(), text.as_str())));
    Ok((db, WorkspaceFiles { by_canonical_path }))
}

/// Reads a spec file into the database. A spec of the workspace is its module's file, so that a
/// `use` that comes back to it (through another module) finds the spec itself, as in the editor,
/// not a second copy whose every item would be declared twice.
pub fn load(db: &mut Database, workspace: &WorkspaceFiles, path: &Path) -> Result<SourceFile> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read the spec {}", path.display()))?;
    let module = path
        .canonicalize()
        .ok()
        .and_then(|canonical| workspace.by_canonical_path.get(&canonical))
        .and_then(|shown| db.module_file(shown));
    if let Some(file) = module {
        // Read a moment ago as a module; the text just read is the newer one.
        db.set_file_text(file, &text);
        return Ok(file);
    }
    Ok(db.add_file(&path.display().to_string(), &text))
}

/// The text of a file known to the database (the spec, a stdlib or a workspace module), for rendering.
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
