//! Type checking, fallibility checking and lowering of one spec file to the typed IR.
//!
//! Two phases, the way ty splits inference:
//! 1. [`declarations`] collects what the file and its imports declare (code types, records,
//!    tables, rules with their overrides applied, lets) into a [`Declarations`] environment, and
//!    reports the problems of the declarations themselves. The environment is then frozen: the
//!    second phase only holds a shared reference to it.
//! 2. The [`Checker`] walks the file's items once, resolving every name, inferring every
//!    expression's type with nullability, proving that every operation that can fail on data is
//!    handled, and building the `etr_ir::Program` at the same time. Checking and lowering share
//!    this walk because the IR *is* the typed tree: keeping a second typed AST would only
//!    duplicate it (`docs/notes/0001-check-and-lower-in-one-pass.md`).
//!
//! The walk is split by concern: the source declaration ([`source`]), the mapping and the lets
//! ([`mapping`]), the rules' checks ([`rules`]), expressions ([`expressions`]), handlers and
//! lookups ([`fallibility`]), calls of built-in functions ([`calls`], which hands each call to
//! its table entry's lowering hook in `crate::builtins`) and aggregates ([`aggregates`]).
//!
//! Error handling: every problem is a diagnostic; an expression with an error lowers to `None`,
//! and its parents stay silent about it (no cascades), so one mistake gives one message.
//!
//! Boundary: the rest of the crate sees [`check_file`] (the body of the `check` query) and the
//! result types; the builtin table's lowering hooks see the `Checker` methods marked `pub(crate)`.

mod aggregates;
pub(crate) mod calls;
pub(crate) mod declarations;
mod expressions;
mod fallibility;
mod mapping;
mod rules;
mod source;
#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::sync::Arc;

use etr_ir as ir;
use etr_ir::TypeKind;
use etr_syntax::ast::{self, Item, Span};

use crate::codes::{self, Code};
use crate::db::{Db, SourceFile, parse, resolve};
use crate::diagnostics::Diagnostic;

pub(crate) use declarations::Declarations;
pub(crate) use expressions::{literal_expr, strip_parens};
use mapping::Mapping;
use source::SourceNames;

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

    let (env, report) = Declarations::collect(&path, &items, &parsed.items);
    // A missing `map` or `source` may be the item that failed to parse: say nothing about it then.
    let syntax_errors = !parsed.errors.is_empty();
    let mut checker = Checker::new(&env, report, &path, syntax_errors);
    let program = checker.check(&items, &parsed.items);
    diagnostics.extend(checker.report.diagnostics);
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
pub(crate) enum Scope {
    /// Once per well-formed line: columns, record fields and `let` values.
    Row,
    /// Once per file: header and trailer fields and aggregates.
    File,
    /// Once per data line inside an aggregate (malformed lines included): columns only.
    Aggregate,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Ctx<'a> {
    pub(crate) scope: Scope,
    /// What a rejected value is about (the field being mapped, the let, the check's target).
    pub(crate) target: &'a str,
}

/// The diagnostics of one phase, and the file they are located in: it follows the item being
/// checked, since imported rules and lets report in their own module.
pub(crate) struct Report<'a> {
    pub(crate) file: &'a str,
    pub(crate) diagnostics: Vec<Diagnostic>,
}

impl<'a> Report<'a> {
    pub(crate) fn new(file: &'a str) -> Self {
        Report { file, diagnostics: Vec::new() }
    }

    pub(crate) fn error(
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

    pub(crate) fn warning(&mut self, code: Code, message: impl Into<String>, span: Span, label: impl Into<String>) {
        let diagnostic = Diagnostic::warning(code, message, self.file, span, label);
        self.diagnostics.push(diagnostic);
    }

    pub(crate) fn push(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }
}

/// The lowering phase: the frozen declarations it reads, and what it builds.
pub(crate) struct Checker<'a> {
    pub(crate) env: &'a Declarations<'a>,
    pub(crate) report: Report<'a>,
    /// The file being checked, as opposed to `report.file`, which follows imported items.
    own_path: &'a str,
    /// The file has syntax errors: a missing item may be one that failed to parse.
    syntax_errors: bool,
    /// The columns and control lines the source declares (empty until it is lowered).
    source: SourceNames,
    /// The mapped record, the lets and the bindings computed so far.
    mapping: Mapping<'a>,
    /// The rules a handler raises; a rule that nothing raises and that has no checks is unused.
    raised_rules: HashSet<ir::RuleIdx>,
    aggregates: ir::IndexVec<ir::Aggregate>,
    expr_types: Vec<ExprType>,
}

