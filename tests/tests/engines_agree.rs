//! Property: the JIT and the interpreter give identical results on random specs and random,
//! often malformed, data (issue 4: "the interpreter stays the oracle").
//!
//! Each case writes a spec in the real syntax (so the whole compiler runs): a few columns, each of
//! a kind the JIT compiles (int, money in ringgit or sen, dates and months in one of several
//! fixed formats, codes looked up in a table with short and long keys) or plain text, mapped into record fields or `let`s with a random handler
//! (`else null`, `else reject`, a default value), sometimes through an expression the JIT does not
//! compile (so the per-expression fallback runs too), sometimes the same column twice; random
//! row checks (reject and warn) over those values; sometimes a `unique` check, sometimes an ordering
//! check (`[strictly] increasing` or `decreasing`, reject or warn), sometimes a consistency check
//! (`consistent`, over the file or `per` another field, on any kind, codes too). The lines are drawn
//! per column from valid values, near misses (31/02, month 13, a third decimal, an overflowing
//! integer, signs and blanks) and garbage, and some lines have the wrong number of fields.
//!
//! Both engines evaluate the same split batch; every output of `eval_batch` must be equal: the
//! record's Arrow arrays, the violations with their rendered values, the rejected rows, the
//! fatal failures, the key hashes and the per-check statistics; and what the interpreter's dataset
//! checks decide from each engine's result (every finding with its route, the accepted lines, the
//! dataset statistics). A case whose spec has a parse the JIT supports must also have been compiled
//! by it (so the property is not vacuously true).
//!
//! `cargo test` runs 96 cases; the full run is `ETR_DIFF_CASES=10000 cargo test --release -p
//! etr-tests --test engines_agree`.

use std::fmt::Write as _;
use std::sync::Arc;

use arrow::buffer::Buffer;
use etr_interp::{DatasetChecks, DatasetStats, Interpreter, Route, UniqueKeys};
use etr_runtime::{RawBlock, pipeline, split_block};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// What a column holds and how the spec parses it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Int,
    Ringgit,
    Sen,
    Date(&'static str),
    Month(&'static str),
    /// Looked up in [`CAPACITIES`].
    Code,
    Text,
}

/// The code table of `Code` columns: keys of 1, 3 and 13 to 16 bytes (inline and out-of-line
/// views), two keys for one value.
const CAPACITIES: &str = "table capacities: text -> Capacity {\n  \"P\" => \"OWN\", \"J\" => \"JNT\", \"G\" => \"GUA\", \"OWN\" => \"OWN\",\n  \"JOINT-ACCOUNT\" => \"JNT\", \"GUARANTOR-PARTY1\" => \"GUA\"\n}\n";

const DATE_FORMATS: &[&str] = &["%d/%m/%Y", "%Y-%m-%d", "%Y%m%d", "%d%m%Y", "%m/%d/%Y", "%d.%m.%Y", "%Y-%m-%d %H:%M"];
const MONTH_FORMATS: &[&str] = &["%Y%m", "%m/%Y", "%Y-%m"];

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        2 => Just(Kind::Int),
        2 => Just(Kind::Ringgit),
        1 => Just(Kind::Sen),
        3 => prop::sample::select(DATE_FORMATS).prop_map(Kind::Date),
        1 => prop::sample::select(MONTH_FORMATS).prop_map(Kind::Month),
        2 => Just(Kind::Code),
        1 => Just(Kind::Text),
    ]
}

/// How a binding treats a failed parse.
#[derive(Debug, Clone, Copy)]
enum Handler {
    Null,
    Reject,
    Default,
}

/// How a binding reads its column: the bare parse the JIT compiles, or through `trim()`, which
/// it does not (the interpreter takes that expression over).
#[derive(Debug, Clone)]
struct Binding {
    column: usize,
    handler: Handler,
    through_trim: bool,
}

