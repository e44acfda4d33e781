//! The Great Expectations conformance suite: every test case in
//! `shared/conformance/great_expectations/<category>/<expectation>.json` turned into an etr spec
//! plus a pipe-delimited input, run through the real compiler and runtime, and compared with the
//! case's expected result (see that folder's README for the format and the comparison rules).
//!
//! Only the cases GX runs on its pandas back end count; the others are skipped (README 1.3).
//! `known_failures.tsv` lists the cases etr fails today, each with its cause.

pub mod compare;
pub mod condition;
pub mod data;
pub mod known;
pub mod order;
pub mod run;
pub mod translate;

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use self::run::Run;
use self::translate::Translation;

/// The conformance folder, `<workspace root>/../shared/conformance/great_expectations`, if present.
pub fn suite_dir() -> Option<PathBuf> {
    let dir = crate::workspace_root().join("../shared/conformance/great_expectations");
    dir.is_dir().then_some(dir)
}

/// Every `<category>/<file>.json` under the suite folder, sorted, as `category/file` names.
pub fn expectation_files(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut files = Vec::new();
    let Ok(categories) = std::fs::read_dir(dir) else { return files };
    for category in categories.flatten().filter(|e| e.path().is_dir()) {
        let Ok(entries) = std::fs::read_dir(category.path()) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "json") {
                let name = format!(
                    "{}/{}",
                    category.file_name().to_string_lossy(),
                    path.file_stem().unwrap_or_default().to_string_lossy()
                );
                files.push((name, path));
            }
        }
    }
    files.sort();
    files
}

/// A case's identity: the file (`category/name`), the dataset index and the title (with `#2`,
/// `#3` appended when a title repeats within a dataset).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CaseId {
    pub file: String,
    pub dataset: usize,
    pub title: String,
}

/// What happened to a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    /// The cause, as it goes in `known_failures.tsv`.
    Failed(String),
    /// Not run on pandas by GX.
    Skipped,
}

/// Back ends that mean "pandas under the v3 runner" (README 1.3).
const PANDAS: &[&str] = &["pandas", "pandas_v3_api", "pandas>=024"];
/// Expectations GX does not implement on pandas.
const NOT_ON_PANDAS: &[&str] = &[
    "expect_column_values_to_match_like_pattern",
    "expect_column_values_to_match_like_pattern_list",
    "expect_column_values_to_not_match_like_pattern",
    "expect_column_values_to_not_match_like_pattern_list",
    "expect_table_row_count_to_equal_other_table",
];

fn names(value: Option<&Value>) -> Option<Vec<String>> {
    match value? {
        Value::String(s) => Some(vec![s.clone()]),
        Value::Array(list) => Some(list.iter().filter_map(Value::as_str).map(str::to_string).collect()),
        _ => None,
    }
}

/// Whether the `only_for` / `suppress_test_for` filters of a test or dataset let pandas run it.
fn runs_on_pandas(object: &Value) -> bool {
    let only = names(object.get("only_for"));
    let suppressed = names(object.get("suppress_test_for")).unwrap_or_default();
    only.is_none_or(|only| only.iter().any(|b| PANDAS.contains(&b.as_str())))
        && !suppressed.iter().any(|b| b == "pandas" || b == "pandas_v3_api")
}

/// Runs every case of one expectation file.
pub fn run_file(name: &str, path: &Path) -> Result<Vec<(CaseId, Outcome)>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let file: Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let expectation = file["expectation_type"].as_str().ok_or("no expectation_type")?;
    let orders = order::data_key_orders(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let category = name.split('/').next().unwrap_or_default();
    let map_category =
        matches!(category, "column_map_expectations" | "column_pair_map_expectations" | "multicolumn_map_expectations");
    let mut outcomes = Vec::new();
    for (d, dataset) in file["datasets"].as_array().into_iter().flatten().enumerate() {
        let column_order = orders.get(d).map(Vec::as_slice).unwrap_or_default();
        let mut seen: Vec<String> = Vec::new();
        for test in dataset["tests"].as_array().into_iter().flatten() {
            let base = test["title"].as_str().unwrap_or("(untitled)").to_string();
            let repeats = seen.iter().filter(|t| **t == base).count();
            seen.push(base.clone());
            let title = if repeats == 0 { base } else { format!("{base}#{}", repeats + 1) };
            let id = CaseId { file: name.to_string(), dataset: d, title };
            let eligible = runs_on_pandas(dataset) && runs_on_pandas(test) && !NOT_ON_PANDAS.contains(&expectation);
            let outcome = if eligible {
                run_case(expectation, dataset, column_order, test, map_category)
            } else {
                Outcome::Skipped
            };
            outcomes.push((id, outcome));
        }
    }
    Ok(outcomes)
}

