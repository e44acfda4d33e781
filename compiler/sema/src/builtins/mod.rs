//! The built-in functions a spec can call: one table entry per function, in one file per family
//! (`text`, `nric`, `parse`, `date`, `list`, `aggregate`), the families of the IR's
//! `BuiltinFamily` and of the interpreter's `kernels/<family>.rs`.
//!
//! An entry ([`Signature`]) is everything the compiler knows of a function: its parameters and
//! result type, fallibility, documentation, examples, and its lowering hook, the code that turns
//! a checked call into IR. The checker knows no function by name: it looks the entry up and does
//! what the entry's lowering says. So a new per-value function is its entry here, its IR variant,
//! and its kernel arm in the interpreter.
//!
//! One table drives type checking, lowering, "did you mean" suggestions, completion and hover in
//! the editor, and the function reference: `docs/functions.md` is generated from it
//! ([`reference_markdown`]), and `docs/language.md` lists every function too (tests check both).
//! Each function carries [`Example`]s, which the tests run on both engines, so the reference shows
//! only results that hold. Constant arguments (formats, units, patterns) are checked at compile
//! time and folded into the IR's `Builtin` variant, so back ends never interpret them per row.
//!
//! Boundary: the signature data is public (the editor and the documentation tests read it); the
//! lowering hooks, which drive the checker, are the crate's own.

pub mod aggregate;
pub mod date;
pub mod list;
pub mod nric;
pub mod parse;
#[cfg(test)]
mod tests;
pub mod text;

use etr_ir::{self as ir, TypeKind};
use etr_syntax::ast;

use crate::check::Checker;
use crate::check::calls::{Call, ValueCall};

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
    /// A value computed per row, of one of the kinds (any kind when empty: the function checks it).
    Data(&'static [ArgKind]),
    /// A string that must be written in the spec (a format, a pattern, a character set).
    ConstText(&'static str),
    /// `ringgit` or `sen`.
    MoneyUnit,
    /// A rule id, written as is (`R0`).
    Rule,
}

/// The type of a call's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultType {
    Fixed(TypeKind),
    /// The type of the first data argument (`sum`, `min`, `max`, `quantile`).
    SameAsArg,
    /// A list of the first data argument's values (`distinct_values`, `modes`).
    ListOfArg,
    /// The code type of that name, which must be in scope (`nric_gender` gives a `Gender`).
    Code(&'static str),
}

/// Why a call's result has no type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NoResultType {
    /// The argument's values cannot be listed.
    NotListable(TypeKind),
    /// The code type the function returns is not declared.
    CodeNotInScope(&'static str),
    /// The result takes the argument's type, but the call has no data argument: a mistake in the
    /// table, which `builtins::tests` rules out.
    NoArgument,
}

impl ResultType {
    /// The kind a call's result has, given the kind of its first data argument and the code
    /// types in scope.
    pub(crate) fn kind(
        self,
        first_arg: Option<TypeKind>,
        code_named: impl Fn(&str) -> Option<ir::CodeTypeIdx>,
    ) -> Result<TypeKind, NoResultType> {
        match self {
            ResultType::Fixed(kind) => Ok(kind),
            ResultType::SameAsArg => first_arg.ok_or(NoResultType::NoArgument),
            ResultType::ListOfArg => {
                let kind = first_arg.ok_or(NoResultType::NoArgument)?;
                ir::ListOf::of(kind).map(TypeKind::List).ok_or(NoResultType::NotListable(kind))
            }
            ResultType::Code(name) => code_named(name).map(TypeKind::Code).ok_or(NoResultType::CodeNotInScope(name)),
        }
    }
}

/// How a call of the function becomes IR: the table's half of the checker.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Lowering {
    /// A function of per-line values. The checker checks the data arguments against the
    /// parameters and reads the constant ones; the hook folds the constants into the IR variant
    /// (and may reject them: a regex that does not compile, a bad date format).
    Value(ValueHook),
    /// A call the hook lowers whole, its arguments and their checks included: sugar
    /// (`looks_like_date`), compile-time constants (`type_of`), the list functions.
    Whole(WholeHook),
    /// An aggregate over every data line of the file.
    Aggregate(AggregateLowering),
}

