//! The typed intermediate representation (IR) of a compiled etr spec.
//!
//! The IR is the contract between the front end (`etr-sema` lowers a checked spec into it) and every
//! back end (the reference interpreter, and the Cranelift JIT for the parses and lookups it compiles) and the runtime. It is plain
//! data: everything a back end needs is resolved here (names to indices, formats parsed, code
//! literals turned into member indices), so a back end never sees source text, spans or names it
//! would have to look up.
//!
//! Architecture invariant: a `Program` that `etr-sema` produced is well typed. Back ends may assume
//! operand types match what each node documents, and report a violation as an internal error.
#![deny(clippy::disallowed_methods)]

mod display;
mod idx;
mod stack;
mod visit;
pub use display::{builtin_name, format_money};
pub use idx::{Idx, IndexVec};
pub use stack::ensure_sufficient_stack;
pub use visit::Step;
pub mod types;

pub use types::{ListOf, Type, TypeKind};

/// The marker of a source column's index: the columns are their names (`Source::columns`), so
/// the index is marked with this type instead, of which no value exists.
pub enum Column {}

/// Index of a declared source column (0-based, in declaration order) into [`Source::columns`].
pub type ColumnIdx = Idx<Column>;
/// Index of a field of the target record type, into [`RecordType::fields`].
pub type FieldIdx = Idx<FieldDef>;
/// Index of a `let` value, into [`Program::locals`].
pub type LocalIdx = Idx<LocalDef>;
/// Index into [`Program::rules`].
pub type RuleIdx = Idx<Rule>;
/// Index into [`Program::code_types`].
pub type CodeTypeIdx = Idx<CodeType>;
/// Index into [`Program::tables`].
pub type TableIdx = Idx<CodeTable>;
/// Index into [`Program::aggregates`].
pub type AggregateIdx = Idx<Aggregate>;

/// A compiled contributor spec: everything the runtime and the back ends need to process a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Program {
    pub contributor: Contributor,
    pub source: Source,
    pub code_types: IndexVec<CodeType>,
    pub tables: IndexVec<CodeTable>,
    /// The target record type of the mapping (the canonical eTR+ record for contributor specs).
    pub record: RecordType,
    pub locals: IndexVec<LocalDef>,
    pub rules: IndexVec<Rule>,
    /// Row computations, in evaluation order: each field of the record and each `let`, after
    /// everything it reads. A field that the mapping does not assign is absent (it stays null).
    pub bindings: Vec<Binding>,
    /// Row checks, in the order they are written; evaluated over well-formed lines only.
    pub row_checks: Vec<RowCheck>,
    /// The aggregates over all data lines that file checks read.
    pub aggregates: IndexVec<Aggregate>,
    /// File checks, in the order they are written; evaluated once at the end of the file.
    pub file_checks: Vec<FileCheck>,
    /// Dataset uniqueness checks, evaluated over the lines that no row rule rejected.
    pub unique_checks: Vec<UniqueCheck>,
    /// Dataset checks in file order (`increasing x`, `consistent x per k`), evaluated over the
    /// lines that no row rule rejected.
    pub order_checks: Vec<OrderCheck>,
}

/// Who sends the file, and which version of their layout the spec describes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contributor {
    pub code: String,
    pub name: String,
    pub layout: u32,
}

/// The file's physical format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub format: SourceFormat,
    pub encoding: Encoding,
    /// The reject rule for a line whose bytes are not valid in `encoding` (windows-1252 never fails).
    pub encoding_rule: Option<RuleIdx>,
    pub header: Option<RecordLine>,
    pub trailer: Option<RecordLine>,
    /// The data columns, by position.
    pub columns: IndexVec<Column, String>,
    /// The reject rule for a data line whose field count differs from `columns.len()`.
    pub field_count_rule: RuleIdx,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceFormat {
    /// Fields separated by `delimiter` (bytes in the file's encoding); `quote` is the quote byte.
    Delimited { delimiter: Vec<u8>, quote: Option<u8> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8, with or without a byte order mark.
    Utf8,
    /// Windows-1252 (what contributors call "Latin-1" or "ANSI").
    Windows1252,
}

/// A header or trailer line: recognised by its first field, with its own typed fields after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordLine {
    pub prefix: String,
    pub fields: Vec<LineField>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineField {
    pub name: String,
    pub ty: LineFieldType,
}

/// How a header or trailer field is read; a field that does not parse is null.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineFieldType {
    Text,
    Int,
    Money(MoneyUnit),
    Date(DateFormat),
    Month(DateFormat),
}

