//! Completion: what can be written at the cursor.
//!
//! The context comes from the text before the cursor, not from the tree: the item being typed is
//! usually the one that does not parse yet. The names offered come from the file's symbol index
//! (its own declarations and its imports'), which the other, well-formed items keep up to date.
//!
//! Contexts, most specific first: a rule after `else reject`/`else fail`; a header or trailer
//! field after `header.`/`trailer.`; a function after `value.`; a key inside `table[`; a code
//! member after `=>` in a table; a record field at the start of a mapping line; a keyword or an
//! item snippet at the start of a top-level line; otherwise any value name, function or table.

use std::collections::HashSet;

use etr_sema::builtins::{self, BuiltinKind};
use etr_syntax::ast::Item;
use etr_syntax::keywords::{self, KeywordClass};

use crate::db::IdeDatabase;
use crate::index::{DefKind, FileIndex, file_index, literal_text};
use crate::text::{clamp_offset, enclosing_item_line, ident_start, inside_braces, is_line_end, line_prefix};
use crate::{FilePosition, FileTable, TextRange};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CompletionKind {
    Column,
    Field,
    Let,
    Function,
    Table,
    TableKey,
    CodeMember,
    Rule,
    Keyword,
    Snippet,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletionItem {
    pub label: String,
    pub kind: CompletionKind,
    /// A short type or signature shown beside the label.
    pub detail: Option<String>,
    pub documentation: Option<String>,
    /// The text that replaces `replace`; a snippet with `$1`-style tab stops when `is_snippet`.
    pub insert_text: String,
    pub is_snippet: bool,
    /// The name fragment already typed, which the completion replaces.
    pub replace: TextRange,
}

/// Item snippets: label, what it is, the snippet.
const SNIPPETS: &[(&str, &str, &str)] = &[
    (
        "rule",
        "a quality rule with a check",
        "rule ${1:R1} ${2|reject,warn,fatal,info|} \"${3:message}\" {\n  check ${4:condition} on ${5:field}\n}",
    ),
    ("map", "the mapping of each line into a record", "map to ${1:Record} {\n  ${2:field} = ${3:COLUMN}\n}"),
    ("table", "a code table", "table ${1:name}: text -> ${2:Code} {\n  \"${3:raw}\" => \"${4:canonical}\"\n}"),
    ("let", "a derived value", "let ${1:name} = ${2:expression}"),
];

struct Ctx<'a> {
    index: &'a FileIndex,
    replace: TextRange,
    acc: Vec<CompletionItem>,
}

impl Ctx<'_> {
    fn add(&mut self, label: &str, kind: CompletionKind, detail: Option<String>, documentation: Option<String>) {
        self.acc.push(CompletionItem {
            label: label.to_string(),
            kind,
            detail,
            documentation,
            insert_text: label.to_string(),
            is_snippet: false,
            replace: self.replace,
        });
    }

    fn defs(&mut self, kind: DefKind, completion: CompletionKind) {
        let defs: Vec<_> = self.index.of_kind(kind).cloned().collect();
        let mut seen = HashSet::new();
        for def in defs {
            if seen.insert(def.name.clone()) {
                self.add(&def.name, completion, Some(def.signature.clone()), def.doc.clone());
            }
        }
    }

    fn functions(&mut self, methods_only: bool) {
        for signature in builtins::ALL {
            // `x.f()` passes `x` as the first argument: only functions with one can be methods.
            if methods_only && (signature.params.is_empty() || signature.kind == BuiltinKind::Aggregate) {
                continue;
            }
            self.add(
                signature.name,
                CompletionKind::Function,
                Some(signature.signature.to_string()),
                Some(signature.doc.to_string()),
            );
        }
    }

    /// The keywords of a class: items at the start of a top-level line, words that start or
    /// continue an expression, statements inside a rule's braces.
    fn keywords(&mut self, class: KeywordClass) {
        for word in keywords::of_class(class) {
            self.add(word, CompletionKind::Keyword, None, None);
        }
    }

    /// Every value an expression can name: lets, fields of the mapped record, columns.
    fn values(&mut self, record: Option<&str>) {
        self.defs(DefKind::Let, CompletionKind::Let);
        if let Some(record) = record {
            let fields: Vec<_> = self.index.fields_of(record).cloned().collect();
            for def in fields {
                self.add(&def.name, CompletionKind::Field, Some(def.signature.clone()), def.doc.clone());
            }
        }
        self.defs(DefKind::Column, CompletionKind::Column);
        self.defs(DefKind::Table, CompletionKind::Table);
        self.functions(false);
        self.keywords(KeywordClass::Expression);
    }
}

