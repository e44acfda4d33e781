//! The symbol index of a file, in editor terms: every declaration visible in it (with the
//! signature and doc an editor shows) and every name it writes, each with its target.
//! Navigation, rename, hover and semantic tokens read it.
//!
//! It is an adapter over the compiler's name map (`etr_sema::names`): what a name means is
//! decided once, by the compiler, so the editor cannot disagree with the checker. This module
//! adds what only the editor needs: the declarations' one-line signatures and docs, and the
//! declaration sites as references (so that rename edits them too).
//!
//! Granularity: one tracked query per file, over the file's parse, its imports
//! (`etr_sema::resolve`) and its name map, so a reference search over the workspace reuses the
//! indexes of the files nobody edited. A name that resolves to nothing is left out (the checker
//! reports it).

use std::sync::Arc;

use etr_sema::SourceFile;
use etr_sema::{NameMap, Resolution};
use etr_syntax::ast::{self, Item, Span};

/// What kind of thing a name declares or refers to: the compiler's own kinds, so that the editor's
/// index and the name map it is built from cannot disagree on them.
pub(crate) use etr_sema::DeclKind as DefKind;

/// A declaration: where it is and what an editor shows about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Def {
    pub(crate) kind: DefKind,
    pub(crate) name: String,
    /// The record of a field, the code of a member.
    pub(crate) container: Option<String>,
    /// The path of the file that declares it.
    pub(crate) path: String,
    /// The declared name (for a code member: the string literal with its quotes).
    pub(crate) name_span: Span,
    /// The whole declaration.
    pub(crate) full_span: Span,
    /// A one-line declaration as written, e.g. `credit_limit: money` or `table t: text -> Gender`.
    pub(crate) signature: String,
    pub(crate) doc: Option<String>,
}

/// What a written name refers to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Target {
    /// A declaration, identified by its file and the span of its name.
    Def { kind: DefKind, path: String, name_span: Span },
    /// A built-in function.
    Builtin(&'static str),
    /// A module named in a `use`.
    Module(String),
}

/// A name written in the file, its target, and whether this occurrence is the declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reference {
    pub(crate) span: Span,
    pub(crate) target: Target,
    pub(crate) is_def: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct FileIndex {
    /// The declarations visible in the file: its own, then those of its imports.
    pub(crate) scope: Vec<Def>,
    /// The names written in the file, sorted by position.
    pub(crate) references: Vec<Reference>,
    /// The record the file's `map` targets, else the file's own or imported record: the one
    /// whose fields completion offers (the name map's choice).
    pub(crate) mapped_record: Option<String>,
}

impl FileIndex {
    /// The written name at `offset`, preferring the innermost (shortest) one.
    pub(crate) fn reference_at(&self, offset: u32) -> Option<&Reference> {
        self.references
            .iter()
            .filter(|r| r.span.start <= offset && offset <= r.span.end)
            .min_by_key(|r| r.span.end - r.span.start)
    }

    pub(crate) fn def(&self, target: &Target) -> Option<&Def> {
        let Target::Def { kind, path, name_span } = target else { return None };
        self.scope.iter().find(|d| d.kind == *kind && d.path == *path && d.name_span == *name_span)
    }

    pub(crate) fn of_kind(&self, kind: DefKind) -> impl Iterator<Item = &Def> {
        self.scope.iter().filter(move |d| d.kind == kind)
    }

    /// The fields of a record in scope.
    pub(crate) fn fields_of<'a>(&'a self, record: &'a str) -> impl Iterator<Item = &'a Def> {
        self.of_kind(DefKind::Field).filter(move |d| d.container.as_deref() == Some(record))
    }
}

/// The index of one file.
#[salsa::tracked(returns(clone))]
pub(crate) fn file_index(db: &dyn etr_sema::Db, file: SourceFile) -> Arc<FileIndex> {
    let path = file.path(db).clone();
    let parsed = etr_sema::parse(db, file);
    let resolved = etr_sema::resolve(db, file);
    let names = etr_sema::names(db, file);
    let mut scope = Vec::new();
    collect_defs(&path, &parsed.items, &mut scope);
    let own = scope.len();
    for module in &resolved.imports {
        collect_defs(&module.path, &module.items, &mut scope);
    }
    // Every declaration the file writes is a reference to itself, a duplicate one too: rename
    // edits it, and semantic tokens colour it.
    let mut references: Vec<Reference> = scope[..own]
        .iter()
        .map(|def| Reference {
            span: def.name_span,
            target: Target::Def { kind: def.kind, path: def.path.clone(), name_span: def.name_span },
            is_def: true,
        })
        .collect();
    references.extend(names.refs.iter().filter_map(|name| {
        let target = target(&names, &name.resolution)?;
        Some(Reference { span: name.span, target, is_def: false })
    }));
    references.sort_by_key(|r| (r.span.start, r.span.end));
    references.dedup_by_key(|r| r.span);
    let mapped_record = names.mapped_record.as_ref().and_then(|id| names.decl(id)).map(|d| d.name.clone());
    Arc::new(FileIndex { scope, references, mapped_record })
}

