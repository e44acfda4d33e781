//! The typed syntax tree of an etr spec file.
//!
//! This is what the rest of the compiler sees of the source text: `sema`
//! resolves names and types over it, and the LSP maps its spans back to the
//! editor. It is a plain owned tree (no lifetimes, no pest types) so that salsa
//! can store it and compare it with `Eq` to cut off recomputation when an edit
//! does not change the tree.
//!
//! Every node carries the [`Span`] of the text it was parsed from. Parentheses
//! are kept as [`ExprKind::Paren`] so that spans and a future formatter see
//! exactly what was written; semantic passes simply look through them.

use std::fmt::Write as _;

/// A byte range `start..end` in the text of one file.
///
/// Offsets are `u32` to keep the tree small; `parse_file` refuses files of
/// 4 GiB or more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

/// A name as written: column names (`OS_BAL_RM`), fields, tables, lets,
/// functions, types, rule ids (`R0`) and module path segments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident {
    pub text: String,
    pub span: Span,
}

/// The `///` comments before an item, a record field or a code member.
///
/// `text` holds the lines without their `///` marker and without one leading
/// space, joined with `\n`. `span` covers all the lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Doc {
    pub text: String,
    pub span: Span,
}

/// A string literal; `value` has its escapes decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StringLit {
    pub value: String,
    pub span: Span,
}

/// A non-negative integer literal (a minus sign is a separate operator in
/// expressions, and folded into [`LitValue::Int`] only in literal positions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntLit {
    pub value: i64,
    pub span: Span,
}

// ---------------------------------------------------------------- file and items

/// A top-level item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    Contributor(Contributor),
    Use(Use),
    Source(Source),
    Table(Table),
    Map(Map),
    Let(Let),
    Rule(Rule),
    Override(Override),
    Record(Record),
    Code(Code),
}

/// `contributor JCL "JCL Credit Sdn Bhd" layout 3`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contributor {
    pub doc: Option<Doc>,
    pub code: Ident,
    pub name: StringLit,
    pub layout: IntLit,
    pub span: Span,
}

/// `use etr.record`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Use {
    pub doc: Option<Doc>,
    pub path: ModulePath,
    pub span: Span,
}

/// A dotted module path such as `etr.record`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModulePath {
    pub segments: Vec<Ident>,
    pub span: Span,
}

/// `source delimited "|" { ... }`: how the contributor's file is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub doc: Option<Doc>,
    pub format: SourceFormat,
    pub settings: Vec<SourceSetting>,
    pub span: Span,
}

/// The physical layout of the data lines.
///
/// Only delimited files exist in v1; fixed-width files will be a second
/// variant, which is why this is an enum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceFormat {
    /// `delimited "|"`
    Delimited { delimiter: StringLit, span: Span },
}

/// One setting inside a `source` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceSetting {
    /// `quote none` or `quote "\""`
    Quote { quote: Quote, span: Span },
    /// `encoding "utf-8" else reject R0`
    Encoding { name: StringLit, handler: Option<Handler>, span: Span },
    /// `header "H" { contributor: text, ... }`
    Header(ControlLine),
    /// `trailer "T" { count: int, ... }`
    Trailer(ControlLine),
    /// `columns { ACCT_NO, ... } else reject R0`
    Columns { columns: Vec<Ident>, handler: Option<Handler>, span: Span },
}

/// The quoting of delimited fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Quote {
    /// `quote none`: fields are never quoted.
    None(Span),
    /// `quote "\""`: the quote character.
    Char(StringLit),
}

/// A header or trailer line: the line starts with `prefix`, and its fields
/// are read in order with the given types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlLine {
    pub prefix: StringLit,
    pub fields: Vec<FieldDecl>,
    pub span: Span,
}

/// `name: type` in a header, a trailer or a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldDecl {
    pub doc: Option<Doc>,
    pub name: Ident,
    pub ty: TypeExpr,
    pub span: Span,
}

/// A type as written: `text`, `ActionCode`, `money(ringgit)`, `date("%d/%m/%Y")`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeExpr {
    pub name: Ident,
    /// Empty when the type is written without parentheses.
    pub args: Vec<TypeArg>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeArg {
    Ident(Ident),
    String(StringLit),
}

