//! The compiler's diagnostics for one file, in editor terms: ranges, a code, related locations.
//!
//! `etr_sema::check` reports, for a spec, also the diagnostics located in the modules it imports
//! (a shared rule set is only checked as part of a spec that uses it). Here a file shows the
//! diagnostics located in it, from its own check and from the checks of the workspace specs that
//! import it, so that each problem is shown once, on the file where it can be fixed.

use crate::db::IdeDatabase;
use crate::{FileId, FileRange, FileTable, TextRange};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

/// A location that explains a diagnostic ("first declared here").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelatedInfo {
    pub location: FileRange,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub range: TextRange,
    pub severity: Severity,
    /// The stable code, `E300`.
    pub code: String,
    pub message: String,
    /// The primary label's text ("unknown name").
    pub label: String,
    /// The compiler's hint, e.g. "did you mean `amount_due`?".
    pub help: Option<String>,
    pub related: Vec<RelatedInfo>,
}

pub(crate) fn diagnostics(db: &IdeDatabase, files: &FileTable, file: FileId) -> Vec<Diagnostic> {
    let Some(entry) = files.get(file) else { return Vec::new() };
    let mut found: Vec<etr_sema::Diagnostic> = Vec::new();
    let own = etr_sema::check(db, entry.source);
    found.extend(own.diagnostics.iter().filter(|d| d.primary.file == entry.info.path).cloned());
    // Importers are only looked for when the file is a module; their checks are memoized.
    if entry.info.module.is_some() && !entry.info.read_only {
        for (other, other_entry) in files.all() {
            if other == file || other_entry.info.read_only {
                continue;
            }
            let imports = etr_sema::resolve(db, other_entry.source);
            if !imports.imports.iter().any(|m| m.path == entry.info.path) {
                continue;
            }
            for d in etr_sema::check(db, other_entry.source).diagnostics.iter() {
                if d.primary.file == entry.info.path && !found.contains(d) {
                    found.push(d.clone());
                }
            }
        }
    }
    found.sort_by_key(|d| (d.primary.span.start, d.primary.span.end));
    found
        .iter()
        .map(|d| Diagnostic {
            range: d.primary.span.into(),
            severity: if d.is_error() { Severity::Error } else { Severity::Warning },
            code: d.code.id.to_string(),
            message: d.message.clone(),
            label: d.primary.message.clone(),
            help: d.help.clone(),
            related: d
                .secondary
                .iter()
                .filter_map(|label| {
                    let other = files.by_path(&label.file)?;
                    Some(RelatedInfo {
                        location: FileRange { file: other, range: label.span.into() },
                        message: label.message.clone(),
                    })
                })
                .collect(),
        })
        .collect()
}
