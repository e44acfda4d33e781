//! `textDocument/references`: every use of the symbol across the workspace.

use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types as lsp;

use crate::server::{Reading, Server};

pub(crate) async fn handle(server: &Server, params: lsp::ReferenceParams) -> Result<Option<Vec<lsp::Location>>> {
    let include_declaration = params.context.include_declaration;
    server
        .at_position_reading(
            Reading::WholeWorkspace,
            params.text_document_position,
            move |analysis, shared, position, _| {
                let mut locations = Vec::new();
                for range in analysis.references(position, include_declaration)? {
                    locations.extend(shared.location(analysis, range)?);
                }
                Ok(Some(locations))
            },
        )
        .await
}