impl<'a> Checker<'a> {
    fn new(env: &'a Declarations<'a>, report: Report<'a>, own_path: &'a str, syntax_errors: bool) -> Self {
        Checker {
            env,
            report,
            own_path,
            syntax_errors,
            source: SourceNames::default(),
            mapping: Mapping::default(),
            raised_rules: HashSet::new(),
            aggregates: ir::IndexVec::new(),
            expr_types: Vec::new(),
        }
    }

    pub(crate) fn error(
        &mut self,
        code: Code,
        message: impl Into<String>,
        span: Span,
        label: impl Into<String>,
    ) -> &mut Diagnostic {
        self.report.error(code, message, span, label)
    }

    fn warning(&mut self, code: Code, message: impl Into<String>, span: Span, label: impl Into<String>) {
        self.report.warning(code, message, span, label);
    }

    /// A type kind as the diagnostics name it (`a \`Gender\` code`).
    pub(crate) fn kind_name(&self, kind: TypeKind) -> String {
        self.env.codes.kind_name(kind)
    }

    /// A literal of the spec as a value of `kind`, or an error.
    pub(crate) fn literal_as(&mut self, lit: &ast::Literal, kind: TypeKind) -> Option<ir::Literal> {
        self.env.codes.literal_as(lit, kind, &mut self.report)
    }

    /// Lowers all items; returns the program when the file is a contributor spec.
    fn check(&mut self, items: &[(&'a str, &'a Item)], own: &'a [Item]) -> Option<ir::Program> {
        let own_path = self.own_path;
        self.report.file = own_path;
        let contributors: Vec<&ast::Contributor> =
            own.iter().filter_map(|i| if let Item::Contributor(c) = i { Some(c) } else { None }).collect();
        let sources: Vec<&ast::Source> =
            own.iter().filter_map(|i| if let Item::Source(s) = i { Some(s) } else { None }).collect();
        let maps: Vec<&ast::Map> =
            own.iter().filter_map(|i| if let Item::Map(m) = i { Some(m) } else { None }).collect();

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
        let env = self.env;
        for name in &env.let_order {
            self.let_local(name);
        }
        let mut checks = rules::Checks::default();
        for (path, item) in items {
            if let Item::Rule(rule) = item {
                self.report.file = path;
                self.check_rule(rule, &mut checks);
            }
        }
        self.report.file = own_path;
        self.zone_checks(&mut checks);
        let bindings = self.order_bindings();
        self.warn_unused_rules(&checks);
        let source = source?;
        let record = self.mapping.record.clone()?;
        Some(ir::Program {
            contributor: ir::Contributor {
                code: contributor.code.text.clone(),
                name: contributor.name.value.clone(),
                layout: u32::try_from(contributor.layout.value).unwrap_or(0),
            },
            source,
            code_types: self.env.codes.types.clone(),
            tables: self.env.tables.clone(),
            record,
            locals: self.mapping.locals.clone(),
            rules: self.env.rules.iter().map(|r| r.rule.clone()).collect(),
            bindings,
            row_checks: checks.row,
            aggregates: self.aggregates.clone(),
            file_checks: checks.file,
            unique_checks: checks.unique,
            order_checks: checks.order,
        })
    }
}

/// `1 field`, `3 fields`.
pub(crate) fn plural(n: usize, word: &str) -> String {
    if n == 1 { format!("1 {word}") } else { format!("{n} {word}s") }
}

/// A hint for the common conversions an analyst forgets.
pub(crate) fn conversion_help(want: TypeKind, found: TypeKind) -> Option<String> {
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
