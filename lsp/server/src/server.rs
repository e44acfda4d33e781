//! The language server: protocol messages in, `etr-ide` queries on a blocking pool, answers out.
//!
//! The handlers of the requests are in `requests/`, one module each; this module holds the
//! lifecycle, document synchronisation and the helpers they share.
//!
//! Threading: tower-lsp-server reads messages on an async task (the message loop). Handlers there
//! only record text and spawn work; every analysis runs in `spawn_blocking`, on its own snapshot.
//! Applying an edit to the salsa database cancels the snapshots in flight (their queries return
//! `Cancelled`, answered as "content modified") and waits for them, which is why it too happens on
//! the blocking pool, never on the message loop.
//!
//! Locks: `host` is only locked on the blocking pool; `workspace` is locked briefly anywhere and
//! never held while waiting for `host`. The order is always `host`, then `workspace`.
//!
//! Diagnostics: every edit bumps a generation; a diagnostics job that finds a newer generation
//! when it starts does nothing (the newer edit's job will publish), which coalesces a burst of
//! keystrokes into one analysis without a fixed debounce delay.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use etr_ide::{Analysis, AnalysisHost, Cancellable, FileId, FilePosition, FileRange};
use tower_lsp_server::jsonrpc::{Error, ErrorCode, Result};
use tower_lsp_server::ls_types as lsp;
use tower_lsp_server::{Client, LanguageServer};

use crate::line_index::LineIndex;
use crate::requests;
use crate::to_proto;
use crate::workspace::Workspace;

/// State shared by the message loop and the blocking jobs.
pub(crate) struct Shared {
    host: Mutex<AnalysisHost>,
    workspace: Mutex<Workspace>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A job that panicked left the data consistent (edits are applied whole): keep serving.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Which workspace files a query needs read from disk before it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reading {
    /// The open documents and the modules they import (what analysing them reads).
    OpenAndImported,
    /// Every spec of the folder: a search for the uses of a symbol (references, rename).
    WholeWorkspace,
}

impl Shared {
    /// A snapshot with every recorded edit applied, and the workspace files `reading` asks for
    /// read from disk. Blocks: call on the blocking pool only.
    ///
    /// A workspace file is known by its path from the start but read only when needed (an
    /// unused `.etr` may be a gigabyte, or a FIFO), by the module loader `etr check` uses too
    /// (`etr_workspace::read_needed_modules`); reading a module can reveal more modules it uses,
    /// hence its rounds, each of which applies what the last one read and takes a new snapshot.
    fn analysis(&self, reading: Reading) -> Analysis {
        let mut host = lock(&self.host);
        let mut loading = Loading { shared: self, host: &mut host, reading, analysis: None };
        let Ok(()) = etr_workspace::read_needed_modules(&mut loading, &etr_workspace::read_spec);
        // Without a snapshot when the loader stopped on a round whose files it had read already.
        loading.analysis.take().unwrap_or_else(|| loading.snapshot())
    }

    pub(crate) fn uri(&self, file: FileId) -> Option<lsp::Uri> {
        lock(&self.workspace).uri(file)
    }

    pub(crate) fn file(&self, uri: &lsp::Uri) -> Option<FileId> {
        lock(&self.workspace).file(uri)
    }

    /// A location in any file of the analysis.
    pub(crate) fn location(&self, analysis: &Analysis, range: FileRange) -> Cancellable<Option<lsp::Location>> {
        let Some(text) = analysis.file_text(range.file)? else { return Ok(None) };
        let Some(uri) = self.uri(range.file) else { return Ok(None) };
        Ok(Some(lsp::Location { uri, range: LineIndex::new(&text).range(range.range) }))
    }
}

/// The server's side of the module loader: one round applies the recorded edits (texts read in
/// the round before included), takes a snapshot, and lists the unread files `reading` asks for.
struct Loading<'a> {
    shared: &'a Shared,
    /// Locked by the caller for the whole loading: the order is `host`, then `workspace`.
    host: &'a mut AnalysisHost,
    reading: Reading,
    /// The last round's snapshot, kept only when it needs nothing read: the next round's
    /// `apply_change` waits until every snapshot is dropped.
    analysis: Option<Analysis>,
}

