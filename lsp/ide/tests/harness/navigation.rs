//! Go to definition, find references and rename, within a file, across files and into the stdlib.

use expect_test::{Expect, expect};

use crate::fixture::{SPEC, fixture};

fn check_definition(text: &str, expected: Expect) {
    let fixture = fixture(text);
    let targets = fixture.analysis.goto_definition(fixture.cursor()).expect("not cancelled");
    let out: Vec<String> =
        targets.iter().map(|t| fixture.describe(etr_ide::FileRange { file: t.file, range: t.focus_range })).collect();
    expected.assert_eq(&out.join("\n"));
}

fn check_references(text: &str, expected: Expect) {
    let fixture = fixture(text);
    let found = fixture.analysis.references(fixture.cursor(), true).expect("not cancelled");
    let out: Vec<String> = found.iter().map(|r| fixture.describe(*r)).collect();
    expected.assert_eq(&out.join("\n"));
}

fn check_rename(text: &str, new_name: &str, expected: Expect) {
    let fixture = fixture(text);
    let out = match fixture.analysis.rename(fixture.cursor(), new_name).expect("not cancelled") {
        Ok(change) => fixture.apply(&change),
        Err(error) => format!("error: {error}"),
    };
    expected.assert_eq(&out);
}

const TWO_FILES: &str = r#"//- /jcl.etr
contributor JCL "JCL" layout 1
use etr.record
use rules.shared
source delimited "|" {
  columns { ACCT, SEX } else reject R0
}
map to Record {
  account_no = ACCT
  gender = genders[SEX] else reject R0
}
rule R0 reject "bad line"
//- /rules/shared.etr
use etr.record
use etr.codes
table genders: text -> Gender { "L" => "M", "P" => "F" }
rule S1 warn "no account" { require account_no }
"#;

