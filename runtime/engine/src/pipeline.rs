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
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use arrow::record_batch::RecordBatch;
use etr_interp::{AggregateStates, BatchResult, CheckStats, FileCheckOutcome, Interpreter, RawBatch, Scalar};
use etr_ir::{Program, Severity as RuleSeverity, TypeKind};

use crate::error::{Result, RuntimeError};
use crate::input::dialect::{Encoding, SourceDialect};
use crate::input::reader::{BlockReader, RawBlock, ReaderConfig};
use crate::input::split::{split_block, split_block_columns};
use crate::native::{CompiledKernels, KernelFallbacks, NativeBackend};
use crate::output::{
    NativeFallbacks, OutputDir, ParquetOptions, RuleStats, Severity, Summary, ViolationRow, ViolationRowsBuilder,
};
use crate::passes::keys::{KeyIndex, key_is_null, resolve_candidates, takes_part};

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
    let options = parquet_options(&program);
    // The accepted records are most of the output: their columns are encoded on as many threads
    // as evaluate (the writing thread alone could not keep up; see crate::output::encode).
    let accepted_options = ParquetOptions { encoder_threads: config.threads, typed_encoders: true, ..options.clone() };
    let mut accepted_sink = output.accepted_writer(interpreter.output_schema(), &accepted_options)?;
    let mut rejects_sink = output.rejects_writer(&options)?;
    let feedback_path = output.staging_path().join(FEEDBACK_FILE);
    let mut feedback_file = std::io::BufWriter::new(
        std::fs::File::create(&feedback_path).map_err(|e| RuntimeError::io("create", &feedback_path, e))?,
    );
    {
        use std::io::Write as _;
        feedback_file
            .write_all(FEEDBACK_HEADER.as_bytes())
            .map_err(|e| RuntimeError::io("write", &feedback_path, e))?;
    }
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
                    use std::io::Write as _;
                    feedback_file
                        .write_all(written.feedback.as_bytes())
                        .map_err(|e| RuntimeError::io("write", &feedback_path, e))?;
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
    {
        use std::io::Write as _;
        feedback_file.flush().map_err(|e| RuntimeError::io("write", &feedback_path, e))?;
    }

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

/// Refuses, before anything is written, an input the run could not read as it needs: one that is
/// missing or a folder, and a pipe or device for a spec that reads the file more than once (the
/// second pass would wait forever for a writer that is gone).
fn check_input(input: &Path, passes: u8) -> Result<()> {
    let meta = std::fs::metadata(input).map_err(|e| RuntimeError::io("read", input, e))?;
    let refuse = |reason: String| Err(RuntimeError::InputRefused { path: input.to_path_buf(), reason });
    if meta.is_dir() {
        return refuse("it is a folder, not a file".into());
    }
    if !meta.is_file() && passes > 1 {
        return refuse(format!(
            "it is not a regular file (a pipe or a device), and this spec reads its input {passes} times \
             (for its `unique` checks or the file aggregates its rows compare with); save it to a file first"
        ));
    }
    Ok(())
}

/// The dialect the reader needs, from the spec's source declaration.
pub fn dialect_of(program: &Program) -> Result<SourceDialect> {
    let source = &program.source;
    let encoding = match source.encoding {
        etr_ir::Encoding::Utf8 => Encoding::Utf8,
        etr_ir::Encoding::Windows1252 => Encoding::Windows1252,
    };
    // The spec writes the delimiter and prefixes as text; the reader wants them in the file's bytes.
    let in_file_bytes = |text: &str| -> Result<Vec<u8>> {
        match encoding {
            Encoding::Utf8 => Ok(text.as_bytes().to_vec()),
            Encoding::Windows1252 => {
                let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(text);
                if unmappable {
                    return Err(RuntimeError::Config(format!("`{text}` cannot be written in windows-1252")));
                }
                Ok(bytes.into_owned())
            }
        }
    };
    let etr_ir::SourceFormat::Delimited { delimiter, quote } = &source.format;
    let delimiter = in_file_bytes(std::str::from_utf8(delimiter).map_err(|e| RuntimeError::Config(e.to_string()))?)?;
    Ok(SourceDialect {
        delimiter,
        quote: *quote,
        encoding,
        header_prefix: source.header.as_ref().map(|h| in_file_bytes(&h.prefix)).transpose()?,
        trailer_prefix: source.trailer.as_ref().map(|t| in_file_bytes(&t.prefix)).transpose()?,
        column_count: source.columns.len(),
    })
}

