//! The `spec` target: real specs, mutated, through everything `etr check`, `etr fmt` and
//! `etr explain` do with a text.
//!
//! Mutations work on `etr_syntax`'s token stream (`text.rs`) and on lines: tokens deleted,
//! duplicated, swapped or replaced; comments inserted on lines of their own and at line ends, with
//! `\n`, `\r\n` and lone `\r` endings; odd unicode; huge names, lists, lines and nestings; lines
//! spliced from other specs; truncation. The text always stays valid UTF-8 (`etr` refuses
//! anything else before it reaches the compiler).
//!
//! Oracles, besides no panic and no hang: every diagnostic's spans lie inside their file on char
//! boundaries, and every diagnostic renders (miette's graphical report, with and without colours,
//! and the line and column of `etr check --format json`); `etr fmt` refuses exactly the texts
//! with syntax errors, never fails internally, and its output re-parses, formats to itself, keeps
//! every comment, and means the same (the same program, as `etr explain` prints it, for a spec
//! that compiles; the same diagnostics for one that does not).

use std::sync::{Arc, LazyLock};

use etr_syntax::lexer::TokenKind;
use serde_json::json;

use crate::minimise::{Budget, ddmin};
use crate::rng::Rng;
use crate::seeds::{SeedSpec, specs};
use crate::text::{Piece, comments, floor_boundary, tokens};
use crate::{Failure, Stats, Target};

/// A spec text to check, and where it came from.
#[derive(Debug, Clone)]
pub struct SpecInput {
    /// The seed spec's path and the mutations applied, for people.
    pub origin: String,
    pub text: String,
}

pub struct SpecTarget {
    seeds: Vec<SeedSpec>,
}

/// Mutations stop growing a text past this size.
const MAX_TEXT: usize = 400_000;

const ODD_TEXT: &[&str] = &[
    "é",
    "✓",
    "𝄞",
    "\u{200d}",
    "\u{202e}",
    "\u{feff}",
    "\u{0301}",
    "\u{2028}",
    "\u{2029}",
    "\u{85}",
    "\0",
    "\t",
    "\u{c}",
    "\u{b}",
    "１２３",
    "İ",
    "ß",
    "\u{10ffff}",
    "\u{fffd}",
    "👩‍👩‍👧",
    "\r",
    "\\",
    "\"",
    "\\u{",
    "\\u{110000}",
];

/// Words a replaced token may become besides the keywords of the language (which
/// [`replacement_words`] adds from `etr_syntax`'s table, so that a new keyword is fuzzed too):
/// near-keywords, names, types, punctuation, numbers and strings.
const OTHER_WORDS: &[&str] = &[
    "fixed",
    "Record",
    "text",
    "int",
    "money",
    "date",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ",",
    ":",
    "=",
    "=>",
    "->",
    "==",
    "!=",
    "<",
    ">",
    "+",
    "-",
    "*",
    "/",
    "%",
    "|",
    "?",
    ".",
    "..",
    "0",
    "1",
    "-1",
    "99999999999999999999999",
    "RM0",
    "1.5",
    "\"\"",
    "\"x\"",
    "///",
    "//",
];

/// The keywords of the language, then [`OTHER_WORDS`].
fn replacement_words() -> &'static [&'static str] {
    static WORDS: LazyLock<Vec<&'static str>> =
        LazyLock::new(|| etr_syntax::keywords::WORDS.iter().chain(OTHER_WORDS).copied().collect());
    &WORDS
}

impl SpecTarget {
    pub fn load() -> SpecTarget {
        SpecTarget { seeds: specs() }
    }

