//! The dataset checks through the interpreter's API, with no runtime: a file's lines evaluated in
//! batches, the lines each `unique` check rejects found by `UniqueKeys`, then every batch judged by
//! `DatasetChecks` in file order. The interpreter alone says what a file's findings are.

use std::collections::HashMap;
use std::sync::Arc;

use etr_interp::test_support::split_batch;
use etr_interp::{DatasetChecks, DatasetStats, Interpreter, Route, UniqueKeys};
use proptest::prelude::*;

/// Ordering checks of both directions, strict and not, one with a `when`, on text and an int, one
/// within each group of a key (`per`); consistency checks per key, on text (warn) and an int
/// (reject); a `unique` check; two row rules that reject (the field count, a number that does not
/// parse) and an info row check.
const SPEC: &str = r#"
contributor X "X" layout 1
use etr.record
source delimited "|" {
  encoding "utf-8" else reject R0
  columns { ACCT, DPD, NAME, FLAG } else reject R0
}
map to Record {
  account_no = ACCT
  days_past_due = parse_int(DPD) else reject R2
  subject_name = NAME
  special_flag = FLAG
}
rule R0 reject "the line does not have four fields"
rule R2 reject "the days past due are not a number"
rule I1 info "many days past due" {
  check days_past_due < 50 on days_past_due
}
rule U1 reject "the account occurs more than once" {
  unique account_no on account_no
}
rule O1 warn "the names are not sorted" {
  increasing subject_name on subject_name
}
rule O2 reject "the days past due of flagged lines do not strictly decrease" {
  when special_flag == "Y"
  strictly decreasing days_past_due on days_past_due
}
rule O3 warn "the names are not sorted among the lines with the same flag" {
  increasing subject_name per special_flag on subject_name
}
rule C1 warn "the flag of a name changes" {
  consistent special_flag per subject_name on special_flag
}
rule C2 reject "the days past due of an account change" {
  consistent days_past_due per account_no on days_past_due
}
"#;

/// One routed finding: line number, rule id, target, value, route.
type Found = (u64, String, String, Option<String>, Route);

/// What the interpreter decides about `lines` (numbered from 1) cut into batches of `batch_len`:
/// every finding, the accepted lines, and the dataset checks' statistics.
fn judge_file(lines: &[String], batch_len: usize) -> (Vec<Found>, Vec<u64>, DatasetStats) {
    judge_spec(SPEC, 4, lines, batch_len)
}

/// [`judge_file`] for another spec, whose source has `columns` columns.
fn judge_spec(spec: &str, columns: usize, lines: &[String], batch_len: usize) -> (Vec<Found>, Vec<u64>, DatasetStats) {
    let (program, diagnostics, ..) = etr_tests::compile("dataset.etr", spec);
    let program = program.unwrap_or_else(|| panic!("the spec compiles: {diagnostics:?}"));
    let interpreter = Interpreter::new(Arc::clone(&program)).expect("prepares");
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let batches: Vec<_> = lines
        .chunks(batch_len.max(1))
        .enumerate()
        .map(|(i, chunk)| split_batch(chunk, 1 + (i * batch_len.max(1)) as u64, columns))
        .collect();
    let results: Vec<_> = batches.iter().map(|batch| interpreter.eval_batch(batch).expect("evaluates")).collect();

    let mut keys = UniqueKeys::new(&program);
    for (batch, result) in batches.iter().zip(&results) {
        keys.add(&program, batch, result).expect("counts");
    }
    let mut dataset = DatasetChecks::new(&program, keys.duplicates()).expect("prepares the dataset checks");
    let mut found = Vec::new();
    let mut accepted = Vec::new();
    for (batch, result) in batches.iter().zip(&results) {
        let decided = dataset.judge(batch, result).expect("judges");
        for finding in decided.findings {
            let line = batch.line_nos[finding.row as usize];
            let rule = program.rules[finding.rule].id.clone();
            found.push((line, rule, finding.target.to_owned(), finding.value.map(|v| v.into_owned()), finding.route));
        }
        accepted.extend(batch.line_nos.iter().zip(&decided.accepted).filter(|(_, a)| **a).map(|(line, _)| *line));
    }
    (found, accepted, dataset.into_stats())
}

fn owned(lines: &[&str]) -> Vec<String> {
    lines.iter().map(|line| (*line).to_owned()).collect()
}

