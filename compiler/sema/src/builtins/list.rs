//! The list functions of file checks, and `header_values()`, the header's fields as a list
//! (the interpreter's `kernels/list.rs`). Lists are constants or aggregates, so these are file
//! values.
//!
//! Boundary: the entries are data for the checker, the editor and the docs; the hooks below reach
//! the checker through its `pub(crate)` methods only.

use etr_ir::{self as ir, Builtin, Type, TypeKind};
use etr_syntax::ast;

use super::{ANY, Family, Param, Signature, file, row, whole};
use crate::check::calls::Call;
use crate::check::{Checker, Scope, plural, strip_parens};
use crate::codes;

pub(super) const FAMILY: Family = Family {
    title: "Lists",
    doc: "Lists come from `distinct_values(...)`, `modes(...)` and `header_values()`, or are written `[\"A\", \"B\"]`; the list functions compare them as sets.",
    functions: FUNCTIONS,
    ir_family: Some(etr_ir::BuiltinFamily::List),
};

const FUNCTIONS: &[Signature] = &[
    whole(
        "header_values",
        "header_values() -> list of text",
        &[],
        TypeKind::List(ir::ListOf::Text),
        "The header's text fields as a list, e.g. the column names a header line lists (file checks only).",
        lower_header_values,
    )
    .about_the_file()
    .with_examples(&[file("header_values()", &["a|b"], "[\"ACCT\", \"BAL\"]")]),
    whole(
        "is_subset",
        "is_subset(a: list, b: list) -> bool",
        &[Param::Data(ANY), Param::Data(ANY)],
        TypeKind::Bool,
        "Every element of a is in b.",
        |checker, call| lower_list_call(checker, call, Builtin::ListIsSubset, Order::AsWritten),
    )
    .with_examples(&[row("is_subset([\"a\"], [\"a\", \"b\"])", &["a|b"], "true")]),
    whole(
        "contains_all",
        "contains_all(a: list, b: list) -> bool",
        &[Param::Data(ANY), Param::Data(ANY)],
        TypeKind::Bool,
        "Every element of b is in a.",
        |checker, call| lower_list_call(checker, call, Builtin::ListIsSubset, Order::Swapped),
    )
    .with_examples(&[row("contains_all([\"a\", \"b\"], [\"a\"])", &["a|b"], "true")]),
    whole(
        "same_set",
        "same_set(a: list, b: list) -> bool",
        &[Param::Data(ANY), Param::Data(ANY)],
        TypeKind::Bool,
        "a and b hold the same elements.",
        |checker, call| lower_list_call(checker, call, Builtin::ListSameSet, Order::AsWritten),
    )
    .with_examples(&[row("same_set([\"a\", \"b\"], [\"b\", \"a\"])", &["a|b"], "true")]),
    whole(
        "overlaps",
        "overlaps(a: list, b: list) -> bool",
        &[Param::Data(ANY), Param::Data(ANY)],
        TypeKind::Bool,
        "Some element is in both a and b.",
        |checker, call| lower_list_call(checker, call, Builtin::ListOverlaps, Order::AsWritten),
    )
    .with_examples(&[row("overlaps([\"a\", \"b\"], [\"b\", \"c\"])", &["a|b"], "true")]),
    whole(
        "size",
        "size(a: list) -> int",
        &[Param::Data(ANY)],
        TypeKind::Int,
        "The number of elements of a list.",
        |checker, call| lower_list_call(checker, call, Builtin::ListSize, Order::AsWritten),
    )
    .with_examples(&[row("size([\"a\", \"b\", \"c\"])", &["a|b"], "3")]),
];

/// The order the IR takes a list function's two arguments in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Order {
    AsWritten,
    /// `contains_all(a, b)` is `is_subset(b, a)`.
    Swapped,
}

/// `header_values()`: the header's text fields, in a file check.
fn lower_header_values(checker: &mut Checker<'_>, call: &Call<'_>) -> Option<ir::Expr> {
    checker.refuse_needless_handler(call);
    if !call.args.is_empty() {
        checker.error(
            codes::ARGUMENT_COUNT,
            "`header_values` takes no argument",
            call.span,
            "wrong number of arguments",
        );
        return None;
    }
    if call.ctx.scope != Scope::File {
        checker.error(
            codes::SCOPE,
            "`header_values()` is about the file's header, so it can only be used in a file check",
            call.span,
            "file value in a row expression",
        );
        return None;
    }
    Some(ir::Expr {
        kind: ir::ExprKind::Call { function: Builtin::HeaderValues, args: Vec::new() },
        ty: Type::non_null(TypeKind::List(ir::ListOf::Text)),
    })
}

/// A list function: its arguments must be lists of one kind, and a list literal argument takes
/// the other argument's element kind. The result is never null (lists are never null).
fn lower_list_call(checker: &mut Checker<'_>, call: &Call<'_>, function: Builtin, order: Order) -> Option<ir::Expr> {
    let (name, args, span, ctx) = (call.callee.text.as_str(), call.args, call.span, call.ctx);
    checker.refuse_needless_handler(call);
    let arity = call.signature.params.len();
    if args.len() != arity {
        checker.error(
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
        let expr = checker.infer(arg, ctx)?;
        if element.is_none() {
            element = Some(expr.ty.kind);
        }
        lowered.push((arg.span, expr));
    }
    for arg in args.iter().filter(|a| is_literal(a)) {
        let expr = checker.infer_expecting(arg, ctx, element)?;
        lowered.push((arg.span, expr));
    }
    // Back in argument order.
    lowered.sort_by_key(|(s, _)| s.start);
    for (arg_span, expr) in &lowered {
        if !matches!(expr.ty.kind, TypeKind::List(_)) {
            let found = checker.kind_name(expr.ty.kind);
            checker
                .error(
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
        let (a, b) = (checker.kind_name(lowered[0].1.ty.kind), checker.kind_name(lowered[1].1.ty.kind));
        checker.error(
            codes::TYPE_MISMATCH,
            format!("`{name}` compares lists of one kind, but these are {a} and {b}"),
            span,
            "different kinds",
        );
        return None;
    }
    let mut args_ir: Vec<ir::Expr> = lowered.into_iter().map(|(_, e)| e).collect();
    if order == Order::Swapped {
        args_ir.reverse();
    }
    let result = checker.result_kind(call, None)?;
    Some(ir::Expr { kind: ir::ExprKind::Call { function, args: args_ir }, ty: Type::non_null(result) })
}