impl LineFieldType {
    pub fn value_type(&self) -> Type {
        let kind = match self {
            LineFieldType::Text => TypeKind::Text,
            LineFieldType::Int => TypeKind::Int,
            LineFieldType::Money(_) => TypeKind::Money,
            LineFieldType::Date(_) => TypeKind::Date,
            LineFieldType::Month(_) => TypeKind::Month,
        };
        Type::nullable(kind)
    }
}

/// The unit a money text is written in. Money values are always exact integer sen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MoneyUnit {
    /// Ringgit with up to two decimals (`-1234.5` is -123450 sen).
    Ringgit,
    /// Whole sen (`-123450`).
    Sen,
}

/// A date format, parsed and validated at compile time from a strftime-like pattern.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DateFormat {
    /// The pattern as written in the spec, e.g. `%d/%m/%Y`.
    pub pattern: String,
    pub items: Vec<DateItem>,
}

/// One element of a date format. Numeric items are fixed width: `%d` is exactly two digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DateItem {
    /// `%Y`: four digits.
    Year4,
    /// `%y`: two digits (only for formatting; parsing a two-digit year needs a pivot, not in v1).
    Year2,
    /// `%m`: two digits, 01-12.
    Month2,
    /// `%d`: two digits, 01-31 and valid for the month.
    Day2,
    /// `%H`: two digits, 00-23. Parsing checks it and keeps only the date; formatting writes 00.
    Hour2,
    /// `%M`: two digits, 00-59 (checked, not kept).
    Minute2,
    /// `%S`: two digits, 00-59, or 60 for a leap second (checked, not kept).
    Second2,
    /// A byte that must appear as is.
    Literal(u8),
}

impl DateItem {
    /// The bytes the item takes in a text: four for `%Y`, one for a literal byte, two otherwise.
    /// Every item is fixed width, so a format's texts all have one length and each item a fixed
    /// offset, which the date parses of both engines read directly.
    pub fn width(self) -> usize {
        match self {
            DateItem::Year4 => 4,
            DateItem::Literal(_) => 1,
            _ => 2,
        }
    }
}

/// A closed set of codes (an enumeration) such as `PaymentStatus`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeType {
    pub name: String,
    pub members: Vec<String>,
}

