//! The rules' bodies: each `check`, `require`, `increasing`/`decreasing` and `consistent` (`per` a
//! key) and `unique` statement lowered to the IR's row, file, file-order and uniqueness checks; the
//! file checks made from zones (`fatal above 2%`); and the warning about rules that nothing can
//! break.
//!
//! Whether a `check` is about a line or about the file is decided from its text: one that reads
//! header or trailer fields or aggregates, and no per-line value outside an aggregate, is a file
//! check. What a file check measures, its observed value in the summary, is decided here too, from
//! the lowered condition ([`observed`]), so the back ends and the runtime only evaluate and show it.
//!
//! Boundary: it reads each rule's `RuleInfo` from the frozen declarations and writes only the
//! checks ([`Checks`]) and the unused-rule warnings.

use etr_ir as ir;
use etr_ir::{Type, TypeKind};
use etr_syntax::ast;

use super::declarations::ir_severity;
use super::expressions::{int_to_number, literal_expr};
use super::{Checker, Ctx, Scope};
use crate::builtins::{self, BuiltinKind};
use crate::codes;
use crate::diagnostics::Diagnostic;
use crate::suggest::did_you_mean;

/// The checks lowered so far, by kind.
#[derive(Debug, Default)]
pub(super) struct Checks {
    pub(super) row: Vec<ir::RowCheck>,
    pub(super) file: Vec<ir::FileCheck>,
    pub(super) unique: Vec<ir::UniqueCheck>,
    pub(super) order: Vec<ir::OrderCheck>,
}

impl Checks {
    /// Whether any check belongs to the rule.
    fn any_of(&self, rule: ir::RuleIdx) -> bool {
        self.row.iter().any(|c| c.rule == rule)
            || self.file.iter().any(|c| c.rule == rule)
            || self.unique.iter().any(|c| c.rule == rule)
            || self.order.iter().any(|c| c.rule == rule)
    }
}

