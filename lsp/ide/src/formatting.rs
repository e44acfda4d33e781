//! Formatting: `etr fmt`'s layout (`etr-fmt`) for the editor's buffer, as one edit over the whole
//! text, or none when the text is already formatted.
//!
//! A text with syntax errors is not formatted (the formatter refuses it as a whole, so as never
//! to move or drop the broken item's text); that is not a failure to report, since the syntax
//! errors are already shown as diagnostics.

use crate::db::IdeDatabase;
use crate::{FileId, FileTable, TextEdit, TextRange};

/// Why formatting produced no edit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormatFailure {
    /// The text has syntax errors; fix them first.
    SyntaxErrors,
    /// The formatter failed on a text that parses: a bug, with its message.
    Internal(String),
}

pub(crate) fn format(db: &IdeDatabase, files: &FileTable, file: FileId) -> Result<Vec<TextEdit>, FormatFailure> {
    let Some(entry) = files.get(file) else { return Ok(Vec::new()) };
    let text = entry.source.text(db);
    match etr_fmt::format(text) {
        Ok(formatted) if formatted == *text => Ok(Vec::new()),
        Ok(formatted) => Ok(vec![TextEdit { range: TextRange::new(0, text.len() as u32), new_text: formatted }]),
        Err(etr_fmt::FormatError::Syntax(_)) => Err(FormatFailure::SyntaxErrors),
        Err(error @ etr_fmt::FormatError::Internal(_)) => Err(FormatFailure::Internal(error.to_string())),
    }
}