/// Columns worth dictionary-encoding: the codes (a handful of values, known from the spec).
/// Columns not worth statistics: text fields outside every unique key (names, addresses), whose
/// minimum and maximum no reader prunes on; key fields keep theirs for lookups in the lake.
/// How a run encodes its Parquet files for `program`: codes dictionary-encoded, free text outside
/// the unique keys without statistics (the accepted file also gets one encoder thread per worker).
pub fn parquet_options(program: &Program) -> ParquetOptions {
    let fields = &program.record.fields;
    let dictionary_columns =
        fields.iter().filter(|f| matches!(f.ty.kind, TypeKind::Code(_))).map(|f| f.name.clone()).collect();
    let in_a_key = |idx: usize| program.unique_checks.iter().any(|c| c.key.contains(&(idx as u32)));
    let no_statistics_columns = fields
        .iter()
        .enumerate()
        .filter(|(idx, f)| f.ty.kind == TypeKind::Text && !in_a_key(*idx))
        .map(|(_, f)| f.name.clone())
        .collect();
    ParquetOptions { dictionary_columns, no_statistics_columns, ..ParquetOptions::default() }
}

fn ms(since: Instant) -> f64 {
    (since.elapsed().as_secs_f64() * 1000.0 * 10.0).round() / 10.0
}

/// What the reader learnt about the file.
pub(crate) struct StreamFacts {
    header: Option<etr_interp::RawRecordLine>,
    trailer: Option<etr_interp::RawRecordLine>,
    data_lines: u64,
    ignored_trailing_lines: u64,
    bytes: u64,
    /// The blake3 hash, computed on a run's first pass only.
    input_hash: Option<String>,
    fingerprint: u128,
}

type WorkItem = (u64, RawBlock);
/// A block's split batch, its evaluation, and its lines' file offsets (see
/// [`RawBlock::line_offsets`]).
type WorkResult<T> = (u64, std::result::Result<(RawBatch, T, Vec<u64>), RuntimeError>);

/// Reads the file, evaluates its blocks on worker threads, and hands each result to `on_result`
/// in file order on the calling thread.
/// Which pass a stream is (for progress) and which columns its blocks need split (`None`: all).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sweep<'a> {
    pass: u8,
    passes: u8,
    columns: Option<&'a [bool]>,
}