    /// One random mutation of `text`; its name is appended to `log`. A `layout_only` mutation
    /// keeps the tokens (comments, line endings, blanks, text inside comments and strings), so
    /// that the spec usually still parses and `etr fmt` has something to format.
    fn mutate(&self, text: &str, rng: &mut Rng, layout_only: bool, log: &mut Vec<&'static str>) -> String {
        let pieces = tokens(text);
        let solid: Vec<std::ops::Range<usize>> =
            pieces.iter().filter(|it| it.kind != TokenKind::Whitespace).map(|it| it.range.clone()).collect();
        let line_starts: Vec<usize> = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .filter(|&i| i <= text.len())
            .collect();
        let eol = *rng.pick(&["\n", "\r\n", "\r"]);
        let anywhere = floor_boundary(text, rng.below(text.len() + 1));
        let splice = |at: usize, insert: &str| format!("{}{}{}", &text[..at], insert, &text[at..]);
        const LAYOUT: &[usize] = &[5, 6, 7, 16, 17];
        let choice = if layout_only { *rng.pick(LAYOUT) } else { rng.below(18) };
        match choice {
            0 | 1 if !solid.is_empty() => {
                log.push("delete token");
                let r = rng.pick(&solid).clone();
                format!("{}{}", &text[..r.start], &text[r.end..])
            }
            2 if !solid.is_empty() => {
                log.push("duplicate token");
                let r = rng.pick(&solid).clone();
                splice(r.end, &format!(" {}", &text[r.clone()]))
            }
            3 if solid.len() >= 2 => {
                log.push("swap tokens");
                let mut a = rng.pick(&solid).clone();
                let mut b = rng.pick(&solid).clone();
                if a.start > b.start {
                    std::mem::swap(&mut a, &mut b);
                }
                if a == b {
                    return text.to_string();
                }
                format!(
                    "{}{}{}{}{}",
                    &text[..a.start],
                    &text[b.clone()],
                    &text[a.end..b.start],
                    &text[a.clone()],
                    &text[b.end..]
                )
            }
            4 if !solid.is_empty() => {
                log.push("replace token");
                let r = rng.pick(&solid).clone();
                let with = if rng.chance(1, 2) {
                    rng.pick(replacement_words()).to_string()
                } else {
                    text[rng.pick(&solid).clone()].to_string()
                };
                format!("{}{}{}", &text[..r.start], with, &text[r.end..])
            }
            5 => {
                log.push("comment on its own line");
                let at = *rng.pick(&line_starts);
                let comment = *rng.pick(&["// note", "/// doc ✓", "////", "//", "// é 𝄞 \"quoted\""]);
                splice(at, &format!("{comment}{eol}"))
            }
            6 => {
                log.push("comment at a line end");
                let ends: Vec<usize> = text.match_indices('\n').map(|(i, _)| i).collect();
                let at = if ends.is_empty() { text.len() } else { *rng.pick(&ends) };
                let comment = *rng.pick(&[" // trailing", "// tight", " /// doc", " // ✓"]);
                // The line's own ending may become a `\r\n` or a lone `\r`.
                let rest = &text[at..];
                let rest = if rng.chance(1, 2) && rest.starts_with('\n') {
                    format!("{eol}{}", &rest[1..])
                } else {
                    rest.to_string()
                };
                format!("{}{comment}{rest}", &text[..at])
            }
            7 => {
                log.push("line endings");
                if rng.chance(1, 2) {
                    text.replace('\n', eol)
                } else {
                    // Some of them only.
                    let mut out = String::with_capacity(text.len());
                    for line in text.split_inclusive('\n') {
                        match line.strip_suffix('\n') {
                            Some(body) if rng.chance(1, 3) => {
                                out.push_str(body);
                                out.push_str(eol);
                            }
                            _ => out.push_str(line),
                        }
                    }
                    out
                }
            }
            8 | 9 => {
                log.push("odd unicode");
                splice(anywhere, ODD_TEXT[rng.below(ODD_TEXT.len())])
            }
            10 => {
                log.push("huge name");
                let words: Vec<&std::ops::Range<usize>> =
                    pieces.iter().filter(|it| it.is_word()).map(|it| &it.range).collect();
                let Some(r) = words.get(rng.below(words.len())).map(|r| (*r).clone()) else { return text.to_string() };
                let name = &text[r.clone()];
                let times = rng.between(100, 20_000) / name.len().max(1) + 1;
                format!("{}{}{}", &text[..r.start], name.repeat(times), &text[r.end..])
            }
            11 => {
                log.push("huge list");
                let opens: Vec<usize> = text.match_indices(['{', '[', '(']).map(|(i, _)| i + 1).collect();
                let Some(&at) = opens.get(rng.below(opens.len())) else { return text.to_string() };
                let item = *rng.pick(&["\"A\", ", "1, ", "\"K\" => \"V\", ", "x, ", "\n"]);
                splice(at, &item.repeat(rng.between(100, 5_000)))
            }
            12 => {
                log.push("long line");
                let filler = *rng.pick(&[" ", "+ 1 ", "and true ", "x", "é"]);
                splice(anywhere, &filler.repeat(rng.between(1_000, 30_000)))
            }
            13 => {
                log.push("deep nesting");
                let Some(r) = solid.get(rng.below(solid.len())).cloned() else { return text.to_string() };
                let depth = rng.between(50, 3_000);
                let (open, close) = *rng.pick(&[("(", ")"), ("[", "]"), ("{", "}"), ("-", ""), ("not ", "")]);
                format!(
                    "{}{}{}{}{}",
                    &text[..r.start],
                    open.repeat(depth),
                    &text[r.clone()],
                    close.repeat(depth),
                    &text[r.end..]
                )
            }
            14 => {
                log.push("splice lines from another spec");
                let other = &rng.pick(&self.seeds).text;
                let lines: Vec<&str> = other.split_inclusive('\n').collect();
                let from = rng.below(lines.len());
                let to = (from + rng.between(1, 10)).min(lines.len());
                let at = *rng.pick(&line_starts);
                splice(at, &lines[from..to].concat())
            }
            16 => {
                log.push("blanks between tokens");
                let Some(r) = solid.get(rng.below(solid.len())).cloned() else { return text.to_string() };
                let blank = *rng.pick(&[" ", "  ", "\t", "\n", "\n\n\n", "\r\n", "\r", " \t \n"]);
                splice(r.end, blank)
            }
            17 => {
                log.push("odd text inside a comment or string");
                let inside: Vec<&Piece> =
                    pieces.iter().filter(|it| it.is_comment() || (it.is_string() && it.range.len() >= 2)).collect();
                let Some(piece) = inside.get(rng.below(inside.len())) else { return text.to_string() };
                let r = piece.range.clone();
                // After the opening `//` or `"`; before a string's last character (its closing
                // quote, if it has one).
                let (first, last) = if piece.is_comment() { (r.start + 2, r.end) } else { (r.start + 1, r.end - 1) };
                let at = floor_boundary(text, rng.between(first, last.max(first)));
                let odd = *rng.pick(&[
                    "é", "✓", "𝄞", "\u{200d}", "\u{202e}", "\u{feff}", "\u{0301}", "\t", "\u{2028}", "//", "\\n",
                ]);
                splice(at, odd)
            }
            _ => {
                log.push("truncate");
                text[..anywhere].to_string()
            }
        }
    }
}