#[test]
fn ordering_consistency_and_uniqueness_findings_come_from_the_interpreter() {
    let lines = owned(&[
        "a|90|Bea|Y", // 1: the first value of each check in file order passes; I1 counts 90
        "b|80|Al|Y",  // 2: Al < Bea breaks O1 and, among the Y lines, O3 (warnings on a loaded line)
        "c|80|Al|Y",  // 3: 80 is not below 80 breaks the strict O2; Al == Al passes O1
        "x|1|A",      // 4: malformed: rejected by R0 alone, and takes no part in any check
        "a|70|Cy|N",  // 5: account a again: lines 1 and 5 are rejected by U1, and 70 is not a's first
        //               90 (C2); O2 skips an N line, O3 starts the N lines
        "d||Cy|Y",    // 6: no days past due: O2 and C2 have nothing to compare; Cy was N (C1)
        "|10|Ben|Y",  // 7: no account: U1 skips it; Ben < Cy breaks O1 and O3 (on a loaded line)
        "e|10|Dan|Y", // 8: 10 is not below 10 breaks O2
        "e|x|Eve|Y",  // 9: rejected by R2, so takes no part: line 8 is not a duplicate of it
        "f|20|Da|N",  // 10: Da < Dan (line 8) breaks O1, but among the N lines Da follows Cy
    ]);
    let (found, accepted, stats) = judge_file(&lines, 3);
    let finding = |line: u64, rule: &str, target: &str, value: Option<&str>, route| {
        (line, rule.to_owned(), target.to_owned(), value.map(str::to_owned), route)
    };
    assert_eq!(
        found,
        [
            // A rejected line's info and warnings are not reported: they are about loaded data.
            finding(1, "U1", "account_no", None, Route::Reject),
            finding(2, "I1", "days_past_due", None, Route::Info),
            finding(2, "O1", "subject_name", Some("Al"), Route::Warn),
            finding(2, "O3", "subject_name", Some("Al"), Route::Warn),
            finding(3, "O2", "days_past_due", Some("80"), Route::Reject),
            finding(4, "R0", "line", None, Route::Reject),
            finding(5, "U1", "account_no", None, Route::Reject),
            finding(5, "C2", "days_past_due", Some("70"), Route::Reject),
            finding(6, "C1", "special_flag", Some("Y"), Route::Warn),
            finding(7, "O1", "subject_name", Some("Ben"), Route::Warn),
            finding(7, "O3", "subject_name", Some("Ben"), Route::Warn),
            finding(8, "O2", "days_past_due", Some("10"), Route::Reject),
            finding(9, "R2", "days_past_due", Some("x"), Route::Reject),
            finding(10, "O1", "subject_name", Some("Da"), Route::Warn),
        ]
    );
    assert_eq!(accepted, [2, 6, 7, 10]);
    // O1 and O3 compared the names of lines 1-3, 5-8 and 10; O2 the days of the Y lines with days
    // (1-3, 7, 8).
    assert_eq!((stats.order[0].considered, stats.order[0].unexpected), (8, 3));
    assert_eq!((stats.order[1].considered, stats.order[1].unexpected), (5, 2));
    assert_eq!((stats.order[2].considered, stats.order[2].unexpected), (8, 2));
    // C1 compared the flags of lines 1-3, 5-8 and 10; C2 the days of the lines with an account
    // and days (1-3, 5, 8, 10).
    assert_eq!((stats.order[3].considered, stats.order[3].unexpected), (8, 1));
    assert_eq!((stats.order[4].considered, stats.order[4].unexpected), (6, 1));
    // U1: eight lines took part, seven with an account; lines 1 and 5 are its duplicates.
    assert_eq!((stats.unique[0].considered, stats.unique[0].missing, stats.unique[0].unexpected), (7, 1, 2));
}

/// Consistency compares values that have no order too: a `bool` and a code, in their own layouts,
/// and shows the value of the line that differs.
#[test]
fn consistency_compares_bools_and_codes() {
    let spec = r#"
contributor X "X" layout 1
use etr.codes
source delimited "|" {
  encoding "utf-8" else reject R0
  columns { ACCT, ACTIVE, CAP } else reject R0
}
record Line {
  account: text
  active: bool
  capacity: Capacity
}
table capacities: text -> Capacity { "O" => "OWN", "J" => "JNT" }
map to Line {
  account = ACCT
  active = ACTIVE == "Y"
  capacity = capacities[CAP] else null
}
rule R0 reject "the line does not have three fields"
rule A1 reject "an account is active on one line and not on another" {
  consistent active per account on active
}
rule A2 warn "the capacity of an account changes" {
  consistent capacity per account on capacity
}
"#;
    let lines = owned(&["a|Y|O", "b|N|J", "a|Y|J", "b|Y|J", "a|N|O", "b|N|X"]);
    let (found, accepted, stats) = judge_spec(spec, 3, &lines, 2);
    let finding = |line: u64, rule: &str, target: &str, value: &str, route| {
        (line, rule.to_owned(), target.to_owned(), Some(value.to_owned()), route)
    };
    assert_eq!(
        found,
        [
            finding(3, "A2", "capacity", "JNT", Route::Warn),
            finding(4, "A1", "active", "true", Route::Reject),
            finding(5, "A1", "active", "false", Route::Reject),
        ]
    );
    assert_eq!(accepted, [1, 2, 3, 6]);
    // Line 6's capacity is null (`X` is not in the table): A2 compared five values.
    assert_eq!((stats.order[0].considered, stats.order[0].unexpected), (6, 2));
    assert_eq!((stats.order[1].considered, stats.order[1].unexpected), (5, 1));
}

