//! The IR printed as text: what `etr explain` shows and what snapshot tests compare.
//!
//! The format is meant to be read by a person checking what the compiler understood: one binding
//! or check per line, types after a colon, names instead of indices.

use std::fmt::{self, Display, Formatter, Write};

use crate::*;

impl Display for Program {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let c = &self.contributor;
        writeln!(f, "contributor {} {:?} layout {}", c.code, c.name, c.layout)?;
        let s = &self.source;
        match &s.format {
            SourceFormat::Delimited { delimiter, quote } => {
                write!(f, "source delimited {:?}", String::from_utf8_lossy(delimiter))?;
                match quote {
                    Some(q) => write!(f, " quote {:?}", *q as char)?,
                    None => f.write_str(" quote none")?,
                }
            }
        }
        writeln!(f, " encoding {:?}", s.encoding)?;
        if let Some(rule) = s.encoding_rule {
            writeln!(f, "  bad encoding -> reject {}", self.rule_id(rule))?;
        }
        for (kind, line) in [("header", &s.header), ("trailer", &s.trailer)] {
            if let Some(line) = line {
                write!(f, "  {kind} {:?}:", line.prefix)?;
                for field in &line.fields {
                    write!(f, " {}:{:?}", field.name, field.ty)?;
                }
                writeln!(f)?;
            }
        }
        writeln!(f, "  columns {} -> otherwise reject {}", s.columns.len(), self.rule_id(s.field_count_rule))?;
        for table in &self.tables {
            write!(f, "table {} ({} entries):", table.name, table.entries.len())?;
            for (key, value) in &table.entries {
                write!(f, " {}=>{}", self.literal(key), self.literal(value))?;
            }
            writeln!(f)?;
        }
        for rule in &self.rules {
            write!(f, "rule {} {} {:?}", rule.id, rule.severity.as_str(), rule.message)?;
            if let Some(mostly) = rule.mostly {
                write!(f, " mostly {:?}", mostly.0)?;
            }
            writeln!(f)?;
        }
        writeln!(f, "map to {}", self.record.name)?;
        for binding in &self.bindings {
            let (name, ty) = match binding.target {
                Slot::Field(i) => (format!("  {}", self.record.fields[i].name), self.record.fields[i].ty),
                Slot::Local(i) => (format!("  let {}", self.locals[i].name), self.locals[i].ty),
            };
            writeln!(f, "{name}: {} = {}", self.type_name(ty), self.expr(&binding.expr))?;
        }
        for check in &self.row_checks {
            write!(f, "row check {} on {}:", self.rule_id(check.rule), check.target)?;
            if let Some(when) = &check.when {
                write!(f, " when {}", self.expr(when))?;
            }
            write!(f, " check {}", self.expr(&check.condition))?;
            if let Some(value) = &check.value {
                write!(f, " value {}", self.expr(value))?;
            }
            writeln!(f)?;
        }
        for (i, agg) in self.aggregates.iter().enumerate() {
            match agg.function {
                // The rule as its number, as when rule indices were bare `u32`s (the text form is
                // compared byte for byte by snapshots).
                AggregateFunction::LinesBroken(rule) => write!(f, "aggregate #{i} = LinesBroken({})(", rule.raw())?,
                function => write!(f, "aggregate #{i} = {function:?}(")?,
            }
            if let Some(arg) = &agg.argument {
                write!(f, "{}", self.expr(arg))?;
            }
            writeln!(f, ")")?;
        }
        for check in &self.file_checks {
            write!(
                f,
                "file check {} {} on {}: {}",
                self.rule_id(check.rule),
                check.severity.as_str(),
                check.target,
                self.expr(&check.condition)
            )?;
            if let Some(observed) = &check.observed {
                write!(f, "; measures {}", self.expr(observed))?;
            }
            writeln!(f)?;
        }
        for check in &self.order_checks {
            let name = self.record.fields.get(check.field).map_or("?", |f| f.name.as_str());
            let sequence = check.sequence.as_str();
            write!(f, "order check {} on {}: {name} {sequence}", self.rule_id(check.rule), check.target)?;
            if !check.per.is_empty() {
                let key: Vec<&str> =
                    check.per.iter().map(|&i| self.record.fields.get(i).map_or("?", |f| f.name.as_str())).collect();
                write!(f, " per ({})", key.join(", "))?;
            }
            if let Some(when) = &check.when {
                write!(f, " when {}", self.expr(when))?;
            }
            writeln!(f)?;
        }
        for check in &self.unique_checks {
            let names: Vec<&str> = check.key.iter().map(|&i| self.record.fields[i].name.as_str()).collect();
            write!(f, "unique check {} on {}: ({})", self.rule_id(check.rule), check.target, names.join(", "))?;
            if let Some(when) = &check.when {
                write!(f, " when {}", self.expr(when))?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

impl Program {
    /// The rule's stable id, for messages.
    pub fn rule_id(&self, rule: RuleIdx) -> &str {
        self.rules.get(rule).map_or("<unknown rule>", |r| r.id.as_str())
    }

    /// A type as the spec writes it (code types by name), with `?` when nullable.
    pub fn type_name(&self, ty: Type) -> String {
        let kind = match ty.kind {
            TypeKind::Code(i) => self.code_types.get(i).map_or_else(|| format!("code#{}", i.raw()), |c| c.name.clone()),
            other => other.to_string(),
        };
        if ty.nullable { format!("{kind}?") } else { kind }
    }

    /// A literal as the spec writes it.
    pub fn literal(&self, lit: &Literal) -> String {
        match lit {
            Literal::Null => "null".into(),
            Literal::Bool(b) => b.to_string(),
            Literal::Int(i) => i.to_string(),
            Literal::Money(sen) => format_money(*sen),
            Literal::Number(n) => format!("{:?}", n.0),
            Literal::Text(t) => format!("{t:?}"),
            Literal::Date(days) => format!("date({days})"),
            Literal::Code(ty, member) => {
                let name =
                    self.code_types.get(*ty).and_then(|c| c.members.get(*member as usize)).map_or("?", |m| m.as_str());
                format!("{name:?}")
            }
        }
    }

    /// An expression in a fully parenthesised, name-resolved form.
    pub fn expr<'a>(&'a self, expr: &'a Expr) -> impl Display + 'a {
        ExprDisplay { program: self, expr }
    }
}

/// Money in sen as `RM<ringgit>.<sen>`, exact.
pub fn format_money(sen: i64) -> String {
    let sign = if sen < 0 { "-" } else { "" };
    let abs = sen.unsigned_abs();
    format!("{sign}RM{}.{:02}", abs / 100, abs % 100)
}

struct ExprDisplay<'a> {
    program: &'a Program,
    expr: &'a Expr,
}

impl<'a> Display for ExprDisplay<'a> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        crate::ensure_sufficient_stack(|| {
            let p: &'a Program = self.program;
            let sub = |e: &'a Expr| ExprDisplay { program: p, expr: e };
            match &self.expr.kind {
                ExprKind::Literal(lit) => f.write_str(&p.literal(lit)),
                ExprKind::Column(i) => write!(f, "${}", p.source.columns.get(*i).map_or("?", |c| c.as_str())),
                ExprKind::Field(i) => {
                    write!(f, "{}", p.record.fields.get(*i).map_or("?", |c| c.name.as_str()))
                }
                ExprKind::Local(i) => write!(f, "{}", p.locals.get(*i).map_or("?", |c| c.name.as_str())),
                ExprKind::HeaderField(i) => write!(f, "header.{}", line_field_name(&p.source.header, *i)),
                ExprKind::TrailerField(i) => write!(f, "trailer.{}", line_field_name(&p.source.trailer, *i)),
                ExprKind::Aggregate(i) => write!(f, "aggregate#{}", i.raw()),
                ExprKind::Unary(op, operand) => {
                    let op = match op {
                        UnaryOp::Neg => "-",
                        UnaryOp::Not => "not ",
                    };
                    write!(f, "({op}{})", sub(operand))
                }
                ExprKind::Binary(op, lhs, rhs) => write!(f, "({} {} {})", sub(lhs), binary_op_str(*op), sub(rhs)),
                ExprKind::IsNull { operand, negated } => {
                    write!(f, "({} is {}null)", sub(operand), if *negated { "not " } else { "" })
                }
                ExprKind::InList { operand, list, negated } => {
                    write!(f, "({} {}in [", sub(operand), if *negated { "not " } else { "" })?;
                    for (i, lit) in list.iter().enumerate() {
                        if i > 0 {
                            f.write_str(", ")?;
                        }
                        f.write_str(&p.literal(lit))?;
                    }
                    f.write_str("])")
                }
                ExprKind::Coalesce(a, b) => write!(f, "({} ?? {})", sub(a), sub(b)),
                ExprKind::List(items) => {
                    let items: Vec<String> = items.iter().map(|l| p.literal(l)).collect();
                    write!(f, "[{}]", items.join(", "))
                }
                ExprKind::If { condition, then_branch, else_branch } => {
                    write!(f, "(if {} then {} else {})", sub(condition), sub(then_branch), sub(else_branch))
                }
                ExprKind::Match { scrutinee, arms, default } => {
                    write!(f, "(match {} {{", sub(scrutinee))?;
                    for arm in arms {
                        let mut pats = String::new();
                        for (i, pat) in arm.patterns.iter().enumerate() {
                            if i > 0 {
                                pats.push_str(" | ");
                            }
                            match pat {
                                Pattern::Literal(l) => pats.push_str(&p.literal(l)),
                                Pattern::Range(lo, hi) => {
                                    let _ = write!(pats, "{}..={}", p.literal(lo), p.literal(hi));
                                }
                            }
                        }
                        write!(f, " {pats} => {},", sub(&arm.value))?;
                    }
                    if let Some(default) = default {
                        write!(f, " _ => {},", sub(default))?;
                    }
                    f.write_str(" })")
                }
                ExprKind::Call { function, args } => {
                    write!(f, "{}(", builtin_name(function))?;
                    for (i, arg) in args.iter().enumerate() {
                        if i > 0 {
                            f.write_str(", ")?;
                        }
                        write!(f, "{}", sub(arg))?;
                    }
                    f.write_str(")")
                }
                ExprKind::Fallible { op, on_failure } => {
                    match op {
                        FallibleOp::Call { function, args } => {
                            write!(f, "{}(", builtin_name(function))?;
                            for (i, arg) in args.iter().enumerate() {
                                if i > 0 {
                                    f.write_str(", ")?;
                                }
                                write!(f, "{}", sub(arg))?;
                            }
                            f.write_str(")")?;
                        }
                        FallibleOp::Lookup { table, key } => {
                            let name = p.tables.get(*table).map_or("?", |t| t.name.as_str());
                            write!(f, "{name}[{}]", sub(key))?;
                        }
                    }
                    match on_failure {
                        OnFailure::Default(e) => write!(f, " else {}", sub(e)),
                        OnFailure::Reject { rule, target } => {
                            write!(f, " else reject {} on {target}", p.rule_id(*rule))
                        }
                        OnFailure::Fail { rule, target } => write!(f, " else fail {} on {target}", p.rule_id(*rule)),
                    }
                }
            }
        })
    }
}

