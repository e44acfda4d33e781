//! The built-in functions a spec can call: their signatures, fallibility and documentation.
//!
//! One table drives type checking, "did you mean" suggestions, completion, and the function
//! reference: `docs/functions.md` is generated from it ([`reference_markdown`]), and
//! `docs/language.md` lists every function too (tests check both). Each function carries
//! [`Example`]s, which the tests run on both engines, so the reference shows only results that
//! hold. Constant arguments (formats, units, patterns) are checked at compile time and folded into
//! the IR's `Builtin` variant, so back ends never interpret them per row.

use etr_ir::{Builtin, TypeKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuiltinKind {
    /// Cannot fail; null in gives null out.
    Pure,
    /// Can fail on data: the spec must handle it with `else`.
    Fallible,
    /// Runs over every data line of the file (file checks only).
    Aggregate,
}

/// A data argument's accepted kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgKind {
    Text,
    Int,
    Date,
    Month,
    Number,
}

impl ArgKind {
    pub fn accepts(self, kind: TypeKind) -> bool {
        kind == TypeKind::Null
            || match self {
                ArgKind::Text => kind == TypeKind::Text,
                ArgKind::Int => kind == TypeKind::Int,
                ArgKind::Date => kind == TypeKind::Date,
                ArgKind::Month => kind == TypeKind::Month,
                ArgKind::Number => matches!(kind, TypeKind::Int | TypeKind::Money | TypeKind::Number),
            }
    }

