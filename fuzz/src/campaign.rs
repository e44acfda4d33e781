//! Driving a target: run cases one after the other until the budget is spent, count what each
//! oracle checked, and minimise and save the first case of each new kind of failure.
//!
//! The smoke run (`tests/smoke.rs`) and the command line (`etr-fuzz <target>`) both come here,
//! with different budgets.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::minimise::Budget;
use crate::rng::Rng;
use crate::{Stats, Target, check_guarded, store};

/// How many cases a campaign runs.
#[derive(Debug, Clone, Copy)]
pub enum Length {
    Iterations(u64),
    Time(Duration),
}

/// A campaign's settings.
#[derive(Debug, Clone)]
pub struct Plan {
    pub seed: u64,
    /// The first iteration number (to replay one case: its number and one iteration).
    pub start: u64,
    pub length: Length,
    /// Where to save minimised new findings (`<folder>/<target>/<kind>.json`); none: only report.
    pub save_to: Option<PathBuf>,
    /// Failure kinds already saved: counted, neither minimised nor saved again.
    pub known: Vec<String>,
    /// How often to print a progress line; none: quiet.
    pub progress_every: Option<Duration>,
    /// The tries and time minimisation may spend on one failure.
    pub minimise_tries: usize,
    pub minimise_time: Duration,
}

impl Plan {
    pub fn new(seed: u64, length: Length) -> Plan {
        Plan {
            seed,
            start: 0,
            length,
            save_to: None,
            known: Vec::new(),
            progress_every: None,
            minimise_tries: 400,
            minimise_time: Duration::from_secs(120),
        }
    }
}

/// One kind of failure met in a campaign.
#[derive(Debug, Clone)]
pub struct Finding {
    pub kind: String,
    /// The detail of the first case that failed this way.
    pub detail: String,
    /// The first case (seed, iteration) that failed this way.
    pub first_case: (u64, u64),
    pub count: u64,
    /// Already saved before this campaign (in `findings/` or `regressions/`).
    pub known: bool,
    /// Where the minimised case was saved.
    pub saved: Option<PathBuf>,
}

/// What a campaign did.
#[derive(Debug, Clone)]
pub struct Report {
    pub target: &'static str,
    pub cases: u64,
    pub failed: u64,
    pub stats: Stats,
    pub findings: Vec<Finding>,
    pub elapsed: Duration,
    /// Why the campaign stopped before its budget, if it did.
    pub stopped_early: Option<String>,
}

impl Report {
    /// The findings not saved before this campaign.
    pub fn new_findings(&self) -> Vec<&Finding> {
        self.findings.iter().filter(|f| !f.known).collect()
    }

    /// The end-of-campaign summary: cases, checks per oracle, findings.
    pub fn render(&self) -> String {
        let mut out = format!(
            "{}: {} cases in {:.1} s ({:.1}/s), {} failed, {} kinds of failure ({} new)\n",
            self.target,
            self.cases,
            self.elapsed.as_secs_f64(),
            self.cases as f64 / self.elapsed.as_secs_f64().max(1e-9),
            self.failed,
            self.findings.len(),
            self.new_findings().len()
        );
        for (oracle, count) in &self.stats.oracles {
            out.push_str(&format!("  held {count:>8}  {oracle}\n"));
        }
        for f in &self.findings {
            out.push_str(&format!(
                "  FINDING x{} {}{} (first: seed {} iteration {})\n    {}\n",
                f.count,
                f.kind,
                if f.known { " [known]" } else { "" },
                f.first_case.0,
                f.first_case.1,
                first_line(&f.detail, 300)
            ));
            if let Some(path) = &f.saved {
                out.push_str(&format!("    saved: {}\n", path.display()));
            }
        }
        if let Some(why) = &self.stopped_early {
            out.push_str(&format!("  stopped early: {why}\n"));
        }
        out
    }
}

fn first_line(text: &str, max: usize) -> String {
    let line = text.lines().next().unwrap_or("");
    if line.chars().count() > max {
        format!("{}…", line.chars().take(max).collect::<String>())
    } else {
        line.to_string()
    }
}

/// Hung cases leave their threads running: past this many, the campaign stops the target.
const MAX_HANGS: u64 = 3;

