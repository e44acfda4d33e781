//! The IDE facade over the etr compiler: what an editor asks about a workspace of specs, answered
//! in editor terms (files, byte offsets, labels) with plain structs and no protocol.
//!
//! Layering: the language server (`etr-lsp`) knows the Language Server Protocol and nothing of the
//! compiler; this crate knows the compiler (`etr-sema`, `etr-syntax`) and nothing of the protocol.
//! Swapping the LSP library, or adding a second front end, touches only the server.
//!
//! Concurrency: an [`AnalysisHost`] owns the salsa database and is the only thing that changes it
//! ([`AnalysisHost::apply_change`]). [`Analysis`] is a cheap snapshot for queries, safe to move to
//! another thread. Applying a change cancels every live snapshot: their queries unwind and return
//! `Err(Cancelled)`, which is caught here and nowhere else, so the server only maps it to "content
//! modified". Every public query returns [`Cancellable`].
//!
//! API boundary: the types of this module and of the feature modules re-exported below.
#![deny(clippy::disallowed_methods)]

mod code_actions;
mod completion;
mod db;
mod diagnostics;
mod formatting;
mod hover;
mod index;
mod inlay_hints;
mod navigation;
mod outline;
mod rename_check;
mod semantic_tokens;
mod text;

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

pub use code_actions::CodeAction;
pub use completion::{CompletionItem, CompletionKind};
pub use diagnostics::{Diagnostic, RelatedInfo, Severity};
pub use formatting::FormatFailure;
pub use hover::HoverResult;
pub use inlay_hints::InlayHint;
pub use navigation::{NavigationTarget, RenameError};
pub use outline::{DocumentSymbol, SymbolKind};
pub use semantic_tokens::{SemanticToken, TokenKind};

use crate::db::IdeDatabase;

/// A file of the workspace, named by the caller (the server maps it to a URI).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub u32);

/// A byte range `start..end` in one file's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct TextRange {
    pub start: u32,
    pub end: u32,
}

impl TextRange {
    pub fn new(start: u32, end: u32) -> TextRange {
        TextRange { start, end }
    }

    /// Whether `offset` is inside the range or just after it: a cursor at the end of a name is on
    /// that name, as editors expect.
    pub fn touches(self, offset: u32) -> bool {
        self.start <= offset && offset <= self.end
    }

    pub fn intersects(self, other: TextRange) -> bool {
        self.start <= other.end && other.start <= self.end
    }

    pub fn len(self) -> u32 {
        self.end - self.start
    }

    pub fn is_empty(self) -> bool {
        self.start == self.end
    }
}

impl From<etr_syntax::ast::Span> for TextRange {
    fn from(span: etr_syntax::ast::Span) -> TextRange {
        TextRange { start: span.start, end: span.end }
    }
}

/// A cursor: a file and a byte offset in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FilePosition {
    pub file: FileId,
    pub offset: u32,
}

/// A range in a given file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileRange {
    pub file: FileId,
    pub range: TextRange,
}

/// A replacement of `range` by `new_text`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextEdit {
    pub range: TextRange,
    pub new_text: String,
}

/// Edits over several files (a rename, a code action), sorted by file then offset.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SourceChange {
    pub edits: Vec<(FileId, Vec<TextEdit>)>,
}

/// The analysis was made stale by a change to the database; the caller should drop the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cancelled;

impl std::fmt::Display for Cancelled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the analysis was cancelled by an edit")
    }
}

/// The result of every query on an [`Analysis`].
pub type Cancellable<T> = Result<T, Cancelled>;

/// How a file takes part in the workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfo {
    /// The path shown in diagnostics and matched against their labels (any unique string).
    pub path: String,
    /// The dotted name other files `use` it by (`etr.record`, `rules.shared`), if importable.
    pub module: Option<String>,
    /// A file the editor must not change (the embedded stdlib): rename refuses to edit it.
    pub read_only: bool,
}

/// One change to one file.
#[derive(Debug, Clone, PartialEq, Eq)]
enum FileChange {
    Added(FileInfo, String),
    Edited(String),
    Removed,
}

/// A batch of file changes, applied as one transaction (one salsa revision per file touched).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Change {
    changes: Vec<(FileId, FileChange)>,
}

impl Change {
    pub fn new() -> Change {
        Change::default()
    }

    /// Adds a file, or replaces the file with this id.
    pub fn add_file(&mut self, file: FileId, info: FileInfo, text: String) {
        self.changes.push((file, FileChange::Added(info, text)));
    }

    /// Sets the whole text of a file already added.
    pub fn edit_file(&mut self, file: FileId, text: String) {
        self.changes.push((file, FileChange::Edited(text)));
    }

    pub fn remove_file(&mut self, file: FileId) {
        self.changes.push((file, FileChange::Removed));
    }

    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
}