impl Target for SpecTarget {
    type Input = SpecInput;

    fn name(&self) -> &'static str {
        "spec"
    }

    fn generate(&self, rng: &mut Rng) -> SpecInput {
        let seed = rng.pick(&self.seeds);
        let mut text = seed.text.clone();
        let mut log = Vec::new();
        let layout_only = rng.chance(2, 5);
        for _ in 0..rng.between(1, 4) {
            if text.len() > MAX_TEXT {
                break;
            }
            text = self.mutate(&text, rng, layout_only, &mut log);
        }
        SpecInput { origin: format!("{} + {}", seed.path, log.join(", ")), text }
    }

    fn check(&self, input: &SpecInput) -> Result<Stats, Failure> {
        check_spec(&input.text)
    }

    fn minimise(
        &self,
        input: SpecInput,
        budget: &mut Budget,
        reproduces: &mut dyn FnMut(&SpecInput) -> bool,
    ) -> SpecInput {
        let origin = format!("{} (minimised)", input.origin);
        let attempt = |text: String| SpecInput { origin: origin.clone(), text };
        // Lines first (cheap, big steps), then tokens, then characters of what is left.
        let lines: Vec<String> = input.text.split_inclusive('\n').map(str::to_string).collect();
        let lines = ddmin(lines, budget, &mut |c| reproduces(&attempt(c.concat())));
        let text = lines.concat();
        let pieces: Vec<String> = tokens(&text).into_iter().map(|it| text[it.range].to_string()).collect();
        let pieces = ddmin(pieces, budget, &mut |c| reproduces(&attempt(c.concat())));
        let text = pieces.concat();
        // Characters last: a huge name or string is one token. ddmin removes halves first, so a
        // long text shrinks in a few tries when most of it is not needed.
        let chars: Vec<char> = text.chars().collect();
        let text: String =
            ddmin(chars, budget, &mut |c| reproduces(&attempt(c.iter().collect()))).into_iter().collect();
        attempt(text)
    }

    fn input_to_json(&self, input: &SpecInput) -> serde_json::Value {
        json!({ "origin": input.origin, "text": input.text })
    }

    fn input_from_json(&self, value: &serde_json::Value) -> Result<SpecInput, String> {
        Ok(SpecInput {
            origin: value["origin"].as_str().unwrap_or_default().to_string(),
            text: value["text"].as_str().ok_or("no `text`")?.to_string(),
        })
    }

    fn inspection_copy(&self, input: &SpecInput) -> Option<(&'static str, Vec<u8>)> {
        Some(("etr", input.text.as_bytes().to_vec()))
    }
}

