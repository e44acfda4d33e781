//! Go to definition, find references and rename, across the workspace and into the stdlib.
//!
//! A symbol is identified by its declaration (file and name span), never by its name alone, so
//! two specs that both have a column `ACCT` never see each other's uses. References are found by
//! asking every file's index which of its names resolve to that declaration.

use crate::db::IdeDatabase;
use crate::index::{DefKind, FileIndex, Reference, Target, file_index};
use crate::rename_check;
use crate::semantic_tokens::KEYWORDS;
use crate::{FileId, FilePosition, FileRange, FileTable, SourceChange, TextRange};

/// Where a definition is: the whole declaration and the name to select in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NavigationTarget {
    pub file: FileId,
    pub full_range: TextRange,
    pub focus_range: TextRange,
    pub name: String,
}

/// Why a rename is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenameError(pub String);

impl std::fmt::Display for RenameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn reference_at(
    db: &IdeDatabase,
    files: &FileTable,
    position: FilePosition,
) -> Option<(std::sync::Arc<FileIndex>, Reference)> {
    let entry = files.get(position.file)?;
    let index = file_index(db, entry.source);
    let reference = index.reference_at(position.offset)?.clone();
    Some((index, reference))
}

pub(crate) fn goto_definition(db: &IdeDatabase, files: &FileTable, position: FilePosition) -> Vec<NavigationTarget> {
    let Some((index, reference)) = reference_at(db, files, position) else { return Vec::new() };
    match &reference.target {
        Target::Builtin(_) => Vec::new(),
        Target::Module(name) => files
            .all()
            .into_iter()
            .filter(|(_, e)| e.info.module.as_deref() == Some(name.as_str()))
            .map(|(file, e)| NavigationTarget {
                file,
                full_range: TextRange::new(0, e.source.text(db).len() as u32),
                focus_range: TextRange::new(0, 0),
                name: name.clone(),
            })
            .collect(),
        target @ Target::Def { .. } => {
            let Some(def) = index.def(target) else { return Vec::new() };
            let Some(file) = files.by_path(&def.path) else { return Vec::new() };
            vec![NavigationTarget {
                file,
                full_range: def.full_span.into(),
                focus_range: def.name_span.into(),
                name: def.name.clone(),
            }]
        }
    }
}

/// Every occurrence of `target` in the workspace, sorted by file and offset.
fn occurrences(db: &IdeDatabase, files: &FileTable, target: &Target, include_declaration: bool) -> Vec<FileRange> {
    let mut acc = Vec::new();
    for (file, entry) in files.all() {
        let index = file_index(db, entry.source);
        for reference in &index.references {
            if reference.target == *target && (include_declaration || !reference.is_def) {
                acc.push(FileRange { file, range: reference.span.into() });
            }
        }
    }
    acc.sort();
    acc
}

pub(crate) fn references(
    db: &IdeDatabase,
    files: &FileTable,
    position: FilePosition,
    include_declaration: bool,
) -> Vec<FileRange> {
    match reference_at(db, files, position) {
        Some((_, reference)) => occurrences(db, files, &reference.target, include_declaration),
        None => Vec::new(),
    }
}

/// The declaration the cursor's name refers to, if it may be renamed.
fn renamable(db: &IdeDatabase, files: &FileTable, position: FilePosition) -> Result<(Target, Reference), RenameError> {
    let Some((_, reference)) = reference_at(db, files, position) else {
        return Err(RenameError("there is no name to rename here".into()));
    };
    let Target::Def { kind, path, .. } = &reference.target else {
        return Err(RenameError("built-in functions and modules cannot be renamed".into()));
    };
    if *kind == DefKind::CodeMember {
        return Err(RenameError("a code member is a value, not a name: edit the code list instead".into()));
    }
    let declared_in = files.by_path(path).and_then(|f| files.get(f));
    if declared_in.is_none_or(|e| e.info.read_only) {
        return Err(RenameError(format!("it is declared in {path}, which is read-only (the stdlib)")));
    }
    Ok((reference.target.clone(), reference))
}

pub(crate) fn prepare_rename(
    db: &IdeDatabase,
    files: &FileTable,
    position: FilePosition,
) -> Result<FileRange, RenameError> {
    let (_, reference) = renamable(db, files, position)?;
    Ok(FileRange { file: position.file, range: reference.span.into() })
}

pub(crate) fn rename(
    db: &IdeDatabase,
    files: &FileTable,
    position: FilePosition,
    new_name: &str,
) -> Result<SourceChange, RenameError> {
    let (target, _) = renamable(db, files, position)?;
    rename_check::check_new_name(new_name, KEYWORDS)?;
    let change = rename_check::rename_edits(&occurrences(db, files, &target, true), new_name);
    rename_check::check_meaning_kept(db, files, &target, new_name, &change)?;
    Ok(change)
}
