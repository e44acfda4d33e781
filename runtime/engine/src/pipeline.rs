//! The pipeline: a contributor file through a compiled spec into the output folder.
//!
//! Shape: one reader thread cuts the file into blocks of whole lines; worker threads split and
//! evaluate blocks in parallel; the calling thread receives the results **in file order** and
//! writes them. Memory is bounded by a fixed number of blocks in flight (a token channel: the
//! reader takes a token per block, the writer returns it once the block is written), so it does not
//! grow with the file.
//!
//! Passes: a spec with a `unique` check reads the file in three sweeps. The key pass evaluates
//! only what the keys need and counts them; the few lines whose key it saw more than once are read
//! again and evaluated fully, which tells the duplicated keys exactly (see [`crate::passes::keys`]); the
//! last pass evaluates everything and writes. Re-reading a file from the page cache costs less
//! than spilling rows and rewriting them, and it keeps memory flat. A spec whose rows read file
//! aggregates (`x > 3 * median(X)`) adds a first pass for them. Every pass must see the same bytes:
//! a file that changes between passes (its xxh3-128 fingerprint differs) fails the run. The file
//! checks are judged at the end of the last pass; when one is fatal the accepted rows written so
//! far are discarded.
//!
//! Conservation: every data line ends accepted, rejected (with at least one reason in
//! `rejects.parquet`), or, when the file is fatal, refused. `lines_read = accepted + rejected +
//! refused` is checked before the summary is written, and `refused` is 0 unless the file is fatal.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use etr_interp::{AggregateStates, CheckStats, Interpreter, RawBatch, Scalar};
use etr_ir::{Program, Severity as RuleSeverity, TypeKind};

pub use crate::input::dialect::dialect_of;
pub use crate::output::feedback::FEEDBACK_FILE;

use crate::error::{Result, RuntimeError};
use crate::input::check_input;
use crate::input::reader::ReaderConfig;
use crate::native::{CompiledKernels, KernelFallbacks, NativeBackend};
use crate::output::feedback::FeedbackFile;
use crate::output::{NativeFallbacks, OutputDir, ParquetOptions, Summary};
use crate::passes::keys::{KeyIndex, resolve_candidates};
use crate::passes::stream::{Sweep, stream};
use crate::passes::verdict::{FileVerdict, collect_row_fatal, rule_stats};
use crate::passes::write::{Counts, write_batch};

/// How a run is carried out. Nothing here changes the outputs.
#[derive(Clone)]
pub struct RunConfig {
    /// Worker threads evaluating blocks (at least 1), and as many threads encoding the accepted
    /// file's columns. By default one less than the cores: the reader, the writing thread and the
    /// encoders need a core between them (on 2 cores, one worker ran W1 3% faster, with 6% less
    /// CPU and 20% less memory, than two; docs/notes/0011).
    pub threads: usize,
    pub reader: ReaderConfig,
    /// Shown in the summary: the hash of the spec and stdlib texts the program came from.
    pub spec_hash: String,
    /// Called from the writing thread as the file is read.
    pub progress: Option<Arc<dyn Fn(Progress) + Send + Sync>>,
    /// The date the run is as of (days since 1970-01-01), what `run_date()` reads; by default the
    /// day (UTC) the run starts. Recorded in the summary, so a rerun can pass the same date.
    pub as_of: Option<i32>,
    /// Which back end evaluates the spec. Outputs are identical either way.
    pub engine: Engine,
    /// What compiles the native kernels of [`Engine::Jit`]: the runtime does not link a JIT
    /// itself, the binary that offers one hands it over here (see [`crate::native`]). Without
    /// one, `Engine::Jit` runs the interpreter alone, and the summary's engine line says so.
    pub native_backend: Option<Arc<dyn NativeBackend>>,
    /// Told, once the output is published, what the publication did besides (leftovers of killed
    /// runs removed, a previous output that could not be removed): one sentence each.
    pub notify: Option<Notify>,
}

/// Receives the notices of a run, one sentence each.
pub type Notify = Arc<dyn Fn(&str) + Send + Sync>;

