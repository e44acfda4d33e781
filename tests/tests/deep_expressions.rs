//! The deepest expressions the parser accepts go through every later stage without overflowing a
//! 2 MiB stack, in a debug build.
//!
//! The parser accepts 256 levels of expression nesting (and 64 of brackets) and parses on a
//! stack segment of its own. Everything after it recurses over the same tree: the checker and
//! lowering, the IR's text form, the interpreter, the formatter and the IDE's features (the JIT
//! compiles whole-binding parses and lookups only, and walks no deeper). 2 MiB is the stack of the
//! language server's worker threads and of the runtime's worker threads; checking a sum of 200
//! terms used to overflow it, which aborts the process (issue 13, "never a panic"). Each walk now
//! continues on a new stack segment when it runs low (`ensure_sufficient_stack` in `etr-syntax`
//! and `etr-ir`).
//!
//! For each way an expression nests, the test builds the deepest spec that still parses (and
//! checks that one level more does not), and runs every stage over it on a thread of 2 MiB: check
//! and lower, the IR's text form, a run with each engine (whose worker threads have the default
//! stack), the formatter, and the IDE's features before and after an edit. A chain of lets, which
//! the parser does not bound, goes through the same stages.

use etr_ide::{AnalysisHost, Change, FileId, FileInfo, FilePosition, FileRange, Severity, TextRange};
use etr_tests::render::{CaseInput, run_outputs};

/// The stack of a language server worker thread and of a std thread by default.
const SMALL_STACK: usize = 2 << 20;

/// A way for expressions to nest: its name, the expression of `n` levels, and whether that
/// expression is a `bool` (a rule can check it as it is).
struct Shape {
    name: &'static str,
    expr: fn(usize) -> String,
    is_bool: bool,
}

/// `first` followed by `n - 1` times `op item`, ops taken in turn.
fn chain(first: &str, ops: &[&str], item: &str, n: usize) -> String {
    let mut out = first.to_owned();
    for i in 1..n {
        out.push_str(&format!(" {} {item}", ops[i % ops.len()]));
    }
    out
}

const SHAPES: &[Shape] = &[
    Shape { name: "sum", expr: |n| chain("n", &["+", "-"], "n", n), is_bool: false },
    Shape { name: "product", expr: |n| chain("n", &["*"], "n", n), is_bool: false },
    Shape {
        name: "comparisons",
        expr: |n| {
            let mut out = String::from("n > 0");
            for i in 1..n {
                let op = ["<", "==", ">=", "!=", "<=", ">"][i % 6];
                out.push_str(&format!(" and n {op} {i}"));
            }
            out
        },
        is_bool: true,
    },
    Shape { name: "or", expr: |n| chain("flag", &["or"], "flag", n), is_bool: true },
    Shape { name: "coalesce", expr: |n| chain("maybe", &["??"], "maybe", n) + " ?? 0", is_bool: false },
    Shape {
        name: "method_chain",
        expr: |n| {
            format!("ACCT{}", [".upper()", ".lower()", ".trim()"].iter().cycle().take(n).copied().collect::<String>())
        },
        is_bool: false,
    },
    Shape {
        // A handled method call type-checks its receiver as the call's first argument.
        name: "handled_method_chain",
        expr: |n| format!("N{}.parse_int() else 0", ".trim()".repeat(n)),
        is_bool: false,
    },
    Shape { name: "nested_calls", expr: |n| format!("{}ACCT{}", "trim(".repeat(n), ")".repeat(n)), is_bool: false },
    Shape {
        name: "if_chain",
        expr: |n| {
            let mut out = String::new();
            for i in 0..n {
                out.push_str(&format!("if n > {i} then {i} else "));
            }
            out + "0"
        },
        is_bool: false,
    },
    Shape {
        name: "nested_matches",
        expr: |n| {
            let mut out = String::from("n");
            for i in 0..n {
                out = format!("match n {{ {i} => {out}, _ => {i} }}");
            }
            out
        },
        is_bool: false,
    },
    Shape { name: "parentheses", expr: |n| format!("{}n{}", "(".repeat(n), ")".repeat(n)), is_bool: false },
    Shape { name: "negation", expr: |n| format!("{}n", "- ".repeat(n)), is_bool: false },
    Shape { name: "not", expr: |n| format!("{}flag", "not ".repeat(n)), is_bool: true },
];

