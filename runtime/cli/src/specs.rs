//! Loading specs into the compiler's database: the stdlib modules and the workspace's specs as
//! importable modules, then the spec files.
//!
//! The workspace is a folder (`--workspace`, by default the current one) whose `*.etr` files a
//! spec can `use` by their relative path, as the editor does with the folder it opened. The list
//! of its modules, the way a module is read (a regular file of at most
//! `etr_workspace::MAX_SPEC_BYTES`) and the loader that reads a module only once a spec uses it
//! are the editor's too (`etr-workspace`), so `etr check` and the editor agree on what
//! `use rules.shared` means and read the same files.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use etr_sema::{Database, Diagnostic, SourceFile};
use etr_workspace::{ReadRefusal, Unread};

/// The workspace's specs by their canonical path, with the path the database knows them by: a
/// spec given on the command line that is one of them is that module's file. Also the modules
/// whose text has not been read yet.
pub struct WorkspaceFiles {
    by_canonical_path: HashMap<PathBuf, String>,
    /// The modules not read yet, by shown path (their text is empty until then); in a cell,
    /// because loading a spec reads some (callers hold the workspace shared).
    unread: RefCell<Unread<String>>,
}

/// A database with the stdlib and the specs of the `workspace` folder as importable modules. A
/// workspace file named like a stdlib module (`etr/record.etr`, see
/// `etr_workspace::module_name_for`), or that is the stdlib's own source
/// (`stdlib/etr/record.etr` in this repository, when it is shown by that path), does not shadow
/// it. No workspace file is read here: a module's text is read when a spec loaded by [`load`]
/// uses it (an unused file may be huge, a FIFO, or unreadable, and never matters). Fails when
/// `workspace` is not a folder.
pub fn database(workspace: &Path) -> Result<(Database, WorkspaceFiles)> {
    if !workspace.is_dir() {
        anyhow::bail!("the workspace {} is not a folder (--workspace)", workspace.display());
    }
    let mut modules: Vec<(String, String, String)> =
        etr_stdlib::MODULES.iter().map(|m| (m.name.to_string(), m.path.to_string(), m.text.to_string())).collect();
    let mut by_canonical_path = HashMap::new();
    let mut unread = Unread::default();
    for spec in etr_workspace::workspace_specs(workspace) {
        let Some(name) = spec.module else { continue };
        // Shown as the user would write it: relative to the current folder when the workspace is.
        let shown = spec.path.strip_prefix(".").unwrap_or(&spec.path).display().to_string();
        // The database knows a module by its path: a second file shown as a stdlib path would
        // make diagnostics in the stdlib point at it.
        if etr_stdlib::MODULES.iter().any(|m| m.path == shown) {
            continue;
        }
        if let Ok(canonical) = spec.path.canonicalize() {
            by_canonical_path.insert(canonical, shown.clone());
        }
        unread.insert(shown.clone(), spec.path);
        // Importable by name from the start (so that an unknown `use` lists every module), with
        // its text read only once a spec uses it.
        modules.push((name, shown, String::new()));
    }
    let mut db = Database::new();
    db.set_modules(modules.iter().map(|(name, path, text)| (name.as_str(), path.as_str(), text.as_str())));
    Ok((db, WorkspaceFiles { by_canonical_path, unread: RefCell::new(unread) }))
}

/// Reads a spec file into the database, with the workspace modules it uses (transitively). A
/// spec of the workspace is its module's file, so that a `use` that comes back to it (through
/// another module) finds the spec itself, as in the editor, not a second copy whose every item
/// would be declared twice. Fails with the reason when the spec or a module it uses cannot be
/// read (not a regular file, over the size cap, not UTF-8).
pub fn load(db: &mut Database, workspace: &WorkspaceFiles, path: &Path) -> Result<SourceFile> {
    // The spec named on the command line is read as asked, even from a pipe (`<(...)`).
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read the spec {}", path.display()))?;
    load_with(db, workspace, path, text, &etr_workspace::read_spec)
}

/// [`load`] of a spec whose text is `text`, reading modules with `read_module` (the tests count
/// what is read).
fn load_with(
    db: &mut Database,
    workspace: &WorkspaceFiles,
    path: &Path,
    text: String,
    read_module: &dyn Fn(&Path) -> Result<String, ReadRefusal>,
) -> Result<SourceFile> {
    let module = path
        .canonicalize()
        .ok()
        .and_then(|canonical| workspace.by_canonical_path.get(&canonical))
        .and_then(|shown| db.module_file(shown).map(|file| (shown.clone(), file)));
    let spec = match module {
        Some((shown, file)) => {
            // The text just read is the newest, whether or not the module was read before.
            db.set_file_text(file, &text);
            workspace.unread.borrow_mut().remove(&shown);
            file
        }
        None => db.add_file(&path.display().to_string(), &text),
    };
    let mut loading = Loading { db, workspace, spec, spec_path: path };
    etr_workspace::read_needed_modules(&mut loading, read_module)?;
    Ok(spec)
}

/// The command line's side of the module loader shared with the editor: what a spec needs is
/// what it imports, resolved again after each round of reads, and a module that cannot be read
/// stops the command with the reason.
struct Loading<'a> {
    db: &'a mut Database,
    workspace: &'a WorkspaceFiles,
    spec: SourceFile,
    spec_path: &'a Path,
}