#[derive(Debug, Clone)]
struct Case {
    kinds: Vec<Kind>,
    bindings: Vec<Binding>,
    /// Row checks: (left binding, right binding or a literal, operator, warn instead of reject).
    checks: Vec<(usize, Option<usize>, &'static str, bool)>,
    /// A unique check over these bindings.
    unique: Vec<usize>,
    /// An ordering check on a binding: (binding, decreasing, strictly, warn instead of reject).
    order: Option<(usize, bool, bool, bool)>,
    /// A consistency check on a binding: (binding, the binding of its `per` key, warn instead of
    /// reject).
    consistent: Option<(usize, Option<usize>, bool)>,
    lines: Vec<String>,
}

/// Record fields by kind; bindings beyond them become `let`s.
fn fields_of(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Int => &["payment_term_days", "tenure_months", "days_past_due"],
        Kind::Ringgit | Kind::Sen => &["credit_limit", "instalment_amount", "outstanding_balance", "amount_due"],
        Kind::Date(_) => &["open_date", "as_at_date", "status_date"],
        Kind::Month(_) => &["reporting_month"],
        Kind::Code => &["capacity"],
        Kind::Text => &["account_no", "subject_name", "address"],
    }
}

/// Same-typed values compare; money in ringgit and sen are both `money`.
fn type_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Int => "int",
        Kind::Ringgit | Kind::Sen => "money",
        Kind::Date(_) => "date",
        Kind::Month(_) => "month",
        Kind::Code => "Capacity",
        Kind::Text => "text",
    }
}

fn parse_call(kind: Kind, input: &str) -> Option<String> {
    Some(match kind {
        Kind::Int => format!("parse_int({input})"),
        Kind::Ringgit => format!("parse_money({input}, ringgit)"),
        Kind::Sen => format!("parse_money({input}, sen)"),
        Kind::Date(f) => format!("parse_date({input}, \"{f}\")"),
        Kind::Month(f) => format!("parse_month({input}, \"{f}\")"),
        Kind::Code => format!("capacities[{input}]"),
        Kind::Text => return None,
    })
}

fn default_value(kind: Kind) -> &'static str {
    match kind {
        Kind::Int => "-1",
        Kind::Ringgit | Kind::Sen => "RM12.50",
        _ => "null",
    }
}

fn literal(kind: Kind) -> Option<&'static str> {
    match kind {
        Kind::Int => Some("5"),
        Kind::Ringgit | Kind::Sen => Some("RM0"),
        Kind::Text => Some("\"M\""),
        Kind::Code => Some("\"JNT\""),
        _ => None,
    }
}

