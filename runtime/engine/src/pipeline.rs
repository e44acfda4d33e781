//! The pipeline: a contributor file through a compiled spec into the output folder.
//!
//! [`run`] is the whole of it, in order: prepare the evaluator (with the native kernels a binary
//! hands over, see [`crate::native`]), plan the passes the spec needs over the file
//! ([`PassPlan`]), execute them ([`crate::passes`]), summarise, and publish the output folder
//! ([`crate::output`]). The passes read the file through [`crate::input`].
//!
//! Conservation: every data line ends accepted, rejected (with at least one reason in
//! `rejects.parquet`), or, when the file is fatal, refused. `lines_read = accepted + rejected +
//! refused` is checked before the summary is written, and `refused` is 0 unless the file is fatal.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use etr_interp::{Interpreter, Scalar};
use etr_ir::{Program, Severity as RuleSeverity, TypeKind};
use etr_values::calendar;

pub use crate::config::{Engine, Notify, Progress, RunConfig};
pub use crate::input::dialect::dialect_of;
pub use crate::output::feedback::FEEDBACK_FILE;
pub use crate::passes::{Pass, PassPlan};

use crate::error::{Result, RuntimeError};
use crate::input::check_input;
use crate::native::{EngineReport, RunEngine};
use crate::output::{OutputDir, Summary};
use crate::passes::verdict::rule_stats;
use crate::passes::write::WriteOutcome;
use crate::passes::{self, PassContext};

/// Runs `program` on the file at `input` and publishes the outputs at `out`.
///
/// The run prepares its evaluator (with native kernels, when the engine asks for them), plans the
/// passes the spec needs ([`PassPlan`]), executes them, checks that every line is accounted for,
/// and publishes the folder with its summary. On error nothing is published: the staging folder is
/// removed and `out` is left as it was.
pub fn run(program: Arc<Program>, input: &Path, out: &Path, config: &RunConfig) -> Result<Summary> {
    let started = Instant::now();
    let as_of = config.as_of.unwrap_or_else(today);
    let mut timings = BTreeMap::new();
    let interpreter =
        Interpreter::new(Arc::clone(&program)).map_err(|e| RuntimeError::Internal(e.to_string()))?.with_run_date(as_of);
    let (interpreter, engine) = RunEngine::prepare(&program, config, interpreter, &mut timings);
    let dialect = dialect_of(&program)?;
    dialect.validate()?;
    let plan = PassPlan::new(&interpreter);
    check_input(input, plan.len())?;
    let output = OutputDir::create(out)?;
    let mut context = PassContext::new(&program, input, &dialect, config, &plan, timings);
    let written = passes::execute(&plan, &mut context, interpreter, &output)?;
    let engine = engine.finish();
    let notices = engine.notices.clone();
    let summary = summarize(&program, config, as_of, context, written, engine, started)?;
    output.write_summary(&summary)?;
    let published = if config.durable { output.commit()? } else { output.commit_unsynced()? };
    if let Some(notify) = &config.notify {
        for notice in notices.iter().chain(&published.notices) {
            notify(notice);
        }
    }
    Ok(summary)
}

