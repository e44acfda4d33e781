//! Completion in each context: mapping fields, expressions, methods, table keys and values,
//! rules after `else reject`, header fields, keywords and item snippets.

use std::collections::BTreeMap;

use expect_test::{Expect, expect};

use crate::fixture::{SPEC, fixture};

/// Labels grouped by kind, one line per kind; functions are counted, not listed, except when
/// `list_functions` (they are the same long table in every expression context).
fn check_with(text: &str, list_functions: bool, expected: Expect) {
    let fixture = fixture(text);
    let cursor = fixture.cursor();
    let items = fixture.analysis.completions(cursor).expect("not cancelled");
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut replaced = None;
    for item in &items {
        replaced.get_or_insert_with(|| fixture.slice(cursor.file, item.replace));
        let label =
            if item.is_snippet { format!("{} = {:?}", item.label, item.insert_text) } else { item.label.clone() };
        groups.entry(format!("{:?}", item.kind)).or_default().push(label);
    }
    let mut out = format!("replaces {:?}\n", replaced.unwrap_or_default());
    for (kind, labels) in groups {
        if kind == "Function" && !list_functions {
            out.push_str(&format!("Function: {} functions\n", labels.len()));
        } else if kind == "Snippet" {
            out.push_str(&format!("{kind}:\n  {}\n", labels.join("\n  ")));
        } else {
            out.push_str(&format!("{kind}: {}\n", labels.join(" ")));
        }
    }
    expected.assert_eq(&out);
}

fn check(text: &str, expected: Expect) {
    check_with(text, false, expected);
}

#[test]
fn fields_not_mapped_yet_at_the_start_of_a_mapping_line() {
    let text = SPEC.replace("  account_no = ACCT\n", "  account_no = ACCT\n  cred$0\n");
    check(
        &text,
        expect![[r#"
        replaces "cred"
        Field: action_code address amount_due as_at_date birth_or_reg_date capacity collateral_type contributor_code credit_limit days_past_due gender id_number id_type industry_segment instalment_amount last_payment_amount last_payment_date nationality old_id_number open_date overdue_120_plus overdue_1_30 overdue_31_60 overdue_61_90 overdue_91_120 payment_status payment_term_days postcode product_type repayment_freq reporting_month special_flag state_code status_date subject_type tenure_months written_off_amount
    "#]],
    );
}

#[test]
fn values_in_an_expression() {
    let text = SPEC.replace("account_no = ACCT", "account_no = AC$0");
    check(
        &text,
        expect![[r#"
        replaces "AC"
        Column: ACCT BAL NAME STATUS
        Field: account_no account_status action_code address amount_due as_at_date birth_or_reg_date capacity collateral_type contributor_code credit_limit days_past_due gender id_number id_type industry_segment instalment_amount last_payment_amount last_payment_date nationality old_id_number open_date outstanding_balance overdue_120_plus overdue_1_30 overdue_31_60 overdue_61_90 overdue_91_120 payment_status payment_term_days postcode product_type repayment_freq reporting_month special_flag state_code status_date subject_name subject_type tenure_months written_off_amount
        Function: 43 functions
        Keyword: and else false if in is match not null or then true
        Let: balance_or_zero
        Table: statuses
    "#]],
    );
}

#[test]
fn functions_after_a_dot() {
    let text = SPEC.replace("NAME.trim()", "NAME.up$0");
    check_with(
        &text,
        true,
        expect![[r#"
        replaces "up"
        Function: add_days contains_all format_date is_json is_subset is_valid_nric is_valid_ssm length looks_like_date lower matches month_of nric_gender null_if_empty overlaps parse_date parse_int parse_money parse_month parse_number remove_chars replace same_set size substring trim type_of upper
    "#]],
    );
}

#[test]
fn table_keys_inside_a_lookup() {
    let text = SPEC.replace("statuses[STATUS]", "statuses[\"$0");
    check(
        &text,
        expect![[r#"
        replaces "\""
        TableKey: "A" "C"
    "#]],
    );
}

#[test]
fn code_members_for_a_table_value() {
    let text = SPEC.replace("\"C\" => \"CLOSED\"", "\"C\" => \"CL$0");
    check(
        &text,
        expect![[r#"
        replaces "\"CL"
        CodeMember: "ACTIVE" "CLOSED" "LEGAL" "NPL" "SETTLED" "SUSPENDED" "TRANSFERRED" "WRITTEN_OFF"
    "#]],
    );
}

#[test]
fn rules_after_else_reject() {
    let text = SPEC.replace("else reject E2", "else reject $0");
    check(
        &text,
        expect![[r#"
        replaces ""
        Rule: C1 E1 E2 F1
    "#]],
    );
}

#[test]
fn trailer_fields_after_trailer_dot() {
    let text = SPEC.replace("trailer.count ==", "trailer.$0 ==");
    check(
        &text,
        expect![[r#"
        replaces ""
        Field: count
    "#]],
    );
}

#[test]
fn keywords_and_snippets_at_the_start_of_an_item() {
    let text = format!("{SPEC}ru$0");
    check(
        &text,
        expect![[r#"
        replaces "ru"
        Keyword: code contributor let map override record rule source table use
        Snippet:
          let… = "let ${1:name} = ${2:expression}"
          map… = "map to ${1:Record} {\n  ${2:field} = ${3:COLUMN}\n}"
          rule… = "rule ${1:R1} ${2|reject,warn,fatal,info|} \"${3:message}\" {\n  check ${4:condition} on ${5:field}\n}"
          table… = "table ${1:name}: text -> ${2:Code} {\n  \"${3:raw}\" => \"${4:canonical}\"\n}"
    "#]],
    );
}

#[test]
fn rule_statement_keywords_inside_a_rule() {
    let text = format!("{SPEC}rule R9 reject \"x\" {{\n  $0\n}}\n");
    check(
        &text,
        expect![[r#"
        replaces ""
        Keyword: check consistent decreasing increasing require strictly unique when
    "#]],
    );
}
