//! `etr sql` end to end, through the `etr` binary: a workspace made by `etr init --sample`, a second
//! month, a duplicate and a refused file ingested, then queries whose answers are checked against
//! what `etr runs` reports and against the engine's own output files (`state/runs/<run>/
//! accepted.parquet`, where money is integer sen), never against numbers written here.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use arrow::array::{Array, AsArray};
use arrow::datatypes::Int64Type;

#[path = "support/platform_cli.rs"]
mod platform_cli;
use platform_cli::{etr, shown, text};

fn sql(workspace: &Path, args: &[&str]) -> Output {
    etr(workspace).arg("sql").args(args).output().expect("etr runs")
}

/// The CSV result of a query that must succeed, without its header.
fn csv(workspace: &Path, query: &str) -> Vec<Vec<String>> {
    let output = sql(workspace, &["--format", "csv", query]);
    assert_eq!(output.status.code(), Some(0), "{query}\n{}", shown(&output));
    text(&output.stdout).lines().skip(1).map(|line| line.split(',').map(str::to_owned).collect()).collect()
}

/// A published run as `etr runs` lists it: `run-000001  published  JCL  2025-06  FILE  980 accepted, 20 rejected`.
#[derive(Debug)]
struct Listed {
    id: String,
    state: String,
    contributor: String,
    accepted: Option<u64>,
}

fn listed_runs(workspace: &Path) -> Vec<Listed> {
    let output = etr(workspace).arg("runs").output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", shown(&output));
    text(&output.stdout)
        .lines()
        .map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            let accepted = words.windows(2).find(|w| w[1].trim_end_matches(',') == "accepted").map(|w| w[0]);
            Listed {
                id: words[0].to_owned(),
                state: words[1].to_owned(),
                contributor: words[2].to_owned(),
                accepted: accepted.map(|n| n.parse().expect("a count")),
            }
        })
        .collect()
}

/// The sum, in sen, of a money column of a run's accepted file as the engine wrote it.
fn engine_sum_sen(workspace: &Path, run: &str, column: &str) -> i128 {
    let path = workspace.join("state/runs").join(run).join("accepted.parquet");
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file).unwrap().build().unwrap();
    let mut sum = 0i128;
    for batch in reader {
        let batch = batch.unwrap();
        let values = batch.column_by_name(column).unwrap_or_else(|| panic!("no column {column} in {}", path.display()));
        let values = values.as_primitive::<Int64Type>();
        sum += (0..values.len()).filter(|&i| values.is_valid(i)).map(|i| i128::from(values.value(i))).sum::<i128>();
    }
    sum
}

fn decimal_text(sen: i128) -> String {
    let sign = if sen < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", sen.abs() / 100, sen.abs() % 100)
}

