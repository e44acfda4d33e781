//! The one walk over an expression's tree that every reader of the IR shares.
//!
//! Before this module each crate that looked into expressions (which slots a binding reads, which
//! regexes to compile, which aggregates a file check reads, what it measures) recursed over
//! [`ExprKind`] by hand, each with its own idea of which nodes have children. A new node kind then
//! had to be taught to every one of them, and a walk that forgot one (a `match` arm, a handler's
//! default value) silently missed what was inside. Here the children of each node are listed once,
//! in evaluation order ([`Expr::for_each_child`]), and the walks are built on that list.
//!
//! Every walk calls [`crate::ensure_sufficient_stack`] once per level (see `stack.rs`), so a walk
//! over the deepest expression the parser accepts is safe on a 2 MiB thread.

use std::ops::ControlFlow;

use crate::{Expr, ExprKind, FallibleOp, OnFailure};

/// What a walk does after visiting an expression (see [`Expr::visit`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Visit the expression's children next.
    Descend,
    /// Do not look inside this expression; go on with its next sibling.
    Skip,
    /// End the walk.
    Stop,
}

impl Expr {
    /// Calls `f` on each direct sub-expression, in the order the interpreter evaluates them: a
    /// `match`'s scrutinee, then its arms' values, then its default; a fallible operation's inputs,
    /// then its default value.
    pub fn for_each_child<'e>(&'e self, mut f: impl FnMut(&'e Expr)) {
        match &self.kind {
            ExprKind::Literal(_)
            | ExprKind::List(_)
            | ExprKind::Column(_)
            | ExprKind::Field(_)
            | ExprKind::Local(_)
            | ExprKind::HeaderField(_)
            | ExprKind::TrailerField(_)
            | ExprKind::Aggregate(_) => {}
            ExprKind::Unary(_, e) | ExprKind::IsNull { operand: e, .. } | ExprKind::InList { operand: e, .. } => f(e),
            ExprKind::Binary(_, a, b) | ExprKind::Coalesce(a, b) => {
                f(a);
                f(b);
            }
            ExprKind::If { condition, then_branch, else_branch } => {
                f(condition);
                f(then_branch);
                f(else_branch);
            }
            ExprKind::Match { scrutinee, arms, default } => {
                f(scrutinee);
                for arm in arms {
                    f(&arm.value);
                }
                if let Some(default) = default {
                    f(default);
                }
            }
            ExprKind::Call { args, .. } => args.iter().for_each(f),
            ExprKind::Fallible { op, on_failure } => {
                match op {
                    FallibleOp::Call { args, .. } => args.iter().for_each(&mut f),
                    FallibleOp::Lookup { key, .. } => f(key),
                }
                if let OnFailure::Default(default) = on_failure {
                    f(default);
                }
            }
        }
    }

    /// Calls `f` on `self` and every sub-expression, each before its children (pre-order, children
    /// in evaluation order).
    pub fn walk<'e>(&'e self, f: &mut impl FnMut(&'e Expr)) {
        let _ = self.visit(&mut |e| {
            f(e);
            Step::Descend
        });
    }

    /// Pre-order walk in which `f` decides, at each expression, whether to look inside it, pass
    /// over it, or end the walk; `Break` when some call of `f` ended it.
    pub fn visit<'e>(&'e self, f: &mut impl FnMut(&'e Expr) -> Step) -> ControlFlow<()> {
        crate::ensure_sufficient_stack(|| match f(self) {
            Step::Stop => ControlFlow::Break(()),
            Step::Skip => ControlFlow::Continue(()),
            Step::Descend => {
                let mut flow = ControlFlow::Continue(());
                self.for_each_child(|child| {
                    if flow.is_continue() {
                        flow = child.visit(f);
                    }
                });
                flow
            }
        })
    }

    /// The first expression, in pre-order, for which `pick` gives a value, and that value.
    pub fn find_map<'e, T>(&'e self, mut pick: impl FnMut(&'e Expr) -> Option<T>) -> Option<T> {
        let mut found = None;
        let _ = self.visit(&mut |e| match pick(e) {
            Some(value) => {
                found = Some(value);
                Step::Stop
            }
            None => Step::Descend,
        });
        found
    }

    /// Whether `self` or some sub-expression satisfies `test`.
    pub fn any(&self, mut test: impl FnMut(&Expr) -> bool) -> bool {
        self.find_map(|e| test(e).then_some(())).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BinaryOp, Builtin, Idx, Literal, MatchArm, Type, TypeKind};

    fn col(c: u32) -> ExprKind {
        ExprKind::Column(Idx::from_raw(c))
    }

