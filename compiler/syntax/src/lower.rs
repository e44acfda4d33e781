//! Turning pest's untyped pairs for one item into the typed AST.
//!
//! The grammar has already accepted the item, so the shape of the pairs is
//! known and a mismatch is a bug in this file, not in the input. What can
//! still be wrong with accepted text is checked here: integers that overflow,
//! bad `\u{..}` escapes, money with more than two decimals, a second `when`,
//! and expressions nested too deeply. Most of these are "soft" errors that
//! keep the item; only the depth limit drops it.

use pest::iterators::Pair;

use crate::SyntaxError;
use crate::ast::*;
use crate::parser::Rule;

/// The deepest expression tree the parser builds.
///
/// Later passes (and `Drop`) walk expressions recursively; bounding the depth
/// here means none of them has to worry about the stack. Real specs stay
/// under 20; the limit also covers left-leaning chains like `a + b + c ...`.
pub(crate) const MAX_EXPR_DEPTH: u32 = 256;

pub(crate) struct Lowerer {
    /// Offset of the region in the file; pest positions are region-relative.
    offset: usize,
    /// Errors that do not invalidate the item.
    pub(crate) errors: Vec<SyntaxError>,
    /// The region-relative end of every token, sorted.
    ///
    /// pest makes a rule's span run over the whitespace and comments after
    /// its last token (it skips trivia before trying an optional repetition
    /// that then fails), so node spans are cut back to their last token.
    token_ends: Vec<usize>,
}

/// A built expression and the depth of its tree.
type Built = (Expr, u32);

/// Lowering failed in a way that drops the whole item.
type Fatal = SyntaxError;

impl Lowerer {
    /// A lowerer for the tokens under `pair`, a region starting at `offset`.
    pub(crate) fn new(offset: usize, pair: &Pair<'_, Rule>) -> Lowerer {
        // Every terminal of the grammar is a named atomic rule, so the pairs
        // without children are exactly the tokens.
        let mut token_ends: Vec<usize> = pair
            .clone()
            .into_inner()
            .flatten()
            .filter(|it| it.as_rule() != Rule::EOI && it.clone().into_inner().next().is_none())
            .map(|it| it.as_span().end())
            .collect();
        token_ends.sort_unstable();
        Lowerer { offset, errors: Vec::new(), token_ends }
    }

    fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let it = pair.as_span();
        let last_token = self.token_ends.partition_point(|end| *end <= it.end());
        let end = match last_token.checked_sub(1) {
            Some(i) => self.token_ends[i].max(it.start()),
            None => it.start(),
        };
        self.span_of(it.start(), end)
    }

    /// Reports `///` lines after an item: they document nothing.
    pub(crate) fn dangling_doc(&mut self, pair: &Pair<'_, Rule>) {
        let span = self.span(pair);
        self.soft_error(
            span,
            "this doc comment documents nothing: a `///` comment must come right before \
             an item, a record field or a code member; use `//` for other comments",
        );
    }

    fn span_of(&self, start: usize, end: usize) -> Span {
        // `parse_file` refuses texts longer than u32::MAX, so this cannot truncate.
        Span { start: (self.offset + start) as u32, end: (self.offset + end) as u32 }
    }

    fn soft_error(&mut self, span: Span, message: impl Into<String>) {
        self.errors.push(SyntaxError { span, message: message.into(), expected: Vec::new() });
    }

    // ------------------------------------------------------------ items

    /// Lowers an `item` pair.
    pub(crate) fn item(&mut self, pair: Pair<'_, Rule>) -> Result<Item, Fatal> {
        let mut docs = Vec::new();
        let mut body = None;
        for child in pair.into_inner() {
            match child.as_rule() {
                Rule::doc_line => docs.push(child),
                _ => body = Some(child),
            }
        }
        let doc = self.doc(&docs);
        let body = body.expect("grammar: an item has a body");
        let span = self.span(&body);
        let rule = body.as_rule();
        let mut it = Children::new(body);
        let item = match rule {
            Rule::contributor_item => {
                it.skip_keyword(Rule::kw_contributor);
                Item::Contributor(Contributor {
                    doc,
                    code: self.ident(it.pop()),
                    name: self.string(it.pop()),
                    layout: {
                        it.skip_keyword(Rule::kw_layout);
                        self.int(it.pop())
                    },
                    span,
                })
            }
            Rule::use_item => {
                it.skip_keyword(Rule::kw_use);
                let path = it.pop();
                Item::Use(Use {
                    doc,
                    path: ModulePath {
                        span: self.span(&path),
                        segments: Children::new(path).map(|seg| self.ident(seg)).collect(),
                    },
                    span,
                })
            }
            Rule::source_item => {
                it.skip_keyword(Rule::kw_source);
                let format = it.pop();
                let format_span = self.span(&format);
                let mut format = Children::new(format);
                format.skip_keyword(Rule::kw_delimited);
                let delimiter = self.string(format.pop());
                let settings = it.map(|setting| self.source_setting(setting)).collect::<Result<_, Fatal>>()?;
                Item::Source(Source {
                    doc,
                    format: SourceFormat::Delimited { delimiter, span: format_span },
                    settings,
                    span,
                })
            }
            Rule::table_item => {
                it.skip_keyword(Rule::kw_table);
                Item::Table(Table {
                    doc,
                    name: self.ident(it.pop()),
                    key_ty: self.type_expr(it.pop()),
                    value_ty: self.type_expr(it.pop()),
                    entries: it.map(|entry| self.table_entry(entry)).collect(),
                    span,
                })
            }
            Rule::map_item => {
                it.skip_keyword(Rule::kw_map);
                it.skip_keyword(Rule::kw_to);
                let target = self.ident(it.pop());
                let assignments = it
                    .map(|assignment| {
                        let span = self.span(&assignment);
                        let mut it = Children::new(assignment);
                        let field = self.ident(it.pop());
                        let (value, _) = self.expr(it.pop())?;
                        Ok(Assignment { field, value, span })
                    })
                    .collect::<Result<_, Fatal>>()?;
                Item::Map(Map { doc, target, assignments, span })
            }
            Rule::let_item => {
                it.skip_keyword(Rule::kw_let);
                Item::Let(Let { doc, name: self.ident(it.pop()), value: self.expr(it.pop())?.0, span })
            }
            Rule::rule_item => Item::Rule(self.rule(doc, span, it)?),
            Rule::override_item => {
                it.skip_keyword(Rule::kw_override);
                let rule = self.ident(it.pop());
                let (mut severity, mut mostly, mut zones) = (None, None, Vec::new());
                for option in it {
                    match option.as_rule() {
                        Rule::severity => {
                            let span = self.span(&option);
                            if severity.is_some() {
                                self.soft_error(span, "an override sets the severity at most once");
                            }
                            severity = Some((severity_of(option.as_str()), span));
                        }
                        Rule::rule_mostly => {
                            if mostly.is_some() {
                                let span = self.span(&option);
                                self.soft_error(span, "an override has at most one `mostly`");
                            }
                            mostly = Some(self.mostly(option));
                        }
                        _ => zones.push(self.zone(option)),
                    }
                }
                Item::Override(crate::ast::Override { doc, rule, severity, mostly, zones, span })
            }
            Rule::record_item => {
                it.skip_keyword(Rule::kw_record);
                Item::Record(Record {
                    doc,
                    name: self.ident(it.pop()),
                    fields: it.map(|field| self.field_decl(field)).collect(),
                    span,
                })
            }
            Rule::code_item => {
                it.skip_keyword(Rule::kw_code);
                let name = self.ident(it.pop());
                let members = it
                    .map(|member| {
                        let span = self.span(&member);
                        let (docs, rest): (Vec<_>, Vec<_>) =
                            member.into_inner().partition(|it| it.as_rule() == Rule::doc_line);
                        let value = rest.into_iter().next().expect("grammar: member string");
                        CodeMember { doc: self.doc(&docs), value: self.string(value), span }
                    })
                    .collect();
                Item::Code(Code { doc, name, members, span })
            }
            other => unreachable!("grammar: unexpected item rule {other:?}"),
        };
        Ok(item)
    }

    fn doc(&self, lines: &[Pair<'_, Rule>]) -> Option<Doc> {
        let (first, last) = (lines.first()?, lines.last()?);
        let text = lines
            .iter()
            .map(|line| {
                let text = line.as_str().trim_end_matches('\r');
                let text = &text["///".len()..];
                text.strip_prefix(' ').unwrap_or(text)
            })
            .collect::<Vec<_>>()
            .join("\n");
        Some(Doc { text, span: self.span_of(first.as_span().start(), last.as_span().end()) })
    }

    fn source_setting(&mut self, pair: Pair<'_, Rule>) -> Result<SourceSetting, Fatal> {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        let mut it = Children::new(pair);
        it.pop(); // The setting keyword.
        let setting = match rule {
            Rule::quote_setting => {
                let quote = it.pop();
                let quote = match quote.as_rule() {
                    Rule::kw_none => Quote::None(self.span(&quote)),
                    _ => Quote::Char(self.string(quote)),
                };
                SourceSetting::Quote { quote, span }
            }
            Rule::encoding_setting => SourceSetting::Encoding {
                name: self.string(it.pop()),
                handler: match it.next_if(Rule::else_handler) {
                    Some(handler) => Some(self.else_handler(handler)?.0),
                    None => None,
                },
                span,
            },
            Rule::header_setting | Rule::trailer_setting => {
                let line = ControlLine {
                    prefix: self.string(it.pop()),
                    fields: it.map(|field| self.field_decl(field)).collect(),
                    span,
                };
                if rule == Rule::header_setting { SourceSetting::Header(line) } else { SourceSetting::Trailer(line) }
            }
            Rule::columns_setting => {
                let mut columns = Vec::new();
                let mut handler = None;
                for child in it {
                    match child.as_rule() {
                        Rule::ident => columns.push(self.ident(child)),
                        _ => handler = Some(self.else_handler(child)?.0),
                    }
                }
                SourceSetting::Columns { columns, handler, span }
            }
            other => unreachable!("grammar: unexpected source setting {other:?}"),
        };
        Ok(setting)
    }

    fn field_decl(&mut self, pair: Pair<'_, Rule>) -> FieldDecl {
        let span = self.span(&pair);
        let (docs, rest): (Vec<_>, Vec<_>) =
            pair.into_inner().filter(|it| !is_punctuation(it.as_rule())).partition(|it| it.as_rule() == Rule::doc_line);
        let mut rest = rest.into_iter();
        let name = self.ident(rest.next().expect("grammar: field name"));
        let ty = self.type_expr(rest.next().expect("grammar: field type"));
        FieldDecl { doc: self.doc(&docs), name, ty, span }
    }

    fn type_expr(&mut self, pair: Pair<'_, Rule>) -> TypeExpr {
        let span = self.span(&pair);
        let mut it = Children::new(pair);
        let name = self.ident(it.pop());
        let args = it
            .map(|arg| match arg.as_rule() {
                Rule::ident => TypeArg::Ident(self.ident(arg)),
                _ => TypeArg::String(self.string(arg)),
            })
            .collect();
        TypeExpr { name, args, span }
    }

    fn table_entry(&mut self, pair: Pair<'_, Rule>) -> TableEntry {
        let span = self.span(&pair);
        let mut it = Children::new(pair);
        TableEntry { key: self.literal(it.pop()), value: self.literal(it.pop()), span }
    }

    fn rule(&mut self, doc: Option<Doc>, span: Span, mut it: Children<'_>) -> Result<crate::ast::Rule, Fatal> {
        it.skip_keyword(Rule::kw_rule);
        let id = self.ident(it.pop());
        let severity_pair = it.pop();
        let severity = severity_of(severity_pair.as_str());
        let severity_span = self.span(&severity_pair);
        let message = self.string(it.pop());
        let mut mostly = None;
        let mut zones = Vec::new();
        while let Some(option) = it.next_if(Rule::rule_mostly).or_else(|| it.next_if(Rule::rule_zone)) {
            if option.as_rule() == Rule::rule_mostly {
                if mostly.is_some() {
                    let span = self.span(&option);
                    self.soft_error(span, "a rule has at most one `mostly`");
                }
                mostly = Some(self.mostly(option));
            } else {
                zones.push(self.zone(option));
            }
        }
        let body = match it.next_if(Rule::rule_body) {
            Some(body) => Some(self.rule_body(body)?),
            None => None,
        };
        Ok(crate::ast::Rule { doc, id, severity, severity_span, message, mostly, zones, body, span })
    }

    fn rule_body(&mut self, pair: Pair<'_, Rule>) -> Result<RuleBody, Fatal> {
        let span = self.span(&pair);
        let mut stmts = Vec::new();
        let mut seen_when = false;
        for stmt in Children::new(pair) {
            let stmt = self.rule_stmt(stmt)?;
            if stmt.kind == StmtKind::When {
                if seen_when {
                    self.soft_error(stmt.span, "a rule has at most one `when`: combine the conditions with `and`");
                }
                seen_when = true;
            }
            stmts.push(stmt);
        }
        Ok(RuleBody { stmts, span })
    }

    /// A rule statement, whatever its kind: the words that start it, then its clauses. A clause
    /// starts at a keyword or `=` (or right after the statement's words) and holds what the
    /// grammar put there: an expression, a label, or names, which commas continue. Nothing here
    /// knows a kind of statement but [`StmtKind::of_words`].
    fn rule_stmt(&mut self, pair: Pair<'_, Rule>) -> Result<RuleStmt, Fatal> {
        let span = self.span(&pair);
        let mut children = pair.into_inner();
        let head = children.next().expect("grammar: a statement starts with its words");
        let words = self.words(&head);
        let texts: Vec<&str> = words.iter().map(|word| word.text.as_str()).collect();
        let kind = StmtKind::of_words(&texts).unwrap_or_else(|| unreachable!("grammar: {texts:?} start no statement"));
        let mut clauses: Vec<Clause> = Vec::new();
        let mut lead = None;
        let mut after_comma = false;
        for child in children {
            let value = match child.as_rule() {
                Rule::comma => {
                    after_comma = true;
                    continue;
                }
                Rule::expr => ClauseValue::Expr(self.expr(child)?.0),
                Rule::string => ClauseValue::Label(self.string(child)),
                Rule::ident => {
                    let name = self.ident(child);
                    if std::mem::take(&mut after_comma) {
                        match clauses.last_mut() {
                            Some(Clause { value: ClauseValue::Names(names), .. }) => names.push(name),
                            _ => unreachable!("grammar: a comma after something else than a name"),
                        }
                        continue;
                    }
                    ClauseValue::Names(vec![name])
                }
                // A keyword or `=`: the start of the next clause.
                _ => {
                    lead = Some(Word { text: child.as_str().to_owned(), span: self.span(&child) });
                    continue;
                }
            };
            clauses.push(Clause { lead: lead.take(), value });
        }
        debug_assert!(lead.is_none(), "grammar: a statement ends with a clause's word");
        Ok(RuleStmt { kind, words, clauses, span })
    }

    /// The words of a keyword token: `strictly increasing` is one token of two words.
    fn words(&self, pair: &Pair<'_, Rule>) -> Vec<Word> {
        let start = pair.as_span().start();
        let mut acc = Vec::new();
        let mut at = start;
        // The grammar separates the words of a token by spaces and tabs only.
        for word in pair.as_str().split([' ', '\t']) {
            if !word.is_empty() {
                acc.push(Word { text: word.to_owned(), span: self.span_of(at, at + word.len()) });
            }
            at += word.len() + 1;
        }
        acc
    }

    // ------------------------------------------------------------ tokens

    fn ident(&self, pair: Pair<'_, Rule>) -> Ident {
        debug_assert_eq!(pair.as_rule(), Rule::ident);
        Ident { text: pair.as_str().to_owned(), span: self.span(&pair) }
    }

    fn string(&mut self, pair: Pair<'_, Rule>) -> StringLit {
        debug_assert_eq!(pair.as_rule(), Rule::string);
        let span = self.span(&pair);
        let raw = pair.as_str();
        let body = &raw[1..raw.len() - 1];
        let mut value = String::with_capacity(body.len());
        let mut chars = body.char_indices();
        while let Some((at, c)) = chars.next() {
            if c != '\\' {
                value.push(c);
                continue;
            }
            match chars.next().map(|(_, c)| c) {
                Some('n') => value.push('\n'),
                Some('t') => value.push('\t'),
                Some('u') => {
                    // The grammar guarantees `{`, 1 to 6 hex digits and `}`.
                    let rest = &body[at + 2..];
                    let close = rest.find('}').unwrap_or(rest.len());
                    let hex = &rest[1.min(rest.len())..close];
                    match u32::from_str_radix(hex, 16).ok().and_then(char::from_u32) {
                        Some(decoded) => value.push(decoded),
                        None => {
                            let start = pair.as_span().start() + 1 + at;
                            let escape_span = self.span_of(start, start + 2 + close + 1);
                            self.soft_error(escape_span, format!("`\\u{{{hex}}}` is not a Unicode character"));
                            value.push(char::REPLACEMENT_CHARACTER);
                        }
                    }
                    // Past the `{`, the digits and the `}` (all ASCII: one char per byte).
                    for _ in 0..=close {
                        chars.next();
                    }
                }
                Some(other) => value.push(other),
                None => {}
            }
        }
        StringLit { value, span }
    }

    fn int(&mut self, pair: Pair<'_, Rule>) -> IntLit {
        debug_assert_eq!(pair.as_rule(), Rule::int);
        let span = self.span(&pair);
        let digits: String = pair.as_str().chars().filter(|c| *c != '_').collect();
        let value = digits.parse::<i64>().unwrap_or_else(|_| {
            self.soft_error(span, "this integer is too large (the largest is 9223372036854775807)");
            0
        });
        IntLit { value, span }
    }

    /// Money in sen. `RM12.5` is 1250; a third decimal is an error because
    /// amounts are exact sen, never rounded.
    fn money(&mut self, pair: Pair<'_, Rule>) -> i64 {
        debug_assert_eq!(pair.as_rule(), Rule::money);
        let span = self.span(&pair);
        let text: String = pair.as_str()["RM".len()..].chars().filter(|c| *c != '_').collect();
        let (whole, frac) = text.split_once('.').unwrap_or((&text, ""));
        if frac.len() > 2 {
            self.soft_error(span, "a money amount has at most two decimals (sen), such as `RM12.50`");
        }
        let frac_sen = match frac.len() {
            0 => 0,
            1 => frac.parse::<i64>().unwrap_or(0) * 10,
            _ => frac[..2].parse::<i64>().unwrap_or(0),
        };
        let sen = whole
            .parse::<i64>()
            .ok()
            .and_then(|whole| whole.checked_mul(100))
            .and_then(|sen| sen.checked_add(frac_sen));
        sen.unwrap_or_else(|| {
            self.soft_error(span, "this money amount is too large");
            0
        })
    }

    /// `mostly X`: the value's `f64` bits and span.
    fn mostly(&mut self, pair: Pair<'_, Rule>) -> (u64, Span) {
        let mut inner = Children::new(pair);
        inner.skip_keyword(Rule::kw_mostly);
        let value = inner.pop();
        let span = self.span(&value);
        let number = match value.as_rule() {
            Rule::int => self.int(value).value as f64,
            _ => self.number(value),
        };
        (number.to_bits(), span)
    }

    /// `SEVERITY above P%`.
    fn zone(&mut self, pair: Pair<'_, Rule>) -> crate::ast::Zone {
        let span = self.span(&pair);
        let mut inner = Children::new(pair);
        let severity = severity_of(inner.pop().as_str());
        inner.skip_keyword(Rule::kw_above);
        let value = inner.pop();
        let percent = match value.as_rule() {
            Rule::int => self.int(value).value as f64,
            _ => self.number(value),
        };
        crate::ast::Zone { severity, percent: percent.to_bits(), span }
    }

    /// A decimal number; one too large for an `f64` is an error.
    fn number(&mut self, pair: Pair<'_, Rule>) -> f64 {
        debug_assert_eq!(pair.as_rule(), Rule::number);
        let span = self.span(&pair);
        match pair.as_str().parse::<f64>() {
            Ok(value) if value.is_finite() => value,
            _ => {
                self.soft_error(span, "this number is too large");
                0.0
            }
        }
    }

    fn literal(&mut self, pair: Pair<'_, Rule>) -> Literal {
        debug_assert_eq!(pair.as_rule(), Rule::literal);
        let span = self.span(&pair);
        let mut negate = false;
        let mut value = LitValue::Null;
        for child in pair.into_inner() {
            value = match child.as_rule() {
                Rule::neg_op => {
                    negate = true;
                    continue;
                }
                Rule::int => LitValue::Int(self.int(child).value),
                Rule::money => LitValue::Money(self.money(child)),
                Rule::number => LitValue::Number(self.number(child).to_bits()),
                Rule::string => LitValue::String(self.string(child).value),
                Rule::kw_true => LitValue::Bool(true),
                Rule::kw_false => LitValue::Bool(false),
                _ => LitValue::Null,
            };
        }
        if negate {
            value = match value {
                LitValue::Int(it) => LitValue::Int(-it),
                LitValue::Money(it) => LitValue::Money(-it),
                LitValue::Number(bits) => LitValue::Number((-f64::from_bits(bits)).to_bits()),
                other => other,
            };
        }
        Literal { value, span }
    }

    // ------------------------------------------------------------ expressions

    fn node(&self, kind: ExprKind, span: Span, depth: u32) -> Result<Built, Fatal> {
        if depth > MAX_EXPR_DEPTH {
            return Err(SyntaxError {
                span,
                message: format!(
                    "this expression is nested too deeply or is too long \
                     (more than {MAX_EXPR_DEPTH} levels): split it with `let`"
                ),
                expected: Vec::new(),
            });
        }
        Ok((Expr { kind, span }, depth))
    }

    /// Lowers any expression-level pair.
    pub(crate) fn expr(&mut self, pair: Pair<'_, Rule>) -> Result<Built, Fatal> {
        match pair.as_rule() {
            Rule::expr | Rule::expr_nh => self.binary_chain(pair, |_| BinaryOp::Or),
            Rule::and_expr | Rule::and_nh => self.binary_chain(pair, |_| BinaryOp::And),
            Rule::add_expr | Rule::add_nh => self.binary_chain(pair, |op| match op {
                "+" => BinaryOp::Add,
                _ => BinaryOp::Sub,
            }),
            Rule::mul_expr | Rule::mul_nh => self.binary_chain(pair, |op| match op {
                "*" => BinaryOp::Mul,
                "/" => BinaryOp::Div,
                _ => BinaryOp::Rem,
            }),
            Rule::coalesce_expr | Rule::coalesce_nh => self.binary_chain(pair, |_| BinaryOp::Coalesce),
            Rule::not_expr | Rule::not_nh | Rule::unary_expr | Rule::unary_nh => self.prefixed(pair),
            Rule::handler_value => self.prefixed(pair),
            Rule::cmp_expr | Rule::cmp_nh => self.comparison(pair),
            Rule::postfix_expr | Rule::postfix_nh => self.postfix(pair),
            _ => self.primary(pair),
        }
    }

    /// `operand (op operand)*`, folded to the left.
    fn binary_chain(&mut self, pair: Pair<'_, Rule>, op_of: impl Fn(&str) -> BinaryOp) -> Result<Built, Fatal> {
        let mut it = pair.into_inner();
        let (mut lhs, mut depth) = self.expr(it.next().expect("grammar: operand"))?;
        while let Some(op) = it.next() {
            let (rhs, rhs_depth) = self.expr(it.next().expect("grammar: operand"))?;
            let span = Span { start: lhs.span.start, end: rhs.span.end };
            let kind = ExprKind::Binary {
                op: op_of(op.as_str()),
                op_span: self.span(&op),
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
            };
            (lhs, depth) = self.node(kind, span, depth.max(rhs_depth) + 1)?;
        }
        Ok((lhs, depth))
    }

    /// Prefix operators (`not`, `-`) around an operand, which in `unary_expr`
    /// may carry `else` handlers. Handlers bind tighter than the prefix:
    /// `-x else 0` is `-(x else 0)`.
    fn prefixed(&mut self, pair: Pair<'_, Rule>) -> Result<Built, Fatal> {
        let mut ops = Vec::new();
        let mut operand = None;
        for child in pair.into_inner() {
            match child.as_rule() {
                Rule::kw_not => ops.push((UnaryOp::Not, self.span(&child))),
                Rule::neg_op => ops.push((UnaryOp::Neg, self.span(&child))),
                Rule::else_handler => {
                    let (value, depth): Built = operand.take().expect("grammar: handled operand");
                    let (handler, handler_depth) = self.else_handler(child)?;
                    let span = Span { start: value.span.start, end: handler_span(&handler).end };
                    let kind = ExprKind::Else { value: Box::new(value), handler };
                    operand = Some(self.node(kind, span, depth.max(handler_depth) + 1)?);
                }
                _ => operand = Some(self.expr(child)?),
            }
        }
        let (mut expr, mut depth) = operand.expect("grammar: prefixed operand");
        for (op, op_span) in ops.into_iter().rev() {
            let span = Span { start: op_span.start, end: expr.span.end };
            let kind = ExprKind::Unary { op, op_span, operand: Box::new(expr) };
            (expr, depth) = self.node(kind, span, depth + 1)?;
        }
        Ok((expr, depth))
    }

    /// Lowers an `else_handler` pair; the depth is that of a value handler.
    fn else_handler(&mut self, pair: Pair<'_, Rule>) -> Result<(Handler, u32), Fatal> {
        let mut it = Children::new(pair);
        it.skip_keyword(Rule::handler_else);
        let handler = it.pop();
        let span = self.span(&handler);
        Ok(match handler.as_rule() {
            Rule::reject_handler | Rule::fail_handler => {
                let rule = handler.as_rule();
                let mut it = Children::new(handler);
                it.pop(); // `reject` or `fail`.
                let id = self.ident(it.pop());
                let handler = if rule == Rule::reject_handler {
                    Handler::Reject { rule: id, span }
                } else {
                    Handler::Fail { rule: id, span }
                };
                (handler, 0)
            }
            _ => {
                let (value, depth) = self.expr(handler)?;
                (Handler::Value(Box::new(value)), depth)
            }
        })
    }

    fn comparison(&mut self, pair: Pair<'_, Rule>) -> Result<Built, Fatal> {
        let span = self.span(&pair);
        let mut it = pair.into_inner();
        let (lhs, depth) = self.expr(it.next().expect("grammar: comparison operand"))?;
        let Some(tail) = it.next() else {
            return Ok((lhs, depth));
        };
        let value = Box::new(lhs);
        match tail.as_rule() {
            Rule::compare | Rule::compare_nh => {
                let mut it = tail.into_inner();
                let op = it.next().expect("grammar: comparison operator");
                let (rhs, rhs_depth) = self.expr(it.next().expect("grammar: comparison rhs"))?;
                let kind = ExprKind::Binary {
                    op: match op.as_str() {
                        "==" => BinaryOp::Eq,
                        "!=" => BinaryOp::Ne,
                        "<" => BinaryOp::Lt,
                        "<=" => BinaryOp::Le,
                        ">" => BinaryOp::Gt,
                        _ => BinaryOp::Ge,
                    },
                    op_span: self.span(&op),
                    lhs: value,
                    rhs: Box::new(rhs),
                };
                self.node(kind, span, depth.max(rhs_depth) + 1)
            }
            Rule::in_test => {
                let mut negated = false;
                let mut list = Vec::new();
                let mut list_span = span;
                for child in tail.into_inner() {
                    match child.as_rule() {
                        Rule::kw_not => negated = true,
                        Rule::literal_list => {
                            list_span = self.span(&child);
                            list = Children::new(child).map(|lit| self.literal(lit)).collect();
                        }
                        _ => {}
                    }
                }
                let kind = ExprKind::In { value, negated, list, list_span };
                self.node(kind, span, depth + 1)
            }
            _ => {
                let negated = tail.into_inner().any(|it| it.as_rule() == Rule::kw_not);
                self.node(ExprKind::IsNull { value, negated }, span, depth + 1)
            }
        }
    }

    fn postfix(&mut self, pair: Pair<'_, Rule>) -> Result<Built, Fatal> {
        let mut it = pair.into_inner();
        let (mut expr, mut depth) = self.expr(it.next().expect("grammar: postfix operand"))?;
        for op in it {
            let op_end = self.span(&op).end;
            let rule = op.as_rule();
            let mut children = Children::new(op);
            let mut max_depth = depth;
            let kind = match rule {
                Rule::method_call => {
                    let method = self.ident(children.pop());
                    let args = self.args(children.pop(), &mut max_depth)?;
                    ExprKind::MethodCall { receiver: Box::new(expr), method, args }
                }
                Rule::field_access => ExprKind::Field { base: Box::new(expr), field: self.ident(children.pop()) },
                _ => {
                    let (index, index_depth) = self.expr(children.pop())?;
                    max_depth = max_depth.max(index_depth);
                    ExprKind::Index { base: Box::new(expr), index: Box::new(index) }
                }
            };
            let span = Span { start: expr_start(&kind), end: op_end };
            (expr, depth) = self.node(kind, span, max_depth + 1)?;
        }
        Ok((expr, depth))
    }

    fn args(&mut self, pair: Pair<'_, Rule>, max_depth: &mut u32) -> Result<Vec<Expr>, Fatal> {
        debug_assert_eq!(pair.as_rule(), Rule::args);
        Children::new(pair)
            .map(|arg| {
                let (arg, depth) = self.expr(arg)?;
                *max_depth = (*max_depth).max(depth);
                Ok(arg)
            })
            .collect()
    }

    fn primary(&mut self, pair: Pair<'_, Rule>) -> Result<Built, Fatal> {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        match rule {
            Rule::money => {
                let sen = self.money(pair);
                self.node(ExprKind::Literal(LitValue::Money(sen)), span, 1)
            }
            Rule::int => {
                let value = self.int(pair).value;
                self.node(ExprKind::Literal(LitValue::Int(value)), span, 1)
            }
            Rule::number => {
                let value = self.number(pair);
                self.node(ExprKind::Literal(LitValue::Number(value.to_bits())), span, 1)
            }
            Rule::literal_list => {
                let items = Children::new(pair).map(|lit| self.literal(lit)).collect();
                self.node(ExprKind::List(items), span, 1)
            }
            Rule::string => {
                let value = self.string(pair).value;
                self.node(ExprKind::Literal(LitValue::String(value)), span, 1)
            }
            Rule::kw_true => self.node(ExprKind::Literal(LitValue::Bool(true)), span, 1),
            Rule::kw_false => self.node(ExprKind::Literal(LitValue::Bool(false)), span, 1),
            Rule::kw_null => self.node(ExprKind::Literal(LitValue::Null), span, 1),
            Rule::ident => {
                let name = self.ident(pair);
                self.node(ExprKind::Name(name), span, 1)
            }
            Rule::call => {
                let mut it = Children::new(pair);
                let callee = self.ident(it.pop());
                let mut depth = 0;
                let args = self.args(it.pop(), &mut depth)?;
                self.node(ExprKind::Call { callee, args }, span, depth + 1)
            }
            Rule::paren => {
                let (inner, depth) = self.expr(Children::new(pair).pop())?;
                self.node(ExprKind::Paren(Box::new(inner)), span, depth + 1)
            }
            Rule::if_expr | Rule::if_nh => {
                let mut it = Children::new(pair);
                it.skip_keyword(Rule::kw_if);
                let (condition, d1) = self.expr(it.pop())?;
                it.skip_keyword(Rule::kw_then);
                let (then_branch, d2) = self.expr(it.pop())?;
                it.skip_keyword(Rule::kw_else);
                let (else_branch, d3) = self.expr(it.pop())?;
                let kind = ExprKind::If {
                    condition: Box::new(condition),
                    then_branch: Box::new(then_branch),
                    else_branch: Box::new(else_branch),
                };
                self.node(kind, span, d1.max(d2).max(d3) + 1)
            }
            Rule::match_expr => {
                let mut it = Children::new(pair);
                it.skip_keyword(Rule::kw_match);
                let (scrutinee, mut depth) = self.expr(it.pop())?;
                let mut arms = Vec::new();
                for arm in it {
                    let arm_span = self.span(&arm);
                    let mut arm_it = Children::new(arm);
                    let pattern = self.pattern(arm_it.pop());
                    let (body, body_depth) = self.expr(arm_it.pop())?;
                    depth = depth.max(body_depth);
                    arms.push(MatchArm { pattern, body, span: arm_span });
                }
                let kind = ExprKind::Match { scrutinee: Box::new(scrutinee), arms };
                self.node(kind, span, depth + 1)
            }
            other => unreachable!("grammar: unexpected expression rule {other:?}"),
        }
    }

    fn pattern(&mut self, pair: Pair<'_, Rule>) -> Pattern {
        let span = self.span(&pair);
        let mut alts: Vec<Pattern> = Children::new(pair)
            .map(|alt| {
                let span = self.span(&alt);
                let kind = match alt.as_rule() {
                    Rule::wildcard => PatternKind::Wildcard,
                    Rule::range_pattern => {
                        let mut it = Children::new(alt);
                        PatternKind::Range { lo: self.literal(it.pop()), hi: self.literal(it.pop()) }
                    }
                    _ => PatternKind::Literal(self.literal(alt).value),
                };
                Pattern { kind, span }
            })
            .collect();
        if alts.len() == 1 {
            return alts.pop().expect("one alternative");
        }
        Pattern { kind: PatternKind::Or(alts), span }
    }
}

