//! `textDocument/codeAction`: the IDE's quick fixes as workspace edits on the document.

use etr_ide::{FileId, FileRange};
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types as lsp;

use crate::line_index::LineIndex;
use crate::server::Server;
use crate::to_proto;

pub(crate) async fn handle(server: &Server, params: lsp::CodeActionParams) -> Result<Option<lsp::CodeActionResponse>> {
    let uri = params.text_document.uri;
    let range = params.range;
    server
        .query(move |analysis, shared| {
            let Some(file) = shared.file(&uri) else { return Ok(None) };
            let Some(text) = analysis.file_text(file)? else { return Ok(None) };
            let index = LineIndex::new(&text);
            let actions = analysis.code_actions(FileRange { file, range: index.text_range(range) })?;
            let locate = |f: FileId| (f == file).then(|| (uri.clone(), text.clone()));
            let actions = actions
                .iter()
                .map(|action| {
                    lsp::CodeActionOrCommand::CodeAction(lsp::CodeAction {
                        title: action.title.clone(),
                        kind: Some(lsp::CodeActionKind::QUICKFIX),
                        edit: Some(to_proto::workspace_edit(&action.change, &locate)),
                        is_preferred: Some(action.fixes.is_some()),
                        ..Default::default()
                    })
                })
                .collect();
            Ok(Some(actions))
        })
        .await
}
