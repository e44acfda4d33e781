//! Property: `unique` checks reject exactly the lines a plain model says, whatever mix of
//! duplicated, rejected, null and `when`-excluded keys a file holds.
//!
//! The runtime finds duplicates in three sweeps (a key pass over the keys alone, a full evaluation
//! of the candidate lines, the writing pass; `runtime/engine/src/passes/keys.rs`, with the verdicts in `etr_interp::dataset`). The model here does it
//! the obvious way: decide every line's row-level fate first, then count the keys of the lines that
//! survived. Keys come from tiny alphabets so that most files have many duplicates, and many of
//! them have a copy rejected for another reason, which is where a shortcut would go wrong.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use etr_runtime::pipeline::{self, Engine, RunConfig};
use proptest::prelude::*;

const SPEC: &str = r#"
contributor X "X" layout 1
use etr.record
use etr.codes
source delimited "|" {
  encoding "utf-8" else reject R0
  columns { ACCT, CAP, BAL, FLAG } else reject R0
}
table capacities: text -> Capacity { "P" => "OWN", "J" => "JNT" }
map to Record {
  account_no = ACCT
  capacity = capacities[CAP] else reject R3
  outstanding_balance = parse_money(BAL, ringgit) else reject R2
  special_flag = FLAG
}
rule R0 reject "the line does not have four fields"
rule R2 reject "the balance is not money"
rule R3 reject "the capacity is not a known code"
rule R7 reject "the balance is negative" {
  check outstanding_balance >= RM0 on outstanding_balance
}
rule D1 reject "the key occurs more than once" {
  unique account_no, capacity on record_key
}
rule D2 reject "a flagged account occurs more than once among the flagged lines" {
  when special_flag == "Y"
  unique account_no on flagged_account
}
"#;

/// One data line: its four fields, or a malformed line of three, or a blank line.
#[derive(Debug, Clone)]
struct Line {
    acct: &'static str,
    cap: &'static str,
    bal: &'static str,
    flag: &'static str,
    malformed: bool,
    blank: bool,
}

impl Line {
    fn text(&self) -> String {
        if self.blank {
            String::new()
        } else if self.malformed {
            format!("{}|{}|{}", self.acct, self.cap, self.bal)
        } else {
            format!("{}|{}|{}|{}", self.acct, self.cap, self.bal, self.flag)
        }
    }
}

fn line() -> impl Strategy<Value = Line> {
    (
        prop::sample::select(vec!["a", "b", "c", ""]),
        prop::sample::select(vec!["P", "J", "X", ""]),
        prop::sample::select(vec!["1.00", "1.00", "1.00", "-1.00", "x", ""]),
        prop::sample::select(vec!["Y", "N"]),
        prop::bool::weighted(0.05),
        prop::bool::weighted(0.04),
    )
        .prop_map(|(acct, cap, bal, flag, malformed, blank)| Line { acct, cap, bal, flag, malformed, blank })
}

/// How the test file ends its lines and begins.
#[derive(Debug, Clone, Copy)]
struct Layout {
    /// 0: LF; 1: CRLF; 2: LF, CRLF and lone CR mixed.
    endings: u8,
    bom: bool,
    final_terminator: bool,
}

fn layout() -> impl Strategy<Value = Layout> {
    (0u8..3, any::<bool>(), any::<bool>()).prop_map(|(endings, bom, final_terminator)| Layout {
        endings,
        bom,
        final_terminator,
    })
}

/// The file's bytes: the lines with their terminators. A lone CR never precedes a blank line (the
/// two would read as one CRLF), and a file never ends in blank lines (they would be trailing
/// lines, not data), so the lines stay the lines the model sees.
fn file_text(lines: &[Line], layout: Layout) -> Vec<u8> {
    let mut text = Vec::new();
    if layout.bom {
        text.extend_from_slice(b"\xEF\xBB\xBF");
    }
    for (i, l) in lines.iter().enumerate() {
        text.extend_from_slice(l.text().as_bytes());
        let next_blank = lines.get(i + 1).is_some_and(|n| n.blank);
        let last = i + 1 == lines.len();
        let terminator: &[u8] = match (layout.endings, i % 3) {
            (0, _) => b"\n",
            (1, _) | (2, 1) => b"\r\n",
            (_, 2) if !next_blank => b"\r",
            _ => b"\n",
        };
        if !last || layout.final_terminator || l.blank {
            text.extend_from_slice(terminator);
        }
    }
    text
}

