//! Expressions: names, literals, operators, `if`, `match`, lists and their types.
//!
//! [`Checker::infer_expecting`] is the one entry: every recursion over an expression comes
//! through it, for the stack guard and to record each expression's type for the IDE. Calls go to
//! `calls`, handlers and lookups to `fallibility`.
//!
//! Boundary: it resolves names through the frozen declarations, the source's names and the
//! mapping's lets and fields; it builds no binding or check itself.

use etr_ir as ir;
use etr_ir::{Type, TypeKind};
use etr_syntax::ast::{self, Span};

use super::{Checker, Ctx, ExprType, Scope, conversion_help};
use crate::codes;
use crate::suggest::did_you_mean;

impl<'a> Checker<'a> {
    pub(crate) fn infer(&mut self, expr: &ast::Expr, ctx: Ctx<'_>) -> Option<ir::Expr> {
        self.infer_expecting(expr, ctx, None)
    }

    /// Infers an expression's type. `expected` lets string literals become code members and is
    /// otherwise only a hint: the caller still checks the result.
    ///
    /// Every recursion of the checker over an expression comes through here (and so does the
    /// check of a `let` that another reads first): one stack guard per level.
    pub(crate) fn infer_expecting(
        &mut self,
        expr: &ast::Expr,
        ctx: Ctx<'_>,
        expected: Option<TypeKind>,
    ) -> Option<ir::Expr> {
        etr_syntax::ensure_sufficient_stack(|| {
            let inferred = self.infer_kind(expr, ctx, expected);
            if let Some(it) = &inferred
                && self.report.file == self.own_path
            {
                let ty = format!("{}{}", self.env.codes.type_label(it.ty.kind), if it.ty.nullable { "?" } else { "" });
                self.expr_types.push(ExprType { span: expr.span, ty });
            }
            inferred
        })
    }