/// `table actions: text -> ActionCode { "N" => "A", ... }`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub doc: Option<Doc>,
    pub name: Ident,
    pub key_ty: TypeExpr,
    pub value_ty: TypeExpr,
    pub entries: Vec<TableEntry>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableEntry {
    pub key: Literal,
    pub value: Literal,
    pub span: Span,
}

/// `map to Record { field = expr ... }`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Map {
    pub doc: Option<Doc>,
    pub target: Ident,
    pub assignments: Vec<Assignment>,
    pub span: Span,
}

/// `field = expr` inside a `map`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub field: Ident,
    pub value: Expr,
    pub span: Span,
}

/// `let name = expr`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Let {
    pub doc: Option<Doc>,
    pub name: Ident,
    pub value: Expr,
    pub span: Span,
}

/// `rule R4 reject "message" { ... }`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub doc: Option<Doc>,
    pub id: Ident,
    pub severity: Severity,
    pub severity_span: Span,
    pub message: StringLit,
    /// `mostly 0.95`: the share of considered rows that must pass, as `f64` bits, and its span.
    pub mostly: Option<(u64, Span)>,
    /// `fatal above 2%`, `warn above 0.5%`: file-level zones on the share of lines that break it.
    pub zones: Vec<Zone>,
    /// `None` for a rule without braces, which only names a failure that
    /// handlers (`else reject R3`) refer to.
    pub body: Option<RuleBody>,
    pub span: Span,
}

/// `SEVERITY above P%`: when more than P% of the data lines break the rule, the file gets that
/// severity (`fatal`: refused; `warn`: loaded with a file warning).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zone {
    pub severity: Severity,
    /// The percentage, as `f64` bits.
    pub percent: u64,
    pub span: Span,
}

/// `override RULE [SEVERITY] [mostly X] [zones]`: changes a rule declared elsewhere (a stdlib rule).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    pub doc: Option<Doc>,
    pub rule: Ident,
    pub severity: Option<(Severity, Span)>,
    pub mostly: Option<(u64, Span)>,
    pub zones: Vec<Zone>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Severity {
    Fatal,
    Reject,
    Warn,
    Info,
}

/// The braces of a rule, with its statements in source order.
///
/// The parser guarantees at most one `when` statement (a second one is a
/// syntax error), so [`RuleBody::when`] is the rule's condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleBody {
    pub stmts: Vec<RuleStmt>,
    pub span: Span,
}

/// One statement of a rule's body. Every kind of statement has this one shape: the words that
/// start it, then its clauses in source order. `check x > 0 on x = X` is the word `check` and the
/// clauses `x > 0`, `on x` and `= X`; `strictly increasing d per a, b on d` is the words
/// `strictly increasing` and the clauses `d`, `per a, b` and `on d`.
///
/// One shape, because most readers do not care which statement they walk: the formatter prints a
/// clause, and the name map resolves it, by what it holds (an expression, names or a label), so a
/// new kind of statement or a new clause costs them nothing. The checker gives each kind its
/// meaning, and asks a statement for the clauses its kind has ([`RuleStmt::expr`],
/// [`RuleStmt::names`], [`RuleStmt::target`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleStmt {
    pub kind: StmtKind,
    /// The words that start the statement, as written: `check`, or `strictly` and `increasing`.
    pub words: Vec<Word>,
    pub clauses: Vec<Clause>,
    pub span: Span,
}

/// What a rule statement asks for, told by the words that start it ([`StmtKind::of_words`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StmtKind {
    /// `when EXPR`: the rule only applies where the condition holds.
    When,
    /// `check EXPR on TARGET [= VALUE]`: the finding is reported on `TARGET`, showing `VALUE` when
    /// given.
    Check,
    /// `require a, b, c`: the fields must not be null.
    Require,
    /// `unique a, b on TARGET`: the fields together form a key that occurs once.
    Unique,
    /// `[strictly] increasing FIELD [per KEY, ...] on TARGET` (or `decreasing`); with `per`, in
    /// file order within each group of lines that share the key.
    Order { descending: bool, strict: bool },
    /// `consistent FIELD [per KEY, ...] on TARGET`: every value is the first one, of the file or,
    /// with `per`, of the lines that share the key.
    Consistent,
}

/// A keyword or `=` where the tree keeps one: the words that start a rule statement, and the word
/// that starts one of its clauses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub text: String,
    pub span: Span,
}