/// The line numbers (the first data line is 1) the model accepts.
fn model_accepted(lines: &[Line]) -> BTreeSet<u64> {
    let row_rejected =
        |l: &Line| l.blank || l.malformed || !["P", "J", ""].contains(&l.cap) || l.bal == "x" || l.bal == "-1.00";
    let nonempty = |s: &str| (!s.is_empty()).then(|| s.to_string());
    // D1: the key is (account, capacity); a key whose parts are all null takes no part.
    let d1_key = |l: &Line| {
        let key = (nonempty(l.acct), nonempty(l.cap));
        (key != (None, None)).then_some(key)
    };
    // D2: only flagged lines, keyed by the account alone.
    let d2_key = |l: &Line| (l.flag == "Y").then(|| nonempty(l.acct)).flatten();
    let mut d1: HashMap<(Option<String>, Option<String>), u32> = HashMap::new();
    let mut d2: HashMap<String, u32> = HashMap::new();
    for l in lines.iter().filter(|l| !row_rejected(l)) {
        if let Some(k) = d1_key(l) {
            *d1.entry(k).or_default() += 1;
        }
        if let Some(k) = d2_key(l) {
            *d2.entry(k).or_default() += 1;
        }
    }
    lines
        .iter()
        .enumerate()
        .filter(|(_, l)| {
            !row_rejected(l) && d1_key(l).is_none_or(|k| d1[&k] == 1) && d2_key(l).is_none_or(|k| d2[&k] == 1)
        })
        .map(|(i, _)| i as u64 + 1)
        .collect()
}

fn program() -> Arc<etr_ir::Program> {
    let (program, diagnostics, ..) = etr_tests::compile("unique_keys.etr", SPEC);
    program.unwrap_or_else(|| panic!("the test spec compiles: {diagnostics:?}"))
}

/// The line numbers of `accepted.parquet`, from a run with the given engine, threads and block.
fn run_accepted(
    program: &Arc<etr_ir::Program>,
    lines: &[Line],
    layout: Layout,
    engine: Engine,
    threads: usize,
    block: usize,
) -> BTreeSet<u64> {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("input.psv");
    std::fs::write(&input, file_text(lines, layout)).expect("write input");
    let out = dir.path().join("out");
    let mut config =
        RunConfig { threads, engine, native_backend: etr_tests::native_backend(engine), ..RunConfig::default() };
    config.reader.block_size = block;
    let summary = pipeline::run(Arc::clone(program), &input, &out, &config).expect("the run succeeds");
    assert_eq!(summary.lines_read, lines.len() as u64);
    let accepted = etr_tests::render::parquet_as_tsv(&out.join("accepted.parquet")).expect("accepted.parquet");
    let mut header = accepted.lines().next().unwrap_or_default().split('\t');
    let line_no_column = header.position(|c| c == "line_no").expect("accepted.parquet has a line_no column");
    let found: BTreeSet<u64> = accepted
        .lines()
        .skip(1)
        .map(|row| row.split('\t').nth(line_no_column).and_then(|v| v.parse().ok()).expect("a line number"))
        .collect();
    assert_eq!(found.len() as u64, summary.accepted);
    found
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    #[test]
    fn unique_checks_reject_what_the_model_rejects(
        lines in proptest::collection::vec(line(), 0..200),
        layout in layout(),
        block in 8usize..512,
        jit in any::<bool>(),
    ) {
        let mut lines = lines;
        // Blank lines at the end would be trailing lines, not data (see `file_text`).
        while lines.last().is_some_and(|l| l.blank) {
            lines.pop();
        }
        let program = program();
        let expected = model_accepted(&lines);
        let engine = if jit { Engine::Jit } else { Engine::Interp };
        let found = run_accepted(&program, &lines, layout, engine, 2, block);
        prop_assert_eq!(found, expected);
    }
}

/// A hand-made file with each case once, so that a failure names what broke.
#[test]
fn each_kind_of_copy() {
    let l = |acct, cap, bal, flag| Line { acct, cap, bal, flag, malformed: false, blank: false };
    let lines = vec![
        l("a", "P", "1.00", "N"),  // 1: its twin (2) is rejected for a bad balance: unique after all
        l("a", "P", "x", "N"),     // 2: R2
        l("b", "P", "1.00", "N"),  // 3: three valid copies: all rejected
        l("b", "P", "1.00", "N"),  // 4
        l("b", "P", "1.00", "N"),  // 5
        l("", "", "1.00", "N"),    // 6: an all-null key twice: takes no part
        l("", "", "1.00", "N"),    // 7
        l("c", "J", "1.00", "Y"),  // 8: D2 among flagged lines: 8 and 9 share the account
        l("c", "P", "1.00", "Y"),  // 9
        l("c", "P", "1.00", "N"),  // 10: D1 twin of 9; not flagged, so not in D2
        l("a", "J", "-1.00", "N"), // 11: R7
        l("a", "J", "1.00", "N"),  // 12: its twin 11 is rejected: accepted
    ];
    let program = program();
    let expected: BTreeSet<u64> = [1, 6, 7, 12].into_iter().collect();
    assert_eq!(model_accepted(&lines), expected, "the model itself");
    for engine in [Engine::Interp, Engine::Jit] {
        for block in [16, 4096] {
            let layout = Layout { endings: 2, bom: true, final_terminator: false };
            assert_eq!(run_accepted(&program, &lines, layout, engine, 2, block), expected, "{engine:?}, block {block}");
        }
    }
}
