//! The name map of a file: every declaration visible in it and every name it writes, each
//! resolved to what it means. The language server reads it for navigation, rename, hover and
//! semantic tokens, so that the editor and the compiler agree on what a name is.
//!
//! It is a pass of its own, separate from lowering, because `check` stops early: a module file
//! gets its declarations checked only, and a spec without a contributor, source or map lowers
//! nothing after that; the editor needs names resolved in shared rule sets and half-typed specs.
//!
//! Resolution follows the checker's rules (`check/declarations.rs`, `check/expressions.rs`):
//! declarations are collected imports first, the first declaration of a name wins (code types
//! and records share one namespace); a plain name in an expression is a `let`, else a field of
//! the mapped record, else a column of the source. A name the checker would refuse for its scope
//! (a let or field inside an aggregate) still resolves, with `in_scope: false`, so that
//! go-to-definition works where the checker reports the scope error.
//!
//! Known gap: the checker's lowering does not consume this map yet; both follow the rules above.
//! Before the editor switched to it, a differential test compared it with the editor's previous
//! resolver over the repository's specs, the language reference's examples and mangled copies:
//! the one difference was duplicates (see `docs/notes/0021-name-map.md`).

use std::collections::HashMap;

use etr_syntax::ast::{self, ClauseValue, Expr, ExprKind, Handler, Item, RuleStmt, Span};

use crate::db::{Db, SourceFile, parse, resolve};

/// A declaration: the file that declares it and the span of its name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeclId {
    pub file: String,
    pub name_span: Span,
}

/// What a declaration declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DeclKind {
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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decl {
    pub id: DeclId,
    pub kind: DeclKind,
    /// The declared name (for a code member: its value, without quotes).
    pub name: String,
    /// The record of a field, the code of a member.
    pub container: Option<DeclId>,
    /// The whole declaration.
    pub full_span: Span,
}

/// What a written name means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// A declaration; `in_scope` is false where the checker refuses the name for its scope.
    Decl {
        id: DeclId,
        in_scope: bool,
    },
    Builtin(&'static str),
    /// A module named in a `use`, with its file when it exists.
    Module {
        name: String,
        file: Option<String>,
    },
    Unresolved,
}

/// A name written in the file (not a declaration site) and what it means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameRef {
    pub span: Span,
    pub resolution: Resolution,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NameMap {
    /// The declarations visible in the file, imports first, the first of each name only.
    pub decls: Vec<Decl>,
    /// The names written in the file, sorted by position, one per span.
    pub refs: Vec<NameRef>,
    /// The record the file's `map` targets, else the first record in scope.
    pub mapped_record: Option<DeclId>,
}

impl NameMap {
    pub fn decl(&self, id: &DeclId) -> Option<&Decl> {
        self.decls.iter().find(|d| d.id == *id)
    }
}

pub(crate) fn names_of(db: &dyn Db, file: SourceFile) -> NameMap {
    let path = file.path(db).clone();
    let parsed = parse(db, file);
    let resolved = resolve(db, file);
    let mut collector = Collector::default();
    for module in &resolved.imports {
        collector.items(&module.path, &module.items, false);
    }
    collector.items(&path, &parsed.items, true);
    let modules = db.module_set().modules(db).clone();
    let mut resolver = Resolver { c: &collector, record: None, refs: Vec::new(), aggregate: false };
    let own_map = parsed.items.iter().find_map(|item| if let Item::Map(map) = item { Some(map) } else { None });
    resolver.record = match own_map {
        Some(map) => collector.find(DeclKind::Record, &map.target.text, None).cloned(),
        // No map (a shared rule set, a spec being written): the rules are about the file's own
        // record, else the one it imports. The checker lowers nothing here; the editor guesses.
        None => {
            let records = || collector.decls.iter().filter(|d| d.kind == DeclKind::Record);
            records().find(|d| d.id.file == path).or_else(|| records().next()).map(|d| d.id.clone())
        }
    };
    for item in &parsed.items {
        if let Item::Use(it) = item {
            let name: Vec<&str> = it.path.segments.iter().map(|s| s.text.as_str()).collect();
            let name = name.join(".");
            let file = modules.iter().find(|(n, _)| *n == name).map(|(_, f)| f.path(db).clone());
            resolver.refs.push(NameRef { span: it.path.span, resolution: Resolution::Module { name, file } });
        } else {
            resolver.item(item);
        }
    }
    let mut refs = resolver.refs;
    refs.sort_by_key(|r| (r.span.start, r.span.end));
    refs.dedup_by_key(|r| r.span);
    let mapped_record = resolver.record;
    NameMap { decls: collector.decls, refs, mapped_record }
}