/// A contributor spec that uses the expression of `n` levels in a `let` and in a rule.
fn spec(shape: &Shape, n: usize) -> String {
    let expr = (shape.expr)(n);
    let (deep_check, rule_check) = if shape.is_bool {
        ("deep".to_owned(), expr.clone())
    } else {
        // Bracketed: an `if` chain's last branch would take the test otherwise.
        ("deep is not null".to_owned(), format!("({expr}) is not null"))
    };
    format!(
        r#"contributor X "X" layout 1
use etr.record

source delimited "|" {{
  encoding "utf-8" else reject R0
  columns {{ ACCT, BAL, N }} else reject R0
}}

let n = parse_int(N) else 0
let maybe = parse_int(N) else null
let flag = n > 2
let deep = {expr}

map to Record {{
  account_no = ACCT
  outstanding_balance = parse_money(BAL, ringgit) else reject R0
}}

rule R0 reject "the line is malformed"
rule D1 warn "the deep let" {{
  check {deep_check} on account_no
}}
rule D2 warn "the deep expression in a rule" {{
  check {rule_check} on account_no
}}
"#
    )
}

/// The deepest spec of this shape that parses, and its depth. One level more must not parse.
fn deepest(shape: &Shape) -> (String, usize) {
    let parses = |n: usize| etr_syntax::parse_file(&spec(shape, n)).errors.is_empty();
    assert!(parses(1), "{}: the spec does not parse", shape.name);
    // Bisect: `lo` parses, `hi` does not.
    let (mut lo, mut hi) = (1, 400);
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        if parses(mid) { lo = mid } else { hi = mid }
    }
    let n = lo;
    assert!(n > 32, "{}: only {n} levels parse; the spec around the expression is wrong", shape.name);
    let errors = etr_syntax::parse_file(&spec(shape, n + 1)).errors;
    assert!(
        errors.iter().any(|e| e.message.contains("nested too deeply")),
        "{}: {} levels are refused for another reason than depth: {errors:?}",
        shape.name,
        n + 1
    );
    (spec(shape, n), n)
}

/// Runs every stage over the spec, saying on stderr which one runs (an overflow aborts the
/// process: the last line names the walk that overflowed).
fn exercise(name: &str, text: &str) {
    let started = std::time::Instant::now();
    let stage = |what: &str| eprintln!("{name}: {what} ({:?})", started.elapsed());

    stage("check and lower");
    let (program, diagnostics, ..) = etr_tests::compile("deep.etr", text);
    let program = program.unwrap_or_else(|| panic!("{name}: the spec does not compile: {diagnostics:?}"));

    stage("display the IR");
    let shown = format!("{program}");
    assert!(shown.contains("let "), "{name}: the IR shows the lets");

    stage("run with the interpreter and the JIT");
    let input = "A1|1.00|3\nb2|2.50|0\nc3|x|\n".as_bytes().to_vec();
    let outputs =
        run_outputs(program, &CaseInput::Bytes(input), text).unwrap_or_else(|e| panic!("{name}: the run failed: {e}"));
    assert!(!outputs.is_empty());

    stage("format");
    let formatted = etr_fmt::format(text).unwrap_or_else(|e| panic!("{name}: fmt refused the spec: {e:?}"));
    assert_eq!(etr_fmt::format(&formatted).ok().as_deref(), Some(formatted.as_str()), "{name}: fmt is idempotent");

    stage("IDE features");
    ide_features(name, text);
    stage("done");
}

