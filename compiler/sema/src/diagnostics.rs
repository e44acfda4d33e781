//! Diagnostics as data: a code, a severity, a message, labelled spans and help.
//!
//! Analysis never fails on bad input: every query returns its value plus diagnostics. Rendering is
//! separate (`render.rs`), so the CLI, the JSON output and the language server all show the same
//! facts.

use crate::codes::Code;

pub use etr_syntax::ast::Span;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DiagnosticSeverity {
    Error,
    Warning,
}

/// A span in a file with what it shows.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Label {
    /// The file's path as given to the database.
    pub file: String,
    pub span: Span,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: DiagnosticSeverity,
    pub message: String,
    pub primary: Label,
    pub secondary: Vec<Label>,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(code: Code, message: impl Into<String>, file: &str, span: Span, label: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity: DiagnosticSeverity::Error,
            message: message.into(),
            primary: Label { file: file.to_string(), span, message: label.into() },
            secondary: Vec::new(),
            help: None,
        }
    }

    pub fn warning(code: Code, message: impl Into<String>, file: &str, span: Span, label: impl Into<String>) -> Self {
        Diagnostic { severity: DiagnosticSeverity::Warning, ..Diagnostic::error(code, message, file, span, label) }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_help_opt(mut self, help: Option<String>) -> Self {
        self.help = help;
        self
    }

    pub fn with_secondary(mut self, file: &str, span: Span, message: impl Into<String>) -> Self {
        self.secondary.push(Label { file: file.to_string(), span, message: message.into() });
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == DiagnosticSeverity::Error
    }
}
