//! The `kill` target: `etr run` killed by a signal at a random moment, over an output folder that
//! already holds a complete earlier output.
//!
//! A case is a file size, a signal (SIGKILL, SIGTERM, SIGINT), a moment (a fraction of how long
//! the same run takes uninterrupted, measured first) and a thread count. The file is the W1
//! sample's lines repeated with fresh account numbers and a matching trailer, so that the run
//! succeeds and writes every output file.
//!
//! Oracles: right after the kill the output folder is either the earlier output or the complete
//! new one (never missing, never partial: its data files are compared with reference runs, the
//! summary without its volatile keys); then a rerun succeeds, publishes the new output, and
//! leaves no staging folder (`.<name>.tmp-*`, `.<name>.old-*`) behind.
//!
//! Timing makes a case's outcome vary from one replay to the next; a replay kills up to
//! [`REPLAY_ATTEMPTS`] times and reports the first failure.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::child::Launcher;
use crate::data::output_files;
use crate::minimise::Budget;
use crate::rng::Rng;
use crate::{Failure, RELEASE, Stats, Target};

/// Kills per replay of a saved case, since the moment of a kill is not reproducible.
pub const REPLAY_ATTEMPTS: usize = 3;

const SIGNALS: &[&str] = &["KILL", "TERM", "INT"];

#[derive(Debug, Clone)]
pub struct KillCase {
    pub lines: usize,
    pub signal: String,
    /// When to kill, as a fraction of the uninterrupted run's duration (above 1: after it).
    pub moment: f64,
    pub threads: usize,
}

pub struct KillTarget {
    launcher: Launcher,
    /// Kills per case: 1 in a campaign, [`REPLAY_ATTEMPTS`] when replaying a saved case.
    attempts: usize,
    spec: String,
    sample_header: String,
    sample_lines: Vec<String>,
    sample_trailer: String,
    sample: Vec<u8>,
}

/// Whether this platform can run the target (it sends POSIX signals).
pub fn unavailable() -> Option<String> {
    if cfg!(unix) { None } else { Some("the kill target sends POSIX signals; this platform has none".into()) }
}

impl KillTarget {
    pub fn new(launcher: Launcher) -> KillTarget {
        let root = crate::seeds::repo_root();
        let spec = std::fs::read_to_string(root.join("contributors/jcl.etr")).unwrap_or_default();
        let sample = std::fs::read(root.join("tests/corpus/w1/jcl_1k/input.psv")).unwrap_or_default();
        let text = String::from_utf8_lossy(&sample).into_owned();
        let mut lines = text.lines();
        let sample_header = lines.next().unwrap_or_default().to_string();
        let (sample_lines, trailers): (Vec<String>, Vec<String>) =
            lines.map(str::to_string).partition(|l| !l.starts_with("T|"));
        let sample_trailer = trailers.into_iter().next().unwrap_or_default();
        KillTarget { launcher, attempts: 1, spec, sample_header, sample_lines, sample_trailer, sample }
    }

    /// Kills `attempts` times per case (replays, where one kill may miss the window).
    pub fn with_attempts(self, attempts: usize) -> KillTarget {
        KillTarget { attempts: attempts.max(1), ..self }
    }

    /// The W1 sample's data lines repeated about `count / 1000` times, each line with its own
    /// account number (JCL's `unique` check), and a trailer whose count and control totals are the
    /// sample's times the repeats (JCL's F2 and F3), so that the run is not fatal and writes
    /// every output file.
    fn big_file(&self, count: usize) -> Vec<u8> {
        let repeats = (count / self.sample_lines.len().max(1)).max(1);
        let mut out = String::with_capacity(repeats * self.sample.len());
        out.push_str(&self.sample_header);
        out.push('\n');
        for i in 0..repeats * self.sample_lines.len() {
            let line = &self.sample_lines[i % self.sample_lines.len()];
            out.push_str(&format!("JCL{i:010}"));
            out.push_str(&line[line.find('|').unwrap_or(line.len())..]);
            out.push('\n');
        }
        let fields: Vec<&str> = self.sample_trailer.split('|').collect();
        let total = |index: usize| fields.get(index).map_or(0, |f| parse_cents(f)) * repeats as i64;
        out.push_str(&format!(
            "T|{}|{}|{}\n",
            repeats * self.sample_lines.len(),
            show_cents(total(2)),
            show_cents(total(3))
        ));
        out.into_bytes()
    }
}

