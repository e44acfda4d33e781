//! `etr fmt`: the one canonical layout of an etr spec file.
//!
//! [`format`] takes the text of a spec and returns it re-laid out: indentation, spacing, line
//! breaks and blank lines follow one style (described for analysts in `docs/language.md`,
//! "Formatting"), while every token, every `//` comment and every `///` doc line is kept, in
//! order. Names, literals and strings are printed exactly as written, so a formatted spec
//! compiles to the same program as the original.
//!
//! How it works: `etr-syntax` parses the file; the printer (`printer.rs`) walks the tree in
//! source order and turns it into layout (`doc.rs`), fetching every token through a cursor over
//! the source text (`cursor.rs`), which is how the comments (absent from the tree) find their
//! place. The renderer then picks line breaks for the width.
//!
//! A file with a syntax error is refused as a whole: formatting only what parsed would move or
//! drop the text of the broken item. As a last guard, the output is parsed again, and a result
//! that would not parse or would lose an item is reported as an internal error, never returned.
//!
//! Architecture Invariant: like the rest of the compiler, this crate does no IO.
//!
//! API Boundary: [`format`], [`FormatError`], [`SyntaxProblem`], [`InternalError`].
#![deny(clippy::disallowed_methods)]

mod cursor;
mod doc;
mod printer;

use std::fmt;

pub use crate::cursor::InternalError;

/// The width the formatter keeps lines within, where the grammar lets it break them.
pub const MAX_WIDTH: usize = 100;

/// Spaces per indentation level.
pub const INDENT_WIDTH: usize = 2;

/// Why a text was not formatted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormatError {
    /// The text has syntax errors (at least one); it must be fixed before it can be formatted.
    Syntax(Vec<SyntaxProblem>),
    /// The formatter failed on a text that parses: a bug in the formatter.
    Internal(InternalError),
}

/// One syntax error, located for a person: 1-based line and column (in characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxProblem {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FormatError::Syntax(problems) => {
                let count = problems.len();
                write!(f, "not formatted: {count} syntax error{}", if count == 1 { "" } else { "s" })?;
                for problem in problems {
                    write!(f, "\n  line {}, column {}: {}", problem.line, problem.column, problem.message)?;
                }
                Ok(())
            }
            FormatError::Internal(error) => write!(
                f,
                "not formatted: internal formatter error at byte {}: {} (this is a bug in etr fmt; the file is untouched)",
                error.offset, error.message
            ),
        }
    }
}

impl std::error::Error for FormatError {}

/// Formats one spec file.
///
/// The result ends with a single newline (or is empty for a file with no items and no comments),
/// and `format(&format(text)?)` gives the same text back.
pub fn format(text: &str) -> Result<String, FormatError> {
    let parsed = etr_syntax::parse_file(text);
    if !parsed.errors.is_empty() {
        let problems = parsed
            .errors
            .iter()
            .map(|error| {
                let (line, column) = etr_syntax::lines::line_col(text, error.span.start as usize);
                SyntaxProblem { line, column, message: error.message.clone() }
            })
            .collect();
        return Err(FormatError::Syntax(problems));
    }
    let layout = printer::Printer::new(text).file(&parsed.items).map_err(FormatError::Internal)?;
    let formatted = doc::render(&layout, MAX_WIDTH, INDENT_WIDTH);

    let reparsed = etr_syntax::parse_file(&formatted);
    let same_items = reparsed.items.len() == parsed.items.len()
        && reparsed.items.iter().zip(&parsed.items).all(|(after, before)| after.keyword() == before.keyword());
    if let Some(error) = reparsed.errors.first() {
        return Err(FormatError::Internal(InternalError {
            offset: 0,
            message: format!("the formatted text does not parse: {}", error.message),
        }));
    }
    if !same_items {
        return Err(FormatError::Internal(InternalError {
            offset: 0,
            message: "the formatted text does not have the same items".to_owned(),
        }));
    }
    Ok(formatted)
}
