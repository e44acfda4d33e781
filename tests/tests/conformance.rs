//! The Great Expectations conformance harness: one trial per expectation file of
//! `shared/conformance/great_expectations/`, then a table of passed / failed / known / skipped
//! cases per file and a total line.
//!
//! A trial fails when a case fails that `tests/conformance/known_failures.tsv` does not list, or
//! when a listed case passes or no longer exists, so the list stays true. After a language change,
//! `UPDATE_KNOWN_FAILURES=1 cargo test -p etr-tests --test conformance` rewrites the list from the
//! results; review its diff. `CONFORMANCE_SHOW=<title>` prints the spec and input of the cases
//! with that title.
//!
//! The suite lives outside this repository (`../shared/`). Without it the harness prints why and
//! runs nothing, unless `CI` is set: there a missing suite fails, as does a suite folder with no
//! expectation file, so the conformance run cannot pass by having nothing to run.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use etr_tests::conformance::{self, CaseId, Outcome, known};
use libtest_mimic::{Arguments, Failed, Trial};

type Results = Arc<Mutex<BTreeMap<String, Vec<(CaseId, Outcome)>>>>;

fn main() {
    let args = Arguments::from_args();
    let Some(dir) = conformance::suite_dir() else {
        let reason = "shared/ not found (expected ../shared/conformance/great_expectations beside the workspace)";
        if etr_testkit::ci::in_ci() {
            eprintln!("conformance: {reason}; CI is set, where the suite must run");
            std::process::exit(1);
        }
        println!("conformance: skipped: {reason}");
        return;
    };
    let known_path = etr_tests::workspace_root().join("tests/conformance/known_failures.tsv");
    let known = match known::read(&known_path) {
        Ok(known) => Arc::new(known),
        Err(e) => {
            eprintln!("conformance: {e}");
            std::process::exit(1);
        }
    };
    let update = std::env::var_os("UPDATE_KNOWN_FAILURES").is_some();
    if let Some(title) = std::env::var_os("CONFORMANCE_SHOW") {
        show(&dir, &title.to_string_lossy());
    }
    let files = conformance::expectation_files(&dir);
    if files.is_empty() {
        // A suite folder without cases would pass every trial there is: zero of them.
        eprintln!("conformance: {} holds no <category>/<expectation>.json file", dir.display());
        std::process::exit(1);
    }
    let results: Results = Arc::default();
    let mut trials = Vec::new();
    for (name, path) in &files {
        let (name, path, known, results) = (name.clone(), path.clone(), Arc::clone(&known), Arc::clone(&results));
        trials.push(Trial::test(format!("great_expectations/{name}"), move || {
            let outcomes = conformance::run_file(&name, &path)?;
            let verdict = if update { Ok(()) } else { check_against_known(&name, &outcomes, &known) };
            results.lock().map_err(|e| e.to_string())?.insert(name, outcomes);
            verdict
        }));
    }
    let names: Vec<String> = files.iter().map(|(n, _)| n.clone()).collect();
    let listed = Arc::clone(&known);
    trials.push(Trial::test("known_failures.tsv names existing files", move || {
        let stale: Vec<String> = listed
            .keys()
            .filter(|id| !names.contains(&id.file))
            .map(|id| format!("{} / {}", id.file, id.title))
            .collect();
        if stale.is_empty() {
            Ok(())
        } else {
            Err(format!("listed cases of unknown files:\n  {}", stale.join("\n  ")).into())
        }
    }));
    let conclusion = libtest_mimic::run(&args, trials);
    let results = results.lock().map(|r| r.clone()).unwrap_or_default();
    print_table(&results, &known);
    if update {
        let mut updated: BTreeMap<CaseId, String> = known
            .iter()
            .filter(|(id, _)| !results.contains_key(&id.file))
            .map(|(i, r)| (i.clone(), r.clone()))
            .collect();
        for (id, outcome) in results.values().flatten() {
            if let Outcome::Failed(reason) = outcome {
                updated.insert(id.clone(), reason.clone());
            }
        }
        match known::write(&known_path, &updated) {
            Ok(()) => println!("conformance: wrote {} known failures to {}", updated.len(), known_path.display()),
            Err(e) => {
                eprintln!("conformance: {e}");
                std::process::exit(1);
            }
        }
    }
    conclusion.exit();
}

