//! Every fenced `etr` example in `docs/language.md` is checked: `etr` blocks must parse, `etr check`
//! blocks must compile cleanly, `etr error CODE` blocks must report that code. The language
//! reference cannot drift from the language.

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