/// A code table: raw contributor code -> canonical value. Lookups of a missing key fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeTable {
    pub name: String,
    pub key_type: Type,
    pub value_type: Type,
    pub entries: Vec<(Literal, Literal)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordType {
    pub name: String,
    pub fields: IndexVec<FieldDef>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldDef {
    pub name: String,
    pub ty: Type,
    pub doc: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalDef {
    pub name: String,
    pub ty: Type,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The whole file is refused; nothing is loaded.
    Fatal,
    /// The line is quarantined; the file goes on.
    Reject,
    /// The line is loaded, flagged and counted.
    Warn,
    /// A metric only.
    Info,
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

/// A rule: a stable id, a severity and a message. Its checks refer to it by index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub id: String,
    pub severity: Severity,
    pub message: String,
    /// The share of considered rows that must pass for the rule to succeed over the file (GX's
    /// `mostly`); `None` means 1.0. Broken rows are reported whatever this is.
    pub mostly: Option<F64>,
}

/// An `f64` with bitwise equality and hashing, so that IR values holding numbers stay `Eq`.
#[derive(Debug, Clone, Copy)]
pub struct F64(pub f64);

impl PartialEq for F64 {
    fn eq(&self, other: &Self) -> bool {
        self.0.to_bits() == other.0.to_bits()
    }
}

impl Eq for F64 {}

impl std::hash::Hash for F64 {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.to_bits().hash(state);
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub target: Slot,
    pub expr: Expr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Slot {
    Field(FieldIdx),
    Local(LocalIdx),
}

/// A row check: for every well-formed line where `when` holds, `condition` must not be false.
/// A null condition (an input is null) does not break the rule: the rule about the missing input
/// fires instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowCheck {
    pub rule: RuleIdx,
    /// What the violation is about: a field name or a label (the `field` column of rejects).
    pub target: String,
    pub when: Option<Expr>,
    pub condition: Expr,
    /// The offending value shown in rejects, rendered as text; `None` shows null.
    pub value: Option<Expr>,
}

/// An aggregate over all data lines of the file (well-formed or not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aggregate {
    pub function: AggregateFunction,
    /// The per-line expression (columns only); `None` for `count()`.
    pub argument: Option<Expr>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AggregateFunction {
    /// The number of data lines (`Int`).
    Count,
    /// The sum of the non-null values (`Int`, `Money` or `Number`); 0 over no value. Int and money
    /// sums are exact and null beyond 64 bits; a number sum is computed exactly, rounded once at the
    /// end (so it does not depend on batch order), and null when not finite.
    Sum,
    /// The number of data lines that broke the rule (row rules, and rules raised by handlers and
    /// by the source's structural checks such as the field count); `Int`.
    LinesBroken(RuleIdx),
    /// The number of lines where the (bool) argument is true; `Int`.
    CountWhere,
    /// The number of distinct non-null values; `Int`. Keeps the distinct values (memory grows
    /// with their number, not with the file).
    CountDistinct,
    /// The smallest / largest non-null value, of the argument's type (`Int`, `Money`, `Number`,
    /// `Date`, `Month`, `Text` by code point); null over no value.
    Min,
    Max,
    /// The mean of the non-null values as a `Number` (`Int`, `Money` in sen, `Number`, or `Bool` as
    /// the share of `true`); null over no value.
    Mean,
    /// The sample standard deviation (n - 1 in the denominator) as a `Number`; null with fewer
    /// than two values.
    Stdev,
    /// The median as a `Number` (the mean of the two middle values for an even count); null over
    /// no value. Keeps every non-null value (8 bytes each).
    Median,
    /// The quantile q in [0, 1] by the nearest rank (pandas `interpolation="nearest"`: the value
    /// at position round(q * (n - 1)), halves to even), of the argument's type; null over no value.
    /// Keeps every non-null value.
    Quantile(F64),
    /// The distinct non-null values, sorted; `List`. Keeps the distinct values.
    DistinctValues,
    /// The most common non-null values (all of them when tied), sorted; `List`; empty over no
    /// value. Keeps a count per distinct value.
    Modes,
}

/// A file check: evaluated once; broken when false **or null** (a file is not accepted on an
/// unknown control total).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileCheck {
    pub rule: RuleIdx,
    pub target: String,
    pub condition: Expr,
    /// What a broken check does: the rule's severity, or a zone's (`warn above 1%` of a reject
    /// rule is a `Warn` file check of that rule).
    pub severity: Severity,
    /// For a check made from a rule's zone (`fatal above 2%`), the percentage.
    pub zone: Option<F64>,
    /// What the check measures, evaluated like the condition once the file is read and shown in
    /// the summary as its observed value, in its own type: the aggregate the condition reads when
    /// it reads one (however many times), else the measured side of its first comparison, else
    /// `header_values()`; `None` when it measures none of these (`trailer.count is not null`).
    /// The front end decides it.
    pub observed: Option<Expr>,
}

/// Every line whose key occurs more than once among the lines no row rule rejected breaks the rule
/// (all copies). Null key parts compare equal to each other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UniqueCheck {
    pub rule: RuleIdx,
    pub target: String,
    pub key: Vec<FieldIdx>,
    /// Only the lines where this holds take part (GX's `row_condition`).
    pub when: Option<Expr>,
}

/// A dataset check in file order: each non-null value of `field`, on the lines that take part,
/// against the value remembered from the earlier lines, as `sequence` says (for an ordering, the
/// previous value; for consistency, the first). A line that breaks it is reported under `rule`;
/// the first value always passes.
/// With a key in `per`, the remembered value is that of the lines with the same key, so the check
/// holds within each group of lines that share it; a line whose key is all null takes no part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderCheck {
    pub rule: RuleIdx,
    pub target: String,
    pub field: FieldIdx,
    /// The fields of the key whose groups are checked separately; empty for the whole file.
    pub per: Vec<FieldIdx>,
    pub sequence: Sequence,
    /// Only the lines where this holds take part.
    pub when: Option<Expr>,
}

