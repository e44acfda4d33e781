//! `textDocument/inlayHint`: inferred types after `let` names and mapping lines.

use etr_ide::FileRange;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types as lsp;

use crate::server::Server;
use crate::to_proto;

pub(crate) async fn handle(server: &Server, params: lsp::InlayHintParams) -> Result<Option<Vec<lsp::InlayHint>>> {
    let uri = params.text_document.uri;
    let range = params.range;
    server
        .in_document(uri, move |analysis, _, file, index| {
            let hints = analysis.inlay_hints(FileRange { file, range: index.text_range(range) })?;
            Ok(Some(hints.iter().map(|h| to_proto::inlay_hint(index, h)).collect()))
        })
        .await
}
