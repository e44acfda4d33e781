//! Calls of built-in functions: `f(x, ...)` and `x.f(...)`, with or without a handler.
//!
//! The checker knows no function by name: it finds the function's entry in `crate::builtins` and
//! does what the entry's lowering says.
//! - A per-value function has its data arguments checked against the entry's parameters and its
//!   constant arguments (a format, a unit, a pattern) read from the spec; the entry's result rule
//!   gives the type, and the entry's hook folds the constants into the IR variant ([`ValueCall`]).
//! - An aggregate goes to `aggregates`, with the entry's aggregate lowering.
//! - A function whose call is not a plain application (sugar such as `looks_like_date`, the
//!   compile-time `type_of`, the list functions) lowers the whole [`Call`] in its own hook.
//!
//! Boundary: it reads the table (`crate::builtins`) and gives the hooks [`Call`] and
//! [`ValueCall`]; no function is named here.

use etr_ir as ir;
use etr_ir::{Type, TypeKind};
use etr_syntax::ast::{self, Span};

use super::expressions::strip_parens;
use super::fallibility::{Handler, handler_span};
use super::{Checker, Ctx, plural};
use crate::builtins::{self, BuiltinKind, Lowering, NoResultType, Param, Signature, ValueHook};
use crate::codes;
use crate::datefmt::{DateFormatUse, parse_date_format};
use crate::diagnostics::Diagnostic;
use crate::suggest::did_you_mean;

/// A call as written, with the entry of the function it calls.
pub(crate) struct Call<'c> {
    pub(crate) signature: &'static Signature,
    pub(crate) callee: &'c ast::Ident,
    /// The arguments, the receiver of a method call first.
    pub(crate) args: &'c [ast::Expr],
    pub(crate) ctx: Ctx<'c>,
    pub(crate) span: Span,
    /// The call's `else`, when the call is the value of one.
    pub(crate) handler: Handler<'c>,
}

/// What a per-value function's lowering hook sees: the call, its constant arguments (checked
/// against the entry's parameters, in their order), and the kind its result will have.
pub(crate) struct ValueCall<'c, 'a> {
    pub(crate) checker: &'c mut Checker<'a>,
    pub(crate) call: &'c Call<'c>,
    constants: &'c [Constant],
    pub(crate) result: TypeKind,
}

/// A constant argument as the spec wrote it.
enum Constant {
    Text(String, Span),
    Unit(ir::MoneyUnit),
}

impl ValueCall<'_, '_> {
    /// The `i`-th constant argument's text, with its span.
    pub(crate) fn text(&self, i: usize) -> (String, Span) {
        match self.constants.get(i) {
            Some(Constant::Text(text, span)) => (text.clone(), *span),
            _ => (String::new(), self.call.span),
        }
    }

    /// The `i`-th constant argument's money unit.
    pub(crate) fn unit(&self, i: usize) -> Option<ir::MoneyUnit> {
        match self.constants.get(i) {
            Some(Constant::Unit(unit)) => Some(*unit),
            _ => None,
        }
    }