/// How the values of an [`OrderCheck`] must follow each other in file order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sequence {
    /// Not smaller than the previous value (`strict`: larger).
    Increasing { strict: bool },
    /// Not larger than the previous value (`strict`: smaller).
    Decreasing { strict: bool },
    /// Equal to the first value (of the file, or of the group): a key has one value of the field.
    Consistent,
}

impl Sequence {
    /// The words of the spec that ask for it, as the IR's text shows them.
    pub fn as_str(self) -> &'static str {
        match self {
            Sequence::Increasing { strict: false } => "increasing",
            Sequence::Increasing { strict: true } => "strictly increasing",
            Sequence::Decreasing { strict: false } => "decreasing",
            Sequence::Decreasing { strict: true } => "strictly decreasing",
            Sequence::Consistent => "consistent",
        }
    }
}

/// A typed expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expr {
    pub kind: ExprKind,
    pub ty: Type,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExprKind {
    Literal(Literal),
    /// The raw text of a source column (null when empty or missing).
    Column(ColumnIdx),
    /// A field of the mapped record (assigned by an earlier binding).
    Field(FieldIdx),
    /// A `let` value (assigned by an earlier binding).
    Local(LocalIdx),
    /// A header field (file checks only).
    HeaderField(u32),
    /// A trailer field (file checks only).
    TrailerField(u32),
    /// An aggregate's final value (file checks only).
    Aggregate(AggregateIdx),
    Unary(UnaryOp, Box<Expr>),
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    /// `operand is null` (or `is not null` when `negated`); never null.
    IsNull {
        operand: Box<Expr>,
        negated: bool,
    },
    /// A list of constants, sorted and without duplicates (`List`).
    List(Vec<Literal>),
    /// `operand in [...]`; null when the operand is null.
    InList {
        operand: Box<Expr>,
        list: Vec<Literal>,
        negated: bool,
    },
    /// `value ?? fallback`.
    Coalesce(Box<Expr>, Box<Expr>),
    /// `if cond then a else b`; a null condition takes the else branch.
    If {
        condition: Box<Expr>,
        then_branch: Box<Expr>,
        else_branch: Box<Expr>,
    },
    /// The first arm with a matching pattern; `default` (or null) when none matches or the
    /// scrutinee is null.
    Match {
        scrutinee: Box<Expr>,
        arms: Vec<MatchArm>,
        default: Option<Box<Expr>>,
    },
    /// An infallible built-in function; null in, null out unless the function says otherwise.
    Call {
        function: Builtin,
        args: Vec<Expr>,
    },
    /// An operation that can fail on data, with what the spec said to do when it fails.
    /// It fails only on a non-null input; a null input gives null.
    Fallible {
        op: FallibleOp,
        on_failure: OnFailure,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchArm {
    pub patterns: Vec<Pattern>,
    pub value: Expr,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pattern {
    Literal(Literal),
    /// Inclusive range of `Int`, `Money` or `Number` literals.
    Range(Literal, Literal),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    /// Arithmetic negation (`Int`, `Money`, `Number`).
    Neg,
    /// Boolean negation (Kleene: not null is null).
    Not,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    /// Int+Int, Money+Money, Number+Number (an int meeting a number is converted by an explicit
    /// `IntToNumber`). Overflow, and a number result that is not finite, give null.
    Add,
    Sub,
    /// Int*Int, Money*Int.
    Mul,
    /// Int/Int (truncating), division by zero gives null.
    Div,
    Rem,
    /// Comparisons of two operands of the same type (codes compare by member index for `==`/`!=`
    /// only). Null when either side is null.
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// Kleene logic: `false and null` is false, `true or null` is true.
    And,
    Or,
}

/// A constant. Code constants are member indices of their code type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Literal {
    Null,
    Bool(bool),
    Int(i64),
    /// Exact integer sen.
    Money(i64),
    /// A 64-bit float (`number`).
    Number(F64),
    Text(String),
    /// Days since 1970-01-01.
    Date(i32),
    Code(CodeTypeIdx, u32),
}

/// An operation that can fail on data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FallibleOp {
    /// A fallible built-in (a parse); its first argument is the text that failed.
    Call { function: Builtin, args: Vec<Expr> },
    /// `table[key]`: fails when the key is not in the table.
    Lookup { table: TableIdx, key: Box<Expr> },
}

impl FallibleOp {
    /// The input shown as the offending value when the operation fails.
    pub fn input(&self) -> &Expr {
        match self {
            FallibleOp::Call { args, .. } => &args[0],
            FallibleOp::Lookup { key, .. } => key,
        }
    }
}

/// What to do when a fallible operation fails on a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OnFailure {
    /// Use this value instead (it may be the null literal).
    Default(Box<Expr>),
    /// Reject the line under `rule`, naming `target` (the field being mapped) and the failed input;
    /// the value is null for the rest of the row.
    Reject { rule: RuleIdx, target: String },
    /// Refuse the whole file under `rule` (fatal).
    Fail { rule: RuleIdx, target: String },
}

