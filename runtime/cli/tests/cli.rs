//! The `etr` binary end to end: exit codes, diagnostics on stderr, JSON output, atomic outputs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn etr(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_etr")).args(args).current_dir(root()).output().expect("etr runs")
}

fn broken_spec(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(root().join("contributors/jcl.etr")).expect("jcl.etr");
    let text = text
        .replace("account_no          = ACCT_NO", "account_no          = ACCT_NUM")
        .replace("parse_int(TENURE) else null", "parse_money(TENURE, ringgit) else null")
        .replace("parse_date(ASAT_DT, \"%d/%m/%Y\") else reject R2", "parse_date(ASAT_DT, \"%d/%m/%Y\")");
    let path = dir.join("broken.etr");
    std::fs::write(&path, text).expect("write");
    path
}

#[test]
fn check_passes_the_jcl_spec() {
    let out = etr(&["check", "contributors/jcl.etr"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("ok"));
}

#[test]
fn check_reports_three_unrelated_mistakes_with_codes_spans_and_help() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = broken_spec(dir.path());
    let out = etr(&["check", spec.to_str().expect("utf-8 path")]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for needle in ["E200", "did you mean `ACCT_NO`?", "E300", "E400", "else reject RULE", "3 errors"] {
        assert!(stderr.contains(needle), "missing {needle:?} in:\n{stderr}");
    }

    let out = etr(&["check", "--format", "json", spec.to_str().expect("utf-8 path")]);
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    let errors: Vec<&serde_json::Value> =
        report.as_array().expect("array").iter().filter(|d| d["severity"] == "error").collect();
    let codes: Vec<&str> = errors.iter().map(|d| d["code"].as_str().expect("code")).collect();
    assert_eq!(codes, ["E200", "E300", "E400"]);
    for d in errors {
        assert!(d["line"].as_u64().expect("line") > 50, "{d}");
        assert!(d["end"].as_u64() > d["start"].as_u64(), "{d}");
        assert!(d["help"].is_string(), "{d}");
    }
}

#[test]
fn explain_prints_the_typed_plan() {
    let out = etr(&["explain", "contributors/jcl.etr"]);
    assert!(out.status.success());
    let plan = String::from_utf8_lossy(&out.stdout);
    assert!(plan.contains("payment_status: PaymentStatus? = payment_statuses[$PAY_STATUS] else reject R3"), "{plan}");
    assert!(plan.contains("unique check D1 on record_key"));
}

/// The passes `etr explain` prints are the ones `etr run` makes: the summary times each pass by
/// number, and the key pass's second read as `pass<n>_candidates`.
#[test]
fn explain_prints_the_passes_a_run_makes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases = [
        ("contributors/jcl.etr", "tests/corpus/w1/jcl_1k/input.psv", vec!["keys", "write"]),
        (
            "tests/corpus/rules/aggregates_in_rows/spec.etr",
            "tests/corpus/rules/aggregates_in_rows/input.psv",
            vec!["aggregates", "write"],
        ),
        ("tests/corpus/rules/list_aggregates/spec.etr", "tests/corpus/rules/list_aggregates/input.psv", vec!["write"]),
    ];
    for (n, (spec, input, expected)) in cases.iter().enumerate() {
        let explained = etr(&["explain", spec]);
        assert!(explained.status.success(), "{spec}");
        let text = String::from_utf8_lossy(&explained.stdout);
        // The IR as before, then the plan, one line per pass.
        assert!(text.starts_with("contributor "), "{text}");
        let plan_start = text.lines().position(|line| line.starts_with("pass ")).expect("a plan");
        assert!(text.lines().skip(plan_start).all(|line| line.starts_with("pass ")), "{text}");
        let passes: Vec<&str> = text
            .lines()
            .filter_map(|line| line.strip_prefix("pass "))
            .map(|line| line.split_once(", ").and_then(|(_, rest)| rest.split_once(':')).map_or("?", |(name, _)| name))
            .collect();
        assert_eq!(&passes, expected, "{spec}:\n{text}");
        let count = passes.len();
        assert!(text.contains(&format!("pass {count} of {count}, write: ")), "{text}");

        let out_dir = dir.path().join(format!("out{n}"));
        let run =
            etr(&["run", spec, input, "--out", out_dir.to_str().expect("utf-8"), "--quiet", "--as-of", "2025-07-01"]);
        assert!(matches!(run.status.code(), Some(0 | 3)), "{spec}: {}", String::from_utf8_lossy(&run.stderr));
        let summary: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out_dir.join("summary.json")).expect("summary"))
                .expect("json");
        let mut timed: Vec<String> = summary["timings_ms"]
            .as_object()
            .expect("timings")
            .keys()
            .filter(|key| key.starts_with("pass"))
            .cloned()
            .collect();
        timed.sort();
        let mut planned: Vec<String> = Vec::new();
        for (number, pass) in (1..).zip(&passes) {
            planned.push(format!("pass{number}"));
            if *pass == "keys" {
                planned.push(format!("pass{number}_candidates"));
            }
        }
        planned.sort();
        assert_eq!(timed, planned, "{spec}");
    }
}