    /// The inference proper, one case per expression kind; `infer_expecting` wraps it to record
    /// each typed expression of the checked file.
    fn infer_kind(&mut self, expr: &ast::Expr, ctx: Ctx<'_>, expected: Option<TypeKind>) -> Option<ir::Expr> {
        use ast::ExprKind as K;
        match &expr.kind {
            K::Paren(inner) => self.infer_expecting(inner, ctx, expected),
            K::List(items) => self.list_literal(items, expected, expr.span),
            K::Literal(value) => {
                let lit = ast::Literal { value: value.clone(), span: expr.span };
                let kind = match (value, expected) {
                    (ast::LitValue::String(_), Some(TypeKind::Code(c))) => TypeKind::Code(c),
                    (ast::LitValue::String(_), _) => TypeKind::Text,
                    (ast::LitValue::Int(_), _) => TypeKind::Int,
                    (ast::LitValue::Money(_), _) => TypeKind::Money,
                    (ast::LitValue::Number(_), _) => TypeKind::Number,
                    (ast::LitValue::Bool(_), _) => TypeKind::Bool,
                    (ast::LitValue::Null, _) => TypeKind::Null,
                };
                let literal = self.literal_as(&lit, kind)?;
                Some(literal_expr(literal, kind))
            }
            K::Name(ident) => self.name(ident, ctx),
            K::Field { base, field } => self.line_field(base, field, ctx, expr.span),
            K::Call { callee, args } => self.call(callee, args, ctx, expr.span, None),
            K::MethodCall { receiver, method, args } => {
                let mut all = Vec::with_capacity(args.len() + 1);
                all.push((**receiver).clone());
                all.extend(args.iter().cloned());
                self.call(method, &all, ctx, expr.span, None)
            }
            K::Index { base, index } => self.lookup(base, index, ctx, expr.span, None),
            K::Else { value, handler } => self.handled(value, handler, ctx, expected),
            K::Unary { op, operand, .. } => {
                let operand = self.infer(operand, ctx)?;
                let (op, ok) = match op {
                    ast::UnaryOp::Neg => (
                        ir::UnaryOp::Neg,
                        matches!(operand.ty.kind, TypeKind::Int | TypeKind::Money | TypeKind::Number),
                    ),
                    ast::UnaryOp::Not => (ir::UnaryOp::Not, matches!(operand.ty.kind, TypeKind::Bool)),
                };
                if !ok {
                    let found = self.kind_name(operand.ty.kind);
                    let what = if op == ir::UnaryOp::Neg { "a number or money" } else { "true or false" };
                    self.error(
                        codes::TYPE_MISMATCH,
                        format!("expected {what}, found {found}"),
                        expr.span,
                        format!("this is {found}"),
                    );
                    return None;
                }
                let ty = operand.ty;
                Some(ir::Expr { kind: ir::ExprKind::Unary(op, Box::new(operand)), ty })
            }
            K::Binary { op, op_span, lhs, rhs } => self.binary(*op, *op_span, lhs, rhs, ctx, expected),
            K::In { value, negated, list, .. } => {
                let operand = self.infer(value, ctx)?;
                let kind = operand.ty.kind;
                let mut lits = Vec::new();
                for lit in list {
                    lits.push(self.literal_as(lit, kind)?);
                }
                let ty = Type::new(TypeKind::Bool, operand.ty.nullable);
                Some(ir::Expr {
                    kind: ir::ExprKind::InList { operand: Box::new(operand), list: lits, negated: *negated },
                    ty,
                })
            }
            K::IsNull { value, negated } => {
                let operand = self.infer(value, ctx)?;
                Some(ir::Expr {
                    kind: ir::ExprKind::IsNull { operand: Box::new(operand), negated: *negated },
                    ty: Type::non_null(TypeKind::Bool),
                })
            }
            K::If { condition, then_branch, else_branch } => {
                let condition_ir = self.infer(condition, ctx)?;
                let condition_ir = self.expect_bool(condition_ir, condition.span, "an `if` condition")?;
                let then_ir = self.infer_expecting(then_branch, ctx, expected);
                let else_ir = self.infer_expecting(else_branch, ctx, expected.or(then_ir.as_ref().map(|e| e.ty.kind)));
                let (then_ir, else_ir) = (then_ir?, else_ir?);
                let kind = self.unify(then_ir.ty.kind, else_ir.ty.kind, else_branch.span, "the `else` branch")?;
                let ty = Type::new(kind, then_ir.ty.nullable || else_ir.ty.nullable);
                Some(ir::Expr {
                    kind: ir::ExprKind::If {
                        condition: Box::new(condition_ir),
                        then_branch: Box::new(then_ir),
                        else_branch: Box::new(else_ir),
                    },
                    ty,
                })
            }
            K::Match { scrutinee, arms } => self.match_expr(scrutinee, arms, ctx, expected),
        }
    }

    fn name(&mut self, ident: &ast::Ident, ctx: Ctx<'_>) -> Option<ir::Expr> {
        let name = ident.text.as_str();
        if ctx.scope == Scope::Row {
            if let Some(idx) = self.let_local(name) {
                let idx = idx?; // an error in the let was reported there
                let ty = self.mapping.locals[idx].ty;
                return Some(ir::Expr { kind: ir::ExprKind::Local(idx), ty });
            }
            if let Some(&idx) = self.mapping.field_index.get(name) {
                let ty = self.mapping.record.as_ref().expect("fields imply a record").fields[idx].ty;
                return Some(ir::Expr { kind: ir::ExprKind::Field(idx), ty });
            }
        }
        if ctx.scope != Scope::File
            && let Some(&idx) = self.source.column_index.get(name)
        {
            return Some(ir::Expr { kind: ir::ExprKind::Column(idx), ty: Type::nullable(TypeKind::Text) });
        }
        let is_row_name = self.env.lets.contains_key(name) || self.mapping.field_index.contains_key(name);
        if ctx.scope == Scope::Aggregate && is_row_name {
            self.error(
                codes::SCOPE,
                format!("`{name}` is a mapped value, but an aggregate runs over every line, malformed ones too"),
                ident.span,
                "not available in an aggregate",
            )
            .help =
                Some("aggregate the source columns instead, e.g. `sum(parse_money(COLUMN, ringgit) else null)`".into());
            return None;
        }
        if ctx.scope == Scope::File && (is_row_name || self.source.column_index.contains_key(name)) {
            self.error(
                codes::SCOPE,
                format!("`{name}` is a per-line value, but this check is about the whole file"),
                ident.span,
                "per-line value in a file check",
            )
            .help = Some("use an aggregate such as `count()` or `sum(...)`, or header./trailer. fields".into());
            return None;
        }
        let mut candidates: Vec<&str> = Vec::new();
        if ctx.scope == Scope::Row {
            candidates.extend(self.env.lets.keys().map(|s| s.as_str()));
            candidates.extend(self.mapping.field_index.keys().map(|s| s.as_str()));
        }
        candidates.extend(self.source.columns.iter().map(|s| s.as_str()));
        candidates.sort_unstable();
        let help = did_you_mean(name, candidates.iter().copied());
        let what =
            if ctx.scope == Scope::Row { "a column, a field of the record or a `let` value" } else { "a column" };
        self.error(codes::UNKNOWN_NAME, format!("`{name}` is not {what}"), ident.span, "unknown name").help = help;
        None
    }