/// `evaluate` runs on the worker threads, once per block, after the split.
pub(crate) fn stream<T: Send>(
    input: &Path,
    dialect: &SourceDialect,
    config: &RunConfig,
    sweep: Sweep<'_>,
    evaluate: &(dyn Fn(&RawBatch) -> std::result::Result<T, etr_interp::InterpError> + Sync),
    mut on_result: impl FnMut(u64, &RawBatch, &[u64], T) -> Result<()>,
) -> Result<StreamFacts> {
    let threads = config.threads.max(1);
    // Blocks in flight: enough to keep every worker busy while the writer catches up.
    let in_flight = threads * 2 + 2;
    let (token_tx, token_rx) = sync_channel::<()>(in_flight);
    for _ in 0..in_flight {
        token_tx.send(()).map_err(|_| RuntimeError::Internal("token channel closed".into()))?;
    }
    let (work_tx, work_rx) = sync_channel::<WorkItem>(in_flight);
    let work_rx = Arc::new(Mutex::new(work_rx));
    let (result_tx, result_rx) = sync_channel::<WorkResult<T>>(in_flight);

    std::thread::scope(|scope| -> Result<StreamFacts> {
        let reader = {
            let input = input.to_path_buf();
            let dialect = dialect.clone();
            // The content hash is for the summary: the first pass computes it, later passes only
            // prove they read the same bytes (the fingerprint).
            let reader_config = ReaderConfig { content_hash: sweep.pass == 1, ..config.reader.clone() };
            scope.spawn(move || read_blocks(&input, &dialect, reader_config, token_rx, work_tx))
        };
        for _ in 0..threads {
            let work_rx = Arc::clone(&work_rx);
            let result_tx: SyncSender<WorkResult<T>> = result_tx.clone();
            let dialect = dialect.clone();
            scope.spawn(move || evaluate_blocks(&work_rx, &result_tx, &dialect, sweep.columns, evaluate));
        }
        drop(result_tx);

        // Receive in any order, hand over in file order.
        let mut pending: BTreeMap<u64, (RawBatch, T, Vec<u64>)> = BTreeMap::new();
        let mut next = 0u64;
        let mut lines_done = 0u64;
        let mut failure: Option<RuntimeError> = None;
        for (seq, result) in result_rx.iter() {
            if failure.is_some() {
                let _ = token_tx.send(());
                continue;
            }
            match result {
                Ok(done) => {
                    pending.insert(seq, done);
                }
                Err(e) => {
                    failure = Some(e);
                    let _ = token_tx.send(());
                    continue;
                }
            }
            while let Some((batch, result, offsets)) = pending.remove(&next) {
                lines_done += batch.len() as u64;
                if let Err(e) = on_result(next, &batch, &offsets, result) {
                    failure = Some(e);
                }
                next += 1;
                // Returning the token lets the reader read one more block.
                let _ = token_tx.send(());
                if let Some(progress) = &config.progress {
                    progress(Progress { pass: sweep.pass, passes: sweep.passes, lines: lines_done });
                }
                if failure.is_some() {
                    break;
                }
            }
        }
        drop(token_tx);
        let facts = reader.join().map_err(|_| RuntimeError::Internal("the reader thread panicked".into()))?;
        if let Some(e) = failure {
            return Err(e);
        }
        let facts = facts?;
        if !pending.is_empty() {
            return Err(RuntimeError::Internal("blocks were left unwritten".into()));
        }
        Ok(facts)
    })
}

fn read_blocks(
    input: &Path,
    dialect: &SourceDialect,
    config: ReaderConfig,
    tokens: Receiver<()>,
    work: SyncSender<WorkItem>,
) -> Result<StreamFacts> {
    let file = std::fs::File::open(input).map_err(|e| RuntimeError::io("open", input, e))?;
    let mut reader = BlockReader::new(file, dialect, config)?.with_source_name(input);
    let mut seq = 0u64;
    loop {
        // Wait for room before reading: this is what bounds memory.
        if tokens.recv().is_err() {
            // The writer stopped (it failed): stop reading.
            return Err(RuntimeError::Internal("the writer stopped".into()));
        }
        match reader.next_block()? {
            Some(block) => {
                if work.send((seq, block)).is_err() {
                    return Err(RuntimeError::Internal("the workers stopped".into()));
                }
                seq += 1;
            }
            None => break,
        }
    }
    drop(work);
    let facts = reader.finish()?;
    Ok(StreamFacts {
        header: facts.header,
        trailer: facts.trailer,
        data_lines: facts.data_lines,
        ignored_trailing_lines: facts.ignored_trailing_lines,
        bytes: facts.bytes,
        input_hash: facts.input_hash,
        fingerprint: facts.fingerprint,
    })
}

