//! The corpus harness: every folder under `tests/corpus/<category>/<case>/` is one test.
//!
//! A case holds a spec (`spec.etr`, or `spec.ref` naming a spec file relative to the workspace root)
//! and optionally an input (`input.psv`, or `input.gen` describing a generated input). Without an
//! input the case checks the spec's rendered diagnostics against `expected/diagnostics.txt`. With an
//! input it runs the spec and compares the outputs, rendered as text, with `expected/`.
//!
//! `UPDATE_EXPECT=1 cargo test -p etr-tests --test corpus` rewrites the expectations; review the
//! diff before committing it.
//!
//! One more trial checks that every code of the diagnostic registry is expected by some case.

use std::path::{Path, PathBuf};

use libtest_mimic::{Arguments, Failed, Trial};

fn main() {
    let args = Arguments::from_args();
    let root = etr_tests::workspace_root().join("tests/corpus");
    let mut trials = Vec::new();
    let mut all_cases = Vec::new();
    let mut categories: Vec<PathBuf> = read_dirs(&root);
    categories.sort();
    for category in categories {
        let mut cases = read_dirs(&category);
        cases.sort();
        for case in cases {
            let name = format!(
                "{}/{}",
                category.file_name().unwrap_or_default().to_string_lossy(),
                case.file_name().unwrap_or_default().to_string_lossy()
            );
            all_cases.push((name.clone(), case.clone()));
            trials.push(Trial::test(name, move || run_case(&case)));
        }
    }
    trials.push(Trial::test("every diagnostic code is expected by some case", move || {
        every_code_is_expected(&all_cases)
    }));
    libtest_mimic::run(&args, trials).exit();
}

/// Every code of the registry is reported in some case's committed `expected/diagnostics.txt`,
/// so no diagnostic goes untested (STYLE 19: every diagnostic ships with its corpus case), and
/// no expectation names a code the registry no longer has.
fn every_code_is_expected(cases: &[(String, PathBuf)]) -> Result<(), Failed> {
    let expected: Vec<(String, String)> = cases
        .iter()
        .filter_map(|(name, case)| {
            let text = std::fs::read_to_string(case.join("expected/diagnostics.txt")).ok()?;
            Some((name.clone(), text))
        })
        .collect();
    if expected.len() < 10 {
        return Err(
            format!("only {} cases have an expected/diagnostics.txt: is tests/corpus there?", expected.len()).into()
        );
    }
    etr_tests::corpus::check_code_coverage(etr_sema::codes::ALL, &expected).map_err(Failed::from)
}

fn read_dirs(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_dir()).collect())
        .unwrap_or_default()
}

fn run_case(case: &Path) -> Result<(), Failed> {
    let (spec_path, spec_text) = etr_tests::corpus::spec_of(case)?;
    let outputs = etr_tests::corpus::evaluate(case, &spec_path, &spec_text)?;
    etr_tests::corpus::compare_or_update(case, &outputs)
}
