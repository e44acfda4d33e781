//! `textDocument/definition`: the declaration's name, possibly in the materialised stdlib or another spec.

use etr_ide::FileRange;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types as lsp;

use crate::server::Server;

pub(crate) async fn handle(
    server: &Server,
    params: lsp::GotoDefinitionParams,
) -> Result<Option<lsp::GotoDefinitionResponse>> {
    server
        .at_position(params.text_document_position_params, |analysis, shared, position, _| {
            let mut locations = Vec::new();
            for target in analysis.goto_definition(position)? {
                let range = FileRange { file: target.file, range: target.focus_range };
                locations.extend(shared.location(analysis, range)?);
            }
            Ok((!locations.is_empty()).then_some(lsp::GotoDefinitionResponse::Array(locations)))
        })
        .await
}
