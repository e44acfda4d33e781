//! The declaration environment of a file: its code types, record types, tables, rules and lets,
//! and those of the modules it imports.
//!
//! [`Declarations::collect`] builds it in one pass over the items, before anything is lowered:
//! code and record types first (record fields name code types), then rules, tables and lets in
//! item order, then the `override`s, which change shared rules before anything reads their
//! severity. It reports the problems of the declarations themselves (duplicates, unknown types,
//! table keys, thresholds, names that read as literals). From then on the environment is frozen:
//! the lowering phase (`super::Checker`) holds a shared reference and never changes it, so what
//! a rule or a table is cannot depend on the order in which expressions are checked.
//!
//! Boundary: the lowering phase reads the fields; only this module writes them.

use std::collections::{HashMap, HashSet};

use etr_ir as ir;
use etr_ir::{Type, TypeKind};
use etr_syntax::ast::{self, Item, Span};

use super::Report;
use crate::codes;
use crate::diagnostics::Diagnostic;
use crate::suggest::did_you_mean;

/// What a file and its imports declare, frozen before lowering (see the module docs).
pub(crate) struct Declarations<'a> {
    pub(crate) codes: CodeTypes,
    /// Every record type by name, with the file it is declared in.
    pub(crate) records: HashMap<String, RecordDecl>,
    pub(crate) tables: ir::IndexVec<ir::CodeTable>,
    pub(crate) table_index: HashMap<String, ir::TableIdx>,
    /// Every rule, in declaration order (their index is the IR's `RuleIdx`).
    pub(crate) rules: ir::IndexVec<ir::Rule, RuleInfo<'a>>,
    pub(crate) rule_index: HashMap<String, ir::RuleIdx>,
    pub(crate) lets: HashMap<String, LetDecl<'a>>,
    /// The lets' names in declaration order, so that the IR does not depend on hash order.
    pub(crate) let_order: Vec<String>,
}

/// Everything known about one rule before its checks are lowered.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RuleInfo<'a> {
    /// The rule as the IR holds it: id, severity and threshold with the overrides applied.
    pub(crate) rule: ir::Rule,
    /// Where the rule id is declared (an imported rule reports in its own module).
    pub(crate) file: &'a str,
    pub(crate) id_span: Span,
    /// The rule has a `{ ... }` body of checks.
    pub(crate) has_body: bool,
    /// The body holds a `unique` check: its lines are decided after the row rules, so neither
    /// `count_broken` nor a zone can count them.
    pub(crate) is_unique: bool,
    /// The zones (`fatal above 2%`) and the file they are written in: an override replaces both.
    pub(crate) zones_file: &'a str,
    pub(crate) zones: Vec<ast::Zone>,
}

/// A declared record type, lowered once.
pub(crate) struct RecordDecl {
    pub(crate) ty: ir::RecordType,
    /// What lowering its fields reported (already part of the declarations' diagnostics).
    pub(crate) diagnostics: Vec<Diagnostic>,
}

/// A `let`: checked lazily, on first use, since a let may use a let declared after it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LetDecl<'a> {
    pub(crate) path: &'a str,
    pub(crate) item: &'a ast::Let,
}

/// The declared code types, and the conversions that need them: literals to code members, type
/// names to kinds, kinds to the names diagnostics use.
#[derive(Debug, Default)]
pub(crate) struct CodeTypes {
    pub(crate) types: ir::IndexVec<ir::CodeType>,
    /// Per code type, each member's index: a literal is looked up in constant time, since a code
    /// may have tens of thousands of members and a table as many literals of it.
    member_index: ir::IndexVec<ir::CodeType, HashMap<String, u32>>,
    index: HashMap<String, ir::CodeTypeIdx>,
}