/// Collects declarations, the first of each name winning.
#[derive(Default)]
struct Collector {
    decls: Vec<Decl>,
    /// (namespace, container, name) -> the declaration.
    index: HashMap<(DeclKind, Option<DeclId>, String), usize>,
}

impl Collector {
    /// Code types and records share a namespace in the checker.
    fn namespace(kind: DeclKind) -> DeclKind {
        if kind == DeclKind::Code { DeclKind::Record } else { kind }
    }

    fn find(&self, kind: DeclKind, name: &str, container: Option<&DeclId>) -> Option<&DeclId> {
        let key = (Self::namespace(kind), container.cloned(), name.to_string());
        let decl = &self.decls[*self.index.get(&key)?];
        (decl.kind == kind).then_some(&decl.id)
    }

    /// Declares a name; returns its id when it is the first of its name.
    fn declare(
        &mut self,
        path: &str,
        kind: DeclKind,
        name: &str,
        container: Option<DeclId>,
        name_span: Span,
        full_span: Span,
    ) -> Option<DeclId> {
        let key = (Self::namespace(kind), container.clone(), name.to_string());
        if self.index.contains_key(&key) {
            return None;
        }
        let id = DeclId { file: path.to_string(), name_span };
        self.index.insert(key, self.decls.len());
        self.decls.push(Decl { id: id.clone(), kind, name: name.to_string(), container, full_span });
        Some(id)
    }

    fn items(&mut self, path: &str, items: &[Item], own: bool) {
        for item in items {
            match item {
                Item::Contributor(it) => {
                    self.declare(path, DeclKind::Contributor, &it.code.text, None, it.code.span, it.span);
                }
                // The checker lowers the source of the checked file only.
                Item::Source(source) if own => {
                    for setting in &source.settings {
                        match setting {
                            ast::SourceSetting::Columns { columns, .. } => {
                                for column in columns {
                                    self.declare(path, DeclKind::Column, &column.text, None, column.span, column.span);
                                }
                            }
                            ast::SourceSetting::Header(line) | ast::SourceSetting::Trailer(line) => {
                                let kind = if matches!(setting, ast::SourceSetting::Header(_)) {
                                    DeclKind::HeaderField
                                } else {
                                    DeclKind::TrailerField
                                };
                                for f in &line.fields {
                                    self.declare(path, kind, &f.name.text, None, f.name.span, f.span);
                                }
                            }
                            _ => {}
                        }
                    }
                }
                Item::Table(it) => {
                    self.declare(path, DeclKind::Table, &it.name.text, None, it.name.span, it.span);
                }
                Item::Let(it) => {
                    self.declare(path, DeclKind::Let, &it.name.text, None, it.name.span, it.span);
                }
                Item::Rule(it) => {
                    self.declare(path, DeclKind::Rule, &it.id.text, None, it.id.span, it.span);
                }
                Item::Record(record) => {
                    let name = &record.name;
                    if let Some(id) = self.declare(path, DeclKind::Record, &name.text, None, name.span, record.span) {
                        for f in &record.fields {
                            self.declare(path, DeclKind::Field, &f.name.text, Some(id.clone()), f.name.span, f.span);
                        }
                    }
                }
                Item::Code(code) => {
                    let name = &code.name;
                    if let Some(id) = self.declare(path, DeclKind::Code, &name.text, None, name.span, code.span) {
                        for m in &code.members {
                            let (value, span) = (&m.value.value, m.value.span);
                            self.declare(path, DeclKind::CodeMember, value, Some(id.clone()), span, m.span);
                        }
                    }
                }
                Item::Source(_) | Item::Use(_) | Item::Map(_) | Item::Override(_) => {}
            }
        }
    }
}

/// Resolves the names written in the file's items.
struct Resolver<'a> {
    c: &'a Collector,
    record: Option<DeclId>,
    refs: Vec<NameRef>,
    /// Inside an aggregate's argument, where only columns are in scope.
    aggregate: bool,
}

