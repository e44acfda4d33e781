//! Inlay hints: the inferred type after each `let` name (`let total: money? = ...`), since a let
//! has no written type and its nullability decides which rules can use it without `??`; and the
//! type of each mapping line's value at its end, where a nullable value shows at a glance.

use etr_syntax::ast::Item;

use crate::db::IdeDatabase;
use crate::{FileRange, FileTable, TextRange};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlayHint {
    /// Where the hint is shown (a zero-width position, after the name).
    pub offset: u32,
    pub label: String,
}

pub(crate) fn inlay_hints(db: &IdeDatabase, files: &FileTable, range: FileRange) -> Vec<InlayHint> {
    let Some(entry) = files.get(range.file) else { return Vec::new() };
    let parsed = etr_sema::parse(db, entry.source);
    let check = etr_sema::check(db, entry.source);
    let type_of = |span| check.expr_types.iter().find(|t| t.span == span).map(|t| t.ty.clone());
    let mut acc = Vec::new();
    for item in &parsed.items {
        match item {
            Item::Let(it) if TextRange::from(it.span).intersects(range.range) => {
                if let Some(ty) = type_of(it.value.span) {
                    acc.push(InlayHint { offset: it.name.span.end, label: format!(": {ty}") });
                }
            }
            Item::Map(map) => {
                for assignment in &map.assignments {
                    if !TextRange::from(assignment.span).intersects(range.range) {
                        continue;
                    }
                    if let Some(ty) = type_of(assignment.value.span) {
                        acc.push(InlayHint { offset: assignment.value.span.end, label: format!(" : {ty}") });
                    }
                }
            }
            _ => {}
        }
    }
    acc
}