impl Case {
    /// The name each binding assigns, and whether the JIT can compile it.
    fn names(&self) -> Vec<(String, bool)> {
        let mut used: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        self.bindings
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let kind = self.kinds[b.column];
                let pool = fields_of(kind);
                let n = used.entry(type_name(kind)).or_default();
                let name = match kind {
                    // Ringgit and sen share the money fields.
                    _ if *n < pool.len() => pool[*n].to_string(),
                    _ => format!("v{i}"),
                };
                *n += 1;
                // The JIT's kernels serve parses of a bare column whose failed rows stay null; a
                // default value is the interpreter's to fill in.
                let fills_a_value = matches!(b.handler, Handler::Default) && default_value(kind) != "null";
                let compiled = kind != Kind::Text && !b.through_trim && !fills_a_value;
                (name, compiled)
            })
            .collect()
    }

    fn spec(&self) -> String {
        let mut s = String::from("contributor X \"X\" layout 1\nuse etr.record\nuse etr.codes\n");
        let columns: Vec<String> = (0..self.kinds.len()).map(|c| format!("C{c}")).collect();
        writeln!(s, "source delimited \"|\" {{\n  encoding \"utf-8\" else reject R0").ok();
        writeln!(s, "  columns {{ {} }} else reject R0\n}}", columns.join(", ")).ok();
        if self.kinds.contains(&Kind::Code) {
            s.push_str(CAPACITIES);
        }
        let names = self.names();
        let mut fields = Vec::new();
        let mut lets = Vec::new();
        for (b, (name, _)) in self.bindings.iter().zip(&names) {
            let kind = self.kinds[b.column];
            let input = if b.through_trim { format!("C{}.trim()", b.column) } else { format!("C{}", b.column) };
            let value = match parse_call(kind, &input) {
                None => input,
                Some(call) => match b.handler {
                    Handler::Null => format!("{call} else null"),
                    Handler::Reject => format!("{call} else reject R1"),
                    Handler::Default => format!("{call} else {}", default_value(kind)),
                },
            };
            if name.starts_with('v') {
                lets.push(format!("let {name} = {value}"));
            } else {
                fields.push(format!("  {name} = {value}"));
            }
        }
        writeln!(s, "map to Record {{\n{}\n}}", fields.join("\n")).ok();
        for l in &lets {
            writeln!(s, "{l}").ok();
        }
        s.push_str("rule R0 reject \"the line is malformed\"\nrule R1 reject \"a value does not parse\"\n");
        for (i, &(left, right, op, warn)) in self.checks.iter().enumerate() {
            let (l, _) = &names[left];
            let kind = self.kinds[self.bindings[left].column];
            let right = match right {
                Some(r) => names[r].0.clone(),
                None => match literal(kind) {
                    Some(lit) => lit.to_string(),
                    None => l.clone(),
                },
            };
            let severity = if warn { "warn" } else { "reject" };
            writeln!(s, "rule K{i} {severity} \"check {i}\" {{\n  check {l} {op} {right} on {l}\n}}").ok();
        }
        if !self.unique.is_empty() {
            let key: Vec<&str> =
                self.unique.iter().map(|&b| names[b].0.as_str()).filter(|n| !n.starts_with('v')).collect();
            if !key.is_empty() {
                writeln!(s, "rule D1 reject \"duplicate\" {{\n  unique {} on record_key\n}}", key.join(", ")).ok();
            }
        }
        if let Some((b, decreasing, strictly, warn)) = self.order {
            let name = &names[b].0;
            // An ordering check reads a record field of an ordered type: codes have no order.
            if !name.starts_with('v') && self.kinds[self.bindings[b].column] != Kind::Code {
                let severity = if warn { "warn" } else { "reject" };
                let strictly = if strictly { "strictly " } else { "" };
                let direction = if decreasing { "decreasing" } else { "increasing" };
                writeln!(s, "rule O1 {severity} \"order\" {{\n  {strictly}{direction} {name} on {name}\n}}").ok();
            }
        }
        if let Some((b, per, warn)) = self.consistent {
            // A consistency check and its key read record fields, of any kind.
            let name = &names[b].0;
            let per = per.map(|p| names[p].0.as_str()).filter(|key| !key.starts_with('v'));
            if !name.starts_with('v') {
                let severity = if warn { "warn" } else { "reject" };
                let per = per.map_or(String::new(), |key| format!(" per {key}"));
                writeln!(s, "rule S1 {severity} \"consistent\" {{\n  consistent {name}{per} on {name}\n}}").ok();
            }
        }
        s
    }
}

/// A field's text for a column of `kind`: valid values, near misses and garbage.
fn value(kind: Kind) -> BoxedStrategy<String> {
    let garbage = prop_oneof![
        Just(String::new()),
        Just(" ".to_string()),
        Just("abc".to_string()),
        Just("-".to_string()),
        Just("١٢".to_string()),
        "[0-9 ./:+-]{0,12}",
    ];
    let date_parts = (0u32..10000, 0u32..14, 0u32..33, 0u32..25, 0u32..61);
    let render = |f: &'static str, (y, m, d, h, mi): (u32, u32, u32, u32, u32)| {
        f.replace("%Y", &format!("{y:04}"))
            .replace("%m", &format!("{m:02}"))
            .replace("%d", &format!("{d:02}"))
            .replace("%H", &format!("{h:02}"))
            .replace("%M", &format!("{mi:02}"))
    };
    match kind {
        Kind::Int => prop_oneof![
            4 => any::<i32>().prop_map(|v| v.to_string()),
            1 => prop::sample::select(vec![
                "+5", " 5", "5 ", "007", "1e3", "12.0", "9223372036854775807", "9223372036854775808",
                "-9223372036854775808", "-0", "0x10",
            ]).prop_map(str::to_string),
            1 => garbage.boxed(),
        ]
        .boxed(),
        Kind::Ringgit | Kind::Sen => prop_oneof![
            4 => (any::<i32>(), 0u32..100).prop_map(|(w, f)| format!("{w}.{f:02}")),
            1 => any::<i64>().prop_map(|v| v.to_string()),
            1 => prop::sample::select(vec![
                "12.3", "12", "-0.01", "0.005", "1,000.00", "RM12.00", ".5", "5.", "92233720368547758.07",
                "92233720368547758.08", "-92233720368547758.08", "+1.00", "1.00 ",
            ]).prop_map(str::to_string),
            1 => garbage.boxed(),
        ]
        .boxed(),
        Kind::Date(f) | Kind::Month(f) => prop_oneof![
            5 => date_parts.prop_map(move |p| render(f, p)),
            1 => (1900u32..2100, 1u32..13, 1u32..29).prop_map(move |(y, m, d)| render(f, (y, m, d, 12, 30))),
            // Year 0 (refused by both engines) and year 1 (the first accepted), beside real dates.
            1 => (0u32..2, 1u32..13, 1u32..29).prop_map(move |(y, m, d)| render(f, (y, m, d, 12, 30))),
            1 => garbage.boxed(),
        ]
        .boxed(),
        Kind::Code => prop_oneof![
            4 => prop::sample::select(vec!["P", "J", "G", "OWN", "JOINT-ACCOUNT", "GUARANTOR-PARTY1"]).prop_map(str::to_string),
            2 => prop::sample::select(vec![
                "p", "P ", " P", "PJ", "OW", "OWNX", "JOINT-ACCOUN", "JOINT-ACCOUNTS", "JOINT-ACCOUNX",
                "GUARANTOR-PARTY2", "XUARANTOR-PARTY1", "GUARANTOR-PARTY10",
            ]).prop_map(str::to_string),
            1 => garbage.boxed(),
        ]
        .boxed(),
        Kind::Text => prop_oneof![Just(String::new()), "[A-Za-z ]{0,6}"].boxed(),
    }
}