    fn line_field(&mut self, base: &ast::Expr, field: &ast::Ident, ctx: Ctx<'_>, span: Span) -> Option<ir::Expr> {
        let ast::ExprKind::Name(base_name) = &base.kind else {
            self.error(
                codes::UNKNOWN_NAME,
                "only `header.FIELD` and `trailer.FIELD` can be read with a dot",
                span,
                "not a header or trailer field",
            )
            .help = Some("to call a function on a value, write `value.function()` with parentheses".into());
            return None;
        };
        let (line, is_header) = match base_name.text.as_str() {
            "header" => (self.source.header.clone(), true),
            "trailer" => (self.source.trailer.clone(), false),
            other => {
                self.error(
                    codes::UNKNOWN_NAME,
                    format!("`{other}.{}` is not a header or trailer field", field.text),
                    span,
                    "unknown",
                )
                .help = Some(format!("to call a function, write `{other}.{}()`", field.text));
                return None;
            }
        };
        if ctx.scope != Scope::File {
            self.error(
                codes::SCOPE,
                format!("`{}.{}` is a file value, not available per line", base_name.text, field.text),
                span,
                "file value in a row expression",
            );
            return None;
        }
        let Some(line) = line else {
            self.error(
                codes::UNKNOWN_NAME,
                format!("the source declares no {}", base_name.text),
                base_name.span,
                "not declared",
            )
            .help = Some(format!("declare it in the source: `{} \"PREFIX\" {{ name: type, ... }}`", base_name.text));
            return None;
        };
        let Some(pos) = line.fields.iter().position(|f| f.name == field.text) else {
            let help = did_you_mean(&field.text, line.fields.iter().map(|f| f.name.as_str()));
            self.error(
                codes::UNKNOWN_NAME,
                format!("the {} has no field `{}`", base_name.text, field.text),
                field.span,
                "unknown field",
            )
            .help = help;
            return None;
        };
        let ty = line.fields[pos].ty.value_type();
        let kind =
            if is_header { ir::ExprKind::HeaderField(pos as u32) } else { ir::ExprKind::TrailerField(pos as u32) };
        Some(ir::Expr { kind, ty })
    }