pub(crate) type ValueHook = fn(&mut ValueCall<'_, '_>) -> Option<ir::Builtin>;
pub(crate) type WholeHook = fn(&mut Checker<'_>, &Call<'_>) -> Option<ir::Expr>;
/// Builds the aggregate function from the call's arguments (`quantile` reads its constant q).
pub(crate) type AggregateHook = fn(&mut Checker<'_>, &[ast::Expr]) -> Option<ir::AggregateFunction>;

#[derive(Debug, Clone, Copy)]
pub(crate) enum AggregateLowering {
    /// `count()`: the number of data lines.
    Count,
    /// `count_broken(RULE)`: the number of data lines that broke a rule.
    LinesBroken,
    /// An aggregate of its first argument's per-line value, which must be of one of the kinds in
    /// `accepts` (of any kind but the null literal's when it is empty).
    Of { accepts: &'static [TypeKind], function: AggregateHook },
}

/// A family of functions, as the reference groups them.
#[derive(Debug, Clone, Copy)]
pub struct Family {
    pub title: &'static str,
    pub doc: &'static str,
    pub functions: &'static [Signature],
    /// The IR family of the functions' `Builtin` variants, and so the interpreter's kernel file
    /// that evaluates them; `None` for the aggregates, which the IR holds apart.
    pub ir_family: Option<ir::BuiltinFamily>,
}

#[derive(Debug, Clone, Copy)]
pub struct Signature {
    pub name: &'static str,
    /// As shown in help and docs.
    pub signature: &'static str,
    pub params: &'static [Param],
    pub result: ResultType,
    pub kind: BuiltinKind,
    /// The result can be null even when every argument is present (an aggregate: over no value).
    pub always_nullable: bool,
    /// A check that calls it is about the whole file (`header_values()`), like one that reads
    /// an aggregate.
    pub file_value: bool,
    /// For fallible functions: when they fail, in words.
    pub failure: &'static str,
    /// What to suggest when a data argument is text but should not be (empty: nothing).
    pub text_help: &'static str,
    pub doc: &'static str,
    /// Calls with their data and results, run by the tests and shown in the reference.
    pub examples: &'static [Example],
    pub(crate) lowering: Lowering,
}

impl Signature {
    /// The same signature with its examples.
    const fn with_examples(self, examples: &'static [Example]) -> Signature {
        Signature { examples, ..self }
    }

    /// The same signature, fallible: `failure` says when it fails.
    const fn fallible(self, failure: &'static str) -> Signature {
        Signature { kind: BuiltinKind::Fallible, failure, ..self }
    }

    /// The same signature, whose result may be null whatever its arguments.
    const fn nullable(self) -> Signature {
        Signature { always_nullable: true, ..self }
    }

    const fn returning(self, result: ResultType) -> Signature {
        Signature { result, ..self }
    }

    const fn with_text_help(self, text_help: &'static str) -> Signature {
        Signature { text_help, ..self }
    }

    const fn about_the_file(self) -> Signature {
        Signature { file_value: true, ..self }
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

/// Every family, in documentation order.
pub const FAMILIES: &[Family] =
    &[text::FAMILY, nric::FAMILY, parse::FAMILY, date::FAMILY, list::FAMILY, aggregate::FAMILY];

/// Every built-in function, family by family.
pub const ALL: &[Signature] = &concat::<{ count(FAMILIES) }>(FAMILIES);

const fn count(families: &[Family]) -> usize {
    let mut total = 0;
    let mut i = 0;
    while i < families.len() {
        total += families[i].functions.len();
        i += 1;
    }
    total
}

/// The families' functions in one array (a `const` cannot collect into a `Vec`).
const fn concat<const N: usize>(families: &[Family]) -> [Signature; N] {
    let mut out = [families[0].functions[0]; N];
    let mut at = 0;
    let mut i = 0;
    while i < families.len() {
        let mut j = 0;
        while j < families[i].functions.len() {
            out[at] = families[i].functions[j];
            at += 1;
            j += 1;
        }
        i += 1;
    }
    out
}

/// The signature of a built-in by name.
pub fn lookup(name: &str) -> Option<&'static Signature> {
    ALL.iter().find(|s| s.name == name)
}

/// The function reference, `docs/functions.md`, as Markdown: every family of [`FAMILIES`] with
/// its functions in order, each with its signature, what it does, when it fails, and its
/// examples. A test compares it with the committed file (`UPDATE_EXPECT=1` rewrites it).
pub fn reference_markdown() -> String {
    let mut out = format!(
        "# Built-in functions\n\n\
         <!-- Generated from compiler/sema/src/builtins/; do not edit. Regenerate with\n     \
         UPDATE_EXPECT=1 cargo test -p etr-tests --test doc_examples -->\n\n\
         Every function a spec can call, with examples. The test suite runs each example on both\n\
         engines, in a spec of its own: the call reads the columns `X` and `Y` of the data lines\n\
         shown (`X|Y`), which follow a header line `H|ACCT|BAL`, and the run is `etr run --as-of\n\
         {EXAMPLES_AS_OF}`. A per-line example is the value of a `let`; an aggregate's is read by a\n\
         file check. The language reference (`docs/language.md`) says how calls, `else` and nulls work.\n",
    );
    for family in FAMILIES {
        out.push_str(&format!("\n## {}\n\n{}\n", family.title, family.doc));
        for signature in family.functions {
            reference_entry(signature, &mut out);
        }
    }
    out
}

fn reference_entry(signature: &Signature, out: &mut String) {
    out.push_str(&format!("\n### `{}`\n\n```\n{}\n```\n\n{}\n", signature.name, signature.signature, signature.doc));
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
        return;
    }
    out.push_str("\n| call | data lines | result |\n|---|---|---|\n");
    for example in signature.examples {
        let lines: Vec<String> = example.lines.iter().map(|line| format!("`{}`", line.replace('|', "\\|"))).collect();
        out.push_str(&format!(
            "| `{}` | {} | `{}` |\n",
            example.call.replace('|', "\\|"),
            lines.join(" "),
            example.result.replace('|', "\\|")
        ));
    }
}

// The families' tables are written with these.

const fn row(call: &'static str, lines: &'static [&'static str], result: &'static str) -> Example {
    Example { scope: ExampleScope::Row, call, lines, result }
}

const fn file(call: &'static str, lines: &'static [&'static str], result: &'static str) -> Example {
    Example { scope: ExampleScope::File, call, lines, result }
}

const TEXT: &[ArgKind] = &[ArgKind::Text];
const INT: &[ArgKind] = &[ArgKind::Int];
const DATE: &[ArgKind] = &[ArgKind::Date];
const DATE_OR_MONTH: &[ArgKind] = &[ArgKind::Date, ArgKind::Month];
const NUMBER: &[ArgKind] = &[ArgKind::Number];
/// Any kind: the function checks its argument itself (lists, aggregates).
const ANY: &[ArgKind] = &[];

/// An entry with what most functions have: pure, with a result only as null as its arguments.
const fn entry(
    name: &'static str,
    signature: &'static str,
    params: &'static [Param],
    result: ResultType,
    doc: &'static str,
    lowering: Lowering,
) -> Signature {
    Signature {
        name,
        signature,
        params,
        result,
        kind: BuiltinKind::Pure,
        always_nullable: false,
        file_value: false,
        failure: "",
        text_help: "",
        doc,
        examples: &[],
        lowering,
    }
}

/// A function of per-line values with a fixed result type; `lower` picks its IR variant.
const fn value(
    name: &'static str,
    signature: &'static str,
    params: &'static [Param],
    result: TypeKind,
    doc: &'static str,
    lower: ValueHook,
) -> Signature {
    entry(name, signature, params, ResultType::Fixed(result), doc, Lowering::Value(lower))
}

/// A function whose whole call `lower` lowers.
const fn whole(
    name: &'static str,
    signature: &'static str,
    params: &'static [Param],
    result: TypeKind,
    doc: &'static str,
    lower: WholeHook,
) -> Signature {
    entry(name, signature, params, ResultType::Fixed(result), doc, Lowering::Whole(lower))
}

/// An aggregate over every data line.
const fn aggregate(
    name: &'static str,
    signature: &'static str,
    params: &'static [Param],
    result: ResultType,
    doc: &'static str,
    lowering: AggregateLowering,
) -> Signature {
    Signature {
        kind: BuiltinKind::Aggregate,
        ..entry(name, signature, params, result, doc, Lowering::Aggregate(lowering))
    }
}