impl<'a> Declarations<'a> {
    /// Collects the declarations of `items` (the imported modules' items, then the file's own,
    /// `own`), with the diagnostics about them; `path` is the checked file.
    pub(crate) fn collect(path: &'a str, items: &[(&'a str, &'a Item)], own: &'a [Item]) -> (Self, Report<'a>) {
        let mut collector = Collector {
            env: Declarations {
                codes: CodeTypes::default(),
                records: HashMap::new(),
                tables: ir::IndexVec::new(),
                table_index: HashMap::new(),
                rules: ir::IndexVec::new(),
                rule_index: HashMap::new(),
                lets: HashMap::new(),
                let_order: Vec::new(),
            },
            report: Report::new(path),
        };
        collector.declare_types(items);
        collector.report.file = path;
        collector.literal_names(own);
        collector.one_of_each(own);
        // Rules and tables come first: mappings and checks refer to them.
        for (path, item) in items {
            collector.report.file = path;
            match item {
                Item::Rule(rule) => collector.declare_rule(rule),
                Item::Table(table) => collector.declare_table(table),
                Item::Let(let_item) => collector.declare_let(path, let_item),
                _ => {}
            }
        }
        // Overrides change shared rules before anything reads their severity.
        let mut overridden: HashMap<String, Span> = HashMap::new();
        for (path, item) in items {
            if let Item::Override(over) = item {
                collector.report.file = path;
                collector.apply_override(over, &mut overridden);
            }
        }
        collector.report.file = path;
        (collector.env, collector.report)
    }
}

impl CodeTypes {
    /// The code type named `name`.
    pub(crate) fn named(&self, name: &str) -> Option<ir::CodeTypeIdx> {
        self.index.get(name).copied()
    }

    /// A value type written in the spec: a primitive or a declared code type.
    fn type_kind(&self, ty: &ast::TypeExpr, report: &mut Report<'_>) -> Option<TypeKind> {
        let kind = match ty.name.text.as_str() {
            "text" => TypeKind::Text,
            "int" => TypeKind::Int,
            "money" => TypeKind::Money,
            "number" => TypeKind::Number,
            "date" => TypeKind::Date,
            "month" => TypeKind::Month,
            "bool" => TypeKind::Bool,
            other => match self.index.get(other) {
                Some(idx) => TypeKind::Code(*idx),
                None => {
                    let mut names: Vec<&str> = vec!["text", "int", "money", "number", "date", "month", "bool"];
                    names.extend(self.types.iter().map(|c| c.name.as_str()));
                    let help = did_you_mean(other, names.iter().copied());
                    let help = help.or_else(|| Some("declare it with `code NAME { ... }` or `use etr.codes`".into()));
                    report
                        .error(codes::UNKNOWN_TYPE, format!("there is no type `{other}`"), ty.name.span, "unknown type")
                        .help = help;
                    return None;
                }
            },
        };
        if !ty.args.is_empty() {
            report.error(
                codes::BAD_SOURCE,
                format!("the type `{}` takes no arguments here", ty.name.text),
                ty.span,
                "unexpected arguments",
            );
        }
        Some(kind)
    }

