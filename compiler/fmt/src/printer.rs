//! From the syntax tree to layout: the style of `etr fmt`, construct by construct.
//!
//! The printer walks the tree in source order and gets every token through the [`Cursor`], which
//! brings the comments along (see `cursor.rs`). It only decides *where lines may break*; the
//! renderer in `doc.rs` decides where they do. The style itself is described for analysts in
//! `docs/language.md`, section "Formatting"; in short:
//!
//! - blocks whose members are statements (`source`, `map`, rule bodies, `record`, documented
//!   `code` members) always have one member per line;
//! - lists of short things (`columns`, code-table entries, `[...]`, `require`) stay on one line
//!   when they fit and otherwise fill lines;
//! - a `map` aligns the `=` of consecutive assignments (a blank line starts a new alignment run);
//! - long expressions break before binary operators, then inside call arguments; an expression
//!   indents its own continuation lines (one level), so a statement adds none;
//! - literals, names and strings are printed exactly as written; optional commas are dropped.

use etr_syntax::ast::{
    self, Assignment, BinaryOp, Clause, ClauseValue, CodeMember, ControlLine, Expr, ExprKind, FieldDecl, Handler,
    Ident, Item, Literal, MatchArm, Pattern, PatternKind, RuleStmt, SourceSetting, Span, TypeArg, TypeExpr, Zone,
};
use etr_syntax::lexer::TokenKind;

use crate::cursor::{Cursor, Gap, InternalError, has_blank_line};
use crate::doc::Doc;

type Printed = Result<Doc, InternalError>;

pub(crate) struct Printer<'a> {
    cursor: Cursor<'a>,
}

