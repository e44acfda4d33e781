//! Diagnostics rendered for people (miette's graphical report) and for tools (JSON-ready data).

use std::fmt::Write;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource};

use crate::diagnostics::{Diagnostic, DiagnosticSeverity};

/// Renders a diagnostic with its source lines, labels and help. `source_of` gives a file's text.
pub fn render(diagnostic: &Diagnostic, source_of: &dyn Fn(&str) -> Option<String>, color: bool) -> String {
    let report = Report::new(diagnostic, source_of);
    let theme = if color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(110).with_links(false);
    let mut out = String::new();
    if handler.render_report(&mut out, &report).is_err() {
        let _ = writeln!(out, "{}: {}", diagnostic.code.id, diagnostic.message);
    }
    out
}

/// A miette view of one diagnostic. Labels in other files than the primary one are shown as notes,
/// since a miette report has one source.
#[derive(Debug)]
struct Report {
    code: &'static str,
    message: String,
    severity: miette::Severity,
    help: Option<String>,
    source: NamedSource<String>,
    labels: Vec<LabeledSpan>,
}

impl Report {
    fn new(d: &Diagnostic, source_of: &dyn Fn(&str) -> Option<String>) -> Report {
        let text = source_of(&d.primary.file).unwrap_or_default();
        let clamp = |start: u32, end: u32| {
            let len = text.len();
            let start = (start as usize).min(len);
            let end = (end as usize).clamp(start, len);
            (start, end - start)
        };
        let (start, len) = clamp(d.primary.span.start, d.primary.span.end);
        let mut labels = vec![LabeledSpan::new_primary_with_span(Some(d.primary.message.clone()), (start, len))];
        let mut help = d.help.clone();
        for label in &d.secondary {
            if label.file == d.primary.file {
                let (s, l) = clamp(label.span.start, label.span.end);
                labels.push(LabeledSpan::new_with_span(Some(label.message.clone()), (s, l)));
            } else {
                let note = format!("{} ({} at byte {})", label.message, label.file, label.span.start);
                help = Some(match help {
                    Some(h) => format!("{h}\n{note}"),
                    None => note,
                });
            }
        }
        Report {
            code: d.code.id,
            message: d.message.clone(),
            severity: match d.severity {
                DiagnosticSeverity::Error => miette::Severity::Error,
                DiagnosticSeverity::Warning => miette::Severity::Warning,
            },
            help,
            source: NamedSource::new(d.primary.file.clone(), text),
            labels,
        }
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Report {}

impl miette::Diagnostic for Report {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }
    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.help.as_ref().map(|h| Box::new(h.clone()) as Box<dyn std::fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }
}

/// Line and column (1-based, columns in chars) of a byte offset, for JSON output and the CLI.
pub fn line_col(text: &str, offset: u32) -> (usize, usize) {
    let offset = (offset as usize).min(text.len());
    let mut line = 1;
    let mut line_start = 0;
    for (i, b) in text.bytes().enumerate().take(offset) {
        if b == b'\n' {
            line += 1;
            line_start = i + 1;
        }
    }
    let column = text.get(line_start..offset).map_or(1, |s| s.chars().count() + 1);
    (line, column)
}
