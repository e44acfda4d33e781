//! Fallibility: `value else handler`, the handlers (`else reject RULE`, `else fail RULE`, a
//! default value) and the operations that need one (fallible calls and table lookups).
//!
//! STYLE 13: a compiled rule set is infallible by default. An operation that can fail on data
//! lowers to `ir::ExprKind::Fallible` with its handler, or is an error; a handler on something
//! that cannot fail is an error too.
//!
//! Boundary: the only place that builds an `OnFailure`, and so the only one that marks a rule
//! raised (`Checker::raised_rules`).

use etr_ir as ir;
use etr_ir::{Type, TypeKind};
use etr_syntax::ast::{self, Span};

use super::expressions::strip_parens;
use super::{Checker, Ctx, Scope, conversion_help};
use crate::codes;
use crate::suggest::did_you_mean;

/// A handler as written, with the kind its value is expected to have.
pub(crate) type Handler<'h> = Option<(&'h ast::Handler, Option<TypeKind>)>;

impl<'a> Checker<'a> {
    /// `value else handler`: the value must be an operation that can fail.
    pub(crate) fn handled(
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

    pub(crate) fn handler_rule(&mut self, rule: &ast::Ident, severity: ir::Severity) -> Option<ir::RuleIdx> {
        let Some(&idx) = self.env.rule_index.get(&rule.text) else {
            let help = did_you_mean(&rule.text, self.env.rule_index.keys().map(|s| s.as_str()))
                .or_else(|| Some(format!("declare it: `rule {} {} \"what is wrong\"`", rule.text, severity.as_str())));
            self.error(codes::UNKNOWN_RULE, format!("there is no rule {}", rule.text), rule.span, "unknown rule")
                .help = help;
            return None;
        };
        let actual = self.env.rules[idx].rule.severity;
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
        self.raised_rules.insert(idx);
        Some(idx)
    }

    pub(super) fn lookup(
        &mut self,
        base: &ast::Expr,
        index: &ast::Expr,
        ctx: Ctx<'_>,
        span: Span,
        handler: Handler<'_>,
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
        let Some(&table_idx) = self.env.table_index.get(&table_name.text) else {
            let help = did_you_mean(&table_name.text, self.env.table_index.keys().map(|s| s.as_str())).or_else(|| {
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
        let table = &self.env.tables[table_idx];
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
    pub(crate) fn fallible(
        &mut self,
        op: ir::FallibleOp,
        kind: TypeKind,
        ctx: Ctx<'_>,
        span: Span,
        handler: Handler<'_>,
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
}

pub(crate) fn handler_span(handler: &ast::Handler) -> Span {
    match handler {
        ast::Handler::Reject { span, .. } | ast::Handler::Fail { span, .. } => *span,
        ast::Handler::Value(expr) => expr.span,
    }
}
