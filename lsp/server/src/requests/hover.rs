//! `textDocument/hover`: the IDE's hover as Markdown, with the range it is about.

use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types as lsp;

use crate::server::Server;

pub(crate) async fn handle(server: &Server, params: lsp::HoverParams) -> Result<Option<lsp::Hover>> {
    server
        .at_position(params.text_document_position_params, |analysis, _, position, index| {
            Ok(analysis.hover(position)?.map(|hover| lsp::Hover {
                contents: lsp::HoverContents::Markup(lsp::MarkupContent {
                    kind: lsp::MarkupKind::Markdown,
                    value: hover.markdown,
                }),
                range: Some(index.range(hover.range)),
            }))
        })
        .await
}
