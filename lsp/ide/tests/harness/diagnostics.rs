//! Diagnostics: the compiler's, with codes, help and related spans, located in the right file.

use expect_test::{Expect, expect};

use crate::fixture::{SPEC, fixture};

fn check(text: &str, expected: Expect) {
    let fixture = fixture(text);
    let mut out = String::new();
    for (file, _, _) in &fixture.files {
        for d in fixture.analysis.diagnostics(*file).expect("not cancelled") {
            let at = fixture.describe(etr_ide::FileRange { file: *file, range: d.range });
            out.push_str(&format!("{:?} {} {at}: {}\n", d.severity, d.code, d.message));
            if let Some(help) = &d.help {
                out.push_str(&format!("  help: {help}\n"));
            }
            for related in &d.related {
                out.push_str(&format!("  related: {} {}\n", fixture.describe(related.location), related.message));
            }
        }
    }
    expected.assert_eq(&out);
}

#[test]
fn misspelt_column_has_a_code_and_a_suggestion() {
    let text = SPEC.replace("account_no = ACCT", "account_no = ACTT");
    check(
        &text,
        expect![[r#"
        Warning W601 /main.etr:16:8 "Record": the mapping leaves 37 fields null: contributor_code, reporting_month, action_code, subject_type, id_type, id_number, old_id_number, birth_or_reg_date, gender, nationality, address, postcode, state_code, industry_segment, product_type, capacity, open_date, credit_limit, payment_term_days, instalment_amount, tenure_months, repayment_freq, collateral_type, as_at_date, amount_due, overdue_1_30, overdue_31_60, overdue_61_90, overdue_91_120, overdue_120_plus, days_past_due, payment_status, status_date, last_payment_date, last_payment_amount, written_off_amount, special_flag
        Error E200 /main.etr:17:16 "ACTT": `ACTT` is not a column, a field of the record or a `let` value
          help: did you mean `ACCT`?
    "#]],
    );
}

#[test]
fn duplicate_rule_points_at_the_first_declaration() {
    let text = format!("{SPEC}rule E1 reject \"again\"\n");
    check(
        &text,
        expect![[r#"
        Warning W601 /main.etr:16:8 "Record": the mapping leaves 37 fields null: contributor_code, reporting_month, action_code, subject_type, id_type, id_number, old_id_number, birth_or_reg_date, gender, nationality, address, postcode, state_code, industry_segment, product_type, capacity, open_date, credit_limit, payment_term_days, instalment_amount, tenure_months, repayment_freq, collateral_type, as_at_date, amount_due, overdue_1_30, overdue_31_60, overdue_61_90, overdue_91_120, overdue_120_plus, days_past_due, payment_status, status_date, last_payment_date, last_payment_amount, written_off_amount, special_flag
        Error E600 /main.etr:29:6 "E1": rule E1 is declared twice
          help: rule ids are stable identifiers: give this rule a new id
          related: /main.etr:25:6 "E1" first declared here
    "#]],
    );
}

#[test]
fn one_broken_item_does_not_hide_the_others() {
    let text = format!("{SPEC}let broken = (1 +\nlet other = NAMEE\n");
    check(
        &text,
        expect![[r#"
        Warning W601 /main.etr:16:8 "Record": the mapping leaves 37 fields null: contributor_code, reporting_month, action_code, subject_type, id_type, id_number, old_id_number, birth_or_reg_date, gender, nationality, address, postcode, state_code, industry_segment, product_type, capacity, open_date, credit_limit, payment_term_days, instalment_amount, tenure_months, repayment_freq, collateral_type, as_at_date, amount_due, overdue_1_30, overdue_31_60, overdue_61_90, overdue_91_120, overdue_120_plus, days_past_due, payment_status, status_date, last_payment_date, last_payment_amount, written_off_amount, special_flag
        Error E100 /main.etr:30:1 "": expected an expression, but the item ends here
        Error E200 /main.etr:30:13 "NAMEE": `NAMEE` is not a column, a field of the record or a `let` value
          help: did you mean `NAME`?
    "#]],
    );
}

#[test]
fn an_imported_workspace_module_reports_in_its_own_file() {
    check(
        r#"//- /spec.etr
contributor ACME "Acme" layout 1
use rules.shared
source delimited "|" {
  encoding "utf-8" else reject R0
  columns { ACCT } else reject R0
}
map to Record { account_no = ACCT }
rule R0 reject "bad line"
//- /rules/shared.etr
use etr.record
rule S1 warn "shared" { check credit_limitt > RM0 on credit_limit }
"#,
        expect![[r#"
            Warning W601 /spec.etr:7:8 "Record": the mapping leaves 40 fields null: contributor_code, reporting_month, action_code, subject_type, id_type, id_number, old_id_number, subject_name, birth_or_reg_date, gender, nationality, address, postcode, state_code, industry_segment, product_type, capacity, open_date, credit_limit, payment_term_days, instalment_amount, tenure_months, repayment_freq, collateral_type, as_at_date, outstanding_balance, amount_due, overdue_1_30, overdue_31_60, overdue_61_90, overdue_91_120, overdue_120_plus, days_past_due, payment_status, account_status, status_date, last_payment_date, last_payment_amount, written_off_amount, special_flag
            Error E200 /rules/shared.etr:2:31 "credit_limitt": `credit_limitt` is not a column, a field of the record or a `let` value
              help: did you mean `credit_limit`?
        "#]],
    );
}