impl Resolver<'_> {
    fn push(&mut self, span: Span, id: Option<&DeclId>, in_scope: bool) {
        let resolution = match id {
            Some(id) => Resolution::Decl { id: id.clone(), in_scope },
            None => Resolution::Unresolved,
        };
        self.refs.push(NameRef { span, resolution });
    }

    fn named(&mut self, kind: DeclKind, ident: &ast::Ident) {
        let id = self.c.find(kind, &ident.text, None).cloned();
        self.push(ident.span, id.as_ref(), true);
    }

    /// A plain name in an expression: a let, else a field of the mapped record, else a column.
    fn value_name(&mut self, ident: &ast::Ident) {
        let name = &ident.text;
        let row = self
            .c
            .find(DeclKind::Let, name, None)
            .or_else(|| self.c.find(DeclKind::Field, name, self.record.as_ref()).filter(|_| self.record.is_some()))
            .cloned();
        match row {
            Some(id) => self.push(ident.span, Some(&id), !self.aggregate),
            None => self.named(DeclKind::Column, ident),
        }
    }

    fn type_ref(&mut self, ty: &ast::TypeExpr) {
        let id = self
            .c
            .find(DeclKind::Code, &ty.name.text, None)
            .or_else(|| self.c.find(DeclKind::Record, &ty.name.text, None))
            .cloned();
        // Primitive types are not names of declarations.
        if id.is_some() {
            self.push(ty.name.span, id.as_ref(), true);
        }
    }

    fn handler(&mut self, handler: &Handler) {
        match handler {
            Handler::Reject { rule, .. } | Handler::Fail { rule, .. } => self.named(DeclKind::Rule, rule),
            Handler::Value(value) => self.expr(value),
        }
    }

    fn item(&mut self, item: &Item) {
        match item {
            Item::Source(source) => {
                for setting in &source.settings {
                    match setting {
                        ast::SourceSetting::Columns { handler: Some(handler), .. }
                        | ast::SourceSetting::Encoding { handler: Some(handler), .. } => self.handler(handler),
                        ast::SourceSetting::Header(line) | ast::SourceSetting::Trailer(line) => {
                            for field in &line.fields {
                                self.type_ref(&field.ty);
                            }
                        }
                        _ => {}
                    }
                }
            }
            Item::Table(table) => {
                self.type_ref(&table.key_ty);
                self.type_ref(&table.value_ty);
                let code = self.c.find(DeclKind::Code, &table.value_ty.name.text, None).cloned();
                for entry in &table.entries {
                    if let (ast::LitValue::String(value), Some(code)) = (&entry.value.value, &code) {
                        let member = self.c.find(DeclKind::CodeMember, value, Some(code)).cloned();
                        self.push(entry.value.span, member.as_ref(), true);
                    }
                }
            }
            Item::Map(map) => {
                self.named(DeclKind::Record, &map.target);
                let record = self.c.find(DeclKind::Record, &map.target.text, None).cloned();
                for assignment in &map.assignments {
                    let field =
                        record.as_ref().and_then(|r| self.c.find(DeclKind::Field, &assignment.field.text, Some(r)));
                    let field = field.cloned();
                    self.push(assignment.field.span, field.as_ref(), true);
                    self.expr(&assignment.value);
                }
            }
            Item::Let(it) => self.expr(&it.value),
            Item::Rule(rule) => {
                for stmt in rule.body.iter().flat_map(|b| &b.stmts) {
                    self.rule_stmt(stmt);
                }
            }
            Item::Override(it) => self.named(DeclKind::Rule, &it.rule),
            Item::Record(record) => {
                for field in &record.fields {
                    self.type_ref(&field.ty);
                }
            }
            Item::Contributor(_) | Item::Code(_) | Item::Use(_) => {}
        }
    }

    /// A rule statement, whatever its kind, clause by clause: the names of a clause (`require a`,
    /// `per k`, `on x`) are values, and a label (`on "sum bal"`) names nothing. A name after `on`
    /// is a label that names a value when one of that name exists.
    fn rule_stmt(&mut self, stmt: &RuleStmt) {
        for clause in &stmt.clauses {
            match &clause.value {
                ClauseValue::Expr(expr) => self.expr(expr),
                ClauseValue::Names(names) => names.iter().for_each(|name| self.value_name(name)),
                ClauseValue::Label(_) => {}
            }
        }
    }

    fn builtin(&mut self, callee: &ast::Ident) -> bool {
        let signature = crate::builtins::lookup(&callee.text);
        let resolution = signature.map_or(Resolution::Unresolved, |s| Resolution::Builtin(s.name));
        self.refs.push(NameRef { span: callee.span, resolution });
        signature.is_some_and(|s| s.kind == crate::builtins::BuiltinKind::Aggregate)
    }

    fn expr(&mut self, expr: &Expr) {
        match &expr.kind {
            ExprKind::Literal(_) | ExprKind::List(_) => {}
            ExprKind::Name(ident) => self.value_name(ident),
            ExprKind::Call { callee, args } => {
                let aggregate = self.builtin(callee);
                let outer = self.aggregate;
                self.aggregate |= aggregate;
                args.iter().for_each(|a| self.expr(a));
                self.aggregate = outer;
            }
            ExprKind::MethodCall { receiver, method, args } => {
                let aggregate = self.builtin(method);
                let outer = self.aggregate;
                self.aggregate |= aggregate;
                self.expr(receiver);
                args.iter().for_each(|a| self.expr(a));
                self.aggregate = outer;
            }
            ExprKind::Field { base, field } => match &base.kind {
                ExprKind::Name(base_name) if base_name.text == "header" || base_name.text == "trailer" => {
                    let kind = if base_name.text == "header" { DeclKind::HeaderField } else { DeclKind::TrailerField };
                    self.named(kind, field);
                }
                _ => self.expr(base),
            },
            ExprKind::Index { base, index } => {
                match &base.kind {
                    ExprKind::Name(table) => self.named(DeclKind::Table, table),
                    _ => self.expr(base),
                }
                self.expr(index);
            }
            ExprKind::Unary { operand, .. } => self.expr(operand),
            ExprKind::Binary { lhs, rhs, .. } => {
                self.expr(lhs);
                self.expr(rhs);
            }
            ExprKind::In { value, .. } | ExprKind::IsNull { value, .. } | ExprKind::Paren(value) => self.expr(value),
            ExprKind::Else { value, handler } => {
                self.expr(value);
                self.handler(handler);
            }
            ExprKind::If { condition, then_branch, else_branch } => {
                self.expr(condition);
                self.expr(then_branch);
                self.expr(else_branch);
            }
            ExprKind::Match { scrutinee, arms } => {
                self.expr(scrutinee);
                for arm in arms {
                    self.expr(&arm.body);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use super::{NameMap, Resolution};
    use crate::db::Database;
    use crate::test_fixture::files;

    /// Each written name of the fixture's last file, with what it resolves to.
    fn check(fixture: &str, expect: Expect) {
        let files = files(fixture);
        let mut db = Database::new();
        let modules: Vec<(String, String, String)> = files[..files.len() - 1]
            .iter()
            .map(|(path, text)| {
                (path.trim_start_matches('/').trim_end_matches(".etr").to_owned(), path.clone(), text.clone())
            })
            .collect();
        db.set_modules(modules.iter().map(|(n, p, t)| (n.as_str(), p.as_str(), t.as_str())));
        let (path, text) = files.last().expect("a fixture has a file");
        let file = db.add_file(path, text);
        let map: std::sync::Arc<NameMap> = crate::names(&db, file);
        let text_of = |path: &str, span: etr_syntax::ast::Span| {
            let text = files.iter().find(|(p, _)| p == path).map_or("?", |(_, t)| t.as_str());
            text[span.start as usize..span.end as usize].to_owned()
        };
        let mut out = String::new();
        for name in &map.refs {
            let written = &text[name.span.start as usize..name.span.end as usize];
            let meaning = match &name.resolution {
                Resolution::Decl { id, in_scope } => {
                    let decl = map.decl(id).expect("a resolution names a declaration of the map");
                    let scope = if *in_scope { "" } else { " (out of scope)" };
                    format!(
                        "{:?} {}@{}{scope}",
                        decl.kind,
                        id.file,
                        text_of(&id.file, decl.full_span).lines().next().unwrap_or("")
                    )
                }
                Resolution::Builtin(name) => format!("built-in {name}"),
                Resolution::Module { name, file } => format!("module {name} {file:?}"),
                Resolution::Unresolved => "unresolved".to_owned(),
            };
            out.push_str(&format!("{written} -> {meaning}\n"));
        }
        expect.assert_eq(&out);
    }

    /// A module file lowers nothing in `check`, yet its rules' names resolve (against the record
    /// it imports), and a duplicate declaration loses to the imported one, as in the checker.
    #[test]
    fn a_shared_rule_set_resolves_against_its_imports() {
        check(
            r#"
//- /shared.etr
record R { a: int }
rule Q1 warn "q"
//- /rules.etr
use shared
rule Q1 fatal "mine"
let l = a + 1
rule Q2 warn "x" { check l > 0 and missing and len(a) > 0 on a }
rule F fatal "f" { check sum(a) + sum(l) > 0 on file }
override Q1 warn
"#,
            expect![[r#"
                shared -> module shared Some("/shared.etr")
                a -> Field /shared.etr@a: int
                l -> Let /rules.etr@let l = a + 1
                missing -> unresolved
                len -> unresolved
                a -> Field /shared.etr@a: int
                a -> Field /shared.etr@a: int
                sum -> built-in sum
                a -> Field /shared.etr@a: int (out of scope)
                sum -> built-in sum
                l -> Let /rules.etr@let l = a + 1 (out of scope)
                file -> unresolved
                Q1 -> Rule /shared.etr@rule Q1 warn "q"
            "#]],
        );
    }
}