#[test]
fn definition_of_a_record_field_is_in_the_stdlib() {
    let text = SPEC.replace("  account_no = ACCT", "  account_$0no = ACCT");
    check_definition(&text, expect![[r#"stdlib/etr/record.etr:38:3 "account_no""#]]);
}

#[test]
fn definition_of_a_table_in_another_spec() {
    check_definition(
        &TWO_FILES.replace("genders[SEX]", "gend$0ers[SEX]"),
        expect![[r#"/rules/shared.etr:3:7 "genders""#]],
    );
}

#[test]
fn definition_of_a_module_is_its_file() {
    check_definition(
        &TWO_FILES.replace("use rules.shared", "use rules.sh$0ared"),
        expect![[r#"/rules/shared.etr:1:1 """#]],
    );
}

#[test]
fn definition_of_a_rule_from_a_handler() {
    check_definition(&SPEC.replace("else reject E2", "else reject E$02"), expect![[r#"/main.etr:26:6 "E2""#]]);
}

#[test]
fn definition_of_a_builtin_is_nowhere() {
    check_definition(&SPEC.replace("parse_money(", "parse_$0money("), expect![[""]]);
}

#[test]
fn references_of_a_column() {
    check_references(
        &SPEC.replace("columns { ACCT,", "columns { AC$0CT,"),
        expect![[r#"
        /main.etr:11:13 "ACCT"
        /main.etr:17:16 "ACCT""#]],
    );
}

#[test]
fn references_of_a_table_across_files() {
    check_references(
        &TWO_FILES.replace("table genders", "table gen$0ders"),
        expect![[r#"
        /jcl.etr:9:12 "genders"
        /rules/shared.etr:3:7 "genders""#]],
    );
}

#[test]
fn references_of_a_stdlib_field_across_files() {
    check_references(
        &TWO_FILES.replace("require account_no", "require account$0_no"),
        expect![[r#"
        stdlib/etr/record.etr:38:3 "account_no"
        /jcl.etr:8:3 "account_no"
        /rules/shared.etr:4:37 "account_no""#]],
    );
}

#[test]
fn references_of_a_field_include_the_key_of_an_ordering_check() {
    let spec = SPEC.replace("  account_no = ACCT", "  account$0_no = ACCT");
    check_references(
        &format!("{spec}rule P1 warn \"names\" {{ increasing subject_name per account_no on subject_name }}\n"),
        expect![[r#"
            stdlib/etr/record.etr:38:3 "account_no"
            /main.etr:17:3 "account_no"
            /main.etr:29:52 "account_no""#]],
    );
}

#[test]
fn rename_a_table_across_files() {
    check_rename(
        &TWO_FILES.replace("genders[SEX]", "gend$0ers[SEX]"),
        "sexes",
        expect![[r#"
        //- /jcl.etr
        contributor JCL "JCL" layout 1
        use etr.record
        use rules.shared
        source delimited "|" {
          columns { ACCT, SEX } else reject R0
        }
        map to Record {
          account_no = ACCT
          gender = sexes[SEX] else reject R0
        }
        rule R0 reject "bad line"
        //- /rules/shared.etr
        use etr.record
        use etr.codes
        table sexes: text -> Gender { "L" => "M", "P" => "F" }
        rule S1 warn "no account" { require account_no }
    "#]],
    );
}

#[test]
fn rename_a_rule_from_its_use() {
    check_rename(
        &TWO_FILES.replace("SEX] else reject R0", "SEX] else reject R$00"),
        "BAD_LINE",
        expect![[r#"
        //- /jcl.etr
        contributor JCL "JCL" layout 1
        use etr.record
        use rules.shared
        source delimited "|" {
          columns { ACCT, SEX } else reject BAD_LINE
        }
        map to Record {
          account_no = ACCT
          gender = genders[SEX] else reject BAD_LINE
        }
        rule BAD_LINE reject "bad line"
    "#]],
    );
}

#[test]
fn rename_a_column() {
    check_rename(
        &SPEC.replace("parse_money(BAL", "parse_money(B$0AL"),
        "BALANCE",
        expect![[r#"
        //- /main.etr
        contributor ACME "Acme" layout 1

        use etr.record
        use etr.codes

        source delimited "|" {
          quote none
          encoding "utf-8" else reject E1
          header "H" { month: text }
          trailer "T" { count: int }
          columns { ACCT, NAME, BALANCE, STATUS } else reject E1
        }

        table statuses: text -> AccountStatus { "A" => "ACTIVE", "C" => "CLOSED" }

        map to Record {
          account_no = ACCT
          subject_name = NAME.trim()
          outstanding_balance = parse_money(BALANCE, ringgit) else reject E2
          account_status = statuses[STATUS] else reject E1
        }

        let balance_or_zero = outstanding_balance ?? RM0

        rule E1 reject "bad line"
        rule E2 reject "bad amount"
        rule C1 warn "credit" { check balance_or_zero >= RM0 on outstanding_balance }
        rule F1 fatal "count" { check trailer.count == count() on count }
    "#]],
    );
}

#[test]
fn rename_a_let() {
    check_rename(
        &SPEC.replace("let balance_or_zero", "let balance$0_or_zero"),
        "balance",
        expect![[r#"
        //- /main.etr
        contributor ACME "Acme" layout 1

        use etr.record
        use etr.codes

        source delimited "|" {
          quote none
          encoding "utf-8" else reject E1
          header "H" { month: text }
          trailer "T" { count: int }
          columns { ACCT, NAME, BAL, STATUS } else reject E1
        }

        table statuses: text -> AccountStatus { "A" => "ACTIVE", "C" => "CLOSED" }

        map to Record {
          account_no = ACCT
          subject_name = NAME.trim()
          outstanding_balance = parse_money(BAL, ringgit) else reject E2
          account_status = statuses[STATUS] else reject E1
        }

        let balance = outstanding_balance ?? RM0

        rule E1 reject "bad line"
        rule E2 reject "bad amount"
        rule C1 warn "credit" { check balance >= RM0 on outstanding_balance }
        rule F1 fatal "count" { check trailer.count == count() on count }
    "#]],
    );
}

#[test]
fn rename_refuses_a_stdlib_field() {
    check_rename(
        &SPEC.replace("  account_no = ACCT", "  account_$0no = ACCT"),
        "acct",
        expect!["error: it is declared in stdlib/etr/record.etr, which is read-only (the stdlib)"],
    );
}

#[test]
fn rename_refuses_a_reserved_word() {
    check_rename(
        &SPEC.replace("let balance_or_zero", "let balance$0_or_zero"),
        "check",
        expect!["error: `check` is not a valid name: it is a keyword"],
    );
}

/// A spec shaped like `contributors/jcl.etr`: a column, a table looked up by it, and lets.
const STATUSES: &str = r#"contributor JCL "JCL" layout 1
use etr.record
use etr.codes
source delimited "|" {
  encoding "utf-8" else reject R0
  columns { ACCT, DPD, PAY_STATUS } else reject R0
}
table payment_statuses: text -> PaymentStatus { "0" => "0", "1" => "1" }
map to Record {
  account_no = ACCT
  days_past_due = parse_int(DPD) else reject R0
  payment_status = payment_statuses[PAY_STATUS] else reject R0
}
let status_for_dpd = if (days_past_due ?? 0) > 30 then "1" else "0"
let is_late = (days_past_due ?? 0) > 30
rule R0 reject "bad line"
rule R1 warn "status" { check payment_status == status_for_dpd on payment_status = PAY_STATUS }
"#;

#[test]
fn rename_refuses_a_name_that_captures_a_column() {
    // Renamed to the column's name, the let would be what `payment_statuses[PAY_STATUS]` reads.
    check_rename(
        &STATUSES.replace("let status_for_dpd", "let status_for$0_dpd"),
        "PAY_STATUS",
        expect![
            "error: renaming to `PAY_STATUS` would change what `PAY_STATUS` at /main.etr:12 refers to: the column `PAY_STATUS` (/main.etr:6) before, the let `PAY_STATUS` (/main.etr:14) after"
        ],
    );
}

#[test]
fn rename_refuses_a_column_renamed_to_a_let() {
    check_rename(
        &STATUSES.replace("{ ACCT, DPD,", "{ ACCT, D$0PD,"),
        "is_late",
        expect![
            "error: renaming to `is_late` would change what `is_late` at /main.etr:11 refers to: the column `is_late` (/main.etr:6) (the symbol renamed) before, the let `is_late` (/main.etr:15) after"
        ],
    );
}

#[test]
fn rename_refuses_a_name_taken_by_another_let() {
    check_rename(
        &STATUSES.replace("let is_late", "let is$0_late"),
        "status_for_dpd",
        expect!["error: renaming to `status_for_dpd` would break /main.etr: `let status_for_dpd` is declared twice"],
    );
}

#[test]
fn rename_refuses_a_name_taken_by_a_record_field() {
    // `payment_status` is a field of the mapped record: a let of that name would shadow it.
    check_rename(
        &STATUSES.replace("let is_late", "let is$0_late"),
        "payment_status",
        expect![
            "error: renaming to `payment_status` would change what `payment_status` at /main.etr:17 refers to: the field `payment_status` (stdlib/etr/record.etr:78) before, the let `payment_status` (/main.etr:15) after"
        ],
    );
}

#[test]
fn rename_refuses_a_name_that_reads_as_a_literal() {
    let spec = STATUSES.replace("let status_for_dpd", "let status_for$0_dpd");
    check_rename(
        &spec,
        "RM5",
        expect!["error: `RM5` is not a valid name: it reads as a literal or a keyword, not as a name"],
    );
    check_rename(
        &spec,
        "RM100",
        expect!["error: `RM100` is not a valid name: it reads as a literal or a keyword, not as a name"],
    );
    check_rename(&spec, "true", expect!["error: `true` is not a valid name: it is a keyword"]);
    check_rename(
        &spec,
        "5x",
        expect!["error: `5x` is not a valid name: a name is a letter or `_` followed by letters, digits and `_`"],
    );
    check_rename(
        &spec,
        "a-b",
        expect!["error: `a-b` is not a valid name: a name is a letter or `_` followed by letters, digits and `_`"],
    );
}

#[test]
fn rename_refuses_keywords() {
    let spec = STATUSES.replace("let status_for_dpd", "let status_for$0_dpd");
    check_rename(&spec, "null", expect!["error: `null` is not a valid name: it is a keyword"]);
    check_rename(&spec, "table", expect!["error: `table` is not a valid name: it is a keyword"]);
}

#[test]
fn rename_refuses_a_name_an_unresolved_use_would_start_reading() {
    // `lateness` resolves to nothing today (an error the checker reports): a let renamed to it
    // would silently give that use a meaning.
    let spec = STATUSES.replace("on payment_status = PAY_STATUS", "on payment_status = lateness");
    check_rename(
        &spec.replace("let is_late", "let is$0_late"),
        "lateness",
        expect![
            "error: renaming to `lateness` would make `lateness` at /main.etr:17 refer to the let `lateness` (/main.etr:15), which it does not now"
        ],
    );
}

#[test]
fn rename_refuses_a_rule_renamed_to_another_rules_id() {
    check_rename(
        &STATUSES.replace("rule R1", "rule R$01"),
        "R0",
        expect!["error: renaming to `R0` would break /main.etr: rule R0 is declared twice"],
    );
}

#[test]
fn rename_to_a_free_name_still_works() {
    let fixture = fixture(&STATUSES.replace("let status_for_dpd", "let status_for$0_dpd"));
    // The spec is clean, so that the refusals above come from the renames alone.
    let diagnostics = fixture.analysis.diagnostics(fixture.main()).expect("not cancelled");
    assert!(diagnostics.iter().all(|d| d.severity != etr_ide::Severity::Error), "{diagnostics:?}");
    let change = fixture.analysis.rename(fixture.cursor(), "expected_status").expect("not cancelled").expect("ok");
    let out = fixture.apply(&change);
    assert!(out.contains("let expected_status = if"), "{out}");
    assert!(out.contains("check payment_status == expected_status on"), "{out}");
    assert!(out.contains("payment_statuses[PAY_STATUS]"), "{out}");
}

#[test]
fn rename_a_record_field_declared_in_the_workspace() {
    check_rename(
        r#"//- /spec.etr
contributor ACME "Acme" layout 1
use model
source delimited "|" {
  columns { ACCT } else reject R0
}
map to Account {
  account = ACCT
}
rule R0 reject "bad line"
rule R1 reject "no account" { require acc$0ount }
//- /model.etr
/// The target record of this workspace.
record Account {
  /// The account number.
  account: text
}
"#,
        "account_no",
        expect![[r#"
            //- /spec.etr
            contributor ACME "Acme" layout 1
            use model
            source delimited "|" {
              columns { ACCT } else reject R0
            }
            map to Account {
              account_no = ACCT
            }
            rule R0 reject "bad line"
            rule R1 reject "no account" { require account_no }
            //- /model.etr
            /// The target record of this workspace.
            record Account {
              /// The account number.
              account_no: text
            }
        "#]],
    );
}

#[test]
fn rename_in_jcl_refuses_the_names_of_the_issue() {
    // The cases of issue 13 on the real W1 spec: each would have changed what the spec means.
    let jcl = include_str!("../../../../contributors/jcl.etr").replace("let status_for_dpd", "let status_for$0_dpd");
    let fixture = fixture(&jcl);
    for new_name in ["PAY_STATUS", "RM5", "DPD", "days_past_due"] {
        let answer = fixture.analysis.rename(fixture.cursor(), new_name).expect("not cancelled");
        assert!(answer.is_err(), "renaming to {new_name} was accepted");
    }
    assert!(fixture.analysis.rename(fixture.cursor(), "expected_status").expect("not cancelled").is_ok());
}