fn case() -> impl Strategy<Value = Case> {
    prop::collection::vec(kind(), 1..6)
        .prop_flat_map(|kinds| {
            let n = kinds.len();
            let binding = (
                0..n,
                prop_oneof![Just(Handler::Null), Just(Handler::Reject), Just(Handler::Default)],
                prop::bool::weighted(0.2),
            )
                .prop_map(|(column, handler, through_trim)| Binding { column, handler, through_trim });
            (Just(kinds), prop::collection::vec(binding, 1..8))
        })
        .prop_flat_map(|(kinds, bindings)| {
            let b = bindings.len();
            let check =
                (0..b, prop::option::of(0..b), prop::sample::select(vec!["<", "<=", "==", "!=", ">="]), any::<bool>());
            let fields: Vec<BoxedStrategy<String>> = kinds.iter().map(|&k| value(k)).collect();
            let line = (fields, prop_oneof![10 => Just(0i8), 1 => Just(-1i8), 1 => Just(1i8)]);
            (
                Just(kinds),
                Just(bindings),
                prop::collection::vec(check, 0..4),
                prop::collection::vec(0..b, 0..3),
                prop::option::weighted(0.75, (0..b, any::<bool>(), any::<bool>(), any::<bool>())),
                prop::option::weighted(0.5, (0..b, prop::option::of(0..b), any::<bool>())),
                prop::collection::vec(line, 0..40),
            )
        })
        .prop_map(|(kinds, bindings, checks, unique, order, consistent, lines)| {
            // Only same-typed operands compare; other pairs compare the left value with a literal.
            let checks = checks
                .into_iter()
                .map(|(l, r, op, warn)| {
                    let lk = type_name(kinds[bindings[l].column]);
                    let r = r.filter(|&r| type_name(kinds[bindings[r].column]) == lk);
                    // Codes have no order: they compare with `==` and `!=` only.
                    let op = if kinds[bindings[l].column] == Kind::Code && op != "!=" { "==" } else { op };
                    (l, r, op, warn)
                })
                .collect();
            let lines = lines
                .into_iter()
                .map(|(mut fields, shape)| {
                    match shape {
                        -1 => {
                            fields.pop();
                        }
                        1 => fields.push("EXTRA".to_string()),
                        _ => {}
                    }
                    fields.join("|")
                })
                .collect();
            Case { kinds, bindings, checks, unique, order, consistent, lines }
        })
}

