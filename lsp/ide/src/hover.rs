//! Hover: what the cursor is on, as Markdown.
//!
//! In order of preference: a name (its declaration, inferred type and doc line), a built-in
//! function (signature, fallibility, doc), a code-table entry (what the contributor's code maps to,
//! with the canonical code's doc), and otherwise the inferred type of the smallest expression
//! under the cursor.

use etr_sema::builtins::{self, BuiltinKind, ExampleScope};
use etr_syntax::ast::{Item, LitValue};

use crate::db::IdeDatabase;
use crate::index::{Def, DefKind, FileIndex, Target, file_index, literal_text};
use crate::{FileId, FilePosition, FileTable, TextRange};

/// Markdown to show and the range it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoverResult {
    pub range: TextRange,
    pub markdown: String,
}

pub(crate) fn hover(db: &IdeDatabase, files: &FileTable, position: FilePosition) -> Option<HoverResult> {
    let entry = files.get(position.file)?;
    let index = file_index(db, entry.source);
    let check = etr_sema::check(db, entry.source);
    let type_at =
        |range: TextRange| check.expr_types.iter().find(|t| TextRange::from(t.span) == range).map(|t| t.ty.clone());

    if let Some(reference) = index.reference_at(position.offset) {
        let range = TextRange::from(reference.span);
        let markdown = match &reference.target {
            Target::Builtin(name) => builtin_markdown(name),
            Target::Module(name) => {
                let path = files.all().into_iter().find(|(_, e)| e.info.module.as_deref() == Some(name.as_str()));
                match path {
                    Some((_, e)) => format!("```etr\nuse {name}\n```\n\nmodule file `{}`", e.info.path),
                    None => format!("```etr\nuse {name}\n```\n\nunknown module"),
                }
            }
            target @ Target::Def { .. } => {
                let def = index.def(target)?;
                // A let's own type is the type of its value; a reference's is where it is used.
                let ty = if def.kind == DefKind::Let && reference.is_def {
                    let_value_type(db, files, position.file, def, &type_at)
                } else {
                    type_at(range)
                };
                def_markdown(def, ty.as_deref(), &index)
            }
        };
        return Some(HoverResult { range, markdown });
    }

    if let Some(found) = table_entry_hover(db, files, position.file, position.offset, &index) {
        return Some(found);
    }

    // The innermost typed expression under the cursor.
    let expr = check
        .expr_types
        .iter()
        .filter(|t| TextRange::from(t.span).touches(position.offset))
        .min_by_key(|t| t.span.end - t.span.start)?;
    Some(HoverResult { range: expr.span.into(), markdown: format!("```etr\n{}\n```", expr.ty) })
}

fn let_value_type(
    db: &IdeDatabase,
    files: &FileTable,
    file: FileId,
    def: &Def,
    type_at: &dyn Fn(TextRange) -> Option<String>,
) -> Option<String> {
    let entry = files.get(file)?;
    let parsed = etr_sema::parse(db, entry.source);
    parsed.items.iter().find_map(|item| match item {
        Item::Let(it) if it.name.span == def.name_span => type_at(it.value.span.into()),
        _ => None,
    })
}

pub(crate) fn builtin_markdown(name: &str) -> String {
    let Some(signature) = builtins::lookup(name) else { return format!("`{name}`") };
    let note = match signature.kind {
        BuiltinKind::Pure => String::new(),
        BuiltinKind::Fallible => {
            format!("\n\nCan fail on data ({}): handle it with `else`.", signature.failure)
        }
        BuiltinKind::Aggregate => "\n\nAn aggregate: runs over every data line, in file checks.".to_string(),
    };
    let mut examples = String::new();
    // The first per-line examples, with the value of `X` they read (the reference has them all).
    for example in signature.examples.iter().filter(|e| e.scope == ExampleScope::Row).take(2) {
        let x = example.lines.first().and_then(|line| line.split('|').next()).unwrap_or("");
        examples.push_str(&format!("\n- `{}` with `X` = `{x:?}` gives `{}`", example.call, example.result));
    }
    if !examples.is_empty() {
        examples.insert_str(0, "\n\nExamples:");
    }
    format!("```etr\n{}\n```\n\n{}{note}{examples}", signature.signature, signature.doc)
}

fn def_markdown(def: &Def, ty: Option<&str>, index: &FileIndex) -> String {
    let mut signature = def.signature.clone();
    match def.kind {
        DefKind::Let => {
            if let Some(ty) = ty {
                signature = format!("{signature}: {ty}");
            }
        }
        DefKind::Field => {
            if let Some(record) = &def.container {
                signature = format!("{signature}\n// in record {record}");
            }
        }
        _ => {}
    }
    let mut markdown = format!("```etr\n{signature}\n```");
    if let Some(ty) = ty
        && def.kind != DefKind::Let
    {
        markdown.push_str(&format!("\n\ntype here: `{ty}`"));
    }
    if let Some(doc) = &def.doc {
        markdown.push_str("\n\n");
        markdown.push_str(doc);
    }
    if def.kind == DefKind::Code {
        let members: Vec<String> = index
            .of_kind(DefKind::CodeMember)
            .filter(|m| m.container.as_deref() == Some(def.name.as_str()))
            .map(|m| match &m.doc {
                Some(doc) => format!("- `{:?}`: {doc}", m.name),
                None => format!("- `{:?}`", m.name),
            })
            .collect();
        if !members.is_empty() {
            markdown.push_str("\n\n");
            markdown.push_str(&members.join("\n"));
        }
    }
    markdown
}

/// On a table entry's key or value: what the contributor's code maps to, and what that means.
fn table_entry_hover(
    db: &IdeDatabase,
    files: &FileTable,
    file: FileId,
    offset: u32,
    index: &FileIndex,
) -> Option<HoverResult> {
    let entry = files.get(file)?;
    let parsed = etr_sema::parse(db, entry.source);
    for item in &parsed.items {
        let Item::Table(table) = item else { continue };
        if !TextRange::from(table.span).touches(offset) {
            continue;
        }
        let found = table.entries.iter().find(|e| TextRange::from(e.span).touches(offset))?;
        let value_doc = match &found.value.value {
            LitValue::String(value) => index
                .of_kind(DefKind::CodeMember)
                .find(|m| m.name == *value && m.container.as_deref() == Some(table.value_ty.name.text.as_str()))
                .and_then(|m| m.doc.clone()),
            _ => None,
        };
        let mut markdown = format!(
            "`{}` maps to `{}` ({})",
            literal_text(&found.key.value),
            literal_text(&found.value.value),
            table.value_ty.name.text
        );
        if let Some(doc) = value_doc {
            markdown.push_str(&format!(": {doc}"));
        }
        markdown.push_str(&format!("\n\nin table `{}`", table.name.text));
        return Some(HoverResult { range: found.span.into(), markdown });
    }
    None
}
