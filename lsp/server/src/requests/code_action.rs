//! `textDocument/codeAction`: the IDE's quick fixes as workspace edits on the document.

use etr_ide::{FileId, FileRange};
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types as lsp;

use crate::server::Server;
use crate::to_proto;

pub(crate) async fn handle(server: &Server, params: lsp::CodeActionParams) -> Result<Option<lsp::CodeActionResponse>> {
    let uri = params.text_document.uri;
    let range = params.range;
    server
        .in_document(uri.clone(), move |analysis, _, file, index| {
            let actions = analysis.code_actions(FileRange { file, range: index.text_range(range) })?;
            let locate = |f: FileId| (f == file).then(|| (uri.clone(), std::sync::Arc::from(index.text())));
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
