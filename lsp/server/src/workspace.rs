//! The server's view of files: which URI is which `FileId`, which documents are open, and the
//! changes not yet applied to the analysis host.
//!
//! The workspace is the folder the editor opened (every `*.etr` below it, importable by its
//! relative path: `rules/shared.etr` is `use rules.shared`) plus the embedded stdlib. A spec of
//! the folder is read from disk only when it is needed: open, imported by what is open, or
//! searched by references and rename (`Shared::analysis`); and only a regular file within the
//! size cap is read. Which files are modules, how a file is read and what is still unread come
//! from `etr-workspace`, shared with `etr check`, so that the editor and the command line
//! resolve `use` alike and read the same modules.
//!
//! The stdlib is materialised read-only under the user's cache folder
//! (`$XDG_CACHE_HOME/etr/stdlib-VERSION/`, else `~/.cache/...`, else a private temporary
//! folder; see `stdlib_cache.rs`), so that go-to-definition opens a real file any editor can
//! show. Its files keep their stdlib paths (`stdlib/etr/record.etr`) inside the analysis, as in
//! the CLI's diagnostics.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use etr_ide::{Change, FileId, FileInfo};
use etr_workspace::{ReadRefusal, Unread};
use tower_lsp_server::ls_types::Uri;

#[derive(Default)]
pub struct Workspace {
    root: Option<PathBuf>,
    by_uri: HashMap<Uri, FileId>,
    uris: HashMap<FileId, Uri>,
    /// Open documents and their protocol version.
    open: HashMap<FileId, i32>,
    generation: u64,
    pending: Change,
    next_id: u32,
    /// Workspace files known by path whose text has not been read yet (their text is empty).
    unread: Unread<FileId>,
    /// The stdlib's files (kept: a private temporary copy lives as long as this value).
    stdlib: Option<crate::stdlib_cache::MaterialisedStdlib>,
}

impl Workspace {
    /// Loads the stdlib and the names of the folder's specs (their texts are read when needed).
    pub fn load(&mut self, root: Option<PathBuf>) {
        self.load_with_cache(root, crate::stdlib_cache::user_cache_root().as_deref());
    }

    /// [`Workspace::load`], with the stdlib materialised under `cache_root`.
    fn load_with_cache(&mut self, root: Option<PathBuf>, cache_root: Option<&Path>) {
        self.stdlib = crate::stdlib_cache::materialise(cache_root);
        for module in etr_stdlib::MODULES {
            let uri = match &self.stdlib {
                Some(stdlib) => Uri::from_file_path(stdlib.dir.join(module.path.trim_start_matches("stdlib/"))),
                None => format!("etr-stdlib:///{}", module.path).parse().ok(),
            };
            let Some(uri) = uri else { continue };
            let info =
                FileInfo { path: module.path.to_string(), module: Some(module.name.to_string()), read_only: true };
            self.add(uri, info, module.text.to_string());
        }
        self.root = root.clone();
        if let Some(root) = &root {
            // Known by path now, read when needed (`Shared::analysis`): an unused `.etr` is
            // never opened, whatever it is.
            for etr_workspace::WorkspaceSpec { module, path } in etr_workspace::workspace_specs(root) {
                let Some(uri) = Uri::from_file_path(&path) else { continue };
                let info = FileInfo { path: path.display().to_string(), module, read_only: false };
                let file = self.add(uri, info, String::new());
                self.unread.insert(file, path);
            }
        }
    }

    /// The files of `files` whose text is still to be read from disk, with their paths.
    pub fn unread_among(&self, files: &[FileId]) -> Vec<(FileId, PathBuf)> {
        self.unread.among(files.iter().copied())
    }

    /// Every workspace file whose text is still to be read from disk.
    pub fn all_unread(&self) -> Vec<(FileId, PathBuf)> {
        self.unread.all()
    }

    /// Gives an unread file the text read from disk, or drops it from the workspace when it
    /// could not be read (a `use` of it then says the module does not exist); the reason is
    /// returned, to be logged. Nothing happens to a file the editor has given a text since.
    pub fn supply(&mut self, file: FileId, read: Result<String, ReadRefusal>) -> Option<String> {
        let path = self.unread.remove(&file)?;
        match read {
            Ok(text) => {
                self.pending.edit_file(file, text);
                None
            }
            Err(refusal) => {
                self.pending.remove_file(file);
                if let Some(uri) = self.uris.remove(&file) {
                    self.by_uri.remove(&uri);
                }
                Some(format!("{} is left out of the workspace: {refusal}", path.display()))
            }
        }
    }

    fn info_for(&self, path: &Path) -> FileInfo {
        let relative = self.root.as_deref().and_then(|root| path.strip_prefix(root).ok());
        let module = relative.and_then(|r| etr_workspace::module_name_for(&r.to_string_lossy()));
        FileInfo { path: path.display().to_string(), module, read_only: false }
    }

    fn add(&mut self, uri: Uri, info: FileInfo, text: String) -> FileId {
        let file = FileId(self.next_id);
        self.next_id += 1;
        self.by_uri.insert(uri.clone(), file);
        self.uris.insert(file, uri);
        self.pending.add_file(file, info, text);
        file
    }

    pub fn file(&self, uri: &Uri) -> Option<FileId> {
        self.by_uri.get(uri).copied()
    }