/// The path the fuzzed spec is known by in the database.
const SPEC_PATH: &str = "fuzz.etr";

/// Every oracle of the target on one text.
pub fn check_spec(text: &str) -> Result<Stats, Failure> {
    let mut stats = Stats::default();
    let (program, diagnostics, db, file) = etr_tests::compile(SPEC_PATH, text);
    stats.passed("check: no panic");
    let source_of = |path: &str| -> Option<String> {
        if file.path(&db) == path { Some(file.text(&db).clone()) } else { db.module_text(path) }
    };
    for d in &diagnostics {
        for (label_file, span) in
            std::iter::once((&d.primary.file, d.primary.span)).chain(d.secondary.iter().map(|l| (&l.file, l.span)))
        {
            let Some(source) = source_of(label_file) else {
                return Err(Failure::new(
                    "check: a diagnostic names an unknown file",
                    format!("{label_file} in {}", d.code.id),
                ));
            };
            let (start, end) = (span.start as usize, span.end as usize);
            if start > end || end > source.len() {
                return Err(Failure::new(
                    "check: a diagnostic span lies outside its file",
                    format!("{} `{}`: {start}..{end} in {label_file} of {} bytes", d.code.id, d.message, source.len()),
                ));
            }
            if !source.is_char_boundary(start) || !source.is_char_boundary(end) {
                return Err(Failure::new(
                    "check: a diagnostic span splits a character",
                    format!("{} `{}`: {start}..{end} in {label_file}", d.code.id, d.message),
                ));
            }
        }
        stats.passed("check: diagnostic spans inside their file, on char boundaries");
        // `etr check`: miette's report, plain and coloured; `--format json`: line and column.
        for color in [false, true] {
            let rendered = etr_sema::render::render(d, &source_of, color);
            if !rendered.contains(d.code.id) {
                return Err(Failure::new("check: a rendered diagnostic lacks its code", rendered));
            }
        }
        let _ = etr_sema::render::line_col(&source_of(&d.primary.file).unwrap_or_default(), d.primary.span.start);
        stats.passed("check: diagnostics render (graphical, colour, json position)");
    }
    if let Some(program) = &program {
        // `etr explain`.
        let _ = program.to_string();
        stats.passed("explain: the program prints");
    }
    check_fmt(text, program.as_deref(), &diagnostics, &mut stats)?;
    Ok(stats)
}