    fn binary(
        &mut self,
        op: ast::BinaryOp,
        op_span: Span,
        lhs: &ast::Expr,
        rhs: &ast::Expr,
        ctx: Ctx<'_>,
        expected: Option<TypeKind>,
    ) -> Option<ir::Expr> {
        use ast::BinaryOp as B;
        if op == B::Coalesce {
            let lhs_ir = self.infer_expecting(lhs, ctx, expected);
            let rhs_ir = self.infer_expecting(rhs, ctx, expected.or(lhs_ir.as_ref().map(|e| e.ty.kind)));
            let (mut lhs_ir, mut rhs_ir) = (lhs_ir?, rhs_ir?);
            match (lhs_ir.ty.kind, rhs_ir.ty.kind) {
                (TypeKind::Int, TypeKind::Number) => lhs_ir = int_to_number(lhs_ir),
                (TypeKind::Number, TypeKind::Int) => rhs_ir = int_to_number(rhs_ir),
                _ => {}
            }
            let kind = self.unify(lhs_ir.ty.kind, rhs_ir.ty.kind, rhs.span, "the fallback")?;
            let ty = Type::new(kind, lhs_ir.ty.nullable && rhs_ir.ty.nullable);
            return Some(ir::Expr { kind: ir::ExprKind::Coalesce(Box::new(lhs_ir), Box::new(rhs_ir)), ty });
        }
        // A string literal on one side of a comparison with a code becomes that code's member.
        let lhs_ir = self.infer(lhs, ctx);
        let rhs_expected = lhs_ir.as_ref().map(|e| e.ty.kind).filter(|k| matches!(k, TypeKind::Code(_)));
        let rhs_ir = self.infer_expecting(rhs, ctx, rhs_expected);
        let (mut lhs_ir, mut rhs_ir) = (lhs_ir?, rhs_ir?);
        if let (TypeKind::Text, TypeKind::Code(c)) = (lhs_ir.ty.kind, rhs_ir.ty.kind)
            && let ast::ExprKind::Literal(ast::LitValue::String(_)) = strip_parens(lhs).kind
        {
            lhs_ir = self.infer_expecting(lhs, ctx, Some(TypeKind::Code(c)))?;
        }
        // An int meeting a number becomes a number (explicitly, in the IR).
        match (lhs_ir.ty.kind, rhs_ir.ty.kind) {
            (TypeKind::Int, TypeKind::Number) => lhs_ir = int_to_number(lhs_ir),
            (TypeKind::Number, TypeKind::Int) => rhs_ir = int_to_number(rhs_ir),
            _ => {}
        }
        let nullable = lhs_ir.ty.nullable || rhs_ir.ty.nullable;
        let (l, r) = (lhs_ir.ty.kind, rhs_ir.ty.kind);
        let (ir_op, result_kind) = match op {
            B::And | B::Or => {
                let ir_op = if op == B::And { ir::BinaryOp::And } else { ir::BinaryOp::Or };
                for (kind, s) in [(l, lhs.span), (r, rhs.span)] {
                    if !matches!(kind, TypeKind::Bool | TypeKind::Null) {
                        let found = self.kind_name(kind);
                        self.error(
                            codes::TYPE_MISMATCH,
                            format!("`{}` needs true or false on both sides, found {found}", op_word(op)),
                            s,
                            format!("this is {found}"),
                        );
                        return None;
                    }
                }
                (ir_op, TypeKind::Bool)
            }
            B::Eq | B::Ne | B::Lt | B::Le | B::Gt | B::Ge => {
                let ir_op = match op {
                    B::Eq => ir::BinaryOp::Eq,
                    B::Ne => ir::BinaryOp::Ne,
                    B::Lt => ir::BinaryOp::Lt,
                    B::Le => ir::BinaryOp::Le,
                    B::Gt => ir::BinaryOp::Gt,
                    _ => ir::BinaryOp::Ge,
                };
                // A code compared with computed text compares the code's member text.
                if let (TypeKind::Code(c), TypeKind::Text) = (l, r) {
                    lhs_ir = self.code_to_text(lhs_ir, c);
                } else if let (TypeKind::Text, TypeKind::Code(c)) = (l, r) {
                    rhs_ir = self.code_to_text(rhs_ir, c);
                }
                let (l, r) = (lhs_ir.ty.kind, rhs_ir.ty.kind);
                if let (TypeKind::Money, TypeKind::Int) | (TypeKind::Int, TypeKind::Money) = (l, r) {
                    let int_side = if l == TypeKind::Int { lhs } else { rhs };
                    if let ast::ExprKind::Literal(ast::LitValue::Int(n)) = strip_parens(int_side).kind {
                        self.error(
                            codes::MONEY_UNIT,
                            "money compared with an integer",
                            int_side.span,
                            "is this ringgit or sen?",
                        )
                        .help = Some(format!("money is exact sen: write the amount in ringgit, `RM{n}`"));
                        return None;
                    }
                }
                let kind = self.unify(l, r, op_span, "the two sides of a comparison")?;
                let ordered = !matches!(ir_op, ir::BinaryOp::Eq | ir::BinaryOp::Ne);
                if ordered && matches!(kind, TypeKind::Code(_) | TypeKind::Bool) {
                    let found = self.kind_name(kind);
                    self.error(
                        codes::TYPE_MISMATCH,
                        format!("{found} values have no order: only `==` and `!=` compare them"),
                        op_span,
                        "no order",
                    );
                    return None;
                }
                (ir_op, TypeKind::Bool)
            }
            B::Add | B::Sub | B::Mul | B::Div | B::Rem => {
                let ir_op = match op {
                    B::Add => ir::BinaryOp::Add,
                    B::Sub => ir::BinaryOp::Sub,
                    B::Mul => ir::BinaryOp::Mul,
                    B::Div => ir::BinaryOp::Div,
                    _ => ir::BinaryOp::Rem,
                };
                use TypeKind::{Int, Money, Null, Number};
                let result = match (ir_op, l, r) {
                    (_, Int, Int) | (_, Int, Null) | (_, Null, Int) => Some(Int),
                    (_, Number, Number) | (_, Number, Null) | (_, Null, Number) => Some(Number),
                    (ir::BinaryOp::Add | ir::BinaryOp::Sub, Money, Money | Null) => Some(Money),
                    (ir::BinaryOp::Add | ir::BinaryOp::Sub, Null, Money) => Some(Money),
                    (ir::BinaryOp::Mul, Money, Int) | (ir::BinaryOp::Mul, Int, Money) => Some(Money),
                    _ => None,
                };
                let Some(result) = result else {
                    let (ln, rn) = (self.kind_name(l), self.kind_name(r));
                    let help = if (l == Money && r == Int) || (l == Int && r == Money) {
                        Some("money and integers do not add up: write money amounts as `RM1.00`".to_string())
                    } else {
                        None
                    };
                    self.error(
                        codes::TYPE_MISMATCH,
                        format!("cannot apply `{}` to {ln} and {rn}", op_word(op)),
                        op_span,
                        format!("{ln} {} {rn}", op_word(op)),
                    )
                    .help = help;
                    return None;
                };
                (ir_op, result)
            }
            B::Coalesce => unreachable!("handled above"),
        };
        Some(ir::Expr {
            kind: ir::ExprKind::Binary(ir_op, Box::new(lhs_ir), Box::new(rhs_ir)),
            ty: Type::new(result_kind, nullable),
        })
    }

