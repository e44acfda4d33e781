//! Aggregates: `count()`, `sum(x)`, `median(x)`, ... over every data line of the file.
//!
//! An aggregate's argument is evaluated per data line, malformed lines included, so it may read
//! the columns only; the aggregate itself is a file value, which file checks read and row checks
//! may read too (the run computes the aggregates in a first pass). Equal aggregates are computed
//! once: each is interned in `Checker::aggregates`.
//!
//! Boundary: `calls` hands it the calls whose table entry has an aggregate lowering, and `rules`
//! interns the counts its zones read through [`Checker::aggregate_index`].

use etr_ir as ir;
use etr_ir::{Type, TypeKind};
use etr_syntax::ast;

use super::calls::Call;
use super::expressions::strip_parens;
use super::{Checker, Ctx, Scope};
use crate::builtins::AggregateLowering;
use crate::codes;
use crate::suggest::did_you_mean;

impl<'a> Checker<'a> {
    pub(super) fn aggregate(&mut self, call: &Call<'_>, lowering: AggregateLowering) -> Option<ir::Expr> {
        if !self.has_its_arguments(call) {
            return None;
        }
        let (name, args) = (call.signature.name, call.args);
        // A row expression may read a file aggregate (`x > 3 * median(X)`): the run computes the
        // aggregates in a first pass. An aggregate inside an aggregate has no meaning.
        if call.ctx.scope == Scope::Aggregate {
            self.error(
                codes::SCOPE,
                format!("`{name}()` aggregates the whole file, so it cannot be used inside another aggregate"),
                call.span,
                "aggregate in a per-line expression",
            )
            .help = Some("use it in a rule check together with header./trailer. fields or other aggregates".into());
            return None;
        }
        let (function, argument) = match lowering {
            AggregateLowering::Count => (ir::AggregateFunction::Count, None),
            AggregateLowering::LinesBroken => (ir::AggregateFunction::LinesBroken(self.counted_rule(&args[0])?), None),
            AggregateLowering::Of { function, .. } => {
                let arg = self.infer(&args[0], Ctx { scope: Scope::Aggregate, target: call.ctx.target })?;
                let function = function(self, args)?;
                (function, Some(arg))
            }
        };
        let argument_kind = argument.as_ref().map(|arg| arg.ty.kind);
        let kind = self.result_kind(call, argument_kind)?;
        if let (AggregateLowering::Of { accepts, .. }, Some(k)) = (lowering, argument_kind) {
            let any_kind = accepts.is_empty() && k != TypeKind::Null;
            if !any_kind && !accepts.contains(&k) {
                let found = self.kind_name(k);
                let want: Vec<String> = accepts.iter().map(|a| a.to_string()).collect();
                // An aggregate of any kind refuses only the null literal, which has no kind.
                let takes = if want.is_empty() { "a value of some type".to_string() } else { want.join(" or ") };
                self.error(
                    codes::TYPE_MISMATCH,
                    format!("`{name}` takes {takes}, but this is {found}"),
                    args[0].span,
                    format!("this is {found}"),
                );
                return None;
            }
        }
        let aggregate = ir::Aggregate { function, argument };
        let idx = self.aggregate_index(aggregate);
        // Counts are never null; the others are null over no value (or on overflow).
        let ty = Type::new(kind, call.signature.always_nullable);
        Some(ir::Expr { kind: ir::ExprKind::Aggregate(idx), ty })
    }

    /// The rule `count_broken(RULE)` counts the lines of.
    fn counted_rule(&mut self, arg: &ast::Expr) -> Option<ir::RuleIdx> {
        let ast::ExprKind::Name(rule) = &strip_parens(arg).kind else {
            self.error(
                codes::NOT_CONSTANT,
                "`count_broken` takes a rule id, such as `count_broken(R0)`",
                arg.span,
                "not a rule id",
            );
            return None;
        };
        let Some(&idx) = self.env.rule_index.get(&rule.text) else {
            let help = did_you_mean(&rule.text, self.env.rule_index.keys().map(|s| s.as_str()));
            self.error(codes::UNKNOWN_RULE, format!("there is no rule {}", rule.text), rule.span, "unknown rule")
                .help = help;
            return None;
        };
        if self.env.rules[idx].is_unique {
            self.error(
                codes::SCOPE,
                format!(
                    "rule {} is a uniqueness rule, decided after the row rules; its lines cannot be counted here (yet)",
                    rule.text
                ),
                rule.span,
                "uniqueness rule",
            );
            return None;
        }
        Some(idx)
    }

    pub(super) fn aggregate_index(&mut self, aggregate: ir::Aggregate) -> ir::AggregateIdx {
        match self.aggregates.iter().position(|a| *a == aggregate) {
            Some(i) => ir::Idx::from_index(i),
            None => self.aggregates.push(aggregate),
        }
    }
}