fn handler_span(handler: &Handler) -> Span {
    match handler {
        Handler::Reject { span, .. } | Handler::Fail { span, .. } => *span,
        Handler::Value(it) => it.span,
    }
}

/// The start of a postfix expression: the start of its base.
fn expr_start(kind: &ExprKind) -> u32 {
    match kind {
        ExprKind::MethodCall { receiver: base, .. } | ExprKind::Field { base, .. } | ExprKind::Index { base, .. } => {
            base.span.start
        }
        _ => 0,
    }
}

/// Punctuation rules exist only to get good error messages; they carry no
/// information once the item has parsed.
fn is_punctuation(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::lbrace
            | Rule::rbrace
            | Rule::lparen
            | Rule::rparen
            | Rule::lbracket
            | Rule::rbracket
            | Rule::comma
            | Rule::colon
            | Rule::dot
            | Rule::pipe
            | Rule::eq
            | Rule::fat_arrow
            | Rule::thin_arrow
            | Rule::range_op
    )
}

/// The children of a pair without punctuation, with helpers that state what
/// the grammar guarantees.
struct Children<'i> {
    inner: std::iter::Peekable<pest::iterators::Pairs<'i, Rule>>,
}

impl<'i> Children<'i> {
    fn new(pair: Pair<'i, Rule>) -> Children<'i> {
        Children { inner: pair.into_inner().peekable() }
    }

    fn skip_punctuation(&mut self) {
        while self.inner.peek().is_some_and(|it| is_punctuation(it.as_rule())) {
            self.inner.next();
        }
    }

    /// The next child, which the grammar guarantees.
    fn pop(&mut self) -> Pair<'i, Rule> {
        self.next_opt().expect("grammar: missing child")
    }

    fn next_opt(&mut self) -> Option<Pair<'i, Rule>> {
        self.skip_punctuation();
        self.inner.next()
    }

    /// The next child if it is a `rule`.
    fn next_if(&mut self, rule: Rule) -> Option<Pair<'i, Rule>> {
        self.skip_punctuation();
        self.inner.next_if(|it| it.as_rule() == rule)
    }

    /// Skips a keyword the grammar guarantees at this point.
    fn skip_keyword(&mut self, rule: Rule) {
        let skipped = self.next_if(rule);
        debug_assert!(skipped.is_some(), "grammar: expected {rule:?}");
    }
}

impl<'i> Iterator for Children<'i> {
    type Item = Pair<'i, Rule>;

    fn next(&mut self) -> Option<Pair<'i, Rule>> {
        self.next_opt()
    }
}

/// A severity keyword (the grammar only lets the four through).
fn severity_of(word: &str) -> Severity {
    match word {
        "fatal" => Severity::Fatal,
        "reject" => Severity::Reject,
        "warn" => Severity::Warn,
        _ => Severity::Info,
    }
}