/// What the host knows of each file, shared with snapshots.
#[derive(Clone, Default)]
pub(crate) struct FileTable {
    files: HashMap<FileId, FileEntry>,
    by_path: HashMap<String, FileId>,
}

#[derive(Clone)]
pub(crate) struct FileEntry {
    pub(crate) source: etr_sema::SourceFile,
    pub(crate) info: FileInfo,
}

impl FileTable {
    pub(crate) fn get(&self, file: FileId) -> Option<&FileEntry> {
        self.files.get(&file)
    }

    pub(crate) fn by_path(&self, path: &str) -> Option<FileId> {
        self.by_path.get(path).copied()
    }

    /// Every file, in id order so that answers spanning files are deterministic.
    pub(crate) fn all(&self) -> Vec<(FileId, &FileEntry)> {
        let mut all: Vec<_> = self.files.iter().map(|(id, entry)| (*id, entry)).collect();
        all.sort_by_key(|(id, _)| *id);
        all
    }
}

/// Owns the database; the single writer.
pub struct AnalysisHost {
    db: IdeDatabase,
    files: Arc<FileTable>,
}

impl Default for AnalysisHost {
    fn default() -> Self {
        AnalysisHost::new()
    }
}

impl AnalysisHost {
    /// An empty workspace: add the stdlib and the specs with [`Change::add_file`].
    pub fn new() -> AnalysisHost {
        AnalysisHost { db: IdeDatabase::new(), files: Arc::new(FileTable::default()) }
    }

    /// Applies a change. Cancels every live [`Analysis`] and waits until they are dropped, so
    /// call it where blocking is fine (never on the thread that reads the editor's messages).
    pub fn apply_change(&mut self, change: Change) {
        let mut modules_changed = false;
        let files = Arc::make_mut(&mut self.files);
        for (file, change) in change.changes {
            match change {
                FileChange::Added(info, text) => {
                    if let Some(old) = files.files.remove(&file) {
                        files.by_path.remove(&old.info.path);
                    }
                    let source = self.db.new_file(&info.path, text, info.read_only);
                    modules_changed |= info.module.is_some();
                    files.by_path.insert(info.path.clone(), file);
                    files.files.insert(file, FileEntry { source, info });
                }
                FileChange::Edited(text) => {
                    if let Some(entry) = files.files.get(&file)
                        && entry.source.text(&self.db) != &text
                    {
                        self.db.set_text(entry.source, text);
                    }
                }
                FileChange::Removed => {
                    if let Some(old) = files.files.remove(&file) {
                        files.by_path.remove(&old.info.path);
                        modules_changed |= old.info.module.is_some();
                    }
                }
            }
        }
        if modules_changed {
            let mut modules: Vec<(String, etr_sema::SourceFile)> = files
                .files
                .values()
                .filter_map(|entry| entry.info.module.clone().map(|name| (name, entry.source)))
                .collect();
            modules.sort_by(|a, b| a.0.cmp(&b.0));
            self.db.set_modules(modules);
        }
    }

    /// A snapshot for queries, cheap to take and to send to another thread.
    pub fn analysis(&self) -> Analysis {
        Analysis { db: self.db.clone(), files: Arc::clone(&self.files) }
    }
}

/// A read-only view of the workspace at one revision.
pub struct Analysis {
    db: IdeDatabase,
    files: Arc<FileTable>,
}

impl Analysis {
    /// Runs a query, turning salsa's cancellation unwind into `Err(Cancelled)`.
    fn with_db<T>(&self, query: impl FnOnce(&IdeDatabase, &FileTable) -> T) -> Cancellable<T> {
        salsa::Cancelled::catch(AssertUnwindSafe(|| query(&self.db, &self.files))).map_err(|_| Cancelled)
    }

    /// The file's text, if the file exists.
    pub fn file_text(&self, file: FileId) -> Cancellable<Option<Arc<str>>> {
        self.with_db(|db, files| files.get(file).map(|entry| Arc::from(entry.source.text(db).as_str())))
    }

    /// The path the file was added with.
    pub fn file_path(&self, file: FileId) -> Option<String> {
        self.files.get(file).map(|entry| entry.info.path.clone())
    }

    /// The files of the modules this file imports, directly or through other modules (the
    /// server reads a module's text from disk only once a file it analyses imports it).
    pub fn imports(&self, file: FileId) -> Cancellable<Vec<FileId>> {
        self.with_db(|db, files| {
            let Some(entry) = files.get(file) else { return Vec::new() };
            let resolved = etr_sema::resolve(db, entry.source);
            resolved.imports.iter().filter_map(|module| files.by_path(&module.path)).collect()
        })
    }

    /// The compiler's diagnostics located in this file, with codes and related spans.
    pub fn diagnostics(&self, file: FileId) -> Cancellable<Vec<Diagnostic>> {
        self.with_db(|db, files| diagnostics::diagnostics(db, files, file))
    }