fn evaluate_blocks<T>(
    work: &Mutex<Receiver<WorkItem>>,
    results: &SyncSender<WorkResult<T>>,
    dialect: &SourceDialect,
    wanted_columns: Option<&[bool]>,
    evaluate: &(dyn Fn(&RawBatch) -> std::result::Result<T, etr_interp::InterpError> + Sync),
) {
    loop {
        let item = match work.lock() {
            Ok(receiver) => receiver.recv(),
            Err(_) => return,
        };
        let Ok((seq, mut block)) = item else { return };
        let first_line = block.first_line_no();
        // A panic here is a bug, but it must end in a clear error and no output, not an abort of
        // the whole process with a partial folder: catch it and report it as an internal error.
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let batch = match wanted_columns {
                Some(wanted) => split_block_columns(&block, dialect, wanted),
                None => split_block(&block, dialect),
            };
            let offsets = block.take_line_offsets();
            evaluate(&batch).map(|result| (batch, result, offsets))
        }));
        let result = match outcome {
            Ok(Ok(done)) => Ok(done),
            Ok(Err(e)) => Err(RuntimeError::Internal(format!("evaluation failed: {e}"))),
            Err(panic) => {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".to_string());
                Err(RuntimeError::Internal(format!(
                    "the evaluator panicked on the block starting at line {first_line}: {what}"
                )))
            }
        };
        if results.send((seq, result)).is_err() {
            return;
        }
    }
}

/// Row-level fatal violations (`else fail`, fatal row checks), as summary entries.
fn collect_row_fatal(result: &BatchResult, into: &mut BTreeSet<(u32, String)>) {
    for violation in &result.fatal {
        into.insert((violation.rule, violation.target.to_string()));
    }
}

/// The file-level outcome: every file check's outcome, and the fatal reasons in rule order.
struct FileVerdict {
    outcomes: Vec<FileCheckOutcome>,
    fatal: Vec<String>,
}

impl FileVerdict {
    fn new(program: &Program, outcomes: Vec<FileCheckOutcome>, row_fatal: BTreeSet<(u32, String)>) -> FileVerdict {
        let mut fatal = Vec::new();
        // A check's own severity decides (a zone `fatal above 5%` of a reject rule is fatal).
        for (check, outcome) in program.file_checks.iter().zip(&outcomes) {
            if !outcome.passed && check.severity == RuleSeverity::Fatal {
                fatal.push(format!("{} {}", program.rule_id(outcome.rule), outcome.target));
            }
        }
        for (rule, target) in row_fatal {
            let entry = format!("{} {}", program.rule_id(rule), target);
            if !fatal.contains(&entry) {
                fatal.push(entry);
            }
        }
        FileVerdict { outcomes, fatal }
    }
}

