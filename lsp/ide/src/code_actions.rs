//! Quick fixes, each built from what the compiler already knows:
//!
//! - a misspelt name: the diagnostic's "did you mean `X`?" becomes a replacement;
//! - an unhandled fallible operation (E400): append `else null`, or `else reject R` for each
//!   reject rule in scope;
//! - a code table that does not map to every member of its code: add an entry for a missing
//!   member (the contributor's key is left for the analyst to fill in, selected as a placeholder).

use etr_syntax::ast::{Item, LitValue};

use crate::db::IdeDatabase;
use crate::diagnostics::diagnostics;
use crate::index::{DefKind, file_index};
use crate::{FileRange, FileTable, SourceChange, TextEdit, TextRange};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeAction {
    pub title: String,
    /// The code of the diagnostic it fixes, if any.
    pub fixes: Option<String>,
    pub change: SourceChange,
}

/// How many `else reject R` fixes to offer at most.
const MAX_REJECT_FIXES: usize = 3;

pub(crate) fn code_actions(db: &IdeDatabase, files: &FileTable, range: FileRange) -> Vec<CodeAction> {
    let Some(entry) = files.get(range.file) else { return Vec::new() };
    let edit = |at: TextRange, new_text: String| SourceChange {
        edits: vec![(range.file, vec![TextEdit { range: at, new_text }])],
    };
    let mut acc = Vec::new();
    for diagnostic in diagnostics(db, files, range.file) {
        if !diagnostic.range.intersects(range.range) {
            continue;
        }
        if let Some(name) = diagnostic.help.as_deref().and_then(suggested_name) {
            acc.push(CodeAction {
                title: format!("Replace with `{name}`"),
                fixes: Some(diagnostic.code.clone()),
                change: edit(diagnostic.range, name.to_string()),
            });
        }
        if diagnostic.code == etr_sema::codes::UNHANDLED_FALLIBLE.id {
            let end = TextRange::new(diagnostic.range.end, diagnostic.range.end);
            acc.push(CodeAction {
                title: "Handle the failure with `else null`".into(),
                fixes: Some(diagnostic.code.clone()),
                change: edit(end, " else null".into()),
            });
            let index = file_index(db, entry.source);
            let rejects = index.of_kind(DefKind::Rule).filter(|r| r.signature.split(' ').nth(2) == Some("reject"));
            for rule in rejects.take(MAX_REJECT_FIXES) {
                acc.push(CodeAction {
                    title: format!("Reject the line under rule {} when it fails", rule.name),
                    fixes: Some(diagnostic.code.clone()),
                    change: edit(end, format!(" else reject {}", rule.name)),
                });
            }
        }
    }
    acc.extend(missing_table_entries(db, files, range));
    acc
}

/// The name in "did you mean `X`?".
fn suggested_name(help: &str) -> Option<&str> {
    let rest = help.split("did you mean `").nth(1)?;
    rest.split('`').next().filter(|name| !name.is_empty())
}

fn missing_table_entries(db: &IdeDatabase, files: &FileTable, range: FileRange) -> Vec<CodeAction> {
    let Some(entry) = files.get(range.file) else { return Vec::new() };
    let parsed = etr_sema::parse(db, entry.source);
    let index = file_index(db, entry.source);
    let mut acc = Vec::new();
    for item in &parsed.items {
        let Item::Table(table) = item else { continue };
        if !TextRange::from(table.span).intersects(range.range) {
            continue;
        }
        let code = &table.value_ty.name.text;
        let mapped: Vec<&str> = table
            .entries
            .iter()
            .filter_map(|e| if let LitValue::String(v) = &e.value.value { Some(v.as_str()) } else { None })
            .collect();
        // Insert after the last entry, or right after the opening brace of an empty table.
        let (at, separator) = match table.entries.last() {
            Some(last) => (last.span.end, ", "),
            None => {
                let text = entry.source.text(db);
                let brace = text[table.span.start as usize..table.span.end as usize].find('{');
                match brace {
                    Some(i) => (table.span.start + i as u32 + 1, " "),
                    None => continue,
                }
            }
        };
        for member in index.of_kind(DefKind::CodeMember).filter(|m| m.container.as_deref() == Some(code.as_str())) {
            if mapped.contains(&member.name.as_str()) {
                continue;
            }
            acc.push(CodeAction {
                title: format!("Add an entry mapping to {:?} in table `{}`", member.name, table.name.text),
                fixes: None,
                change: SourceChange {
                    edits: vec![(
                        range.file,
                        vec![TextEdit {
                            range: TextRange::new(at, at),
                            new_text: format!("{separator}\"KEY\" => {:?}", member.name),
                        }],
                    )],
                },
            });
        }
    }
    acc
}
