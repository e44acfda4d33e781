//! Whether a rename keeps the meaning of the workspace: the check behind every rename.
//!
//! Names in etr resolve flatly (a plain name is a let, else a field of the mapped record, else a
//! column), so a new name can capture uses of another symbol (renaming a let to `PAY_STATUS`
//! makes `payment_statuses[PAY_STATUS]` read the let), be captured by one, or stop being a name
//! at all (`RM5` is a money literal). Rather than foresee each case, the rename is tried: the
//! edits are applied to the texts in memory, a fresh database analyses the result, and every
//! written name must resolve as before, moved by the edits: the renamed symbol's uses to its
//! renamed declaration, every other name to the same declaration as before, and no name that
//! resolved to nothing may start resolving. A rename that adds an error to a file (a duplicate
//! declaration no use reveals) is refused as well.
//!
//! Cost: one analysis of the workspace's own files (the stdlib's are never edited and cannot
//! see the workspace, so they are not compared), only when a rename is asked for.

use std::collections::HashMap;

use etr_syntax::ast::{ExprKind, Item};

use crate::db::IdeDatabase;
use crate::index::{DefKind, FileIndex, Target, file_index};
use crate::navigation::RenameError;
use crate::{FileEntry, FileTable, SourceChange, TextEdit};

/// Whether `name` can stand for a name everywhere one is written: it must be an identifier by
/// the grammar both where a name is declared and where one is read (`RM5` declares a let but
/// reads as money), and not a word the language spells its items and settings with.
pub(crate) fn check_new_name(name: &str, keywords: &[&str]) -> Result<(), RenameError> {
    let plain = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !plain {
        return Err(RenameError(format!(
            "`{name}` is not a valid name: a name is a letter or `_` followed by letters, digits and `_`"
        )));
    }
    if keywords.contains(&name) {
        return Err(RenameError(format!("`{name}` is not a valid name: it is a keyword")));
    }
    // Ask the parser, so that this stays true when the grammar changes: declared and read back.
    let probe = etr_syntax::parse_file(&format!("let {name} = {name}\n"));
    let reads_as_name = match probe.items.as_slice() {
        [Item::Let(it)] if probe.errors.is_empty() => {
            it.name.text == name && matches!(&it.value.kind, ExprKind::Name(read) if read.text == name)
        }
        _ => false,
    };
    if !reads_as_name {
        return Err(RenameError(format!(
            "`{name}` is not a valid name: it reads as a literal or a keyword, not as a name"
        )));
    }
    Ok(())
}

/// The edits of one file, sorted, and how offsets move through them.
struct FileEdits<'a> {
    edits: &'a [TextEdit],
}

impl FileEdits<'_> {
    /// Where `offset`, at or outside every edited range, is after the edits.
    fn offset(&self, offset: u32) -> u32 {
        let mut moved = i64::from(offset);
        for edit in self.edits.iter().take_while(|e| e.range.end <= offset) {
            moved += edit.new_text.len() as i64 - i64::from(edit.range.len());
        }
        moved as u32
    }

    fn span(&self, span: etr_syntax::ast::Span) -> etr_syntax::ast::Span {
        let start = self.offset(span.start);
        let end = match self.edits.iter().find(|e| e.range.start == span.start && e.range.end == span.end) {
            Some(edit) => start + edit.new_text.len() as u32,
            None => self.offset(span.end),
        };
        etr_syntax::ast::Span { start, end }
    }
}

/// A database and file table holding the workspace as it would be after `change`.
fn after_change(db: &IdeDatabase, files: &FileTable, change: &SourceChange) -> (IdeDatabase, FileTable) {
    let mut new_db = IdeDatabase::new();
    let mut table = FileTable::default();
    let mut modules = Vec::new();
    for (file, entry) in files.all() {
        let mut text = entry.source.text(db).clone();
        if let Some((_, edits)) = change.edits.iter().find(|(f, _)| *f == file) {
            // From the last edit to the first, so that the earlier offsets stay valid.
            for edit in edits.iter().rev() {
                text.replace_range(edit.range.start as usize..edit.range.end as usize, &edit.new_text);
            }
        }
        let source = new_db.new_file(&entry.info.path, text, entry.info.read_only);
        if let Some(module) = &entry.info.module {
            modules.push((module.clone(), source));
        }
        table.by_path.insert(entry.info.path.clone(), file);
        table.files.insert(file, FileEntry { source, info: entry.info.clone() });
    }
    modules.sort_by(|a, b| a.0.cmp(&b.0));
    new_db.set_modules(modules);
    (new_db, table)
}

fn kind_word(kind: DefKind) -> &'static str {
    match kind {
        DefKind::Contributor => "contributor",
        DefKind::Record => "record",
        DefKind::Field => "field",
        DefKind::Code => "code",
        DefKind::CodeMember => "code member",
        DefKind::Table => "table",
        DefKind::Rule => "rule",
        DefKind::Let => "let",
        DefKind::Column => "column",
        DefKind::HeaderField => "header field",
        DefKind::TrailerField => "trailer field",
    }
}

