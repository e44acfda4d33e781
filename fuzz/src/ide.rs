//! The `lsp` target: editing sessions on the IDE facade (`etr_ide::AnalysisHost`), in process.
//!
//! A session opens a real spec and a small module it may `use` (`rules/shared.etr`) next to the
//! stdlib, then runs random steps in either file: text inserted or deleted at random offsets (on
//! char boundaries, as the server's UTF-16 conversion always gives), and every request the server
//! makes (diagnostics, hover, completion, definition, references, prepare-rename and rename,
//! outline, semantic tokens, code actions, formatting, inlay hints) at random positions, now and
//! then past the end of the text. The edits a rename, a code action or formatting return are
//! sometimes applied, as an editor would.
//!
//! Oracles, besides no panic and no hang: every range and offset of every answer lies inside the
//! text of the file it names and on char boundaries (the server converts them to UTF-16 and would
//! panic or send garbage otherwise); semantic tokens come in order without overlapping; edits of
//! one file do not overlap and never touch a read-only file (the stdlib); the formatting edit
//! gives `etr fmt`'s text; no query is cancelled (nothing edits the workspace while a query runs).

use serde_json::json;

use etr_ide::{Analysis, AnalysisHost, Change, FileId, FileInfo, FilePosition, FileRange, SourceChange, TextRange};

use crate::minimise::{Budget, ddmin};
use crate::rng::Rng;
use crate::seeds::{SeedSpec, specs};
use crate::text::floor_boundary;
use crate::{Failure, Stats, Target};

/// The requests of a session.
const REQUESTS: &[&str] = &[
    "diagnostics",
    "hover",
    "completion",
    "definition",
    "references",
    "prepare-rename",
    "rename",
    "outline",
    "semantic-tokens",
    "code-actions",
    "formatting",
    "inlay-hints",
];

const INSERTS: &[&str] = &[
    "x",
    " ",
    "\n",
    "\r\n",
    "\r",
    "é",
    "✓",
    "𝄞",
    "\u{200d}",
    "(",
    ")",
    "{",
    "}",
    "\"",
    "[",
    "]",
    "//",
    "// c\n",
    "=",
    "rule R9 reject \"m\" { check x > 1 on y }\n",
    "let z = ",
    "use etr.",
    ".",
    "table t: text -> text { \"a\" => \"b\" }\n",
    "genders[",
    "else reject R0",
    "\t",
    "=>",
    "0",
    "RM1.50",
    "use rules.shared\n",
    "genders[\"L\"]",
    "shared_rate",
];

/// The module the sessions' specs may `use`.
const SHARED: &str =
    "use etr.codes\ntable genders: text -> Gender { \"L\" => \"M\", \"P\" => \"F\" }\nlet shared_rate = 3\n";

/// The two workspace files: the spec, and the module.
const FILES: [FileId; 2] = [FileId(1000), FileId(1001)];
const PATHS: [(&str, &str); 2] = [("/ws/main.etr", "main"), ("/ws/rules/shared.etr", "rules.shared")];

/// Requests whose answer an editor applies.
const APPLICABLE: &[&str] = &["rename", "code-actions", "formatting"];

const NEW_NAMES: &[&str] = &["renamed", "x", "é", "", "1bad", "a b", "R99", "let", "_"];

/// One step of a session. Offsets are clamped to the text and floored to a char boundary when the
/// step runs, so that any sub-list of steps (minimisation) is still a valid session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Insert {
        file: usize,
        at: u32,
        text: String,
    },
    Delete {
        file: usize,
        at: u32,
        len: u32,
    },
    /// With `apply`, the edits of the answer (a rename, the first code action, formatting) are
    /// applied to the workspace.
    Request {
        file: usize,
        kind: String,
        at: u32,
        to: u32,
        name: String,
        apply: bool,
    },
}

#[derive(Debug, Clone)]
pub struct Session {
    pub origin: String,
    /// The spec's text at the start.
    pub text: String,
    /// The module's text at the start.
    pub shared: String,
    pub steps: Vec<Step>,
}

pub struct IdeTarget {
    seeds: Vec<SeedSpec>,
}

impl IdeTarget {
    pub fn load() -> IdeTarget {
        IdeTarget { seeds: specs() }
    }
}

impl Target for IdeTarget {
    type Input = Session;