/// The same spec decided the obvious way, one line after the other over the whole file, with
/// plain Rust values: which lines are malformed, which keys repeat, how each value compares with
/// the previous one or the first one of its group.
fn model(lines: &[String]) -> (Vec<Found>, Vec<u64>) {
    let fields: Vec<Vec<&str>> = lines.iter().map(|line| line.split('|').collect()).collect();
    let well_formed = |f: &Vec<&str>| f.len() == 4;
    let text = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    // A number that does not parse rejects the line (R2); an empty field is null.
    let unreadable = |f: &Vec<&str>| !f[1].is_empty() && f[1].parse::<i64>().is_err();
    let mut accounts: HashMap<&str, u32> = HashMap::new();
    for f in fields.iter().filter(|f| well_formed(f) && !unreadable(f) && !f[0].is_empty()) {
        *accounts.entry(f[0]).or_default() += 1;
    }
    let (mut found, mut accepted) = (Vec::new(), Vec::new());
    let (mut previous_name, mut previous_days): (Option<String>, Option<i64>) = (None, None);
    let mut previous_name_per_flag: HashMap<&str, String> = HashMap::new();
    let mut first_flag_per_name: HashMap<&str, &str> = HashMap::new();
    let mut first_days_per_account: HashMap<&str, i64> = HashMap::new();
    for (i, f) in fields.iter().enumerate() {
        let line = i as u64 + 1;
        if !well_formed(f) {
            found.push((line, "R0".to_owned(), "line".to_owned(), None, Route::Reject));
            continue;
        }
        if unreadable(f) {
            found.push((line, "R2".to_owned(), "days_past_due".to_owned(), Some(f[1].to_owned()), Route::Reject));
            continue;
        }
        let days: Option<i64> = f[1].parse().ok();
        let duplicate = !f[0].is_empty() && accounts[f[0]] > 1;
        let name_out_of_order = match (text(f[2]), &previous_name) {
            (Some(name), Some(previous)) => name < *previous,
            _ => false,
        };
        // O3: a line without a flag has no group.
        let name_out_of_order_within_flag = match (text(f[2]), previous_name_per_flag.get(f[3])) {
            (Some(name), Some(previous)) if !f[3].is_empty() => name < *previous,
            _ => false,
        };
        if let Some(name) = text(f[2]) {
            if !f[3].is_empty() {
                previous_name_per_flag.insert(f[3], name.clone());
            }
            previous_name = Some(name);
        }
        let days_out_of_order = match (f[3] == "Y", days, previous_days) {
            (true, Some(days), Some(previous)) => days >= previous,
            _ => false,
        };
        if f[3] == "Y" && days.is_some() {
            previous_days = days;
        }
        // C1 and C2: a line with an empty key or value takes no part; the first value stays.
        let flag_changed =
            !f[2].is_empty() && !f[3].is_empty() && *first_flag_per_name.entry(f[2]).or_insert(f[3]) != f[3];
        let days_changed = match days {
            Some(days) if !f[0].is_empty() => *first_days_per_account.entry(f[0]).or_insert(days) != days,
            _ => false,
        };
        let loaded = !duplicate && !days_out_of_order && !days_changed;
        let mut here = Vec::new();
        if loaded && days.is_some_and(|d| d >= 50) {
            here.push(("I1", "days_past_due", None, Route::Info));
        }
        if duplicate {
            here.push(("U1", "account_no", None, Route::Reject));
        }
        if loaded && name_out_of_order {
            here.push(("O1", "subject_name", text(f[2]), Route::Warn));
        }
        if days_out_of_order {
            here.push(("O2", "days_past_due", days.map(|d| d.to_string()), Route::Reject));
        }
        if loaded && name_out_of_order_within_flag {
            here.push(("O3", "subject_name", text(f[2]), Route::Warn));
        }
        if loaded && flag_changed {
            here.push(("C1", "special_flag", text(f[3]), Route::Warn));
        }
        if days_changed {
            here.push(("C2", "days_past_due", days.map(|d| d.to_string()), Route::Reject));
        }
        found.extend(
            here.into_iter()
                .map(|(rule, target, value, route)| (line, rule.to_owned(), target.to_owned(), value, route)),
        );
        if loaded {
            accepted.push(line);
        }
    }
    (found, accepted)
}

fn line() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec!["a", "b", "c", ""]),
        prop::sample::select(vec!["", "5", "40", "60", "7", "x"]),
        prop::sample::select(vec!["", "Al", "Bea", "Cy", "Al"]),
        prop::sample::select(vec!["Y", "N", "Y", "N", ""]),
        prop::sample::select(vec![4usize, 4, 4, 4, 4, 4, 3, 5]),
    )
        .prop_map(|(acct, days, name, flag, fields)| {
            let mut parts = vec![acct, days, name, flag, "extra"];
            parts.truncate(fields);
            parts.join("|")
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Whatever the lines and however they are cut into batches, the interpreter decides them as
    /// the line-by-line model does.
    #[test]
    fn the_dataset_checks_agree_with_a_line_by_line_model(
        lines in prop::collection::vec(line(), 0..40),
        batch_len in 1usize..12,
    ) {
        let (found, accepted, _) = judge_file(&lines, batch_len);
        let (want_found, want_accepted) = model(&lines);
        prop_assert_eq!(found, want_found);
        prop_assert_eq!(accepted, want_accepted);
    }
}