/// "the column `PAY_STATUS` (jcl.etr:17)", "the built-in `trim`", "nothing".
fn describe(target: Option<&Target>, index: &FileIndex, texts: &dyn Fn(&str) -> Option<String>) -> String {
    match target {
        None => "nothing".to_string(),
        Some(Target::Builtin(name)) => format!("the built-in `{name}`"),
        Some(Target::Module(name)) => format!("the module `{name}`"),
        Some(target @ Target::Def { kind, path, name_span }) => {
            let name = index.def(target).map_or_else(|| "?".to_string(), |d| d.name.clone());
            let line = texts(path).map(|text| line_of(&text, name_span.start));
            match line {
                Some(line) => format!("the {} `{name}` ({path}:{line})", kind_word(*kind)),
                None => format!("the {} `{name}` ({path})", kind_word(*kind)),
            }
        }
    }
}

/// The 1-based line of `offset`, as the compiler's diagnostics number it (lines end at `\n`,
/// `\r\n` or a lone `\r`).
fn line_of(text: &str, offset: u32) -> usize {
    etr_syntax::lines::line_col(text, offset as usize).0
}

/// Refuses `change` (the rename of `renamed` to `new_name`) when it would change what any name
/// of the workspace refers to, or add an error to a file.
pub(crate) fn check_meaning_kept(
    db: &IdeDatabase,
    files: &FileTable,
    renamed: &Target,
    new_name: &str,
    change: &SourceChange,
) -> Result<(), RenameError> {
    let (new_db, new_files) = after_change(db, files, change);
    let edits_of = |path: &str| {
        let file = files.by_path(path);
        let edits = change.edits.iter().find(|(f, _)| Some(*f) == file).map_or(&[][..], |(_, e)| e.as_slice());
        FileEdits { edits }
    };
    let moved = |target: &Target| match target {
        Target::Def { kind, path, name_span } => {
            Target::Def { kind: *kind, path: path.clone(), name_span: edits_of(path).span(*name_span) }
        }
        other => other.clone(),
    };
    let old_text = |path: &str| files.by_path(path).and_then(|f| files.get(f)).map(|e| e.source.text(db).clone());
    let new_text =
        |path: &str| new_files.by_path(path).and_then(|f| new_files.get(f)).map(|e| e.source.text(&new_db).clone());
    for (_, entry) in files.all().into_iter().filter(|(_, e)| !e.info.read_only) {
        let path = &entry.info.path;
        let Some(new_entry) = new_files.by_path(path).and_then(|f| new_files.get(f)) else { continue };
        let old_index = file_index(db, entry.source);
        let new_index = file_index(&new_db, new_entry.source);
        let edits = edits_of(path);
        // Every name written in the file after the rename, by its span.
        let mut after: HashMap<(u32, u32), &Target> =
            new_index.references.iter().map(|r| ((r.span.start, r.span.end), &r.target)).collect();
        for reference in &old_index.references {
            let span = edits.span(reference.span);
            let expected = moved(&reference.target);
            let found = after.remove(&(span.start, span.end));
            if found != Some(&expected) {
                let text = new_text(path).unwrap_or_default();
                let written = text.get(span.start as usize..span.end as usize).unwrap_or("?").to_string();
                let was = if reference.target == *renamed {
                    format!("{} (the symbol renamed)", describe(Some(&expected), &new_index, &new_text))
                } else {
                    describe(Some(&reference.target), &old_index, &old_text)
                };
                return Err(RenameError(format!(
                    "renaming to `{new_name}` would change what `{written}` at {path}:{} refers to: {was} before, \
                     {} after",
                    line_of(&text, span.start),
                    describe(found, &new_index, &new_text),
                )));
            }
        }
        // A name that referred to nothing (an error, or a word of a literal) now refers to something.
        if let Some(((start, _), target)) = after.into_iter().min_by_key(|(span, _)| *span) {
            let text = new_text(path).unwrap_or_default();
            return Err(RenameError(format!(
                "renaming to `{new_name}` would make `{new_name}` at {path}:{} refer to {}, which it does not now",
                line_of(&text, start),
                describe(Some(target), &new_index, &new_text),
            )));
        }
        // A duplicate declaration that no use reveals still breaks the file.
        let errors = |db: &IdeDatabase, source| -> Vec<String> {
            etr_sema::check(db, source).diagnostics.iter().filter(|d| d.is_error()).map(|d| d.message.clone()).collect()
        };
        let (before, after) = (errors(db, entry.source), errors(&new_db, new_entry.source));
        if after.len() > before.len() {
            let new_error = after.iter().find(|m| !before.contains(m)).unwrap_or(&after[0]);
            return Err(RenameError(format!("renaming to `{new_name}` would break {path}: {new_error}")));
        }
    }
    Ok(())
}

/// The edits of a rename of every occurrence to `new_name`, grouped by file.
pub(crate) fn rename_edits(occurrences: &[crate::FileRange], new_name: &str) -> SourceChange {
    let mut change = SourceChange::default();
    for occurrence in occurrences {
        let edit = TextEdit { range: occurrence.range, new_text: new_name.to_string() };
        match change.edits.last_mut() {
            Some((file, edits)) if *file == occurrence.file => edits.push(edit),
            _ => change.edits.push((occurrence.file, vec![edit])),
        }
    }
    change
}