fn ide_features(name: &str, text: &str) {
    let mut host = AnalysisHost::new();
    let mut change = Change::new();
    for (i, module) in etr_stdlib::MODULES.iter().enumerate() {
        let info = FileInfo { path: module.path.to_string(), module: Some(module.name.to_string()), read_only: true };
        change.add_file(FileId(i as u32), info, module.text.to_string());
    }
    let file = FileId(100);
    change.add_file(file, FileInfo { path: "/deep.etr".into(), module: None, read_only: false }, text.to_owned());
    host.apply_change(change);
    let analysis = host.analysis();

    let errors: Vec<_> = analysis
        .diagnostics(file)
        .expect("not cancelled")
        .into_iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    assert!(errors.is_empty(), "{name}: the IDE reports errors on a spec that compiles: {errors:?}");
    assert!(!analysis.semantic_tokens(file).expect("not cancelled").is_empty());
    assert!(!analysis.document_symbols(file).expect("not cancelled").is_empty());
    let whole = FileRange { file, range: TextRange::new(0, text.len() as u32) };
    analysis.inlay_hints(whole).expect("not cancelled");
    let _ = analysis.format(file).expect("not cancelled");
    // Cursor features at offsets spread over the file, the deep expressions included.
    let deep_let = text.rfind("\nlet ").expect("a let") as u32 + 1;
    let step = text.len() / 40 + 1;
    let offsets = (0..text.len() as u32).step_by(step).chain([deep_let + 4, deep_let + 11, text.len() as u32 - 40]);
    for offset in offsets {
        let position = FilePosition { file, offset };
        analysis.hover(position).expect("not cancelled");
        analysis.goto_definition(position).expect("not cancelled");
        analysis.references(position, true).expect("not cancelled");
        let _ = analysis.prepare_rename(position).expect("not cancelled");
        analysis.completions(position).expect("not cancelled");
        let around = FileRange { file, range: TextRange::new(offset.saturating_sub(5), offset) };
        analysis.code_actions(around).expect("not cancelled");
    }
    // A rename checks the whole file again with the new name: at the names of the deep let only.
    for offset in [deep_let + 4, deep_let + 5] {
        let _ = analysis.rename(FilePosition { file, offset }, "renamed").expect("not cancelled");
    }
    drop(analysis);

    // An edit re-runs the queries, and salsa compares the new trees and program with the old
    // ones (derived `PartialEq`, recursive too) to see what changed.
    let mut change = Change::new();
    change.edit_file(file, format!("{text}// edited\n"));
    host.apply_change(change);
    let analysis = host.analysis();
    analysis.diagnostics(file).expect("not cancelled");
    analysis.semantic_tokens(file).expect("not cancelled");
    analysis.hover(FilePosition { file, offset: deep_let + 11 }).expect("not cancelled");
}

#[test]
fn the_deepest_expressions_the_parser_accepts_never_overflow_a_small_stack() {
    let started = std::time::Instant::now();
    let specs: Vec<(&'static str, String, usize)> = SHAPES
        .iter()
        .map(|shape| {
            let (text, n) = deepest(shape);
            (shape.name, text, n)
        })
        .collect();
    eprintln!("the deepest specs found in {:?}", started.elapsed());
    std::thread::Builder::new()
        .stack_size(SMALL_STACK)
        .spawn(move || {
            for (name, text, n) in &specs {
                eprintln!("{name}: {n} levels");
                exercise(name, text);
            }
        })
        .expect("a thread")
        .join()
        .expect("every stage succeeds");
}

/// Lets that each read the next one nest through names rather than within one expression, so
/// the parser's limits do not bound them: ordering the bindings (and checking a let before the
/// lets that read it) recurses once per let.
#[test]
fn a_long_chain_of_lets_never_overflows_a_small_stack() {
    const LETS: usize = 2_000;
    let mut text = String::from(
        "contributor X \"X\" layout 1\nuse etr.record\nsource delimited \"|\" {\n  encoding \"utf-8\" else reject R0\n  columns { ACCT, N } else reject R0\n}\n",
    );
    // Written from the last to the first: each let reads one declared below it.
    for i in 0..LETS - 1 {
        text.push_str(&format!("let v{i} = v{} + 1\n", i + 1));
    }
    text.push_str(&format!("let v{} = parse_int(N) else 0\n", LETS - 1));
    text.push_str(
        "map to Record {\n  account_no = ACCT\n}\nrule R0 reject \"the line is malformed\"\nrule D1 warn \"the first let\" {\n  check v0 > 0 on account_no\n}\n",
    );
    std::thread::Builder::new()
        .stack_size(SMALL_STACK)
        .spawn(move || exercise("let_chain", &text))
        .expect("a thread")
        .join()
        .expect("every stage succeeds");
}