/// A non-negative amount with two decimals, in cents.
fn parse_cents(field: &str) -> i64 {
    let (whole, fraction) = field.split_once('.').unwrap_or((field, "0"));
    let fraction: String = fraction.chars().chain("00".chars()).take(2).collect();
    whole.parse::<i64>().unwrap_or(0) * 100 + fraction.parse::<i64>().unwrap_or(0)
}

fn show_cents(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

impl Target for KillTarget {
    type Input = KillCase;

    fn name(&self) -> &'static str {
        "kill"
    }

    fn time_limit(&self) -> Duration {
        Duration::from_secs(300)
    }

    fn generate(&self, rng: &mut Rng) -> KillCase {
        // Big enough that the run takes a while to kill in the middle of; debug builds are slower.
        let lines = if RELEASE { rng.between(20_000, 200_000) } else { rng.between(2_000, 8_000) };
        KillCase {
            lines,
            signal: rng.pick(SIGNALS).to_string(),
            moment: rng.below(1_300) as f64 / 1_000.0,
            threads: rng.between(1, 3),
        }
    }

    fn check(&self, case: &KillCase) -> Result<Stats, Failure> {
        if let Some(why) = unavailable() {
            return Err(Failure::new("harness: unsupported platform", why));
        }
        let mut stats = Stats::default();
        for _ in 0..self.attempts {
            stats.merge(&self.kill_once(case)?);
        }
        Ok(stats)
    }

    fn minimise(
        &self,
        input: KillCase,
        budget: &mut Budget,
        reproduces: &mut dyn FnMut(&KillCase) -> bool,
    ) -> KillCase {
        // Only the file's size can shrink; the moment is what it is.
        let mut best = input;
        while best.lines > 1_000 && budget.take() {
            let smaller = KillCase { lines: best.lines / 2, ..best.clone() };
            if !reproduces(&smaller) {
                break;
            }
            best = smaller;
        }
        best
    }

    fn input_to_json(&self, input: &KillCase) -> serde_json::Value {
        json!({ "lines": input.lines, "signal": input.signal, "moment": input.moment, "threads": input.threads })
    }

    fn input_from_json(&self, value: &serde_json::Value) -> Result<KillCase, String> {
        Ok(KillCase {
            lines: value["lines"].as_u64().ok_or("no `lines`")? as usize,
            signal: value["signal"].as_str().ok_or("no `signal`")?.to_string(),
            moment: value["moment"].as_f64().ok_or("no `moment`")?,
            threads: value["threads"].as_u64().ok_or("no `threads`")? as usize,
        })
    }
}

fn harness(e: impl std::fmt::Display) -> Failure {
    Failure::new("harness: kill setup failed", e.to_string())
}

/// The output folder's hidden siblings (staging and moved-away folders).
fn leftovers(parent: &Path, name: &str) -> Vec<String> {
    let prefix = format!(".{name}.");
    let mut found: Vec<String> = std::fs::read_dir(parent)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(&prefix))
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
}

impl KillTarget {
    fn run_to_end(
        &self,
        spec: &Path,
        input: &Path,
        out: &Path,
        threads: usize,
        cwd: &Path,
    ) -> Result<Duration, Failure> {
        let started = Instant::now();
        let output = self.launcher.run_command(spec, input, out, threads).current_dir(cwd).output().map_err(harness)?;
        if !output.status.success() {
            return Err(Failure::new(
                "kill: an uninterrupted run fails",
                format!("{}: {}", output.status, String::from_utf8_lossy(&output.stderr)),
            ));
        }
        Ok(started.elapsed())
    }