/// Every rule's statistics over the file, for the summary.
fn rule_stats(
    program: &Program,
    check_stats: &[CheckStats],
    outcomes: &[FileCheckOutcome],
    counts: &Counts,
    lines_read: u64,
) -> BTreeMap<String, RuleStats> {
    let mut stats = BTreeMap::new();
    for (idx, rule) in program.rules.iter().enumerate() {
        let idx = idx as u32;
        let mostly = rule.mostly.map_or(1.0, |m| m.0);
        let mut considered = 0;
        let mut unexpected = 0;
        let mut missing = 0;
        let mut file_checks_pass = true;
        let mut observed = serde_json::Value::Null;
        let mut value_counts = None;
        let mut observed_values = Vec::new();
        let mut scope = "raised";
        for (check, stat) in program.row_checks.iter().zip(check_stats) {
            if check.rule == idx {
                scope = "row";
                considered += stat.considered;
                unexpected += stat.unexpected;
                missing += stat.missing;
            }
        }
        // Zones are about the file, not the rule's own rows: they do not count here.
        for (check, outcome) in
            program.file_checks.iter().zip(outcomes).filter(|(c, o)| o.rule == idx && c.zone.is_none())
        {
            scope = "file";
            considered += 1;
            if !outcome.passed {
                unexpected += 1;
                file_checks_pass = false;
            }
            let kind = observed_kind(&check.condition).unwrap_or(TypeKind::Null);
            observed_values
                .push(outcome.observed.as_ref().map_or(serde_json::Value::Null, |v| scalar_json(program, kind, v)));
            if observed.is_null() {
                observed = outcome.observed.as_ref().map_or(serde_json::Value::Null, |v| scalar_json(program, kind, v));
                let element = match kind {
                    TypeKind::List(of) => of.kind(),
                    other => other,
                };
                value_counts = outcome.value_counts.as_ref().map(|pairs| {
                    pairs
                        .iter()
                        .map(|(v, n)| serde_json::json!({ "value": scalar_json(program, element, v), "count": n }))
                        .collect()
                });
            }
        }
        for (check, (seen, broken)) in program.order_checks.iter().zip(&counts.order_stats) {
            if check.rule == idx {
                scope = "dataset";
                considered += seen;
                unexpected += broken;
            }
        }
        for (check, (seen, null_keys)) in program.unique_checks.iter().zip(&counts.unique_stats) {
            if check.rule == idx {
                scope = "dataset";
                considered += seen;
                missing += null_keys;
            }
        }
        if program.unique_checks.iter().any(|c| c.rule == idx) {
            unexpected += counts.per_rule.get(&rule.id).copied().unwrap_or(0);
        }
        if scope == "raised" {
            // Raised by handlers or the source's structural checks: every line could raise it.
            considered = lines_read;
            unexpected = counts.per_rule.get(&rule.id).copied().unwrap_or(0)
                + counts.warnings.get(&rule.id).copied().unwrap_or(0);
        }
        let passing_share_ok =
            considered == 0 || (considered - unexpected.min(considered)) as f64 / considered as f64 >= mostly;
        let unexpected_percent = if considered == 0 { 0.0 } else { unexpected as f64 / considered as f64 * 100.0 };
        stats.insert(
            rule.id.clone(),
            RuleStats {
                severity: rule.severity.as_str().to_string(),
                scope: scope.to_string(),
                considered,
                unexpected_count: unexpected,
                unexpected_percent,
                missing_count: missing,
                mostly,
                success: file_checks_pass && passing_share_ok,
                observed_value: observed,
                value_counts,
                observed_values: if observed_values.len() > 1 { observed_values } else { Vec::new() },
            },
        );
    }
    stats
}

fn scalar_json(program: &Program, kind: TypeKind, value: &Scalar) -> serde_json::Value {
    use serde_json::Value;
    match (value, kind) {
        (Scalar::Null, _) => Value::Null,
        (Scalar::Bool(b), _) => Value::Bool(*b),
        // Money is shown in sen, as it is held: exact.
        (Scalar::Int(i), _) => Value::from(*i),
        (Scalar::Number(n), _) => serde_json::Number::from_f64(*n).map_or(Value::Null, Value::Number),
        (Scalar::List(items), TypeKind::List(of)) => {
            Value::Array(items.iter().map(|item| scalar_json(program, of.kind(), item)).collect())
        }
        (other, kind) => etr_interp::render_scalar(program, kind, other).map_or(Value::Null, Value::String),
    }
}

/// The type of the first aggregate a file check reads (what its observed value is).
fn observed_kind(expr: &etr_ir::Expr) -> Option<TypeKind> {
    etr_ir::ensure_sufficient_stack(|| {
        use etr_ir::ExprKind as K;
        match &expr.kind {
            K::Aggregate(_) | K::Call { function: etr_ir::Builtin::HeaderValues, .. } => Some(expr.ty.kind),
            K::Unary(_, e) | K::IsNull { operand: e, .. } | K::InList { operand: e, .. } => observed_kind(e),
            K::Binary(_, a, b) | K::Coalesce(a, b) => observed_kind(a).or_else(|| observed_kind(b)),
            K::If { condition, then_branch, else_branch } => {
                observed_kind(condition).or_else(|| observed_kind(then_branch)).or_else(|| observed_kind(else_branch))
            }
            K::Call { args, .. } => args.iter().find_map(observed_kind),
            K::Fallible { op: etr_ir::FallibleOp::Call { args, .. }, .. } => args.iter().find_map(observed_kind),
            K::Match { scrutinee, .. } => observed_kind(scrutinee),
            _ => None,
        }
    })
}

/// A value of an ordering check, from a field's internal array.
#[derive(Debug, Clone, PartialEq)]
enum OrderValue {
    Int(i64),
    Number(f64),
    Date(i32),
    Text(String),
}