/// The back ends. The JIT compiles what it supports to native code and leaves the rest, per
/// expression, to the interpreter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Engine {
    /// The reference interpreter alone.
    #[default]
    Interp,
    /// Native kernels from [`RunConfig::native_backend`] where they exist, the interpreter
    /// elsewhere.
    Jit,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            threads: std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1)),
            reader: ReaderConfig::default(),
            spec_hash: String::new(),
            progress: None,
            as_of: None,
            engine: Engine::default(),
            native_backend: None,
            notify: None,
        }
    }
}

/// Progress of a run, for a progress bar.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    /// 1-based pass number, and how many passes this run makes.
    pub pass: u8,
    pub passes: u8,
    /// Data lines done in this pass.
    pub lines: u64,
}

/// Runs `program` on the file at `input` and publishes the outputs at `out`.
///
/// On error nothing is published: the staging folder is removed and `out` is left as it was.
pub fn run(program: Arc<Program>, input: &Path, out: &Path, config: &RunConfig) -> Result<Summary> {
    let started = Instant::now();
    let as_of = config.as_of.unwrap_or_else(today);
    let mut timings = BTreeMap::new();
    let mut base =
        Interpreter::new(Arc::clone(&program)).map_err(|e| RuntimeError::Internal(e.to_string()))?.with_run_date(as_of);
    let mut engine = format!("interp {}", env!("CARGO_PKG_VERSION"));
    let mut native_fallbacks = NativeFallbacks::default();
    let mut native: Option<(&dyn NativeBackend, Box<dyn CompiledKernels>)> = None;
    let mut notices = Vec::new();
    if config.engine == Engine::Jit {
        let compile_start = Instant::now();
        match config.native_backend.as_deref() {
            // A spec the back end cannot compile runs on the interpreter: the outputs are the same,
            // and the summary counts the fallback.
            Some(backend) => match backend.compile(&program) {
                Ok(compiled) => {
                    engine = format!(
                        "{} ({} native kernels) + interp {}",
                        backend.name(),
                        compiled.native_kernel_count(),
                        env!("CARGO_PKG_VERSION")
                    );
                    base = base.with_native_kernels(compiled.kernels());
                    native = Some((backend, compiled));
                }
                Err(reason) => native_fallbacks.add(
                    backend.name(),
                    1,
                    [format!("could not compile the spec, the interpreter ran all of it: {reason}")],
                ),
            },
            None => {
                let missing = "the jit engine was asked for, but no native back end was given";
                engine.push_str(&format!(" ({missing})"));
                notices.push(format!("{missing}: the interpreter ran alone"));
            }
        }
        timings.insert("jit_compile".to_string(), ms(compile_start));
    }
    let mut interpreter = Arc::new(base);
    let dialect = dialect_of(&program)?;
    dialect.validate()?;
    // Passes: the file's aggregates first when lines are judged against them (`x > 3 *
    // median(X)`), then the key index when a `unique` check needs it, then the pass that writes.
    let aggregates_pass = interpreter.rows_read_aggregates();
    let keys_pass = !program.unique_checks.is_empty();
    let passes: u8 = 1 + u8::from(aggregates_pass) + u8::from(keys_pass);
    check_input(input, passes)?;
    let output = OutputDir::create(out)?;
    let mut pass: u8 = 0;

    // The first pass's fingerprint, which every later pass must match (the same bytes), and the
    // blake3 hash only the first pass computes (for the summary).
    let mut first_fingerprint: Option<u128> = None;
    let mut content_hash: Option<String> = None;
    let mut same_input = |fingerprint: u128, input_hash: Option<&str>| -> Result<()> {
        if content_hash.is_none() {
            content_hash = input_hash.map(str::to_owned);
        }
        match first_fingerprint {
            None => first_fingerprint = Some(fingerprint),
            Some(first) if first != fingerprint => {
                return Err(RuntimeError::Config(format!(
                    "{} changed while it was being read (its hash differs between two passes); rerun once it is complete",
                    input.display()
                )));
            }
            Some(_) => {}
        }
        Ok(())
    };

    if aggregates_pass {
        pass += 1;
        let pass_start = Instant::now();
        let mut aggregates = AggregateStates::new(&program);
        let evaluate = |batch: &RawBatch| interpreter.eval_batch(batch);
        let facts =
            stream(input, &dialect, config, Sweep { pass, passes, columns: None }, &evaluate, |_, _, _, result| {
                aggregates.merge(&result.aggregates).map_err(|e| RuntimeError::Internal(e.to_string()))
            })?;
        same_input(facts.fingerprint, facts.input_hash.as_deref())?;
        interpreter = Arc::new(interpreter.with_file_aggregates(&aggregates));
        timings.insert(format!("pass{pass}"), ms(pass_start));
    }

    // The duplicated keys of `unique` checks (see `keys`): a light pass over the keys, then a full
    // evaluation of the few lines whose key was seen more than once.
    let mut memory = BTreeMap::new();
    let mut duplicates: Vec<hashbrown::HashSet<u64>> = vec![Default::default(); program.unique_checks.len()];
    if keys_pass {
        pass += 1;
        let pass_start = Instant::now();
        let input_bytes = std::fs::metadata(input).map_err(|e| RuntimeError::io("read", input, e))?.len();
        let mut index = KeyIndex::new(&program, input_bytes);
        let evaluate = |batch: &RawBatch| interpreter.eval_keys(batch);
        let wanted = interpreter.key_columns();
        let facts = stream(
            input,
            &dialect,
            config,
            Sweep { pass, passes, columns: Some(&wanted) },
            &evaluate,
            |_, batch, offsets, keys| index.add(batch, offsets, &keys),
        )?;
        same_input(facts.fingerprint, facts.input_hash.as_deref())?;
        memory.insert("key_index".to_string(), index.allocated_bytes());
        timings.insert(format!("pass{pass}"), ms(pass_start));
        let resolve_start = Instant::now();
        let resolved = resolve_candidates(input, &dialect, &config.reader, &interpreter, &index)?;
        // The index is dropped here, before the writing pass: its peak and the writers' never add up.
        drop(index);
        if let Some(fingerprint) = resolved.fingerprint {
            same_input(fingerprint, None)?;
        }
        duplicates = resolved.duplicates;
        timings.insert(format!("pass{pass}_candidates"), ms(resolve_start));
    }
    let duplicates = Arc::new(duplicates);
    // The writing pass tells duplicates by line number: it hashes no key.
    let interpreter = Arc::new(interpreter.without_key_hashes());

    // The last pass: evaluate again and write.
    let pass_start = Instant::now();
    let options = ParquetOptions::for_program(&program);
    // The accepted records are most of the output: their columns are encoded on as many threads
    // as evaluate (the writing thread alone could not keep up; see crate::output::encode).
    let accepted_options = ParquetOptions { encoder_threads: config.threads, typed_encoders: true, ..options.clone() };
    let mut accepted_sink = output.accepted_writer(interpreter.output_schema(), &accepted_options)?;
    let mut rejects_sink = output.rejects_writer(&options)?;
    let mut feedback_file = FeedbackFile::create(&output)?;
    let mut warnings_sink = output.warnings_writer(&options)?;
    let mut counts = Counts::new(&program);
    let mut aggregates = AggregateStates::new(&program);
    let mut row_fatal = BTreeSet::new();
    let mut check_stats = vec![CheckStats::default(); program.row_checks.len()];
    let facts = {
        let duplicates = Arc::clone(&duplicates);
        let interp = Arc::clone(&interpreter);
        let program = Arc::clone(&program);
        let evaluate = |batch: &RawBatch| interp.eval_batch(batch);
        stream(
            input,
            &dialect,
            config,
            Sweep { pass: passes, passes, columns: None },
            &evaluate,
            |_, batch, _, result| {
                aggregates.merge(&result.aggregates).map_err(|e| RuntimeError::Internal(e.to_string()))?;
                collect_row_fatal(&result, &mut row_fatal);
                for (total, batch_stats) in check_stats.iter_mut().zip(&result.check_stats) {
                    total.merge(batch_stats);
                }
                let written = write_batch(&program, &interp, &duplicates, batch, &result, &mut counts)?;
                if written.keep.true_count() > 0 {
                    accepted_sink.write_selected(&written.accepted, &written.keep)?;
                }
                if written.rejects.num_rows() > 0 {
                    rejects_sink.write(&written.rejects)?;
                }
                if written.warnings.num_rows() > 0 {
                    warnings_sink.write(&written.warnings)?;
                }
                if !written.feedback.is_empty() {
                    feedback_file.write(&written.feedback)?;
                }
                Ok(())
            },
        )?
    };
    timings.insert(format!("pass{passes}"), ms(pass_start));
    same_input(facts.fingerprint, facts.input_hash.as_deref())?;
    let lines = interpreter.line_values(facts.header.as_ref(), facts.trailer.as_ref());
    let verdict = FileVerdict::new(&program, interpreter.file_check_outcomes(&aggregates, &lines), row_fatal);
    let outcomes = &verdict.outcomes;
    let fatal = !verdict.fatal.is_empty();
    // A fatal file loads nothing: the accepted rows written so far are dropped.
    if fatal {
        accepted_sink.discard()?;
    } else {
        accepted_sink.finish()?;
    }
    rejects_sink.finish()?;
    warnings_sink.finish()?;
    feedback_file.finish()?;

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
    for (idx, rule) in program.rules.iter().enumerate() {
        let file_level = program.file_checks.iter().any(|c| c.rule as usize == idx && c.zone.is_none());
        if rule.severity == RuleSeverity::Warn && !file_level {
            warnings.insert(rule.id.clone(), counts.warnings.get(&rule.id).copied().unwrap_or(0));
        }
    }
    let file_warnings: Vec<String> = program
        .file_checks
        .iter()
        .zip(outcomes)
        .filter(|(check, o)| !o.passed && check.severity == RuleSeverity::Warn)
        .map(|(_, o)| format!("{} {}", program.rule_id(o.rule), o.target))
        .collect();
    if let Some((backend, compiled)) = &native {
        let KernelFallbacks { count, reasons } = compiled.fallbacks();
        native_fallbacks.add(backend.name(), count, reasons);
    }
    if !native_fallbacks.is_empty() {
        notices.push(format!(
            "native code fell back to the interpreter {} time(s), with the same outputs: {}",
            native_fallbacks.count,
            native_fallbacks.reasons.join("; ")
        ));
    }
    timings.insert("total".to_string(), ms(started));
    let rules = rule_stats(&program, &check_stats, outcomes, &counts, facts.data_lines);
    let summary = Summary {
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
        input_hash: content_hash
            .clone()
            .ok_or_else(|| RuntimeError::Internal("no pass computed the input hash".into()))?,
        input_bytes: facts.bytes,
        ignored_trailing_lines: facts.ignored_trailing_lines,
        engine,
        native_fallbacks,
        as_of: etr_interp::render_scalar(&program, TypeKind::Date, &Scalar::Date(as_of)).unwrap_or_default(),
        timings_ms: timings,
        memory_bytes: memory,
        rules,
    };
    output.write_summary(&summary)?;
    let published = output.commit()?;
    if let Some(notify) = &config.notify {
        for notice in notices.iter().chain(&published.notices) {
            notify(notice);
        }
    }
    Ok(summary)
}

fn ms(since: Instant) -> f64 {
    (since.elapsed().as_secs_f64() * 1000.0 * 10.0).round() / 10.0
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
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days_in_month = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month[(m - 1) as usize] {
        return Err(bad());
    }
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    i32::try_from(era * 146_097 + doe - 719_468).map_err(|_| bad())
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
        for bad in ["2023-02-29", "2025-13-01", "2025-1-01", "20250101", "", "2025-06-31"] {
            assert!(parse_as_of(bad).is_err(), "{bad}");
        }
    }
}