    /// What the cursor is on: a name's declaration, type and doc, a function's signature, what a
    /// table maps a code to, or an expression's type.
    pub fn hover(&self, position: FilePosition) -> Cancellable<Option<HoverResult>> {
        self.with_db(|db, files| hover::hover(db, files, position))
    }

    /// What can be written at the cursor.
    pub fn completions(&self, position: FilePosition) -> Cancellable<Vec<CompletionItem>> {
        self.with_db(|db, files| completion::completions(db, files, position))
    }

    /// Where the name under the cursor is declared (possibly in the stdlib or another spec).
    pub fn goto_definition(&self, position: FilePosition) -> Cancellable<Vec<NavigationTarget>> {
        self.with_db(|db, files| navigation::goto_definition(db, files, position))
    }

    /// Every use of the name under the cursor across the workspace.
    pub fn references(&self, position: FilePosition, include_declaration: bool) -> Cancellable<Vec<FileRange>> {
        self.with_db(|db, files| navigation::references(db, files, position, include_declaration))
    }

    /// The range of the name rename would change, or why it cannot be renamed.
    pub fn prepare_rename(&self, position: FilePosition) -> Cancellable<Result<FileRange, RenameError>> {
        self.with_db(|db, files| navigation::prepare_rename(db, files, position))
    }

    /// Renames the symbol under the cursor everywhere it is used.
    pub fn rename(&self, position: FilePosition, new_name: &str) -> Cancellable<Result<SourceChange, RenameError>> {
        self.with_db(|db, files| navigation::rename(db, files, position, new_name))
    }

    /// The outline of a file: its items and what they declare.
    pub fn document_symbols(&self, file: FileId) -> Cancellable<Vec<DocumentSymbol>> {
        self.with_db(|db, files| outline::document_symbols(db, files, file))
    }

    /// Every token of the file worth colouring, in file order, none overlapping.
    pub fn semantic_tokens(&self, file: FileId) -> Cancellable<Vec<SemanticToken>> {
        self.with_db(|db, files| semantic_tokens::semantic_tokens(db, files, file))
    }

    /// Quick fixes available in `range`.
    pub fn code_actions(&self, range: FileRange) -> Cancellable<Vec<CodeAction>> {
        self.with_db(|db, files| code_actions::code_actions(db, files, range))
    }

    /// The file in `etr fmt`'s layout: one whole-text edit, or none when already formatted.
    pub fn format(&self, file: FileId) -> Cancellable<Result<Vec<TextEdit>, FormatFailure>> {
        self.with_db(|db, files| formatting::format(db, files, file))
    }

    /// Inferred types shown inline (after each `let` name and each mapping line).
    pub fn inlay_hints(&self, range: FileRange) -> Cancellable<Vec<InlayHint>> {
        self.with_db(|db, files| inlay_hints::inlay_hints(db, files, range))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imports_are_transitive_and_name_files() {
        let mut host = AnalysisHost::new();
        let mut change = Change::new();
        let file =
            |path: &str, module: &str| FileInfo { path: path.into(), module: Some(module.into()), read_only: false };
        change.add_file(FileId(0), file("main.etr", "main"), "use a\n".into());
        change.add_file(FileId(1), file("a.etr", "a"), "use b\n".into());
        change.add_file(FileId(2), file("b.etr", "b"), "let x = 1\n".into());
        change.add_file(FileId(3), file("c.etr", "c"), "let y = 1\n".into());
        host.apply_change(change);
        let mut imports = host.analysis().imports(FileId(0)).unwrap();
        imports.sort();
        assert_eq!(imports, [FileId(1), FileId(2)]);
    }

    #[test]
    fn an_edit_cancels_a_live_snapshot() {
        let mut host = AnalysisHost::new();
        let mut change = Change::new();
        let info = FileInfo { path: "a.etr".into(), module: None, read_only: false };
        change.add_file(FileId(0), info, "let x = 1\n".into());
        host.apply_change(change);
        let snapshot = host.analysis();
        let handle = std::thread::spawn(move || {
            // Keep querying until the edit below cancels this snapshot (or give up after 10 s).
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            while std::time::Instant::now() < deadline {
                if snapshot.diagnostics(FileId(0)).is_err() {
                    return true;
                }
                std::thread::yield_now();
            }
            false
        });
        std::thread::sleep(std::time::Duration::from_millis(20));
        let mut change = Change::new();
        change.edit_file(FileId(0), "let x = 2\n".into());
        host.apply_change(change);
        assert!(handle.join().expect("the query thread does not panic"));
        assert_eq!(host.analysis().file_text(FileId(0)).unwrap().as_deref(), Some("let x = 2\n"));
    }
}
