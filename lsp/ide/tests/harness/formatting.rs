//! Formatting: `etr fmt`'s layout as one edit, none for a formatted text, and no edit (a
//! reported reason) for a text with syntax errors.

use expect_test::{Expect, expect};

use crate::fixture::fixture;

fn check(text: &str, expected: Expect) {
    let fixture = fixture(text);
    let out = match fixture.analysis.format(fixture.main()).expect("not cancelled") {
        Ok(edits) if edits.is_empty() => "already formatted\n".to_string(),
        Ok(edits) => fixture.apply(&etr_ide::SourceChange { edits: vec![(fixture.main(), edits)] }),
        Err(failure) => format!("{failure:?}\n"),
    };
    expected.assert_eq(&out);
}

#[test]
fn a_messy_spec_gets_the_house_layout() {
    check(
        "use etr.record\nlet   total=(credit_limit??RM0)+  RM1\nrule R1 warn \"big\" {   check total<RM100 on credit_limit }\n",
        expect![[r#"
            //- /main.etr
            use etr.record
            let total = (credit_limit ?? RM0) + RM1
            rule R1 warn "big" {
              check total < RM100 on credit_limit
            }
        "#]],
    );
}

#[test]
fn a_formatted_spec_gets_no_edit() {
    check(
        "use etr.record\n\nlet total = credit_limit ?? RM0\n",
        expect![[r#"
        already formatted
    "#]],
    );
}

#[test]
fn a_spec_with_a_syntax_error_is_left_alone() {
    check(
        "let total = (1 +\n",
        expect![[r#"
        SyntaxErrors
    "#]],
    );
}