pub(crate) fn completions(db: &IdeDatabase, files: &FileTable, position: FilePosition) -> Vec<CompletionItem> {
    let Some(entry) = files.get(position.file) else { return Vec::new() };
    let text = entry.source.text(db);
    let offset = clamp_offset(text, position.offset);
    let index = file_index(db, entry.source);
    let parsed = etr_sema::parse(db, entry.source);
    let start = ident_start(text, offset);
    let replace = TextRange::new(start as u32, offset as u32);
    let mut ctx = Ctx { index: &index, replace, acc: Vec::new() };
    let prefix = line_prefix(text, offset);
    // The line up to the name being typed.
    let before = &prefix[..prefix.len() - (offset - start)];
    let trimmed = before.trim_end();
    let item_line = enclosing_item_line(text, offset);
    let item_word = item_line.and_then(|l| l.split_whitespace().next()).unwrap_or("");
    let record = index.mapped_record.clone();

    if before.is_empty() {
        // The start of a top-level line: a new item.
        ctx.keywords(KeywordClass::Item);
        for (label, detail, body) in SNIPPETS {
            ctx.acc.push(CompletionItem {
                label: format!("{label}…"),
                kind: CompletionKind::Snippet,
                detail: Some(detail.to_string()),
                documentation: None,
                insert_text: body.to_string(),
                is_snippet: true,
                replace,
            });
        }
    } else if ends_with_words(trimmed, &["else", "reject"]) || ends_with_words(trimmed, &["else", "fail"]) {
        ctx.defs(DefKind::Rule, CompletionKind::Rule);
    } else if before.ends_with("header.") {
        ctx.defs(DefKind::HeaderField, CompletionKind::Field);
    } else if before.ends_with("trailer.") {
        ctx.defs(DefKind::TrailerField, CompletionKind::Field);
    } else if before.ends_with('.') && !before.ends_with("..") {
        ctx.functions(true);
    } else if let Some(table) = table_being_indexed(before) {
        // The table may be declared in an imported module.
        let resolved = etr_sema::resolve(db, entry.source);
        let items: Vec<&Item> =
            parsed.items.iter().chain(resolved.imports.iter().flat_map(|m| m.items.iter())).collect();
        table_keys(&mut ctx, &items, table, text, offset);
    } else if item_word == "table" && (trimmed.ends_with("=>") || before.ends_with("=> \"")) {
        let code = item_line.and_then(table_value_type);
        code_members(&mut ctx, code.as_deref(), text, offset);
    } else if item_word == "map" && inside_braces(text, offset) && trimmed.is_empty() {
        // The start of a mapping line: the fields of the target record not mapped yet.
        let target = item_line.and_then(|l| l.split_whitespace().nth(2)).map(|t| t.trim_end_matches('{').to_string());
        let mapped = assigned_fields(text, offset);
        if let Some(target) = target.or(record) {
            let fields: Vec<_> = index.fields_of(&target).filter(|d| !mapped.contains(&d.name)).cloned().collect();
            for def in fields {
                ctx.add(&def.name, CompletionKind::Field, Some(def.signature.clone()), def.doc.clone());
            }
        }
    } else if item_word == "rule" && inside_braces(text, offset) && trimmed.is_empty() {
        ctx.keywords(KeywordClass::RuleStatement);
    } else if item_word == "override" {
        ctx.defs(DefKind::Rule, CompletionKind::Rule);
    } else {
        ctx.values(record.as_deref());
    }
    let mut acc = ctx.acc;
    acc.sort_by(|a, b| (a.kind, &a.label).cmp(&(b.kind, &b.label)));
    acc.dedup_by(|a, b| a.label == b.label && a.kind == b.kind);
    acc
}