    fn leaf(kind: ExprKind) -> Expr {
        Expr { kind, ty: Type::nullable(TypeKind::Int) }
    }

    fn boxed(kind: ExprKind) -> Box<Expr> {
        Box::new(leaf(kind))
    }

    /// Every node kind with children, each child a distinct column, so the walk's order shows.
    fn every_kind() -> Expr {
        let column = |c| boxed(col(c));
        let fallible_call = leaf(ExprKind::Fallible {
            op: FallibleOp::Call { function: Builtin::ParseInt, args: vec![leaf(col(10))] },
            on_failure: OnFailure::Default(column(11)),
        });
        let lookup = leaf(ExprKind::Fallible {
            op: FallibleOp::Lookup { table: Idx::from_raw(0), key: column(12) },
            on_failure: OnFailure::Reject { rule: Idx::from_raw(0), target: "t".into() },
        });
        let matched = leaf(ExprKind::Match {
            scrutinee: column(6),
            arms: vec![
                MatchArm { patterns: vec![], value: leaf(col(7)) },
                MatchArm { patterns: vec![], value: leaf(col(8)) },
            ],
            default: Some(column(9)),
        });
        let branches = leaf(ExprKind::If { condition: column(3), then_branch: column(4), else_branch: column(5) });
        let call = leaf(ExprKind::Call { function: Builtin::Trim, args: vec![branches, matched] });
        let unary = leaf(ExprKind::Unary(crate::UnaryOp::Neg, column(1)));
        let null_test = leaf(ExprKind::IsNull { operand: column(2), negated: false });
        let in_list = leaf(ExprKind::InList { operand: column(13), list: vec![Literal::Int(1)], negated: false });
        let left = leaf(ExprKind::Binary(BinaryOp::Add, Box::new(unary), Box::new(null_test)));
        let right = leaf(ExprKind::Coalesce(
            Box::new(call),
            Box::new(leaf(ExprKind::Binary(
                BinaryOp::And,
                Box::new(fallible_call),
                Box::new(leaf(ExprKind::Binary(BinaryOp::Or, Box::new(lookup), Box::new(in_list)))),
            ))),
        ));
        leaf(ExprKind::Binary(BinaryOp::Eq, Box::new(left), Box::new(right)))
    }

    fn columns_in_walk_order(expr: &Expr) -> Vec<u32> {
        let mut seen = Vec::new();
        expr.walk(&mut |e| {
            if let ExprKind::Column(c) = e.kind {
                seen.push(c.raw());
            }
        });
        seen
    }

    #[test]
    fn the_walk_reaches_every_child_in_evaluation_order() {
        assert_eq!(columns_in_walk_order(&every_kind()), (1..=13).collect::<Vec<_>>());
    }

    #[test]
    fn a_skipped_expression_hides_its_children_and_a_stop_ends_the_walk() {
        let expr = every_kind();
        let mut seen = Vec::new();
        let flow = expr.visit(&mut |e| match e.kind {
            ExprKind::Call { .. } => Step::Skip,
            ExprKind::Column(c) if c.raw() == 12 => Step::Stop,
            ExprKind::Column(c) => {
                seen.push(c.raw());
                Step::Descend
            }
            _ => Step::Descend,
        });
        assert!(flow.is_break());
        assert_eq!(seen, [1, 2, 10, 11]);
        let first_above_seven =
            expr.find_map(|e| matches!(e.kind, ExprKind::Column(c) if c.raw() > 7).then_some(&e.kind));
        assert_eq!(first_above_seven, Some(&col(8)));
        assert!(expr.any(|e| e.kind == col(13)));
        assert!(!expr.any(|e| e.kind == col(14)));
    }

    /// A chain far deeper than the parser allows, walked on a thread with a small stack: the walk
    /// must continue on new segments rather than overflow.
    #[test]
    fn a_deep_chain_is_walked_on_a_small_stack() {
        let mut expr = leaf(col(0));
        for _ in 0..20_000 {
            expr = leaf(ExprKind::Unary(crate::UnaryOp::Neg, Box::new(expr)));
        }
        let depth = std::thread::Builder::new()
            .stack_size(256 << 10)
            .spawn(move || {
                let mut nodes = 0;
                expr.walk(&mut |_| nodes += 1);
                // Dropping the chain recurses too: leak it rather than test the drop.
                std::mem::forget(expr);
                nodes
            })
            .expect("spawns")
            .join()
            .expect("the walk does not overflow");
        assert_eq!(depth, 20_001);
    }
}
