//! `textDocument/documentSymbol`: the outline, nested.

use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types as lsp;

use crate::line_index::LineIndex;
use crate::server::Server;
use crate::to_proto;

pub(crate) async fn handle(
    server: &Server,
    params: lsp::DocumentSymbolParams,
) -> Result<Option<lsp::DocumentSymbolResponse>> {
    let uri = params.text_document.uri;
    server
        .query(move |analysis, shared| {
            let Some(file) = shared.file(&uri) else { return Ok(None) };
            let Some(text) = analysis.file_text(file)? else { return Ok(None) };
            let index = LineIndex::new(&text);
            let symbols = analysis.document_symbols(file)?;
            let symbols = symbols.iter().map(|s| to_proto::document_symbol(&index, s)).collect();
            Ok(Some(lsp::DocumentSymbolResponse::Nested(symbols)))
        })
        .await
}
