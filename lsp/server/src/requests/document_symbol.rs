//! `textDocument/documentSymbol`: the outline, nested.

use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types as lsp;

use crate::server::Server;
use crate::to_proto;

pub(crate) async fn handle(
    server: &Server,
    params: lsp::DocumentSymbolParams,
) -> Result<Option<lsp::DocumentSymbolResponse>> {
    let uri = params.text_document.uri;
    server
        .in_document(uri, move |analysis, _, file, index| {
            let symbols = analysis.document_symbols(file)?;
            let symbols = symbols.iter().map(|s| to_proto::document_symbol(index, s)).collect();
            Ok(Some(lsp::DocumentSymbolResponse::Nested(symbols)))
        })
        .await
}
