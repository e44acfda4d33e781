//! The Malaysian identifier functions: NRIC (identity card) and SSM (company) numbers, and the
//! gender an NRIC encodes (the interpreter's `kernels/nric.rs`).
//!
//! Boundary: the entries are data for the checker, the editor and the docs; the hooks below reach
//! the checker through its `pub(crate)` methods only.

use etr_ir::{Builtin, TypeKind};

use super::{Family, Param, ResultType, Signature, TEXT, row, value};
use crate::check::calls::ValueCall;
use crate::codes;

pub(super) const FAMILY: Family = Family {
    title: "Malaysian identifiers",
    doc: "Checks of NRIC and SSM numbers written as text.",
    functions: FUNCTIONS,
    ir_family: Some(etr_ir::BuiltinFamily::Nric),
};

const FUNCTIONS: &[Signature] = &[
    value(
        "is_valid_nric",
        "is_valid_nric(value: text) -> bool",
        &[Param::Data(TEXT)],
        TypeKind::Bool,
        "A Malaysian NRIC: 12 digits, a real YYMMDD birth date (either century), a known place-of-birth code.",
        |_| Some(Builtin::IsValidNric),
    )
    .with_examples(&[
        row("is_valid_nric(X)", &["850101145678|"], "true"),
        row("is_valid_nric(X)", &["851301145678|"], "false"),
    ]),
    value(
        "is_valid_ssm",
        "is_valid_ssm(value: text) -> bool",
        &[Param::Data(TEXT)],
        TypeKind::Bool,
        "A 12-digit SSM company number: year 19xx/20xx, entity type 01-06, six digits.",
        |_| Some(Builtin::IsValidSsm),
    )
    .with_examples(&[
        row("is_valid_ssm(X)", &["201901000005|"], "true"),
        row("is_valid_ssm(X)", &["201907000005|"], "false"),
    ]),
    value(
        "nric_gender",
        "nric_gender(value: text) -> Gender?",
        &[Param::Data(TEXT)],
        TypeKind::Null,
        "The gender an NRIC encodes: M when its last digit is odd, F when even.",
        lower_nric_gender,
    )
    .returning(ResultType::Code("Gender"))
    .nullable()
    .with_examples(&[
        row("nric_gender(X)", &["850101145678|"], "\"F\""),
        row("nric_gender(X)", &["850101145677|"], "\"M\""),
    ]),
];

/// `nric_gender` gives a member of the `Gender` code in scope (the checker resolved it as the
/// result type): the IR carries the indices of its `M` and `F`.
fn lower_nric_gender(call: &mut ValueCall<'_, '_>) -> Option<Builtin> {
    let TypeKind::Code(code_type) = call.result else {
        call.checker.table_bug(call.call.callee.span, "`nric_gender` is typed as something other than a code");
        return None;
    };
    let members = &call.checker.env.codes.types[code_type].members;
    let male = members.iter().position(|m| m == "M");
    let female = members.iter().position(|m| m == "F");
    let (Some(male), Some(female)) = (male, female) else {
        call.checker.error(
            codes::NOT_A_MEMBER,
            "the `Gender` code in scope has no \"M\" and \"F\" members",
            call.call.callee.span,
            "needs M and F",
        );
        return None;
    };
    Some(Builtin::NricGender { code_type, male: male as u32, female: female as u32 })
}