/// A clause of a rule statement: `on x`, `per a, b`, `= VALUE`, or what follows the statement's
/// words (`x > 0` in `check x > 0 on x`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clause {
    /// The word that starts it (`on`, `per`, `=`); `None` for what follows the statement's words.
    pub lead: Option<Word>,
    pub value: ClauseValue,
}

/// What a clause of a rule statement holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClauseValue {
    /// `check EXPR`, `when EXPR`, `= VALUE`.
    Expr(Expr),
    /// Names separated by commas: fields (`require a, b`, `per account_no`), or the one field a
    /// finding is about (`on x`).
    Names(Vec<Ident>),
    /// A label in quotes: `on "sum bal"`.
    Label(StringLit),
}

/// Where a finding is reported, the `on` clause: a field name or a free label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target<'a> {
    Ident(&'a Ident),
    String(&'a StringLit),
}

/// `record Record { field: type ... }`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub doc: Option<Doc>,
    pub name: Ident,
    pub fields: Vec<FieldDecl>,
    pub span: Span,
}

/// `code ActionCode { "A", "C" }`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Code {
    pub doc: Option<Doc>,
    pub name: Ident,
    pub members: Vec<CodeMember>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeMember {
    pub doc: Option<Doc>,
    pub value: StringLit,
    pub span: Span,
}

// ---------------------------------------------------------------- literals

/// A literal in a literal-only position: table entries, `in [...]` lists
/// and match patterns. Here a leading minus is part of the literal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Literal {
    pub value: LitValue,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LitValue {
    String(String),
    Int(i64),
    /// A money amount in sen (hundredths of a ringgit): `RM12.50` is 1250.
    Money(i64),
    /// A decimal number, as the bits of its `f64` (so that the tree stays `Eq`).
    Number(u64),
    Bool(bool),
    Null,
}

