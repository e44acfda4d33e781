//! The symbol index of a file: every declaration it makes and every name it writes, each name
//! resolved to the declaration it means. Navigation, rename, hover and semantic tokens read it.
//!
//! Granularity: one tracked query per file. It reads the file's parse and the items its imports
//! bring (`etr_sema::resolve`), so it is recomputed when the file or a module it uses changes,
//! and a reference search over the workspace reuses the indexes of the files nobody edited.
//!
//! Resolution follows the checker's rules, which are flat: a plain name in an expression is a
//! `let`, else a field of the mapped record, else a column of the source. A name that resolves to
//! nothing is left out (the checker reports it).

use std::sync::Arc;

use etr_sema::SourceFile;
use etr_syntax::ast::{self, Expr, ExprKind, Handler, Item, RuleStmt, Span};

/// What kind of thing a name declares or refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum DefKind {
    Contributor,
    Record,
    Field,
    Code,
    CodeMember,
    Table,
    Rule,
    Let,
    Column,
    HeaderField,
    TrailerField,
}

/// The editor's kind of a compiler declaration kind (the same eleven).
#[cfg(test)]
pub(crate) fn def_kind(kind: etr_sema::DeclKind) -> DefKind {
    use etr_sema::DeclKind as K;
    match kind {
        K::Contributor => DefKind::Contributor,
        K::Record => DefKind::Record,
        K::Field => DefKind::Field,
        K::Code => DefKind::Code,
        K::CodeMember => DefKind::CodeMember,
        K::Table => DefKind::Table,
        K::Rule => DefKind::Rule,
        K::Let => DefKind::Let,
        K::Column => DefKind::Column,
        K::HeaderField => DefKind::HeaderField,
        K::TrailerField => DefKind::TrailerField,
    }
}

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
}

impl Def {
    pub(crate) fn target(&self) -> Target {
        Target::Def { kind: self.kind, path: self.path.clone(), name_span: self.name_span }
    }
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

    pub(crate) fn find(&self, kind: DefKind, name: &str) -> Option<&Def> {
        self.scope.iter().find(|d| d.kind == kind && d.name == name)
    }

    pub(crate) fn of_kind(&self, kind: DefKind) -> impl Iterator<Item = &Def> {
        self.scope.iter().filter(move |d| d.kind == kind)
    }

    /// The record the file's `map` targets, or the first record in scope.
    pub(crate) fn mapped_record(&self, own: &[Item]) -> Option<String> {
        own.iter()
            .find_map(|item| if let Item::Map(map) = item { Some(map.target.text.clone()) } else { None })
            .or_else(|| self.of_kind(DefKind::Record).next().map(|d| d.name.clone()))
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
    let mut scope = Vec::new();
    collect_defs(&path, &parsed.items, &mut scope);
    for module in &resolved.imports {
        collect_defs(&module.path, &module.items, &mut scope);
    }
    let mut index = FileIndex { scope, references: Vec::new() };
    let record = index.mapped_record(&parsed.items);
    let mut walker = Walker { index: &index, path: &path, record: record.as_deref(), acc: Vec::new() };
    for item in &parsed.items {
        walker.item(item);
    }
    let mut references = walker.acc;
    references.sort_by_key(|r| (r.span.start, r.span.end));
    references.dedup_by_key(|r| r.span);
    index.references = references;
    Arc::new(index)
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

/// Walks a file's items and records every name with its target.
struct Walker<'a> {
    index: &'a FileIndex,
    path: &'a str,
    record: Option<&'a str>,
    acc: Vec<Reference>,
}

impl Walker<'_> {
    fn push_def(&mut self, kind: DefKind, span: Span) {
        let target = Target::Def { kind, path: self.path.to_string(), name_span: span };
        self.acc.push(Reference { span, target, is_def: true });
    }

    fn push(&mut self, span: Span, def: Option<Target>) {
        if let Some(target) = def {
            self.acc.push(Reference { span, target, is_def: false });
        }
    }

    fn lookup(&self, kind: DefKind, name: &str) -> Option<Target> {
        self.index.find(kind, name).map(Def::target)
    }

    /// A plain name in an expression: a let, else a field of the mapped record, else a column.
    fn value_name(&self, name: &str) -> Option<Target> {
        self.lookup(DefKind::Let, name)
            .or_else(|| {
                let record = self.record?;
                self.index.fields_of(record).find(|d| d.name == name).map(Def::target)
            })
            .or_else(|| self.lookup(DefKind::Column, name))
    }

    fn type_ref(&mut self, ty: &ast::TypeExpr) {
        let target = self.lookup(DefKind::Code, &ty.name.text).or_else(|| self.lookup(DefKind::Record, &ty.name.text));
        self.push(ty.name.span, target);
    }

    fn rule_ref(&mut self, rule: &ast::Ident) {
        let target = self.lookup(DefKind::Rule, &rule.text);
        self.push(rule.span, target);
    }

    fn handler(&mut self, handler: &Handler) {
        match handler {
            Handler::Reject { rule, .. } | Handler::Fail { rule, .. } => self.rule_ref(rule),
            Handler::Value(value) => self.expr(value),
        }
    }

