//! `textDocument/inlayHint`: inferred types after `let` names and mapping lines.

use etr_ide::FileRange;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types as lsp;

use crate::line_index::LineIndex;
use crate::server::Server;
use crate::to_proto;

pub(crate) async fn handle(server: &Server, params: lsp::InlayHintParams) -> Result<Option<Vec<lsp::InlayHint>>> {
    let uri = params.text_document.uri;
    let range = params.range;
    server
        .query(move |analysis, shared| {
            let Some(file) = shared.file(&uri) else { return Ok(None) };
            let Some(text) = analysis.file_text(file)? else { return Ok(None) };
            let index = LineIndex::new(&text);
            let hints = analysis.inlay_hints(FileRange { file, range: index.text_range(range) })?;
            Ok(Some(hints.iter().map(|h| to_proto::inlay_hint(&index, h)).collect()))
        })
        .await
}