/// The summary of a run whose passes are over: checks conservation (every line read is accepted,
/// rejected or, in a fatal file, refused) and gathers the counts, the verdict and every rule's
/// statistics.
fn summarize(
    program: &Program,
    config: &RunConfig,
    as_of: i32,
    mut context: PassContext<'_>,
    written: WriteOutcome,
    engine: EngineReport,
    started: Instant,
) -> Result<Summary> {
    let WriteOutcome { facts, counts, check_stats, dataset_stats, verdict } = written;
    let fatal = verdict.is_fatal();
    let accepted = if fatal { 0 } else { counts.accepted };
    let refused = if fatal { counts.accepted } else { 0 };
    if facts.data_lines != accepted + counts.rejected_lines + refused {
        return Err(RuntimeError::Internal(format!(
            "conservation broken: {} lines read, {accepted} accepted + {} rejected + {refused} refused",
            facts.data_lines, counts.rejected_lines
        )));
    }
    // Line warnings per rule (every warn rule that can flag a line, even when it flagged none);
    // warn-level file checks are reported apart, as `file_warnings`.
    let mut warnings = BTreeMap::new();
    for (idx, rule) in program.rules.iter_enumerated() {
        let file_level = program.file_checks.iter().any(|c| c.rule == idx && c.zone.is_none());
        if rule.severity == RuleSeverity::Warn && !file_level {
            warnings.insert(rule.id.clone(), counts.warnings.get(&rule.id).copied().unwrap_or(0));
        }
    }
    let outcomes = &verdict.outcomes;
    let file_warnings: Vec<String> = program
        .file_checks
        .iter()
        .zip(outcomes)
        .filter(|(check, o)| !o.passed && check.severity == RuleSeverity::Warn)
        .map(|(_, o)| format!("{} {}", program.rule_id(o.rule), o.target))
        .collect();
    context.time("total".to_string(), started);
    let rules = rule_stats(program, &check_stats, &dataset_stats, outcomes, &counts, facts.data_lines);
    Ok(Summary {
        contributor: program.contributor.code.clone(),
        layout: format!("{} layout {}", program.contributor.name, program.contributor.layout),
        lines_read: facts.data_lines,
        accepted,
        rejected: counts.rejected_lines,
        refused,
        fatal: verdict.fatal,
        per_rule: counts.per_rule,
        warnings,
        info: counts.info,
        file_warnings,
        spec_hash: config.spec_hash.clone(),
        input_hash: context.content_hash()?,
        input_bytes: facts.bytes,
        ignored_trailing_lines: facts.ignored_trailing_lines,
        engine: engine.line,
        native_fallbacks: engine.fallbacks,
        as_of: etr_interp::render_scalar(program, TypeKind::Date, &Scalar::Date(as_of)).unwrap_or_default(),
        timings_ms: context.timings,
        memory_bytes: context.memory,
        rules,
    })
}

/// Today in UTC, in days since 1970-01-01.
fn today() -> i32 {
    let seconds = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    i32::try_from(seconds / 86_400).unwrap_or(0)
}

/// Reads `YYYY-MM-DD` as days since 1970-01-01 (for `--as-of`), refusing dates that do not exist.
pub fn parse_as_of(text: &str) -> Result<i32> {
    let bad = || RuntimeError::Config(format!("`{text}` is not a date in the form YYYY-MM-DD"));
    let parts: Vec<&str> = text.split('-').collect();
    let [y, m, d] = parts.as_slice() else { return Err(bad()) };
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return Err(bad());
    }
    let (y, m, d): (i64, u32, u32) =
        (y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?, d.parse().map_err(|_| bad())?);
    // Not `calendar::is_valid_date`, which refuses the year 0 a data file may not hold: `--as-of`
    // has always taken any four-digit year.
    if !(1..=12).contains(&m) || d == 0 || d > calendar::days_in_month(y, m) {
        return Err(bad());
    }
    calendar::days_from_civil(y, m, d).ok_or_else(bad)
}

/// The hash that identifies a spec in summaries: blake3 over the texts it was compiled from.
pub fn spec_hash<'a>(texts: impl IntoIterator<Item = &'a str>) -> String {
    let mut hasher = blake3::Hasher::new();
    for text in texts {
        // Length-prefixed, so that moving text from one file to the next changes the hash.
        hasher.update(&(text.len() as u64).to_le_bytes());
        hasher.update(text.as_bytes());
    }
    hasher.finalize().to_hex().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn as_of_dates_read_as_days() {
        assert_eq!(parse_as_of("1970-01-01").ok(), Some(0));
        assert_eq!(parse_as_of("2000-03-01").ok(), Some(11_017));
        assert_eq!(parse_as_of("2024-02-29").ok(), Some(19_782));
        // The year 0 (a leap year of the proleptic calendar) is taken, as it always was.
        assert_eq!(parse_as_of("0000-02-29").ok(), Some(-719_469));
        for bad in ["2023-02-29", "2025-13-01", "2025-1-01", "20250101", "", "2025-06-31"] {
            assert!(parse_as_of(bad).is_err(), "{bad}");
        }
    }
}