    fn name(&self) -> &'static str {
        "lsp"
    }

    fn generate(&self, rng: &mut Rng) -> Session {
        let seed = rng.pick(&self.seeds);
        // Lengths as the steps will find them (roughly: an edit may land elsewhere once clamped).
        let mut lengths = [seed.text.len(), SHARED.len()];
        let mut steps = Vec::new();
        for _ in 0..rng.between(5, 40) {
            let file = if rng.chance(1, 5) { 1 } else { 0 };
            let at = rng.below(lengths[file] + 1) as u32;
            if rng.chance(1, 3) {
                if rng.chance(1, 2) {
                    let text = rng.pick(INSERTS).to_string();
                    lengths[file] += text.len();
                    steps.push(Step::Insert { file, at, text });
                } else {
                    let len = rng.between(1, 40) as u32;
                    lengths[file] = lengths[file].saturating_sub(len as usize);
                    steps.push(Step::Delete { file, at, len });
                }
            } else {
                // Now and then past the end: the facade promises to clamp.
                let at = if rng.chance(1, 20) { at + rng.between(1, 1000) as u32 } else { at };
                let to = at + rng.below(200) as u32;
                let kind = rng.pick(REQUESTS).to_string();
                let apply = APPLICABLE.contains(&kind.as_str()) && rng.chance(1, 2);
                steps.push(Step::Request { file, kind, at, to, name: rng.pick(NEW_NAMES).to_string(), apply });
            }
        }
        Session { origin: seed.path.clone(), text: seed.text.clone(), shared: SHARED.to_string(), steps }
    }

    fn check(&self, session: &Session) -> Result<Stats, Failure> {
        run_session(session)
    }

    fn minimise(&self, input: Session, budget: &mut Budget, reproduces: &mut dyn FnMut(&Session) -> bool) -> Session {
        let steps = ddmin(input.steps.clone(), budget, &mut |steps| {
            reproduces(&Session { steps: steps.to_vec(), ..input.clone() })
        });
        let shorter = Session { steps, ..input };
        let lines: Vec<String> = shorter.text.split_inclusive('\n').map(str::to_string).collect();
        let lines = ddmin(lines, budget, &mut |lines| reproduces(&Session { text: lines.concat(), ..shorter.clone() }));
        Session { text: lines.concat(), ..shorter }
    }

    fn input_to_json(&self, input: &Session) -> serde_json::Value {
        let steps: Vec<serde_json::Value> = input
            .steps
            .iter()
            .map(|s| match s {
                Step::Insert { file, at, text } => json!({ "file": file, "insert": text, "at": at }),
                Step::Delete { file, at, len } => json!({ "file": file, "delete": len, "at": at }),
                Step::Request { file, kind, at, to, name, apply } => {
                    json!({ "file": file, "request": kind, "at": at, "to": to, "name": name, "apply": apply })
                }
            })
            .collect();
        json!({ "origin": input.origin, "text": input.text, "shared": input.shared, "steps": steps })
    }

    fn input_from_json(&self, value: &serde_json::Value) -> Result<Session, String> {
        let number = |v: &serde_json::Value, key: &str| v[key].as_u64().map(|n| n as u32).ok_or(format!("no `{key}`"));
        let mut steps = Vec::new();
        for step in value["steps"].as_array().ok_or("no `steps`")? {
            let at = number(step, "at")?;
            let file = step["file"].as_u64().unwrap_or(0).min(1) as usize;
            steps.push(if let Some(text) = step["insert"].as_str() {
                Step::Insert { file, at, text: text.to_string() }
            } else if step.get("delete").is_some() {
                Step::Delete { file, at, len: number(step, "delete")? }
            } else {
                Step::Request {
                    file,
                    kind: step["request"].as_str().ok_or("a step without a kind")?.to_string(),
                    at,
                    to: number(step, "to")?,
                    name: step["name"].as_str().unwrap_or_default().to_string(),
                    apply: step["apply"].as_bool().unwrap_or(false),
                }
            });
        }
        Ok(Session {
            origin: value["origin"].as_str().unwrap_or_default().to_string(),
            text: value["text"].as_str().ok_or("no `text`")?.to_string(),
            shared: value["shared"].as_str().unwrap_or(SHARED).to_string(),
            steps,
        })
    }
}

/// A host with the stdlib and the session's two files.
fn host_with(texts: &[String; 2]) -> AnalysisHost {
    let mut host = AnalysisHost::new();
    let mut change = Change::new();
    for (i, module) in etr_stdlib::MODULES.iter().enumerate() {
        let info = FileInfo { path: module.path.to_string(), module: Some(module.name.to_string()), read_only: true };
        change.add_file(FileId(i as u32), info, module.text.to_string());
    }
    for ((file, (path, module)), text) in FILES.iter().zip(PATHS).zip(texts) {
        let info = FileInfo { path: path.into(), module: Some(module.into()), read_only: false };
        change.add_file(*file, info, text.clone());
    }
    host.apply_change(change);
    host
}

