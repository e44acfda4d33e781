//! `textDocument/semanticTokens/full`: tokens in the protocol's relative encoding (legend in
//! `to_proto.rs`).

use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types as lsp;

use crate::line_index::LineIndex;
use crate::server::Server;
use crate::to_proto;

pub(crate) async fn handle(
    server: &Server,
    params: lsp::SemanticTokensParams,
) -> Result<Option<lsp::SemanticTokensResult>> {
    let uri = params.text_document.uri;
    server
        .query(move |analysis, shared| {
            let Some(file) = shared.file(&uri) else { return Ok(None) };
            let Some(text) = analysis.file_text(file)? else { return Ok(None) };
            let index = LineIndex::new(&text);
            let tokens = to_proto::semantic_tokens(&index, &analysis.semantic_tokens(file)?);
            Ok(Some(lsp::SemanticTokensResult::Tokens(lsp::SemanticTokens { result_id: None, data: tokens })))
        })
        .await
}
