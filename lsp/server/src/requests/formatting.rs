//! `textDocument/formatting`: `etr fmt`'s layout as edits; nothing for a text with syntax errors.

use tower_lsp_server::jsonrpc::{Error, ErrorCode, Result};
use tower_lsp_server::ls_types as lsp;

use crate::server::Server;

pub(crate) async fn handle(
    server: &Server,
    params: lsp::DocumentFormattingParams,
) -> Result<Option<Vec<lsp::TextEdit>>> {
    let uri = params.text_document.uri;
    let answer = server
        .in_document(uri, move |analysis, _, file, index| {
            Ok(Some(analysis.format(file)?.map(|edits| {
                edits
                    .iter()
                    .map(|e| lsp::TextEdit { range: index.range(e.range), new_text: e.new_text.clone() })
                    .collect()
            })))
        })
        .await?;
    match answer {
        Some(Ok(edits)) => Ok(Some(edits)),
        // The syntax errors are already shown as diagnostics: no edit, and no error pop-up on save.
        Some(Err(etr_ide::FormatFailure::SyntaxErrors)) | None => Ok(None),
        Some(Err(etr_ide::FormatFailure::Internal(message))) => {
            Err(Error { code: ErrorCode::InternalError, message: message.into(), data: None })
        }
    }
}