/// The batch the runtime's splitter makes of these data lines (numbered from 1) in `dialect`.
fn split_lines(lines: &[impl AsRef<str>], dialect: &etr_runtime::SourceDialect) -> etr_interp::RawBatch {
    let mut data = Vec::new();
    let mut ranges = Vec::new();
    for line in lines {
        let start = data.len() as u32;
        data.extend_from_slice(line.as_ref().as_bytes());
        ranges.push((start, data.len() as u32));
        data.push(b'\n');
    }
    let block = RawBlock::new(Buffer::from_vec(data), &ranges, 1).expect("the ranges lie in the buffer");
    split_block(&block, dialect)
}

/// Checks one case; says whether some line broke its ordering check, and its consistency check.
fn check_case(case: &Case) -> Result<(bool, bool), TestCaseError> {
    let spec = case.spec();
    let (program, diagnostics, ..) = etr_tests::compile("random.etr", &spec);
    let Some(program) = program else {
        return Err(TestCaseError::fail(format!("the generated spec does not compile: {diagnostics:?}\n{spec}")));
    };
    let interp = Interpreter::new(Arc::clone(&program)).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let compiled = etr_jit::Jit::new()
        .and_then(|mut jit| jit.compile(&program))
        .map_err(|e| TestCaseError::fail(format!("the JIT refused a generated spec: {e}\n{spec}")))?;
    let kernels = etr_jit::JitKernels::new(compiled, &program);
    let expects_native = case.names().iter().any(|(_, compiled)| *compiled);
    prop_assert_eq!(!kernels.is_empty(), expects_native, "native kernels compiled: {}\n{}", kernels.len(), spec);
    let jit = interp.clone().with_native_kernels(Arc::new(kernels));

    let dialect = pipeline::dialect_of(&program).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let batch = split_lines(&case.lines, &dialect);
    let by_interp = interp.eval_batch(&batch).map_err(|e| TestCaseError::fail(format!("interp: {e}\n{spec}")))?;
    let by_jit = jit.eval_batch(&batch).map_err(|e| TestCaseError::fail(format!("jit: {e}\n{spec}")))?;
    for (i, (a, b)) in by_interp.fields.iter().zip(&by_jit.fields).enumerate() {
        prop_assert_eq!(a.to_data(), b.to_data(), "record field {}\n{}", i, spec);
    }
    prop_assert_eq!(&by_interp.violations, &by_jit.violations, "violations\n{}", spec);
    prop_assert_eq!(&by_interp.rejected, &by_jit.rejected, "rejected rows\n{}", spec);
    prop_assert_eq!(&by_interp.fatal, &by_jit.fatal, "fatal failures\n{}", spec);
    prop_assert_eq!(&by_interp.key_hashes, &by_jit.key_hashes, "key hashes\n{}", spec);
    prop_assert_eq!(&by_interp.check_stats, &by_jit.check_stats, "check statistics\n{}", spec);
    prop_assert_eq!(&by_interp.aggregates, &by_jit.aggregates, "aggregates\n{}", spec);
    let dataset_interp = dataset_decisions(&program, &batch, &by_interp).map_err(TestCaseError::fail)?;
    let dataset_jit = dataset_decisions(&program, &batch, &by_jit).map_err(TestCaseError::fail)?;
    let broke = |id: &str| dataset_interp.0.iter().any(|(_, rule, ..)| program.rule_id(*rule) == id);
    let (out_of_order, inconsistent) = (broke("O1"), broke("S1"));
    prop_assert_eq!(dataset_interp, dataset_jit, "dataset findings\n{}", spec);
    let keys_interp = interp.eval_keys(&batch).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let keys_jit = jit.eval_keys(&batch).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(keys_interp.key_hashes, keys_jit.key_hashes, "key pass hashes\n{}", spec);
    prop_assert_eq!(keys_interp.counted, keys_jit.counted, "key pass rows\n{}", spec);
    Ok((out_of_order, inconsistent))
}

/// Every finding, with its route, and the accepted lines and the statistics, as the interpreter's
/// dataset checks decide them from `result`, a whole file's evaluation.
type Decisions = (Vec<(u32, etr_ir::RuleIdx, String, Option<String>, Route)>, Vec<bool>, DatasetStats);