#[test]
fn run_writes_the_outputs_and_a_failed_run_leaves_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out_dir = dir.path().join("out");
    let out = etr(&[
        "run",
        "contributors/jcl.etr",
        "tests/corpus/w1/jcl_1k/input.psv",
        "--out",
        out_dir.to_str().expect("utf-8 path"),
        "--quiet",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stderr.is_empty(), "--quiet prints nothing: {}", String::from_utf8_lossy(&out.stderr));
    for file in ["accepted.parquet", "rejects.parquet", "warnings.parquet", "summary.json"] {
        assert!(out_dir.join(file).exists(), "{file}");
    }
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("summary.json")).expect("summary")).expect("json");
    assert_eq!(summary["lines_read"], 1000);
    assert_eq!(summary["accepted"].as_u64().unwrap() + summary["rejected"].as_u64().unwrap(), 1000);

    let missing = dir.path().join("missing");
    let out = etr(&["run", "contributors/jcl.etr", "no/such/file.psv", "--out", missing.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no/such/file.psv"));
    assert!(!missing.exists(), "a failed run publishes nothing");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).expect("dir").flatten().map(|e| e.file_name()).collect();
    assert_eq!(leftovers.len(), 1, "no staging folder left behind: {leftovers:?}");
}

#[test]
fn a_fatal_file_exits_3_and_writes_no_accepted_rows() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("no_trailer.psv");
    let text = std::fs::read_to_string(root().join("tests/corpus/w1/jcl_1k/input.psv")).expect("fixture");
    let without_trailer: Vec<&str> = text.lines().filter(|l| !l.starts_with("T|")).collect();
    std::fs::write(&input, without_trailer.join("\n")).expect("write");
    let out_dir = dir.path().join("out");
    let out = etr(&["run", "contributors/jcl.etr", input.to_str().unwrap(), "--out", out_dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("FATAL"));
    assert!(!out_dir.join("accepted.parquet").exists());
    assert!(out_dir.join("summary.json").exists());
}

// ---------------------------------------------------------------- etr fmt

const MESSY_SPEC: &str = "let a   =  1+2 // sum\nrule R1 reject \"x\" { check a>0 on a }\n";
const TIDY_SPEC: &str = "let a = 1 + 2 // sum\nrule R1 reject \"x\" {\n  check a > 0 on a\n}\n";
const BROKEN_SPEC: &str = "let a =   \nrule R1 reject \"x\" { check on a }\n";

fn write_spec(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path
}

fn path_arg(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

#[test]
fn fmt_rewrites_files_in_place_and_leaves_no_temporary_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let messy = write_spec(dir.path(), "messy.etr", MESSY_SPEC);
    let tidy = write_spec(dir.path(), "tidy.etr", TIDY_SPEC);
    let out = etr(&["fmt", path_arg(&messy), path_arg(&tidy)]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(std::fs::read_to_string(&messy).expect("read"), TIDY_SPEC);
    assert_eq!(std::fs::read_to_string(&tidy).expect("read"), TIDY_SPEC);
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 file reformatted, 1 unchanged"));
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name().into_string().expect("utf-8"))
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

#[cfg(unix)]
#[test]
fn fmt_rewrites_the_target_of_a_symbolic_link_and_keeps_the_link() {
    let dir = tempfile::tempdir().expect("tempdir");
    let target = write_spec(dir.path(), "target.etr", MESSY_SPEC);
    let link = dir.path().join("link.etr");
    std::os::unix::fs::symlink(&target, &link).expect("symlink");
    let out = etr(&["fmt", path_arg(&link)]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(std::fs::symlink_metadata(&link).expect("link").file_type().is_symlink());
    assert_eq!(std::fs::read_to_string(&target).expect("read"), TIDY_SPEC);
}

#[test]
fn fmt_check_lists_the_files_that_would_change_and_fails_only_then() {
    let dir = tempfile::tempdir().expect("tempdir");
    let messy = write_spec(dir.path(), "messy.etr", MESSY_SPEC);
    let tidy = write_spec(dir.path(), "tidy.etr", TIDY_SPEC);

    let out = etr(&["fmt", "--check", path_arg(&messy), path_arg(&tidy)]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stdout), format!("{}\n", messy.display()));
    assert_eq!(std::fs::read_to_string(&messy).expect("read"), MESSY_SPEC, "--check changes nothing");

    let out = etr(&["fmt", "--check", path_arg(&tidy)]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.is_empty());
}

#[test]
fn fmt_stdout_prints_the_formatted_text_and_changes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let messy = write_spec(dir.path(), "messy.etr", MESSY_SPEC);
    let out = etr(&["fmt", "--stdout", path_arg(&messy)]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), TIDY_SPEC);
    assert_eq!(std::fs::read_to_string(&messy).expect("read"), MESSY_SPEC);
}