impl etr_workspace::ModuleHost for Loading<'_> {
    type File = String;
    type Error = anyhow::Error;

    fn unread_needed(&mut self) -> Vec<(String, PathBuf)> {
        let imports = etr_sema::resolve(self.db, self.spec).imports.iter().map(|m| m.path.clone()).collect::<Vec<_>>();
        self.workspace.unread.borrow().among(imports)
    }

    fn supply(&mut self, shown: String, path: &Path, read: Result<String, ReadRefusal>) -> Result<()> {
        self.workspace.unread.borrow_mut().remove(&shown);
        let text = read.with_context(|| {
            format!("cannot read the module {}, which {} uses", path.display(), self.spec_path.display())
        })?;
        if let Some(file) = self.db.module_file(&shown) {
            self.db.set_file_text(file, &text);
        }
        Ok(())
    }
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

/// The spec's identity, the hash a run's summary records: its text, the stdlib's, and the text of
/// every workspace module it uses.
pub fn spec_hash(db: &Database, spec: SourceFile) -> String {
    let imported: Vec<String> = etr_sema::resolve(db, spec)
        .imports
        .iter()
        .filter(|m| !etr_stdlib::MODULES.iter().any(|s| s.path == m.path))
        .filter_map(|m| db.module_text(&m.path))
        .collect();
    let mut texts: Vec<&str> = vec![spec.text(db).as_str()];
    texts.extend(etr_stdlib::MODULES.iter().map(|m| m.text));
    texts.extend(imported.iter().map(String::as_str));
    etr_runtime::pipeline::spec_hash(texts)
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

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;

    /// A workspace: `main.etr` uses `rules/shared.etr`, which uses `rules/base.etr`; `unused.etr`
    /// and `other/unused2.etr` are used by nobody.
    fn workspace() -> tempfile::TempDir {
        let root = tempfile::tempdir().expect("temp dir");
        let write = |path: &str, text: &str| {
            let path = root.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        write("main.etr", "use rules.shared\nlet x = base_value\n");
        write("rules/shared.etr", "use rules.base\nlet shared_value = 1\n");
        write("rules/base.etr", "let base_value = 2\n");
        write("unused.etr", "let never = 1\n");
        write("other/unused2.etr", "use rules.shared\n");
        root
    }

    #[test]
    fn only_the_spec_and_the_modules_it_uses_are_read() {
        let root = workspace();
        let (mut db, files) = database(root.path()).unwrap();
        let read_paths = RefCell::new(Vec::new());
        let read = |path: &Path| {
            read_paths.borrow_mut().push(path.strip_prefix(root.path()).unwrap().display().to_string());
            etr_workspace::read_spec(path)
        };
        let main = root.path().join("main.etr");
        let text = std::fs::read_to_string(&main).unwrap();
        let spec = load_with(&mut db, &files, &main, text, &read).unwrap();
        let mut read_paths = read_paths.into_inner();
        read_paths.sort();
        assert_eq!(read_paths, ["rules/base.etr", "rules/shared.etr"]);
        let (program, diagnostics) = compile(&db, spec);
        assert!(diagnostics.iter().all(|d| !d.is_error()), "{diagnostics:?}");
        let _ = program;
    }

    #[test]
    fn a_used_module_that_cannot_be_read_is_a_clear_error() {
        let root = workspace();
        // Sparse: a gigabyte on paper, no disk used.
        std::fs::File::create(root.path().join("rules/base.etr")).unwrap().set_len(1 << 30).unwrap();
        let (mut db, files) = database(root.path()).unwrap();
        let Err(error) = load(&mut db, &files, &root.path().join("main.etr")) else { panic!("the spec loaded") };
        let message = format!("{error:#}");
        assert!(message.contains("base.etr") && message.contains("more than"), "{message}");
    }

    #[test]
    fn an_unknown_module_still_lists_every_workspace_module() {
        let root = workspace();
        std::fs::write(root.path().join("main.etr"), "use rules.sharde\n").unwrap();
        let (mut db, files) = database(root.path()).unwrap();
        let spec = load(&mut db, &files, &root.path().join("main.etr")).unwrap();
        let (_, diagnostics) = compile(&db, spec);
        let help = diagnostics.iter().find_map(|d| d.help.clone()).unwrap_or_default();
        assert!(help.contains("rules.shared"), "{diagnostics:?}");
    }

    #[cfg(unix)]
    #[test]
    fn unused_fifos_and_huge_files_in_the_workspace_do_not_stop_a_check() {
        let root = workspace();
        // Opened for reading, a FIFO blocks until a writer comes (never, here).
        let status = std::process::Command::new("mkfifo").arg(root.path().join("pipe.etr")).status().unwrap();
        assert!(status.success());
        std::fs::File::create(root.path().join("huge.etr")).unwrap().set_len(1 << 30).unwrap();
        let main = root.path().join("main.etr");
        let workspace_root = root.path().to_path_buf();
        let checking = std::thread::spawn(move || {
            let (mut db, files) = database(&workspace_root).unwrap();
            let spec = load(&mut db, &files, &main).unwrap();
            compile(&db, spec).1.iter().filter(|d| d.is_error()).count()
        });
        // Only a failure detector: a check that opened the FIFO would never finish.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while !checking.is_finished() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert!(checking.is_finished(), "the check opened a file it does not use");
        assert_eq!(checking.join().unwrap(), 0);
    }
}