impl<'a> Printer<'a> {
    pub(crate) fn new(text: &'a str) -> Printer<'a> {
        Printer { cursor: Cursor::new(text) }
    }

    /// The whole file: its items, one after the other, and the comments after the last one.
    pub(crate) fn file(&mut self, items: &[Item]) -> Printed {
        let mut acc = Vec::new();
        for (i, item) in items.iter().enumerate() {
            acc.push(Doc::EnsureLine);
            acc.push(self.cursor.leading(Gap::Member { first: i == 0 }));
            acc.push(self.item(item)?);
        }
        acc.push(Doc::EnsureLine);
        acc.push(self.cursor.leading(Gap::Member { first: items.is_empty() }));
        self.cursor.expect_end()?;
        Ok(Doc::Concat(acc))
    }

    // ------------------------------------------------------------ items

    fn item(&mut self, item: &Item) -> Printed {
        let doc = self.doc_lines(item.doc())?;
        let body = match item {
            Item::Contributor(it) => Doc::Concat(vec![
                self.keyword("contributor")?,
                self.ident(&it.code)?,
                sp(),
                self.cursor.span(it.name.span.start, it.name.span.end)?,
                sp(),
                self.keyword("layout")?,
                self.cursor.span(it.layout.span.start, it.layout.span.end)?,
            ]),
            Item::Use(it) => {
                let mut acc = vec![self.keyword("use")?];
                for (i, segment) in it.path.segments.iter().enumerate() {
                    if i > 0 {
                        acc.push(self.cursor.token(".")?);
                    }
                    acc.push(self.ident(segment)?);
                }
                Doc::Concat(acc)
            }
            Item::Source(it) => {
                let ast::SourceFormat::Delimited { delimiter, .. } = &it.format;
                Doc::Concat(vec![
                    self.keyword("source")?,
                    self.keyword("delimited")?,
                    self.cursor.span(delimiter.span.start, delimiter.span.end)?,
                    sp(),
                    self.block(&it.settings, Self::source_setting)?,
                ])
            }
            Item::Table(it) => Doc::Concat(vec![
                self.keyword("table")?,
                self.ident(&it.name)?,
                self.cursor.token(":")?,
                sp(),
                self.type_expr(&it.key_ty)?,
                sp(),
                self.cursor.token("->")?,
                sp(),
                self.type_expr(&it.value_ty)?,
                sp(),
                self.list("{", "}", &it.entries, |p, entry| {
                    Ok(Doc::Concat(vec![
                        p.literal(&entry.key)?,
                        sp(),
                        p.cursor.token("=>")?,
                        sp(),
                        p.literal(&entry.value)?,
                    ]))
                })?,
            ]),
            Item::Map(it) => Doc::Concat(vec![
                self.keyword("map")?,
                self.keyword("to")?,
                self.ident(&it.target)?,
                sp(),
                self.assignments(&it.assignments)?,
            ]),
            Item::Let(it) => Doc::Concat(vec![
                self.keyword("let")?,
                self.ident(&it.name)?,
                sp(),
                self.cursor.token("=")?,
                sp(),
                self.expr(&it.value)?,
            ]),
            Item::Rule(it) => {
                let mut acc = vec![
                    self.keyword("rule")?,
                    self.ident(&it.id)?,
                    sp(),
                    self.cursor.span(it.severity_span.start, it.severity_span.end)?,
                    sp(),
                    self.cursor.span(it.message.span.start, it.message.span.end)?,
                ];
                acc.push(self.rule_options(None, it.mostly, &it.zones)?);
                if let Some(body) = &it.body {
                    acc.push(sp());
                    acc.push(self.block(&body.stmts, Self::rule_stmt)?);
                }
                Doc::Concat(acc)
            }
            Item::Override(it) => Doc::Concat(vec![
                self.keyword("override")?,
                self.ident(&it.rule)?,
                self.rule_options(it.severity.map(|(_, span)| span), it.mostly, &it.zones)?,
            ]),
            Item::Record(it) => Doc::Concat(vec![
                self.keyword("record")?,
                self.ident(&it.name)?,
                sp(),
                self.block(&it.fields, |p, field| {
                    // Commas between record fields are optional; one field per line needs none.
                    let field = p.field_decl(field)?;
                    Ok(Doc::Concat(vec![field, p.cursor.optional(",")]))
                })?,
            ]),
            Item::Code(it) => {
                Doc::Concat(vec![self.keyword("code")?, self.ident(&it.name)?, sp(), self.code_members(&it.members)?])
            }
        };
        Ok(Doc::Concat(vec![doc, body]))
    }

    /// The `///` lines of a doc comment, each on its own line.
    fn doc_lines(&mut self, doc: Option<&ast::Doc>) -> Printed {
        let mut acc = Vec::new();
        if let Some(doc) = doc {
            while self.cursor.next_token_offset() < doc.span.end as usize {
                acc.extend([Doc::EnsureLine, self.cursor.doc_line()?, Doc::EnsureLine]);
            }
        }
        Ok(Doc::Concat(acc))
    }

    fn source_setting(&mut self, setting: &SourceSetting) -> Printed {
        Ok(match setting {
            SourceSetting::Quote { quote, .. } => Doc::Concat(vec![
                self.keyword("quote")?,
                match quote {
                    ast::Quote::None(_) => self.cursor.token("none")?,
                    ast::Quote::Char(it) => self.cursor.span(it.span.start, it.span.end)?,
                },
            ]),
            SourceSetting::Encoding { name, handler, .. } => Doc::Concat(vec![
                self.keyword("encoding")?,
                self.cursor.span(name.span.start, name.span.end)?,
                self.optional_handler(handler.as_ref())?,
            ]),
            SourceSetting::Header(line) => self.control_line("header", line)?,
            SourceSetting::Trailer(line) => self.control_line("trailer", line)?,
            SourceSetting::Columns { columns, handler, .. } => Doc::Concat(vec![
                self.keyword("columns")?,
                self.list("{", "}", columns, |p, column| p.ident(column))?,
                self.optional_handler(handler.as_ref())?,
            ]),
        })
    }

    fn control_line(&mut self, keyword: &str, line: &ControlLine) -> Printed {
        Ok(Doc::Concat(vec![
            self.keyword(keyword)?,
            self.cursor.span(line.prefix.span.start, line.prefix.span.end)?,
            sp(),
            self.separated("{", "}", &line.fields, Self::field_decl)?,
        ]))
    }

    fn field_decl(&mut self, field: &FieldDecl) -> Printed {
        Ok(Doc::Concat(vec![
            self.doc_lines(field.doc.as_ref())?,
            self.ident(&field.name)?,
            self.cursor.token(":")?,
            sp(),
            self.type_expr(&field.ty)?,
        ]))
    }

    fn type_expr(&mut self, ty: &TypeExpr) -> Printed {
        let mut acc = vec![self.ident(&ty.name)?];
        if !ty.args.is_empty() {
            acc.push(self.cursor.token("(")?);
            for (i, arg) in ty.args.iter().enumerate() {
                if i > 0 {
                    acc.push(self.cursor.token(",")?);
                    acc.push(sp());
                }
                acc.push(match arg {
                    TypeArg::Ident(it) => self.ident(it)?,
                    TypeArg::String(it) => self.cursor.span(it.span.start, it.span.end)?,
                });
            }
            acc.push(self.cursor.optional(","));
            acc.push(self.cursor.token(")")?);
        }
        Ok(Doc::Concat(acc))
    }

    /// Assignments of a `map`, with the `=` of each run of consecutive lines aligned.
    fn assignments(&mut self, assignments: &[Assignment]) -> Printed {
        let text = self.cursor.text();
        let mut widths = vec![0; assignments.len()];
        let mut run_start = 0;
        for i in 0..=assignments.len() {
            let run_ends = i == assignments.len()
                || (i > 0
                    && has_blank_line(&text[assignments[i - 1].span.end as usize..assignments[i].span.start as usize]));
            if run_ends {
                let run = &assignments[run_start..i];
                let width = run.iter().map(|it| it.field.text.chars().count()).max().unwrap_or(0);
                widths[run_start..i].fill(width);
                run_start = i;
            }
        }
        let mut index = 0;
        self.block(assignments, |p, assignment| {
            let width = widths[index];
            index += 1;
            let padding = width.saturating_sub(assignment.field.text.chars().count());
            Ok(Doc::Concat(vec![
                p.ident(&assignment.field)?,
                Doc::text(" ".repeat(padding + 1)),
                p.cursor.token("=")?,
                sp(),
                p.expr(&assignment.value)?,
            ]))
        })
    }

    /// `mostly`, zones and (for an override) the severity, in the order they were written.
    fn rule_options(&mut self, severity: Option<Span>, mostly: Option<(u64, Span)>, zones: &[Zone]) -> Printed {
        enum RuleOption {
            Severity(Span),
            Mostly(Span),
            Zone,
        }
        let mut options: Vec<(u32, RuleOption)> = zones.iter().map(|it| (it.span.start, RuleOption::Zone)).collect();
        if let Some(span) = severity {
            options.push((span.start, RuleOption::Severity(span)));
        }
        if let Some((_, span)) = mostly {
            options.push((span.start, RuleOption::Mostly(span)));
        }
        options.sort_by_key(|(start, _)| *start);
        let mut acc = Vec::new();
        for (_, option) in options {
            acc.push(sp());
            acc.push(match option {
                RuleOption::Severity(span) => self.cursor.span(span.start, span.end)?,
                RuleOption::Mostly(span) => {
                    Doc::Concat(vec![self.keyword("mostly")?, self.cursor.span(span.start, span.end)?])
                }
                RuleOption::Zone => Doc::Concat(vec![
                    self.cursor.token_of_kind("a severity", |kind| kind == TokenKind::Keyword)?,
                    sp(),
                    self.keyword("above")?,
                    self.cursor
                        .token_of_kind("a number", |kind| matches!(kind, TokenKind::Int | TokenKind::Decimal))?,
                    self.cursor.token("%")?,
                ]),
            });
        }
        Ok(Doc::Concat(acc))
    }

    /// A rule statement, whatever its kind: its words, then each clause by what it holds. The rest
    /// of a statement that starts with names (`require`, `unique`, `increasing`) is indented, so
    /// that a list too long for its line continues one level in; one that starts with an
    /// expression (`check`, `when`) is not, since the expression indents its own continuation.
    fn rule_stmt(&mut self, stmt: &RuleStmt) -> Printed {
        let mut acc = Vec::new();
        for word in &stmt.words {
            acc.push(self.keyword(&word.text)?);
        }
        let mut rest = Vec::new();
        for clause in &stmt.clauses {
            if let Some(lead) = &clause.lead {
                if !rest.is_empty() {
                    rest.push(sp());
                }
                rest.push(self.keyword(&lead.text)?);
            }
            rest.push(match &clause.value {
                ClauseValue::Expr(expr) => self.expr(expr)?,
                ClauseValue::Names(names) => self.idents_fill(names)?,
                ClauseValue::Label(label) => self.cursor.span(label.span.start, label.span.end)?,
            });
        }
        match stmt.clauses.first() {
            Some(Clause { lead: None, value: ClauseValue::Expr(_) }) => acc.push(Doc::Concat(rest)),
            _ => acc.push(Doc::indent(rest)),
        }
        Ok(Doc::Concat(acc))
    }

    /// `a, b, c` filling lines, for the names of a rule statement (`require`, `unique`, `per`).
    fn idents_fill(&mut self, idents: &[Ident]) -> Printed {
        let mut items = Vec::new();
        for (i, ident) in idents.iter().enumerate() {
            let mut item = vec![self.ident(ident)?];
            if i + 1 < idents.len() {
                item.push(self.cursor.token(",")?);
            }
            items.push(Doc::Concat(item));
        }
        Ok(Doc::Fill(items))
    }

    /// Code members: a filled list, or one member per line when any of them is documented.
    fn code_members(&mut self, members: &[CodeMember]) -> Printed {
        if members.iter().all(|it| it.doc.is_none()) {
            return self
                .list("{", "}", members, |p, member| p.cursor.span(member.value.span.start, member.value.span.end));
        }
        let last = members.len() - 1;
        let mut index = 0;
        self.block(members, |p, member| {
            let mut acc =
                vec![p.doc_lines(member.doc.as_ref())?, p.cursor.span(member.value.span.start, member.value.span.end)?];
            acc.push(if index < last { p.cursor.token(",")? } else { p.cursor.optional(",") });
            index += 1;
            Ok(Doc::Concat(acc))
        })
    }

    // ------------------------------------------------------------ blocks and lists

    /// `{ ... }` with one member per line; comments and single blank lines between members kept.
    fn block<T>(&mut self, members: &[T], mut member: impl FnMut(&mut Self, &T) -> Printed) -> Printed {
        let open = self.cursor.token("{")?;
        if members.is_empty() && !self.cursor.comments_ahead() {
            return Ok(Doc::Concat(vec![open, self.cursor.token("}")?]));
        }
        let mut inner = Vec::new();
        for (i, it) in members.iter().enumerate() {
            inner.push(Doc::EnsureLine);
            inner.push(self.cursor.leading(Gap::Member { first: i == 0 }));
            inner.push(member(self, it)?);
        }
        inner.push(Doc::EnsureLine);
        inner.push(self.cursor.leading(Gap::Member { first: members.is_empty() }));
        Ok(Doc::Concat(vec![open, Doc::indent(inner), Doc::EnsureLine, self.cursor.token("}")?]))
    }

    /// `{ a, b }` on one line when it fits, else filling lines between the brackets. The comma
    /// stays with the item before it, so a line never starts with one.
    fn list<T>(
        &mut self,
        open: &str,
        close: &str,
        items: &[T],
        mut item: impl FnMut(&mut Self, &T) -> Printed,
    ) -> Printed {
        let open_doc = self.cursor.token(open)?;
        if items.is_empty() && !self.cursor.comments_ahead() {
            return Ok(Doc::Concat(vec![open_doc, self.cursor.token(close)?]));
        }
        let spaced = open == "{";
        let line = || if spaced { Doc::Line } else { Doc::SoftLine };
        let mut fill = Vec::new();
        for (i, it) in items.iter().enumerate() {
            let mut entry = vec![item(self, it)?];
            entry.push(if i + 1 < items.len() { self.cursor.token(",")? } else { self.cursor.optional(",") });
            fill.push(Doc::Concat(entry));
        }
        let before_close = self.cursor.leading(Gap::Inline);
        Ok(Doc::group(vec![
            open_doc,
            Doc::indent(vec![line(), Doc::Fill(fill), before_close]),
            line(),
            self.cursor.token(close)?,
        ]))
    }

    /// `{ a: text, b: int }` on one line when it fits, else one item per line.
    fn separated<T>(
        &mut self,
        open: &str,
        close: &str,
        items: &[T],
        mut item: impl FnMut(&mut Self, &T) -> Printed,
    ) -> Printed {
        let open_doc = self.cursor.token(open)?;
        if items.is_empty() && !self.cursor.comments_ahead() {
            return Ok(Doc::Concat(vec![open_doc, self.cursor.token(close)?]));
        }
        let spaced = open == "{";
        let line = || if spaced { Doc::Line } else { Doc::SoftLine };
        let mut inner = vec![line()];
        for (i, it) in items.iter().enumerate() {
            if i > 0 {
                inner.push(self.cursor.token(",")?);
                inner.push(Doc::Line);
            }
            inner.push(item(self, it)?);
        }
        inner.push(self.cursor.optional(","));
        inner.push(self.cursor.leading(Gap::Inline));
        Ok(Doc::group(vec![open_doc, Doc::indent(inner), line(), self.cursor.token(close)?]))
    }

    // ------------------------------------------------------------ expressions

    /// Any expression. Each kind has its own method, which keeps this recursive function's stack
    /// frame small; chains that nest one level per link (`a.f().g()`, `- - x`, `x else a else b`)
    /// are walked in a loop, so only brackets and sub-expressions cost recursion.
    fn expr(&mut self, expr: &Expr) -> Printed {
        etr_syntax::ensure_sufficient_stack(|| match &expr.kind {
            ExprKind::Literal(_) => self.cursor.span(expr.span.start, expr.span.end),
            ExprKind::Name(it) => self.ident(it),
            ExprKind::List(items) => self.literal_list(items),
            ExprKind::Call { callee, args } => self.call(callee, args),
            ExprKind::MethodCall { .. } | ExprKind::Field { .. } | ExprKind::Index { .. } | ExprKind::Else { .. } => {
                self.suffix_chain(expr)
            }
            ExprKind::Unary { .. } => self.prefix_chain(expr),
            ExprKind::Binary { .. } => self.binary_chain(expr),
            ExprKind::In { value, negated, list, .. } => self.in_test(value, *negated, list),
            ExprKind::IsNull { value, negated } => self.null_test(value, *negated),
            ExprKind::If { condition, then_branch, else_branch } => self.if_expr(condition, then_branch, else_branch),
            ExprKind::Match { scrutinee, arms } => self.match_expr(scrutinee, arms),
            ExprKind::Paren(inner) => self.paren(inner),
        })
    }

    fn call(&mut self, callee: &Ident, args: &[Expr]) -> Printed {
        Ok(Doc::Concat(vec![self.ident(callee)?, self.args(args)?]))
    }

    /// `base.method(args).field[index] else handler`, links in source order.
    fn suffix_chain(&mut self, expr: &Expr) -> Printed {
        enum Suffix<'e> {
            Method(&'e Ident, &'e [Expr]),
            Field(&'e Ident),
            Index(&'e Expr),
            Else(&'e Handler),
        }
        let mut suffixes = Vec::new();
        let mut base = expr;
        loop {
            let (inner, suffix) = match &base.kind {
                ExprKind::MethodCall { receiver, method, args } => (receiver, Suffix::Method(method, args)),
                ExprKind::Field { base, field } => (base, Suffix::Field(field)),
                ExprKind::Index { base, index } => (base, Suffix::Index(index)),
                ExprKind::Else { value, handler } => (value, Suffix::Else(handler)),
                _ => break,
            };
            suffixes.push(suffix);
            base = inner;
        }
        let mut acc = vec![self.expr(base)?];
        for suffix in suffixes.into_iter().rev() {
            match suffix {
                Suffix::Method(method, args) => {
                    acc.extend([self.cursor.token(".")?, self.ident(method)?, self.args(args)?]);
                }
                Suffix::Field(field) => acc.extend([self.cursor.token(".")?, self.ident(field)?]),
                Suffix::Index(index) => {
                    acc.extend([self.cursor.token("[")?, self.expr(index)?, self.cursor.token("]")?]);
                }
                Suffix::Else(handler) => acc.push(self.handler(handler)?),
            }
        }
        Ok(Doc::Concat(acc))
    }

    /// `- x`, `not not x`: the operators, then the operand.
    fn prefix_chain(&mut self, expr: &Expr) -> Printed {
        let mut acc = Vec::new();
        let mut operand = expr;
        while let ExprKind::Unary { op, operand: inner, .. } = &operand.kind {
            acc.push(match op {
                ast::UnaryOp::Neg => self.cursor.token("-")?,
                ast::UnaryOp::Not => self.keyword("not")?,
            });
            operand = inner;
        }
        acc.push(self.expr(operand)?);
        Ok(Doc::Concat(acc))
    }

    fn in_test(&mut self, value: &Expr, negated: bool, list: &[Literal]) -> Printed {
        let mut acc = vec![self.expr(value)?, sp()];
        if negated {
            acc.push(self.keyword("not")?);
        }
        acc.extend([self.keyword("in")?, self.literal_list(list)?]);
        Ok(Doc::Concat(acc))
    }

    fn null_test(&mut self, value: &Expr, negated: bool) -> Printed {
        let mut acc = vec![self.expr(value)?, sp(), self.keyword("is")?];
        if negated {
            acc.push(self.keyword("not")?);
        }
        acc.push(self.cursor.token("null")?);
        Ok(Doc::Concat(acc))
    }

    /// `if c then a else b`: on one line, or `then` and `else` each on their own line.
    fn if_expr(&mut self, condition: &Expr, then_branch: &Expr, else_branch: &Expr) -> Printed {
        let head = vec![self.keyword("if")?, self.expr(condition)?];
        let then_part = vec![Doc::Line, self.keyword("then")?, self.expr(then_branch)?];
        let else_part = vec![Doc::Line, self.keyword("else")?, self.expr(else_branch)?];
        Ok(Doc::group(vec![Doc::Concat(head), Doc::indent(vec![Doc::Concat(then_part), Doc::Concat(else_part)])]))
    }

    fn match_expr(&mut self, scrutinee: &Expr, arms: &[MatchArm]) -> Printed {
        let head = vec![self.keyword("match")?, self.expr(scrutinee)?, sp()];
        let body = self.separated("{", "}", arms, Self::match_arm)?;
        Ok(Doc::Concat(vec![Doc::Concat(head), body]))
    }

    fn paren(&mut self, inner: &Expr) -> Printed {
        Ok(Doc::Concat(vec![self.cursor.token("(")?, self.expr(inner)?, self.cursor.token(")")?]))
    }

    /// A run of operators of one precedence level (`a + b - c`): on one line, or broken before
    /// every operator of the run.
    fn binary_chain(&mut self, expr: &Expr) -> Printed {
        let ExprKind::Binary { op, .. } = &expr.kind else {
            return self.expr(expr);
        };
        let level = precedence(*op);
        let mut operators = Vec::new();
        let mut operands = Vec::new();
        let mut current = expr;
        while let ExprKind::Binary { op, lhs, rhs, .. } = &current.kind
            && precedence(*op) == level
        {
            operators.push(*op);
            operands.push(&**rhs);
            current = lhs;
        }
        operands.push(current);
        operators.reverse();
        operands.reverse();

        // The first operand is inside the indentation too, so that when an operand breaks in
        // turn, its own continuation lines sit deeper than this chain's operators.
        let mut chain = vec![self.expr(operands[0])?];
        for (op, operand) in operators.iter().zip(&operands[1..]) {
            chain.extend([Doc::Line, self.cursor.token(op.as_str())?, sp(), self.expr(operand)?]);
        }
        Ok(Doc::group(vec![Doc::indent(chain)]))
    }

    fn match_arm(&mut self, arm: &MatchArm) -> Printed {
        Ok(Doc::Concat(vec![self.pattern(&arm.pattern)?, sp(), self.cursor.token("=>")?, sp(), self.expr(&arm.body)?]))
    }

    fn pattern(&mut self, pattern: &Pattern) -> Printed {
        Ok(match &pattern.kind {
            PatternKind::Literal(_) => self.literal_at(pattern.span)?,
            PatternKind::Range { lo, hi } => {
                Doc::Concat(vec![self.literal(lo)?, self.cursor.token("..=")?, self.literal(hi)?])
            }
            PatternKind::Wildcard => self.cursor.token("_")?,
            PatternKind::Or(alternatives) => {
                let mut acc = Vec::new();
                for (i, alternative) in alternatives.iter().enumerate() {
                    if i > 0 {
                        acc.extend([sp(), self.cursor.token("|")?, sp()]);
                    }
                    acc.push(self.pattern(alternative)?);
                }
                Doc::Concat(acc)
            }
        })
    }

    fn handler(&mut self, handler: &Handler) -> Printed {
        let mut acc = vec![sp(), self.keyword("else")?];
        acc.push(match handler {
            Handler::Reject { rule, .. } => Doc::Concat(vec![self.keyword("reject")?, self.ident(rule)?]),
            Handler::Fail { rule, .. } => Doc::Concat(vec![self.keyword("fail")?, self.ident(rule)?]),
            Handler::Value(value) => self.expr(value)?,
        });
        Ok(Doc::Concat(acc))
    }

    fn optional_handler(&mut self, handler: Option<&Handler>) -> Printed {
        match handler {
            Some(handler) => self.handler(handler),
            None => Ok(Doc::Concat(Vec::new())),
        }
    }

    fn args(&mut self, args: &[Expr]) -> Printed {
        self.separated("(", ")", args, Self::expr)
    }

    fn literal_list(&mut self, items: &[Literal]) -> Printed {
        self.list("[", "]", items, Self::literal)
    }

    // ------------------------------------------------------------ tokens

    /// A keyword followed by a space.
    fn keyword(&mut self, keyword: &str) -> Printed {
        Ok(Doc::Concat(vec![self.cursor.token(keyword)?, sp()]))
    }

    fn ident(&mut self, ident: &Ident) -> Printed {
        self.cursor.span(ident.span.start, ident.span.end)
    }

    fn literal(&mut self, literal: &Literal) -> Printed {
        self.literal_at(literal.span)
    }

    /// A literal as written, except that a minus sign is joined to its number (`- 5` is `-5`).
    fn literal_at(&mut self, span: Span) -> Printed {
        let starts_negative = self.cursor.text().as_bytes().get(span.start as usize) == Some(&b'-');
        if !starts_negative {
            return self.cursor.span(span.start, span.end);
        }
        let minus = self.cursor.token("-")?;
        let number = self.cursor.span(self.cursor.next_token_offset() as u32, span.end)?;
        Ok(Doc::Concat(vec![minus, number]))
    }
}

fn sp() -> Doc {
    Doc::text(" ")
}

/// Operators of one level chain without parentheses (`a + b - c`); comparisons never chain.
fn precedence(op: BinaryOp) -> u8 {
    match op {
        BinaryOp::Or => 0,
        BinaryOp::And => 1,
        BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => 2,
        BinaryOp::Add | BinaryOp::Sub => 3,
        BinaryOp::Mul | BinaryOp::Div | BinaryOp::Rem => 4,
        BinaryOp::Coalesce => 5,
    }
}
