//! Replays every case saved under `fuzz/regressions/<target>/`: each is a bug that was found by a
//! fuzzer and fixed, and its oracle must hold (the test fails while the bug is back). Cases under
//! `fuzz/findings/` (bugs not fixed yet) are not replayed, only checked to be readable, so that
//! they still replay when they move here.

use std::path::PathBuf;

use etr_fuzz::child::Launcher;
use etr_fuzz::{campaign, store};
use libtest_mimic::{Arguments, Failed, Trial};

/// The process the protocol and kill cases start (see `tests/smoke.rs`).
fn launcher() -> Launcher {
    match std::env::var_os("ETR_BIN") {
        Some(path) => Launcher::Etr(PathBuf::from(path)),
        None => Launcher::StandIn(PathBuf::from(env!("CARGO_BIN_EXE_etr-fuzz"))),
    }
}

const TARGETS: &[&str] = &["spec", "lsp", "lsp-protocol", "data", "kill"];

fn main() {
    let root = store::fuzz_root();
    let mut trials = Vec::new();
    for folder in ["regressions", "findings"] {
        let path = root.join(folder);
        trials.push(Trial::test(format!("{folder}: every saved case is readable"), move || {
            let cases = store::cases_in(&path)?;
            for case in &cases {
                if !TARGETS.contains(&case.target.as_str()) {
                    return Err(format!("{}: unknown target `{}`", case.path.display(), case.target).into());
                }
                if case.input.is_null() {
                    return Err(format!("{}: no input", case.path.display()).into());
                }
            }
            Ok(())
        }));
    }
    let cases = store::cases_in(&root.join("regressions")).unwrap_or_default();
    for case in cases {
        let name = case.path.strip_prefix(&root).unwrap_or(&case.path).display().to_string();
        trials.push(Trial::test(name, move || {
            campaign::replay(&case, &launcher())
                .map(|_| ())
                .map_err(|failure| Failed::from(format!("saved as `{}`, fails again: {failure}", case.failure)))
        }));
    }
    libtest_mimic::run(&Arguments::from_args(), trials).exit();
}
