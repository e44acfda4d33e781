//! Type checking, fallibility checking and lowering of one spec file to the typed IR.
//!
//! One pass over the file's items (and the items its imports bring) that resolves every name,
//! infers every expression's type with nullability, proves that every operation that can fail on
//! data is handled, and builds the `etr_ir::Program` at the same time. Checking and lowering share
//! a pass because the IR *is* the typed tree: keeping a second typed AST would only duplicate it.
//!
//! Error handling: every problem is a diagnostic; an expression with an error lowers to `None`,
//! and its parents stay silent about it (no cascades), so one mistake gives one message.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use etr_ir as ir;
use etr_ir::{Type, TypeKind};
use etr_syntax::ast::{self, Item, Span};

use crate::builtins::{self, BuiltinKind};
use crate::codes::{self, Code};
use crate::datefmt::{DateFormatUse, parse_date_format};
use crate::db::{Db, SourceFile, parse, resolve};
use crate::diagnostics::Diagnostic;
use crate::suggest::did_you_mean;

/// What `check` produces for a file: the program (for a contributor spec that got far enough to
/// build one) and every diagnostic, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckResult {
    pub program: Option<Arc<ir::Program>>,
    pub diagnostics: Vec<Diagnostic>,
    /// The inferred type of every expression of this file that checked without error, for the
    /// language server's hovers and inlay hints. Expressions of imported modules are left out:
    /// they are reported when their own file is checked.
    pub expr_types: Vec<ExprType>,
}

/// An expression's span in the checked file and its type as an analyst reads it: `money`,
/// `ActionCode`, with a trailing `?` when the value can be null.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExprType {
    pub span: Span,
    pub ty: String,
}

pub(crate) fn check_file(db: &dyn Db, file: SourceFile) -> CheckResult {
    let path = file.path(db).clone();
    let parsed = parse(db, file);
    let resolved = resolve(db, file);
    let mut diagnostics: Vec<Diagnostic> = parsed
        .errors
        .iter()
        .map(|e| {
            // The parser's message already names what was expected; repeat it only when it does not.
            let help = if e.expected.is_empty() || e.message.starts_with("expected") {
                None
            } else {
                Some(format!("expected {}", e.expected.join(", ")))
            };
            Diagnostic::error(codes::SYNTAX, e.message.clone(), &path, e.span, "here").with_help_opt(help)
        })
        .collect();
    diagnostics.extend(resolved.diagnostics.iter().cloned());

    let mut items: Vec<(&str, &Item)> = Vec::new();
    for module in &resolved.imports {
        items.extend(module.items.iter().map(|i| (module.path.as_str(), i)));
    }
    items.extend(parsed.items.iter().map(|i| (path.as_str(), i)));

    let mut checker = Checker::new();
    checker.own_path = path.as_str();
    // A missing `map` or `source` may be the item that failed to parse: say nothing about it then.
    checker.syntax_errors = !parsed.errors.is_empty();
    let program = checker.check(&path, &items, &parsed.items);
    diagnostics.extend(checker.diagnostics);
    // Diagnostics of this file first, in source order; then those located in imported modules.
    diagnostics.sort_by_key(|d| (d.primary.file != path, d.primary.file.clone(), d.primary.span.start));
    let mut expr_types = checker.expr_types;
    expr_types.sort_by_key(|it| (it.span.start, std::cmp::Reverse(it.span.end)));
    // A parenthesised expression and its content, or a let reached twice, give one entry per span.
    expr_types.dedup_by_key(|it| it.span);
    CheckResult { program: program.map(Arc::new), diagnostics, expr_types }
}

/// Where an expression is evaluated, which decides what its names can mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// Once per well-formed line: columns, record fields and `let` values.
    Row,
    /// Once per file: header and trailer fields and aggregates.
    File,
    /// Once per data line inside an aggregate (malformed lines included): columns only.
    Aggregate,
}

#[derive(Debug, Clone, Copy)]
struct Ctx<'a> {
    scope: Scope,
    /// What a rejected value is about (the field being mapped, the let, the check's target).
    target: &'a str,
}

/// The state of a `let` during lazy inference (a let may use a let declared after it).
#[derive(Debug, Clone)]
enum LetState<'a> {
    Pending { path: &'a str, item: &'a ast::Let },
    InProgress,
    Done(Option<ir::LocalIdx>),
}

