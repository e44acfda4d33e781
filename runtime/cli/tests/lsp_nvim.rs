//! End to end with a real editor: Neovim's built-in LSP client drives `etr lsp` over stdio
//! (`tests/nvim/lsp_e2e.lua`), and this test checks the diagnostics, the hover and the completion
//! Neovim received. Neovim comes from Debian's packages; `.ci/run` installs it when missing.
//!
//! Without `nvim` on `PATH` the test is skipped, saying why on stderr, so that `cargo test
//! --workspace` holds on a machine without Neovim as the README promises; under CI (the `CI`
//! variable set, as `.ci/run` and CI services set it) a missing Neovim is a failure instead, so the
//! end-to-end test cannot silently stop running there (`etr_testkit::ci`).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const SPEC: &str = r#"contributor ACME "Acme" layout 1
use etr.record
use etr.codes
source delimited "|" {
  encoding "utf-8" else reject R0
  columns { ACCT, NAME, BAL } else reject R0
}
map to Record {
  account_no = ACCT
  subject_name = NAME.trim()
  outstanding_balance = parse_money(BAL, ringgit) else reject R0
  credit_limit = parse_money(LIMIT, ringgit) else null
}
rule R0 reject "the line cannot be read"
"#;

/// How long Neovim may take in all before the test gives up on it.
const NVIM_DEADLINE: Duration = Duration::from_secs(90);

/// The program `nvim`, when it is on `PATH` and runs.
fn find_nvim() -> Result<&'static str, &'static str> {
    let runs = Command::new("nvim")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    runs.then_some("nvim").ok_or(
        "`nvim` is not on PATH: this end-to-end test needs Neovim. Install it with \
         `apt-get install -y neovim` (Debian's package), or run `.ci/run`, which installs it",
    )
}

#[test]
fn neovim_gets_diagnostics_hover_and_completion() {
    let Some(nvim) = etr_testkit::ci::require(find_nvim()) else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let spec = dir.path().join("acme.etr");
    std::fs::write(&spec, SPEC).expect("write the spec");
    let out = dir.path().join("answers.json");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/nvim/lsp_e2e.lua");

    let mut child = Command::new(nvim)
        .args(["--headless", "--clean", "-u", "NONE", "-c"])
        .arg(format!("luafile {script}"))
        .env("ETR_BIN", env!("CARGO_BIN_EXE_etr"))
        .env("ETR_SPEC", &spec)
        .env("ETR_OUT", &out)
        // `outstanding_balance` on line 10 (0-based), and after `NAME.` on line 9.
        .env("ETR_HOVER_AT", "10:5")
        .env("ETR_COMPLETE_AT", "9:22")
        .env("XDG_CACHE_HOME", dir.path().join("cache"))
        .env("XDG_STATE_HOME", dir.path().join("state"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("nvim starts");
    let started = Instant::now();
    while child.try_wait().expect("nvim status").is_none() {
        if started.elapsed() > NVIM_DEADLINE {
            let _ = child.kill();
            panic!("Neovim did not finish within {NVIM_DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }

    let answers = std::fs::read_to_string(&out).expect("the Lua script wrote its answers");
    let answers: Value = serde_json::from_str(&answers).expect("JSON answers");
    assert_eq!(answers["errors"], serde_json::json!([]), "{answers}");

    let diagnostics = answers["diagnostics"].as_array().expect("diagnostics");
    let unknown = diagnostics.iter().find(|d| d["code"] == "E200").unwrap_or_else(|| panic!("{answers}"));
    assert_eq!((unknown["line"].as_u64(), unknown["col"].as_u64()), (Some(11), Some(29)), "{unknown}");
    assert!(unknown["message"].as_str().unwrap().contains("`LIMIT` is not a column"), "{unknown}");

    let hover = answers["hover"].as_str().unwrap_or_else(|| panic!("no hover: {answers}"));
    assert!(hover.contains("outstanding_balance: money"), "{hover}");
    assert!(hover.contains("in sen"), "the field's doc line: {hover}");

    let completion: Vec<&str> =
        answers["completion"].as_array().expect("completion").iter().filter_map(Value::as_str).collect();
    for function in ["upper", "lower", "null_if_empty"] {
        assert!(completion.contains(&function), "{function} in {completion:?}");
    }
}