    fn kill_once(&self, case: &KillCase) -> Result<Stats, Failure> {
        let mut stats = Stats::default();
        let dir = tempfile::tempdir().map_err(harness)?;
        let root = dir.path();
        let spec = root.join("jcl.etr");
        std::fs::write(&spec, &self.spec).map_err(harness)?;
        let old_input = root.join("old.psv");
        std::fs::write(&old_input, &self.sample).map_err(harness)?;
        let new_input = root.join("new.psv");
        std::fs::write(&new_input, self.big_file(case.lines)).map_err(harness)?;
        let out = root.join("out");
        let reference = root.join("reference");

        self.run_to_end(&spec, &old_input, &out, case.threads, root)?;
        let old_files = output_files(&out).map_err(harness)?;
        let duration = self.run_to_end(&spec, &new_input, &reference, case.threads, root)?;
        let new_files = output_files(&reference).map_err(harness)?;
        if old_files == new_files {
            return Err(harness("the earlier and the new output are the same: a kill could not be told apart"));
        }

        let mut child = self
            .launcher
            .run_command(&spec, &new_input, &out, case.threads)
            .current_dir(root)
            .spawn()
            .map_err(harness)?;
        std::thread::sleep(duration.mul_f64(case.moment));
        let signal = match case.signal.as_str() {
            "TERM" => libc::SIGTERM,
            "INT" => libc::SIGINT,
            _ => libc::SIGKILL,
        };
        let pid = child.id() as libc::pid_t;
        // SAFETY: kill(2) with the pid of our own child, not yet reaped (`wait` below reaps it),
        // so the pid cannot have been reused by another process.
        unsafe {
            libc::kill(pid, signal);
        }
        let status = child.wait().map_err(harness)?;
        let leftovers_after_kill = leftovers(root, "out");
        let state = if status.success() { "finished before the signal" } else { "killed" };

        if !out.exists() {
            return Err(Failure::new(
                "kill: the output folder is missing after a kill",
                format!(
                    "SIG{} at {:.0}% of the run ({state}): `out` is gone; siblings {leftovers_after_kill:?}",
                    case.signal,
                    case.moment * 100.0
                ),
            ));
        }
        let now =
            output_files(&out).map_err(|e| Failure::new("kill: the output folder is unreadable after a kill", e))?;
        if now != old_files && now != new_files {
            let names: Vec<&str> = now.iter().map(|f| f.0.as_str()).collect();
            return Err(Failure::new(
                "kill: the output folder is neither the earlier nor the new output",
                format!("SIG{} at {:.0}% ({state}): files {names:?}", case.signal, case.moment * 100.0),
            ));
        }
        stats.passed("kill: the output folder is the earlier or the new complete output");

        let rerun = self.run_to_end(&spec, &new_input, &out, case.threads, root);
        rerun.map_err(|f| Failure::new("kill: the rerun after a kill fails", f.detail))?;
        if output_files(&out).map_err(harness)? != new_files {
            return Err(Failure::new("kill: the rerun does not publish the new output", String::new()));
        }
        stats.passed("kill: the rerun publishes the new output");
        let left = leftovers(root, "out");
        if !left.is_empty() {
            return Err(Failure::after(
                Failure::new(
                    "kill: staging folders left behind after a rerun",
                    format!(
                        "SIG{} at {:.0}% of the run ({state}); after the kill: {leftovers_after_kill:?}; after the rerun: {left:?}",
                        case.signal,
                        case.moment * 100.0
                    ),
                ),
                stats,
            ));
        }
        stats.passed("kill: no staging folder left after the rerun");
        Ok(stats)
    }
}