    /// The `i`-th constant argument as a date format for `usage`, or an error.
    pub(crate) fn date_format(&mut self, i: usize, usage: DateFormatUse) -> Option<ir::DateFormat> {
        let (pattern, pattern_span) = self.text(i);
        match parse_date_format(&pattern, usage) {
            Ok(format) => Some(format),
            Err(why) => {
                self.checker.error(codes::BAD_DATE_FORMAT, why, pattern_span, "bad format");
                None
            }
        }
    }
}

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
        let call = Call { signature, callee, args, ctx, span, handler };
        match signature.lowering {
            // A whole-call hook checks its arguments itself, their number included.
            Lowering::Whole(lower) => lower(self, &call),
            Lowering::Value(lower) => self.value_call(&call, lower),
            Lowering::Aggregate(lowering) => self.aggregate(&call, lowering),
        }
    }

    /// Whether the call has as many arguments as its function's parameters; reported when not.
    pub(super) fn has_its_arguments(&mut self, call: &Call<'_>) -> bool {
        let (signature, given) = (call.signature, call.args.len());
        if given == signature.params.len() {
            return true;
        }
        self.error(
            codes::ARGUMENT_COUNT,
            format!("`{}` takes {} but is given {given}", signature.name, plural(signature.params.len(), "argument")),
            call.span,
            "wrong number of arguments",
        )
        .help = Some(format!("the signature is `{}`", signature.signature));
        false
    }

    /// A call of a function of per-line values.
    fn value_call(&mut self, call: &Call<'_>, lower: ValueHook) -> Option<ir::Expr> {
        if !self.has_its_arguments(call) {
            return None;
        }
        let (signature, name) = (call.signature, call.signature.name);
        // Constant arguments first: they decide the built-in variant.
        let mut data_args: Vec<ir::Expr> = Vec::new();
        let mut constants: Vec<Constant> = Vec::new();
        let mut ok = true;
        for (param, arg) in signature.params.iter().zip(call.args) {
            match param {
                Param::Data(kinds) => {
                    let Some(expr) = self.infer(arg, call.ctx) else {
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
                        .help = argument_help(signature, expr.ty.kind);
                        ok = false;
                        continue;
                    }
                    data_args.push(expr);
                }
                Param::ConstText(what) => match &strip_parens(arg).kind {
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
                // Only aggregates take rule ids (`builtins::tests` checks the table).
                Param::Rule => ok = false,
                Param::MoneyUnit => match &strip_parens(arg).kind {
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
        let result = self.result_kind(call, data_args.first().map(|a| a.ty.kind))?;
        let function = lower(&mut ValueCall { checker: self, call, constants: &constants, result })?;
        let any_nullable = data_args.iter().any(|a| a.ty.nullable);
        if signature.kind == BuiltinKind::Fallible {
            let op = ir::FallibleOp::Call { function, args: data_args };
            return self.fallible(op, result, call.ctx, call.span, call.handler, signature.failure);
        }
        self.refuse_needless_handler(call);
        let nullable = any_nullable || signature.always_nullable;
        Some(ir::Expr { kind: ir::ExprKind::Call { function, args: data_args }, ty: Type::new(result, nullable) })
    }

    /// The kind of a call's result by its entry's result rule, given its first data argument's
    /// kind; or an error when the call's result has none.
    pub(crate) fn result_kind(&mut self, call: &Call<'_>, first_arg: Option<TypeKind>) -> Option<TypeKind> {
        let name = call.signature.name;
        let kind = call.signature.result.kind(first_arg, |code| self.env.codes.named(code));
        match kind {
            Ok(kind) => Some(kind),
            Err(NoResultType::NotListable(kind)) => {
                let found = self.kind_name(kind);
                self.error(
                    codes::TYPE_MISMATCH,
                    format!("`{name}` cannot list {found} values"),
                    call.args[0].span,
                    format!("this is {found}"),
                );
                None
            }
            Err(NoResultType::CodeNotInScope(code)) => {
                self.error(
                    codes::UNKNOWN_TYPE,
                    format!("`{name}` returns a `{code}`, but no `{code}` code is in scope"),
                    call.callee.span,
                    format!("needs {code}"),
                )
                .help = Some("add `use etr.codes`".into());
                None
            }
            Err(NoResultType::NoArgument) => {
                self.table_bug(call.callee.span, &format!("`{name}` takes its result type from an argument it lacks"));
                None
            }
        }
    }

    /// Reports a built-in whose table entry contradicts itself (its result rule and its
    /// parameters, say): a bug in `crate::builtins`, which its tests rule out, never a mistake in
    /// the spec. Reported rather than ignored, so that no call lowers to nothing silently.
    pub(crate) fn table_bug(&mut self, span: Span, what: &str) {
        let message = format!("internal error: {what}; this is a bug in etr, please report it");
        self.report.push(Diagnostic::error(codes::UNKNOWN_FUNCTION, message, self.report.file, span, "internal"));
    }
}

/// The help for a data argument of the wrong kind.
fn argument_help(signature: &Signature, found: TypeKind) -> Option<String> {
    match found {
        TypeKind::Text if !signature.text_help.is_empty() => Some(signature.text_help.to_owned()),
        TypeKind::Code(_) => Some("a code is not text; compare it with `==` instead".into()),
        _ => None,
    }
}

impl Checker<'_> {
    /// E401 on the `else` of a call to a function that cannot fail: every hook of such a
    /// function calls this, so none accepts an `else` it would never use.
    pub(crate) fn refuse_needless_handler(&mut self, call: &Call<'_>) {
        if let Some((handler, _)) = call.handler {
            self.error(
                codes::NEEDLESS_HANDLER,
                format!("`{}` cannot fail, so it needs no `else`", call.callee.text),
                handler_span(handler),
                "never used",
            )
            .help = Some("remove the `else` handler".into());
        }
    }
}