impl OrderValue {
    fn of(array: &dyn arrow::array::Array, row: usize) -> Option<OrderValue> {
        use arrow::array::{AsArray, Date32Array, Float64Array, Int64Array};
        if row >= array.len() || array.is_null(row) {
            return None;
        }
        let any = array.as_any();
        if let Some(a) = any.downcast_ref::<Int64Array>() {
            return Some(OrderValue::Int(a.value(row)));
        }
        if let Some(a) = any.downcast_ref::<Float64Array>() {
            return Some(OrderValue::Number(a.value(row)));
        }
        if let Some(a) = any.downcast_ref::<Date32Array>() {
            return Some(OrderValue::Date(a.value(row)));
        }
        if let Some(a) = array.as_string_view_opt() {
            return Some(OrderValue::Text(a.value(row).to_string()));
        }
        array.as_string_opt::<i32>().map(|a| OrderValue::Text(a.value(row).to_string()))
    }

    fn cmp_to(&self, other: &OrderValue) -> std::cmp::Ordering {
        use std::cmp::Ordering;
        match (self, other) {
            (OrderValue::Int(a), OrderValue::Int(b)) => a.cmp(b),
            (OrderValue::Number(a), OrderValue::Number(b)) => a.partial_cmp(b).unwrap_or(Ordering::Equal),
            (OrderValue::Date(a), OrderValue::Date(b)) => a.cmp(b),
            (OrderValue::Text(a), OrderValue::Text(b)) => a.cmp(b),
            _ => Ordering::Equal,
        }
    }
}

impl OrderValue {
    /// The value as the rejects show it, rendered like every other value of its type.
    fn render(&self, program: &Program, kind: TypeKind) -> String {
        let scalar = match self {
            OrderValue::Int(v) => Scalar::Int(*v),
            OrderValue::Number(v) => Scalar::Number(*v),
            OrderValue::Date(days) => Scalar::Date(*days),
            OrderValue::Text(v) => Scalar::Text(v.as_str().into()),
        };
        etr_interp::render_scalar(program, kind, &scalar).unwrap_or_default()
    }
}

#[derive(Default)]
struct Counts {
    /// Per ordering check: the previous non-null value in file order.
    order_prev: Vec<Option<OrderValue>>,
    /// Per ordering check: values considered, and values that broke it.
    order_stats: Vec<(u64, u64)>,
    /// Per unique check: candidate lines with a key, and candidate lines whose key is all null.
    unique_stats: Vec<(u64, u64)>,
    accepted: u64,
    rejected_lines: u64,
    per_rule: BTreeMap<String, u64>,
    warnings: BTreeMap<String, u64>,
    info: BTreeMap<String, u64>,
}

impl Counts {
    /// Zero counts, sized for `program`'s dataset checks up front, so that a check's statistics
    /// exist (and its summary scope is `dataset`) even when no line reached it.
    fn new(program: &Program) -> Counts {
        Counts {
            order_prev: vec![None; program.order_checks.len()],
            order_stats: vec![(0, 0); program.order_checks.len()],
            unique_stats: vec![(0, 0); program.unique_checks.len()],
            ..Counts::default()
        }
    }
}

struct WrittenBatch {
    /// Every line's output record; the accepted ones are where `keep` is true.
    accepted: RecordBatch,
    keep: arrow::array::BooleanArray,
    rejects: RecordBatch,
    warnings: RecordBatch,
    /// The batch's rows of the contributor feedback file (CSV, file order).
    feedback: String,
}

/// The contributor feedback file's name in the output folder.
pub const FEEDBACK_FILE: &str = "feedback.csv";

/// The header of `feedback.csv`: what a contributor needs to fix a line, in their own terms.
const FEEDBACK_HEADER: &str = "line,rule,severity,field,value,message,raw_line\n";