impl<'a> Checker<'a> {
    /// Lowers the checks of a rule's body into `checks`.
    pub(super) fn check_rule(&mut self, rule: &'a ast::Rule, checks: &mut Checks) {
        let Some(&rule_idx) = self.env.rule_index.get(&rule.id.text) else { return };
        let declared = &self.env.rules[rule_idx];
        if (declared.file, declared.id_span) != (self.report.file, rule.id.span) {
            return; // a duplicate declaration, already reported
        }
        let Some(body) = &rule.body else { return };
        let severity = self.env.rules[rule_idx].rule.severity;
        let when_ast = body.when();
        let whens = body.stmts.iter().filter(|s| s.kind == ast::StmtKind::When).count();
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
            // The grammar gives each kind its clauses: what follows the statement's words, and `on`.
            let target = stmt.target().map(target_text);
            match stmt.kind {
                ast::StmtKind::When => {}
                ast::StmtKind::Check => {
                    let (Some(condition), Some(target_name)) = (stmt.expr(None), target) else { continue };
                    let value = stmt.expr(Some("="));
                    if uses_file_values(condition) && !reads_row_values(condition) {
                        if when_ast.is_some() {
                            self.error(
                                codes::SCOPE,
                                "a file check cannot have a `when` condition",
                                stmt.span,
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
                        checks.file.push(ir::FileCheck {
                            rule: rule_idx,
                            target: target_name,
                            observed: observed(&expr),
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
                        checks.row.push(ir::RowCheck {
                            rule: rule_idx,
                            target: target_name,
                            when,
                            condition: expr,
                            value,
                        });
                    }
                }
                ast::StmtKind::Require => {
                    for field in stmt.names(None) {
                        let Some(when) = row_when(self, &field.text) else { continue };
                        let name_expr = ast::Expr { kind: ast::ExprKind::Name(field.clone()), span: field.span };
                        let ctx = Ctx { scope: Scope::Row, target: &field.text };
                        let Some(operand) = self.infer(&name_expr, ctx) else { continue };
                        let condition = ir::Expr {
                            kind: ir::ExprKind::IsNull { operand: Box::new(operand), negated: true },
                            ty: Type::non_null(TypeKind::Bool),
                        };
                        checks.row.push(ir::RowCheck {
                            rule: rule_idx,
                            target: field.text.clone(),
                            when,
                            condition,
                            value: None,
                        });
                    }
                }
                ast::StmtKind::Order { .. } | ast::StmtKind::Consistent => {
                    let (Some(field), Some(target)) = (stmt.names(None).first(), target) else { continue };
                    let per = stmt.names(Some("per"));
                    let (sequence, what) = match stmt.kind {
                        ast::StmtKind::Order { descending: false, strict } => {
                            (ir::Sequence::Increasing { strict }, "an ordering check")
                        }
                        ast::StmtKind::Order { descending: true, strict } => {
                            (ir::Sequence::Decreasing { strict }, "an ordering check")
                        }
                        _ => (ir::Sequence::Consistent, "a consistency check"),
                    };
                    if !matches!(severity, ir::Severity::Reject | ir::Severity::Warn) {
                        self.error(
                            codes::RULE_SEVERITY,
                            format!("{what} reports lines, so rule {} must be `reject` or `warn`", rule.id.text),
                            rule.severity_span,
                            "not reject or warn",
                        );
                        continue;
                    }
                    let Some(when) = row_when(self, &target) else { continue };
                    let Some(idx) = self.record_field(field) else { continue };
                    let kind = self.mapping.record.as_ref().map(|r| r.fields[idx].ty.kind).unwrap_or(TypeKind::Null);
                    // Consistency compares values for equality, which every field has.
                    let ordered = matches!(
                        kind,
                        TypeKind::Int
                            | TypeKind::Money
                            | TypeKind::Number
                            | TypeKind::Date
                            | TypeKind::Month
                            | TypeKind::Text
                    );
                    if !ordered && sequence != ir::Sequence::Consistent {
                        let found = self.kind_name(kind);
                        self.error(
                            codes::TYPE_MISMATCH,
                            format!("{found} values have no order"),
                            field.span,
                            format!("this is {found}"),
                        );
                        continue;
                    }
                    // Every field of a key has a value to group by, whatever its type.
                    let group: Vec<ir::FieldIdx> = per.iter().filter_map(|field| self.record_field(field)).collect();
                    if group.len() != per.len() {
                        continue;
                    }
                    checks.order.push(ir::OrderCheck {
                        rule: rule_idx,
                        target,
                        field: idx,
                        per: group,
                        sequence,
                        when,
                    });
                }
                ast::StmtKind::Unique => {
                    let (fields, Some(target)) = (stmt.names(None), target) else { continue };
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
                    let Some(when) = row_when(self, &target) else { continue };
                    let mut key = Vec::new();
                    for field in fields {
                        if let Some(idx) = self.record_field(field) {
                            key.push(idx);
                        }
                    }
                    if key.len() == fields.len() {
                        checks.unique.push(ir::UniqueCheck { rule: rule_idx, target, key, when });
                    }
                }
            }
        }
    }

    /// File checks made from rules' zones: `SEVERITY above P%` breaks when more than P% of the
    /// data lines broke the rule.
    pub(super) fn zone_checks(&mut self, checks: &mut Checks) {
        let env = self.env;
        for (rule_idx, declared) in env.rules.iter_enumerated() {
            if declared.zones.is_empty() {
                continue;
            }
            self.report.file = declared.zones_file;
            let rule = &declared.rule;
            let is_file_rule = checks.file.iter().any(|c| c.rule == rule_idx && c.zone.is_none());
            let is_unique_rule = checks.unique.iter().any(|c| c.rule == rule_idx);
            for zone in &declared.zones {
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
                let int_aggregate = |i: ir::AggregateIdx| ir::Expr {
                    kind: ir::ExprKind::Aggregate(i),
                    ty: Type::non_null(TypeKind::Int),
                };
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
                checks.file.push(ir::FileCheck {
                    rule: rule_idx,
                    target: format!("above {percent}%"),
                    observed: observed(&condition),
                    condition,
                    severity,
                    zone: Some(ir::F64(percent)),
                });
            }
        }
    }

    /// Warns about every rule that nothing can break: no checks, no body, and no handler raises it.
    pub(super) fn warn_unused_rules(&mut self, checks: &Checks) {
        for (idx, declared) in self.env.rules.iter_enumerated() {
            if self.raised_rules.contains(&idx) || checks.any_of(idx) || declared.has_body {
                continue;
            }
            let id = &declared.rule.id;
            let warning = Diagnostic::warning(
                codes::UNUSED_RULE,
                format!("rule {id} has no checks and nothing raises it"),
                declared.file,
                declared.id_span,
                "never fires",
            )
            .with_help(format!("raise it from a mapping with `else reject {id}`, or give it a body"));
            self.report.push(warning);
        }
    }

    /// A field of the target record named by a dataset check, or an error with a suggestion.
    fn record_field(&mut self, field: &ast::Ident) -> Option<ir::FieldIdx> {
        if let Some(&idx) = self.mapping.field_index.get(&field.text) {
            return Some(idx);
        }
        let names: Vec<String> =
            self.mapping.record.as_ref().map(|r| r.fields.iter().map(|f| f.name.clone()).collect()).unwrap_or_default();
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
}

fn target_text(target: ast::Target<'_>) -> String {
    match target {
        ast::Target::Ident(i) => i.text.clone(),
        ast::Target::String(s) => s.value.clone(),
    }
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
            if builtins::lookup(&callee.text).is_some_and(|b| b.kind == BuiltinKind::Aggregate || b.file_value) =>
        {
            found = true;
        }
        _ => {}
    });
    found
}

/// What a file check with this condition measures (see `ir::FileCheck::observed`): the aggregate
/// it reads, when it reads exactly one (however many times); with several, the side of its first
/// comparison that reads one (`count_distinct(x) * 1.0 / count()` in
/// `count_distinct(x) * 1.0 / count() >= 0.5`); with none, that side for `header_values()`, or else
/// `header_values()` itself.
fn observed(condition: &ir::Expr) -> Option<ir::Expr> {
    let mut first: Option<&ir::Expr> = None;
    let mut several = false;
    condition.walk(&mut |e| {
        if let ir::ExprKind::Aggregate(idx) = e.kind {
            several |= first.is_some_and(|first| first.kind != ir::ExprKind::Aggregate(idx));
            first.get_or_insert(e);
        }
    });
    let measured = match (first, several) {
        (Some(aggregate), false) => Some(aggregate),
        (Some(_), true) => measured_side(condition),
        (None, _) => measured_side(condition).or_else(|| condition.find_map(|e| is_measured(e).then_some(e))),
    };
    measured.cloned()
}

/// The side of the first comparison, in evaluation order, that reads an aggregate or the header's
/// values. Only comparisons reached through operators, `not`, `is null` and `??` count; one inside
/// a call or an `if` does not.
fn measured_side(condition: &ir::Expr) -> Option<&ir::Expr> {
    let mut side = None;
    let _ = condition.visit(&mut |e| match &e.kind {
        ir::ExprKind::Binary(op, a, b) => {
            let comparison = matches!(
                op,
                ir::BinaryOp::Eq
                    | ir::BinaryOp::Ne
                    | ir::BinaryOp::Lt
                    | ir::BinaryOp::Le
                    | ir::BinaryOp::Gt
                    | ir::BinaryOp::Ge
            );
            match [a, b].into_iter().find(|operand| comparison && operand.any(is_measured)) {
                Some(operand) => {
                    side = Some(&**operand);
                    ir::Step::Stop
                }
                None => ir::Step::Descend,
            }
        }
        ir::ExprKind::Unary(..) | ir::ExprKind::IsNull { .. } | ir::ExprKind::Coalesce(..) => ir::Step::Descend,
        _ => ir::Step::Skip,
    });
    side
}

/// Whether a file check can measure this expression: an aggregate, or the header's values.
fn is_measured(expr: &ir::Expr) -> bool {
    matches!(expr.kind, ir::ExprKind::Aggregate(_) | ir::ExprKind::Call { function: ir::Builtin::HeaderValues, .. })
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