/// The built-in functions, with their compile-time constant arguments folded in.
/// `args` of the enclosing node hold only the data arguments, `value` first.
///
/// A new function is a variant here with its [`Builtin::name`] and [`Builtin::family`], an entry
/// in the compiler's table of its family (`etr_sema::builtins`), and an arm in the interpreter's
/// kernel file of its family; the text form and the reference docs derive from those.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Builtin {
    /// `trim(value: text) -> text`: strips leading and trailing Unicode whitespace.
    Trim,
    /// `upper(value: text) -> text`.
    Upper,
    /// `lower(value: text) -> text`.
    Lower,
    /// `remove_chars(value: text, chars: "...") -> text`: drops every char in the set.
    RemoveChars(String),
    /// `replace(value: text, from: "...", to: "...") -> text`: every occurrence.
    Replace(String, String),
    /// `null_if_empty(value: text) -> text`.
    NullIfEmpty,
    /// `substring(value: text, start: int, length: int) -> text`: by chars, clamped.
    Substring,
    /// `length(value: text) -> int`: in chars.
    Length,
    /// `matches(value: text, "regex") -> bool`: the regex is compiled once; a search, anchor it
    /// with `^...$` to match the whole value.
    Matches(String),
    /// `parse_number(value: text) -> number`, fallible: optional sign, digits with an optional
    /// fraction and exponent (`-1.5`, `2e3`, `.5`); not `nan` or `inf`.
    ParseNumber,
    /// `is_subset(a: list, b: list) -> bool`: every element of a is in b (`contains_all(a, b)` is
    /// `is_subset(b, a)`).
    ListIsSubset,
    /// `same_set(a: list, b: list) -> bool`: the same elements.
    ListSameSet,
    /// `overlaps(a: list, b: list) -> bool`: some element in both.
    ListOverlaps,
    /// `size(a: list) -> int`.
    ListSize,
    /// `header_values() -> list of text`: the header's text fields (file checks only), as a list;
    /// e.g. the column names of a contributor whose header line lists them.
    HeaderValues,
    /// `is_json(value: text) -> bool`: the text is one JSON value.
    IsJson,
    /// `run_date() -> date`: the date the run is "as of", given to the runtime (`etr run --as-of`,
    /// by default the day the run starts) and recorded in the summary. A spec never reads a clock.
    RunDate,
    /// `add_days(value: date, days: int) -> date`; null when out of range.
    AddDays,
    /// `int -> number`: inserted by the compiler where an int meets a number (never written).
    IntToNumber,
    /// `parse_int(value: text) -> int`, fallible: optional sign, ASCII digits, fits in 64 bits.
    ParseInt,
    /// `parse_money(value: text, unit) -> money`, fallible: optional `-`, digits, and for ringgit
    /// optionally `.` and one or two digits.
    ParseMoney(MoneyUnit),
    /// `parse_date(value: text, "format") -> date`, fallible: the whole text must match and be a
    /// real calendar date.
    ParseDate(DateFormat),
    /// `parse_month(value: text, "format") -> month`, fallible; the first day of the month.
    ParseMonth(DateFormat),
    /// `format_date(value: date, "format") -> text`.
    FormatDate(DateFormat),
    /// `month_of(value: date) -> month`: the month the date falls in (its first day); null when
    /// that day is before `Date32`'s range.
    MonthOf,
    /// `is_valid_nric(value: text) -> bool`: 12 digits, YYMMDD a real date in either century,
    /// place-of-birth digits not 00, 17-20, 69, 70, 73, 80, 81, 94-97.
    IsValidNric,
    /// `is_valid_ssm(value: text) -> bool`: the 12-digit SSM company number
    /// `^(19|20)\d{2}0[1-6]\d{6}$`.
    IsValidSsm,
    /// `nric_gender(value: text) -> Gender`: `M` when the 12th char is an odd digit, `F` when
    /// even, null otherwise. Carries the `Gender` code type's index and its two members.
    NricGender { code_type: CodeTypeIdx, male: u32, female: u32 },
}

