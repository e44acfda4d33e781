//! The built-in functions a spec can call: their signatures, fallibility and documentation.
//!
//! One table drives type checking, "did you mean" suggestions and the function reference in
//! `docs/language.md` (a test checks that every function here is documented there). Constant
//! arguments (formats, units, patterns) are checked at compile time and folded into the IR's
//! `Builtin` variant, so back ends never interpret them per row.

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
    ),
    pure(
        "add_days",
        "add_days(value: date, days: int) -> date",
        &[Param::Data(DATE), Param::Data(INT)],
        TypeKind::Date,
        "The date that many days later (earlier when negative).",
    ),
    pure(
        "looks_like_date",
        "looks_like_date(value: text) -> bool",
        &[Param::Data(TEXT)],
        TypeKind::Bool,
        "True when the text is a real date in a common layout: yyyy-mm-dd, dd/mm/yyyy, mm/dd/yyyy, yyyy/mm/dd, dd-mm-yyyy, dd.mm.yyyy or yyyymmdd.",
    ),
    pure(
        "type_of",
        "type_of(value) -> text",
        &[Param::Data(ANY)],
        TypeKind::Text,
        "The declared type of a value, known when the spec compiles: `int`, `number`, `text`, a code type's name...",
    ),
    pure(
        "header_values",
        "header_values() -> list of text",
        &[],
        TypeKind::Null,
        "The header's text fields as a list, e.g. the column names a header line lists (file checks only).",
    ),
    pure(
        "is_json",
        "is_json(value: text) -> bool",
        &[Param::Data(TEXT)],
        TypeKind::Bool,
        "True when the text is one JSON value.",
    ),
    Signature {
        kind: BuiltinKind::Aggregate,
        ..pure(
            "distinct_values",
            "distinct_values(value) -> list",
            &[Param::Data(ANY)],
            TypeKind::Null,
            "The distinct non-null values, sorted (file checks only).",
        )
    },
    Signature {
        kind: BuiltinKind::Aggregate,
        ..pure(
            "modes",
            "modes(value) -> list",
            &[Param::Data(ANY)],
            TypeKind::Null,
            "The most common non-null values (all of them when tied), sorted (file checks only).",
        )
    },
    pure(
        "is_subset",
        "is_subset(a: list, b: list) -> bool",
        &[Param::Data(ANY), Param::Data(ANY)],
        TypeKind::Bool,
        "Every element of a is in b.",
    ),
    pure(
        "contains_all",
        "contains_all(a: list, b: list) -> bool",
        &[Param::Data(ANY), Param::Data(ANY)],
        TypeKind::Bool,
        "Every element of b is in a.",
    ),
    pure(
        "same_set",
        "same_set(a: list, b: list) -> bool",
        &[Param::Data(ANY), Param::Data(ANY)],
        TypeKind::Bool,
        "a and b hold the same elements.",
    ),
    pure(
        "overlaps",
        "overlaps(a: list, b: list) -> bool",
        &[Param::Data(ANY), Param::Data(ANY)],
        TypeKind::Bool,
        "Some element is in both a and b.",
    ),
    pure("size", "size(a: list) -> int", &[Param::Data(ANY)], TypeKind::Int, "The number of elements of a list."),
    pure(
        "trim",
        "trim(value: text) -> text",
        &[Param::Data(TEXT)],
        TypeKind::Text,
        "Removes leading and trailing whitespace.",
    ),
    pure("upper", "upper(value: text) -> text", &[Param::Data(TEXT)], TypeKind::Text, "Upper-cases the text."),
    pure("lower", "lower(value: text) -> text", &[Param::Data(TEXT)], TypeKind::Text, "Lower-cases the text."),
    pure(
        "remove_chars",
        "remove_chars(value: text, chars: \"...\") -> text",
        &[Param::Data(TEXT), Param::ConstText("character set")],
        TypeKind::Text,
        "Removes every character that appears in `chars`, e.g. `ID_NO.remove_chars(\"- \")`.",
    ),
    pure(
        "replace",
        "replace(value: text, from: \"...\", to: \"...\") -> text",
        &[Param::Data(TEXT), Param::ConstText("text to find"), Param::ConstText("replacement")],
        TypeKind::Text,
        "Replaces every occurrence of `from` with `to`.",
    ),
    Signature {
        always_nullable: true,
        ..pure(
            "null_if_empty",
            "null_if_empty(value: text) -> text?",
            &[Param::Data(TEXT)],
            TypeKind::Text,
            "Null when the text is empty, the text otherwise.",
        )
    },
    pure(
        "substring",
        "substring(value: text, start: int, length: int) -> text",
        &[Param::Data(TEXT), Param::Data(INT), Param::Data(INT)],
        TypeKind::Text,
        "The `length` characters from position `start` (0-based), clamped to the text.",
    ),
    pure("length", "length(value: text) -> int", &[Param::Data(TEXT)], TypeKind::Int, "The number of characters."),
    pure(
        "matches",
        "matches(value: text, pattern: \"regex\") -> bool",
        &[Param::Data(TEXT), Param::ConstText("regular expression")],
        TypeKind::Bool,
        "True when the regular expression matches somewhere in the text; anchor it with `^...$` to match the whole text.",
    ),
    pure(
        "is_valid_nric",
        "is_valid_nric(value: text) -> bool",
        &[Param::Data(TEXT)],
        TypeKind::Bool,
        "A Malaysian NRIC: 12 digits, a real YYMMDD birth date (either century), a known place-of-birth code.",
    ),
    pure(
        "is_valid_ssm",
        "is_valid_ssm(value: text) -> bool",
        &[Param::Data(TEXT)],
        TypeKind::Bool,
        "A 12-digit SSM company number: year 19xx/20xx, entity type 01-06, six digits.",
    ),
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
    },
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
    },
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
    },
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
    },
    Signature {
        kind: BuiltinKind::Fallible,
        failure: "a text that does not match the format, or is not a real calendar date, fails",
        ..pure(
            "parse_date",
            "parse_date(value: text, format: \"%d/%m/%Y\") -> date",
            &[Param::Data(TEXT), Param::ConstText("date format")],
            TypeKind::Date,
            "Reads a date in a fixed format (%Y four-digit year, %m month, %d day, two digits each).",
        )
    },
    Signature {
        kind: BuiltinKind::Fallible,
        failure: "a text that does not match the format fails",
        ..pure(
            "parse_month",
            "parse_month(value: text, format: \"%Y%m\") -> month",
            &[Param::Data(TEXT), Param::ConstText("month format")],
            TypeKind::Month,
            "Reads a month such as `202506` in a fixed format.",
        )
    },
    pure(
        "format_date",
        "format_date(value: date | month, format: \"%y%m%d\") -> text",
        &[Param::Data(DATE_OR_MONTH), Param::ConstText("date format")],
        TypeKind::Text,
        "Writes a date as text (%Y, %y, %m, %d).",
    ),
    Signature {
        kind: BuiltinKind::Aggregate,
        ..pure(
            "count",
            "count() -> int",
            &[],
            TypeKind::Int,
            "The number of data lines in the file (file checks only).",
        )
    },
    Signature {
        kind: BuiltinKind::Aggregate,
        ..pure(
            "count_broken",
            "count_broken(RULE) -> int",
            &[Param::Rule],
            TypeKind::Int,
            "The number of data lines that broke the rule, e.g. `count_broken(R0)` for malformed lines (file checks only).",
        )
    },
    Signature {
        kind: BuiltinKind::Aggregate,
        ..pure(
            "count_where",
            "count_where(condition: bool) -> int",
            &[Param::Data(ANY)],
            TypeKind::Int,
            "The number of data lines where the condition is true (file checks only).",
        )
    },
    Signature {
        kind: BuiltinKind::Aggregate,
        ..pure(
            "count_distinct",
            "count_distinct(value) -> int",
            &[Param::Data(ANY)],
            TypeKind::Int,
            "The number of distinct non-null values (file checks only).",
        )
    },
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
    },
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
    },
    Signature {
        kind: BuiltinKind::Aggregate,
        ..pure(
            "mean",
            "mean(value: int | money | number | bool) -> number",
            &[Param::Data(ANY)],
            TypeKind::Number,
            "The mean of the non-null values; of a bool, the share of `true` (file checks only).",
        )
    },
    Signature {
        kind: BuiltinKind::Aggregate,
        ..pure(
            "stdev",
            "stdev(value: int | money | number) -> number",
            &[Param::Data(ANY)],
            TypeKind::Number,
            "The sample standard deviation of the non-null values (file checks only).",
        )
    },
    Signature {
        kind: BuiltinKind::Aggregate,
        ..pure(
            "median",
            "median(value: int | money | number) -> number",
            &[Param::Data(ANY)],
            TypeKind::Number,
            "The median of the non-null values (file checks only).",
        )
    },
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
    },
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
    },
];

/// The signature of a built-in by name.
pub fn lookup(name: &str) -> Option<&'static Signature> {
    ALL.iter().find(|s| s.name == name)
}