    /// A code value as its member text, through a match over the code's members.
    fn code_to_text(&self, expr: ir::Expr, code: ir::CodeTypeIdx) -> ir::Expr {
        let members = &self.env.codes.types[code].members;
        let arms = members
            .iter()
            .enumerate()
            .map(|(i, m)| ir::MatchArm {
                patterns: vec![ir::Pattern::Literal(ir::Literal::Code(code, i as u32))],
                value: literal_expr(ir::Literal::Text(m.clone()), TypeKind::Text),
            })
            .collect();
        let ty = Type::new(TypeKind::Text, expr.ty.nullable);
        ir::Expr { kind: ir::ExprKind::Match { scrutinee: Box::new(expr), arms, default: None }, ty }
    }

    /// Two kinds that must be the same; `null` goes with anything.
    pub(super) fn unify(&mut self, a: TypeKind, b: TypeKind, span: Span, what: &str) -> Option<TypeKind> {
        if a == b || b == TypeKind::Null {
            return Some(a);
        }
        if a == TypeKind::Null {
            return Some(b);
        }
        let (an, bn) = (self.kind_name(a), self.kind_name(b));
        let help = conversion_help(a, b);
        self.error(
            codes::TYPE_MISMATCH,
            format!("{what} must have the same type, but one is {an} and the other {bn}"),
            span,
            format!("this is {bn}"),
        )
        .help = help;
        None
    }

    pub(super) fn compatible(&self, value: TypeKind, target: TypeKind) -> bool {
        value == target || value == TypeKind::Null
    }