/// Unlisted failures, listed cases that pass, and listed cases that are not run.
fn check_against_known(
    file: &str,
    outcomes: &[(CaseId, Outcome)],
    known: &BTreeMap<CaseId, String>,
) -> Result<(), Failed> {
    let mut problems = Vec::new();
    for (id, outcome) in outcomes {
        match (outcome, known.get(id)) {
            (Outcome::Failed(reason), None) => {
                problems.push(format!("fails (unlisted): {} [{}]: {reason}", id.title, id.dataset))
            }
            (Outcome::Passed, Some(_)) => {
                problems.push(format!("passes but is listed in known_failures.tsv: {} [{}]", id.title, id.dataset))
            }
            (Outcome::Skipped, Some(_)) => problems.push(format!("listed but not run on pandas: {}", id.title)),
            _ => {}
        }
    }
    for id in known.keys().filter(|id| id.file == file) {
        if !outcomes.iter().any(|(o, _)| o == id) {
            problems.push(format!("listed but no such case: {} [{}]", id.title, id.dataset));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        problems.push("(UPDATE_KNOWN_FAILURES=1 rewrites the list from these results)".into());
        Err(problems.join("\n").into())
    }
}

fn print_table(results: &BTreeMap<String, Vec<(CaseId, Outcome)>>, known: &BTreeMap<CaseId, String>) {
    println!("\n{:<72} {:>6} {:>6} {:>6} {:>6}", "expectation file", "pass", "fail", "known", "skip");
    let mut total = [0usize; 4];
    for (file, outcomes) in results {
        let mut row = [0usize; 4];
        for (id, outcome) in outcomes {
            match outcome {
                Outcome::Passed => row[0] += 1,
                Outcome::Failed(_) if known.contains_key(id) => row[2] += 1,
                Outcome::Failed(_) => row[1] += 1,
                Outcome::Skipped => row[3] += 1,
            }
        }
        println!("{file:<72} {:>6} {:>6} {:>6} {:>6}", row[0], row[1], row[2], row[3]);
        for (t, r) in total.iter_mut().zip(row) {
            *t += r;
        }
    }
    let eligible = total[0] + total[1] + total[2];
    let percent = if eligible == 0 { 0.0 } else { total[0] as f64 * 100.0 / eligible as f64 };
    println!("{:<72} {:>6} {:>6} {:>6} {:>6}", "total", total[0], total[1], total[2], total[3]);
    println!(
        "conformance: {} of {eligible} pandas-eligible cases pass ({percent:.1}%); {} known failures, {} unlisted failures, {} skipped (not run on pandas by GX)",
        total[0], total[2], total[1], total[3]
    );
}

/// Prints the spec and input of every case titled `title`, and its outcome.
fn show(dir: &Path, title: &str) {
    for (name, path) in conformance::expectation_files(dir) {
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        let Ok(file) = serde_json::from_str::<serde_json::Value>(&text) else { continue };
        let expectation = file["expectation_type"].as_str().unwrap_or_default();
        let orders = conformance::order::data_key_orders(&text).unwrap_or_default();
        for (d, dataset) in file["datasets"].as_array().into_iter().flatten().enumerate() {
            let order = orders.get(d).map(Vec::as_slice).unwrap_or_default();
            for test in dataset["tests"].as_array().into_iter().flatten() {
                if test["title"].as_str() == Some(title) {
                    let map = name.contains("map_expectations");
                    println!("=== {name}: {title}\n{}", conformance::show_case(expectation, dataset, order, test));
                    println!("outcome: {:?}\n", conformance::run_case(expectation, dataset, order, test, map));
                }
            }
        }
    }
}