/// Whether GX expects the configuration to be rejected (README 1.2 and 2).
fn expects_error(test: &Value) -> bool {
    let out = test.get("out").and_then(Value::as_object);
    test.get("error").is_some()
        || out.is_some_and(|o| o.contains_key("traceback_substring"))
        || (out.is_some_and(Map::is_empty) && test["in"]["catch_exceptions"].as_bool() == Some(true))
}

/// A compile error counts as "rule rejected" only when it is a type error (E3xx): the spec is
/// well formed but the rule does not fit the data, which is what GX's TypeErrors say. Syntax and
/// unknown-name errors mean the translation uses something etr does not have yet.
fn is_refusal(code: &str) -> bool {
    code.starts_with("E3")
}

/// Runs one eligible case.
/// `column_order` is the order of the dataset's `data` keys in the file.
pub fn run_case(
    expectation: &str,
    dataset: &Value,
    column_order: &[String],
    test: &Value,
    map_category: bool,
) -> Outcome {
    let table = match data::Table::from_dataset(dataset, column_order) {
        Ok(table) => table,
        Err(e) => return Outcome::Failed(format!("dataset not loaded: {e}")),
    };
    let empty = Map::new();
    let kwargs = test["in"].as_object().unwrap_or(&empty);
    let want_error = expects_error(test);
    let plan = match translate::translate(expectation, kwargs, &table) {
        Translation::Plan(plan) => plan,
        // The translator refuses the arguments for the reason GX gives (min > max, ...).
        Translation::Refused(_) if want_error => return Outcome::Passed,
        Translation::Refused(why) => return Outcome::Failed(format!("arguments refused: {why}")),
        Translation::Unsupported(why) => return Outcome::Failed(format!("unsupported: {why}")),
    };
    let spec = run::spec(&table, &plan);
    let input = table.psv(plan.header_fields.is_some());
    let actual = match run::run(&spec, &input, plan.header_fields.is_some()) {
        Run::Ran(actual) => actual,
        // The compiler refuses the rule with a type error, as GX raises a TypeError.
        Run::DoesNotCompile(errors) if want_error && errors.iter().any(|(code, _)| is_refusal(code)) => {
            return Outcome::Passed;
        }
        Run::DoesNotCompile(errors) => {
            let (code, message) = errors.first().cloned().unwrap_or_default();
            return Outcome::Failed(format!("does not compile: {code} {message}"));
        }
        Run::Failed(e) => return Outcome::Failed(e),
    };
    if want_error {
        return Outcome::Failed("GX rejects these arguments; etr ran the rule".into());
    }
    let (success, result) = compare::result_of(&actual, &plan, &table);
    let out = test["out"].as_object().unwrap_or(&empty);
    let exact = test["exact_match_out"].as_bool().unwrap_or(false);
    let tolerance = test.get("tolerance").and_then(Value::as_f64);
    match compare::compare(out, exact, tolerance, success, &result, map_category) {
        Ok(()) => Outcome::Passed,
        Err(why) => Outcome::Failed(format!("wrong result: {why}")),
    }
}

/// The spec and input a case translates to, for debugging (`CONFORMANCE_SHOW=<title>`).
pub fn show_case(expectation: &str, dataset: &Value, column_order: &[String], test: &Value) -> String {
    let Ok(table) = data::Table::from_dataset(dataset, column_order) else { return "dataset not loaded".into() };
    let empty = Map::new();
    match translate::translate(expectation, test["in"].as_object().unwrap_or(&empty), &table) {
        Translation::Plan(plan) => {
            format!("{}\n--- input ---\n{}", run::spec(&table, &plan), table.psv(plan.header_fields.is_some()))
        }
        other => format!("{other:?}"),
    }
}