// ---------------------------------------------------------------- expressions

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExprKind {
    Literal(LitValue),
    /// A column, field, let or table name.
    Name(Ident),
    /// `f(a, b)`
    Call {
        callee: Ident,
        args: Vec<Expr>,
    },
    /// `x.f(a)`, which means `f(x, a)`. Kept apart from [`ExprKind::Call`]
    /// so that diagnostics can point at the receiver and the method name.
    MethodCall {
        receiver: Box<Expr>,
        method: Ident,
        args: Vec<Expr>,
    },
    /// `header.contributor`
    Field {
        base: Box<Expr>,
        field: Ident,
    },
    /// `actions[ACTION]`: a table lookup.
    Index {
        base: Box<Expr>,
        index: Box<Expr>,
    },
    Unary {
        op: UnaryOp,
        op_span: Span,
        operand: Box<Expr>,
    },
    Binary {
        op: BinaryOp,
        op_span: Span,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    /// `x in [..]`, or `x not in [..]` when `negated`.
    In {
        value: Box<Expr>,
        negated: bool,
        list: Vec<Literal>,
        list_span: Span,
    },
    /// `x is null`, or `x is not null` when `negated`.
    IsNull {
        value: Box<Expr>,
        negated: bool,
    },
    /// `value else handler`: what to do when `value` fails (a parse error,
    /// a missing table key).
    Else {
        value: Box<Expr>,
        handler: Handler,
    },
    If {
        condition: Box<Expr>,
        then_branch: Box<Expr>,
        else_branch: Box<Expr>,
    },
    Match {
        scrutinee: Box<Expr>,
        arms: Vec<MatchArm>,
    },
    /// `(expr)`
    Paren(Box<Expr>),
    /// A list of constants, `["A", "B"]` (for list functions in file checks).
    List(Vec<Literal>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    /// `-x`
    Neg,
    /// `not x`
    Not,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    /// `??`
    Coalesce,
}

/// The right-hand side of `else`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handler {
    /// `reject R3`: the line is rejected under rule `R3`.
    Reject { rule: Ident, span: Span },
    /// `fail F1`: the file fails under rule `F1`.
    Fail { rule: Ident, span: Span },
    /// A replacement value (`null`, `0`, `RM0`, `(expr)`).
    Value(Box<Expr>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchArm {
    pub pattern: Pattern,
    pub body: Expr,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    pub kind: PatternKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatternKind {
    Literal(LitValue),
    /// `lo..=hi`, both ends included.
    Range {
        lo: Literal,
        hi: Literal,
    },
    /// `_`
    Wildcard,
    /// `p | q`; always two or more alternatives, none of them an `Or`.
    Or(Vec<Pattern>),
}

// ---------------------------------------------------------------- helpers

impl Item {
    /// The span of the whole item, doc comment excluded.
    pub fn span(&self) -> Span {
        match self {
            Item::Contributor(it) => it.span,
            Item::Use(it) => it.span,
            Item::Source(it) => it.span,
            Item::Table(it) => it.span,
            Item::Map(it) => it.span,
            Item::Let(it) => it.span,
            Item::Rule(it) => it.span,
            Item::Override(it) => it.span,
            Item::Record(it) => it.span,
            Item::Code(it) => it.span,
        }
    }

    pub fn doc(&self) -> Option<&Doc> {
        match self {
            Item::Contributor(it) => it.doc.as_ref(),
            Item::Use(it) => it.doc.as_ref(),
            Item::Source(it) => it.doc.as_ref(),
            Item::Table(it) => it.doc.as_ref(),
            Item::Map(it) => it.doc.as_ref(),
            Item::Let(it) => it.doc.as_ref(),
            Item::Rule(it) => it.doc.as_ref(),
            Item::Override(it) => it.doc.as_ref(),
            Item::Record(it) => it.doc.as_ref(),
            Item::Code(it) => it.doc.as_ref(),
        }
    }

    /// The item keyword, for outlines and messages.
    pub fn keyword(&self) -> &'static str {
        match self {
            Item::Contributor(_) => "contributor",
            Item::Use(_) => "use",
            Item::Source(_) => "source",
            Item::Table(_) => "table",
            Item::Map(_) => "map",
            Item::Let(_) => "let",
            Item::Rule(_) => "rule",
            Item::Override(_) => "override",
            Item::Record(_) => "record",
            Item::Code(_) => "code",
        }
    }
}

impl RuleBody {
    /// The rule's `when` condition, if any.
    pub fn when(&self) -> Option<&Expr> {
        self.stmts.iter().find(|stmt| stmt.kind == StmtKind::When).and_then(|stmt| stmt.expr(None))
    }
}

impl StmtKind {
    /// The kind of statement that `words` start, `None` for words that start none. This is the one
    /// place that tells statements apart by their words; the grammar says which words start one.
    pub fn of_words(words: &[&str]) -> Option<StmtKind> {
        Some(match words {
            ["when"] => StmtKind::When,
            ["check"] => StmtKind::Check,
            ["require"] => StmtKind::Require,
            ["unique"] => StmtKind::Unique,
            ["increasing"] => StmtKind::Order { descending: false, strict: false },
            ["decreasing"] => StmtKind::Order { descending: true, strict: false },
            ["strictly", "increasing"] => StmtKind::Order { descending: false, strict: true },
            ["strictly", "decreasing"] => StmtKind::Order { descending: true, strict: true },
            ["consistent"] => StmtKind::Consistent,
            _ => return None,
        })
    }
}

impl RuleStmt {
    /// The value of the clause that `lead` starts (`Some("on")`, `Some("per")`, `Some("=")`), or
    /// of what follows the statement's words (`None`).
    pub fn clause(&self, lead: Option<&str>) -> Option<&ClauseValue> {
        let starts = |clause: &&Clause| clause.lead.as_ref().map(|word| word.text.as_str()) == lead;
        self.clauses.iter().find(starts).map(|clause| &clause.value)
    }

    /// The expression of the clause that `lead` starts (see [`RuleStmt::clause`]).
    pub fn expr(&self, lead: Option<&str>) -> Option<&Expr> {
        match self.clause(lead)? {
            ClauseValue::Expr(expr) => Some(expr),
            _ => None,
        }
    }

    /// The names of the clause that `lead` starts (see [`RuleStmt::clause`]); none when the
    /// statement has no such clause.
    pub fn names(&self, lead: Option<&str>) -> &[Ident] {
        match self.clause(lead) {
            Some(ClauseValue::Names(names)) => names,
            _ => &[],
        }
    }

    /// What the `on` clause names.
    pub fn target(&self) -> Option<Target<'_>> {
        match self.clause(Some("on"))? {
            ClauseValue::Names(names) if names.len() == 1 => Some(Target::Ident(&names[0])),
            ClauseValue::Label(label) => Some(Target::String(label)),
            _ => None,
        }
    }
}

/// A type in one canonical spelling, whatever the spaces and line breaks of the source:
/// `money(ringgit)`, `date("%d/%m/%Y")`, arguments separated by `, `, and a string argument
/// quoted and escaped as Rust's `Debug` does (`"a\"b"`). Messages, hovers and outlines show it.
impl std::fmt::Display for TypeExpr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name.text)?;
        if self.args.is_empty() {
            return Ok(());
        }
        f.write_char('(')?;
        for (position, arg) in self.args.iter().enumerate() {
            if position > 0 {
                f.write_str(", ")?;
            }
            match arg {
                TypeArg::Ident(it) => f.write_str(&it.text)?,
                TypeArg::String(it) => write!(f, "{:?}", it.value)?,
            }
        }
        f.write_char(')')
    }
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Fatal => "fatal",
            Severity::Reject => "reject",
            Severity::Warn => "warn",
            Severity::Info => "info",
        }
    }
}