/// What a resolution is in the editor's terms; nothing for a name the compiler did not resolve.
fn target(names: &NameMap, resolution: &Resolution) -> Option<Target> {
    match resolution {
        Resolution::Decl { id, .. } => {
            let kind = names.decl(id)?.kind;
            Some(Target::Def { kind, path: id.file.clone(), name_span: id.name_span })
        }
        Resolution::Builtin(name) => Some(Target::Builtin(name)),
        Resolution::Module { name, .. } => Some(Target::Module(name.clone())),
        Resolution::Unresolved => None,
    }
}

fn doc_text(doc: &Option<ast::Doc>) -> Option<String> {
    doc.as_ref().map(|d| d.text.clone())
}

/// A type as written, `money(ringgit)` or `date("%d/%m/%Y")`: the syntax crate's one spelling.
pub(crate) fn type_text(ty: &ast::TypeExpr) -> String {
    ty.to_string()
}

pub(crate) fn literal_text(value: &ast::LitValue) -> String {
    value.dump()
}

fn collect_defs(path: &str, items: &[Item], acc: &mut Vec<Def>) {
    let def = |kind, name: &str, container: Option<&str>, name_span, full_span, signature: String, doc| Def {
        kind,
        name: name.to_string(),
        container: container.map(str::to_string),
        path: path.to_string(),
        name_span,
        full_span,
        signature,
        doc,
    };
    for item in items {
        match item {
            Item::Contributor(it) => acc.push(def(
                DefKind::Contributor,
                &it.code.text,
                None,
                it.code.span,
                it.span,
                format!("contributor {} {:?} layout {}", it.code.text, it.name.value, it.layout.value),
                doc_text(&it.doc),
            )),
            Item::Source(source) => {
                for setting in &source.settings {
                    match setting {
                        ast::SourceSetting::Columns { columns, .. } => {
                            for (position, column) in columns.iter().enumerate() {
                                acc.push(def(
                                    DefKind::Column,
                                    &column.text,
                                    None,
                                    column.span,
                                    column.span,
                                    format!("column {} (field {} of a data line): text?", column.text, position + 1),
                                    None,
                                ));
                            }
                        }
                        ast::SourceSetting::Header(line) | ast::SourceSetting::Trailer(line) => {
                            let (kind, word) = if matches!(setting, ast::SourceSetting::Header(_)) {
                                (DefKind::HeaderField, "header")
                            } else {
                                (DefKind::TrailerField, "trailer")
                            };
                            for field in &line.fields {
                                acc.push(def(
                                    kind,
                                    &field.name.text,
                                    Some(word),
                                    field.name.span,
                                    field.span,
                                    format!("{word}.{}: {}", field.name.text, type_text(&field.ty)),
                                    doc_text(&field.doc),
                                ));
                            }
                        }
                        _ => {}
                    }
                }
            }
            Item::Table(it) => acc.push(def(
                DefKind::Table,
                &it.name.text,
                None,
                it.name.span,
                it.span,
                format!("table {}: {} -> {}", it.name.text, type_text(&it.key_ty), type_text(&it.value_ty)),
                doc_text(&it.doc),
            )),
            Item::Let(it) => acc.push(def(
                DefKind::Let,
                &it.name.text,
                None,
                it.name.span,
                it.span,
                format!("let {}", it.name.text),
                doc_text(&it.doc),
            )),
            Item::Rule(it) => acc.push(def(
                DefKind::Rule,
                &it.id.text,
                None,
                it.id.span,
                it.span,
                format!("rule {} {} {:?}", it.id.text, it.severity.as_str(), it.message.value),
                doc_text(&it.doc),
            )),
            Item::Record(record) => {
                acc.push(def(
                    DefKind::Record,
                    &record.name.text,
                    None,
                    record.name.span,
                    record.span,
                    format!("record {} ({} fields)", record.name.text, record.fields.len()),
                    doc_text(&record.doc),
                ));
                for field in &record.fields {
                    acc.push(def(
                        DefKind::Field,
                        &field.name.text,
                        Some(&record.name.text),
                        field.name.span,
                        field.span,
                        format!("{}: {}", field.name.text, type_text(&field.ty)),
                        doc_text(&field.doc),
                    ));
                }
            }
            Item::Code(code) => {
                let members: Vec<String> = code.members.iter().map(|m| format!("{:?}", m.value.value)).collect();
                acc.push(def(
                    DefKind::Code,
                    &code.name.text,
                    None,
                    code.name.span,
                    code.span,
                    format!("code {} {{ {} }}", code.name.text, members.join(", ")),
                    doc_text(&code.doc),
                ));
                for member in &code.members {
                    acc.push(def(
                        DefKind::CodeMember,
                        &member.value.value,
                        Some(&code.name.text),
                        member.value.span,
                        member.span,
                        format!("{:?} in code {}", member.value.value, code.name.text),
                        doc_text(&member.doc),
                    ));
                }
            }
            Item::Use(_) | Item::Map(_) | Item::Override(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use etr_syntax::ast::{Item, SourceSetting};

    /// The checker still spells types with a copy of its own (`type_text` in
    /// `compiler/sema/src/checker.rs`), in its message about an unknown header field type; it is
    /// to be replaced by `TypeExpr`'s `Display`, which the IDE uses. The two must agree on every
    /// form a type takes: a name; arguments that are names or strings, one or several; a trailing
    /// comma; spaces and line breaks; escapes, non-ASCII and control characters in strings.
    #[test]
    fn the_checker_spells_types_as_the_syntax_tree_does() {
        let forms = [
            "unknown",
            "money(dollar)",
            "stamp(\"%d/%m/%Y\")",
            "label(\"a\\\"b\\\\c\\td\")",
            "label(\"\\u{41}é🦀\\u{1}\")",
            "pair( a ,\"b\",\n    c, )",
            "money (\n dollar\n)",
        ];
        let fields: Vec<String> = forms.iter().enumerate().map(|(i, ty)| format!("f{i}: {ty}")).collect();
        // A contributor, so that the checker lowers the source (a module's is only declared).
        let text = format!(
            "contributor X \"X\" layout 1\nsource delimited \"|\" {{\n  header \"H\" {{ {} }}\n}}\n",
            fields.join(", ")
        );
        let mut db = etr_sema::Database::new();
        let file = db.add_file("/types.etr", &text);

        let parsed = etr_sema::parse(&db, file);
        assert_eq!(parsed.errors, Vec::new());
        let displayed: Vec<String> = parsed
            .items
            .iter()
            .filter_map(|item| if let Item::Source(source) = item { Some(source) } else { None })
            .flat_map(|source| &source.settings)
            .filter_map(|setting| if let SourceSetting::Header(line) = setting { Some(line) } else { None })
            .flat_map(|line| &line.fields)
            .map(|field| super::type_text(&field.ty))
            .collect();
        let quoted: Vec<String> = etr_sema::check(&db, file)
            .diagnostics
            .iter()
            .filter_map(|it| it.message.strip_suffix("` is not a header or trailer field type"))
            .map(|it| it.trim_start_matches('`').to_owned())
            .collect();
        assert_eq!(displayed.len(), forms.len());
        assert_eq!(quoted, displayed);
    }

    /// A name declared both in the file and in a module it uses means the imported declaration,
    /// as in the checker (which reports the file's as declared twice); the editor's own resolver
    /// took the file's, so go-to-definition and the diagnostic disagreed. The file's declaration
    /// is still a declaration site, for rename.
    #[test]
    fn a_duplicate_of_an_imported_name_means_the_imported_declaration() {
        let text = "use etr.rules.standard\nrule Q09 warn \"mine\"\noverride Q09 warn\n";
        let mut db = etr_sema::Database::new();
        db.set_modules(etr_stdlib::MODULES.iter().map(|m| (m.name, m.path, m.text)));
        let file = db.add_file("/spec.etr", text);
        let index = super::file_index(&db, file);
        let at = |offset: usize| index.reference_at(offset as u32).map(|r| (r.target.clone(), r.is_def));
        let own = text.find("Q09").unwrap();
        let overridden = text.rfind("Q09").unwrap();
        let Some((super::Target::Def { path, .. }, false)) = at(overridden) else { panic!("{:?}", at(overridden)) };
        assert_eq!(path, "stdlib/etr/rules/standard.etr");
        let Some((super::Target::Def { path, .. }, true)) = at(own) else { panic!("{:?}", at(own)) };
        assert_eq!(path, "/spec.etr");
    }
}
