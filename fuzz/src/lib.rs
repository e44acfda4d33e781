//! etr's fuzzers: seeded, replayable, minimising, on stable Rust.
//!
//! A case is a target, a seed and an iteration number: [`rng::Rng::for_case`] turns the last two
//! into the stream the target draws its input from, so `etr-fuzz spec --seed 7 --start 42
//! --iterations 1` rebuilds case 42 exactly. Each target ([`Target`]) generates an input, checks
//! its oracles on it, and knows how to make a failing input smaller; the shared machinery runs
//! cases under a watchdog (`guard`), drives campaigns and smoke runs (`campaign`), and saves
//! minimised cases as JSON files that `etr-fuzz replay` and `tests/regressions.rs` read back
//! (`store`). `docs/notes/0014-fuzzing.md` says why the harness is our own.
//!
//! The targets: `spec` (mutated specs through check, rendering, fmt and explain), `lsp` (edit and
//! request sessions on the IDE facade), `lsp-protocol` (malformed messages to the language
//! server process), `data` (mangled contributor files through the pipeline on both engines) and
//! `kill` (runs killed by signals, against the atomic publication of the output folder).

pub mod campaign;
pub mod child;
pub mod data;
pub mod guard;
pub mod ide;
pub mod kill;
pub mod minimise;
pub mod protocol;
pub mod rng;
pub mod seeds;
pub mod spec;
pub mod store;
pub mod text;

use std::collections::BTreeMap;
use std::time::Duration;

/// Why a case failed. `kind` is the failure's identity, stable across seeds (an oracle's name, a
/// panic's source line): minimisation keeps a smaller input only when it fails with the same
/// kind, and a campaign saves one case per kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub kind: String,
    pub detail: String,
    /// The checks that held on the case before this one failed (counted by the campaign, so that
    /// a target whose every case ends in a known failure still shows what it checked).
    pub held: Stats,
}

impl Failure {
    pub fn new(kind: impl Into<String>, detail: impl Into<String>) -> Failure {
        Failure { kind: kind.into(), detail: detail.into(), held: Stats::default() }
    }

    pub fn after(self, held: Stats) -> Failure {
        Failure { held, ..self }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.kind, self.detail)
    }
}

/// How many times each oracle held on the cases run, so that a campaign shows what it checked
/// (a fuzzer whose oracles never fire proves nothing).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    pub oracles: BTreeMap<String, u64>,
}

impl Stats {
    /// Counts one check of `oracle` that held.
    pub fn passed(&mut self, oracle: &str) {
        *self.oracles.entry(oracle.to_string()).or_default() += 1;
    }

    pub fn merge(&mut self, other: &Stats) {
        for (oracle, count) in &other.oracles {
            *self.oracles.entry(oracle.clone()).or_default() += count;
        }
    }
}

/// One fuzz target: how to make an input, check it, shrink it and save it.
pub trait Target: Send + Sync + 'static {
    type Input: Clone + Send + 'static;

    /// The name on the command line and in the `findings/` and `regressions/` folders.
    fn name(&self) -> &'static str;

    /// The watchdog's bound on one case, in a release build (debug builds get more).
    fn time_limit(&self) -> Duration {
        Duration::from_secs(10)
    }

    fn generate(&self, rng: &mut rng::Rng) -> Self::Input;

    /// Runs the oracles: the counts of the checks that held, or the first that failed.
    fn check(&self, input: &Self::Input) -> Result<Stats, Failure>;

    /// A smaller input for which `reproduces` holds (it runs the case and compares the failure's
    /// kind), found within `budget`.
    fn minimise(
        &self,
        input: Self::Input,
        budget: &mut minimise::Budget,
        reproduces: &mut dyn FnMut(&Self::Input) -> bool,
    ) -> Self::Input;

    fn input_to_json(&self, input: &Self::Input) -> serde_json::Value;

    fn input_from_json(&self, value: &serde_json::Value) -> Result<Self::Input, String>;

    /// The input as a file to look at or to hand to `etr` (a spec, a data file), with its
    /// extension, saved next to the JSON case.
    fn inspection_copy(&self, _input: &Self::Input) -> Option<(&'static str, Vec<u8>)> {
        None
    }
}

/// Whether this build is optimised: the watchdog is five times more patient without.
pub const RELEASE: bool = !cfg!(debug_assertions);

/// The watchdog bound for `target` in this build.
pub fn time_limit<T: Target>(target: &T) -> Duration {
    if RELEASE { target.time_limit() } else { target.time_limit() * 5 }
}

/// Runs the oracles of `target` on `input` under the watchdog.
pub fn check_guarded<T: Target>(target: &std::sync::Arc<T>, input: &T::Input) -> Result<Stats, Failure> {
    let limit = time_limit(target.as_ref());
    let target = std::sync::Arc::clone(target);
    let input = input.clone();
    guard::run_guarded(limit, move || target.check(&input))
}

/// Bytes as text a person can read and a JSON file can hold: printable ASCII as is, `\\` for a
/// backslash, `\n`, `\r`, `\t`, and `\xNN` for every other byte (so invalid UTF-8 survives).
pub fn escape_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out
}

/// The inverse of [`escape_bytes`]: the same escapes as the corpus generator's `raw` lines.
pub fn unescape_bytes(text: &str) -> Result<Vec<u8>, String> {
    etr_tests::generate::unescape(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaped_bytes_come_back_unchanged() {
        let bytes: Vec<u8> = (0..=255).chain(b"a\\n\r\n\t|".iter().copied()).collect();
        let text = escape_bytes(&bytes);
        assert!(text.is_ascii());
        assert_eq!(unescape_bytes(&text).unwrap(), bytes);
        assert!(unescape_bytes("\\q").is_err());
    }
}