    /// A literal in a table, list or pattern, as a value of `kind`.
    pub(crate) fn literal_as(
        &self,
        lit: &ast::Literal,
        kind: TypeKind,
        report: &mut Report<'_>,
    ) -> Option<ir::Literal> {
        let value = match (&lit.value, kind) {
            (ast::LitValue::String(s), TypeKind::Text) => ir::Literal::Text(s.clone()),
            (ast::LitValue::String(s), TypeKind::Code(idx)) => return self.code_member(idx, s, lit.span, report),
            (ast::LitValue::Int(i), TypeKind::Int) => ir::Literal::Int(*i),
            (ast::LitValue::Money(m), TypeKind::Money) => ir::Literal::Money(*m),
            (ast::LitValue::Number(bits), TypeKind::Number) => ir::Literal::Number(ir::F64(f64::from_bits(*bits))),
            // An integer written where a number is expected is that number.
            (ast::LitValue::Int(i), TypeKind::Number) => ir::Literal::Number(ir::F64(*i as f64)),
            (ast::LitValue::Int(i), TypeKind::Money) => {
                report
                    .error(codes::MONEY_UNIT, "an integer where money is expected", lit.span, "is this ringgit or sen?")
                    .help = Some(format!("write the amount in ringgit: `RM{i}` or `RM{i}.00`"));
                return None;
            }
            (ast::LitValue::Bool(b), TypeKind::Bool) => ir::Literal::Bool(*b),
            (ast::LitValue::Null, _) => ir::Literal::Null,
            (other, kind) => {
                let found = describe_ast_literal(other);
                let expected = self.kind_name(kind);
                report.error(
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

    fn code_member(
        &self,
        code: ir::CodeTypeIdx,
        member: &str,
        span: Span,
        report: &mut Report<'_>,
    ) -> Option<ir::Literal> {
        if let Some(&pos) = self.member_index[code].get(member) {
            return Some(ir::Literal::Code(code, pos));
        }
        let code_type = &self.types[code];
        let name = &code_type.name;
        let members = &code_type.members;
        let help = did_you_mean(member, members.iter().map(|m| m.as_str()))
            .unwrap_or_else(|| format!("the members of `{name}` are: {}", quote_list(members)));
        report
            .error(codes::NOT_A_MEMBER, format!("\"{member}\" is not a member of `{name}`"), span, "not a member")
            .help = Some(help);
        None
    }

    /// A type kind as the diagnostics name it (`` `Gender` code ``).
    pub(crate) fn kind_name(&self, kind: TypeKind) -> String {
        match kind {
            TypeKind::Code(idx) => self.types.get(idx).map_or_else(|| "code".into(), |c| format!("`{}` code", c.name)),
            other => other.to_string(),
        }
    }

    /// A type kind as written in a spec (`ActionCode` rather than the diagnostics' "`ActionCode` code").
    pub(crate) fn type_label(&self, kind: TypeKind) -> String {
        match kind {
            TypeKind::Code(idx) => self.types.get(idx).map_or_else(|| "code".into(), |c| c.name.clone()),
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
                format!("\"{}\"", self.types[*t].members.get(*m as usize).map_or("?", |s| s.as_str()))
            }
        }
    }

    /// The fields of a record type, with their declared types.
    fn record_type(&self, record: &ast::Record, report: &mut Report<'_>) -> ir::RecordType {
        let mut fields: ir::IndexVec<ir::FieldDef> = ir::IndexVec::new();
        let mut seen: HashSet<&str> = HashSet::new();
        for field in &record.fields {
            if !seen.insert(&field.name.text) {
                report.error(
                    codes::DUPLICATE,
                    format!("field `{}` is declared twice in `{}`", field.name.text, record.name.text),
                    field.name.span,
                    "second declaration",
                );
                continue;
            }
            let kind = self.type_kind(&field.ty, report).unwrap_or(TypeKind::Null);
            fields.push(ir::FieldDef {
                name: field.name.text.clone(),
                ty: Type::nullable(kind),
                doc: field.doc.as_ref().map(|d| d.text.clone()).unwrap_or_default(),
            });
        }
        ir::RecordType { name: record.name.text.clone(), fields }
    }
}

/// The environment while it is collected, with the diagnostics about it.
struct Collector<'a> {
    env: Declarations<'a>,
    report: Report<'a>,
}

impl<'a> Collector<'a> {
    fn error(
        &mut self,
        code: codes::Code,
        message: impl Into<String>,
        span: Span,
        label: impl Into<String>,
    ) -> &mut Diagnostic {
        self.report.error(code, message, span, label)
    }

    /// Code types and record types, which every other declaration may name.
    fn declare_types(&mut self, items: &[(&'a str, &'a Item)]) {
        let mut seen: HashMap<String, (&'a str, Span)> = HashMap::new();
        let mut records: Vec<(&'a str, &'a ast::Record)> = Vec::new();
        for (path, item) in items {
            self.report.file = path;
            let (name, span) = match item {
                Item::Code(code) => (&code.name, code.name.span),
                Item::Record(record) => (&record.name, record.name.span),
                _ => continue,
            };
            if let Some((first_file, first_span)) = seen.get(&name.text).copied() {
                let d = Diagnostic::error(
                    codes::DUPLICATE,
                    format!("`{}` is declared twice", name.text),
                    self.report.file,
                    span,
                    "second declaration",
                )
                .with_secondary(first_file, first_span, "first declared here");
                self.report.push(d);
                continue;
            }
            seen.insert(name.text.clone(), (path, span));
            match item {
                Item::Code(code) => self.declare_code(code),
                Item::Record(record) => records.push((path, record)),
                _ => {}
            }
        }
        // Record field types are checked once every code type is known.
        records.sort_by_key(|(path, record)| (*path, record.span.start));
        for (path, record) in records {
            self.report.file = path;
            let first = self.report.diagnostics.len();
            let ty = self.env.codes.record_type(record, &mut self.report);
            let diagnostics = self.report.diagnostics[first..].to_vec();
            self.env.records.insert(record.name.text.clone(), RecordDecl { ty, diagnostics });
        }
    }

    fn declare_code(&mut self, code: &ast::Code) {
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
        let codes = &mut self.env.codes;
        let idx = codes.types.push(ir::CodeType { name: code.name.text.clone(), members });
        codes.member_index.push(member_index);
        codes.index.insert(code.name.text.clone(), idx);
    }

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

    /// A spec has at most one `contributor`, one `source` and one `map`.
    fn one_of_each(&mut self, own: &'a [Item]) {
        let spans = |wanted: fn(&Item) -> Option<Span>| own.iter().filter_map(wanted).collect::<Vec<_>>();
        for (what, spans) in [
            ("contributor", spans(|i| if let Item::Contributor(c) = i { Some(c.span) } else { None })),
            ("source", spans(|i| if let Item::Source(s) = i { Some(s.span) } else { None })),
            ("map", spans(|i| if let Item::Map(m) = i { Some(m.span) } else { None })),
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
    }

    fn declare_rule(&mut self, rule: &'a ast::Rule) {
        if let Some(&first) = self.env.rule_index.get(&rule.id.text) {
            let first = &self.env.rules[first];
            let d = Diagnostic::error(
                codes::DUPLICATE_RULE,
                format!("rule {} is declared twice", rule.id.text),
                self.report.file,
                rule.id.span,
                "second declaration",
            )
            .with_secondary(first.file, first.id_span, "first declared here")
            .with_help("rule ids are stable identifiers: give this rule a new id");
            self.report.push(d);
            return;
        }
        let severity = ir_severity(rule.severity);
        let mostly = rule.mostly.and_then(|(bits, span)| self.mostly(bits, span));
        let is_unique = rule.body.as_ref().is_some_and(|b| b.stmts.iter().any(|s| s.kind == ast::StmtKind::Unique));
        let idx = self.env.rules.push(RuleInfo {
            rule: ir::Rule { id: rule.id.text.clone(), severity, message: rule.message.value.clone(), mostly },
            file: self.report.file,
            id_span: rule.id.span,
            has_body: rule.body.is_some(),
            is_unique,
            zones_file: self.report.file,
            zones: rule.zones.clone(),
        });
        self.env.rule_index.insert(rule.id.text.clone(), idx);
    }

    /// A `mostly` threshold, or an error when it is not a share.
    fn mostly(&mut self, bits: u64, span: Span) -> Option<ir::F64> {
        let value = f64::from_bits(bits);
        if (0.0..=1.0).contains(&value) {
            return Some(ir::F64(value));
        }
        self.error(
            codes::BAD_THRESHOLD,
            format!("`mostly` is a share between 0 and 1, not {value}"),
            span,
            "out of range",
        )
        .help = Some("write e.g. `mostly 0.95` for \"at least 95% of the rows pass\"".into());
        None
    }

    fn declare_table(&mut self, table: &'a ast::Table) {
        if self.env.table_index.contains_key(&table.name.text) {
            self.error(
                codes::DUPLICATE,
                format!("table `{}` is declared twice", table.name.text),
                table.name.span,
                "second declaration",
            );
            return;
        }
        let codes = &self.env.codes;
        let key_kind = codes.type_kind(&table.key_ty, &mut self.report);
        let value_kind = codes.type_kind(&table.value_ty, &mut self.report);
        let (Some(key_kind), Some(value_kind)) = (key_kind, value_kind) else { return };
        let mut entries: Vec<(ir::Literal, ir::Literal)> = Vec::new();
        let mut keys: HashSet<ir::Literal> = HashSet::new();
        for entry in &table.entries {
            let key = codes.literal_as(&entry.key, key_kind, &mut self.report);
            let value = codes.literal_as(&entry.value, value_kind, &mut self.report);
            let (Some(key), Some(value)) = (key, value) else { continue };
            if !keys.insert(key.clone()) {
                self.report.error(
                    codes::DUPLICATE,
                    format!("the key {} appears twice in table `{}`", codes.describe_literal(&key), table.name.text),
                    entry.key.span,
                    "repeated key",
                );
                continue;
            }
            entries.push((key, value));
        }
        let idx = self.env.tables.push(ir::CodeTable {
            name: table.name.text.clone(),
            key_type: Type::non_null(key_kind),
            value_type: Type::non_null(value_kind),
            entries,
        });
        self.env.table_index.insert(table.name.text.clone(), idx);
    }

    fn declare_let(&mut self, path: &'a str, item: &'a ast::Let) {
        if self.env.lets.contains_key(&item.name.text) {
            self.error(
                codes::DUPLICATE,
                format!("`let {}` is declared twice", item.name.text),
                item.name.span,
                "second declaration",
            );
            return;
        }
        self.env.lets.insert(item.name.text.clone(), LetDecl { path, item });
        self.env.let_order.push(item.name.text.clone());
    }

    /// `override RULE ...`: a contributor's own severity, threshold or zones for a shared rule.
    fn apply_override(&mut self, over: &ast::Override, seen: &mut HashMap<String, Span>) {
        let Some(&idx) = self.env.rule_index.get(&over.rule.text) else {
            let help = did_you_mean(&over.rule.text, self.env.rule_index.keys().map(|s| s.as_str())).or_else(|| {
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
                self.report.file,
                over.rule.span,
                "second override",
            )
            .with_secondary(self.report.file, *first, "first override")
            .with_help("put every setting of the rule in one `override`");
            self.report.push(d);
            return;
        }
        seen.insert(over.rule.text.clone(), over.rule.span);
        if let Some((severity, _)) = over.severity {
            self.env.rules[idx].rule.severity = ir_severity(severity);
        }
        if let Some((bits, span)) = over.mostly {
            let value = f64::from_bits(bits);
            if (0.0..=1.0).contains(&value) {
                self.env.rules[idx].rule.mostly = Some(ir::F64(value));
            } else {
                // No help here, unlike a rule's own `mostly`.
                self.error(
                    codes::BAD_THRESHOLD,
                    format!("`mostly` is a share between 0 and 1, not {value}"),
                    span,
                    "out of range",
                );
            }
        }
        if !over.zones.is_empty() {
            let rule = &mut self.env.rules[idx];
            rule.zones_file = self.report.file;
            rule.zones = over.zones.clone();
        }
    }
}

pub(crate) fn ir_severity(severity: ast::Severity) -> ir::Severity {
    match severity {
        ast::Severity::Fatal => ir::Severity::Fatal,
        ast::Severity::Reject => ir::Severity::Reject,
        ast::Severity::Warn => ir::Severity::Warn,
        ast::Severity::Info => ir::Severity::Info,
    }
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

fn quote_list(items: &[String]) -> String {
    items.iter().map(|m| format!("\"{m}\"")).collect::<Vec<_>>().join(", ")
}

/// Whether `name` is also a money literal for the grammar: `RM`, a digit, then digits and `_`
/// (a name cannot hold the `.` of `RM1.50`).
fn reads_as_money(name: &str) -> bool {
    name.strip_prefix("RM").is_some_and(|rest| {
        rest.starts_with(|c: char| c.is_ascii_digit()) && rest.chars().all(|c| c.is_ascii_digit() || c == '_')
    })
}