    pub fn uri(&self, file: FileId) -> Option<Uri> {
        self.uris.get(&file).cloned()
    }

    /// Records an editor's text for a document (opening a file outside the folder adds it).
    pub fn set_text(&mut self, uri: &Uri, text: String, version: Option<i32>) -> FileId {
        let file = match self.file(uri) {
            Some(file) => {
                // The editor's text is the file's text now, read from disk or not.
                self.unread.remove(&file);
                self.pending.edit_file(file, text);
                file
            }
            None => {
                let path = uri.to_file_path().map(|p| p.into_owned());
                let info = match &path {
                    Some(path) => self.info_for(path),
                    None => FileInfo { path: uri.as_str().to_string(), module: None, read_only: false },
                };
                self.add(uri.clone(), info, text)
            }
        };
        if let Some(version) = version {
            self.open.insert(file, version);
        }
        self.generation += 1;
        file
    }

    /// Closes an open document. `None` when it was not open (nothing to do, nothing to read);
    /// else the file to read its saved text from, when it has one.
    pub fn close(&mut self, uri: &Uri) -> Option<Option<PathBuf>> {
        let file = self.file(uri)?;
        self.open.remove(&file)?;
        Some(uri.to_file_path().map(|p| p.into_owned()))
    }

    pub fn version(&self, file: FileId) -> Option<i32> {
        self.open.get(&file).copied()
    }

    /// Open documents, for publishing diagnostics after a change.
    pub fn open_files(&self) -> Vec<FileId> {
        let mut files: Vec<FileId> = self.open.keys().copied().collect();
        files.sort();
        files
    }

    /// Bumped by every edit: an analysis started for an older generation is stale.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The changes to apply to the host before the next analysis.
    pub fn take_pending(&mut self) -> Change {
        std::mem::take(&mut self.pending)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(text: &str) -> Uri {
        text.parse().expect("a valid URI")
    }

    #[test]
    fn closing_a_document_never_opened_reads_nothing() {
        let mut workspace = Workspace::default();
        assert_eq!(workspace.close(&uri("file:///etc/passwd")), None);
        assert_eq!(workspace.close(&uri("file:///dev/zero")), None);
        assert!(workspace.file(&uri("file:///etc/passwd")).is_none());
    }

    #[test]
    fn closing_an_open_document_names_its_file_once() {
        let mut workspace = Workspace::default();
        let spec = uri("file:///work/a.etr");
        workspace.set_text(&spec, "let x = 1\n".into(), Some(1));
        assert_eq!(workspace.close(&spec), Some(Some(PathBuf::from("/work/a.etr"))));
        // Closed already: a second didClose is not a reason to read the file again.
        assert_eq!(workspace.close(&spec), None);
    }

    #[test]
    fn loading_a_folder_reads_no_spec() {
        let root = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join("used.etr"), "let used_text = 1\n").unwrap();
        std::fs::write(root.path().join("unused.etr"), "let unused_text = 1\n").unwrap();
        // Sparse: a gigabyte on paper, no disk used, and never read.
        std::fs::File::create(root.path().join("huge.etr")).unwrap().set_len(1 << 30).unwrap();
        let mut workspace = Workspace::default();
        workspace.load_with_cache(Some(root.path().to_path_buf()), None);
        let unread: Vec<PathBuf> = workspace.all_unread().into_iter().map(|(_, path)| path).collect();
        assert_eq!(unread.len(), 3, "{unread:?}");
        // What goes to the analysis holds the stdlib, and no text of the folder.
        let pending = format!("{:?}", workspace.take_pending());
        assert!(pending.contains("record Record"));
        assert!(!pending.contains("used_text") && !pending.contains("unused_text"));
    }

    #[test]
    fn a_file_that_cannot_be_read_leaves_the_workspace() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("huge.etr");
        std::fs::File::create(&path).unwrap().set_len(1 << 30).unwrap();
        let mut workspace = Workspace::default();
        workspace.load_with_cache(Some(root.path().to_path_buf()), None);
        let (file, unread_path) = workspace.all_unread().pop().unwrap();
        assert_eq!(unread_path, path);
        let message = workspace.supply(file, etr_workspace::read_spec(&path)).expect("refused");
        assert!(message.contains("huge.etr") && message.contains("more than"), "{message}");
        assert!(workspace.all_unread().is_empty());
        assert_eq!(workspace.file(&Uri::from_file_path(&path).unwrap()), None);
    }

    #[test]
    fn a_workspace_file_named_like_a_stdlib_module_is_not_importable() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("etr")).unwrap();
        std::fs::write(root.path().join("etr/record.etr"), "record Record { x: int }\n").unwrap();
        std::fs::write(root.path().join("mine.etr"), "let x = 1\n").unwrap();
        let mut workspace = Workspace::default();
        workspace.load_with_cache(Some(root.path().to_path_buf()), None);
        let pending = format!("{:?}", workspace.take_pending());
        // As in `etr check`: `use etr.record` is the stdlib's, whatever the folder holds.
        assert_eq!(pending.matches("module: Some(\"etr.record\")").count(), 1, "{pending}");
        assert!(pending.contains("module: Some(\"mine\")"), "{pending}");
        let opened = workspace.info_for(&root.path().join("etr/record.etr"));
        assert_eq!(opened.module, None);
    }
}