    fn match_expr(
        &mut self,
        scrutinee: &ast::Expr,
        arms: &[ast::MatchArm],
        ctx: Ctx<'_>,
        expected: Option<TypeKind>,
    ) -> Option<ir::Expr> {
        let scrutinee_ir = self.infer(scrutinee, ctx)?;
        let kind = scrutinee_ir.ty.kind;
        let mut ir_arms: Vec<ir::MatchArm> = Vec::new();
        let mut default: Option<ir::Expr> = None;
        let mut result_kind = expected.filter(|k| matches!(k, TypeKind::Code(_)));
        let mut result_nullable = false;
        let mut failed = false;
        for arm in arms {
            let value = self.infer_expecting(&arm.body, ctx, result_kind);
            let Some(value) = value else {
                failed = true;
                continue;
            };
            let unified = match result_kind {
                None => Some(value.ty.kind),
                Some(k) => self.unify(k, value.ty.kind, arm.body.span, "the arms of a match"),
            };
            let Some(unified) = unified else {
                failed = true;
                continue;
            };
            result_kind = Some(unified);
            result_nullable |= value.ty.nullable;
            let mut patterns = Vec::new();
            let mut is_default = false;
            self.patterns(&arm.pattern, kind, &mut patterns, &mut is_default, &mut failed);
            if is_default {
                if default.is_some() {
                    self.warning(
                        codes::DUPLICATE,
                        "this arm is never reached: an earlier `_` matches everything",
                        arm.pattern.span,
                        "unreachable",
                    );
                }
                default.get_or_insert(value);
            } else if default.is_some() {
                self.warning(
                    codes::DUPLICATE,
                    "this arm is never reached: an earlier `_` matches everything",
                    arm.pattern.span,
                    "unreachable",
                );
            } else {
                ir_arms.push(ir::MatchArm { patterns, value });
            }
        }
        if failed {
            return None;
        }
        let nullable = result_nullable || default.is_none() || scrutinee_ir.ty.nullable && default.is_none();
        let kind = result_kind.unwrap_or(TypeKind::Null);
        Some(ir::Expr {
            kind: ir::ExprKind::Match {
                scrutinee: Box::new(scrutinee_ir),
                arms: ir_arms,
                default: default.map(Box::new),
            },
            ty: Type::new(kind, nullable),
        })
    }

    fn patterns(
        &mut self,
        pattern: &ast::Pattern,
        kind: TypeKind,
        out: &mut Vec<ir::Pattern>,
        is_default: &mut bool,
        failed: &mut bool,
    ) {
        match &pattern.kind {
            ast::PatternKind::Wildcard => *is_default = true,
            ast::PatternKind::Literal(value) => {
                let lit = ast::Literal { value: value.clone(), span: pattern.span };
                match self.literal_as(&lit, kind) {
                    Some(l) => out.push(ir::Pattern::Literal(l)),
                    None => *failed = true,
                }
            }
            ast::PatternKind::Range { lo, hi } => {
                if !matches!(kind, TypeKind::Int | TypeKind::Money | TypeKind::Number) {
                    let found = self.kind_name(kind);
                    self.error(
                        codes::TYPE_MISMATCH,
                        format!("a range pattern needs a number or money, but the value is {found}"),
                        pattern.span,
                        "range",
                    );
                    *failed = true;
                    return;
                }
                match (self.literal_as(lo, kind), self.literal_as(hi, kind)) {
                    (Some(lo), Some(hi)) => out.push(ir::Pattern::Range(lo, hi)),
                    _ => *failed = true,
                }
            }
            ast::PatternKind::Or(alternatives) => {
                for alternative in alternatives {
                    self.patterns(alternative, kind, out, is_default, failed);
                }
            }
        }
    }