fn line_field_name(line: &Option<RecordLine>, i: u32) -> &str {
    line.as_ref().and_then(|l| l.fields.get(i as usize)).map_or("?", |f| f.name.as_str())
}

fn binary_op_str(op: BinaryOp) -> &'static str {
    match op {
        BinaryOp::Add => "+",
        BinaryOp::Sub => "-",
        BinaryOp::Mul => "*",
        BinaryOp::Div => "/",
        BinaryOp::Rem => "%",
        BinaryOp::Eq => "==",
        BinaryOp::Ne => "!=",
        BinaryOp::Lt => "<",
        BinaryOp::Le => "<=",
        BinaryOp::Gt => ">",
        BinaryOp::Ge => ">=",
        BinaryOp::And => "and",
        BinaryOp::Or => "or",
    }
}

/// The name a spec uses for a built-in ([`Builtin::name`]), with its constant arguments in
/// brackets. A function without constants is its name alone (`nric_gender`'s code members are not
/// shown either).
pub fn builtin_name(function: &Builtin) -> String {
    let name = function.name();
    match function {
        Builtin::RemoveChars(set) => format!("{name}[{set:?}]"),
        Builtin::Replace(from, to) => format!("{name}[{from:?}, {to:?}]"),
        Builtin::Matches(re) => format!("{name}[{re:?}]"),
        Builtin::ParseMoney(unit) => format!("{name}[{unit:?}]"),
        Builtin::ParseDate(format) | Builtin::ParseMonth(format) | Builtin::FormatDate(format) => {
            format!("{name}[{:?}]", format.pattern)
        }
        _ => name.to_owned(),
    }
}
