//! Document symbols: the outline of a spec.

use expect_test::expect;

use crate::fixture::{SPEC, fixture};

fn render(symbols: &[etr_ide::DocumentSymbol], depth: usize, out: &mut String) {
    for symbol in symbols {
        let detail = symbol.detail.as_deref().map(|d| format!(" ({d})")).unwrap_or_default();
        out.push_str(&format!("{}{:?} {}{detail}\n", "  ".repeat(depth), symbol.kind, symbol.name));
        render(&symbol.children, depth + 1, out);
    }
}

#[test]
fn outline_of_a_spec() {
    let fixture = fixture(SPEC);
    let symbols = fixture.analysis.document_symbols(fixture.main()).expect("not cancelled");
    let mut out = String::new();
    render(&symbols, 0, &mut out);
    expect![[r#"
        Contributor ACME (Acme)
        Module etr.record
        Module etr.codes
        Source source
          Field header.month (text)
          Field trailer.count (int)
          Column ACCT
          Column NAME
          Column BAL
          Column STATUS
        Table statuses (text -> AccountStatus)
          TableEntry "A" => "ACTIVE"
          TableEntry "C" => "CLOSED"
        Map map to Record
          Field account_no
          Field subject_name
          Field outstanding_balance
          Field account_status
        Let balance_or_zero
        Rule E1 (reject "bad line")
        Rule E2 (reject "bad amount")
        Rule C1 (warn "credit")
        Rule F1 (fatal "count")
    "#]]
    .assert_eq(&out);
}

#[test]
fn outline_keeps_the_items_around_a_broken_one() {
    let text = "use etr.codes\nlet a = (\nlet b = 2\n";
    let fixture = fixture(text);
    let symbols = fixture.analysis.document_symbols(fixture.main()).expect("not cancelled");
    let mut out = String::new();
    render(&symbols, 0, &mut out);
    expect![[r#"
        Module etr.codes
        Let b
    "#]]
    .assert_eq(&out);
}