#[test]
fn etr_sql_answers_from_the_lake_what_the_ledger_and_the_engine_say() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    let init = etr(&ws).arg("init").arg(&ws).arg("--sample").output().unwrap();
    assert_eq!(init.status.code(), Some(0), "{}", shown(&init));

    // July (another month, published), June again (a duplicate: not published), and a July with a
    // broken trailer under another name (refused: not published).
    let june = std::fs::read_to_string(ws.join("samples/JCL_202506.psv")).unwrap();
    let july = june.replacen("H|JCL|202506|", "H|JCL|202507|", 1);
    assert_ne!(july, june);
    let files = dir.path().join("in");
    std::fs::create_dir_all(&files).unwrap();
    std::fs::write(files.join("JCL_202507.psv"), &july).unwrap();
    std::fs::write(files.join("JCL_202506_again.psv"), &june).unwrap();
    std::fs::write(files.join("JCL_202507_broken.psv"), july.replace("\nT|1000|", "\nT|999|")).unwrap();
    for (name, code) in [("JCL_202507.psv", 0), ("JCL_202506_again.psv", 0), ("JCL_202507_broken.psv", 4)] {
        let ingest = etr(&ws).args(["ingest", "--contributor", "JCL"]).arg(files.join(name)).output().unwrap();
        assert_eq!(ingest.status.code(), Some(code), "{name}\n{}", shown(&ingest));
    }

    let runs = listed_runs(&ws);
    let published: Vec<&Listed> = runs.iter().filter(|r| r.state == "published").collect();
    assert_eq!(published.len(), 2, "{runs:?}");
    assert_eq!(runs.len(), 4, "{runs:?}");

    // Records per contributor: the accepted counts of the published runs.
    let mut accepted: BTreeMap<String, u64> = BTreeMap::new();
    for run in &published {
        *accepted.entry(run.contributor.clone()).or_default() += run.accepted.expect("a published run's counts");
    }
    let counted: BTreeMap<String, u64> = csv(&ws, "SELECT contributor, count(*) FROM records GROUP BY 1")
        .into_iter()
        .map(|row| (row[0].clone(), row[1].parse().unwrap()))
        .collect();
    assert_eq!(counted, accepted);

    // Money: the lake's decimal sum is the engine's integer sen, exactly.
    for column in ["outstanding_balance", "credit_limit"] {
        let sen: i128 = published.iter().map(|run| engine_sum_sen(&ws, &run.id, column)).sum();
        assert_ne!(sen, 0, "{column}: a sum of nothing checks nothing");
        let summed = csv(&ws, &format!("SELECT sum({column}) FROM records"));
        assert_eq!(summed, [[decimal_text(sen)]], "{column}");
    }

    // One row per published run in `runs`, with the ledger's counts.
    let mut in_runs = csv(&ws, "SELECT run_id, accepted FROM runs ORDER BY run_id");
    in_runs.sort();
    let mut expected: Vec<Vec<String>> =
        published.iter().map(|r| vec![r.id.clone(), r.accepted.unwrap().to_string()]).collect();
    expected.sort();
    assert_eq!(in_runs, expected);

    // Dates are dates, and the query may come from a file or standard input.
    let query_file = dir.path().join("months.sql");
    std::fs::write(&query_file, "SELECT DISTINCT month FROM records ORDER BY month").unwrap();
    let from_file = sql(&ws, &["--format", "csv", "-f", query_file.to_str().unwrap()]);
    assert_eq!(text(&from_file.stdout), "month\n2025-06-01\n2025-07-01\n", "{}", shown(&from_file));
    let mut child = etr(&ws)
        .args(["sql", "--format", "json", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"SELECT run_id, month FROM runs ORDER BY run_id LIMIT 1").unwrap();
    let from_stdin = child.wait_with_output().unwrap();
    let first = published.iter().map(|r| r.id.as_str()).min().unwrap();
    assert_eq!(
        text(&from_stdin.stdout),
        format!("{{\"run_id\":\"{first}\",\"month\":\"2025-06-01\"}}\n"),
        "{}",
        shown(&from_stdin)
    );

    // The default table, and a cut one that says so.
    let table = sql(&ws, &["SELECT contributor, count(*) AS n FROM records GROUP BY 1"]);
    assert_eq!(table.status.code(), Some(0), "{}", shown(&table));
    let table_text = text(&table.stdout);
    let count = accepted["JCL"].to_string();
    let width = count.len();
    assert!(table_text.contains(&format!("| contributor | {:<width$} |", "n")), "{table_text}");
    assert!(table_text.contains(&format!("| JCL         | {count} |")), "{table_text}");
    let cut = sql(&ws, &["--max-rows", "3", "SELECT line_no FROM records"]);
    assert_eq!(cut.status.code(), Some(0), "{}", shown(&cut));
    assert_eq!(text(&cut.stdout).lines().filter(|l| l.starts_with("| ")).count(), 4, "{}", shown(&cut));
    assert!(text(&cut.stderr).contains("the first 3 rows are shown"), "{}", shown(&cut));

    // The analyst's mistakes: exit 2, in DataFusion's words and with the lake's tables.
    let syntax = sql(&ws, &["SELEC contributor FROM records"]);
    assert_eq!(syntax.status.code(), Some(2), "{}", shown(&syntax));
    let stderr = text(&syntax.stderr);
    assert!(stderr.contains("syntax error: Expected: an SQL statement, found: SELEC"), "{stderr}");
    assert!(syntax.stdout.is_empty(), "{}", shown(&syntax));
    let unknown = sql(&ws, &["SELECT count(*) FROM accounts"]);
    assert_eq!(unknown.status.code(), Some(2), "{}", shown(&unknown));
    assert!(text(&unknown.stderr).contains("no table `accounts` in the lake; its tables are records, rejects, runs"));
    let column = sql(&ws, &["SELECT balance FROM records"]);
    assert_eq!(column.status.code(), Some(2), "{}", shown(&column));
    assert!(text(&column.stderr).contains("balance"), "{}", shown(&column));
    let write = sql(&ws, &["DROP TABLE records"]);
    assert_eq!(write.status.code(), Some(2), "{}", shown(&write));
    assert!(text(&write.stderr).contains("only reads the lake"), "{}", shown(&write));
    let empty = sql(&ws, &[" "]);
    assert_eq!(empty.status.code(), Some(2), "{}", shown(&empty));
    assert_eq!(
        csv(&ws, "SELECT count(*) FROM runs"),
        [[published.len().to_string()]],
        "a refused query changed the lake"
    );
}

#[test]
fn etr_sql_without_a_lake_or_a_workspace_says_so() {
    let dir = tempfile::tempdir().unwrap();

    // A workspace where nothing was ever published: exit 3, and the lake is not created by looking.
    let ws = dir.path().join("fresh");
    let init = etr(&ws).arg("init").arg(&ws).output().unwrap();
    assert_eq!(init.status.code(), Some(0), "{}", shown(&init));
    let before: Vec<PathBuf> = walk(&ws);
    let none = sql(&ws, &["SELECT count(*) FROM records"]);
    assert_eq!(none.status.code(), Some(3), "{}", shown(&none));
    assert!(text(&none.stderr).contains("no run has been published"), "{}", shown(&none));
    assert!(!text(&none.stderr).contains("panicked"), "{}", shown(&none));
    assert_eq!(walk(&ws), before, "etr sql wrote into the workspace");

    // No etr.yaml: exit 2, naming the file it looked for.
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let nowhere = sql(&empty, &["SELECT 1"]);
    assert_eq!(nowhere.status.code(), Some(2), "{}", shown(&nowhere));
    assert!(text(&nowhere.stderr).contains("etr.yaml"), "{}", shown(&nowhere));

    // A query file that is not there: exit 2.
    let missing = sql(&ws, &["-f", dir.path().join("nope.sql").to_str().unwrap()]);
    assert_eq!(missing.status.code(), Some(2), "{}", shown(&missing));
    assert!(text(&missing.stderr).contains("nope.sql"), "{}", shown(&missing));

    // Usage: the query and a file are one or the other.
    let both = sql(&ws, &["SELECT 1", "-f", "x.sql"]);
    assert_eq!(both.status.code(), Some(2), "{}", shown(&both));
    let neither = sql(&ws, &[]);
    assert_eq!(neither.status.code(), Some(2), "{}", shown(&neither));
}

/// Every path under `dir`, sorted.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut paths = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(next) = pending.pop() {
        for entry in std::fs::read_dir(&next).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path.clone());
            }
            paths.push(path);
        }
    }
    paths.sort();
    paths
}