impl UnaryOp {
    pub fn as_str(self) -> &'static str {
        match self {
            UnaryOp::Neg => "-",
            UnaryOp::Not => "not",
        }
    }
}

impl BinaryOp {
    pub fn as_str(self) -> &'static str {
        match self {
            BinaryOp::Or => "or",
            BinaryOp::And => "and",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Rem => "%",
            BinaryOp::Coalesce => "??",
        }
    }
}

impl Expr {
    /// Calls `f` on each direct sub-expression, in source order.
    ///
    /// Handler values and match arm bodies are sub-expressions; literals in
    /// `in` lists and patterns are not (they are [`Literal`]s).
    pub fn for_each_child<'a>(&'a self, mut f: impl FnMut(&'a Expr)) {
        match &self.kind {
            ExprKind::Literal(_) | ExprKind::Name(_) | ExprKind::List(_) => {}
            ExprKind::Call { args, .. } => args.iter().for_each(f),
            ExprKind::MethodCall { receiver, args, .. } => {
                f(receiver);
                args.iter().for_each(f);
            }
            ExprKind::Field { base, .. } => f(base),
            ExprKind::Index { base, index } => {
                f(base);
                f(index);
            }
            ExprKind::Unary { operand, .. } => f(operand),
            ExprKind::Binary { lhs, rhs, .. } => {
                f(lhs);
                f(rhs);
            }
            ExprKind::In { value, .. } | ExprKind::IsNull { value, .. } => f(value),
            ExprKind::Else { value, handler } => {
                f(value);
                if let Handler::Value(it) = handler {
                    f(it);
                }
            }
            ExprKind::If { condition, then_branch, else_branch } => {
                f(condition);
                f(then_branch);
                f(else_branch);
            }
            ExprKind::Match { scrutinee, arms } => {
                f(scrutinee);
                arms.iter().for_each(|arm| f(&arm.body));
            }
            ExprKind::Paren(inner) => f(inner),
        }
    }

    /// The direct sub-expressions, in source order.
    pub fn children(&self) -> Vec<&Expr> {
        let mut acc = Vec::new();
        self.for_each_child(|it| acc.push(it));
        acc
    }

    /// Calls `f` on this expression and then on every expression below it,
    /// parents before children.
    ///
    /// Uses an explicit stack rather than recursion; the parser bounds the
    /// depth of a tree anyway, but walkers are a bad place to find out.
    pub fn walk<'a>(&'a self, mut f: impl FnMut(&'a Expr)) {
        let mut stack = vec![self];
        while let Some(expr) = stack.pop() {
            f(expr);
            let start = stack.len();
            expr.for_each_child(|it| stack.push(it));
            stack[start..].reverse();
        }
    }

    /// A compact S-expression rendering for tests and debugging, for
    /// example `(+ (?? a RM0) (else (call parse_int x) 0))`.
    ///
    /// It is not a pretty-printer: spans are left out and parentheses from
    /// the source show as `(paren ..)`.
    pub fn dump(&self) -> String {
        let mut acc = String::new();
        dump_expr(self, &mut acc);
        acc
    }
}

impl LitValue {
    /// The literal as it would be written in etr (money with two decimals).
    pub fn dump(&self) -> String {
        match self {
            LitValue::String(it) => format!("{it:?}"),
            LitValue::Int(it) => it.to_string(),
            LitValue::Money(sen) => {
                let sign = if *sen < 0 { "-" } else { "" };
                let abs = sen.unsigned_abs();
                format!("{sign}RM{}.{:02}", abs / 100, abs % 100)
            }
            LitValue::Number(bits) => format!("{:?}", f64::from_bits(*bits)),
            LitValue::Bool(it) => it.to_string(),
            LitValue::Null => "null".to_owned(),
        }
    }
}

