//! Inlay hints: the inferred type after each `let` name (`let total: money? = ...`), since a let
//! has no written type and its nullability decides which rules can use it without `??`.

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
    parsed
        .items
        .iter()
        .filter_map(|item| {
            let Item::Let(it) = item else { return None };
            if !TextRange::from(it.span).intersects(range.range) {
                return None;
            }
            let ty = check.expr_types.iter().find(|t| t.span == it.value.span)?;
            Some(InlayHint { offset: it.name.span.end, label: format!(": {}", ty.ty) })
        })
        .collect()
}
