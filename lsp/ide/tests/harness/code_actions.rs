//! Code actions: fix a misspelt name, handle a fallible operation, add a missing table entry.

use expect_test::{Expect, expect};

use crate::fixture::{SPEC, fixture};

fn check(text: &str, expected: Expect) {
    let fixture = fixture(text);
    let cursor = fixture.cursor();
    let range = etr_ide::FileRange { file: cursor.file, range: etr_ide::TextRange::new(cursor.offset, cursor.offset) };
    let actions = fixture.analysis.code_actions(range).expect("not cancelled");
    let mut out = String::new();
    for action in actions {
        out.push_str(&format!("== {} (fixes {:?})\n", action.title, action.fixes));
        // Only the changed lines, to keep the expectations readable.
        let before = fixture.text(cursor.file);
        let after = fixture.apply(&action.change);
        for (old, new) in before.lines().zip(after.lines().skip(1)) {
            if old != new {
                out.push_str(&format!("- {old}\n+ {new}\n"));
            }
        }
    }
    expected.assert_eq(&out);
}

#[test]
fn replace_a_misspelt_column() {
    check(
        &SPEC.replace("account_no = ACCT", "account_no = AC$0TT"),
        expect![[r#"
        == Replace with `ACCT` (fixes Some("E200"))
        -   account_no = ACTT
        +   account_no = ACCT
    "#]],
    );
}

#[test]
fn replace_a_misspelt_table() {
    check(
        &SPEC.replace("statuses[STATUS]", "statuse$0[STATUS]"),
        expect![[r#"
        == Replace with `statuses` (fixes Some("E202"))
        -   account_status = statuse[STATUS] else reject E1
        +   account_status = statuses[STATUS] else reject E1
    "#]],
    );
}

#[test]
fn handle_a_fallible_operation() {
    check(
        &SPEC.replace("parse_money(BAL, ringgit) else reject E2", "parse_mo$0ney(BAL, ringgit)"),
        expect![[r#"
        == Handle the failure with `else null` (fixes Some("E400"))
        -   outstanding_balance = parse_money(BAL, ringgit)
        +   outstanding_balance = parse_money(BAL, ringgit) else null
        == Reject the line under rule E1 when it fails (fixes Some("E400"))
        -   outstanding_balance = parse_money(BAL, ringgit)
        +   outstanding_balance = parse_money(BAL, ringgit) else reject E1
        == Reject the line under rule E2 when it fails (fixes Some("E400"))
        -   outstanding_balance = parse_money(BAL, ringgit)
        +   outstanding_balance = parse_money(BAL, ringgit) else reject E2
    "#]],
    );
}

#[test]
fn add_missing_code_table_entries() {
    check(
        &SPEC.replace("table statuses:", "table stat$0uses:"),
        expect![[r#"
        == Add an entry mapping to "SETTLED" in table `statuses` (fixes None)
        - table statuses: text -> AccountStatus { "A" => "ACTIVE", "C" => "CLOSED" }
        + table statuses: text -> AccountStatus { "A" => "ACTIVE", "C" => "CLOSED", "KEY" => "SETTLED" }
        == Add an entry mapping to "WRITTEN_OFF" in table `statuses` (fixes None)
        - table statuses: text -> AccountStatus { "A" => "ACTIVE", "C" => "CLOSED" }
        + table statuses: text -> AccountStatus { "A" => "ACTIVE", "C" => "CLOSED", "KEY" => "WRITTEN_OFF" }
        == Add an entry mapping to "LEGAL" in table `statuses` (fixes None)
        - table statuses: text -> AccountStatus { "A" => "ACTIVE", "C" => "CLOSED" }
        + table statuses: text -> AccountStatus { "A" => "ACTIVE", "C" => "CLOSED", "KEY" => "LEGAL" }
        == Add an entry mapping to "NPL" in table `statuses` (fixes None)
        - table statuses: text -> AccountStatus { "A" => "ACTIVE", "C" => "CLOSED" }
        + table statuses: text -> AccountStatus { "A" => "ACTIVE", "C" => "CLOSED", "KEY" => "NPL" }
        == Add an entry mapping to "SUSPENDED" in table `statuses` (fixes None)
        - table statuses: text -> AccountStatus { "A" => "ACTIVE", "C" => "CLOSED" }
        + table statuses: text -> AccountStatus { "A" => "ACTIVE", "C" => "CLOSED", "KEY" => "SUSPENDED" }
        == Add an entry mapping to "TRANSFERRED" in table `statuses` (fixes None)
        - table statuses: text -> AccountStatus { "A" => "ACTIVE", "C" => "CLOSED" }
        + table statuses: text -> AccountStatus { "A" => "ACTIVE", "C" => "CLOSED", "KEY" => "TRANSFERRED" }
    "#]],
    );
}
