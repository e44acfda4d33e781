//! `textDocument/semanticTokens/full`: tokens in the protocol's relative encoding (legend in
//! `to_proto.rs`).

use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types as lsp;

use crate::server::Server;
use crate::to_proto;

pub(crate) async fn handle(
    server: &Server,
    params: lsp::SemanticTokensParams,
) -> Result<Option<lsp::SemanticTokensResult>> {
    let uri = params.text_document.uri;
    server
        .in_document(uri, move |analysis, _, file, index| {
            let tokens = to_proto::semantic_tokens(index, &analysis.semantic_tokens(file)?);
            Ok(Some(lsp::SemanticTokensResult::Tokens(lsp::SemanticTokens { result_id: None, data: tokens })))
        })
        .await
}
