//! The text functions (the interpreter's `kernels/text.rs`), and `type_of`, which gives the
//! name of a value's type as text.
//!
//! Boundary: the entries are data for the checker, the editor and the docs; the hooks below reach
//! the checker through its `pub(crate)` methods only.

use etr_ir::{Builtin, TypeKind};

use super::{ANY, Family, INT, Param, Signature, TEXT, row, value, whole};
use crate::check::calls::{Call, ValueCall};
use crate::check::{Checker, literal_expr};
use crate::codes;

pub(super) const FAMILY: Family = Family {
    title: "Text",
    doc: "Functions of text, and `type_of`, which names the type of a value.",
    functions: FUNCTIONS,
    ir_family: Some(etr_ir::BuiltinFamily::Text),
};

const FUNCTIONS: &[Signature] = &[
    value(
        "trim",
        "trim(value: text) -> text",
        &[Param::Data(TEXT)],
        TypeKind::Text,
        "Removes leading and trailing whitespace.",
        |_| Some(Builtin::Trim),
    )
    .with_examples(&[
        row("trim(X)", &["  a b  |"], "\"a b\""),
    ]),
    value(
        "upper",
        "upper(value: text) -> text",
        &[Param::Data(TEXT)],
        TypeKind::Text,
        "Upper-cases the text.",
        |_| Some(Builtin::Upper),
    )
    .with_examples(&[
        row("upper(X)", &["Jalan Ampang|"], "\"JALAN AMPANG\""),
    ]),
    value(
        "lower",
        "lower(value: text) -> text",
        &[Param::Data(TEXT)],
        TypeKind::Text,
        "Lower-cases the text.",
        |_| Some(Builtin::Lower),
    )
    .with_examples(&[
        row("lower(X)", &["JCL|"], "\"jcl\""),
    ]),
    value(
        "remove_chars",
        "remove_chars(value: text, chars: \"...\") -> text",
        &[Param::Data(TEXT), Param::ConstText("character set")],
        TypeKind::Text,
        "Removes every character that appears in `chars`, e.g. `ID_NO.remove_chars(\"- \")`.",
        |call| Some(Builtin::RemoveChars(call.text(0).0)),
    )
    .with_examples(&[
        row("remove_chars(X, \"- \")", &["850101-14-5678|"], "\"850101145678\""),
    ]),
    value(
        "replace",
        "replace(value: text, from: \"...\", to: \"...\") -> text",
        &[Param::Data(TEXT), Param::ConstText("text to find"), Param::ConstText("replacement")],
        TypeKind::Text,
        "Replaces every occurrence of `from` with `to`.",
        |call| Some(Builtin::Replace(call.text(0).0, call.text(1).0)),
    )
    .with_examples(&[
        row("replace(X, \"JLN\", \"JALAN\")", &["JLN AMPANG|"], "\"JALAN AMPANG\""),
    ]),
    value(
        "null_if_empty",
        "null_if_empty(value: text) -> text?",
        &[Param::Data(TEXT)],
        TypeKind::Text,
        "Null when the text is empty, the text otherwise.",
        |_| Some(Builtin::NullIfEmpty),
    )
    .nullable()
    .with_examples(&[
        row("null_if_empty(trim(X))", &["   |"], "null"),
        row("null_if_empty(X)", &["a|"], "\"a\""),
    ]),
    value(
        "substring",
        "substring(value: text, start: int, length: int) -> text",
        &[Param::Data(TEXT), Param::Data(INT), Param::Data(INT)],
        TypeKind::Text,
        "The `length` characters from position `start` (0-based), clamped to the text.",
        |_| Some(Builtin::Substring),
    )
    .with_examples(&[
        row("substring(X, 0, 6)", &["850101145678|"], "\"850101\""),
        row("substring(X, 4, 10)", &["Zoë Tan|"], "\"Tan\""),
    ]),
    value(
        "length",
        "length(value: text) -> int",
        &[Param::Data(TEXT)],
        TypeKind::Int,
        "The number of characters.",
        |_| Some(Builtin::Length),
    )
    .with_examples(&[
        row("length(X)", &["Zoë|"], "3"),
    ]),
    value(
        "matches",
        "matches(value: text, pattern: \"regex\") -> bool",
        &[Param::Data(TEXT), Param::ConstText("regular expression")],
        TypeKind::Bool,
        "True when the regular expression matches somewhere in the text; anchor it with `^...$` to match the whole text.",
        lower_matches,
    )
    .with_examples(&[
        row("matches(X, \"^[0-9]{12}$\")", &["850101145678|"], "true"),
        row("matches(X, \"^[0-9]{12}$\")", &["850101-14-5678|"], "false"),
    ]),
    value(
        "is_json",
        "is_json(value: text) -> bool",
        &[Param::Data(TEXT)],
        TypeKind::Bool,
        "True when the text is one JSON value.",
        |_| Some(Builtin::IsJson),
    )
    .with_examples(&[
        row("is_json(X)", &["{\"a\": [1, 2]}|"], "true"),
        row("is_json(X)", &["{a: 1}|"], "false"),
    ]),
    whole(
        "type_of",
        "type_of(value) -> text",
        &[Param::Data(ANY)],
        TypeKind::Text,
        "The declared type of a value, known when the spec compiles: `int`, `number`, `text`, a code type's name...",
        lower_type_of,
    )
    .with_examples(&[
        row("type_of(parse_int(X) else null)", &["7|"], "\"int\""),
    ]),
];

/// `matches`: the pattern is compiled here once, so that a spec with a bad one does not compile.
fn lower_matches(call: &mut ValueCall<'_, '_>) -> Option<Builtin> {
    let (pattern, pattern_span) = call.text(0);
    if let Err(e) = regex::Regex::new(&pattern) {
        let first_line = e.to_string().lines().last().unwrap_or("invalid").trim().to_string();
        call.checker.error(
            codes::BAD_REGEX,
            format!("the regular expression does not compile: {first_line}"),
            pattern_span,
            "bad regex",
        );
        return None;
    }
    Some(Builtin::Matches(pattern))
}

/// Types are declared by the spec, so a value's type is known when the spec compiles: `type_of`
/// is that name as a constant (`int`, `number`, `text`, `PaymentStatus`...).
fn lower_type_of(checker: &mut Checker<'_>, call: &Call<'_>) -> Option<etr_ir::Expr> {
    checker.refuse_needless_handler(call);
    if call.args.len() != 1 {
        checker.error(codes::ARGUMENT_COUNT, "`type_of` takes one argument", call.span, "wrong number of arguments");
        return None;
    }
    let value = checker.infer(&call.args[0], call.ctx)?;
    let name = checker.env.codes.type_label(value.ty.kind);
    Some(literal_expr(etr_ir::Literal::Text(name), TypeKind::Text))
}