struct Checker<'a> {
    /// The file of the item being checked (imported rules and lets report in their own module).
    file: &'a str,
    diagnostics: Vec<Diagnostic>,
    code_types: Vec<ir::CodeType>,
    /// Per code type, each member's index: a literal is looked up in constant time, since a code
    /// may have tens of thousands of members and a table as many literals of it.
    code_member_index: Vec<HashMap<String, u32>>,
    code_index: HashMap<String, ir::CodeTypeIdx>,
    records: HashMap<String, (&'a str, &'a ast::Record)>,
    record: Option<ir::RecordType>,
    field_index: HashMap<String, ir::FieldIdx>,
    columns: Vec<String>,
    column_index: HashMap<String, ir::ColumnIdx>,
    header: Option<ir::RecordLine>,
    trailer: Option<ir::RecordLine>,
    tables: Vec<ir::CodeTable>,
    table_index: HashMap<String, ir::TableIdx>,
    rules: Vec<ir::Rule>,
    rule_index: HashMap<String, ir::RuleIdx>,
    rule_spans: Vec<(&'a str, Span)>,
    rule_raised: Vec<bool>,
    rule_has_body: Vec<bool>,
    rule_is_unique: Vec<bool>,
    /// Each rule's zones (`fatal above 2%`) and the file they are written in.
    rule_zones: Vec<(&'a str, Vec<ast::Zone>)>,
    lets: HashMap<String, LetState<'a>>,
    locals: Vec<ir::LocalDef>,
    /// Bindings with the span that reports a cycle through them.
    bindings: Vec<(ir::Binding, &'a str, Span)>,
    aggregates: Vec<ir::Aggregate>,
    syntax_errors: bool,
    let_order: Vec<String>,
    /// The file being checked, as opposed to `file`, which follows imported items.
    own_path: &'a str,
    expr_types: Vec<ExprType>,
}

impl<'a> Checker<'a> {
    fn new() -> Self {
        Checker {
            file: "",
            diagnostics: Vec::new(),
            code_types: Vec::new(),
            code_member_index: Vec::new(),
            code_index: HashMap::new(),
            records: HashMap::new(),
            record: None,
            field_index: HashMap::new(),
            columns: Vec::new(),
            column_index: HashMap::new(),
            header: None,
            trailer: None,
            tables: Vec::new(),
            table_index: HashMap::new(),
            rules: Vec::new(),
            rule_index: HashMap::new(),
            rule_spans: Vec::new(),
            rule_raised: Vec::new(),
            rule_has_body: Vec::new(),
            rule_is_unique: Vec::new(),
            rule_zones: Vec::new(),
            lets: HashMap::new(),
            locals: Vec::new(),
            bindings: Vec::new(),
            aggregates: Vec::new(),
            syntax_errors: false,
            let_order: Vec::new(),
            own_path: "",
            expr_types: Vec::new(),
        }
    }

    fn error(
        &mut self,
        code: Code,
        message: impl Into<String>,
        span: Span,
        label: impl Into<String>,
    ) -> &mut Diagnostic {
        let diagnostic = Diagnostic::error(code, message, self.file, span, label);
        self.diagnostics.push(diagnostic);
        self.diagnostics.last_mut().expect("just pushed")
    }

    fn warning(&mut self, code: Code, message: impl Into<String>, span: Span, label: impl Into<String>) {
        let diagnostic = Diagnostic::warning(code, message, self.file, span, label);
        self.diagnostics.push(diagnostic);
    }

    /// Checks all items; returns the program when the file is a contributor spec.
    fn check(&mut self, own_path: &'a str, items: &[(&'a str, &'a Item)], own: &'a [Item]) -> Option<ir::Program> {
        self.declare_types(items);
        self.file = own_path;
        self.literal_names(own);

        let contributors: Vec<&ast::Contributor> =
            own.iter().filter_map(|i| if let Item::Contributor(c) = i { Some(c) } else { None }).collect();
        let sources: Vec<&ast::Source> =
            own.iter().filter_map(|i| if let Item::Source(s) = i { Some(s) } else { None }).collect();
        let maps: Vec<&ast::Map> =
            own.iter().filter_map(|i| if let Item::Map(m) = i { Some(m) } else { None }).collect();
        for (what, spans) in [
            ("contributor", contributors.iter().map(|c| c.span).collect::<Vec<_>>()),
            ("source", sources.iter().map(|s| s.span).collect()),
            ("map", maps.iter().map(|m| m.span).collect()),
        ] {
            for span in spans.iter().skip(1) {
                self.error(
                    codes::DUPLICATE_ITEM,
                    format!("a spec has one `{what}` item; this is a second one"),
                    *span,
                    "second one",
                )
                .help = Some(format!("merge it into the first `{what}` item"));
            }
        }

        // Rules and tables come first: mappings and checks refer to them.
        for (path, item) in items {
            self.file = path;
            match item {
                Item::Rule(rule) => self.declare_rule(rule),
                Item::Table(table) => self.declare_table(table),
                Item::Let(let_item) => self.declare_let(path, let_item),
                _ => {}
            }
        }
        // Overrides change shared rules before anything reads their severity.
        let mut overridden: HashMap<String, Span> = HashMap::new();
        for (path, item) in items {
            if let Item::Override(over) = item {
                self.file = path;
                self.apply_override(over, &mut overridden);
            }
        }
        self.file = own_path;

        let Some(contributor) = contributors.first() else {
            // A module (a stdlib file or a shared rule set): declarations only.
            if let Some(first) = sources.first().map(|s| s.span).or(maps.first().map(|m| m.span)) {
                self.error(
                    codes::MISSING_ITEM,
                    "a spec with a `source` or a `map` needs a `contributor` item",
                    first,
                    "no contributor declared",
                )
                .help = Some("start the spec with `contributor CODE \"Name\" layout 1`".into());
            }
            return None;
        };
        let Some(source) = sources.first() else {
            if self.syntax_errors {
                return None;
            }
            self.error(codes::MISSING_ITEM, "the spec has no `source` item", contributor.span, "this spec").help =
                Some("describe the file with `source delimited \"|\" { ... }`".into());
            return None;
        };
        let source = self.lower_source(source);
        let Some(map) = maps.first() else {
            if self.syntax_errors {
                return None;
            }
            self.error(
                codes::MISSING_ITEM,
                "the spec has no `map to RECORD { ... }` item",
                contributor.span,
                "this spec",
            )
            .help = Some("map the columns into the canonical record: `map to Record { field = COLUMN ... }`".into());
            return None;
        };
        self.check_map(map);
        // Lets that nothing used are still checked, so their errors show.
        // Declaration order, so the IR does not depend on hash order.
        let pending: Vec<String> = self.let_order.clone();
        for name in pending {
            self.let_local(&name);
        }
        let mut row_checks = Vec::new();
        let mut file_checks = Vec::new();
        let mut unique_checks = Vec::new();
        let mut order_checks = Vec::new();
        for (path, item) in items {
            if let Item::Rule(rule) = item {
                self.file = path;
                self.check_rule(rule, &mut row_checks, &mut file_checks, &mut unique_checks, &mut order_checks);
            }
        }
        self.file = own_path;
        self.zone_checks(&mut file_checks, &unique_checks);
        let bindings = self.order_bindings();
        for (i, raised) in self.rule_raised.clone().into_iter().enumerate() {
            let has_checks = row_checks.iter().any(|c: &ir::RowCheck| c.rule as usize == i)
                || file_checks.iter().any(|c: &ir::FileCheck| c.rule as usize == i)
                || unique_checks.iter().any(|c: &ir::UniqueCheck| c.rule as usize == i)
                || order_checks.iter().any(|c: &ir::OrderCheck| c.rule as usize == i);
            if !raised && !has_checks && !self.rule_has_body[i] {
                let (file, span) = self.rule_spans[i];
                let id = self.rules[i].id.clone();
                self.diagnostics.push(
                    Diagnostic::warning(
                        codes::UNUSED_RULE,
                        format!("rule {id} has no checks and nothing raises it"),
                        file,
                        span,
                        "never fires",
                    )
                    .with_help(format!("raise it from a mapping with `else reject {id}`, or give it a body")),
                );
            }
        }
        let source = source?;
        let record = self.record.clone()?;
        Some(ir::Program {
            contributor: ir::Contributor {
                code: contributor.code.text.clone(),
                name: contributor.name.value.clone(),
                layout: u32::try_from(contributor.layout.value).unwrap_or(0),
            },
            source,
            code_types: self.code_types.clone(),
            tables: self.tables.clone(),
            record,
            locals: self.locals.clone(),
            rules: self.rules.clone(),
            bindings,
            row_checks,
            aggregates: self.aggregates.clone(),
            file_checks,
            unique_checks,
            order_checks,
        })
    }

    // ------------------------------------------------------------------ declarations

    /// Reports every name this file declares that the grammar reads as a literal wherever it is
    /// used: `RM100` declares fine (a name may start with letters) but `RM100 > 0` compares the
    /// money RM100.00, silently. Keywords (`true`, `null`, ...) and numbers cannot be names at
    /// all, so money is the one literal a name can look like.
    fn literal_names(&mut self, own: &'a [Item]) {
        let mut declared: Vec<(&'static str, &'a ast::Ident)> = Vec::new();
        let fields = |what, fields: &'a [ast::FieldDecl], declared: &mut Vec<(&'static str, &'a ast::Ident)>| {
            declared.extend(fields.iter().map(|f| (what, &f.name)));
        };
        for item in own {
            match item {
                Item::Source(source) => {
                    for setting in &source.settings {
                        match setting {
                            ast::SourceSetting::Columns { columns, .. } => {
                                declared.extend(columns.iter().map(|c| ("column", c)));
                            }
                            ast::SourceSetting::Header(line) => fields("header field", &line.fields, &mut declared),
                            ast::SourceSetting::Trailer(line) => fields("trailer field", &line.fields, &mut declared),
                            _ => {}
                        }
                    }
                }
                Item::Record(record) => {
                    declared.push(("record", &record.name));
                    fields("field", &record.fields, &mut declared);
                }
                Item::Let(item) => declared.push(("let value", &item.name)),
                Item::Rule(rule) => declared.push(("rule", &rule.id)),
                Item::Table(table) => declared.push(("table", &table.name)),
                Item::Code(code) => declared.push(("code", &code.name)),
                _ => {}
            }
        }
        for (what, name) in declared {
            if reads_as_money(&name.text) {
                let renamed = format!("rm{}", &name.text[2..]);
                self.error(
                    codes::LITERAL_NAME,
                    format!("`{}` cannot name a {what}: it is also the money literal {}", name.text, name.text),
                    name.span,
                    "a money literal",
                )
                .help = Some(format!(
                    "where a value is expected, `{}` reads as money, not as this name; rename it so that it does not \
                     start with `RM` and a digit, for example `{renamed}` or `{}_x`",
                    name.text, name.text
                ));
            }
        }
    }

    fn declare_types(&mut self, items: &[(&'a str, &'a Item)]) {
        let mut seen: HashMap<String, (&'a str, Span)> = HashMap::new();
        for (path, item) in items {
            self.file = path;
            let (name, span) = match item {
                Item::Code(code) => (&code.name, code.name.span),
                Item::Record(record) => (&record.name, record.name.span),
                _ => continue,
            };
            if let Some((first_file, first_span)) = seen.get(&name.text).copied() {
                let d = Diagnostic::error(
                    codes::DUPLICATE,
                    format!("`{}` is declared twice", name.text),
                    self.file,
                    span,
                    "second declaration",
                )
                .with_secondary(first_file, first_span, "first declared here");
                self.diagnostics.push(d);
                continue;
            }
            seen.insert(name.text.clone(), (path, span));
            match item {
                Item::Code(code) => {
                    let mut members: Vec<String> = Vec::new();
                    let mut member_index: HashMap<String, u32> = HashMap::new();
                    for member in &code.members {
                        if member_index.contains_key(&member.value.value) {
                            self.error(
                                codes::DUPLICATE,
                                format!("`{}` appears twice in code `{}`", member.value.value, code.name.text),
                                member.span,
                                "repeated member",
                            );
                        } else {
                            member_index.insert(member.value.value.clone(), members.len() as u32);
                            members.push(member.value.value.clone());
                        }
                    }
                    let idx = self.code_types.len() as ir::CodeTypeIdx;
                    self.code_types.push(ir::CodeType { name: code.name.text.clone(), members });
                    self.code_member_index.push(member_index);
                    self.code_index.insert(code.name.text.clone(), idx);
                }
                Item::Record(record) => {
                    self.records.insert(record.name.text.clone(), (path, record));
                }
                _ => {}
            }
        }
        // Record field types are checked once every code type is known.
        let mut records: Vec<(&'a str, &'a ast::Record)> = self.records.values().copied().collect();
        records.sort_by_key(|(path, record)| (*path, record.span.start));
        for (path, record) in records {
            self.file = path;
            self.record_type(record);
        }
    }

    fn record_type(&mut self, record: &ast::Record) -> ir::RecordType {
        let mut fields: Vec<ir::FieldDef> = Vec::new();
        let mut seen: HashSet<&str> = HashSet::new();
        for field in &record.fields {
            if !seen.insert(&field.name.text) {
                self.error(
                    codes::DUPLICATE,
                    format!("field `{}` is declared twice in `{}`", field.name.text, record.name.text),
                    field.name.span,
                    "second declaration",
                );
                continue;
            }
            let kind = self.type_kind(&field.ty).unwrap_or(TypeKind::Null);
            fields.push(ir::FieldDef {
                name: field.name.text.clone(),
                ty: Type::nullable(kind),
                doc: field.doc.as_ref().map(|d| d.text.clone()).unwrap_or_default(),
            });
        }
        ir::RecordType { name: record.name.text.clone(), fields }
    }

    /// A value type written in the spec: a primitive or a declared code type.
    fn type_kind(&mut self, ty: &ast::TypeExpr) -> Option<TypeKind> {
        let kind = match ty.name.text.as_str() {
            "text" => TypeKind::Text,
            "int" => TypeKind::Int,
            "money" => TypeKind::Money,
            "number" => TypeKind::Number,
            "date" => TypeKind::Date,
            "month" => TypeKind::Month,
            "bool" => TypeKind::Bool,
            other => match self.code_index.get(other) {
                Some(idx) => TypeKind::Code(*idx),
                None => {
                    let mut names: Vec<&str> = vec!["text", "int", "money", "number", "date", "month", "bool"];
                    names.extend(self.code_types.iter().map(|c| c.name.as_str()));
                    let help = did_you_mean(other, names.iter().copied());
                    let help = help.or_else(|| Some("declare it with `code NAME { ... }` or `use etr.codes`".into()));
                    self.error(
                        codes::UNKNOWN_TYPE,
                        format!("there is no type `{other}`"),
                        ty.name.span,
                        "unknown type",
                    )
                    .help = help;
                    return None;
                }
            },
        };
        if !ty.args.is_empty() {
            self.error(
                codes::BAD_SOURCE,
                format!("the type `{}` takes no arguments here", ty.name.text),
                ty.span,
                "unexpected arguments",
            );
        }
        Some(kind)
    }

    fn declare_rule(&mut self, rule: &'a ast::Rule) {
        if let Some(&first) = self.rule_index.get(&rule.id.text) {
            let (file, span) = self.rule_spans[first as usize];
            let d = Diagnostic::error(
                codes::DUPLICATE_RULE,
                format!("rule {} is declared twice", rule.id.text),
                self.file,
                rule.id.span,
                "second declaration",
            )
            .with_secondary(file, span, "first declared here")
            .with_help("rule ids are stable identifiers: give this rule a new id");
            self.diagnostics.push(d);
            return;
        }
        let severity = ir_severity(rule.severity);
        let idx = self.rules.len() as ir::RuleIdx;
        let mostly = rule.mostly.and_then(|(bits, span)| {
            let value = f64::from_bits(bits);
            if (0.0..=1.0).contains(&value) {
                Some(ir::F64(value))
            } else {
                self.error(
                    codes::BAD_THRESHOLD,
                    format!("`mostly` is a share between 0 and 1, not {value}"),
                    span,
                    "out of range",
                )
                .help = Some("write e.g. `mostly 0.95` for \"at least 95% of the rows pass\"".into());
                None
            }
        });
        self.rules.push(ir::Rule { id: rule.id.text.clone(), severity, message: rule.message.value.clone(), mostly });
        self.rule_index.insert(rule.id.text.clone(), idx);
        self.rule_spans.push((self.file, rule.id.span));
        self.rule_raised.push(false);
        self.rule_has_body.push(rule.body.is_some());
        let unique =
            rule.body.as_ref().is_some_and(|b| b.stmts.iter().any(|s| matches!(s, ast::RuleStmt::Unique { .. })));
        self.rule_is_unique.push(unique);
        self.rule_zones.push((self.file, rule.zones.clone()));
    }

    fn declare_table(&mut self, table: &'a ast::Table) {
        if self.table_index.contains_key(&table.name.text) {
            self.error(
                codes::DUPLICATE,
                format!("table `{}` is declared twice", table.name.text),
                table.name.span,
                "second declaration",
            );
            return;
        }
        let key_kind = self.type_kind(&table.key_ty);
        let value_kind = self.type_kind(&table.value_ty);
        let (Some(key_kind), Some(value_kind)) = (key_kind, value_kind) else { return };
        let mut entries: Vec<(ir::Literal, ir::Literal)> = Vec::new();
        let mut keys: HashSet<ir::Literal> = HashSet::new();
        for entry in &table.entries {
            let key = self.literal_as(&entry.key, key_kind);
            let value = self.literal_as(&entry.value, value_kind);
            let (Some(key), Some(value)) = (key, value) else { continue };
            if !keys.insert(key.clone()) {
                self.error(
                    codes::DUPLICATE,
                    format!("the key {} appears twice in table `{}`", self.describe_literal(&key), table.name.text),
                    entry.key.span,
                    "repeated key",
                );
                continue;
            }
            entries.push((key, value));
        }
        let idx = self.tables.len() as ir::TableIdx;
        self.tables.push(ir::CodeTable {
            name: table.name.text.clone(),
            key_type: Type::non_null(key_kind),
            value_type: Type::non_null(value_kind),
            entries,
        });
        self.table_index.insert(table.name.text.clone(), idx);
    }

    fn declare_let(&mut self, path: &'a str, item: &'a ast::Let) {
        if self.lets.contains_key(&item.name.text) {
            self.error(
                codes::DUPLICATE,
                format!("`let {}` is declared twice", item.name.text),
                item.name.span,
                "second declaration",
            );
            return;
        }
        self.lets.insert(item.name.text.clone(), LetState::Pending { path, item });
        self.let_order.push(item.name.text.clone());
    }

    /// A literal in a table, list or pattern, as a value of `kind`.
    fn literal_as(&mut self, lit: &ast::Literal, kind: TypeKind) -> Option<ir::Literal> {
        let value = match (&lit.value, kind) {
            (ast::LitValue::String(s), TypeKind::Text) => ir::Literal::Text(s.clone()),
            (ast::LitValue::String(s), TypeKind::Code(idx)) => return self.code_member(idx, s, lit.span),
            (ast::LitValue::Int(i), TypeKind::Int) => ir::Literal::Int(*i),
            (ast::LitValue::Money(m), TypeKind::Money) => ir::Literal::Money(*m),
            (ast::LitValue::Number(bits), TypeKind::Number) => ir::Literal::Number(ir::F64(f64::from_bits(*bits))),
            // An integer written where a number is expected is that number.
            (ast::LitValue::Int(i), TypeKind::Number) => ir::Literal::Number(ir::F64(*i as f64)),
            (ast::LitValue::Int(i), TypeKind::Money) => {
                self.error(
                    codes::MONEY_UNIT,
                    "an integer where money is expected",
                    lit.span,
                    "is this ringgit or sen?",
                )
                .help = Some(format!("write the amount in ringgit: `RM{i}` or `RM{i}.00`"));
                return None;
            }
            (ast::LitValue::Bool(b), TypeKind::Bool) => ir::Literal::Bool(*b),
            (ast::LitValue::Null, _) => ir::Literal::Null,
            (other, kind) => {
                let found = describe_ast_literal(other);
                let expected = self.kind_name(kind);
                self.error(
                    codes::TYPE_MISMATCH,
                    format!("expected a {expected} value, found {found}"),
                    lit.span,
                    format!("not a {expected}"),
                );
                return None;
            }
        };
        Some(value)
    }

    fn code_member(&mut self, code: ir::CodeTypeIdx, member: &str, span: Span) -> Option<ir::Literal> {
        if let Some(&pos) = self.code_member_index[code as usize].get(member) {
            return Some(ir::Literal::Code(code, pos));
        }
        let code_type = &self.code_types[code as usize];
        let name = code_type.name.clone();
        let members = code_type.members.clone();
        let help = did_you_mean(member, members.iter().map(|m| m.as_str()))
            .unwrap_or_else(|| format!("the members of `{name}` are: {}", quote_list(&members)));
        self.error(codes::NOT_A_MEMBER, format!("\"{member}\" is not a member of `{name}`"), span, "not a member")
            .help = Some(help);
        None
    }

    fn kind_name(&self, kind: TypeKind) -> String {
        match kind {
            TypeKind::Code(idx) => {
                self.code_types.get(idx as usize).map_or_else(|| "code".into(), |c| format!("`{}` code", c.name))
            }
            other => other.to_string(),
        }
    }

    fn describe_literal(&self, lit: &ir::Literal) -> String {
        match lit {
            ir::Literal::Text(s) => format!("\"{s}\""),
            ir::Literal::Int(i) => i.to_string(),
            ir::Literal::Money(m) => ir::format_money(*m),
            ir::Literal::Number(n) => format!("{:?}", n.0),
            ir::Literal::Bool(b) => b.to_string(),
            ir::Literal::Null => "null".into(),
            ir::Literal::Date(d) => format!("date {d}"),
            ir::Literal::Code(t, m) => {
                format!("\"{}\"", self.code_types[*t as usize].members.get(*m as usize).map_or("?", |s| s.as_str()))
            }
        }
    }

    // ------------------------------------------------------------------ source

    fn lower_source(&mut self, source: &'a ast::Source) -> Option<ir::Source> {
        let ast::SourceFormat::Delimited { delimiter, .. } = &source.format;
        if delimiter.value.is_empty() || delimiter.value.contains(['\n', '\r']) {
            self.error(
                codes::BAD_SOURCE,
                "the delimiter must be non-empty and not a line break",
                delimiter.span,
                "bad delimiter",
            );
        }
        let mut quote = None;
        let mut encoding = ir::Encoding::Utf8;
        let mut encoding_rule = None;
        let mut encoding_seen = false;
        let mut columns_seen = false;
        let mut field_count_rule = None;
        let mut ok = true;
        for setting in &source.settings {
            match setting {
                ast::SourceSetting::Quote { quote: q, .. } => match q {
                    ast::Quote::None(_) => quote = None,
                    ast::Quote::Char(s) => {
                        if s.value.len() == 1 && s.value.is_ascii() {
                            quote = Some(s.value.as_bytes()[0]);
                        } else {
                            self.error(codes::BAD_SOURCE, "the quote must be one ASCII character", s.span, "bad quote");
                            ok = false;
                        }
                    }
                },
                ast::SourceSetting::Encoding { name, handler, span } => {
                    encoding_seen = true;
                    match name.value.to_ascii_lowercase().as_str() {
                        "utf-8" | "utf8" => encoding = ir::Encoding::Utf8,
                        "windows-1252" | "cp1252" | "latin-1" | "latin1" | "iso-8859-1" => {
                            encoding = ir::Encoding::Windows1252
                        }
                        other => {
                            self.error(
                                codes::BAD_SOURCE,
                                format!("unknown encoding \"{other}\""),
                                name.span,
                                "unknown encoding",
                            )
                            .help = Some("the encodings are \"utf-8\" and \"windows-1252\"".into());
                            ok = false;
                        }
                    }
                    match (encoding, handler) {
                        (ir::Encoding::Utf8, Some(handler)) => {
                            encoding_rule = self.line_handler(handler, "a line that is not valid UTF-8");
                        }
                        (ir::Encoding::Utf8, None) => {
                            self.error(
                                codes::UNHANDLED_FALLIBLE,
                                "a UTF-8 file can hold bytes that are not UTF-8, and the spec does not say what to do with such a line",
                                *span,
                                "decoding can fail",
                            )
                            .help = Some("add `else reject RULE` with a reject rule".into());
                        }
                        (ir::Encoding::Windows1252, Some(handler)) => {
                            let span = handler_span(handler);
                            self.error(
                                codes::NEEDLESS_HANDLER,
                                "windows-1252 decoding cannot fail: every byte is a character",
                                span,
                                "never used",
                            )
                            .help = Some("remove the `else` handler".into());
                        }
                        (ir::Encoding::Windows1252, None) => {}
                    }
                }
                ast::SourceSetting::Header(line) => self.header = self.control_line(line),
                ast::SourceSetting::Trailer(line) => self.trailer = self.control_line(line),
                ast::SourceSetting::Columns { columns, handler, span } => {
                    if columns_seen {
                        self.error(codes::DUPLICATE_ITEM, "the columns are declared twice", *span, "second list");
                    }
                    columns_seen = true;
                    for column in columns {
                        if self.column_index.contains_key(&column.text) {
                            self.error(
                                codes::DUPLICATE,
                                format!("column `{}` is declared twice", column.text),
                                column.span,
                                "repeated column",
                            );
                            continue;
                        }
                        self.column_index.insert(column.text.clone(), self.columns.len() as ir::ColumnIdx);
                        self.columns.push(column.text.clone());
                    }
                    match handler {
                        Some(handler) => {
                            field_count_rule = self.line_handler(handler, "a line with the wrong number of fields")
                        }
                        None => {
                            self.error(
                                codes::UNHANDLED_FALLIBLE,
                                format!(
                                    "a line can have more or fewer than the {} declared columns, and the spec does not say what to do with it",
                                    columns.len()
                                ),
                                *span,
                                "splitting can fail",
                            )
                            .help = Some("add `else reject RULE` after the column list".into());
                        }
                    }
                }
            }
        }
        if !encoding_seen {
            self.error(codes::BAD_SOURCE, "the source does not say its encoding", source.span, "no encoding").help =
                Some("add `encoding \"utf-8\" else reject RULE` or `encoding \"windows-1252\"`".into());
            ok = false;
        }
        if !columns_seen {
            self.error(codes::BAD_SOURCE, "the source does not list its columns", source.span, "no columns").help =
                Some("add `columns { FIRST, SECOND, ... } else reject RULE`".into());
            ok = false;
        }
        ok &= self.check_dialect(source, encoding, quote);
        let field_count_rule = field_count_rule?;
        if !ok {
            return None;
        }
        Some(ir::Source {
            format: ir::SourceFormat::Delimited { delimiter: delimiter.value.as_bytes().to_vec(), quote },
            encoding,
            encoding_rule,
            header: self.header.clone(),
            trailer: self.trailer.clone(),
            columns: self.columns.clone(),
            field_count_rule,
        })
    }

    /// Reports, at compile time, every dialect the runtime would refuse when the run starts
    /// (`etr_runtime::dialect::SourceDialect::validate` and the encoding of the delimiter and
    /// prefixes into the file's bytes), and the prefixes that could never be told apart: so that
    /// a spec `etr check` accepts is one `etr run` can read. True when the dialect is usable.
    fn check_dialect(&mut self, source: &ast::Source, encoding: ir::Encoding, quote: Option<u8>) -> bool {
        let ast::SourceFormat::Delimited { delimiter, .. } = &source.format;
        let mut ok = true;
        let mut bad = |checker: &mut Self, span: Span, message: String, label: &str, help: &str| {
            checker.error(codes::BAD_SOURCE, message, span, label).help = Some(help.to_owned());
            ok = false;
        };
        let encoding_name = match encoding {
            ir::Encoding::Utf8 => "utf-8",
            ir::Encoding::Windows1252 => "windows-1252",
        };
        let unencodable =
            |text: &str| encoding == ir::Encoding::Windows1252 && encoding_rs::WINDOWS_1252.encode(text).2;
        if unencodable(&delimiter.value) {
            bad(
                self,
                delimiter.span,
                format!("the delimiter cannot be written in {encoding_name}, the file's encoding"),
                "not in the encoding",
                "use a character of the file's encoding",
            );
        }
        let quote_setting = source.settings.iter().rev().find_map(|s| match s {
            ast::SourceSetting::Quote { quote: ast::Quote::Char(q), .. } => Some(q),
            _ => None,
        });
        if let (Some(q), Some(lit)) = (quote, quote_setting)
            && (q == b'\n' || q == b'\r' || delimiter.value.as_bytes().contains(&q))
        {
            bad(
                self,
                lit.span,
                "the quote must not be a line break or part of the delimiter".to_owned(),
                "bad quote",
                "pick a quote character the delimiter does not use, or `quote none`",
            );
        }
        let mut prefixes: Vec<(&str, &ast::StringLit)> = Vec::new();
        for setting in &source.settings {
            match setting {
                ast::SourceSetting::Header(line) => prefixes.push(("header", &line.prefix)),
                ast::SourceSetting::Trailer(line) => prefixes.push(("trailer", &line.prefix)),
                _ => {}
            }
        }
        for (which, prefix) in &prefixes {
            let value = &prefix.value;
            let problem = if value.is_empty() {
                Some(("it is empty", "a data line can begin with an empty field; give the marker text"))
            } else if value.contains(['\n', '\r']) {
                Some(("it contains a line break", "a line never contains a line break; remove it"))
            } else if !delimiter.value.is_empty() && value.contains(delimiter.value.as_str()) {
                Some((
                    "it contains the delimiter",
                    "the prefix is the line's first field, which never holds the delimiter",
                ))
            } else if unencodable(value) {
                Some(("it cannot be written in the file's encoding", "use characters of the file's encoding"))
            } else {
                None
            };
            if let Some((why, help)) = problem {
                bad(
                    self,
                    prefix.span,
                    format!("the {which} prefix can never match a line's first field: {why}"),
                    "bad prefix",
                    help,
                );
            }
        }
        if let [("header", header), ("trailer", trailer)] | [("trailer", trailer), ("header", header)] =
            prefixes.as_slice()
            && header.value == trailer.value
            && !header.value.is_empty()
        {
            let d = Diagnostic::error(
                codes::BAD_SOURCE,
                "the header and the trailer have the same prefix",
                self.file,
                trailer.span,
                "same prefix as the header",
            )
            .with_secondary(self.file, header.span, "header prefix")
            .with_help("give the trailer a prefix of its own, so that a one-line file is not both");
            self.diagnostics.push(d);
            ok = false;
        }
        ok
    }

    /// The rule a structural handler (`encoding ... else reject R`, `columns {...} else reject R`) raises.
    fn line_handler(&mut self, handler: &ast::Handler, what: &str) -> Option<ir::RuleIdx> {
        match handler {
            ast::Handler::Reject { rule, .. } => self.handler_rule(rule, ir::Severity::Reject),
            ast::Handler::Fail { rule, .. } => self.handler_rule(rule, ir::Severity::Fatal),
            ast::Handler::Value(expr) => {
                self.error(
                    codes::HANDLER_PLACE,
                    format!("{what} cannot be given a default value"),
                    expr.span,
                    "a value is not allowed here",
                )
                .help = Some("use `else reject RULE` (or `else fail RULE` to refuse the file)".into());
                None
            }
        }
    }

    fn control_line(&mut self, line: &ast::ControlLine) -> Option<ir::RecordLine> {
        let mut fields: Vec<ir::LineField> = Vec::new();
        let mut seen: HashSet<&str> = HashSet::new();
        for field in &line.fields {
            if !seen.insert(&field.name.text) {
                self.error(
                    codes::DUPLICATE,
                    format!("field `{}` is declared twice", field.name.text),
                    field.name.span,
                    "repeated field",
                );
                continue;
            }
            let ty = &field.ty;
            let string_arg = |args: &[ast::TypeArg]| match args {
                [ast::TypeArg::String(s)] => Some(s.clone()),
                _ => None,
            };
            let lowered = match (ty.name.text.as_str(), ty.args.as_slice()) {
                ("text", []) => Some(ir::LineFieldType::Text),
                ("int", []) => Some(ir::LineFieldType::Int),
                ("money", [ast::TypeArg::Ident(unit)]) => match unit.text.as_str() {
                    "ringgit" => Some(ir::LineFieldType::Money(ir::MoneyUnit::Ringgit)),
                    "sen" => Some(ir::LineFieldType::Money(ir::MoneyUnit::Sen)),
                    _ => None,
                },
                ("date", args) | ("month", args) if string_arg(args).is_some() => {
                    let pattern = string_arg(args).expect("checked by the guard");
                    let usage =
                        if ty.name.text == "date" { DateFormatUse::ParseDate } else { DateFormatUse::ParseMonth };
                    match parse_date_format(&pattern.value, usage) {
                        Ok(format) if usage == DateFormatUse::ParseDate => Some(ir::LineFieldType::Date(format)),
                        Ok(format) => Some(ir::LineFieldType::Month(format)),
                        Err(why) => {
                            self.error(codes::BAD_DATE_FORMAT, why, pattern.span, "bad format");
                            continue;
                        }
                    }
                }
                _ => None,
            };
            match lowered {
                Some(ty) => fields.push(ir::LineField { name: field.name.text.clone(), ty }),
                None => {
                    self.error(codes::BAD_SOURCE, format!("`{}` is not a header or trailer field type", type_text(ty)), ty.span, "unknown field type")
                        .help = Some("the field types are text, int, money(ringgit), money(sen), date(\"%d/%m/%Y\") and month(\"%Y%m\")".into());
                }
            }
        }
        Some(ir::RecordLine { prefix: line.prefix.value.clone(), fields })
    }

    // ------------------------------------------------------------------ map and let

    fn check_map(&mut self, map: &'a ast::Map) {
        let Some(&(record_path, record_ast)) = self.records.get(&map.target.text) else {
            let names: Vec<String> = self.records.keys().cloned().collect();
            let help = did_you_mean(&map.target.text, names.iter().map(|s| s.as_str()))
                .or_else(|| Some("declare it with `record NAME { ... }` or `use etr.record`".into()));
            self.error(
                codes::UNKNOWN_TYPE,
                format!("there is no record type `{}`", map.target.text),
                map.target.span,
                "unknown record",
            )
            .help = help;
            return;
        };
        let saved = self.file;
        self.file = record_path;
        let record = self.record_type(record_ast);
        self.file = saved;
        // The record type's own errors were reported when it was declared: drop the duplicates.
        self.diagnostics.dedup();
        for (i, field) in record.fields.iter().enumerate() {
            self.field_index.insert(field.name.clone(), i as ir::FieldIdx);
        }
        self.record = Some(record);
        let mut assigned: HashMap<String, Span> = HashMap::new();
        for assignment in &map.assignments {
            let name = &assignment.field.text;
            let Some(&field) = self.field_index.get(name) else {
                let record = self.record.as_ref().expect("set above");
                let help = did_you_mean(name, record.fields.iter().map(|f| f.name.as_str()));
                let record_name = record.name.clone();
                self.error(
                    codes::UNKNOWN_FIELD,
                    format!("`{record_name}` has no field `{name}`"),
                    assignment.field.span,
                    "unknown field",
                )
                .help = help;
                continue;
            };
            if let Some(first) = assigned.get(name) {
                let d = Diagnostic::error(
                    codes::DUPLICATE,
                    format!("field `{name}` is assigned twice"),
                    self.file,
                    assignment.field.span,
                    "second assignment",
                )
                .with_secondary(self.file, *first, "first assigned here");
                self.diagnostics.push(d);
                continue;
            }
            assigned.insert(name.clone(), assignment.field.span);
            let field_ty = self.record.as_ref().expect("set above").fields[field as usize].ty;
            let ctx = Ctx { scope: Scope::Row, target: name };
            let Some(expr) = self.infer_expecting(&assignment.value, ctx, Some(field_ty.kind)) else { continue };
            if !self.compatible(expr.ty.kind, field_ty.kind) {
                let expected = self.kind_name(field_ty.kind);
                let found = self.kind_name(expr.ty.kind);
                let help = conversion_help(field_ty.kind, expr.ty.kind);
                self.error(
                    codes::TYPE_MISMATCH,
                    format!("field `{name}` is {expected}, but the value is {found}"),
                    assignment.value.span,
                    format!("this is {found}"),
                )
                .help = help;
                continue;
            }
            let expr = ir::Expr { ty: field_ty.with_nullable(expr.ty.nullable), ..expr };
            self.bindings.push((
                ir::Binding { target: ir::Slot::Field(field), expr },
                self.file,
                assignment.field.span,
            ));
        }
        let unassigned: Vec<String> = self
            .record
            .as_ref()
            .expect("set above")
            .fields
            .iter()
            .filter(|f| !assigned.contains_key(&f.name))
            .map(|f| f.name.clone())
            .collect();
        if !unassigned.is_empty() {
            self.warning(
                codes::UNMAPPED_FIELD,
                format!("the mapping leaves {} null: {}", plural(unassigned.len(), "field"), unassigned.join(", ")),
                map.target.span,
                "not every field is mapped",
            );
        }
    }

    /// The local index of a `let`, checking it on first use (lets may use lets declared later).
    fn let_local(&mut self, name: &str) -> Option<Option<ir::LocalIdx>> {
        let state = self.lets.get(name)?.clone();
        match state {
            LetState::Done(idx) => Some(idx),
            LetState::InProgress => Some(None),
            LetState::Pending { path, item } => {
                self.lets.insert(name.to_string(), LetState::InProgress);
                let saved = self.file;
                self.file = path;
                let ctx = Ctx { scope: Scope::Row, target: &item.name.text };
                let expr = self.infer(&item.value, ctx);
                let idx = expr.map(|expr| {
                    let idx = self.locals.len() as ir::LocalIdx;
                    self.locals.push(ir::LocalDef { name: name.to_string(), ty: expr.ty });
                    self.bindings.push((ir::Binding { target: ir::Slot::Local(idx), expr }, path, item.name.span));
                    idx
                });
                self.file = saved;
                self.lets.insert(name.to_string(), LetState::Done(idx));
                Some(idx)
            }
        }
    }

    /// Orders the bindings so that each comes after the fields and lets it reads.
    fn order_bindings(&mut self) -> Vec<ir::Binding> {
        let bindings = std::mem::take(&mut self.bindings);
        let slot_of: HashMap<ir::Slot, usize> =
            bindings.iter().enumerate().map(|(i, (b, _, _))| (b.target, i)).collect();
        let deps: Vec<Vec<usize>> = bindings
            .iter()
            .map(|(b, _, _)| {
                let mut slots = Vec::new();
                collect_slots(&b.expr, &mut slots);
                slots.iter().filter_map(|s| slot_of.get(s).copied()).collect()
            })
            .collect();
        // Depth-first topological order that keeps the written order where it can.
        let mut state = vec![0u8; bindings.len()]; // 0 new, 1 on the stack, 2 done
        let mut order = Vec::with_capacity(bindings.len());
        let mut cyclic = vec![false; bindings.len()];
        // One level per `let` that reads another: the parser's limits do not bound this depth.
        fn visit(i: usize, deps: &[Vec<usize>], state: &mut [u8], order: &mut Vec<usize>, cyclic: &mut [bool]) {
            etr_syntax::ensure_sufficient_stack(|| {
                if state[i] == 2 {
                    return;
                }
                if state[i] == 1 {
                    cyclic[i] = true;
                    return;
                }
                state[i] = 1;
                for &d in &deps[i] {
                    visit(d, deps, state, order, cyclic);
                }
                state[i] = 2;
                order.push(i);
            })
        }
        for i in 0..bindings.len() {
            visit(i, &deps, &mut state, &mut order, &mut cyclic);
        }
        for (i, is_cyclic) in cyclic.iter().enumerate() {
            if *is_cyclic {
                let (binding, file, span) = &bindings[i];
                let name = match binding.target {
                    ir::Slot::Field(f) => {
                        self.record.as_ref().map_or("?".into(), |r| r.fields[f as usize].name.clone())
                    }
                    ir::Slot::Local(l) => self.locals[l as usize].name.clone(),
                };
                self.diagnostics.push(Diagnostic::error(
                    codes::CYCLE,
                    format!("`{name}` depends on itself"),
                    file,
                    *span,
                    "part of a cycle",
                ));
            }
        }
        let mut taken: Vec<Option<(ir::Binding, &str, Span)>> = bindings.into_iter().map(Some).collect();
        order.into_iter().filter_map(|i| taken[i].take().map(|(b, _, _)| b)).collect()
    }

    // ------------------------------------------------------------------ rules

    fn check_rule(
        &mut self,
        rule: &'a ast::Rule,
        row_checks: &mut Vec<ir::RowCheck>,
        file_checks: &mut Vec<ir::FileCheck>,
        unique_checks: &mut Vec<ir::UniqueCheck>,
        order_checks: &mut Vec<ir::OrderCheck>,
    ) {
        let Some(&rule_idx) = self.rule_index.get(&rule.id.text) else { return };
        if self.rule_spans[rule_idx as usize] != (self.file, rule.id.span) {
            return; // a duplicate declaration, already reported
        }
        let Some(body) = &rule.body else { return };
        let severity = self.rules[rule_idx as usize].severity;
        let when_ast = body.stmts.iter().find_map(|s| match s {
            ast::RuleStmt::When { condition, .. } => Some(condition),
            _ => None,
        });
        let whens = body.stmts.iter().filter(|s| matches!(s, ast::RuleStmt::When { .. })).count();
        if whens > 1 {
            self.error(codes::DUPLICATE, "a rule has at most one `when`", rule.id.span, "several `when` conditions")
                .help = Some("combine the conditions with `and`".into());
        }
        let mut when_cache: Option<Option<ir::Expr>> = None;
        let mut row_when = |this: &mut Self, target: &str| -> Option<Option<ir::Expr>> {
            let Some(when_ast) = when_ast else { return Some(None) };
            if when_cache.is_none() {
                let expr = this.infer(when_ast, Ctx { scope: Scope::Row, target });
                let expr = expr.and_then(|e| this.expect_bool(e, when_ast.span, "a `when` condition"));
                when_cache = Some(expr);
            }
            when_cache.clone().map(Some).unwrap_or(None)
        };
        for stmt in &body.stmts {
            match stmt {
                ast::RuleStmt::When { .. } => {}
                ast::RuleStmt::Check { condition, target, value, span } => {
                    let target_name = target_text(target);
                    if uses_file_values(condition) && !reads_row_values(condition) {
                        if when_ast.is_some() {
                            self.error(
                                codes::SCOPE,
                                "a file check cannot have a `when` condition",
                                *span,
                                "file check",
                            )
                            .help = Some("put the condition inside the check with `or`".into());
                        }
                        if severity == ir::Severity::Reject {
                            self.error(
                                codes::RULE_SEVERITY,
                                format!("rule {} checks the whole file, so it cannot reject a line", rule.id.text),
                                rule.severity_span,
                                "reject",
                            )
                            .help = Some("use `fatal` to refuse the file, or `warn`".into());
                            continue;
                        }
                        if let Some(value) = value {
                            self.error(
                                codes::SCOPE,
                                "a file check has no offending value",
                                value.span,
                                "not allowed here",
                            );
                        }
                        let ctx = Ctx { scope: Scope::File, target: &target_name };
                        let Some(expr) = self.infer(condition, ctx) else { continue };
                        let Some(expr) = self.expect_bool(expr, condition.span, "a check") else { continue };
                        file_checks.push(ir::FileCheck {
                            rule: rule_idx,
                            target: target_name,
                            condition: expr,
                            severity,
                            zone: None,
                        });
                    } else {
                        let Some(when) = row_when(self, &target_name) else { continue };
                        let ctx = Ctx { scope: Scope::Row, target: &target_name };
                        let Some(expr) = self.infer(condition, ctx) else { continue };
                        let Some(expr) = self.expect_bool(expr, condition.span, "a check") else { continue };
                        let value = match value {
                            Some(value) => match self.infer(value, ctx) {
                                Some(v) => Some(v),
                                None => continue,
                            },
                            None => None,
                        };
                        row_checks.push(ir::RowCheck {
                            rule: rule_idx,
                            target: target_name,
                            when,
                            condition: expr,
                            value,
                        });
                    }
                }
                ast::RuleStmt::Require { fields, .. } => {
                    for field in fields {
                        let Some(when) = row_when(self, &field.text) else { continue };
                        let name_expr = ast::Expr { kind: ast::ExprKind::Name(field.clone()), span: field.span };
                        let ctx = Ctx { scope: Scope::Row, target: &field.text };
                        let Some(operand) = self.infer(&name_expr, ctx) else { continue };
                        let condition = ir::Expr {
                            kind: ir::ExprKind::IsNull { operand: Box::new(operand), negated: true },
                            ty: Type::non_null(TypeKind::Bool),
                        };
                        row_checks.push(ir::RowCheck {
                            rule: rule_idx,
                            target: field.text.clone(),
                            when,
                            condition,
                            value: None,
                        });
                    }
                }
                ast::RuleStmt::Order { field, descending, strict, target, .. } => {
                    if !matches!(severity, ir::Severity::Reject | ir::Severity::Warn) {
                        self.error(
                            codes::RULE_SEVERITY,
                            format!(
                                "an ordering check reports lines, so rule {} must be `reject` or `warn`",
                                rule.id.text
                            ),
                            rule.severity_span,
                            "not reject or warn",
                        );
                        continue;
                    }
                    let Some(when) = row_when(self, &target_text(target)) else { continue };
                    let Some(idx) = self.record_field(field) else { continue };
                    let kind = self.record.as_ref().map(|r| r.fields[idx as usize].ty.kind).unwrap_or(TypeKind::Null);
                    if !matches!(
                        kind,
                        TypeKind::Int
                            | TypeKind::Money
                            | TypeKind::Number
                            | TypeKind::Date
                            | TypeKind::Month
                            | TypeKind::Text
                    ) {
                        let found = self.kind_name(kind);
                        self.error(
                            codes::TYPE_MISMATCH,
                            format!("{found} values have no order"),
                            field.span,
                            format!("this is {found}"),
                        );
                        continue;
                    }
                    order_checks.push(ir::OrderCheck {
                        rule: rule_idx,
                        target: target_text(target),
                        field: idx,
                        descending: *descending,
                        strict: *strict,
                        when,
                    });
                }
                ast::RuleStmt::Unique { fields, target, .. } => {
                    if severity != ir::Severity::Reject {
                        self.error(
                            codes::RULE_SEVERITY,
                            format!(
                                "a uniqueness check rejects the duplicated lines, so rule {} must be `reject`",
                                rule.id.text
                            ),
                            rule.severity_span,
                            "not reject",
                        );
                        continue;
                    }
                    let Some(when) = row_when(self, &target_text(target)) else { continue };
                    let mut key = Vec::new();
                    for field in fields {
                        if let Some(idx) = self.record_field(field) {
                            key.push(idx);
                        }
                    }
                    if key.len() == fields.len() {
                        unique_checks.push(ir::UniqueCheck { rule: rule_idx, target: target_text(target), key, when });
                    }
                }
            }
        }
    }

    /// `override RULE ...`: a contributor's own severity, threshold or zones for a shared rule.
    fn apply_override(&mut self, over: &ast::Override, seen: &mut HashMap<String, Span>) {
        let Some(&idx) = self.rule_index.get(&over.rule.text) else {
            let help = did_you_mean(&over.rule.text, self.rule_index.keys().map(|s| s.as_str())).or_else(|| {
                Some("an override changes a rule declared elsewhere, such as a stdlib rule you `use`".into())
            });
            self.error(
                codes::UNKNOWN_RULE,
                format!("there is no rule {} to override", over.rule.text),
                over.rule.span,
                "unknown rule",
            )
            .help = help;
            return;
        };
        if let Some(first) = seen.get(&over.rule.text) {
            let d = Diagnostic::error(
                codes::DUPLICATE_ITEM,
                format!("rule {} is overridden twice", over.rule.text),
                self.file,
                over.rule.span,
                "second override",
            )
            .with_secondary(self.file, *first, "first override")
            .with_help("put every setting of the rule in one `override`");
            self.diagnostics.push(d);
            return;
        }
        seen.insert(over.rule.text.clone(), over.rule.span);
        if let Some((severity, _)) = over.severity {
            self.rules[idx as usize].severity = ir_severity(severity);
        }
        if let Some((bits, span)) = over.mostly {
            let value = f64::from_bits(bits);
            if (0.0..=1.0).contains(&value) {
                self.rules[idx as usize].mostly = Some(ir::F64(value));
            } else {
                self.error(
                    codes::BAD_THRESHOLD,
                    format!("`mostly` is a share between 0 and 1, not {value}"),
                    span,
                    "out of range",
                );
            }
        }
        if !over.zones.is_empty() {
            self.rule_zones[idx as usize] = (self.file, over.zones.clone());
        }
    }

    /// File checks made from rules' zones: `SEVERITY above P%` breaks when more than P% of the
    /// data lines broke the rule.
    fn zone_checks(&mut self, file_checks: &mut Vec<ir::FileCheck>, unique_checks: &[ir::UniqueCheck]) {
        for idx in 0..self.rules.len() {
            let (file, zones) = self.rule_zones[idx].clone();
            if zones.is_empty() {
                continue;
            }
            self.file = file;
            let rule_idx = idx as ir::RuleIdx;
            let rule = self.rules[idx].clone();
            let is_file_rule = file_checks.iter().any(|c| c.rule == rule_idx && c.zone.is_none());
            let is_unique_rule = unique_checks.iter().any(|c| c.rule == rule_idx);
            for zone in zones {
                let percent = f64::from_bits(zone.percent);
                let severity = ir_severity(zone.severity);
                let problem = if rule.severity == ir::Severity::Fatal {
                    Some(format!("rule {} is fatal: its first broken line already refuses the file", rule.id))
                } else if is_file_rule {
                    Some(format!("rule {} checks the whole file; zones count the lines that break a row rule", rule.id))
                } else if is_unique_rule {
                    Some(format!("rule {} is a uniqueness rule; its lines cannot be counted for a zone (yet)", rule.id))
                } else if severity == ir::Severity::Reject {
                    Some("a zone decides about the whole file: `fatal`, `warn` or `info`, not `reject`".to_string())
                } else {
                    None
                };
                if let Some(problem) = problem {
                    self.error(codes::RULE_SEVERITY, problem, zone.span, "zone not allowed here");
                    continue;
                }
                if !(0.0..=100.0).contains(&percent) {
                    self.error(
                        codes::BAD_THRESHOLD,
                        format!("a zone is a percentage between 0 and 100, not {percent}"),
                        zone.span,
                        "out of range",
                    );
                    continue;
                }
                let broken = self.aggregate_index(ir::Aggregate {
                    function: ir::AggregateFunction::LinesBroken(rule_idx),
                    argument: None,
                });
                let lines =
                    self.aggregate_index(ir::Aggregate { function: ir::AggregateFunction::Count, argument: None });
                let int_aggregate =
                    |i: u32| ir::Expr { kind: ir::ExprKind::Aggregate(i), ty: Type::non_null(TypeKind::Int) };
                let number = |v: f64| literal_expr(ir::Literal::Number(ir::F64(v)), TypeKind::Number);
                let times = |a: ir::Expr, b: ir::Expr| ir::Expr {
                    kind: ir::ExprKind::Binary(ir::BinaryOp::Mul, Box::new(a), Box::new(b)),
                    ty: Type::nullable(TypeKind::Number),
                };
                let condition = ir::Expr {
                    kind: ir::ExprKind::Binary(
                        ir::BinaryOp::Le,
                        Box::new(times(int_to_number(int_aggregate(broken)), number(100.0))),
                        Box::new(times(int_to_number(int_aggregate(lines)), number(percent))),
                    ),
                    ty: Type::nullable(TypeKind::Bool),
                };
                file_checks.push(ir::FileCheck {
                    rule: rule_idx,
                    target: format!("above {percent}%"),
                    condition,
                    severity,
                    zone: Some(ir::F64(percent)),
                });
            }
        }
    }

    /// `[a, b, ...]`: constants of one kind (the expected list's, else the first item's), sorted
    /// and without duplicates, so that list functions compare sets.
    fn list_literal(&mut self, items: &[ast::Literal], expected: Option<TypeKind>, span: Span) -> Option<ir::Expr> {
        let kind = match expected {
            Some(TypeKind::List(of)) => of.kind(),
            _ => {
                let mut kind = None;
                for item in items {
                    let k = match item.value {
                        ast::LitValue::String(_) => TypeKind::Text,
                        ast::LitValue::Int(_) => TypeKind::Int,
                        ast::LitValue::Number(_) => TypeKind::Number,
                        ast::LitValue::Money(_) => TypeKind::Money,
                        ast::LitValue::Bool(_) => TypeKind::Bool,
                        ast::LitValue::Null => continue,
                    };
                    kind = Some(match (kind, k) {
                        (Some(TypeKind::Int), TypeKind::Number) | (Some(TypeKind::Number), TypeKind::Int) => {
                            TypeKind::Number
                        }
                        (Some(prev), _) => prev,
                        (None, k) => k,
                    });
                }
                kind.unwrap_or(TypeKind::Text)
            }
        };
        let Some(of) = ir::ListOf::of(kind) else {
            self.error(
                codes::TYPE_MISMATCH,
                "a list holds text, numbers, money, dates, months, booleans or codes",
                span,
                "not a list of values",
            );
            return None;
        };
        let mut literals = Vec::with_capacity(items.len());
        for item in items {
            if item.value == ast::LitValue::Null {
                self.error(codes::TYPE_MISMATCH, "a list cannot hold null", item.span, "null");
                return None;
            }
            literals.push(self.literal_as(item, kind)?);
        }
        literals.sort_by(compare_literals);
        literals.dedup();
        Some(ir::Expr { kind: ir::ExprKind::List(literals), ty: Type::non_null(TypeKind::List(of)) })
    }

    /// The list functions of file checks: `is_subset`, `contains_all`, `same_set`, `overlaps`,
    /// `size`. A list literal argument takes the other argument's element kind.
    fn list_call(
        &mut self,
        callee: &ast::Ident,
        args: &[ast::Expr],
        ctx: Ctx<'_>,
        span: Span,
        handler: Option<(&ast::Handler, Option<TypeKind>)>,
    ) -> Option<ir::Expr> {
        let name = callee.text.as_str();
        if let Some((handler, _)) = handler {
            self.error(
                codes::NEEDLESS_HANDLER,
                format!("`{name}` cannot fail, so it needs no `else`"),
                handler_span(handler),
                "never used",
            );
        }
        let arity = if name == "size" { 1 } else { 2 };
        if args.len() != arity {
            self.error(
                codes::ARGUMENT_COUNT,
                format!("`{name}` takes {} but is given {}", plural(arity, "list"), args.len()),
                span,
                "wrong number of arguments",
            );
            return None;
        }
        let is_literal = |e: &ast::Expr| matches!(strip_parens(e).kind, ast::ExprKind::List(_));
        let mut lowered = Vec::with_capacity(arity);
        // Non-literal arguments first: they decide the element kind of literal ones.
        let mut element: Option<TypeKind> = None;
        for arg in args.iter().filter(|a| !is_literal(a)) {
            let expr = self.infer(arg, ctx)?;
            if element.is_none() {
                element = Some(expr.ty.kind);
            }
            lowered.push((arg.span, expr));
        }
        for arg in args.iter().filter(|a| is_literal(a)) {
            let expr = self.infer_expecting(arg, ctx, element)?;
            lowered.push((arg.span, expr));
        }
        // Back in argument order.
        lowered.sort_by_key(|(s, _)| s.start);
        for (arg_span, expr) in &lowered {
            if !matches!(expr.ty.kind, TypeKind::List(_)) {
                let found = self.kind_name(expr.ty.kind);
                self.error(
                    codes::TYPE_MISMATCH,
                    format!("`{name}` takes lists, but this is {found}"),
                    *arg_span,
                    format!("this is {found}"),
                )
                .help =
                    Some("lists come from `distinct_values(...)`, `modes(...)` or are written `[\"A\", \"B\"]`".into());
                return None;
            }
        }
        if arity == 2 && lowered[0].1.ty.kind != lowered[1].1.ty.kind {
            let (a, b) = (self.kind_name(lowered[0].1.ty.kind), self.kind_name(lowered[1].1.ty.kind));
            self.error(
                codes::TYPE_MISMATCH,
                format!("`{name}` compares lists of one kind, but these are {a} and {b}"),
                span,
                "different kinds",
            );
            return None;
        }
        let mut args_ir: Vec<ir::Expr> = lowered.into_iter().map(|(_, e)| e).collect();
        let (function, result) = match name {
            "is_subset" => (ir::Builtin::ListIsSubset, TypeKind::Bool),
            "contains_all" => {
                args_ir.reverse();
                (ir::Builtin::ListIsSubset, TypeKind::Bool)
            }
            "same_set" => (ir::Builtin::ListSameSet, TypeKind::Bool),
            "overlaps" => (ir::Builtin::ListOverlaps, TypeKind::Bool),
            _ => (ir::Builtin::ListSize, TypeKind::Int),
        };
        Some(ir::Expr { kind: ir::ExprKind::Call { function, args: args_ir }, ty: Type::non_null(result) })
    }

    fn aggregate_index(&mut self, aggregate: ir::Aggregate) -> u32 {
        match self.aggregates.iter().position(|a| *a == aggregate) {
            Some(i) => i as u32,
            None => {
                self.aggregates.push(aggregate);
                (self.aggregates.len() - 1) as u32
            }
        }
    }

    /// A field of the target record named by a dataset check, or an error with a suggestion.
    fn record_field(&mut self, field: &ast::Ident) -> Option<ir::FieldIdx> {
        if let Some(&idx) = self.field_index.get(&field.text) {
            return Some(idx);
        }
        let names: Vec<String> =
            self.record.as_ref().map(|r| r.fields.iter().map(|f| f.name.clone()).collect()).unwrap_or_default();
        let help = did_you_mean(&field.text, names.iter().map(|s| s.as_str()));
        self.error(
            codes::UNKNOWN_NAME,
            format!("`{}` is not a field of the record", field.text),
            field.span,
            "unknown field",
        )
        .help = help;
        None
    }

    fn expect_bool(&mut self, expr: ir::Expr, span: Span, what: &str) -> Option<ir::Expr> {
        if matches!(expr.ty.kind, TypeKind::Bool | TypeKind::Null) {
            return Some(expr);
        }
        let found = self.kind_name(expr.ty.kind);
        self.error(
            codes::TYPE_MISMATCH,
            format!("{what} must be true or false, but this is {found}"),
            span,
            format!("this is {found}"),
        )
        .help = Some("compare it with something, e.g. `x >= RM0` or `x is not null`".into());
        None
    }

    // ------------------------------------------------------------------ expressions

    fn infer(&mut self, expr: &ast::Expr, ctx: Ctx<'_>) -> Option<ir::Expr> {
        self.infer_expecting(expr, ctx, None)
    }

    /// Infers an expression's type. `expected` lets string literals become code members and is
    /// otherwise only a hint: the caller still checks the result.
    ///
    /// Every recursion of the checker over an expression comes through here (and so does the
    /// check of a `let` that another reads first): one stack guard per level.
    fn infer_expecting(&mut self, expr: &ast::Expr, ctx: Ctx<'_>, expected: Option<TypeKind>) -> Option<ir::Expr> {
        etr_syntax::ensure_sufficient_stack(|| {
            let inferred = self.infer_kind(expr, ctx, expected);
            if let Some(it) = &inferred
                && self.file == self.own_path
            {
                let ty = format!("{}{}", self.type_label(it.ty.kind), if it.ty.nullable { "?" } else { "" });
                self.expr_types.push(ExprType { span: expr.span, ty });
            }
            inferred
        })
    }

    /// A type kind as written in a spec (`ActionCode` rather than the diagnostics' "`ActionCode` code").
    fn type_label(&self, kind: TypeKind) -> String {
        match kind {
            TypeKind::Code(idx) => self.code_types.get(idx as usize).map_or_else(|| "code".into(), |c| c.name.clone()),
            other => other.to_string(),
        }
    }

    /// The inference proper, one case per expression kind; `infer_expecting` wraps it to record
    /// each typed expression of the checked file.
    fn infer_kind(&mut self, expr: &ast::Expr, ctx: Ctx<'_>, expected: Option<TypeKind>) -> Option<ir::Expr> {
        use ast::ExprKind as K;
        match &expr.kind {
            K::Paren(inner) => self.infer_expecting(inner, ctx, expected),
            K::List(items) => self.list_literal(items, expected, expr.span),
            K::Literal(value) => {
                let lit = ast::Literal { value: value.clone(), span: expr.span };
                let kind = match (value, expected) {
                    (ast::LitValue::String(_), Some(TypeKind::Code(c))) => TypeKind::Code(c),
                    (ast::LitValue::String(_), _) => TypeKind::Text,
                    (ast::LitValue::Int(_), _) => TypeKind::Int,
                    (ast::LitValue::Money(_), _) => TypeKind::Money,
                    (ast::LitValue::Number(_), _) => TypeKind::Number,
                    (ast::LitValue::Bool(_), _) => TypeKind::Bool,
                    (ast::LitValue::Null, _) => TypeKind::Null,
                };
                let literal = self.literal_as(&lit, kind)?;
                Some(literal_expr(literal, kind))
            }
            K::Name(ident) => self.name(ident, ctx),
            K::Field { base, field } => self.line_field(base, field, ctx, expr.span),
            K::Call { callee, args } => self.call(callee, args, ctx, expr.span, None),
            K::MethodCall { receiver, method, args } => {
                let mut all = Vec::with_capacity(args.len() + 1);
                all.push((**receiver).clone());
                all.extend(args.iter().cloned());
                self.call(method, &all, ctx, expr.span, None)
            }
            K::Index { base, index } => self.lookup(base, index, ctx, expr.span, None),
            K::Else { value, handler } => self.handled(value, handler, ctx, expected),
            K::Unary { op, operand, .. } => {
                let operand = self.infer(operand, ctx)?;
                let (op, ok) = match op {
                    ast::UnaryOp::Neg => (
                        ir::UnaryOp::Neg,
                        matches!(operand.ty.kind, TypeKind::Int | TypeKind::Money | TypeKind::Number),
                    ),
                    ast::UnaryOp::Not => (ir::UnaryOp::Not, matches!(operand.ty.kind, TypeKind::Bool)),
                };
                if !ok {
                    let found = self.kind_name(operand.ty.kind);
                    let what = if op == ir::UnaryOp::Neg { "a number or money" } else { "true or false" };
                    self.error(
                        codes::TYPE_MISMATCH,
                        format!("expected {what}, found {found}"),
                        expr.span,
                        format!("this is {found}"),
                    );
                    return None;
                }
                let ty = operand.ty;
                Some(ir::Expr { kind: ir::ExprKind::Unary(op, Box::new(operand)), ty })
            }
            K::Binary { op, op_span, lhs, rhs } => self.binary(*op, *op_span, lhs, rhs, ctx, expected),
            K::In { value, negated, list, .. } => {
                let operand = self.infer(value, ctx)?;
                let kind = operand.ty.kind;
                let mut lits = Vec::new();
                for lit in list {
                    lits.push(self.literal_as(lit, kind)?);
                }
                let ty = Type::new(TypeKind::Bool, operand.ty.nullable);
                Some(ir::Expr {
                    kind: ir::ExprKind::InList { operand: Box::new(operand), list: lits, negated: *negated },
                    ty,
                })
            }
            K::IsNull { value, negated } => {
                let operand = self.infer(value, ctx)?;
                Some(ir::Expr {
                    kind: ir::ExprKind::IsNull { operand: Box::new(operand), negated: *negated },
                    ty: Type::non_null(TypeKind::Bool),
                })
            }
            K::If { condition, then_branch, else_branch } => {
                let condition_ir = self.infer(condition, ctx)?;
                let condition_ir = self.expect_bool(condition_ir, condition.span, "an `if` condition")?;
                let then_ir = self.infer_expecting(then_branch, ctx, expected);
                let else_ir = self.infer_expecting(else_branch, ctx, expected.or(then_ir.as_ref().map(|e| e.ty.kind)));
                let (then_ir, else_ir) = (then_ir?, else_ir?);
                let kind = self.unify(then_ir.ty.kind, else_ir.ty.kind, else_branch.span, "the `else` branch")?;
                let ty = Type::new(kind, then_ir.ty.nullable || else_ir.ty.nullable);
                Some(ir::Expr {
                    kind: ir::ExprKind::If {
                        condition: Box::new(condition_ir),
                        then_branch: Box::new(then_ir),
                        else_branch: Box::new(else_ir),
                    },
                    ty,
                })
            }
            K::Match { scrutinee, arms } => self.match_expr(scrutinee, arms, ctx, expected),
        }
    }

    fn name(&mut self, ident: &ast::Ident, ctx: Ctx<'_>) -> Option<ir::Expr> {
        let name = ident.text.as_str();
        if ctx.scope == Scope::Row {
            if let Some(idx) = self.let_local(name) {
                let idx = idx?; // an error in the let was reported there
                let ty = self.locals[idx as usize].ty;
                return Some(ir::Expr { kind: ir::ExprKind::Local(idx), ty });
            }
            if let Some(&idx) = self.field_index.get(name) {
                let ty = self.record.as_ref().expect("fields imply a record").fields[idx as usize].ty;
                return Some(ir::Expr { kind: ir::ExprKind::Field(idx), ty });
            }
        }
        if ctx.scope != Scope::File
            && let Some(&idx) = self.column_index.get(name)
        {
            return Some(ir::Expr { kind: ir::ExprKind::Column(idx), ty: Type::nullable(TypeKind::Text) });
        }
        let is_row_name = self.lets.contains_key(name) || self.field_index.contains_key(name);
        if ctx.scope == Scope::Aggregate && is_row_name {
            self.error(
                codes::SCOPE,
                format!("`{name}` is a mapped value, but an aggregate runs over every line, malformed ones too"),
                ident.span,
                "not available in an aggregate",
            )
            .help =
                Some("aggregate the source columns instead, e.g. `sum(parse_money(COLUMN, ringgit) else null)`".into());
            return None;
        }
        if ctx.scope == Scope::File && (is_row_name || self.column_index.contains_key(name)) {
            self.error(
                codes::SCOPE,
                format!("`{name}` is a per-line value, but this check is about the whole file"),
                ident.span,
                "per-line value in a file check",
            )
            .help = Some("use an aggregate such as `count()` or `sum(...)`, or header./trailer. fields".into());
            return None;
        }
        let mut candidates: Vec<&str> = Vec::new();
        if ctx.scope == Scope::Row {
            candidates.extend(self.lets.keys().map(|s| s.as_str()));
            candidates.extend(self.field_index.keys().map(|s| s.as_str()));
        }
        candidates.extend(self.columns.iter().map(|s| s.as_str()));
        candidates.sort_unstable();
        let help = did_you_mean(name, candidates.iter().copied());
        let what =
            if ctx.scope == Scope::Row { "a column, a field of the record or a `let` value" } else { "a column" };
        self.error(codes::UNKNOWN_NAME, format!("`{name}` is not {what}"), ident.span, "unknown name").help = help;
        None
    }

    fn line_field(&mut self, base: &ast::Expr, field: &ast::Ident, ctx: Ctx<'_>, span: Span) -> Option<ir::Expr> {
        let ast::ExprKind::Name(base_name) = &base.kind else {
            self.error(
                codes::UNKNOWN_NAME,
                "only `header.FIELD` and `trailer.FIELD` can be read with a dot",
                span,
                "not a header or trailer field",
            )
            .help = Some("to call a function on a value, write `value.function()` with parentheses".into());
            return None;
        };
        let (line, is_header) = match base_name.text.as_str() {
            "header" => (self.header.clone(), true),
            "trailer" => (self.trailer.clone(), false),
            other => {
                self.error(
                    codes::UNKNOWN_NAME,
                    format!("`{other}.{}` is not a header or trailer field", field.text),
                    span,
                    "unknown",
                )
                .help = Some(format!("to call a function, write `{other}.{}()`", field.text));
                return None;
            }
        };
        if ctx.scope != Scope::File {
            self.error(
                codes::SCOPE,
                format!("`{}.{}` is a file value, not available per line", base_name.text, field.text),
                span,
                "file value in a row expression",
            );
            return None;
        }
        let Some(line) = line else {
            self.error(
                codes::UNKNOWN_NAME,
                format!("the source declares no {}", base_name.text),
                base_name.span,
                "not declared",
            )
            .help = Some(format!("declare it in the source: `{} \"PREFIX\" {{ name: type, ... }}`", base_name.text));
            return None;
        };
        let Some(pos) = line.fields.iter().position(|f| f.name == field.text) else {
            let help = did_you_mean(&field.text, line.fields.iter().map(|f| f.name.as_str()));
            self.error(
                codes::UNKNOWN_NAME,
                format!("the {} has no field `{}`", base_name.text, field.text),
                field.span,
                "unknown field",
            )
            .help = help;
            return None;
        };
        let ty = line.fields[pos].ty.value_type();
        let kind =
            if is_header { ir::ExprKind::HeaderField(pos as u32) } else { ir::ExprKind::TrailerField(pos as u32) };
        Some(ir::Expr { kind, ty })
    }

    fn binary(
        &mut self,
        op: ast::BinaryOp,
        op_span: Span,
        lhs: &ast::Expr,
        rhs: &ast::Expr,
        ctx: Ctx<'_>,
        expected: Option<TypeKind>,
    ) -> Option<ir::Expr> {
        use ast::BinaryOp as B;
        if op == B::Coalesce {
            let lhs_ir = self.infer_expecting(lhs, ctx, expected);
            let rhs_ir = self.infer_expecting(rhs, ctx, expected.or(lhs_ir.as_ref().map(|e| e.ty.kind)));
            let (mut lhs_ir, mut rhs_ir) = (lhs_ir?, rhs_ir?);
            match (lhs_ir.ty.kind, rhs_ir.ty.kind) {
                (TypeKind::Int, TypeKind::Number) => lhs_ir = int_to_number(lhs_ir),
                (TypeKind::Number, TypeKind::Int) => rhs_ir = int_to_number(rhs_ir),
                _ => {}
            }
            let kind = self.unify(lhs_ir.ty.kind, rhs_ir.ty.kind, rhs.span, "the fallback")?;
            let ty = Type::new(kind, lhs_ir.ty.nullable && rhs_ir.ty.nullable);
            return Some(ir::Expr { kind: ir::ExprKind::Coalesce(Box::new(lhs_ir), Box::new(rhs_ir)), ty });
        }
        // A string literal on one side of a comparison with a code becomes that code's member.
        let lhs_ir = self.infer(lhs, ctx);
        let rhs_expected = lhs_ir.as_ref().map(|e| e.ty.kind).filter(|k| matches!(k, TypeKind::Code(_)));
        let rhs_ir = self.infer_expecting(rhs, ctx, rhs_expected);
        let (mut lhs_ir, mut rhs_ir) = (lhs_ir?, rhs_ir?);
        if let (TypeKind::Text, TypeKind::Code(c)) = (lhs_ir.ty.kind, rhs_ir.ty.kind)
            && let ast::ExprKind::Literal(ast::LitValue::String(_)) = strip_parens(lhs).kind
        {
            lhs_ir = self.infer_expecting(lhs, ctx, Some(TypeKind::Code(c)))?;
        }
        // An int meeting a number becomes a number (explicitly, in the IR).
        match (lhs_ir.ty.kind, rhs_ir.ty.kind) {
            (TypeKind::Int, TypeKind::Number) => lhs_ir = int_to_number(lhs_ir),
            (TypeKind::Number, TypeKind::Int) => rhs_ir = int_to_number(rhs_ir),
            _ => {}
        }
        let nullable = lhs_ir.ty.nullable || rhs_ir.ty.nullable;
        let (l, r) = (lhs_ir.ty.kind, rhs_ir.ty.kind);
        let (ir_op, result_kind) = match op {
            B::And | B::Or => {
                let ir_op = if op == B::And { ir::BinaryOp::And } else { ir::BinaryOp::Or };
                for (kind, s) in [(l, lhs.span), (r, rhs.span)] {
                    if !matches!(kind, TypeKind::Bool | TypeKind::Null) {
                        let found = self.kind_name(kind);
                        self.error(
                            codes::TYPE_MISMATCH,
                            format!("`{}` needs true or false on both sides, found {found}", op_word(op)),
                            s,
                            format!("this is {found}"),
                        );
                        return None;
                    }
                }
                (ir_op, TypeKind::Bool)
            }
            B::Eq | B::Ne | B::Lt | B::Le | B::Gt | B::Ge => {
                let ir_op = match op {
                    B::Eq => ir::BinaryOp::Eq,
                    B::Ne => ir::BinaryOp::Ne,
                    B::Lt => ir::BinaryOp::Lt,
                    B::Le => ir::BinaryOp::Le,
                    B::Gt => ir::BinaryOp::Gt,
                    _ => ir::BinaryOp::Ge,
                };
                // A code compared with computed text compares the code's member text.
                if let (TypeKind::Code(c), TypeKind::Text) = (l, r) {
                    lhs_ir = self.code_to_text(lhs_ir, c);
                } else if let (TypeKind::Text, TypeKind::Code(c)) = (l, r) {
                    rhs_ir = self.code_to_text(rhs_ir, c);
                }
                let (l, r) = (lhs_ir.ty.kind, rhs_ir.ty.kind);
                if let (TypeKind::Money, TypeKind::Int) | (TypeKind::Int, TypeKind::Money) = (l, r) {
                    let int_side = if l == TypeKind::Int { lhs } else { rhs };
                    if let ast::ExprKind::Literal(ast::LitValue::Int(n)) = strip_parens(int_side).kind {
                        self.error(
                            codes::MONEY_UNIT,
                            "money compared with an integer",
                            int_side.span,
                            "is this ringgit or sen?",
                        )
                        .help = Some(format!("money is exact sen: write the amount in ringgit, `RM{n}`"));
                        return None;
                    }
                }
                let kind = self.unify(l, r, op_span, "the two sides of a comparison")?;
                let ordered = !matches!(ir_op, ir::BinaryOp::Eq | ir::BinaryOp::Ne);
                if ordered && matches!(kind, TypeKind::Code(_) | TypeKind::Bool) {
                    let found = self.kind_name(kind);
                    self.error(
                        codes::TYPE_MISMATCH,
                        format!("{found} values have no order: only `==` and `!=` compare them"),
                        op_span,
                        "no order",
                    );
                    return None;
                }
                (ir_op, TypeKind::Bool)
            }
            B::Add | B::Sub | B::Mul | B::Div | B::Rem => {
                let ir_op = match op {
                    B::Add => ir::BinaryOp::Add,
                    B::Sub => ir::BinaryOp::Sub,
                    B::Mul => ir::BinaryOp::Mul,
                    B::Div => ir::BinaryOp::Div,
                    _ => ir::BinaryOp::Rem,
                };
                use TypeKind::{Int, Money, Null, Number};
                let result = match (ir_op, l, r) {
                    (_, Int, Int) | (_, Int, Null) | (_, Null, Int) => Some(Int),
                    (_, Number, Number) | (_, Number, Null) | (_, Null, Number) => Some(Number),
                    (ir::BinaryOp::Add | ir::BinaryOp::Sub, Money, Money | Null) => Some(Money),
                    (ir::BinaryOp::Add | ir::BinaryOp::Sub, Null, Money) => Some(Money),
                    (ir::BinaryOp::Mul, Money, Int) | (ir::BinaryOp::Mul, Int, Money) => Some(Money),
                    _ => None,
                };
                let Some(result) = result else {
                    let (ln, rn) = (self.kind_name(l), self.kind_name(r));
                    let help = if (l == Money && r == Int) || (l == Int && r == Money) {
                        Some("money and integers do not add up: write money amounts as `RM1.00`".to_string())
                    } else {
                        None
                    };
                    self.error(
                        codes::TYPE_MISMATCH,
                        format!("cannot apply `{}` to {ln} and {rn}", op_word(op)),
                        op_span,
                        format!("{ln} {} {rn}", op_word(op)),
                    )
                    .help = help;
                    return None;
                };
                (ir_op, result)
            }
            B::Coalesce => unreachable!("handled above"),
        };
        Some(ir::Expr {
            kind: ir::ExprKind::Binary(ir_op, Box::new(lhs_ir), Box::new(rhs_ir)),
            ty: Type::new(result_kind, nullable),
        })
    }

    /// A code value as its member text, through a match over the code's members.
    fn code_to_text(&self, expr: ir::Expr, code: ir::CodeTypeIdx) -> ir::Expr {
        let members = &self.code_types[code as usize].members;
        let arms = members
            .iter()
            .enumerate()
            .map(|(i, m)| ir::MatchArm {
                patterns: vec![ir::Pattern::Literal(ir::Literal::Code(code, i as u32))],
                value: literal_expr(ir::Literal::Text(m.clone()), TypeKind::Text),
            })
            .collect();
        let ty = Type::new(TypeKind::Text, expr.ty.nullable);
        ir::Expr { kind: ir::ExprKind::Match { scrutinee: Box::new(expr), arms, default: None }, ty }
    }

    /// Two kinds that must be the same; `null` goes with anything.
    fn unify(&mut self, a: TypeKind, b: TypeKind, span: Span, what: &str) -> Option<TypeKind> {
        if a == b || b == TypeKind::Null {
            return Some(a);
        }
        if a == TypeKind::Null {
            return Some(b);
        }
        let (an, bn) = (self.kind_name(a), self.kind_name(b));
        let help = conversion_help(a, b);
        self.error(
            codes::TYPE_MISMATCH,
            format!("{what} must have the same type, but one is {an} and the other {bn}"),
            span,
            format!("this is {bn}"),
        )
        .help = help;
        None
    }

    fn compatible(&self, value: TypeKind, target: TypeKind) -> bool {
        value == target || value == TypeKind::Null
    }

    fn match_expr(
        &mut self,
        scrutinee: &ast::Expr,
        arms: &[ast::MatchArm],
        ctx: Ctx<'_>,
        expected: Option<TypeKind>,
    ) -> Option<ir::Expr> {
        let scrutinee_ir = self.infer(scrutinee, ctx)?;
        let kind = scrutinee_ir.ty.kind;
        let mut ir_arms: Vec<ir::MatchArm> = Vec::new();
        let mut default: Option<ir::Expr> = None;
        let mut result_kind = expected.filter(|k| matches!(k, TypeKind::Code(_)));
        let mut result_nullable = false;
        let mut failed = false;
        for arm in arms {
            let value = self.infer_expecting(&arm.body, ctx, result_kind);
            let Some(value) = value else {
                failed = true;
                continue;
            };
            let unified = match result_kind {
                None => Some(value.ty.kind),
                Some(k) => self.unify(k, value.ty.kind, arm.body.span, "the arms of a match"),
            };
            let Some(unified) = unified else {
                failed = true;
                continue;
            };
            result_kind = Some(unified);
            result_nullable |= value.ty.nullable;
            let mut patterns = Vec::new();
            let mut is_default = false;
            self.patterns(&arm.pattern, kind, &mut patterns, &mut is_default, &mut failed);
            if is_default {
                if default.is_some() {
                    self.warning(
                        codes::DUPLICATE,
                        "this arm is never reached: an earlier `_` matches everything",
                        arm.pattern.span,
                        "unreachable",
                    );
                }
                default.get_or_insert(value);
            } else if default.is_some() {
                self.warning(
                    codes::DUPLICATE,
                    "this arm is never reached: an earlier `_` matches everything",
                    arm.pattern.span,
                    "unreachable",
                );
            } else {
                ir_arms.push(ir::MatchArm { patterns, value });
            }
        }
        if failed {
            return None;
        }
        let nullable = result_nullable || default.is_none() || scrutinee_ir.ty.nullable && default.is_none();
        let kind = result_kind.unwrap_or(TypeKind::Null);
        Some(ir::Expr {
            kind: ir::ExprKind::Match {
                scrutinee: Box::new(scrutinee_ir),
                arms: ir_arms,
                default: default.map(Box::new),
            },
            ty: Type::new(kind, nullable),
        })
    }

    fn patterns(
        &mut self,
        pattern: &ast::Pattern,
        kind: TypeKind,
        out: &mut Vec<ir::Pattern>,
        is_default: &mut bool,
        failed: &mut bool,
    ) {
        match &pattern.kind {
            ast::PatternKind::Wildcard => *is_default = true,
            ast::PatternKind::Literal(value) => {
                let lit = ast::Literal { value: value.clone(), span: pattern.span };
                match self.literal_as(&lit, kind) {
                    Some(l) => out.push(ir::Pattern::Literal(l)),
                    None => *failed = true,
                }
            }
            ast::PatternKind::Range { lo, hi } => {
                if !matches!(kind, TypeKind::Int | TypeKind::Money | TypeKind::Number) {
                    let found = self.kind_name(kind);
                    self.error(
                        codes::TYPE_MISMATCH,
                        format!("a range pattern needs a number or money, but the value is {found}"),
                        pattern.span,
                        "range",
                    );
                    *failed = true;
                    return;
                }
                match (self.literal_as(lo, kind), self.literal_as(hi, kind)) {
                    (Some(lo), Some(hi)) => out.push(ir::Pattern::Range(lo, hi)),
                    _ => *failed = true,
                }
            }
            ast::PatternKind::Or(alternatives) => {
                for alternative in alternatives {
                    self.patterns(alternative, kind, out, is_default, failed);
                }
            }
        }
    }

    /// `value else handler`: the value must be an operation that can fail.
    fn handled(
        &mut self,
        value: &ast::Expr,
        handler: &ast::Handler,
        ctx: Ctx<'_>,
        expected: Option<TypeKind>,
    ) -> Option<ir::Expr> {
        let inner = strip_parens(value);
        match &inner.kind {
            ast::ExprKind::Call { callee, args } => self.call(callee, args, ctx, inner.span, Some((handler, expected))),
            ast::ExprKind::MethodCall { receiver, method, args } => {
                let mut all = Vec::with_capacity(args.len() + 1);
                all.push((**receiver).clone());
                all.extend(args.iter().cloned());
                self.call(method, &all, ctx, inner.span, Some((handler, expected)))
            }
            ast::ExprKind::Index { base, index } => {
                self.lookup(base, index, ctx, inner.span, Some((handler, expected)))
            }
            _ => {
                let expr = self.infer(value, ctx)?;
                self.error(codes::NEEDLESS_HANDLER, "this value cannot fail, so it needs no `else`", handler_span(handler), "never used")
                    .help = Some("only parses (`parse_date`, `parse_money`, `parse_int`, ...) and table lookups can fail; remove the `else`".into());
                Some(expr)
            }
        }
    }

    /// Turns a handler into an `OnFailure`, checking the rule it raises.
    fn on_failure(
        &mut self,
        handler: &ast::Handler,
        ctx: Ctx<'_>,
        value_kind: TypeKind,
    ) -> Option<(ir::OnFailure, bool)> {
        match handler {
            ast::Handler::Reject { rule, span } => {
                if ctx.scope != Scope::Row {
                    self.error(
                        codes::HANDLER_PLACE,
                        "`else reject` needs a line to reject, but this runs over the whole file",
                        *span,
                        "no line here",
                    )
                    .help = Some("use `else null` (or a default value) inside aggregates and file checks".into());
                    return None;
                }
                let idx = self.handler_rule(rule, ir::Severity::Reject)?;
                Some((ir::OnFailure::Reject { rule: idx, target: ctx.target.to_string() }, true))
            }
            ast::Handler::Fail { rule, .. } => {
                let idx = self.handler_rule(rule, ir::Severity::Fatal)?;
                Some((ir::OnFailure::Fail { rule: idx, target: ctx.target.to_string() }, true))
            }
            ast::Handler::Value(default) => {
                let default_ir = self.infer_expecting(default, ctx, Some(value_kind))?;
                if !self.compatible(default_ir.ty.kind, value_kind) {
                    let (want, found) = (self.kind_name(value_kind), self.kind_name(default_ir.ty.kind));
                    let help = conversion_help(value_kind, default_ir.ty.kind);
                    self.error(
                        codes::TYPE_MISMATCH,
                        format!("the default must be {want}, but it is {found}"),
                        default.span,
                        format!("this is {found}"),
                    )
                    .help = help;
                    return None;
                }
                let nullable = default_ir.ty.nullable;
                Some((ir::OnFailure::Default(Box::new(default_ir)), nullable))
            }
        }
    }

    fn handler_rule(&mut self, rule: &ast::Ident, severity: ir::Severity) -> Option<ir::RuleIdx> {
        let Some(&idx) = self.rule_index.get(&rule.text) else {
            let help = did_you_mean(&rule.text, self.rule_index.keys().map(|s| s.as_str()))
                .or_else(|| Some(format!("declare it: `rule {} {} \"what is wrong\"`", rule.text, severity.as_str())));
            self.error(codes::UNKNOWN_RULE, format!("there is no rule {}", rule.text), rule.span, "unknown rule")
                .help = help;
            return None;
        };
        let actual = self.rules[idx as usize].severity;
        if actual != severity {
            let keyword = if severity == ir::Severity::Fatal { "fail" } else { "reject" };
            let help = if actual == ir::Severity::Fatal {
                format!("rule {} is fatal: write `else fail {}`", rule.text, rule.text)
            } else if actual == ir::Severity::Reject {
                format!("rule {} is a reject rule: write `else reject {}`", rule.text, rule.text)
            } else {
                format!("`else {keyword}` needs a {} rule", severity.as_str())
            };
            self.error(
                codes::HANDLER_SEVERITY,
                format!(
                    "`else {keyword}` raises a {} rule, but {} is {}",
                    severity.as_str(),
                    rule.text,
                    actual.as_str()
                ),
                rule.span,
                "wrong severity",
            )
            .help = Some(help);
            return None;
        }
        self.rule_raised[idx as usize] = true;
        Some(idx)
    }

    fn lookup(
        &mut self,
        base: &ast::Expr,
        index: &ast::Expr,
        ctx: Ctx<'_>,
        span: Span,
        handler: Option<(&ast::Handler, Option<TypeKind>)>,
    ) -> Option<ir::Expr> {
        let ast::ExprKind::Name(table_name) = &strip_parens(base).kind else {
            self.error(
                codes::UNKNOWN_TABLE,
                "only a code table can be looked up with `[...]`",
                base.span,
                "not a table",
            );
            return None;
        };
        let Some(&table_idx) = self.table_index.get(&table_name.text) else {
            let help = did_you_mean(&table_name.text, self.table_index.keys().map(|s| s.as_str())).or_else(|| {
                Some(format!(
                    "declare it: `table {}: text -> CODE {{ \"raw\" => \"canonical\", ... }}`",
                    table_name.text
                ))
            });
            self.error(
                codes::UNKNOWN_TABLE,
                format!("there is no table `{}`", table_name.text),
                table_name.span,
                "unknown table",
            )
            .help = help;
            return None;
        };
        let key = self.infer(index, ctx)?;
        let table = &self.tables[table_idx as usize];
        let (key_kind, value_type) = (table.key_type.kind, table.value_type);
        if key.ty.kind != key_kind && key.ty.kind != TypeKind::Null {
            let (want, found) = (self.kind_name(key_kind), self.kind_name(key.ty.kind));
            self.error(
                codes::TYPE_MISMATCH,
                format!("table `{}` has {want} keys, but the key is {found}", table_name.text),
                index.span,
                format!("this is {found}"),
            );
            return None;
        }
        let op = ir::FallibleOp::Lookup { table: table_idx, key: Box::new(key) };
        self.fallible(op, value_type.kind, ctx, span, handler, "a lookup fails when the code is not in the table")
    }

    /// Wraps a fallible operation in its handler, or reports that it has none.
    fn fallible(
        &mut self,
        op: ir::FallibleOp,
        kind: TypeKind,
        ctx: Ctx<'_>,
        span: Span,
        handler: Option<(&ast::Handler, Option<TypeKind>)>,
        why: &str,
    ) -> Option<ir::Expr> {
        let input_nullable = op.input().ty.nullable;
        let Some((handler, _)) = handler else {
            self.error(codes::UNHANDLED_FALLIBLE, format!("this can fail on data ({why}), and the spec does not say what to do then"), span, "can fail")
                .help = Some("add a handler: `else reject RULE`, `else null`, a default value such as `else RM0`, or `else fail RULE`".into());
            return None;
        };
        let (on_failure, handler_nullable) = self.on_failure(handler, ctx, kind)?;
        let nullable = input_nullable || handler_nullable;
        Some(ir::Expr { kind: ir::ExprKind::Fallible { op, on_failure }, ty: Type::new(kind, nullable) })
    }

    fn call(
        &mut self,
        callee: &ast::Ident,
        args: &[ast::Expr],
        ctx: Ctx<'_>,
        span: Span,
        handler: Option<(&ast::Handler, Option<TypeKind>)>,
    ) -> Option<ir::Expr> {
        let name = callee.text.as_str();
        if name == "looks_like_date" {
            // Sugar, lowered here: the text parses in one of the common layouts.
            if args.len() != 1 {
                self.error(
                    codes::ARGUMENT_COUNT,
                    "`looks_like_date` takes one argument",
                    span,
                    "wrong number of arguments",
                );
                return None;
            }
            let value = self.infer(&args[0], ctx)?;
            if !matches!(value.ty.kind, TypeKind::Text | TypeKind::Null) {
                let found = self.kind_name(value.ty.kind);
                self.error(
                    codes::TYPE_MISMATCH,
                    format!("`looks_like_date` reads text, but this is {found}"),
                    args[0].span,
                    format!("this is {found}"),
                );
                return None;
            }
            let mut parses = Vec::new();
            for layout in LOOSE_DATE_LAYOUTS {
                let Ok(format) = parse_date_format(layout, DateFormatUse::ParseDate) else { continue };
                let attempt = ir::Expr {
                    kind: ir::ExprKind::Fallible {
                        op: ir::FallibleOp::Call {
                            function: ir::Builtin::ParseDate(format),
                            args: vec![value.clone()],
                        },
                        on_failure: ir::OnFailure::Default(Box::new(literal_expr(ir::Literal::Null, TypeKind::Date))),
                    },
                    ty: Type::nullable(TypeKind::Date),
                };
                parses.push(ir::Expr {
                    kind: ir::ExprKind::IsNull { operand: Box::new(attempt), negated: true },
                    ty: Type::non_null(TypeKind::Bool),
                });
            }
            let any = parses
                .into_iter()
                .reduce(|a, b| ir::Expr {
                    kind: ir::ExprKind::Binary(ir::BinaryOp::Or, Box::new(a), Box::new(b)),
                    ty: Type::non_null(TypeKind::Bool),
                })
                .expect("the layouts are valid formats");
            // Null in, null out, like every other test of a value.
            let is_null = ir::Expr {
                kind: ir::ExprKind::IsNull { operand: Box::new(value), negated: false },
                ty: Type::non_null(TypeKind::Bool),
            };
            return Some(ir::Expr {
                kind: ir::ExprKind::If {
                    condition: Box::new(is_null),
                    then_branch: Box::new(literal_expr(ir::Literal::Null, TypeKind::Bool)),
                    else_branch: Box::new(any),
                },
                ty: Type::nullable(TypeKind::Bool),
            });
        }
        if name == "type_of" {
            // Types are declared by the spec, so a value's type is known when the spec compiles:
            // `type_of` is that name as a constant (`int`, `number`, `text`, `PaymentStatus`...).
            if args.len() != 1 {
                self.error(codes::ARGUMENT_COUNT, "`type_of` takes one argument", span, "wrong number of arguments");
                return None;
            }
            let value = self.infer(&args[0], ctx)?;
            let name = match value.ty.kind {
                TypeKind::Code(c) => self.code_types[c as usize].name.clone(),
                other => other.to_string(),
            };
            return Some(literal_expr(ir::Literal::Text(name), TypeKind::Text));
        }
        if name == "header_values" {
            if !args.is_empty() {
                self.error(
                    codes::ARGUMENT_COUNT,
                    "`header_values` takes no argument",
                    span,
                    "wrong number of arguments",
                );
                return None;
            }
            if ctx.scope != Scope::File {
                self.error(
                    codes::SCOPE,
                    "`header_values()` is about the file's header, so it can only be used in a file check",
                    span,
                    "file value in a row expression",
                );
                return None;
            }
            return Some(ir::Expr {
                kind: ir::ExprKind::Call { function: ir::Builtin::HeaderValues, args: Vec::new() },
                ty: Type::non_null(TypeKind::List(ir::ListOf::Text)),
            });
        }
        if matches!(name, "is_subset" | "contains_all" | "same_set" | "overlaps" | "size") {
            return self.list_call(callee, args, ctx, span, handler);
        }
        let Some(signature) = builtins::lookup(name) else {
            let help = did_you_mean(name, builtins::ALL.iter().map(|b| b.name));
            self.error(
                codes::UNKNOWN_FUNCTION,
                format!("there is no function `{name}`"),
                callee.span,
                "unknown function",
            )
            .help = help.or_else(|| Some("see the list of functions in docs/language.md".into()));
            return None;
        };
        if args.len() != signature.params.len() {
            let expected = signature.params.len();
            self.error(
                codes::ARGUMENT_COUNT,
                format!("`{name}` takes {} but is given {}", plural(expected, "argument"), args.len()),
                span,
                "wrong number of arguments",
            )
            .help = Some(format!("the signature is `{}`", signature.signature));
            return None;
        }
        if signature.kind == BuiltinKind::Aggregate {
            return self.aggregate(name, args, ctx, span);
        }
        // Constant arguments first: they decide the built-in variant.
        let mut data_args: Vec<ir::Expr> = Vec::new();
        let mut constants: Vec<Constant> = Vec::new();
        let mut ok = true;
        for (param, arg) in signature.params.iter().zip(args) {
            match param {
                builtins::Param::Data(kinds) => {
                    let Some(expr) = self.infer(arg, ctx) else {
                        ok = false;
                        continue;
                    };
                    if !kinds.iter().any(|k| k.accepts(expr.ty.kind)) {
                        let found = self.kind_name(expr.ty.kind);
                        let want: Vec<&str> = kinds.iter().map(|k| k.name()).collect();
                        self.error(
                            codes::TYPE_MISMATCH,
                            format!("`{name}` expects {} here, but this is {found}", want.join(" or ")),
                            arg.span,
                            format!("this is {found}"),
                        )
                        .help = conversion_help_for(name, expr.ty.kind);
                        ok = false;
                        continue;
                    }
                    data_args.push(expr);
                }
                builtins::Param::ConstText(what) => match &strip_parens(arg).kind {
                    ast::ExprKind::Literal(ast::LitValue::String(s)) => {
                        constants.push(Constant::Text(s.clone(), arg.span))
                    }
                    _ => {
                        self.error(
                            codes::NOT_CONSTANT,
                            format!("the {what} of `{name}` must be written as a string"),
                            arg.span,
                            "not a constant",
                        )
                        .help = Some(format!("the signature is `{}`", signature.signature));
                        ok = false;
                    }
                },
                // Only aggregates take rule ids, and they were handled above.
                builtins::Param::Rule => ok = false,
                builtins::Param::MoneyUnit => match &strip_parens(arg).kind {
                    ast::ExprKind::Name(unit) if unit.text == "ringgit" => {
                        constants.push(Constant::Unit(ir::MoneyUnit::Ringgit))
                    }
                    ast::ExprKind::Name(unit) if unit.text == "sen" => {
                        constants.push(Constant::Unit(ir::MoneyUnit::Sen))
                    }
                    _ => {
                        self.error(
                            codes::NOT_CONSTANT,
                            "the unit must be `ringgit` or `sen`",
                            arg.span,
                            "not a unit",
                        )
                        .help =
                            Some("write `parse_money(COLUMN, ringgit)` for `1234.50`, or `sen` for `123450`".into());
                        ok = false;
                    }
                },
            }
        }
        if !ok {
            return None;
        }
        let text_const = |i: usize| match constants.get(i) {
            Some(Constant::Text(s, span)) => (s.clone(), *span),
            _ => (String::new(), span),
        };
        let function = match name {
            "trim" => ir::Builtin::Trim,
            "upper" => ir::Builtin::Upper,
            "lower" => ir::Builtin::Lower,
            "null_if_empty" => ir::Builtin::NullIfEmpty,
            "remove_chars" => ir::Builtin::RemoveChars(text_const(0).0),
            "replace" => ir::Builtin::Replace(text_const(0).0, text_const(1).0),
            "substring" => ir::Builtin::Substring,
            "length" => ir::Builtin::Length,
            "matches" => {
                let (pattern, pattern_span) = text_const(0);
                if let Err(e) = regex::Regex::new(&pattern) {
                    let first_line = e.to_string().lines().last().unwrap_or("invalid").trim().to_string();
                    self.error(
                        codes::BAD_REGEX,
                        format!("the regular expression does not compile: {first_line}"),
                        pattern_span,
                        "bad regex",
                    );
                    return None;
                }
                ir::Builtin::Matches(pattern)
            }
            "is_valid_nric" => ir::Builtin::IsValidNric,
            "is_json" => ir::Builtin::IsJson,
            "run_date" => ir::Builtin::RunDate,
            "add_days" => ir::Builtin::AddDays,
            "is_valid_ssm" => ir::Builtin::IsValidSsm,
            "nric_gender" => {
                let Some(&code_type) = self.code_index.get("Gender") else {
                    self.error(
                        codes::UNKNOWN_TYPE,
                        "`nric_gender` returns a `Gender`, but no `Gender` code is in scope",
                        callee.span,
                        "needs Gender",
                    )
                    .help = Some("add `use etr.codes`".into());
                    return None;
                };
                let members = &self.code_types[code_type as usize].members;
                let male = members.iter().position(|m| m == "M");
                let female = members.iter().position(|m| m == "F");
                let (Some(male), Some(female)) = (male, female) else {
                    self.error(
                        codes::NOT_A_MEMBER,
                        "the `Gender` code in scope has no \"M\" and \"F\" members",
                        callee.span,
                        "needs M and F",
                    );
                    return None;
                };
                ir::Builtin::NricGender { code_type, male: male as u32, female: female as u32 }
            }
            "parse_int" => ir::Builtin::ParseInt,
            "parse_number" => ir::Builtin::ParseNumber,
            "parse_money" => match constants.first() {
                Some(Constant::Unit(unit)) => ir::Builtin::ParseMoney(*unit),
                _ => return None,
            },
            "parse_date" | "parse_month" | "format_date" => {
                let (pattern, pattern_span) = text_const(0);
                let usage = match name {
                    "parse_date" => DateFormatUse::ParseDate,
                    "parse_month" => DateFormatUse::ParseMonth,
                    _ => DateFormatUse::Format,
                };
                let format = match parse_date_format(&pattern, usage) {
                    Ok(f) => f,
                    Err(why) => {
                        self.error(codes::BAD_DATE_FORMAT, why, pattern_span, "bad format");
                        return None;
                    }
                };
                match usage {
                    DateFormatUse::ParseDate => ir::Builtin::ParseDate(format),
                    DateFormatUse::ParseMonth => ir::Builtin::ParseMonth(format),
                    DateFormatUse::Format => ir::Builtin::FormatDate(format),
                }
            }
            other => {
                self.error(
                    codes::UNKNOWN_FUNCTION,
                    format!("`{other}` is declared but not implemented"),
                    callee.span,
                    "internal",
                );
                return None;
            }
        };
        let result = signature.result.kind(&function);
        let any_nullable = data_args.iter().any(|a| a.ty.nullable);
        if signature.kind == BuiltinKind::Fallible {
            let op = ir::FallibleOp::Call { function, args: data_args };
            return self.fallible(op, result, ctx, span, handler, signature.failure);
        }
        if let Some((handler, _)) = handler {
            self.error(
                codes::NEEDLESS_HANDLER,
                format!("`{name}` cannot fail, so it needs no `else`"),
                handler_span(handler),
                "never used",
            )
            .help = Some("remove the `else` handler".into());
        }
        let nullable = any_nullable || signature.always_nullable;
        Some(ir::Expr { kind: ir::ExprKind::Call { function, args: data_args }, ty: Type::new(result, nullable) })
    }

    fn aggregate(&mut self, name: &str, args: &[ast::Expr], ctx: Ctx<'_>, span: Span) -> Option<ir::Expr> {
        // A row expression may read a file aggregate (`x > 3 * median(X)`): the run computes the
        // aggregates in a first pass. An aggregate inside an aggregate has no meaning.
        if ctx.scope == Scope::Aggregate {
            self.error(
                codes::SCOPE,
                format!("`{name}()` aggregates the whole file, so it cannot be used inside another aggregate"),
                span,
                "aggregate in a per-line expression",
            )
            .help = Some("use it in a rule check together with header./trailer. fields or other aggregates".into());
            return None;
        }
        let (function, argument, kind) = match name {
            "count" => (ir::AggregateFunction::Count, None, TypeKind::Int),
            "count_broken" => {
                let ast::ExprKind::Name(rule) = &strip_parens(&args[0]).kind else {
                    self.error(
                        codes::NOT_CONSTANT,
                        "`count_broken` takes a rule id, such as `count_broken(R0)`",
                        args[0].span,
                        "not a rule id",
                    );
                    return None;
                };
                let Some(&idx) = self.rule_index.get(&rule.text) else {
                    let help = did_you_mean(&rule.text, self.rule_index.keys().map(|s| s.as_str()));
                    self.error(
                        codes::UNKNOWN_RULE,
                        format!("there is no rule {}", rule.text),
                        rule.span,
                        "unknown rule",
                    )
                    .help = help;
                    return None;
                };
                if self.rule_is_unique[idx as usize] {
                    self.error(codes::SCOPE, format!("rule {} is a uniqueness rule, decided after the row rules; its lines cannot be counted here (yet)", rule.text), rule.span, "uniqueness rule");
                    return None;
                }
                (ir::AggregateFunction::LinesBroken(idx), None, TypeKind::Int)
            }
            _ => {
                use TypeKind::{Bool, Date, Int, Money, Month, Number, Text};
                let arg = self.infer(&args[0], Ctx { scope: Scope::Aggregate, target: ctx.target })?;
                let k = arg.ty.kind;
                let (function, accepted, result): (ir::AggregateFunction, &[TypeKind], TypeKind) = match name {
                    "sum" => (ir::AggregateFunction::Sum, &[Int, Money, Number], k),
                    "count_where" => (ir::AggregateFunction::CountWhere, &[Bool], Int),
                    "count_distinct" => (ir::AggregateFunction::CountDistinct, &[], Int),
                    "distinct_values" | "modes" => {
                        let Some(of) = ir::ListOf::of(k) else {
                            let found = self.kind_name(k);
                            self.error(
                                codes::TYPE_MISMATCH,
                                format!("`{name}` cannot list {found} values"),
                                args[0].span,
                                format!("this is {found}"),
                            );
                            return None;
                        };
                        let function = if name == "modes" {
                            ir::AggregateFunction::Modes
                        } else {
                            ir::AggregateFunction::DistinctValues
                        };
                        (function, &[], TypeKind::List(of))
                    }
                    "min" => (ir::AggregateFunction::Min, &[Int, Money, Number, Date, Month, Text], k),
                    "max" => (ir::AggregateFunction::Max, &[Int, Money, Number, Date, Month, Text], k),
                    "mean" => (ir::AggregateFunction::Mean, &[Int, Money, Number, Bool], Number),
                    "stdev" => (ir::AggregateFunction::Stdev, &[Int, Money, Number], Number),
                    "median" => (ir::AggregateFunction::Median, &[Int, Money, Number], Number),
                    "quantile" => {
                        let q = match &strip_parens(&args[1]).kind {
                            ast::ExprKind::Literal(ast::LitValue::Number(bits)) => Some(f64::from_bits(*bits)),
                            ast::ExprKind::Literal(ast::LitValue::Int(i)) => Some(*i as f64),
                            _ => None,
                        };
                        let Some(q) = q.filter(|q| (0.0..=1.0).contains(q)) else {
                            self.error(
                                codes::NOT_CONSTANT,
                                "the quantile must be written as a number between 0 and 1",
                                args[1].span,
                                "not a quantile",
                            )
                            .help = Some("e.g. `quantile(x, 0.5)` for the median, `quantile(x, 0.95)`".into());
                            return None;
                        };
                        (ir::AggregateFunction::Quantile(ir::F64(q)), &[Int, Money, Number, Date, Month], k)
                    }
                    other => {
                        self.error(
                            codes::UNKNOWN_FUNCTION,
                            format!("`{other}` is declared but not implemented"),
                            span,
                            "internal",
                        );
                        return None;
                    }
                };
                let any_kind = accepted.is_empty() && k != TypeKind::Null;
                if !any_kind && !accepted.contains(&k) {
                    let found = self.kind_name(k);
                    let want: Vec<String> = accepted.iter().map(|a| a.to_string()).collect();
                    self.error(
                        codes::TYPE_MISMATCH,
                        format!("`{name}` takes {}, but this is {found}", want.join(" or ")),
                        args[0].span,
                        format!("this is {found}"),
                    );
                    return None;
                }
                (function, Some(arg), result)
            }
        };
        let aggregate = ir::Aggregate { function, argument };
        let idx = match self.aggregates.iter().position(|a| *a == aggregate) {
            Some(i) => i,
            None => {
                self.aggregates.push(aggregate);
                self.aggregates.len() - 1
            }
        };
        // Counts are never null; the others are null over no value (or on overflow).
        let nullable = !matches!(
            function,
            ir::AggregateFunction::Count
                | ir::AggregateFunction::LinesBroken(_)
                | ir::AggregateFunction::CountWhere
                | ir::AggregateFunction::CountDistinct
                | ir::AggregateFunction::DistinctValues
                | ir::AggregateFunction::Modes
        );
        Some(ir::Expr { kind: ir::ExprKind::Aggregate(idx as u32), ty: Type::new(kind, nullable) })
    }
}

enum Constant {
    Text(String, Span),
    Unit(ir::MoneyUnit),
}

/// The order of list elements: numbers numerically, text by code point, codes by member order.
fn compare_literals(a: &ir::Literal, b: &ir::Literal) -> std::cmp::Ordering {
    use ir::Literal as L;
    match (a, b) {
        (L::Int(x), L::Int(y)) | (L::Money(x), L::Money(y)) => x.cmp(y),
        (L::Number(x), L::Number(y)) => x.0.total_cmp(&y.0),
        (L::Text(x), L::Text(y)) => x.cmp(y),
        (L::Date(x), L::Date(y)) => x.cmp(y),
        (L::Bool(x), L::Bool(y)) => x.cmp(y),
        (L::Code(_, x), L::Code(_, y)) => x.cmp(y),
        _ => std::cmp::Ordering::Equal,
    }
}

fn ir_severity(severity: ast::Severity) -> ir::Severity {
    match severity {
        ast::Severity::Fatal => ir::Severity::Fatal,
        ast::Severity::Reject => ir::Severity::Reject,
        ast::Severity::Warn => ir::Severity::Warn,
        ast::Severity::Info => ir::Severity::Info,
    }
}

/// The layouts `looks_like_date` tries, day-first before month-first (Malaysian usage).
const LOOSE_DATE_LAYOUTS: &[&str] = &["%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%Y/%m/%d", "%d-%m-%Y", "%d.%m.%Y", "%Y%m%d"];

/// An int expression as a number (the compiler's only implicit conversion, made explicit).
fn int_to_number(expr: ir::Expr) -> ir::Expr {
    let ty = Type::new(TypeKind::Number, expr.ty.nullable);
    if let ir::ExprKind::Literal(ir::Literal::Int(i)) = expr.kind {
        return ir::Expr { kind: ir::ExprKind::Literal(ir::Literal::Number(ir::F64(i as f64))), ty };
    }
    ir::Expr { kind: ir::ExprKind::Call { function: ir::Builtin::IntToNumber, args: vec![expr] }, ty }
}

fn literal_expr(literal: ir::Literal, kind: TypeKind) -> ir::Expr {
    let nullable = literal == ir::Literal::Null;
    ir::Expr { kind: ir::ExprKind::Literal(literal), ty: Type::new(kind, nullable) }
}

fn strip_parens(mut expr: &ast::Expr) -> &ast::Expr {
    while let ast::ExprKind::Paren(inner) = &expr.kind {
        expr = inner;
    }
    expr
}

fn handler_span(handler: &ast::Handler) -> Span {
    match handler {
        ast::Handler::Reject { span, .. } | ast::Handler::Fail { span, .. } => *span,
        ast::Handler::Value(expr) => expr.span,
    }
}

fn target_text(target: &ast::Target) -> String {
    match target {
        ast::Target::Ident(i) => i.text.clone(),
        ast::Target::String(s) => s.value.clone(),
    }
}

fn type_text(ty: &ast::TypeExpr) -> String {
    if ty.args.is_empty() {
        return ty.name.text.clone();
    }
    let args: Vec<String> = ty
        .args
        .iter()
        .map(|a| match a {
            ast::TypeArg::Ident(i) => i.text.clone(),
            ast::TypeArg::String(s) => format!("{:?}", s.value),
        })
        .collect();
    format!("{}({})", ty.name.text, args.join(", "))
}

/// True when a check reads file-level values (header, trailer, aggregates): it is a file check.
fn uses_file_values(expr: &ast::Expr) -> bool {
    let mut found = false;
    expr.walk(|e| match &e.kind {
        ast::ExprKind::Field { base, .. } => {
            if let ast::ExprKind::Name(n) = &base.kind
                && (n.text == "header" || n.text == "trailer")
            {
                found = true;
            }
        }
        ast::ExprKind::Call { callee, .. }
            if callee.text == "header_values"
                || builtins::lookup(&callee.text).is_some_and(|b| b.kind == BuiltinKind::Aggregate) =>
        {
            found = true;
        }
        _ => {}
    });
    found
}

/// True when an expression reads per-line values (names) outside aggregate arguments: a check
/// that does is a row check, even if it also reads file aggregates.
fn reads_row_values(expr: &ast::Expr) -> bool {
    etr_syntax::ensure_sufficient_stack(|| match &expr.kind {
        ast::ExprKind::Name(_) => true,
        ast::ExprKind::Field { base, .. } => match &base.kind {
            ast::ExprKind::Name(n) if n.text == "header" || n.text == "trailer" => false,
            _ => reads_row_values(base),
        },
        ast::ExprKind::Call { callee, .. }
            if builtins::lookup(&callee.text).is_some_and(|b| b.kind == BuiltinKind::Aggregate) =>
        {
            false
        }
        _ => {
            let mut found = false;
            expr.for_each_child(|child| found |= reads_row_values(child));
            found
        }
    })
}

fn collect_slots(expr: &ir::Expr, out: &mut Vec<ir::Slot>) {
    etr_syntax::ensure_sufficient_stack(|| {
        use ir::ExprKind as K;
        match &expr.kind {
            K::Field(f) => out.push(ir::Slot::Field(*f)),
            K::Local(l) => out.push(ir::Slot::Local(*l)),
            K::Literal(_) | K::Column(_) | K::HeaderField(_) | K::TrailerField(_) | K::Aggregate(_) | K::List(_) => {}
            K::Unary(_, e) => collect_slots(e, out),
            K::Binary(_, a, b) | K::Coalesce(a, b) => {
                collect_slots(a, out);
                collect_slots(b, out);
            }
            K::IsNull { operand, .. } | K::InList { operand, .. } => collect_slots(operand, out),
            K::If { condition, then_branch, else_branch } => {
                collect_slots(condition, out);
                collect_slots(then_branch, out);
                collect_slots(else_branch, out);
            }
            K::Match { scrutinee, arms, default } => {
                collect_slots(scrutinee, out);
                for arm in arms {
                    collect_slots(&arm.value, out);
                }
                if let Some(d) = default {
                    collect_slots(d, out);
                }
            }
            K::Call { args, .. } => args.iter().for_each(|a| collect_slots(a, out)),
            K::Fallible { op, on_failure } => {
                match op {
                    ir::FallibleOp::Call { args, .. } => args.iter().for_each(|a| collect_slots(a, out)),
                    ir::FallibleOp::Lookup { key, .. } => collect_slots(key, out),
                }
                if let ir::OnFailure::Default(d) = on_failure {
                    collect_slots(d, out);
                }
            }
        }
    })
}

fn describe_ast_literal(value: &ast::LitValue) -> String {
    match value {
        ast::LitValue::String(s) => format!("the text \"{s}\""),
        ast::LitValue::Int(i) => format!("the integer {i}"),
        ast::LitValue::Money(m) => format!("the amount {}", ir::format_money(*m)),
        ast::LitValue::Number(bits) => format!("the number {:?}", f64::from_bits(*bits)),
        ast::LitValue::Bool(b) => format!("`{b}`"),
        ast::LitValue::Null => "null".into(),
    }
}

fn op_word(op: ast::BinaryOp) -> &'static str {
    op.as_str()
}

fn quote_list(items: &[String]) -> String {
    items.iter().map(|m| format!("\"{m}\"")).collect::<Vec<_>>().join(", ")
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 { format!("1 {word}") } else { format!("{n} {word}s") }
}

/// A hint for the common conversions an analyst forgets.
fn conversion_help(want: TypeKind, found: TypeKind) -> Option<String> {
    match (want, found) {
        (TypeKind::Date, TypeKind::Text) => {
            Some("parse it: `parse_date(COLUMN, \"%d/%m/%Y\") else reject RULE`".into())
        }
        (TypeKind::Month, TypeKind::Text) => Some("parse it: `parse_month(COLUMN, \"%Y%m\") else reject RULE`".into()),
        (TypeKind::Money, TypeKind::Text) => Some("parse it: `parse_money(COLUMN, ringgit) else reject RULE`".into()),
        (TypeKind::Int, TypeKind::Text) => Some("parse it: `parse_int(COLUMN) else reject RULE`".into()),
        (TypeKind::Number, TypeKind::Text) => Some("parse it: `parse_number(COLUMN) else reject RULE`".into()),
        (TypeKind::Money, TypeKind::Number) | (TypeKind::Number, TypeKind::Money) => {
            Some("money is exact sen and never mixes with floating-point numbers".into())
        }
        (TypeKind::Code(_), TypeKind::Text) => {
            Some("map the raw code through a table: `my_table[COLUMN] else reject RULE`".into())
        }
        (TypeKind::Money, TypeKind::Int) | (TypeKind::Int, TypeKind::Money) => {
            Some("money is exact sen: write amounts as `RM1.00`, and parse texts with `parse_money`".into())
        }
        _ => None,
    }
}

fn conversion_help_for(function: &str, found: TypeKind) -> Option<String> {
    match (function, found) {
        ("format_date", TypeKind::Text) => Some("parse the text first with `parse_date`".into()),
        (_, TypeKind::Code(_)) => Some("a code is not text; compare it with `==` instead".into()),
        _ => None,
    }
}

/// Whether `name` is also a money literal for the grammar: `RM`, a digit, then digits and `_`
/// (a name cannot hold the `.` of `RM1.50`).
fn reads_as_money(name: &str) -> bool {
    name.strip_prefix("RM").is_some_and(|rest| {
        rest.starts_with(|c: char| c.is_ascii_digit()) && rest.chars().all(|c| c.is_ascii_digit() || c == '_')
    })
}