fn dataset_decisions(
    program: &etr_ir::Program,
    batch: &etr_interp::RawBatch,
    result: &etr_interp::BatchResult,
) -> Result<Decisions, String> {
    let mut keys = UniqueKeys::new(program);
    keys.add(program, batch, result).map_err(|e| e.to_string())?;
    let mut checks = DatasetChecks::new(program, keys.duplicates()).map_err(|e| e.to_string())?;
    let decided = checks.judge(batch, result).map_err(|e| e.to_string())?;
    let findings = decided
        .findings
        .into_iter()
        .map(|f| (f.row, f.rule, f.target.to_owned(), f.value.map(|v| v.into_owned()), f.route))
        .collect();
    Ok((findings, decided.accepted, checks.into_stats()))
}

#[test]
fn jit_and_interpreter_agree_on_random_specs_and_data() {
    let cases = std::env::var("ETR_DIFF_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(96);
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    let native_cases = std::cell::Cell::new(0u32);
    let out_of_order_cases = std::cell::Cell::new(0u32);
    let inconsistent_cases = std::cell::Cell::new(0u32);
    let result = runner.run(&case(), |case| {
        if case.names().iter().any(|(_, compiled)| *compiled) {
            native_cases.set(native_cases.get() + 1);
        }
        let (out_of_order, inconsistent) = check_case(&case)?;
        out_of_order_cases.set(out_of_order_cases.get() + u32::from(out_of_order));
        inconsistent_cases.set(inconsistent_cases.get() + u32::from(inconsistent));
        Ok(())
    });
    let (native_cases, out_of_order_cases, inconsistent_cases) =
        (native_cases.get(), out_of_order_cases.get(), inconsistent_cases.get());
    if let Err(e) = result {
        panic!("{e}");
    }
    // The generator must mostly produce specs the JIT has work in, and often lines out of order.
    assert!(native_cases * 2 > cases, "only {native_cases} of {cases} cases had a parse the JIT compiles");
    assert!(out_of_order_cases * 16 > cases, "only {out_of_order_cases} of {cases} cases had a line out of order");
    assert!(inconsistent_cases * 16 > cases, "only {inconsistent_cases} of {cases} cases had an inconsistent line");
}

/// An aggregate runs over malformed lines too, and a parse or lookup inside it may share its
/// native kernel with a mapping binding (the kernel serves every expression that parses or looks
/// up that column): its failed rows on malformed lines must reach the aggregate's handler as they
/// do with the interpreter's own kernel.
#[test]
fn aggregates_see_the_failures_of_malformed_lines_on_both_engines() {
    let spec = r#"contributor X "X" layout 1
use etr.record
use etr.codes
source delimited "|" {
  encoding "utf-8" else reject R0
  columns { BAL, CAP } else reject R0
}
table capacities: text -> Capacity { "P" => "OWN", "J" => "JNT" }
map to Record {
  outstanding_balance = parse_money(BAL, ringgit) else null
  capacity = capacities[CAP] else null
}
rule R0 reject "the line is malformed"
rule F1 warn "few distinct balances" {
  check count_distinct(parse_money(BAL, ringgit) else RM1) >= 3 on "balances"
}
rule F2 warn "few distinct capacities" {
  check count_distinct(capacities[CAP] else "GUA") >= 3 on "capacities"
}
"#;
    let (program, diagnostics, ..) = etr_tests::compile("aggregates.etr", spec);
    let program = program.unwrap_or_else(|| panic!("the spec compiles: {diagnostics:?}"));
    let interp = Interpreter::new(Arc::clone(&program)).expect("prepares");
    let compiled = etr_jit::Jit::new().and_then(|mut jit| jit.compile(&program)).expect("compiles");
    let kernels = etr_jit::JitKernels::new(compiled, &program);
    assert_eq!(kernels.len(), 2, "the parse and the lookup are native");
    let jit = interp.clone().with_native_kernels(Arc::new(kernels));
    let dialect = pipeline::dialect_of(&program).expect("dialect");
    // The last two lines are malformed (one field too many, one too few), with a balance that
    // does not parse and a capacity that is not in the table.
    let lines = ["12.50|P", "7.00|J", "oops|X|extra", "zz"];
    let batch = split_lines(&lines, &dialect);
    let by_interp = interp.eval_batch(&batch).expect("interp");
    let by_jit = jit.eval_batch(&batch).expect("jit");
    assert_eq!(by_interp.aggregates, by_jit.aggregates);
    for (a, b) in by_interp.fields.iter().zip(&by_jit.fields) {
        assert_eq!(a.to_data(), b.to_data());
    }
}