/// Runs a campaign of `target`.
pub fn run<T: Target>(target: Arc<T>, plan: &Plan) -> Report {
    let started = Instant::now();
    let mut last_progress = Instant::now();
    let mut stats = Stats::default();
    let mut findings: BTreeMap<String, Finding> = BTreeMap::new();
    let mut cases = 0u64;
    let mut failed = 0u64;
    let mut hangs = 0u64;
    let mut stopped_early = None;
    let mut iteration = plan.start;
    loop {
        let done = match plan.length {
            Length::Iterations(n) => cases >= n,
            Length::Time(t) => started.elapsed() >= t,
        };
        if done {
            break;
        }
        let mut rng = Rng::for_case(plan.seed, iteration);
        let input = target.generate(&mut rng);
        cases += 1;
        match check_guarded(&target, &input) {
            Ok(case_stats) => stats.merge(&case_stats),
            Err(failure) => {
                failed += 1;
                stats.merge(&failure.held);
                hangs += u64::from(failure.kind == "hang");
                if let Some(finding) = findings.get_mut(&failure.kind) {
                    finding.count += 1;
                } else {
                    let known = plan.known.contains(&failure.kind);
                    let mut finding = Finding {
                        kind: failure.kind.clone(),
                        detail: failure.detail.clone(),
                        first_case: (plan.seed, iteration),
                        count: 1,
                        known,
                        saved: None,
                    };
                    if !known {
                        if plan.progress_every.is_some() {
                            eprintln!("[{}] new failure at iteration {iteration}: {}", target.name(), failure.kind);
                        }
                        // A hang costs the whole time limit per try: saved as found.
                        let minimal = if failure.kind == "hang" {
                            input.clone()
                        } else {
                            minimise_case(&target, input.clone(), &failure.kind, plan)
                        };
                        if let Some(folder) = &plan.save_to {
                            let found_by = format!(
                                "etr-fuzz {} --seed {} --start {iteration} --iterations 1{}",
                                target.name(),
                                plan.seed,
                                if failure.kind == "hang" { "" } else { ", then minimised" }
                            );
                            // The minimised case's own detail describes what the file holds.
                            let detail = match check_guarded(&target, &minimal) {
                                Err(f) if f.kind == failure.kind => f,
                                _ => failure.clone(),
                            };
                            match store::save(folder, target.as_ref(), &minimal, &detail, &found_by) {
                                Ok(path) => finding.saved = Some(path),
                                Err(e) => eprintln!("[{}] cannot save the case: {e}", target.name()),
                            }
                        }
                    }
                    findings.insert(failure.kind.clone(), finding);
                }
                if hangs >= MAX_HANGS {
                    stopped_early = Some(format!("{hangs} hung cases still hold their threads"));
                    break;
                }
            }
        }
        iteration += 1;
        if let Some(every) = plan.progress_every
            && last_progress.elapsed() >= every
        {
            last_progress = Instant::now();
            eprintln!(
                "[{}] {:>6.0} s: {cases} cases, {failed} failed, {} kinds of failure",
                target.name(),
                started.elapsed().as_secs_f64(),
                findings.len()
            );
        }
    }
    Report {
        target: target.name(),
        cases,
        failed,
        stats,
        findings: findings.into_values().collect(),
        elapsed: started.elapsed(),
        stopped_early,
    }
}

/// Shrinks a failing input while it fails with the same kind.
pub fn minimise_case<T: Target>(target: &Arc<T>, input: T::Input, kind: &str, plan: &Plan) -> T::Input {
    let mut budget = Budget::new(plan.minimise_tries, plan.minimise_time);
    let mut reproduces = |candidate: &T::Input| matches!(check_guarded(target, candidate), Err(f) if f.kind == kind);
    target.minimise(input, &mut budget, &mut reproduces)
}

/// Replays a saved case: the oracles' verdict on its input.
pub fn replay(case: &store::SavedCase, launcher: &crate::child::Launcher) -> Result<Stats, crate::Failure> {
    let bad = |e: String| crate::Failure::new("harness: unreadable case", e);
    match case.target.as_str() {
        "spec" => {
            let target = Arc::new(crate::spec::SpecTarget::load());
            check_guarded(&target, &target.input_from_json(&case.input).map_err(bad)?)
        }
        "lsp" => {
            let target = Arc::new(crate::ide::IdeTarget::load());
            check_guarded(&target, &target.input_from_json(&case.input).map_err(bad)?)
        }
        "lsp-protocol" => {
            let target = Arc::new(crate::protocol::ProtocolTarget::new(launcher.clone()));
            check_guarded(&target, &target.input_from_json(&case.input).map_err(bad)?)
        }
        "data" => {
            let target = Arc::new(crate::data::DataTarget::load());
            check_guarded(&target, &target.input_from_json(&case.input).map_err(bad)?)
        }
        "kill" => {
            let target =
                Arc::new(crate::kill::KillTarget::new(launcher.clone()).with_attempts(crate::kill::REPLAY_ATTEMPTS));
            check_guarded(&target, &target.input_from_json(&case.input).map_err(bad)?)
        }
        other => Err(bad(format!("unknown target `{other}`"))),
    }
}