    fn item(&mut self, item: &Item) {
        match item {
            Item::Contributor(it) => self.push_def(DefKind::Contributor, it.code.span),
            Item::Use(it) => {
                let name: Vec<&str> = it.path.segments.iter().map(|s| s.text.as_str()).collect();
                self.acc.push(Reference { span: it.path.span, target: Target::Module(name.join(".")), is_def: false });
            }
            Item::Source(source) => {
                for setting in &source.settings {
                    match setting {
                        ast::SourceSetting::Columns { columns, handler, .. } => {
                            for column in columns {
                                self.push_def(DefKind::Column, column.span);
                            }
                            if let Some(handler) = handler {
                                self.handler(handler);
                            }
                        }
                        ast::SourceSetting::Encoding { handler: Some(handler), .. } => self.handler(handler),
                        ast::SourceSetting::Header(line) | ast::SourceSetting::Trailer(line) => {
                            let kind = if matches!(setting, ast::SourceSetting::Header(_)) {
                                DefKind::HeaderField
                            } else {
                                DefKind::TrailerField
                            };
                            for field in &line.fields {
                                self.push_def(kind, field.name.span);
                                self.type_ref(&field.ty);
                            }
                        }
                        _ => {}
                    }
                }
            }
            Item::Table(table) => {
                self.push_def(DefKind::Table, table.name.span);
                self.type_ref(&table.key_ty);
                self.type_ref(&table.value_ty);
                for entry in &table.entries {
                    if let ast::LitValue::String(value) = &entry.value.value {
                        let member = self
                            .index
                            .of_kind(DefKind::CodeMember)
                            .find(|d| d.name == *value && d.container.as_deref() == Some(&table.value_ty.name.text))
                            .map(Def::target);
                        self.push(entry.value.span, member);
                    }
                }
            }
            Item::Map(map) => {
                let target = self.lookup(DefKind::Record, &map.target.text);
                self.push(map.target.span, target);
                for assignment in &map.assignments {
                    let field = self
                        .index
                        .fields_of(&map.target.text)
                        .find(|d| d.name == assignment.field.text)
                        .map(Def::target);
                    self.push(assignment.field.span, field);
                    self.expr(&assignment.value);
                }
            }
            Item::Let(it) => {
                self.push_def(DefKind::Let, it.name.span);
                self.expr(&it.value);
            }
            Item::Rule(rule) => {
                self.push_def(DefKind::Rule, rule.id.span);
                for stmt in rule.body.iter().flat_map(|b| &b.stmts) {
                    self.rule_stmt(stmt);
                }
            }
            Item::Override(it) => self.rule_ref(&it.rule),
            Item::Record(record) => {
                self.push_def(DefKind::Record, record.name.span);
                for field in &record.fields {
                    self.push_def(DefKind::Field, field.name.span);
                    self.type_ref(&field.ty);
                }
            }
            Item::Code(code) => {
                self.push_def(DefKind::Code, code.name.span);
                for member in &code.members {
                    self.push_def(DefKind::CodeMember, member.value.span);
                }
            }
        }
    }

    fn target(&mut self, target: &ast::Target) {
        if let ast::Target::Ident(ident) = target {
            let field = self.value_name(&ident.text);
            self.push(ident.span, field);
        }
    }

    fn rule_stmt(&mut self, stmt: &RuleStmt) {
        match stmt {
            RuleStmt::When { condition, .. } => self.expr(condition),
            RuleStmt::Check { condition, target, value, .. } => {
                self.expr(condition);
                self.target(target);
                if let Some(value) = value {
                    self.expr(value);
                }
            }
            RuleStmt::Require { fields, .. } => {
                for field in fields {
                    let target = self.value_name(&field.text);
                    self.push(field.span, target);
                }
            }
            RuleStmt::Unique { fields, target, .. } => {
                for field in fields {
                    let resolved = self.value_name(&field.text);
                    self.push(field.span, resolved);
                }
                self.target(target);
            }
            RuleStmt::Order { field, target, .. } => {
                let resolved = self.value_name(&field.text);
                self.push(field.span, resolved);
                self.target(target);
            }
        }
    }

    fn expr(&mut self, expr: &Expr) {
        expr.walk(|node| match &node.kind {
            ExprKind::Name(ident) => {
                let target = self.value_name(&ident.text);
                self.push(ident.span, target);
            }
            ExprKind::Call { callee, .. } | ExprKind::MethodCall { method: callee, .. } => {
                let builtin = etr_sema::builtins::lookup(&callee.text).map(|s| Target::Builtin(s.name));
                self.push(callee.span, builtin);
            }
            ExprKind::Field { base, field } => {
                if let ExprKind::Name(base_name) = &base.kind {
                    let kind = match base_name.text.as_str() {
                        "header" => Some(DefKind::HeaderField),
                        "trailer" => Some(DefKind::TrailerField),
                        _ => None,
                    };
                    if let Some(kind) = kind {
                        let target = self.lookup(kind, &field.text);
                        self.push(field.span, target);
                    }
                }
            }
            ExprKind::Index { base, .. } => {
                if let ExprKind::Name(table) = &base.kind {
                    let target = self.lookup(DefKind::Table, &table.text);
                    self.push(table.span, target);
                }
            }
            ExprKind::Else { handler: Handler::Reject { rule, .. } | Handler::Fail { rule, .. }, .. } => {
                let target = self.lookup(DefKind::Rule, &rule.text);
                self.push(rule.span, target);
            }
            _ => {}
        });
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
}
