//! Inlay hints: the inferred type after each `let` name.

use expect_test::expect;

use crate::fixture::{SPEC, fixture};

#[test]
fn let_names_show_their_inferred_types() {
    let text = format!("{SPEC}let due_soon = if balance_or_zero > RM100 then \"Y\" else null\nlet broken = NOPE + 1\n");
    let fixture = fixture(&text);
    let file = fixture.main();
    let all = etr_ide::TextRange::new(0, text.len() as u32);
    let hints = fixture.analysis.inlay_hints(etr_ide::FileRange { file, range: all }).expect("not cancelled");
    let mut shown = fixture.text(file);
    for hint in hints.iter().rev() {
        shown.insert_str(hint.offset as usize, &format!("«{}»", hint.label));
    }
    let lets: Vec<&str> = shown.lines().filter(|l| l.starts_with("let ")).collect();
    expect![[r#"
        let balance_or_zero«: money» = outstanding_balance ?? RM0
        let due_soon«: text?» = if balance_or_zero > RM100 then "Y" else null
        let broken = NOPE + 1"#]]
    .assert_eq(&lets.join("\n"));
}

#[test]
fn only_lets_in_the_requested_range_get_hints() {
    let text = format!("{SPEC}let first = RM1\nlet second = 2 > 1\n");
    let fixture = fixture(&text);
    let file = fixture.main();
    let start = text.find("let second").expect("second let") as u32;
    let range = etr_ide::TextRange::new(start, text.len() as u32);
    let hints = fixture.analysis.inlay_hints(etr_ide::FileRange { file, range }).expect("not cancelled");
    let shown: Vec<String> = hints
        .iter()
        .map(|h| format!("{}{}", fixture.slice(file, etr_ide::TextRange::new(start, h.offset)), h.label))
        .collect();
    expect!["let second: bool"].assert_eq(&shown.join("\n"));
}

#[test]
fn mapping_lines_show_the_type_of_their_value() {
    let fixture = fixture(SPEC);
    let file = fixture.main();
    let all = etr_ide::TextRange::new(0, SPEC.len() as u32);
    let hints = fixture.analysis.inlay_hints(etr_ide::FileRange { file, range: all }).expect("not cancelled");
    let mut shown = fixture.text(file);
    for hint in hints.iter().rev() {
        shown.insert_str(hint.offset as usize, &format!("«{}»", hint.label));
    }
    // Unindented, since the expectation's own indentation is stripped.
    let mapping: Vec<&str> =
        shown.lines().filter(|l| l.starts_with("  ") && l.contains(" = ")).map(str::trim_start).collect();
    expect![[r#"
          account_no = ACCT« : text?»
          subject_name = NAME.trim()« : text?»
          outstanding_balance = parse_money(BAL, ringgit) else reject E2« : money?»
          account_status = statuses[STATUS] else reject E1« : AccountStatus?»"#]]
    .assert_eq(&mapping.join("\n"));
}
