//! The generated Cranelift IR as text (STYLE point 15): what each kernel is made of, checked
//! before any machine code runs.

use etr_tests::jcl_program;

use crate::compile;

#[test]
fn jcl_kernels_print_as_clif() {
    let jit = compile(&jcl_program());
    let text = jit.clif_text();
    // One function per compiled binding, each under a line naming it.
    assert_eq!(text.matches("\nfunction u0:").count(), 29, "{text}");
    for header in [
        "; binding 1 -> field reporting_month: parse_month(\"%Y%m\")(column REPORT_MTH) else null",
        "; binding 8 -> field birth_or_reg_date: parse_date(\"%d/%m/%Y\")(column DOB) else reject (rule 6)",
        "; binding 19 -> field credit_limit: parse_money(ringgit)(column LIMIT_RM) else null",
        "; binding 20 -> field payment_term_days: parse_int(column TERM_DAYS) else null",
        "; binding 13 -> field state_code: states[column STATE] else reject (rule 7)",
    ] {
        assert!(text.contains(header), "missing {header:?} in\n{text}");
    }
    // The loop reads views (32-bit length and buffer fields) and packs validity words; the date
    // kernels read the view's inline bytes as words and divide by multiplying.
    for instruction in [
        "uload32.i64 notrap readonly little",
        "load.i64 notrap readonly little v",
        "istore32.i64",
        "store.i64 notrap little",
        "brif",
        "bor",
        "imul",
        "return",
        // Lookups: the view's words masked to the text's length, compared with the keys.
        "select",
        "band",
        "icmp eq",
    ] {
        assert!(text.contains(instruction), "no {instruction:?} in the CLIF");
    }
    // No call back into Rust, no division.
    for absent in ["call ", "udiv", "urem", "sdiv", "srem"] {
        assert!(!text.contains(absent), "{absent:?} in the CLIF");
    }
}
