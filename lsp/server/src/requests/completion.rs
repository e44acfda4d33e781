//! `textDocument/completion`: the IDE's completions, each replacing the name fragment typed so far.

use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types as lsp;

use crate::server::Server;
use crate::to_proto;

pub(crate) async fn handle(server: &Server, params: lsp::CompletionParams) -> Result<Option<lsp::CompletionResponse>> {
    server
        .at_position(params.text_document_position, |analysis, _, position, index| {
            let items = analysis.completions(position)?;
            let items = items.iter().map(|item| to_proto::completion(index, item)).collect();
            Ok(Some(lsp::CompletionResponse::Array(items)))
        })
        .await
}