    /// `[a, b, ...]`: constants of one kind (the expected list's, else the first item's), sorted
    /// and without duplicates, so that list functions compare sets.
    pub(super) fn list_literal(
        &mut self,
        items: &[ast::Literal],
        expected: Option<TypeKind>,
        span: Span,
    ) -> Option<ir::Expr> {
        let kind = match expected {
            Some(TypeKind::List(of)) => of.kind(),
            _ => {
                let mut kind = None;
                for item in items {
                    let k = match item.value {
                        ast::LitValue::String(_) => TypeKind::Text,
                        ast::LitValue::Int(_) => TypeKind::Int,
                        ast::LitValue::Number(_) => TypeKind::Number,
                        ast::LitValue::Money(_) => TypeKind::Money,
                        ast::LitValue::Bool(_) => TypeKind::Bool,
                        ast::LitValue::Null => continue,
                    };
                    kind = Some(match (kind, k) {
                        (Some(TypeKind::Int), TypeKind::Number) | (Some(TypeKind::Number), TypeKind::Int) => {
                            TypeKind::Number
                        }
                        (Some(prev), _) => prev,
                        (None, k) => k,
                    });
                }
                kind.unwrap_or(TypeKind::Text)
            }
        };
        let Some(of) = ir::ListOf::of(kind) else {
            self.error(
                codes::TYPE_MISMATCH,
                "a list holds text, numbers, money, dates, months, booleans or codes",
                span,
                "not a list of values",
            );
            return None;
        };
        let mut literals = Vec::with_capacity(items.len());
        for item in items {
            if item.value == ast::LitValue::Null {
                self.error(codes::TYPE_MISMATCH, "a list cannot hold null", item.span, "null");
                return None;
            }
            literals.push(self.literal_as(item, kind)?);
        }
        literals.sort_by(compare_literals);
        literals.dedup();
        Some(ir::Expr { kind: ir::ExprKind::List(literals), ty: Type::non_null(TypeKind::List(of)) })
    }

    pub(crate) fn expect_bool(&mut self, expr: ir::Expr, span: Span, what: &str) -> Option<ir::Expr> {
        if matches!(expr.ty.kind, TypeKind::Bool | TypeKind::Null) {
            return Some(expr);
        }
        let found = self.kind_name(expr.ty.kind);
        self.error(
            codes::TYPE_MISMATCH,
            format!("{what} must be true or false, but this is {found}"),
            span,
            format!("this is {found}"),
        )
        .help = Some("compare it with something, e.g. `x >= RM0` or `x is not null`".into());
        None
    }
}

/// The order of list elements: numbers numerically, text by code point, codes by member order.
fn compare_literals(a: &ir::Literal, b: &ir::Literal) -> std::cmp::Ordering {
    use ir::Literal as L;
    match (a, b) {
        (L::Int(x), L::Int(y)) | (L::Money(x), L::Money(y)) => x.cmp(y),
        (L::Number(x), L::Number(y)) => x.0.total_cmp(&y.0),
        (L::Text(x), L::Text(y)) => x.cmp(y),
        (L::Date(x), L::Date(y)) => x.cmp(y),
        (L::Bool(x), L::Bool(y)) => x.cmp(y),
        (L::Code(_, x), L::Code(_, y)) => x.cmp(y),
        _ => std::cmp::Ordering::Equal,
    }
}

/// An int expression as a number (the compiler's only implicit conversion, made explicit).
pub(crate) fn int_to_number(expr: ir::Expr) -> ir::Expr {
    let ty = Type::new(TypeKind::Number, expr.ty.nullable);
    if let ir::ExprKind::Literal(ir::Literal::Int(i)) = expr.kind {
        return ir::Expr { kind: ir::ExprKind::Literal(ir::Literal::Number(ir::F64(i as f64))), ty };
    }
    ir::Expr { kind: ir::ExprKind::Call { function: ir::Builtin::IntToNumber, args: vec![expr] }, ty }
}

pub(crate) fn literal_expr(literal: ir::Literal, kind: TypeKind) -> ir::Expr {
    let nullable = literal == ir::Literal::Null;
    ir::Expr { kind: ir::ExprKind::Literal(literal), ty: Type::new(kind, nullable) }
}

pub(crate) fn strip_parens(mut expr: &ast::Expr) -> &ast::Expr {
    while let ast::ExprKind::Paren(inner) = &expr.kind {
        expr = inner;
    }
    expr
}

fn op_word(op: ast::BinaryOp) -> &'static str {
    op.as_str()
}