/// Runs a session's steps and checks every answer.
pub fn run_session(session: &Session) -> Result<Stats, Failure> {
    let mut stats = Stats::default();
    let mut texts = [session.text.clone(), session.shared.clone()];
    let mut host = host_with(&texts);
    for step in &session.steps {
        match step {
            Step::Insert { file, at, text: inserted } => {
                let text = &mut texts[*file];
                let at = floor_boundary(text, *at as usize);
                text.insert_str(at, inserted);
                edit(&mut host, FILES[*file], text);
            }
            Step::Delete { file, at, len } => {
                let text = &mut texts[*file];
                let start = floor_boundary(text, *at as usize);
                let end = floor_boundary(text, start + *len as usize);
                text.replace_range(start..end, "");
                edit(&mut host, FILES[*file], text);
            }
            Step::Request { file, kind, at, to, name, apply } => {
                let analysis = host.analysis();
                let text = &texts[*file];
                let id = FILES[*file];
                // On a char boundary unless past the end (which the facade clamps).
                let offset = |o: u32| if o as usize > text.len() { o } else { floor_boundary(text, o as usize) as u32 };
                let position = FilePosition { file: id, offset: offset(*at) };
                let range = FileRange { file: id, range: TextRange::new(offset(*at), offset(*to).max(offset(*at))) };
                let change = request(&analysis, kind, position, range, name, text, &mut stats)
                    .map_err(|f| Failure::new(format!("lsp {kind}: {}", f.kind), f.detail))?;
                stats.passed(&format!("lsp {kind}: answered, offsets valid"));
                // The snapshot must go before the host changes (an edit waits for snapshots).
                drop(analysis);
                if let Some(change) = change.filter(|_| *apply) {
                    apply_change(&mut host, &mut texts, &change)
                        .map_err(|f| Failure::new(format!("lsp {kind}: {}", f.kind), f.detail))?;
                    stats.passed(&format!("lsp {kind}: edits applied, to writable files only"));
                }
            }
        }
    }
    Ok(stats)
}

/// Applies an answer's edits as an editor would: each file's edits from the last to the first.
fn apply_change(host: &mut AnalysisHost, texts: &mut [String; 2], change: &SourceChange) -> Result<(), Failure> {
    for (file, edits) in &change.edits {
        let Some(index) = FILES.iter().position(|f| f == file) else {
            return Err(Failure::new("edits a read-only file", format!("{file:?}: {edits:?}")));
        };
        let mut edits = edits.clone();
        edits.sort_by_key(|e| std::cmp::Reverse(e.range.start));
        for e in edits {
            texts[index].replace_range(e.range.start as usize..e.range.end as usize, &e.new_text);
        }
        edit(host, *file, &texts[index]);
    }
    Ok(())
}

fn edit(host: &mut AnalysisHost, file: FileId, text: &str) {
    let mut change = Change::new();
    change.edit_file(file, text.to_string());
    host.apply_change(change);
}

fn cancelled(_: etr_ide::Cancelled) -> Failure {
    Failure::new("cancelled without an edit", "a query returned Err(Cancelled) while nothing changed the workspace")
}