impl Pattern {
    pub fn dump(&self) -> String {
        match &self.kind {
            PatternKind::Literal(it) => it.dump(),
            PatternKind::Range { lo, hi } => format!("{}..={}", lo.value.dump(), hi.value.dump()),
            PatternKind::Wildcard => "_".to_owned(),
            PatternKind::Or(alts) => {
                let alts: Vec<_> = alts.iter().map(Pattern::dump).collect();
                format!("(| {})", alts.join(" "))
            }
        }
    }
}

fn dump_expr(expr: &Expr, acc: &mut String) {
    crate::ensure_sufficient_stack(|| {
        let dump_args = |args: &[Expr], acc: &mut String| {
            for arg in args {
                acc.push(' ');
                dump_expr(arg, acc);
            }
        };
        match &expr.kind {
            ExprKind::Literal(it) => acc.push_str(&it.dump()),
            ExprKind::List(items) => {
                let items: Vec<String> = items.iter().map(|l| l.value.dump()).collect();
                let _ = write!(acc, "[{}]", items.join(" "));
            }
            ExprKind::Name(it) => acc.push_str(&it.text),
            ExprKind::Call { callee, args } => {
                let _ = write!(acc, "(call {}", callee.text);
                dump_args(args, acc);
                acc.push(')');
            }
            ExprKind::MethodCall { receiver, method, args } => {
                let _ = write!(acc, "(.{} ", method.text);
                dump_expr(receiver, acc);
                dump_args(args, acc);
                acc.push(')');
            }
            ExprKind::Field { base, field } => {
                acc.push_str("(field ");
                dump_expr(base, acc);
                let _ = write!(acc, " {})", field.text);
            }
            ExprKind::Index { base, index } => {
                acc.push_str("(index ");
                dump_expr(base, acc);
                acc.push(' ');
                dump_expr(index, acc);
                acc.push(')');
            }
            ExprKind::Unary { op, operand, .. } => {
                let _ = write!(acc, "({} ", op.as_str());
                dump_expr(operand, acc);
                acc.push(')');
            }
            ExprKind::Binary { op, lhs, rhs, .. } => {
                let _ = write!(acc, "({} ", op.as_str());
                dump_expr(lhs, acc);
                acc.push(' ');
                dump_expr(rhs, acc);
                acc.push(')');
            }
            ExprKind::In { value, negated, list, .. } => {
                acc.push_str(if *negated { "(not-in " } else { "(in " });
                dump_expr(value, acc);
                let list: Vec<_> = list.iter().map(|it| it.value.dump()).collect();
                let _ = write!(acc, " [{}])", list.join(" "));
            }
            ExprKind::IsNull { value, negated } => {
                acc.push_str(if *negated { "(is-not-null " } else { "(is-null " });
                dump_expr(value, acc);
                acc.push(')');
            }
            ExprKind::Else { value, handler } => {
                acc.push_str("(else ");
                dump_expr(value, acc);
                acc.push(' ');
                match handler {
                    Handler::Reject { rule, .. } => {
                        let _ = write!(acc, "(reject {})", rule.text);
                    }
                    Handler::Fail { rule, .. } => {
                        let _ = write!(acc, "(fail {})", rule.text);
                    }
                    Handler::Value(it) => dump_expr(it, acc),
                }
                acc.push(')');
            }
            ExprKind::If { condition, then_branch, else_branch } => {
                acc.push_str("(if ");
                dump_expr(condition, acc);
                acc.push(' ');
                dump_expr(then_branch, acc);
                acc.push(' ');
                dump_expr(else_branch, acc);
                acc.push(')');
            }
            ExprKind::Match { scrutinee, arms } => {
                acc.push_str("(match ");
                dump_expr(scrutinee, acc);
                for arm in arms {
                    let _ = write!(acc, " [{} ", arm.pattern.dump());
                    dump_expr(&arm.body, acc);
                    acc.push(']');
                }
                acc.push(')');
            }
            ExprKind::Paren(inner) => {
                acc.push_str("(paren ");
                dump_expr(inner, acc);
                acc.push(')');
            }
        }
    })
}
