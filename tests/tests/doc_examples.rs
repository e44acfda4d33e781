//! Every fenced `etr` example in `docs/language.md` is checked: `etr` blocks must parse, `etr check`
//! blocks must compile cleanly, `etr error CODE` blocks must report that code. The language
//! reference cannot drift from the language.
//!
//! The same for the built-in functions: every function has examples (`etr_sema::builtins`), each
//! runs in a spec of its own on both engines and must give its stated result, and the function
//! reference `docs/functions.md` is generated from them (`UPDATE_EXPECT=1` rewrites it).

use etr_sema::builtins::{self, Example, ExampleScope};
use etr_tests::render::{CASE_AS_OF, CaseInput, run_outputs};
use etr_tests::{compile, workspace_root};

#[test]
fn language_reference_examples_hold() {
    let path = workspace_root().join("docs/language.md");
    let text = std::fs::read_to_string(&path).expect("docs/language.md exists");
    let mut blocks = 0;
    let mut lines = text.lines().enumerate();
    while let Some((start, line)) = lines.next() {
        let Some(info) = line.strip_prefix("```etr") else { continue };
        let mut body = String::new();
        for (_, l) in lines.by_ref() {
            if l.starts_with("```") {
                break;
            }
            body.push_str(l);
            body.push('\n');
        }
        blocks += 1;
        let name = format!("docs/language.md:{}", start + 1);
        let parsed = etr_syntax_errors(&body);
        let info = info.trim();
        if info.is_empty() {
            assert!(parsed.is_empty(), "{name}: example does not parse: {parsed:?}");
        } else if info == "check" {
            let (program, diagnostics, db, file) = compile(&name, &body);
            let errors: Vec<_> = diagnostics.iter().filter(|d| d.is_error()).cloned().collect();
            assert!(
                errors.is_empty(),
                "{name}: example has errors:\n{}",
                etr_tests::render_diagnostics(&db, file, &errors)
            );
            assert!(program.is_some(), "{name}: a `check` example must be a whole contributor spec");
        } else if let Some(code) = info.strip_prefix("error ") {
            let (_, diagnostics, _, _) = compile(&name, &body);
            let codes: Vec<&str> = diagnostics.iter().map(|d| d.code.id).collect();
            assert!(codes.contains(&code.trim()), "{name}: expected {code}, got {codes:?}");
        } else {
            panic!("{name}: unknown example kind `{info}`");
        }
    }
    assert!(blocks >= 5, "only {blocks} examples found: is the fence syntax still ```etr?");
}

fn etr_syntax_errors(text: &str) -> Vec<String> {
    let (_, diagnostics, _, _) = compile("example.etr", text);
    diagnostics.iter().filter(|d| d.code.id == "E100").map(|d| d.message.clone()).collect()
}

/// Every built-in function the compiler knows is in the language reference's function table.
#[test]
fn every_builtin_is_documented() {
    let text = std::fs::read_to_string(workspace_root().join("docs/language.md")).expect("docs/language.md exists");
    let missing: Vec<&str> =
        etr_sema::builtins::ALL.iter().map(|b| b.name).filter(|name| !text.contains(&format!("`{name}("))).collect();
    assert!(missing.is_empty(), "functions missing from docs/language.md: {missing:?}");
}

#[test]
fn every_builtin_has_an_example() {
    let missing: Vec<&str> = builtins::ALL.iter().filter(|b| b.examples.is_empty()).map(|b| b.name).collect();
    assert!(missing.is_empty(), "functions without an example: {missing:?}");
}

#[test]
fn builtin_examples_hold_on_both_engines() {
    assert_eq!(builtins::EXAMPLES_AS_OF, CASE_AS_OF, "the reference states the date the examples run with");
    let mut failures = Vec::new();
    let mut count = 0;
    for signature in builtins::ALL {
        for example in signature.examples {
            count += 1;
            if let Err(why) = run_example(example) {
                failures.push(format!("{}: `{}` on {:?}: {why}", signature.name, example.call, example.lines));
            }
        }
    }
    assert!(failures.is_empty(), "{} of {count} examples fail:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn function_reference_is_generated_from_the_examples() {
    expect_test::expect_file!["../../docs/functions.md"].assert_eq(&builtins::reference_markdown());
}

/// Runs one example: its call is bound to a `let` (per line) or read by a file check (aggregates),
/// and a rule compares it with the stated result. A per-line example holds when its line is
/// accepted; a file example when the run is not refused.
fn run_example(example: &Example) -> Result<(), String> {
    let spec = example_spec(example);
    let (program, diagnostics, db, file) = compile("example.etr", &spec);
    let errors: Vec<_> = diagnostics.iter().filter(|d| d.is_error()).cloned().collect();
    let Some(program) = program.filter(|_| errors.is_empty()) else {
        return Err(format!("does not compile:\n{}", etr_tests::render_diagnostics(&db, file, &errors)));
    };
    let mut input = String::from("H|ACCT|BAL\n");
    for line in example.lines {
        input.push_str(line);
        input.push('\n');
    }
    let outputs = run_outputs(program, &CaseInput::Bytes(input.into_bytes()), &spec)?;
    let output = |name: &str| outputs.iter().find(|(n, _)| n == name).map(|(_, text)| text.as_str());
    if let Some(error) = output("error.txt") {
        return Err(format!("the run was refused: {error}"));
    }
    let summary: serde_json::Value =
        serde_json::from_str(output("summary.json").unwrap_or("{}")).map_err(|e| e.to_string())?;
    let fatal = summary["fatal"].as_array().map_or(0, Vec::len);
    let differs = match example.scope {
        ExampleScope::Row => summary["accepted"] != 1,
        ExampleScope::File => fatal > 0,
    };
    if differs || summary["fatal"].is_null() {
        let rejects = output("rejects.tsv").unwrap_or("(no rejects file)");
        return Err(format!("the result differs; fatal: {}, rejects:\n{rejects}", summary["fatal"]));
    }
    Ok(())
}

/// The spec of one example: the columns `X` and `Y` after a header `H`, and the comparison.
fn example_spec(example: &Example) -> String {
    let (binding, value, severity) = match example.scope {
        ExampleScope::Row => (format!("let example = {}\n", example.call), "example".to_owned(), "reject"),
        ExampleScope::File => (String::new(), format!("({})", example.call), "fatal"),
    };
    let result = example.result;
    // A null check is not broken (it counts as missing), so a comparison with a null result must
    // not pass for it: `?? false` breaks it.
    let check = if result == "null" {
        format!("{value} is null")
    } else if is_iso_date(result) {
        format!("(format_date({value}, \"%Y-%m-%d\") == \"{result}\") ?? false")
    } else if result.starts_with('[') {
        format!("same_set({value}, {result}) ?? false")
    } else {
        format!("({value} == {result}) ?? false")
    };
    format!(
        "contributor EXAMPLES \"function examples\" layout 1\n\
         use etr.record\n\
         use etr.codes\n\
         source delimited \"|\" {{\n\
         \x20 quote none\n\
         \x20 encoding \"utf-8\" else reject R0\n\
         \x20 header \"H\" {{ first: text, second: text }}\n\
         \x20 columns {{ X, Y }} else reject R0\n\
         }}\n\
         map to Record {{\n\
         \x20 account_no = X\n\
         }}\n\
         {binding}\
         rule R0 reject \"the line does not have two fields\"\n\
         rule E1 {severity} \"the example's result\" {{ check {check} on example }}\n"
    )
}

/// `yyyy-mm-dd`.
fn is_iso_date(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| if i == 4 || i == 7 { *b == b'-' } else { b.is_ascii_digit() })
}
