//! Diagnostics rendered for people (miette's graphical report) and for tools (JSON-ready data).
//!
//! miette is not handed the file as it is but a [`ShownText`] of it: a line longer than
//! [`LONG_LINE_CHARS`] shows only windows around the labels on it, joined by `…`, because miette
//! pads with Rust's `{:width$}`, which panics past column 65,535, and because a 70,000-character
//! line helps nobody. Lone `\r`s become `\n`s there, so that miette's line numbers count them as
//! the grammar does. The location in the report's header is computed from the real text.

use std::fmt::Write;

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents, SourceCode, SourceSpan,
    SpanContents,
};

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
    source: ShownSource,
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
        let primary = clamp(d.primary.span.start, d.primary.span.end);
        let same_file: Vec<_> = d.secondary.iter().filter(|label| label.file == d.primary.file).collect();
        let secondary: Vec<_> = same_file.iter().map(|label| clamp(label.span.start, label.span.end)).collect();
        let anchors = std::iter::once(primary).chain(secondary.iter().copied()).flat_map(|(s, l)| [s, s + l]);
        let shown = ShownText::new(&text, anchors.collect());
        let shown_span = |(start, len): (usize, usize)| {
            let shown_start = shown.to_shown(start);
            (shown_start, shown.to_shown(start + len) - shown_start)
        };
        let mut labels = vec![LabeledSpan::new_primary_with_span(Some(d.primary.message.clone()), shown_span(primary))];
        for (label, span) in same_file.iter().zip(&secondary) {
            labels.push(LabeledSpan::new_with_span(Some(label.message.clone()), shown_span(*span)));
        }
        let mut help = d.help.clone();
        for label in &d.secondary {
            if label.file != d.primary.file {
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
            source: ShownSource { name: d.primary.file.clone(), real: text, shown },
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
/// `\n`, `\r\n` and a lone `\r` each end a line, as in the grammar.
pub fn line_col(text: &str, offset: u32) -> (usize, usize) {
    etr_syntax::lines::line_col(text, offset as usize)
}

/// Lines longer than this many chars are shown as windows around their labels.
const LONG_LINE_CHARS: usize = 240;

/// The chars shown on each side of a label's start or end on a long line (and at the start of a
/// long line without labels, which is shown as context).
const WINDOW_CHARS: usize = 60;

/// What the report shows of a file: the text with long lines cut to windows, lone `\r`s made
/// `\n`s, and the map between offsets in it and in the real text.
#[derive(Debug)]
struct ShownText {
    text: String,
    /// The kept pieces of the real text, in order, as (real start, real end, shown start). Between
    /// two pieces the shown text has `…` where the real text has the cut-out chars.
    pieces: Vec<(usize, usize, usize)>,
}

const ELLIPSIS: &str = "…";

impl ShownText {
    /// `anchors` are the real offsets the labels start and end at: each stays shown.
    fn new(real: &str, mut anchors: Vec<usize>) -> ShownText {
        anchors.sort_unstable();
        let mut kept: Vec<(usize, usize)> = Vec::new();
        let mut line_start = 0;
        for line in etr_syntax::lines::split_inclusive(real) {
            let content_end = line_start + etr_syntax::lines::strip_line_end(line).len();
            let line_end = line_start + line.len();
            let content = &real[line_start..content_end];
            if content.len() > LONG_LINE_CHARS && content.chars().count() > LONG_LINE_CHARS {
                let first = anchors.partition_point(|&a| a < line_start);
                let last = anchors.partition_point(|&a| a <= content_end);
                let windows: Vec<(usize, usize)> = if first == last {
                    vec![(line_start, chars_after(real, line_start, content_end, 2 * WINDOW_CHARS))]
                } else {
                    anchors[first..last]
                        .iter()
                        .map(|&a| {
                            (
                                chars_before(real, a, line_start, WINDOW_CHARS),
                                chars_after(real, a, content_end, WINDOW_CHARS),
                            )
                        })
                        .collect()
                };
                for (start, end) in windows {
                    match kept.last_mut() {
                        Some(last) if start <= last.1 => last.1 = last.1.max(end),
                        _ => kept.push((start, end)),
                    }
                }
                // The line end itself is always kept, so that lines stay lines.
                kept.push((content_end, line_end));
            } else {
                match kept.last_mut() {
                    Some(last) if last.1 == line_start => last.1 = line_end,
                    _ => kept.push((line_start, line_end)),
                }
            }
            line_start = line_end;
        }

        let mut text = String::with_capacity(real.len().min(1 << 20));
        let mut pieces = Vec::with_capacity(kept.len());
        let mut real_pos = 0;
        for (start, end) in kept {
            if start > real_pos {
                text.push_str(ELLIPSIS);
            }
            pieces.push((start, end, text.len()));
            text.push_str(&real[start..end]);
            real_pos = end;
        }
        if real_pos < real.len() {
            text.push_str(ELLIPSIS);
        }
        ShownText { text: lone_carriage_returns_as_newlines(text), pieces }
    }

    /// The shown offset of a real offset; one in a cut-out part shows at the end of the piece before.
    fn to_shown(&self, real: usize) -> usize {
        let index = self.pieces.partition_point(|&(start, _, _)| start <= real);
        match index.checked_sub(1).map(|i| self.pieces[i]) {
            Some((start, end, shown)) => shown + real.min(end) - start,
            None => 0,
        }
    }

    /// The real offset of a shown offset; one in a `…` maps to the end of the piece before.
    fn to_real(&self, shown: usize) -> usize {
        let index = self.pieces.partition_point(|&(_, _, shown_start)| shown_start <= shown);
        match index.checked_sub(1).map(|i| self.pieces[i]) {
            Some((start, end, shown_start)) => (start + shown - shown_start).min(end),
            None => 0,
        }
    }
}

/// The offset `count` chars before `offset`, not before `floor`.
fn chars_before(text: &str, offset: usize, floor: usize, count: usize) -> usize {
    text[floor..offset].char_indices().rev().nth(count.saturating_sub(1)).map_or(floor, |(at, _)| floor + at)
}

/// The offset `count` chars after `offset`, not after `ceiling`.
fn chars_after(text: &str, offset: usize, ceiling: usize, count: usize) -> usize {
    text[offset..ceiling].char_indices().nth(count).map_or(ceiling, |(at, _)| offset + at)
}

/// A lone `\r` ends a line for etr but not for miette's line splitting; a `\n` of the same length
/// keeps every offset.
fn lone_carriage_returns_as_newlines(text: String) -> String {
    if !text.contains('\r') {
        return text;
    }
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    for (i, c) in text.char_indices() {
        let lone = c == '\r' && bytes.get(i + 1) != Some(&b'\n');
        out.push(if lone { '\n' } else { c });
    }
    out
}

/// The source miette reads: the shown text, named after the file, with the locations it reports
/// (the header's `file:line:column`) taken from the real text.
#[derive(Debug)]
struct ShownSource {
    name: String,
    real: String,
    shown: ShownText,
}

impl SourceCode for ShownSource {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let contents = self.shown.text.read_span(span, context_lines_before, context_lines_after)?;
        let real_start = self.shown.to_real(contents.span().offset());
        let (line, column) = etr_syntax::lines::line_col(&self.real, real_start);
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            contents.data(),
            *contents.span(),
            line - 1,
            column - 1,
            contents.line_count(),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Database;

    /// The first three lines of the specs below: enough of a contributor spec to be checked.
    const PREAMBLE: &str =
        "contributor X \"X\" layout 1\nsource delimited \"|\" { columns { A } }\nmap to R { a = A }\n";

    /// Every diagnostic of `text` (checked without the stdlib), rendered without colours.
    fn rendered(text: &str) -> Vec<String> {
        let mut db = Database::new();
        let file = db.add_file("spec.etr", text);
        let diagnostics = crate::check(&db, file).diagnostics.clone();
        diagnostics.iter().map(|d| render(d, &|path| (path == "spec.etr").then(|| text.to_owned()), false)).collect()
    }

    fn the_one_about(rendered: &[String], needle: &str) -> String {
        rendered.iter().find(|r| r.contains(needle)).unwrap_or_else(|| panic!("no {needle:?} in {rendered:#?}")).clone()
    }

    /// miette pads with `{:width$}`, which panics past 65,535: a label far along a line used to
    /// crash `etr check`.
    #[test]
    fn a_label_past_column_65535_renders_in_a_window_with_its_real_column() {
        let padding = " ".repeat(70_000);
        let text = format!("{PREAMBLE}let a = 1\nlet far = {padding}nope_name + 1\nrecord R {{ a: text }}\n");
        let all = rendered(&text);
        let report = the_one_about(&all, "nope_name");
        let column = "let far = ".len() + padding.len() + 1;
        assert!(report.contains(&format!("[spec.etr:5:{column}]")), "{report}");
        assert!(report.contains(&format!("5 │ …{} nope_name + 1", " ".repeat(59))), "{report}");
        assert!(report.lines().all(|line| line.chars().count() < 300), "{report}");
        assert_eq!(line_col(&text, text.find("nope_name").unwrap() as u32), (5, column));
    }

    /// A label spanning most of a long line, and a long context line without labels, are cut too.
    #[test]
    fn long_labels_and_long_context_lines_are_cut() {
        let long_name = "n".repeat(70_000);
        let text =
            format!("{PREAMBLE}let far = {long_name} + 1\nlet near = 1 + {}\n", "2 +    ".repeat(40) + "x_unknown");
        let all = rendered(&text);
        let near_column = "let near = 1 + ".len() + 40 * "2 +    ".len() + 1;
        assert!(the_one_about(&all, "x_unknown").contains(&format!("[spec.etr:5:{near_column}]")));
        assert!(the_one_about(&all, "[spec.etr:4:11]").contains("unknown name"));
        for report in all {
            assert!(report.lines().all(|line| line.chars().count() < 300), "{report}");
        }
    }

    /// A lone `\r` ends a line (it hid the next line's rule from the compiler): line numbers in the
    /// header, the gutter and the JSON count it.
    #[test]
    fn line_numbers_count_lone_carriage_returns() {
        let text = format!("{PREAMBLE}let a = 1 // c\rlet b = nope_name\rrecord R {{ a: text }}\n");
        let report = the_one_about(&rendered(&text), "nope_name");
        assert!(report.contains("[spec.etr:5:9]"), "{report}");
        assert!(report.contains("5 │ let b = nope_name"), "{report}");
        assert_eq!(line_col(&text, text.find("nope_name").unwrap() as u32), (5, 9));
    }

    #[test]
    fn shown_offsets_map_back_to_real_ones() {
        let real = format!("ab\n{}X{}\ncd", "y".repeat(500), "z".repeat(500));
        let x = real.find('X').unwrap();
        let shown = ShownText::new(&real, vec![x, x + 1]);
        assert!(shown.text.starts_with("ab\n…"), "{}", shown.text);
        assert!(shown.text.ends_with("…\ncd"), "{}", shown.text);
        assert_eq!(&shown.text[shown.to_shown(x)..shown.to_shown(x + 1)], "X");
        assert_eq!(shown.to_real(shown.to_shown(x)), x);
        assert_eq!(shown.to_shown(real.len()), shown.text.len());
    }
}