/// One request and the checks of its answer; the edits an editor would apply, for a rename, a
/// code action (the first) and formatting.
fn request(
    analysis: &Analysis,
    kind: &str,
    position: FilePosition,
    range: FileRange,
    new_name: &str,
    text: &str,
    stats: &mut Stats,
) -> Result<Option<SourceChange>, Failure> {
    let file = position.file;
    let mut applicable = None;
    let within =
        |file: FileId, r: TextRange, what: &str| -> Result<(), Failure> { valid_range(analysis, file, r, what) };
    match kind {
        "diagnostics" => {
            for d in analysis.diagnostics(file).map_err(cancelled)? {
                within(file, d.range, &format!("diagnostic {}", d.code))?;
                for related in &d.related {
                    within(related.location.file, related.location.range, "related information")?;
                }
            }
        }
        "hover" => {
            if let Some(hover) = analysis.hover(position).map_err(cancelled)? {
                within(file, hover.range, "hover range")?;
            }
        }
        "completion" => {
            for item in analysis.completions(position).map_err(cancelled)? {
                within(file, item.replace, &format!("completion `{}`", item.label))?;
            }
        }
        "definition" => {
            for target in analysis.goto_definition(position).map_err(cancelled)? {
                within(target.file, target.full_range, "definition's full range")?;
                within(target.file, target.focus_range, "definition's focus range")?;
            }
        }
        "references" => {
            for reference in analysis.references(position, true).map_err(cancelled)? {
                within(reference.file, reference.range, "reference")?;
            }
        }
        "prepare-rename" => {
            if let Ok(name) = analysis.prepare_rename(position).map_err(cancelled)? {
                within(name.file, name.range, "prepare-rename range")?;
            }
        }
        "rename" => {
            if let Ok(change) = analysis.rename(position, new_name).map_err(cancelled)? {
                source_change(analysis, &change, "rename")?;
                applicable = Some(change);
            }
        }
        "outline" => {
            let mut symbols = analysis.document_symbols(file).map_err(cancelled)?;
            while let Some(symbol) = symbols.pop() {
                within(file, symbol.full_range, &format!("outline `{}`", symbol.name))?;
                within(file, symbol.focus_range, &format!("outline `{}` (name)", symbol.name))?;
                symbols.extend(symbol.children);
            }
        }
        "semantic-tokens" => {
            let tokens = analysis.semantic_tokens(file).map_err(cancelled)?;
            for pair in tokens.windows(2) {
                if pair[1].range.start < pair[0].range.end {
                    return Err(Failure::new(
                        "tokens out of order or overlapping",
                        format!("{:?} then {:?}", pair[0].range, pair[1].range),
                    ));
                }
            }
            for token in &tokens {
                within(file, token.range, "semantic token")?;
                if token.range.is_empty() {
                    return Err(Failure::new("an empty semantic token", format!("{:?}", token.range)));
                }
            }
        }
        "code-actions" => {
            for action in analysis.code_actions(range).map_err(cancelled)? {
                source_change(analysis, &action.change, &format!("code action `{}`", action.title))?;
                applicable.get_or_insert(action.change);
            }
        }
        "formatting" => {
            if let Ok(edits) = analysis.format(file).map_err(cancelled)? {
                let change = SourceChange { edits: vec![(file, edits.clone())] };
                source_change(analysis, &change, "formatting")?;
                applicable = Some(change);
                let mut formatted = text.to_string();
                for e in edits.iter().rev() {
                    formatted.replace_range(e.range.start as usize..e.range.end as usize, &e.new_text);
                }
                match etr_fmt::format(text) {
                    Ok(expected) if expected == formatted => stats.passed("lsp formatting: gives etr fmt's text"),
                    Ok(expected) => {
                        return Err(Failure::new(
                            "the formatting edit differs from etr fmt",
                            crate::spec::first_difference(&expected, &formatted),
                        ));
                    }
                    Err(e) => {
                        return Err(Failure::new("formats a text etr fmt refuses", e.to_string()));
                    }
                }
            }
        }
        "inlay-hints" => {
            for hint in analysis.inlay_hints(range).map_err(cancelled)? {
                within(file, TextRange::new(hint.offset, hint.offset), &format!("inlay hint `{}`", hint.label))?;
            }
        }
        other => return Err(Failure::new("unknown request", other.to_string())),
    }
    Ok(applicable)
}

/// Edits inside their files, on char boundaries, not overlapping within a file.
fn source_change(analysis: &Analysis, change: &SourceChange, what: &str) -> Result<(), Failure> {
    for (file, edits) in &change.edits {
        for e in edits {
            valid_range(analysis, *file, e.range, what)?;
        }
        let mut ranges: Vec<TextRange> = edits.iter().map(|e| e.range).collect();
        ranges.sort();
        for pair in ranges.windows(2) {
            if pair[1].start < pair[0].end {
                return Err(Failure::new("overlapping edits", format!("{what}: {:?} and {:?}", pair[0], pair[1])));
            }
        }
    }
    Ok(())
}

fn valid_range(analysis: &Analysis, file: FileId, range: TextRange, what: &str) -> Result<(), Failure> {
    let Some(text) = analysis.file_text(file).map_err(cancelled)? else {
        return Err(Failure::new("an answer names an unknown file", format!("{what}: {file:?}")));
    };
    let (start, end) = (range.start as usize, range.end as usize);
    if start > end || end > text.len() {
        return Err(Failure::new(
            "a range outside the text",
            format!("{what}: {start}..{end} in a text of {} bytes", text.len()),
        ));
    }
    if !text.is_char_boundary(start) || !text.is_char_boundary(end) {
        return Err(Failure::new("a range splits a character", format!("{what}: {start}..{end}")));
    }
    Ok(())
}
