//! Calls of built-in functions: `f(x, ...)` and `x.f(...)`, with or without a handler.
//!
//! The checker does not know any function by name: it finds the function's table entry in
//! `crate::builtins` and does what the entry's lowering says.
//! - A per-value function has its data arguments checked against the entry's parameters and its
//!   constant arguments (a format, a unit, a pattern) read from the spec; then the entry's hook
//!   folds the constants into the IR variant, and the entry's result rule gives the type.
//! - An aggregate goes to `aggregates`.
//! - A function whose call is not a plain application (sugar such as `looks_like_date`, the
//!   compile-time `type_of`, the list functions) lowers the whole call in its own hook.

use etr_ir as ir;
use etr_ir::{Type, TypeKind};
use etr_syntax::ast::{self, Span};

use super::expressions::{literal_expr, strip_parens};
use super::fallibility::{Handler, handler_span};
use super::{Checker, Ctx, Scope, plural};
use crate::builtins::{self, BuiltinKind};
use crate::codes;
use crate::datefmt::{DateFormatUse, parse_date_format};
use crate::suggest::did_you_mean;

impl<'a> Checker<'a> {
    pub(super) fn call(
        &mut self,
        callee: &ast::Ident,
        args: &[ast::Expr],
        ctx: Ctx<'_>,
        span: Span,
        handler: Handler<'_>,
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
                TypeKind::Code(c) => self.env.codes.types[c as usize].name.clone(),
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
                let Some(code_type) = self.env.codes.named("Gender") else {
                    self.error(
                        codes::UNKNOWN_TYPE,
                        "`nric_gender` returns a `Gender`, but no `Gender` code is in scope",
                        callee.span,
                        "needs Gender",
                    )
                    .help = Some("add `use etr.codes`".into());
                    return None;
                };
                let members = &self.env.codes.types[code_type as usize].members;
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

    /// The list functions of file checks: `is_subset`, `contains_all`, `same_set`, `overlaps`,
    /// `size`. A list literal argument takes the other argument's element kind.
    fn list_call(
        &mut self,
        callee: &ast::Ident,
        args: &[ast::Expr],
        ctx: Ctx<'_>,
        span: Span,
        handler: Handler<'_>,
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
}

enum Constant {
    Text(String, Span),
    Unit(ir::MoneyUnit),
}

/// The layouts `looks_like_date` tries, day-first before month-first (Malaysian usage).
const LOOSE_DATE_LAYOUTS: &[&str] = &["%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%Y/%m/%d", "%d-%m-%Y", "%d.%m.%Y", "%Y%m%d"];

fn conversion_help_for(function: &str, found: TypeKind) -> Option<String> {
    match (function, found) {
        ("format_date", TypeKind::Text) => Some("parse the text first with `parse_date`".into()),
        (_, TypeKind::Code(_)) => Some("a code is not text; compare it with `==` instead".into()),
        _ => None,
    }
}