impl Loading<'_> {
    /// A snapshot with every recorded edit applied.
    fn snapshot(&mut self) -> Analysis {
        self.analysis = None;
        let change = lock(&self.shared.workspace).take_pending();
        if !change.is_empty() {
            self.host.apply_change(change);
        }
        self.host.analysis()
    }
}

impl etr_workspace::ModuleHost for Loading<'_> {
    type File = FileId;
    type Error = std::convert::Infallible;

    fn unread_needed(&mut self) -> Vec<(FileId, PathBuf)> {
        let analysis = self.snapshot();
        let to_read = match self.reading {
            Reading::WholeWorkspace => lock(&self.shared.workspace).all_unread(),
            Reading::OpenAndImported => {
                let open = lock(&self.shared.workspace).open_files();
                let mut needed = open.clone();
                for file in open {
                    // The host is locked: no edit can cancel this snapshot.
                    needed.extend(analysis.imports(file).unwrap_or_default());
                }
                lock(&self.shared.workspace).unread_among(&needed)
            }
        };
        if to_read.is_empty() {
            self.analysis = Some(analysis);
        }
        to_read
    }

    fn supply(
        &mut self,
        file: FileId,
        _path: &Path,
        read: std::result::Result<String, etr_workspace::ReadRefusal>,
    ) -> std::result::Result<(), Self::Error> {
        if let Some(refusal) = lock(&self.shared.workspace).supply(file, read) {
            // The editor shows a server's stderr in its log.
            eprintln!("etr lsp: {refusal}");
        }
        Ok(())
    }
}

pub struct Server {
    client: Client,
    shared: Arc<Shared>,
}

impl Server {
    pub fn new(client: Client) -> Server {
        let shared = Shared { host: Mutex::new(AnalysisHost::new()), workspace: Mutex::new(Workspace::default()) };
        Server { client, shared: Arc::new(shared) }
    }

    /// Runs a query on a fresh snapshot on the blocking pool. A query made stale by an edit is
    /// answered "content modified", a bug (a panic) "internal error"; the server goes on.
    pub(crate) async fn query_reading<T: Send + 'static>(
        &self,
        reading: Reading,
        run: impl FnOnce(&Analysis, &Shared) -> Cancellable<T> + Send + 'static,
    ) -> Result<T> {
        let shared = Arc::clone(&self.shared);
        let joined = tokio::task::spawn_blocking(move || {
            let analysis = shared.analysis(reading);
            run(&analysis, &shared)
        })
        .await;
        match joined {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(_cancelled)) => Err(Error::new(ErrorCode::ContentModified)),
            Err(_panicked) => Err(Error::internal_error()),
        }
    }

    /// A document query: resolves the document and indexes its lines, then runs `run`; `None`
    /// when the document is unknown.
    pub(crate) async fn in_document<T: Send + 'static>(
        &self,
        uri: lsp::Uri,
        run: impl FnOnce(&Analysis, &Shared, FileId, &LineIndex<'_>) -> Cancellable<Option<T>> + Send + 'static,
    ) -> Result<Option<T>> {
        self.in_document_reading(Reading::OpenAndImported, uri, run).await
    }

    /// [`Server::in_document`], with the workspace files `reading` asks for read first.
    pub(crate) async fn in_document_reading<T: Send + 'static>(
        &self,
        reading: Reading,
        uri: lsp::Uri,
        run: impl FnOnce(&Analysis, &Shared, FileId, &LineIndex<'_>) -> Cancellable<Option<T>> + Send + 'static,
    ) -> Result<Option<T>> {
        self.query_reading(reading, move |analysis, shared| {
            let Some(file) = shared.file(&uri) else { return Ok(None) };
            let Some(text) = analysis.file_text(file)? else { return Ok(None) };
            run(analysis, shared, file, &LineIndex::new(&text))
        })
        .await
    }

    /// A position-based query: resolves the document and the offset, then runs `run`.
    pub(crate) async fn at_position<T: Send + 'static>(
        &self,
        position: lsp::TextDocumentPositionParams,
        run: impl FnOnce(&Analysis, &Shared, FilePosition, &LineIndex<'_>) -> Cancellable<Option<T>> + Send + 'static,
    ) -> Result<Option<T>> {
        self.at_position_reading(Reading::OpenAndImported, position, run).await
    }

    /// [`Server::at_position`], with the workspace files `reading` asks for read first.
    pub(crate) async fn at_position_reading<T: Send + 'static>(
        &self,
        reading: Reading,
        position: lsp::TextDocumentPositionParams,
        run: impl FnOnce(&Analysis, &Shared, FilePosition, &LineIndex<'_>) -> Cancellable<Option<T>> + Send + 'static,
    ) -> Result<Option<T>> {
        self.in_document_reading(reading, position.text_document.uri, move |analysis, shared, file, index| {
            let offset = index.offset(position.position);
            run(analysis, shared, FilePosition { file, offset }, index)
        })
        .await
    }

    /// Publishes the diagnostics of every open document, unless a newer edit supersedes them.
    fn schedule_diagnostics(&self) {
        let shared = Arc::clone(&self.shared);
        let client = self.client.clone();
        let generation = lock(&shared.workspace).generation();
        tokio::spawn(async move {
            let job = tokio::task::spawn_blocking(move || {
                if lock(&shared.workspace).generation() != generation {
                    return None;
                }
                let analysis = shared.analysis(Reading::OpenAndImported);
                let open = lock(&shared.workspace).open_files();
                let mut batches = Vec::new();
                for file in open {
                    let diagnostics = analysis.diagnostics(file).ok()?;
                    let text = analysis.file_text(file).ok()??;
                    let index = LineIndex::new(&text);
                    let locate = |range: FileRange| shared.location(&analysis, range).ok().flatten();
                    let converted: Vec<lsp::Diagnostic> =
                        diagnostics.iter().map(|d| to_proto::diagnostic(&index, d, &locate)).collect();
                    let (uri, version) = {
                        let workspace = lock(&shared.workspace);
                        (workspace.uri(file)?, workspace.version(file))
                    };
                    batches.push((uri, converted, version));
                }
                Some(batches)
            });
            if let Ok(Some(batches)) = job.await {
                for (uri, diagnostics, version) in batches {
                    client.publish_diagnostics(uri, diagnostics, version).await;
                }
            }
        });
    }
}