#[test]
fn fmt_refuses_broken_and_missing_files_by_path_and_still_formats_the_others() {
    let dir = tempfile::tempdir().expect("tempdir");
    let broken = write_spec(dir.path(), "broken.etr", BROKEN_SPEC);
    let missing = dir.path().join("missing.etr");
    let messy = write_spec(dir.path(), "messy.etr", MESSY_SPEC);
    let out = etr(&["fmt", path_arg(&broken), path_arg(&missing), path_arg(&messy)]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for needle in [
        format!("error: {}: not formatted: 2 syntax errors", broken.display()),
        "line 2, column 1".to_owned(),
        format!("error: {}: cannot read the file", missing.display()),
        "2 files could not be formatted".to_owned(),
    ] {
        assert!(stderr.contains(&needle), "missing {needle:?} in:\n{stderr}");
    }
    assert_eq!(std::fs::read_to_string(&broken).expect("read"), BROKEN_SPEC, "a broken file is untouched");
    assert_eq!(std::fs::read_to_string(&messy).expect("read"), TIDY_SPEC, "the good file is still formatted");
}

// ---------------------------------------------------------------- workspace modules

const SHARED_MODULE: &str = "use etr.codes\ntable shared_genders: text -> Gender { \"L\" => \"M\", \"P\" => \"F\" }\n";
const USES_SHARED: &str = r#"contributor X "X" layout 1
use etr.record
use etr.codes
use rules.shared
source delimited "|" {
  encoding "utf-8" else reject R0
  columns { ACCT, SEX } else reject R0
}
map to Record {
  account_no = ACCT
  gender = shared_genders[SEX] else reject R3
}
rule R0 reject "the line is malformed"
rule R3 reject "the code is unknown"
"#;

/// A workspace folder with `rules/shared.etr` and `contributors/x.etr`, which uses it.
fn workspace_with_a_shared_module() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("rules")).expect("rules folder");
    std::fs::create_dir_all(dir.path().join("contributors")).expect("contributors folder");
    write_spec(&dir.path().join("rules"), "shared.etr", SHARED_MODULE);
    write_spec(&dir.path().join("contributors"), "x.etr", USES_SHARED);
    dir
}

fn etr_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_etr")).args(args).current_dir(dir).output().expect("etr runs")
}

#[test]
fn a_spec_uses_the_workspace_modules_like_the_editor_does() {
    let ws = workspace_with_a_shared_module();
    let spec = ws.path().join("contributors/x.etr");
    // From the workspace folder (the default workspace is the current folder).
    let out = etr_in(ws.path(), &["check", "contributors/x.etr"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // From elsewhere, the workspace is named.
    let out = etr(&["check", "--workspace", path_arg(ws.path()), path_arg(&spec)]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // Without it, the module does not exist.
    let out = etr(&["check", path_arg(&spec)]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("E205") && stderr.contains("rules.shared"), "{stderr}");
    // A module that uses the spec back finds the spec itself, not a second copy of it.
    let cyclic = format!("use contributors.x\n{SHARED_MODULE}");
    write_spec(&ws.path().join("rules"), "shared.etr", &cyclic);
    for spec_arg in ["contributors/x.etr", "./contributors/x.etr"] {
        let out = etr_in(ws.path(), &["check", spec_arg]);
        assert!(out.status.success(), "{spec_arg}: {}", String::from_utf8_lossy(&out.stderr));
    }
    // A workspace that is not a folder is an error, not an empty workspace.
    let out = etr(&["check", "--workspace", "no/such/folder", path_arg(&spec)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no/such/folder"));
    // An error inside the module is shown in the module's own text.
    write_spec(&ws.path().join("rules"), "shared.etr", &SHARED_MODULE.replace("=> \"F\"", "=> \"Q\""));
    let out = etr_in(ws.path(), &["check", "contributors/x.etr"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("E305") && stderr.contains("rules/shared.etr:2:"), "{stderr}");
    assert!(stderr.contains("table shared_genders"), "the module's line is quoted: {stderr}");
}

#[test]
fn a_run_with_a_workspace_module_records_it_in_the_spec_hash() {
    let ws = workspace_with_a_shared_module();
    std::fs::write(ws.path().join("input.psv"), "A1|L\nA2|P\nA3|X\n").expect("input");
    let spec_hash = |out: &str| {
        let run = etr_in(ws.path(), &["run", "contributors/x.etr", "input.psv", "--out", out, "--quiet"]);
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        let text = std::fs::read_to_string(ws.path().join(out).join("summary.json")).expect("summary");
        let summary: serde_json::Value = serde_json::from_str(&text).expect("json");
        assert_eq!((summary["accepted"].as_u64(), summary["rejected"].as_u64()), (Some(2), Some(1)));
        summary["spec_hash"].as_str().expect("a spec hash").to_owned()
    };
    let before = spec_hash("out1");
    // The same table, written differently: the spec's own text is unchanged.
    write_spec(&ws.path().join("rules"), "shared.etr", &SHARED_MODULE.replace("{ \"L\"", "{\n  \"L\""));
    assert_ne!(spec_hash("out2"), before, "a change to a used module changes the spec hash");
}
