//! Aggregates: `count()`, `sum(x)`, `median(x)`, ... over every data line of the file.
//!
//! An aggregate's argument is evaluated per data line, malformed lines included, so it may read
//! the columns only; the aggregate itself is a file value, which file checks read and row checks
//! may read too (the run computes the aggregates in a first pass). Equal aggregates are computed
//! once: each is interned in `Checker::aggregates`.

use etr_ir as ir;
use etr_ir::{Type, TypeKind};
use etr_syntax::ast::{self, Span};

use super::expressions::strip_parens;
use super::{Checker, Ctx, Scope};
use crate::codes;
use crate::suggest::did_you_mean;

impl<'a> Checker<'a> {
    pub(super) fn aggregate(&mut self, name: &str, args: &[ast::Expr], ctx: Ctx<'_>, span: Span) -> Option<ir::Expr> {
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
                let Some(&idx) = self.env.rule_index.get(&rule.text) else {
                    let help = did_you_mean(&rule.text, self.env.rule_index.keys().map(|s| s.as_str()));
                    self.error(
                        codes::UNKNOWN_RULE,
                        format!("there is no rule {}", rule.text),
                        rule.span,
                        "unknown rule",
                    )
                    .help = help;
                    return None;
                };
                if self.env.rules[idx as usize].is_unique {
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
        let idx = self.aggregate_index(aggregate);
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
        Some(ir::Expr { kind: ir::ExprKind::Aggregate(idx), ty: Type::new(kind, nullable) })
    }

    pub(super) fn aggregate_index(&mut self, aggregate: ir::Aggregate) -> u32 {
        match self.aggregates.iter().position(|a| *a == aggregate) {
            Some(i) => i as u32,
            None => {
                self.aggregates.push(aggregate);
                (self.aggregates.len() - 1) as u32
            }
        }
    }
}
