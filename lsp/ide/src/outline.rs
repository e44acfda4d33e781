//! Document symbols: the outline of a file, one node per item with what it declares below it
//! (a record's fields, a code's members, a mapping's assignments, the source's columns).

use etr_syntax::ast::{Item, SourceSetting};

use crate::db::IdeDatabase;
use crate::index::{literal_text, type_text};
use crate::{FileId, FileTable, TextRange};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SymbolKind {
    Contributor,
    Module,
    Source,
    Table,
    Map,
    Let,
    Rule,
    Override,
    Record,
    Code,
    Field,
    Column,
    CodeMember,
    TableEntry,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentSymbol {
    pub name: String,
    pub detail: Option<String>,
    pub kind: SymbolKind,
    pub full_range: TextRange,
    pub focus_range: TextRange,
    pub children: Vec<DocumentSymbol>,
}

fn leaf(name: String, detail: Option<String>, kind: SymbolKind, full: TextRange, focus: TextRange) -> DocumentSymbol {
    DocumentSymbol { name, detail, kind, full_range: full, focus_range: focus, children: Vec::new() }
}

pub(crate) fn document_symbols(db: &IdeDatabase, files: &FileTable, file: FileId) -> Vec<DocumentSymbol> {
    let Some(entry) = files.get(file) else { return Vec::new() };
    let parsed = etr_sema::parse(db, entry.source);
    parsed.items.iter().map(item_symbol).collect()
}

fn item_symbol(item: &Item) -> DocumentSymbol {
    let full: TextRange = item.span().into();
    match item {
        Item::Contributor(it) => {
            leaf(it.code.text.clone(), Some(it.name.value.clone()), SymbolKind::Contributor, full, it.code.span.into())
        }
        Item::Use(it) => {
            let name: Vec<&str> = it.path.segments.iter().map(|s| s.text.as_str()).collect();
            leaf(name.join("."), None, SymbolKind::Module, full, it.path.span.into())
        }
        Item::Source(source) => {
            let mut node = leaf("source".into(), None, SymbolKind::Source, full, full);
            for setting in &source.settings {
                match setting {
                    SourceSetting::Columns { columns, .. } => node.children.extend(
                        columns
                            .iter()
                            .map(|c| leaf(c.text.clone(), None, SymbolKind::Column, c.span.into(), c.span.into())),
                    ),
                    SourceSetting::Header(line) | SourceSetting::Trailer(line) => {
                        let word = if matches!(setting, SourceSetting::Header(_)) { "header" } else { "trailer" };
                        node.children.extend(line.fields.iter().map(|f| {
                            leaf(
                                format!("{word}.{}", f.name.text),
                                Some(type_text(&f.ty)),
                                SymbolKind::Field,
                                f.span.into(),
                                f.name.span.into(),
                            )
                        }));
                    }
                    _ => {}
                }
            }
            node
        }
        Item::Table(table) => {
            let detail = format!("{} -> {}", type_text(&table.key_ty), type_text(&table.value_ty));
            let mut node = leaf(table.name.text.clone(), Some(detail), SymbolKind::Table, full, table.name.span.into());
            node.children = table
                .entries
                .iter()
                .map(|e| {
                    let name = format!("{} => {}", literal_text(&e.key.value), literal_text(&e.value.value));
                    leaf(name, None, SymbolKind::TableEntry, e.span.into(), e.key.span.into())
                })
                .collect();
            node
        }
        Item::Map(map) => {
            let mut node =
                leaf(format!("map to {}", map.target.text), None, SymbolKind::Map, full, map.target.span.into());
            node.children = map
                .assignments
                .iter()
                .map(|a| leaf(a.field.text.clone(), None, SymbolKind::Field, a.span.into(), a.field.span.into()))
                .collect();
            node
        }
        Item::Let(it) => leaf(it.name.text.clone(), None, SymbolKind::Let, full, it.name.span.into()),
        Item::Rule(rule) => leaf(
            rule.id.text.clone(),
            Some(format!("{} {:?}", rule.severity.as_str(), rule.message.value)),
            SymbolKind::Rule,
            full,
            rule.id.span.into(),
        ),
        Item::Override(it) => {
            leaf(format!("override {}", it.rule.text), None, SymbolKind::Override, full, it.rule.span.into())
        }
        Item::Record(record) => {
            let mut node = leaf(record.name.text.clone(), None, SymbolKind::Record, full, record.name.span.into());
            node.children = record
                .fields
                .iter()
                .map(|f| {
                    leaf(
                        f.name.text.clone(),
                        Some(type_text(&f.ty)),
                        SymbolKind::Field,
                        f.span.into(),
                        f.name.span.into(),
                    )
                })
                .collect();
            node
        }
        Item::Code(code) => {
            let mut node = leaf(code.name.text.clone(), None, SymbolKind::Code, full, code.name.span.into());
            node.children = code
                .members
                .iter()
                .map(|m| {
                    leaf(
                        format!("{:?}", m.value.value),
                        m.doc.as_ref().map(|d| d.text.clone()),
                        SymbolKind::CodeMember,
                        m.span.into(),
                        m.value.span.into(),
                    )
                })
                .collect();
            node
        }
    }
}