fn check_fmt(
    text: &str,
    program: Option<&etr_ir::Program>,
    diagnostics: &[etr_sema::Diagnostic],
    stats: &mut Stats,
) -> Result<(), Failure> {
    let parse_errors = etr_syntax::parse_file(text).errors;
    let formatted = match etr_fmt::format(text) {
        Err(etr_fmt::FormatError::Internal(e)) => {
            return Err(Failure::new("fmt: internal error", format!("at byte {}: {}", e.offset, e.message)));
        }
        Err(etr_fmt::FormatError::Syntax(problems)) => {
            if parse_errors.is_empty() {
                return Err(Failure::new(
                    "fmt: refuses a text that parses",
                    problems
                        .iter()
                        .map(|p| format!("{}:{} {}", p.line, p.column, p.message))
                        .collect::<Vec<_>>()
                        .join("; "),
                ));
            }
            stats.passed("fmt: refuses exactly the texts with syntax errors");
            return Ok(());
        }
        Ok(formatted) => formatted,
    };
    if !parse_errors.is_empty() {
        return Err(Failure::new("fmt: formats a text with syntax errors", format!("{:?}", parse_errors[0])));
    }
    stats.passed("fmt: refuses exactly the texts with syntax errors");
    let reparsed = etr_syntax::parse_file(&formatted).errors;
    if !reparsed.is_empty() {
        return Err(Failure::new(
            "fmt: the output does not parse",
            format!("{:?}\n--- output:\n{formatted}", reparsed[0]),
        ));
    }
    stats.passed("fmt: the output parses");
    match etr_fmt::format(&formatted) {
        Ok(again) if again == formatted => stats.passed("fmt: idempotent"),
        Ok(again) => {
            return Err(Failure::new("fmt: not idempotent", first_difference(&formatted, &again)));
        }
        Err(e) => return Err(Failure::new("fmt: refuses its own output", e.to_string())),
    }
    if comments(text) != comments(&formatted) {
        let before = comments(text);
        let after = comments(&formatted);
        let lost: Vec<&String> = before.iter().filter(|c| !after.contains(c)).collect();
        let gained: Vec<&String> = after.iter().filter(|c| !before.contains(c)).collect();
        return Err(Failure::new("fmt: comments changed", format!("lost {lost:?}, gained {gained:?}")));
    }
    stats.passed("fmt: keeps every comment");
    let (after_program, after_diagnostics, _, _) = etr_tests::compile(SPEC_PATH, &formatted);
    match (program, after_program) {
        (Some(before), Some(after)) => {
            let (before, after) = (before.to_string(), after.to_string());
            if before != after {
                return Err(Failure::new("fmt: changes the compiled program", first_difference(&before, &after)));
            }
            stats.passed("fmt: the same program (explain's text)");
        }
        (Some(_), None) => {
            let first = after_diagnostics.iter().find(|d| d.is_error()).map(|d| format!("{} {}", d.code.id, d.message));
            return Err(Failure::new("fmt: a spec that compiled no longer does", format!("{first:?}")));
        }
        (None, Some(_)) => return Err(Failure::new("fmt: a spec with errors compiles once formatted", String::new())),
        (None, None) => {
            let key = |ds: &[etr_sema::Diagnostic]| {
                let mut keys: Vec<String> = ds.iter().map(|d| format!("{} {}", d.code.id, d.message)).collect();
                keys.sort();
                keys
            };
            let (before, after) = (key(diagnostics), key(&after_diagnostics));
            if before != after {
                let lost: Vec<&String> = before.iter().filter(|c| !after.contains(c)).collect();
                let gained: Vec<&String> = after.iter().filter(|c| !before.contains(c)).collect();
                return Err(Failure::new("fmt: changes the diagnostics", format!("lost {lost:?}, gained {gained:?}")));
            }
            stats.passed("fmt: the same diagnostics");
        }
    }
    Ok(())
}

/// Where two texts first differ, with a little context.
pub fn first_difference(a: &str, b: &str) -> String {
    let at = a.bytes().zip(b.bytes()).position(|(x, y)| x != y).unwrap_or(a.len().min(b.len()));
    let from = floor_boundary(a, at.saturating_sub(80));
    let around = |t: &str| t[floor_boundary(t, from)..floor_boundary(t, at + 80)].to_string();
    format!("first difference at byte {at}:\n--- before:\n{}\n--- after:\n{}", around(a), around(b))
}

/// The target behind an `Arc`, as the campaign wants it.
pub fn target() -> Arc<SpecTarget> {
    Arc::new(SpecTarget::load())
}