/// Appends one CSV record (RFC 4180: fields quoted when they hold a comma, quote or line break).
///
/// A contributor opens this file in a spreadsheet, which runs a cell starting with `=`, `+`, `-`,
/// `@`, a tab or a CR as a formula (`=HYPERLINK(...)` in a raw line would become a live link). Such
/// a cell is written with a leading `'`, which spreadsheets show as text and hide; a plain signed
/// number (`-12.50`) is no formula and stays as it is.
fn feedback_row(out: &mut String, row: &ViolationRow<'_>) {
    use std::fmt::Write as _;
    let _ = write!(out, "{},", row.line_no);
    for (i, field) in [row.rule, row.severity.as_str(), row.field, row.value.unwrap_or(""), row.message, row.raw_line]
        .iter()
        .enumerate()
    {
        if i > 0 {
            out.push(',');
        }
        let guard = if spreadsheet_formula(field) { "'" } else { "" };
        if field.contains([',', '"', '\n', '\r']) {
            out.push('"');
            out.push_str(guard);
            out.push_str(&field.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(guard);
            out.push_str(field);
        }
    }
    out.push('\n');
}

/// Whether a spreadsheet would read the cell as a formula (see [`feedback_row`]).
fn spreadsheet_formula(cell: &str) -> bool {
    let Some(first) = cell.chars().next() else { return false };
    match first {
        '=' | '@' | '\t' | '\r' => true,
        '+' | '-' => {
            let rest = &cell[1..];
            !rest.bytes().all(|b| b.is_ascii_digit() || b == b'.' || b == b',')
        }
        _ => false,
    }
}

/// Decides every line of a batch (accepted, rejected, duplicate) and builds its output rows.
fn write_batch(
    program: &Program,
    interpreter: &Interpreter,
    duplicates: &[hashbrown::HashSet<u64>],
    batch: &RawBatch,
    result: &BatchResult,
    counts: &mut Counts,
) -> Result<WrittenBatch> {
    let rows = batch.len();
    let mut keep = vec![false; rows];
    let mut duplicate_of: Vec<Option<usize>> = vec![None; rows];
    // Per row, the ordering checks it broke, with the offending value.
    let mut order_broken: Vec<Vec<(usize, String)>> = vec![Vec::new(); rows];
    for row in 0..rows {
        if result.rejected[row] {
            continue;
        }
        for (c, check) in program.unique_checks.iter().enumerate() {
            if !takes_part(&result.unique_when, c, row) {
                continue;
            }
            if key_is_null(check, result, row) {
                counts.unique_stats[c].1 += 1;
            } else {
                counts.unique_stats[c].0 += 1;
            }
        }
        // The lines a check rejects are known by number; they all took part with a key.
        duplicate_of[row] = (0..program.unique_checks.len()).find(|&c| duplicates[c].contains(&batch.line_nos[row]));
        let mut reject_order = false;
        for (c, check) in program.order_checks.iter().enumerate() {
            if !takes_part(&result.order_when, c, row) {
                continue;
            }
            let Some(value) = result.fields.get(check.field as usize).and_then(|a| OrderValue::of(a.as_ref(), row))
            else {
                continue;
            };
            counts.order_stats[c].0 += 1;
            if let Some(previous) = &counts.order_prev[c] {
                let ordering = value.cmp_to(previous);
                let broken = match (check.descending, check.strict) {
                    (false, false) => ordering == std::cmp::Ordering::Less,
                    (false, true) => ordering != std::cmp::Ordering::Greater,
                    (true, false) => ordering == std::cmp::Ordering::Greater,
                    (true, true) => ordering != std::cmp::Ordering::Less,
                };
                if broken {
                    counts.order_stats[c].1 += 1;
                    let kind = program.record.fields.get(check.field as usize).map_or(TypeKind::Null, |f| f.ty.kind);
                    order_broken[row].push((c, value.render(program, kind)));
                    reject_order |= program.rules[check.rule as usize].severity == RuleSeverity::Reject;
                }
            }
            counts.order_prev[c] = Some(value);
        }
        keep[row] = duplicate_of[row].is_none() && !reject_order;
    }
    let mut rejects = ViolationRowsBuilder::new();
    let mut warnings = ViolationRowsBuilder::new();
    let mut feedback = String::new();
    let raw_line = |row: usize| batch.lines.value(row);
    let mut violations = result.violations.iter().peekable();
    for row in 0..rows {
        let line_no = batch.line_nos[row];
        let mut rejected_here = false;
        // Every finding on the line, in the order the spec raises them: row violations, then the
        // uniqueness verdict, then the ordering checks.
        let mut findings: Vec<(u32, &str, Option<&str>)> = Vec::new();
        while let Some(v) = violations.next_if(|v| v.row as usize == row) {
            findings.push((v.rule, &v.target, v.value.as_deref()));
        }
        if let Some(c) = duplicate_of[row] {
            let check = &program.unique_checks[c];
            findings.push((check.rule, &check.target, None));
        }
        for (c, value) in &order_broken[row] {
            let check = &program.order_checks[*c];
            findings.push((check.rule, &check.target, Some(value)));
        }
        for (rule_idx, target, value) in findings {
            let rule = &program.rules[rule_idx as usize];
            let (severity, builder) = match rule.severity {
                RuleSeverity::Reject => (Severity::Reject, &mut rejects),
                RuleSeverity::Warn if keep[row] => (Severity::Warn, &mut warnings),
                RuleSeverity::Info if keep[row] => {
                    *counts.info.entry(rule.id.clone()).or_insert(0) += 1;
                    continue;
                }
                // Fatal row violations are reported in the summary; warnings on lines that are
                // not loaded are not counted (they are about accepted data).
                _ => continue,
            };
            if severity == Severity::Reject {
                rejected_here = true;
                *counts.per_rule.entry(rule.id.clone()).or_insert(0) += 1;
            } else {
                *counts.warnings.entry(rule.id.clone()).or_insert(0) += 1;
            }
            let violation = ViolationRow {
                line_no,
                rule: &rule.id,
                severity,
                field: target,
                value,
                message: &rule.message,
                raw_line: raw_line(row),
            };
            feedback_row(&mut feedback, &violation);
            builder.append(violation);
        }
        if rejected_here {
            counts.rejected_lines += 1;
        } else if result.rejected[row] {
            return Err(RuntimeError::Internal(format!("line {line_no} is rejected without a reason")));
        } else {
            counts.accepted += 1;
        }
    }
    let accepted = interpreter
        .output_record(batch, result)
        .map_err(|e| RuntimeError::Internal(format!("building the accepted batch: {e}")))?;
    Ok(WrittenBatch {
        accepted,
        keep: arrow::array::BooleanArray::from(keep),
        rejects: rejects.finish()?,
        warnings: warnings.finish()?,
        feedback,
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

    /// Finding 20 of issue 13: values such as `=HYPERLINK(...)` reached `feedback.csv` as they
    /// were, a live formula once a contributor opens it in a spreadsheet.
    #[test]
    fn feedback_cells_never_start_a_formula() {
        let row = |value: &'static str, raw_line: &'static str| {
            let mut out = String::new();
            let row = ViolationRow {
                line_no: 7,
                rule: "R2",
                severity: Severity::Reject,
                field: "open_date",
                value: Some(value),
                message: "not a date",
                raw_line,
            };
            feedback_row(&mut out, &row);
            out
        };
        assert_eq!(
            row("=HYPERLINK(\"http://x\",\"y\")", "@SUM(A1)|b"),
            "7,R2,REJECT,open_date,\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",not a date,'@SUM(A1)|b\n"
        );
        assert_eq!(row("+1+cmd", "\tx"), "7,R2,REJECT,open_date,'+1+cmd,not a date,'\tx\n");
        assert_eq!(row("-12.50", "-"), "7,R2,REJECT,open_date,-12.50,not a date,-\n");
        assert_eq!(row("-1,000.00", "a=b"), "7,R2,REJECT,open_date,\"-1,000.00\",not a date,a=b\n");
        assert_eq!(row("", "\r=1"), "7,R2,REJECT,open_date,,not a date,\"'\r=1\"\n");
    }
}
