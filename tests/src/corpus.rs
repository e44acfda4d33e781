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