/// The fields already assigned in the mapping around `offset`, read from the text (the mapping
/// being edited usually does not parse): every `name =` line of the item.
fn assigned_fields(text: &str, offset: usize) -> HashSet<String> {
    let item_start = text[..offset]
        .match_indices(is_line_end)
        .map(|(i, _)| i + 1)
        .rfind(|&i| text[i..].starts_with(|c: char| c.is_ascii_alphabetic()))
        .unwrap_or(0);
    let mut acc = HashSet::new();
    for (n, line) in
        etr_syntax::lines::split_inclusive(&text[item_start..]).map(etr_syntax::lines::strip_line_end).enumerate()
    {
        if n > 0 && line.starts_with(|c: char| !c.is_whitespace()) {
            break;
        }
        let line = line.trim_start().trim_start_matches(['{', ' ']);
        let name: String = line.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
        let rest = line[name.len()..].trim_start();
        if !name.is_empty() && rest.starts_with('=') && !rest.starts_with("==") {
            acc.insert(name);
        }
    }
    acc
}

fn ends_with_words(text: &str, words: &[&str]) -> bool {
    let mut tail = text.split_whitespace().rev();
    words.iter().rev().all(|w| tail.next() == Some(*w))
}

/// `name[` or `name["par` before the cursor: the table being looked up.
fn table_being_indexed(before: &str) -> Option<&str> {
    let open = before.rfind('[')?;
    let inside = &before[open + 1..];
    if inside.contains(']') || !(inside.is_empty() || inside.starts_with('"') && inside.matches('"').count() == 1) {
        return None;
    }
    let head = before[..open].trim_end();
    let name_start = head.char_indices().rev().take_while(|(_, c)| c.is_ascii_alphanumeric() || *c == '_').last()?.0;
    Some(&head[name_start..])
}

/// The value type of a table from its first line: `table name: KEY -> VALUE {`.
fn table_value_type(line: &str) -> Option<String> {
    let after = line.split("->").nth(1)?;
    let name: String = after.trim_start().chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    (!name.is_empty()).then_some(name)
}

/// When the cursor is inside an open string, the completion replaces from the quote, so that the
/// label can carry its own quotes.
fn string_start(text: &str, offset: usize) -> Option<usize> {
    let prefix = line_prefix(text, offset);
    let quotes = prefix.matches('"').count();
    (quotes % 2 == 1).then(|| offset - (prefix.len() - prefix.rfind('"').unwrap_or(0)))
}

fn table_keys(ctx: &mut Ctx<'_>, items: &[&Item], table: &str, text: &str, offset: usize) {
    let Some(found) = items.iter().find_map(|i| match i {
        Item::Table(t) if t.name.text == table => Some(t),
        _ => None,
    }) else {
        return;
    };
    if let Some(quote) = string_start(text, offset) {
        ctx.replace = TextRange::new(quote as u32, offset as u32);
    }
    for entry in &found.entries {
        let key = literal_text(&entry.key.value);
        let value = literal_text(&entry.value.value);
        ctx.add(&key, CompletionKind::TableKey, Some(format!("=> {value}")), None);
    }
}

fn code_members(ctx: &mut Ctx<'_>, code: Option<&str>, text: &str, offset: usize) {
    let Some(code) = code else { return };
    if let Some(quote) = string_start(text, offset) {
        ctx.replace = TextRange::new(quote as u32, offset as u32);
    }
    let members: Vec<_> =
        ctx.index.of_kind(DefKind::CodeMember).filter(|m| m.container.as_deref() == Some(code)).cloned().collect();
    for member in members {
        ctx.add(&format!("{:?}", member.name), CompletionKind::CodeMember, Some(code.to_string()), member.doc.clone());
    }
}