fn root_of(params: &lsp::InitializeParams) -> Option<PathBuf> {
    let from_folders = params.workspace_folders.as_ref().and_then(|folders| folders.first()).map(|f| f.uri.clone());
    #[allow(deprecated, reason = "root_uri is what older clients send instead of workspace folders")]
    let uri = from_folders.or_else(|| params.root_uri.clone())?;
    uri.to_file_path().map(|p| p.into_owned())
}

impl LanguageServer for Server {
    async fn initialize(&self, params: lsp::InitializeParams) -> Result<lsp::InitializeResult> {
        let root = root_of(&params);
        let shared = Arc::clone(&self.shared);
        // Reading the folder is IO: keep it off the message loop too.
        let _ = tokio::task::spawn_blocking(move || lock(&shared.workspace).load(root)).await;
        let capabilities = lsp::ServerCapabilities {
            position_encoding: Some(lsp::PositionEncodingKind::UTF16),
            text_document_sync: Some(lsp::TextDocumentSyncCapability::Kind(lsp::TextDocumentSyncKind::FULL)),
            hover_provider: Some(lsp::HoverProviderCapability::Simple(true)),
            completion_provider: Some(lsp::CompletionOptions {
                trigger_characters: Some(vec![".".into(), "[".into(), "\"".into()]),
                ..Default::default()
            }),
            definition_provider: Some(lsp::OneOf::Left(true)),
            references_provider: Some(lsp::OneOf::Left(true)),
            rename_provider: Some(lsp::OneOf::Right(lsp::RenameOptions {
                prepare_provider: Some(true),
                work_done_progress_options: Default::default(),
            })),
            document_symbol_provider: Some(lsp::OneOf::Left(true)),
            semantic_tokens_provider: Some(lsp::SemanticTokensServerCapabilities::SemanticTokensOptions(
                lsp::SemanticTokensOptions {
                    legend: lsp::SemanticTokensLegend {
                        token_types: to_proto::TOKEN_TYPES.to_vec(),
                        token_modifiers: to_proto::TOKEN_MODIFIERS.to_vec(),
                    },
                    full: Some(lsp::SemanticTokensFullOptions::Bool(true)),
                    range: None,
                    ..Default::default()
                },
            )),
            code_action_provider: Some(lsp::CodeActionProviderCapability::Simple(true)),
            inlay_hint_provider: Some(lsp::OneOf::Left(true)),
            document_formatting_provider: Some(lsp::OneOf::Left(true)),
            ..Default::default()
        };
        Ok(lsp::InitializeResult {
            capabilities,
            server_info: Some(lsp::ServerInfo { name: "etr".into(), version: Some(env!("CARGO_PKG_VERSION").into()) }),
            ..Default::default()
        })
    }

