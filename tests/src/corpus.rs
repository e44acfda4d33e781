//! The corpus cases' mechanics: finding a case's spec and input, producing its outputs as text
//! files, and comparing them with (or writing them to) the case's `expected/` folder.

use std::path::{Path, PathBuf};

/// An error message for a failed case.
pub type CaseError = String;

/// The spec of a case: its display path and text.
pub fn spec_of(case: &Path) -> Result<(String, String), CaseError> {
    let local = case.join("spec.etr");
    if local.exists() {
        let text = std::fs::read_to_string(&local).map_err(|e| format!("{}: {e}", local.display()))?;
        return Ok((relative(&local), text));
    }
    let reference = case.join("spec.ref");
    let target = std::fs::read_to_string(&reference)
        .map_err(|e| format!("{}: no spec.etr or spec.ref ({e})", case.display()))?;
    let path = crate::workspace_root().join(target.trim());
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok((target.trim().to_string(), text))
}

fn relative(path: &Path) -> String {
    path.strip_prefix(crate::workspace_root()).unwrap_or(path).display().to_string()
}

/// The outputs of a case, as (file name, text) pairs, in a stable order.
pub fn evaluate(case: &Path, spec_path: &str, spec_text: &str) -> Result<Vec<(String, String)>, CaseError> {
    let (program, diagnostics, db, file) = crate::compile(spec_path, spec_text);
    let rendered = crate::render_diagnostics(&db, file, &diagnostics);
    let input = input_of(case)?;
    let Some(input) = input else {
        return Ok(vec![("diagnostics.txt".into(), rendered)]);
    };
    let Some(program) = program else {
        return Err(format!("the spec does not compile:\n{rendered}"));
    };
    crate::render::run_outputs(program, &input, spec_text)
}

/// The input file of a case: `input.psv` as is, or `input.gen` generated into a temp file.
fn input_of(case: &Path) -> Result<Option<crate::render::CaseInput>, CaseError> {
    let psv = case.join("input.psv");
    if psv.exists() {
        return Ok(Some(crate::render::CaseInput::File(psv)));
    }
    let generator = case.join("input.gen");
    if generator.exists() {
        let recipe = std::fs::read_to_string(&generator).map_err(|e| format!("{}: {e}", generator.display()))?;
        let bytes = crate::generate::generate(&recipe)?;
        return Ok(Some(crate::render::CaseInput::Bytes(bytes)));
    }
    Ok(None)
}

/// Compares the outputs with `expected/`, or rewrites `expected/` when `UPDATE_EXPECT` is set.
pub fn compare_or_update(case: &Path, outputs: &[(String, String)]) -> Result<(), libtest_mimic::Failed> {
    let expected_dir: PathBuf = case.join("expected");
    let update = std::env::var_os("UPDATE_EXPECT").is_some();
    if update {
        let _ = std::fs::remove_dir_all(&expected_dir);
        std::fs::create_dir_all(&expected_dir).map_err(|e| e.to_string())?;
        for (name, text) in outputs {
            std::fs::write(expected_dir.join(name), text).map_err(|e| e.to_string())?;
        }
        return Ok(());
    }
    let mut problems = Vec::new();
    for (name, text) in outputs {
        let path = expected_dir.join(name);
        match std::fs::read_to_string(&path) {
            Ok(expected) if expected == *text => {}
            Ok(expected) => problems.push(format!("{name} differs:\n{}", first_difference(&expected, text))),
            Err(_) => problems.push(format!("{} is missing (run with UPDATE_EXPECT=1)", path.display())),
        }
    }
    let names: Vec<&str> = outputs.iter().map(|(n, _)| n.as_str()).collect();
    if let Ok(entries) = std::fs::read_dir(&expected_dir) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            if !names.contains(&name.as_str()) {
                problems.push(format!("expected/{name} is no longer produced"));
            }
        }
    }
    if problems.is_empty() { Ok(()) } else { Err(problems.join("\n").into()) }
}