/// The families the built-ins are grouped in, the same in the compiler's table
/// (`etr_sema::builtins::<family>`) and in the interpreter's kernels (`kernels/<family>.rs`), so
/// that each layer holds a function in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BuiltinFamily {
    /// Text in, text or a property of it out.
    Text,
    /// Malaysian identifiers: NRIC and SSM numbers.
    Nric,
    /// The fallible parses of text into typed values.
    Parse,
    /// Dates and months, and the run's date.
    Date,
    /// Lists of constants (file checks).
    List,
    /// Conversions between numeric kinds that the compiler inserts.
    Arith,
}

impl Builtin {
    /// The name a spec calls the function by (for the IR's text form; `IntToNumber`, which no
    /// spec writes, is `number`).
    pub fn name(&self) -> &'static str {
        match self {
            Builtin::Trim => "trim",
            Builtin::Upper => "upper",
            Builtin::Lower => "lower",
            Builtin::RemoveChars(_) => "remove_chars",
            Builtin::Replace(..) => "replace",
            Builtin::NullIfEmpty => "null_if_empty",
            Builtin::Substring => "substring",
            Builtin::Length => "length",
            Builtin::Matches(_) => "matches",
            Builtin::ParseNumber => "parse_number",
            Builtin::ListIsSubset => "is_subset",
            Builtin::ListSameSet => "same_set",
            Builtin::ListOverlaps => "overlaps",
            Builtin::ListSize => "size",
            Builtin::HeaderValues => "header_values",
            Builtin::IsJson => "is_json",
            Builtin::RunDate => "run_date",
            Builtin::AddDays => "add_days",
            Builtin::IntToNumber => "number",
            Builtin::ParseInt => "parse_int",
            Builtin::ParseMoney(_) => "parse_money",
            Builtin::ParseDate(_) => "parse_date",
            Builtin::ParseMonth(_) => "parse_month",
            Builtin::FormatDate(_) => "format_date",
            Builtin::MonthOf => "month_of",
            Builtin::IsValidNric => "is_valid_nric",
            Builtin::IsValidSsm => "is_valid_ssm",
            Builtin::NricGender { .. } => "nric_gender",
        }
    }

    /// The family the function belongs to: where the compiler's table and the interpreter's
    /// kernels hold it.
    pub fn family(&self) -> BuiltinFamily {
        match self {
            Builtin::Trim
            | Builtin::Upper
            | Builtin::Lower
            | Builtin::RemoveChars(_)
            | Builtin::Replace(..)
            | Builtin::NullIfEmpty
            | Builtin::Substring
            | Builtin::Length
            | Builtin::Matches(_)
            | Builtin::IsJson => BuiltinFamily::Text,
            Builtin::IsValidNric | Builtin::IsValidSsm | Builtin::NricGender { .. } => BuiltinFamily::Nric,
            Builtin::ParseInt
            | Builtin::ParseNumber
            | Builtin::ParseMoney(_)
            | Builtin::ParseDate(_)
            | Builtin::ParseMonth(_) => BuiltinFamily::Parse,
            Builtin::RunDate | Builtin::AddDays | Builtin::FormatDate(_) | Builtin::MonthOf => BuiltinFamily::Date,
            Builtin::ListIsSubset
            | Builtin::ListSameSet
            | Builtin::ListOverlaps
            | Builtin::ListSize
            | Builtin::HeaderValues => BuiltinFamily::List,
            Builtin::IntToNumber => BuiltinFamily::Arith,
        }
    }
}
