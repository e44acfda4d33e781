//! The smoke run: every target for a small fixed budget with fixed seeds, in `cargo test` (and so
//! in CI). A failure of a kind not saved under `fuzz/findings/` fails the test, with the
//! minimised case saved under the build's temporary folder and the command that replays it. The
//! open findings (bugs being fixed, saved under `fuzz/findings/`) are printed and tolerated; once
//! fixed, their cases move to `fuzz/regressions/` and no longer are.
//!
//! A target that cannot run here fails under `CI=true` and is skipped with its reason elsewhere.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use etr_fuzz::campaign::{self, Length, Plan};
use etr_fuzz::child::Launcher;
use etr_fuzz::{Target, store};

fn smoke<T: Target>(target: T, seed: u64, iterations: u64) {
    let name = target.name();
    let mut plan = Plan::new(seed, Length::Iterations(iterations));
    plan.known = store::open_kinds(&store::fuzz_root(), name);
    plan.save_to = Some(PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("etr-fuzz-smoke"));
    plan.minimise_tries = 150;
    plan.minimise_time = Duration::from_secs(60);
    let report = campaign::run(Arc::new(target), &plan);
    println!("{}", report.render());
    assert_eq!(report.cases, iterations, "{name}: every case ran\n{}", report.render());
    assert!(report.stopped_early.is_none(), "{name}: {}", report.render());
    for finding in report.findings.iter().filter(|f| f.known) {
        println!("{name}: open finding still present (see fuzz/findings/{name}/): {}", finding.kind);
    }
    let new = report.new_findings();
    assert!(
        new.is_empty(),
        "{name}: new failures; each minimised case is saved (path below) and replays with \
         `cargo run -p etr-fuzz -- replay <path>`\n{}",
        report.render()
    );
    // Oracles held on some cases: a smoke run whose every case failed in a known way checks
    // nothing.
    assert!(report.stats.oracles.values().sum::<u64>() > 0, "{name}: no oracle was ever checked\n{}", report.render());
}

/// Whether a target that needs something missing must fail (CI) or may be skipped (elsewhere).
fn skip_or_fail(why: &str) {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("this target cannot run, and CI=true requires it: {why}");
    }
    println!("SKIPPED: {why}");
}

/// The process the protocol and kill targets start: `ETR_BIN` if set, otherwise the stand-in this
/// package builds (see `src/child.rs`).
fn launcher() -> Launcher {
    match std::env::var_os("ETR_BIN") {
        Some(path) => Launcher::Etr(PathBuf::from(path)),
        None => Launcher::StandIn(PathBuf::from(env!("CARGO_BIN_EXE_etr-fuzz"))),
    }
}

fn launchable(launcher: &Launcher) -> Result<(), String> {
    let path = match launcher {
        Launcher::Etr(path) | Launcher::StandIn(path) => path,
    };
    if path.is_file() { Ok(()) } else { Err(format!("{} does not exist", launcher.describe())) }
}

#[test]
fn spec_smoke() {
    smoke(etr_fuzz::spec::SpecTarget::load(), 1, 800);
}

#[test]
fn lsp_smoke() {
    smoke(etr_fuzz::ide::IdeTarget::load(), 1, 300);
}

#[test]
fn lsp_protocol_smoke() {
    let launcher = launcher();
    if let Err(why) = launchable(&launcher) {
        return skip_or_fail(&why);
    }
    println!("serving with {}", launcher.describe());
    smoke(etr_fuzz::protocol::ProtocolTarget::new(launcher), 1, 24);
}

#[test]
fn data_smoke() {
    smoke(etr_fuzz::data::DataTarget::load(), 1, 300);
}

#[test]
fn kill_smoke() {
    if let Some(why) = etr_fuzz::kill::unavailable() {
        return skip_or_fail(&why);
    }
    let launcher = launcher();
    if let Err(why) = launchable(&launcher) {
        return skip_or_fail(&why);
    }
    println!("running {}", launcher.describe());
    smoke(etr_fuzz::kill::KillTarget::new(launcher), 1, 6);
}