/// The diagnostic codes rendered in a `diagnostics.txt`: the lines that hold a code alone, which is
/// how a rendered diagnostic starts (`E204`, then the message). A code quoted in a message or a
/// help is not counted: only a diagnostic the compiler reported is.
pub fn rendered_codes(diagnostics: &str) -> std::collections::BTreeSet<String> {
    let is_code = |word: &str| {
        word.len() == 4
            && (word.starts_with('E') || word.starts_with('W'))
            && word[1..].bytes().all(|b| b.is_ascii_digit())
    };
    diagnostics.lines().map(str::trim).filter(|line| is_code(line)).map(str::to_owned).collect()
}

/// Checks that every code of the registry is rendered in some expected output, and that every
/// rendered code is in the registry; `expected` holds each case's name and `diagnostics.txt`.
/// The report names each code missing with its summary, and each unknown code with its cases.
pub fn check_code_coverage(registry: &[etr_sema::codes::Code], expected: &[(String, String)]) -> Result<(), String> {
    let mut seen: std::collections::BTreeMap<String, Vec<&str>> = std::collections::BTreeMap::new();
    for (case, text) in expected {
        for code in rendered_codes(text) {
            seen.entry(code).or_default().push(case);
        }
    }
    let mut problems: Vec<String> = registry
        .iter()
        .filter(|code| !seen.contains_key(code.id))
        .map(|code| format!("{} ({}) is in no case's expected/diagnostics.txt", code.id, code.summary))
        .collect();
    if !problems.is_empty() {
        problems.push(
            "add a case under tests/corpus/diagnostics/ whose spec produces each (UPDATE_EXPECT=1 writes its \
             expectation; review it), or say in docs/notes why no spec can"
                .into(),
        );
    }
    for (code, cases) in &seen {
        if !registry.iter().any(|known| known.id == code) {
            problems
                .push(format!("{code} is not in the registry (compiler/sema/src/codes.rs), yet {cases:?} expect it"));
        }
    }
    if problems.is_empty() { Ok(()) } else { Err(problems.join("\n")) }
}

/// The first differing line of two texts, with a little context.
fn first_difference(expected: &str, actual: &str) -> String {
    let (e, a): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), actual.lines().collect());
    for i in 0..e.len().max(a.len()) {
        if e.get(i) != a.get(i) {
            return format!(
                "  line {}:\n  - expected: {}\n  + actual:   {}",
                i + 1,
                e.get(i).unwrap_or(&"<end>"),
                a.get(i).unwrap_or(&"<end>")
            );
        }
    }
    "  (line endings differ)".into()
}

#[cfg(test)]
mod tests {
    use etr_sema::codes::Code;

    use super::*;

    const REGISTRY: &[Code] = &[Code { id: "E100", summary: "syntax" }, Code { id: "W601", summary: "unmapped" }];

    #[test]
    fn only_lines_that_hold_a_code_alone_count() {
        let text = "E100\n\n  × no E999 here\n  help: like W601\n  W601  \nE1000\nX100\n";
        assert_eq!(rendered_codes(text).into_iter().collect::<Vec<_>>(), ["E100", "W601"]);
    }

    #[test]
    fn a_code_missing_from_every_case_and_an_unknown_code_are_reported() {
        let covered = [("a".to_owned(), "E100\n".to_owned()), ("b".to_owned(), "W601\n".to_owned())];
        assert_eq!(check_code_coverage(REGISTRY, &covered), Ok(()));
        let uncovered = [("a".to_owned(), "E100\nE777\n".to_owned())];
        let report = check_code_coverage(REGISTRY, &uncovered).unwrap_err();
        assert!(report.contains("W601 (unmapped) is in no case's"), "{report}");
        assert!(report.contains("E777 is not in the registry") && report.contains("[\"a\"]"), "{report}");
        assert!(!report.contains("E100"), "{report}");
    }
}