    async fn shutdown(&self) -> Result<()> {
        Ok(())
    }

    async fn did_open(&self, params: lsp::DidOpenTextDocumentParams) {
        let doc = params.text_document;
        lock(&self.shared.workspace).set_text(&doc.uri, doc.text, Some(doc.version));
        self.schedule_diagnostics();
    }

    async fn did_change(&self, params: lsp::DidChangeTextDocumentParams) {
        // Full synchronisation: the last change holds the whole text.
        let Some(change) = params.content_changes.into_iter().last() else { return };
        let doc = params.text_document;
        lock(&self.shared.workspace).set_text(&doc.uri, change.text, Some(doc.version));
        self.schedule_diagnostics();
    }

    async fn did_close(&self, params: lsp::DidCloseTextDocumentParams) {
        let uri = params.text_document.uri;
        // Only a document the editor opened is closed; a `didClose` of anything else (a path the
        // server never saw, `/etc/passwd`, `/dev/zero`, a FIFO) changes nothing and reads nothing.
        let Some(path) = lock(&self.shared.workspace).close(&uri) else {
            let message = format!("didClose of {}, which is not open: ignored", uri.as_str());
            self.client.log_message(lsp::MessageType::WARNING, message).await;
            return;
        };
        // A closed buffer's unsaved text is gone: the other files see the file on disk again.
        if let Some(path) = path {
            let on_disk = tokio::task::spawn_blocking(move || etr_workspace::read_spec(&path)).await;
            match on_disk {
                Ok(Ok(text)) => {
                    lock(&self.shared.workspace).set_text(&uri, text, None);
                    self.schedule_diagnostics();
                }
                Ok(Err(refusal)) => {
                    let message = format!("{} was not read again after closing: {refusal}", uri.as_str());
                    self.client.log_message(lsp::MessageType::WARNING, message).await;
                }
                Err(_panicked) => {}
            }
        }
        // Clear what was shown for the closed document.
        self.client.publish_diagnostics(uri, Vec::new(), None).await;
    }

    async fn hover(&self, params: lsp::HoverParams) -> Result<Option<lsp::Hover>> {
        requests::hover::handle(self, params).await
    }

    async fn completion(&self, params: lsp::CompletionParams) -> Result<Option<lsp::CompletionResponse>> {
        requests::completion::handle(self, params).await
    }

    async fn goto_definition(&self, params: lsp::GotoDefinitionParams) -> Result<Option<lsp::GotoDefinitionResponse>> {
        requests::definition::handle(self, params).await
    }

    async fn references(&self, params: lsp::ReferenceParams) -> Result<Option<Vec<lsp::Location>>> {
        requests::references::handle(self, params).await
    }

    async fn prepare_rename(
        &self,
        params: lsp::TextDocumentPositionParams,
    ) -> Result<Option<lsp::PrepareRenameResponse>> {
        requests::rename::prepare(self, params).await
    }

    async fn rename(&self, params: lsp::RenameParams) -> Result<Option<lsp::WorkspaceEdit>> {
        requests::rename::handle(self, params).await
    }

    async fn document_symbol(&self, params: lsp::DocumentSymbolParams) -> Result<Option<lsp::DocumentSymbolResponse>> {
        requests::document_symbol::handle(self, params).await
    }

    async fn semantic_tokens_full(
        &self,
        params: lsp::SemanticTokensParams,
    ) -> Result<Option<lsp::SemanticTokensResult>> {
        requests::semantic_tokens::handle(self, params).await
    }

    async fn code_action(&self, params: lsp::CodeActionParams) -> Result<Option<lsp::CodeActionResponse>> {
        requests::code_action::handle(self, params).await
    }

    async fn formatting(&self, params: lsp::DocumentFormattingParams) -> Result<Option<Vec<lsp::TextEdit>>> {
        requests::formatting::handle(self, params).await
    }

    async fn inlay_hint(&self, params: lsp::InlayHintParams) -> Result<Option<Vec<lsp::InlayHint>>> {
        requests::inlay_hint::handle(self, params).await
    }
}
