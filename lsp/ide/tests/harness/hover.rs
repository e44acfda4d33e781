//! Hover: types, record field docs, function signatures, code-table mappings, expression types.

use expect_test::{Expect, expect};

use crate::fixture::{SPEC, fixture};

fn check(text: &str, expected: Expect) {
    let fixture = fixture(text);
    let cursor = fixture.cursor();
    let out = match fixture.analysis.hover(cursor).expect("not cancelled") {
        Some(hover) => format!("{}\n---\n{}\n", fixture.slice(cursor.file, hover.range), hover.markdown),
        None => "no hover\n".to_string(),
    };
    expected.assert_eq(&out);
}

/// The shared spec with the cursor at the `|` of `needle` (which is the spec's text with a `|`).
fn at(needle: &str) -> String {
    let plain = needle.replacen('|', "", 1);
    assert!(SPEC.contains(&plain), "{needle}");
    SPEC.replacen(&plain, &needle.replacen('|', "$0", 1), 1)
}

#[test]
fn record_field_shows_its_doc_line() {
    check(
        &at("  outstan|ding_balance ="),
        expect![[r#"
        outstanding_balance
        ---
        ```etr
        outstanding_balance: money
        // in record Record
        ```

        Total outstanding (principal and charges), in sen.
    "#]],
    );
}

#[test]
fn let_declaration_shows_its_inferred_type() {
    check(
        &at("let balance_or_z|ero"),
        expect![[r#"
        balance_or_zero
        ---
        ```etr
        let balance_or_zero: money
        ```
    "#]],
    );
}

#[test]
fn let_use_shows_the_type_there() {
    check(
        &at("check balance_or_z|ero >="),
        expect![[r#"
        balance_or_zero
        ---
        ```etr
        let balance_or_zero: money
        ```
    "#]],
    );
}

#[test]
fn builtin_function_shows_signature_doc_and_fallibility() {
    check(
        &at("parse_mo|ney(BAL"),
        expect![[r#"
            parse_money
            ---
            ```etr
            parse_money(value: text, ringgit | sen) -> money
            ```

            Reads an amount exactly: `ringgit` for `1234.50` (up to two decimals), `sen` for `123450`.

            Can fail on data (a text that is not an amount fails): handle it with `else`.

            Examples:
            - `parse_money(X, ringgit) else null` with `X` = `"-1234.5"` gives `-RM1234.50`
            - `parse_money(X, sen) else null` with `X` = `"123450"` gives `RM1234.50`
        "#]],
    );
}

#[test]
fn method_call_shows_the_function() {
    check(
        &at("NAME.tr|im()"),
        expect![[r#"
            trim
            ---
            ```etr
            trim(value: text) -> text
            ```

            Removes leading and trailing whitespace.

            Examples:
            - `trim(X)` with `X` = `"  a b  "` gives `"a b"`
        "#]],
    );
}

#[test]
fn table_key_shows_what_the_code_maps_to() {
    check(
        &at("{ \"|A\" => \"ACTIVE\""),
        expect![[r#"
        "A" => "ACTIVE"
        ---
        `"A"` maps to `"ACTIVE"` (AccountStatus)

        in table `statuses`
    "#]],
    );
}

#[test]
fn code_member_shows_its_doc() {
    check(
        &at("\"A\" => \"ACT|IVE\""),
        expect![[r#"
        "ACTIVE"
        ---
        ```etr
        "ACTIVE" in code AccountStatus
        ```
    "#]],
    );
}

#[test]
fn column_shows_its_position() {
    check(
        &at("parse_money(B|AL"),
        expect![[r#"
        BAL
        ---
        ```etr
        column BAL (field 3 of a data line): text?
        ```

        type here: `text?`
    "#]],
    );
}

#[test]
fn table_name_shows_its_signature() {
    check(
        &at("= stat|uses[STATUS]"),
        expect![[r#"
        statuses
        ---
        ```etr
        table statuses: text -> AccountStatus
        ```
    "#]],
    );
}

#[test]
fn operator_shows_the_type_of_the_expression() {
    check(
        &at("outstanding_balance ?|? RM0"),
        expect![[r#"
        outstanding_balance ?? RM0
        ---
        ```etr
        money
        ```
    "#]],
    );
}

#[test]
fn header_field_shows_its_type() {
    check(
        &at("trailer.co|unt =="),
        expect![[r#"
        count
        ---
        ```etr
        trailer.count: int
        ```
    "#]],
    );
}

#[test]
fn code_type_lists_its_members() {
    check(
        &at("text -> AccountSt|atus"),
        expect![[r#"
        AccountStatus
        ---
        ```etr
        code AccountStatus { "ACTIVE", "CLOSED", "SETTLED", "WRITTEN_OFF", "LEGAL", "NPL", "SUSPENDED", "TRANSFERRED" }
        ```

        Lifecycle status of the account.

        - `"ACTIVE"`
        - `"CLOSED"`
        - `"SETTLED"`
        - `"WRITTEN_OFF"`
        - `"LEGAL"`
        - `"NPL"`
        - `"SUSPENDED"`
        - `"TRANSFERRED"`
    "#]],
    );
}