    pub fn name(self) -> &'static str {
        match self {
            ArgKind::Text => "text",
            ArgKind::Int => "an int",
            ArgKind::Date => "a date",
            ArgKind::Month => "a month",
            ArgKind::Number => "an int, a number or money",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Param {
    /// A value computed per row.
    Data(&'static [ArgKind]),
    /// A string that must be written in the spec (a format, a pattern, a character set).
    ConstText(&'static str),
    /// `ringgit` or `sen`.
    MoneyUnit,
    /// A rule id, written as is (`R0`).
    Rule,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultType {
    Fixed(TypeKind),
    /// The `Gender` code type (its index is in the lowered `Builtin`).
    Gender,
    /// The same as the first argument.
    SameAsArg,
}

impl ResultType {
    pub fn kind(self, function: &Builtin) -> TypeKind {
        match (self, function) {
            (ResultType::Fixed(kind), _) => kind,
            (ResultType::Gender, Builtin::NricGender { code_type, .. }) => TypeKind::Code(*code_type),
            (ResultType::Gender, _) => TypeKind::Null,
            (ResultType::SameAsArg, _) => TypeKind::Int,
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Signature {
    pub name: &'static str,
    /// As shown in help and docs.
    pub signature: &'static str,
    pub params: &'static [Param],
    pub result: ResultType,
    pub kind: BuiltinKind,
    /// The result can be null even when every argument is present.
    pub always_nullable: bool,
    /// For fallible functions: when they fail, in words.
    pub failure: &'static str,
    pub doc: &'static str,
    /// Calls with their data and results, run by the tests and shown in the reference.
    pub examples: &'static [Example],
}

impl Signature {
    /// The same signature with its examples.
    const fn with_examples(self, examples: &'static [Example]) -> Signature {
        Signature { examples, ..self }
    }
}

/// Where an example's call is evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExampleScope {
    /// Per data line, in a `let`: the example has one line.
    Row,
    /// In a file check, over every data line (aggregates, and what only file checks may read).
    File,
}

/// A call and what it gives, on given data. The tests (`tests/tests/doc_examples.rs`) run
/// each one in a spec of its own, on both engines, and [`reference_markdown`] shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Example {
    pub scope: ExampleScope,
    /// The call as a spec writes it; it reads the columns `X` and `Y` of the data lines.
    pub call: &'static str,
    /// The data lines, `X|Y`, after a header line `H|ACCT|BAL` (the header's text fields).
    pub lines: &'static [&'static str],
    /// The result as a spec writes it (`"a b"`, `42`, `-RM1234.50`, `2.5`, `true`, `null`, a list
    /// `["a", "b"]`), or a date as `2025-06-30` (dates have no literal).
    pub result: &'static str,
}

/// The `as of` date the examples run with (`run_date()` gives it).
pub const EXAMPLES_AS_OF: &str = "2025-07-01";

const fn row(call: &'static str, lines: &'static [&'static str], result: &'static str) -> Example {
    Example { scope: ExampleScope::Row, call, lines, result }
}

const fn file(call: &'static str, lines: &'static [&'static str], result: &'static str) -> Example {
    Example { scope: ExampleScope::File, call, lines, result }
}

const TEXT: &[ArgKind] = &[ArgKind::Text];
const INT: &[ArgKind] = &[ArgKind::Int];
const DATE_OR_MONTH: &[ArgKind] = &[ArgKind::Date, ArgKind::Month];
const NUMBER: &[ArgKind] = &[ArgKind::Number];
const DATE: &[ArgKind] = &[ArgKind::Date];
/// Aggregates check their own argument types.
const ANY: &[ArgKind] = &[];

const fn pure(
    name: &'static str,
    signature: &'static str,
    params: &'static [Param],
    result: TypeKind,
    doc: &'static str,
) -> Signature {
    Signature {
        name,
        signature,
        params,
        result: ResultType::Fixed(result),
        kind: BuiltinKind::Pure,
        always_nullable: false,
        failure: "",
        doc,
        examples: &[],
    }
}

/// Every built-in function, in documentation order.
pub const ALL: &[Signature] = &[
    pure(
        "run_date",
        "run_date() -> date",
        &[],
        TypeKind::Date,
        "The date the run is as of: `etr run --as-of`, by default the day the run starts; recorded in the summary.",
    )
    .with_examples(&[
        row("run_date()", &["a|b"], "2025-07-01"),
    ]),
    pure(
        "add_days",
        "add_days(value: date, days: int) -> date",
        &[Param::Data(DATE), Param::Data(INT)],
        TypeKind::Date,
        "The date that many days later (earlier when negative).",
    )
    .with_examples(&[
        row("add_days(parse_date(X, \"%Y-%m-%d\") else null, 30)", &["2025-06-15|"], "2025-07-15"),
        row("add_days(parse_date(X, \"%Y-%m-%d\") else null, -1)", &["2024-03-01|"], "2024-02-29"),
    ]),
    pure(
        "looks_like_date",
        "looks_like_date(value: text) -> bool",
        &[Param::Data(TEXT)],
        TypeKind::Bool,
        "True when the text is a real date in a common layout: yyyy-mm-dd, dd/mm/yyyy, mm/dd/yyyy, yyyy/mm/dd, dd-mm-yyyy, dd.mm.yyyy or yyyymmdd.",
    )
    .with_examples(&[
        row("looks_like_date(X)", &["31/12/2025|"], "true"),
        row("looks_like_date(X)", &["31/13/2025|"], "false"),
    ]),
    pure(
        "type_of",
        "type_of(value) -> text",
        &[Param::Data(ANY)],
        TypeKind::Text,
        "The declared type of a value, known when the spec compiles: `int`, `number`, `text`, a code type's name...",
    )
    .with_examples(&[
        row("type_of(parse_int(X) else null)", &["7|"], "\"int\""),
    ]),
    pure(
        "header_values",
        "header_values() -> list of text",
        &[],
        TypeKind::Null,
        "The header's text fields as a list, e.g. the column names a header line lists (file checks only).",
    )
    .with_examples(&[
        file("header_values()", &["a|b"], "[\"ACCT\", \"BAL\"]"),
    ]),
    pure(
        "is_json",
        "is_json(value: text) -> bool",
        &[Param::Data(TEXT)],
        TypeKind::Bool,
        "True when the text is one JSON value.",
    )
    .with_examples(&[
        row("is_json(X)", &["{\"a\": [1, 2]}|"], "true"),
        row("is_json(X)", &["{a: 1}|"], "false"),
    ]),
    Signature {
        kind: BuiltinKind::Aggregate,
        ..pure(
            "distinct_values",
            "distinct_values(value) -> list",
            &[Param::Data(ANY)],
            TypeKind::Null,
            "The distinct non-null values, sorted (file checks only).",
        )
    }
    .with_examples(&[
        file("distinct_values(X)", &["b|", "a|", "b|", "|"], "[\"a\", \"b\"]"),
    ]),
    Signature {
        kind: BuiltinKind::Aggregate,
        ..pure(
            "modes",
            "modes(value) -> list",
            &[Param::Data(ANY)],
            TypeKind::Null,
            "The most common non-null values (all of them when tied), sorted (file checks only).",
        )
    }
    .with_examples(&[
        file("modes(X)", &["b|", "a|", "b|"], "[\"b\"]"),
    ]),
    pure(
        "is_subset",
        "is_subset(a: list, b: list) -> bool",
        &[Param::Data(ANY), Param::Data(ANY)],
        TypeKind::Bool,
        "Every element of a is in b.",
    )
    .with_examples(&[
        row("is_subset([\"a\"], [\"a\", \"b\"])", &["a|b"], "true"),
    ]),
    pure(
        "contains_all",
        "contains_all(a: list, b: list) -> bool",
        &[Param::Data(ANY), Param::Data(ANY)],
        TypeKind::Bool,
        "Every element of b is in a.",
    )
    .with_examples(&[
        row("contains_all([\"a\", \"b\"], [\"a\"])", &["a|b"], "true"),
    ]),
    pure(
        "same_set",
        "same_set(a: list, b: list) -> bool",
        &[Param::Data(ANY), Param::Data(ANY)],
        TypeKind::Bool,
        "a and b hold the same elements.",
    )
    .with_examples(&[
        row("same_set([\"a\", \"b\"], [\"b\", \"a\"])", &["a|b"], "true"),
    ]),
    pure(
        "overlaps",
        "overlaps(a: list, b: list) -> bool",
        &[Param::Data(ANY), Param::Data(ANY)],
        TypeKind::Bool,
        "Some element is in both a and b.",
    )
    .with_examples(&[
        row("overlaps([\"a\", \"b\"], [\"b\", \"c\"])", &["a|b"], "true"),
    ]),
    pure("size", "size(a: list) -> int", &[Param::Data(ANY)], TypeKind::Int, "The number of elements of a list.")
    .with_examples(&[
        row("size([\"a\", \"b\", \"c\"])", &["a|b"], "3"),
    ]),
    pure(
        "trim",
        "trim(value: text) -> text",
        &[Param::Data(TEXT)],
        TypeKind::Text,
        "Removes leading and trailing whitespace.",
    )
    .with_examples(&[
        row("trim(X)", &["  a b  |"], "\"a b\""),
    ]),
    pure("upper", "upper(value: text) -> text", &[Param::Data(TEXT)], TypeKind::Text, "Upper-cases the text.")
    .with_examples(&[
        row("upper(X)", &["Jalan Ampang|"], "\"JALAN AMPANG\""),
    ]),
    pure("lower", "lower(value: text) -> text", &[Param::Data(TEXT)], TypeKind::Text, "Lower-cases the text.")
    .with_examples(&[
        row("lower(X)", &["JCL|"], "\"jcl\""),
    ]),
    pure(
        "remove_chars",
        "remove_chars(value: text, chars: \"...\") -> text",
        &[Param::Data(TEXT), Param::ConstText("character set")],
        TypeKind::Text,
        "Removes every character that appears in `chars`, e.g. `ID_NO.remove_chars(\"- \")`.",
    )
    .with_examples(&[
        row("remove_chars(X, \"- \")", &["850101-14-5678|"], "\"850101145678\""),
    ]),
    pure(
        "replace",
        "replace(value: text, from: \"...\", to: \"...\") -> text",
        &[Param::Data(TEXT), Param::ConstText("text to find"), Param::ConstText("replacement")],
        TypeKind::Text,
        "Replaces every occurrence of `from` with `to`.",
    )
    .with_examples(&[
        row("replace(X, \"JLN\", \"JALAN\")", &["JLN AMPANG|"], "\"JALAN AMPANG\""),
    ]),
    Signature {
        always_nullable: true,
        ..pure(
            "null_if_empty",
            "null_if_empty(value: text) -> text?",
            &[Param::Data(TEXT)],
            TypeKind::Text,
            "Null when the text is empty, the text otherwise.",
        )
    }
    .with_examples(&[
        row("null_if_empty(trim(X))", &["   |"], "null"),
        row("null_if_empty(X)", &["a|"], "\"a\""),
    ]),
    pure(
        "substring",
        "substring(value: text, start: int, length: int) -> text",
        &[Param::Data(TEXT), Param::Data(INT), Param::Data(INT)],
        TypeKind::Text,
        "The `length` characters from position `start` (0-based), clamped to the text.",
    )
    .with_examples(&[
        row("substring(X, 0, 6)", &["850101145678|"], "\"850101\""),
        row("substring(X, 4, 10)", &["Zoë Tan|"], "\"Tan\""),
    ]),
    pure("length", "length(value: text) -> int", &[Param::Data(TEXT)], TypeKind::Int, "The number of characters.")
    .with_examples(&[
        row("length(X)", &["Zoë|"], "3"),
    ]),
    pure(
        "matches",
        "matches(value: text, pattern: \"regex\") -> bool",
        &[Param::Data(TEXT), Param::ConstText("regular expression")],
        TypeKind::Bool,
        "True when the regular expression matches somewhere in the text; anchor it with `^...$` to match the whole text.",
    )
    .with_examples(&[
        row("matches(X, \"^[0-9]{12}$\")", &["850101145678|"], "true"),
        row("matches(X, \"^[0-9]{12}$\")", &["850101-14-5678|"], "false"),
    ]),
    pure(
        "is_valid_nric",
        "is_valid_nric(value: text) -> bool",
        &[Param::Data(TEXT)],
        TypeKind::Bool,
        "A Malaysian NRIC: 12 digits, a real YYMMDD birth date (either century), a known place-of-birth code.",
    )
    .with_examples(&[
        row("is_valid_nric(X)", &["850101145678|"], "true"),
        row("is_valid_nric(X)", &["851301145678|"], "false"),
    ]),
    pure(
        "is_valid_ssm",
        "is_valid_ssm(value: text) -> bool",
        &[Param::Data(TEXT)],
        TypeKind::Bool,
        "A 12-digit SSM company number: year 19xx/20xx, entity type 01-06, six digits.",
    )
    .with_examples(&[
        row("is_valid_ssm(X)", &["201901000005|"], "true"),
        row("is_valid_ssm(X)", &["201907000005|"], "false"),
    ]),
    Signature {
        result: ResultType::Gender,
        always_nullable: true,
        ..pure(
            "nric_gender",
            "nric_gender(value: text) -> Gender?",
            &[Param::Data(TEXT)],
            TypeKind::Null,
            "The gender an NRIC encodes: M when its last digit is odd, F when even.",
        )
    }
    .with_examples(&[
        row("nric_gender(X)", &["850101145678|"], "\"F\""),
        row("nric_gender(X)", &["850101145677|"], "\"M\""),
    ]),
    Signature {
        kind: BuiltinKind::Fallible,
        failure: "a text that is not a whole number fails",
        ..pure(
            "parse_int",
            "parse_int(value: text) -> int",
            &[Param::Data(TEXT)],
            TypeKind::Int,
            "Reads a whole number, with an optional sign.",
        )
    }
    .with_examples(&[
        row("parse_int(X) else null", &["-42|"], "-42"),
        row("parse_int(X) else null", &["4.2|"], "null"),
    ]),
    Signature {
        kind: BuiltinKind::Fallible,
        failure: "a text that is not a number fails",
        ..pure(
            "parse_number",
            "parse_number(value: text) -> number",
            &[Param::Data(TEXT)],
            TypeKind::Number,
            "Reads a decimal number such as `-1.5` or `2e3` (a 64-bit float: not for money).",
        )
    }
    .with_examples(&[
        row("parse_number(X) else null", &["2e3|"], "2000.0"),
        row("parse_number(X) else null", &["nan|"], "null"),
    ]),
    Signature {
        kind: BuiltinKind::Fallible,
        failure: "a text that is not an amount fails",
        ..pure(
            "parse_money",
            "parse_money(value: text, ringgit | sen) -> money",
            &[Param::Data(TEXT), Param::MoneyUnit],
            TypeKind::Money,
            "Reads an amount exactly: `ringgit` for `1234.50` (up to two decimals), `sen` for `123450`.",
        )
    }
    .with_examples(&[
        row("parse_money(X, ringgit) else null", &["-1234.5|"], "-RM1234.50"),
        row("parse_money(X, sen) else null", &["123450|"], "RM1234.50"),
        row("parse_money(X, ringgit) else null", &["12.345|"], "null"),
    ]),
    Signature {
        kind: BuiltinKind::Fallible,
        failure: "a text that does not match the format, or is not a real calendar date of the years 0001-9999, fails",
        ..pure(
            "parse_date",
            "parse_date(value: text, format: \"%d/%m/%Y\") -> date",
            &[Param::Data(TEXT), Param::ConstText("date format")],
            TypeKind::Date,
            "Reads a date in a fixed format (%Y four-digit year, %m month, %d day, two digits each).",
        )
    }
    .with_examples(&[
        row("parse_date(X, \"%d/%m/%Y\") else null", &["29/02/2024|"], "2024-02-29"),
        row("parse_date(X, \"%d/%m/%Y\") else null", &["29/02/2025|"], "null"),
        row("parse_date(X, \"%d/%m/%Y\") else null", &["01/01/0000|"], "null"),
    ]),
    Signature {
        kind: BuiltinKind::Fallible,
        failure: "a text that does not match the format, or a month of year 0000, fails",
        ..pure(
            "parse_month",
            "parse_month(value: text, format: \"%Y%m\") -> month",
            &[Param::Data(TEXT), Param::ConstText("month format")],
            TypeKind::Month,
            "Reads a month such as `202506` in a fixed format.",
        )
    }
    .with_examples(&[
        row("parse_month(X, \"%Y%m\") else null", &["202506|"], "2025-06-01"),
        row("parse_month(X, \"%Y%m\") else null", &["000012|"], "null"),
    ]),
    pure(
        "format_date",
        "format_date(value: date | month, format: \"%y%m%d\") -> text",
        &[Param::Data(DATE_OR_MONTH), Param::ConstText("date format")],
        TypeKind::Text,
        "Writes a date as text (%Y, %y, %m, %d).",
    )
    .with_examples(&[
        row("format_date(parse_date(X, \"%Y-%m-%d\") else null, \"%y%m%d\")", &["1985-01-01|"], "\"850101\""),
    ]),
    Signature {
        kind: BuiltinKind::Aggregate,
        ..pure(
            "count",
            "count() -> int",
            &[],
            TypeKind::Int,
            "The number of data lines in the file (file checks only).",
        )
    }
    .with_examples(&[
        file("count()", &["a|", "b|", "c|"], "3"),
    ]),
    Signature {
        kind: BuiltinKind::Aggregate,
        ..pure(
            "count_broken",
            "count_broken(RULE) -> int",
            &[Param::Rule],
            TypeKind::Int,
            "The number of data lines that broke the rule, e.g. `count_broken(R0)` for malformed lines (file checks only).",
        )
    }
    .with_examples(&[
        file("count_broken(R0)", &["a|b", "a|b|c", "a|b"], "1"),
    ]),
    Signature {
        kind: BuiltinKind::Aggregate,
        ..pure(
            "count_where",
            "count_where(condition: bool) -> int",
            &[Param::Data(ANY)],
            TypeKind::Int,
            "The number of data lines where the condition is true (file checks only).",
        )
    }
    .with_examples(&[
        file("count_where(X == \"a\")", &["a|", "b|", "a|"], "2"),
    ]),
    Signature {
        kind: BuiltinKind::Aggregate,
        ..pure(
            "count_distinct",
            "count_distinct(value) -> int",
            &[Param::Data(ANY)],
            TypeKind::Int,
            "The number of distinct non-null values (file checks only).",
        )
    }
    .with_examples(&[
        file("count_distinct(X)", &["a|", "b|", "a|", "|"], "2"),
    ]),
    Signature {
        kind: BuiltinKind::Aggregate,
        result: ResultType::SameAsArg,
        ..pure(
            "min",
            "min(value) -> same type",
            &[Param::Data(ANY)],
            TypeKind::Int,
            "The smallest non-null value: of ints, money, numbers, dates, months or text (file checks only).",
        )
    }
    .with_examples(&[
        file("min(parse_int(X) else null)", &["3|", "1|", "2|"], "1"),
    ]),
    Signature {
        kind: BuiltinKind::Aggregate,
        result: ResultType::SameAsArg,
        ..pure(
            "max",
            "max(value) -> same type",
            &[Param::Data(ANY)],
            TypeKind::Int,
            "The largest non-null value (file checks only).",
        )
    }
    .with_examples(&[
        file("max(parse_date(X, \"%Y-%m-%d\") else null)", &["2025-01-31|", "2025-03-01|", "|"], "2025-03-01"),
    ]),
    Signature {
        kind: BuiltinKind::Aggregate,
        ..pure(
            "mean",
            "mean(value: int | money | number | bool) -> number",
            &[Param::Data(ANY)],
            TypeKind::Number,
            "The mean of the non-null values; of a bool, the share of `true` (file checks only).",
        )
    }
    .with_examples(&[
        file("mean(parse_int(X) else null)", &["1|", "2|", "3|", "4|", "|"], "2.5"),
    ]),
    Signature {
        kind: BuiltinKind::Aggregate,
        ..pure(
            "stdev",
            "stdev(value: int | money | number) -> number",
            &[Param::Data(ANY)],
            TypeKind::Number,
            "The sample standard deviation of the non-null values (file checks only).",
        )
    }
    .with_examples(&[
        file("stdev(parse_int(X) else null)", &["1|", "3|", "5|"], "2.0"),
    ]),
    Signature {
        kind: BuiltinKind::Aggregate,
        ..pure(
            "median",
            "median(value: int | money | number) -> number",
            &[Param::Data(ANY)],
            TypeKind::Number,
            "The median of the non-null values (file checks only).",
        )
    }
    .with_examples(&[
        file("median(parse_int(X) else null)", &["1|", "2|", "3|", "4|"], "2.5"),
    ]),
    Signature {
        kind: BuiltinKind::Aggregate,
        result: ResultType::SameAsArg,
        ..pure(
            "quantile",
            "quantile(value, q: 0..1) -> same type",
            &[Param::Data(ANY), Param::Data(ANY)],
            TypeKind::Int,
            "The value at quantile q by nearest rank (file checks only).",
        )
    }
    .with_examples(&[
        file("quantile(parse_int(X) else null, 0.75)", &["1|", "2|", "3|", "4|"], "3"),
    ]),
    Signature {
        kind: BuiltinKind::Aggregate,
        result: ResultType::SameAsArg,
        ..pure(
            "sum",
            "sum(value: int | money) -> int | money",
            &[Param::Data(NUMBER)],
            TypeKind::Int,
            "The sum of the non-null values over every data line (file checks only).",
        )
    }
    .with_examples(&[
        file("sum(parse_money(X, ringgit) else null)", &["1.50|", "2.25|", "|"], "RM3.75"),
    ]),
];

/// The signature of a built-in by name.
pub fn lookup(name: &str) -> Option<&'static Signature> {
    ALL.iter().find(|s| s.name == name)
}

/// The function reference, `docs/functions.md`, as Markdown: every function of [`ALL`] in order,
/// with its signature, what it does, when it fails, and its examples. A test compares it with the
/// committed file (`UPDATE_EXPECT=1` rewrites it).
pub fn reference_markdown() -> String {
    let mut out = format!(
        "# Built-in functions\n\n\
         <!-- Generated from compiler/sema/src/builtins.rs; do not edit. Regenerate with\n     \
         UPDATE_EXPECT=1 cargo test -p etr-tests --test doc_examples -->\n\n\
         Every function a spec can call, with examples. The test suite runs each example on both\n\
         engines, in a spec of its own: the call reads the columns `X` and `Y` of the data lines\n\
         shown (`X|Y`), which follow a header line `H|ACCT|BAL`, and the run is `etr run --as-of\n\
         {EXAMPLES_AS_OF}`. A per-line example is the value of a `let`; an aggregate's is read by a\n\
         file check. The language reference (`docs/language.md`) says how calls, `else` and nulls work.\n",
    );
    for signature in ALL {
        out.push_str(&format!("\n## `{}`\n\n```\n{}\n```\n\n{}\n", signature.name, signature.signature, signature.doc));
        match signature.kind {
            BuiltinKind::Pure => {}
            BuiltinKind::Fallible => out.push_str(&format!(
                "\nFallible: {}; the spec says what happens then with `else` (`else null`, `else reject R1`, ...).\n",
                signature.failure
            )),
            BuiltinKind::Aggregate => {
                out.push_str("\nAn aggregate: computed over every data line of the file, nulls skipped.\n")
            }
        }
        if signature.examples.is_empty() {
            continue;
        }
        out.push_str("\n| call | data lines | result |\n|---|---|---|\n");
        for example in signature.examples {
            let lines: Vec<String> =
                example.lines.iter().map(|line| format!("`{}`", line.replace('|', "\\|"))).collect();
            out.push_str(&format!(
                "| `{}` | {} | `{}` |\n",
                example.call.replace('|', "\\|"),
                lines.join(" "),
                example.result.replace('|', "\\|")
            ));
        }
    }
    out
}
