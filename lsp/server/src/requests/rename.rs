//! `textDocument/prepareRename` and `textDocument/rename`: a workspace edit over every file that uses
//! the symbol, or the IDE's reason to refuse (a stdlib name, a keyword, a name that reads as a literal,
//! a new name that would change what another name refers to) as an error response.

use etr_ide::FileId;
use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types as lsp;

use crate::server::{Reading, Server};
use crate::to_proto;

pub(crate) async fn prepare(
    server: &Server,
    params: lsp::TextDocumentPositionParams,
) -> Result<Option<lsp::PrepareRenameResponse>> {
    let answer = server
        .at_position(params, |analysis, _, position, index| {
            Ok(Some(analysis.prepare_rename(position)?.map(|range| index.range(range.range))))
        })
        .await?;
    match answer {
        Some(Ok(range)) => Ok(Some(lsp::PrepareRenameResponse::Range(range))),
        Some(Err(error)) => Err(Error::invalid_params(error.0)),
        None => Ok(None),
    }
}

pub(crate) async fn handle(server: &Server, params: lsp::RenameParams) -> Result<Option<lsp::WorkspaceEdit>> {
    let new_name = params.new_name;
    let answer = server
        .at_position_reading(
            Reading::WholeWorkspace,
            params.text_document_position,
            move |analysis, shared, position, _| {
                let change = match analysis.rename(position, &new_name)? {
                    Ok(change) => change,
                    Err(error) => return Ok(Some(Err(error))),
                };
                let mut texts = Vec::new();
                for (file, _) in &change.edits {
                    if let (Some(uri), Some(text)) = (shared.uri(*file), analysis.file_text(*file)?) {
                        texts.push((*file, uri, text));
                    }
                }
                let locate =
                    |file: FileId| texts.iter().find(|t| t.0 == file).map(|(_, uri, text)| (uri.clone(), text.clone()));
                Ok(Some(Ok(to_proto::workspace_edit(&change, &locate))))
            },
        )
        .await?;
    match answer {
        Some(Ok(edit)) => Ok(Some(edit)),
        Some(Err(error)) => Err(Error::invalid_params(error.0)),
        None => Ok(None),
    }
}
