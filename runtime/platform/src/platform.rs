//! A file's path from arrival to its outcome: received (archived, then recorded in the ledger),
//! claimed by a worker, run by the engine, published to the lake, and its end recorded.
//!
//! The order of the steps is what makes a crash at any moment safe:
//! - a file is archived (synced, renamed under its hash) before the ledger hears of it, so every
//!   run in the ledger has its bytes; a file archived but never recorded is simply received again;
//! - a worker claims a run under a lease, renewed while it works; if it dies, the lease expires
//!   and another worker takes the run from the start (the engine's output folder is replaced as a whole, the lake's
//!   publication is idempotent per table);
//! - the lake is committed before the ledger says `published`: a crash between the two leaves the
//!   run `running`, and the next attempt finds the run in the lake and commits nothing again;
//! - a worker may run the engine on one run while it publishes the one before
//!   (`drain_pipelined`): each run keeps its own lease, and publications stay one at a time in
//!   claim order;
//! - the lake decides which of two files of one contributor-month is newer (the ledger's arrival
//!   order, carried in the data files' names), so a late older file ends `superseded`, never
//!   published over a newer one.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use etr_lake::{Lake, PublishRequest, RecordField, RunRow};
use etr_ledger::{ContentHash, Filter, Lease, Ledger, NewFile, Outcome, RetryPolicy, Run, RunId, Source};
use etr_runtime::NativeBackend;
use etr_runtime::pipeline::{Engine, RunConfig};

use crate::archive::{Archive, Stored};
use crate::archive_bucket::ArchiveBucket;
use crate::config::Workspace;

/// Compiles a contributor's spec. The CLI supplies it (it owns the compiler's database), so the
/// platform does not link the front end.
pub trait SpecCompiler: Send + Sync {
    /// The program and the hash of every text it came from, or the spec's errors as text.
    fn compile(&self, spec: &Path) -> Result<CompiledSpec, String>;
}

/// A compiled spec.
#[derive(Clone)]
pub struct CompiledSpec {
    pub program: Arc<etr_ir::Program>,
    pub spec_hash: String,
}

/// How the engine runs files.
#[derive(Clone)]
pub struct EngineSettings {
    pub engine: Engine,
    pub native_backend: Option<Arc<dyn NativeBackend>>,
    pub threads: usize,
}

impl Default for EngineSettings {
    fn default() -> Self {
        EngineSettings { engine: Engine::Interp, native_backend: None, threads: RunConfig::default().threads }
    }
}

/// Why a file was not received. Nothing of it is recorded.
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error("no contributor `{0}` in the workspace")]
    UnknownContributor(String),
    #[error("`{name}` is not a file name {contributor} sends: {reason}")]
    BadName { contributor: String, name: String, reason: String },
    #[error("the file is empty")]
    Empty,
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("the ledger: {0}")]
    Ledger(#[from] etr_ledger::LedgerError),
}

/// A failure of the platform itself (not of a contributor's file).
#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    #[error("the ledger: {0}")]
    Ledger(#[from] etr_ledger::LedgerError),
    #[error("the lake: {0}")]
    Lake(#[from] etr_lake::LakeError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// The workspace with its ledger, lake and archive open.
pub struct Platform {
    pub workspace: Workspace,
    pub ledger: Ledger,
    pub lake: Lake,
    pub archive: Archive,
    /// The archive's copy in a bucket, when the workspace names one.
    pub archive_bucket: Option<ArchiveBucket>,
    compiler: Arc<dyn SpecCompiler>,
    engine: EngineSettings,
    /// Compiled specs by path, with the modification time they were compiled at: a spec edited
    /// while `etr serve` runs is compiled again for the next run.
    specs: Mutex<HashMap<PathBuf, (Option<SystemTime>, CompiledSpec)>>,
}

/// What happened to a run a worker took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Processed {
    pub run: RunId,
    pub state: etr_ledger::RunState,
    pub detail: Option<String>,
}

impl Platform {
    /// Opens the workspace's ledger, lake and archive, creating what is missing.
    pub async fn open(
        workspace: Workspace,
        compiler: Arc<dyn SpecCompiler>,
        engine: EngineSettings,
    ) -> Result<Platform, PlatformError> {
        std::fs::create_dir_all(workspace.root.join("state"))?;
        if let crate::config::LedgerLocation::Sqlite(path) = &workspace.ledger
            && let Some(parent) = path.parent()
        {
            std::fs::create_dir_all(parent)?;
        }
        let ledger = Ledger::open(&workspace.ledger.url()).await?;
        let lake = Lake::open(&workspace.lake).await?;
        let archive = Archive::open(&workspace.archive)?;
        let archive_bucket = match &workspace.archive_bucket {
            Some(bucket) => Some(
                ArchiveBucket::new(bucket)
                    .map_err(|e| std::io::Error::other(format!("the archive bucket {}: {e}", bucket.bucket)))?,
            ),
            None => None,
        };
        Ok(Platform {
            workspace,
            ledger,
            lake,
            archive,
            archive_bucket,
            compiler,
            engine,
            specs: Mutex::new(HashMap::new()),
        })
    }

    /// The reporting month a contributor's file name gives, or why the name is refused: not one
    /// of the contributor's names, or a name that is a path.
    pub fn check_name(&self, contributor: &str, name: &str) -> Result<etr_ledger::Month, IntakeError> {
        let who = self
            .workspace
            .contributor(contributor)
            .ok_or_else(|| IntakeError::UnknownContributor(contributor.to_owned()))?;
        let bad = |reason: String| IntakeError::BadName {
            contributor: contributor.to_owned(),
            name: name.to_owned(),
            reason,
        };
        if name.is_empty() || name.contains('/') || name.contains('\\') || name.contains("..") || name.starts_with('.')
        {
            return Err(bad("a file name, not a path: no `/`, `\\` or `..`, and not hidden".into()));
        }
        let month = who
            .files
            .month_of(name)
            .ok_or_else(|| bad(format!("it does not match the pattern `{}`", who.files.as_str())))?;
        etr_ledger::Month::new(month.year as u16, month.month as u8)
            .ok_or_else(|| bad(format!("{month} is not a month")))
    }

    /// Receives a file from disk: archived, then recorded as a run. The file itself is left as it is.
    pub async fn receive_path(&self, contributor: &str, path: &Path, source: Source) -> Result<Run, IntakeError> {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
        self.receive_named(contributor, path, &name, source).await
    }

    /// Receives the file at `path` as the file `name` (the watcher reads a file it has set aside
    /// under a name of its own).
    pub async fn receive_named(
        &self,
        contributor: &str,
        path: &Path,
        name: &str,
        source: Source,
    ) -> Result<Run, IntakeError> {
        let name = name.to_owned();
        let month = self.check_name(contributor, &name)?;
        let archive = self.archive.clone();
        let source_path = path.to_owned();
        let stored = tokio::task::spawn_blocking(move || archive.store_file(&source_path))
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))??;
        self.record(contributor, &name, month, stored, source).await
    }

    /// Receives a run's archived file again as a new run (`Source::Replay`): it is run under the
    /// spec of today and, when published, replaces the month in the lake like any newer file.
    pub async fn replay(&self, run: RunId) -> Result<Run, IntakeError> {
        let original = self.ledger.get(run).await?;
        if !self.ensure_in_archive_folder(&original.archive_key).await? {
            return Err(IntakeError::Io(std::io::Error::other(format!(
                "{run}'s file is not in the archive ({})",
                original.archive_key
            ))));
        }
        let file = NewFile {
            contributor: original.contributor,
            file_name: original.file_name,
            content_hash: original.content_hash,
            size_bytes: original.size_bytes,
            source: Source::Replay,
            archive_key: original.archive_key,
            reporting_month: original.reporting_month,
        };
        Ok(self.ledger.receive(&file).await?)
    }

    /// Records a file already in the archive as a run.
    pub async fn record(
        &self,
        contributor: &str,
        name: &str,
        month: etr_ledger::Month,
        stored: Stored,
        source: Source,
    ) -> Result<Run, IntakeError> {
        if stored.size == 0 {
            return Err(IntakeError::Empty);
        }
        // In the bucket before the ledger hears of it: a worker elsewhere can then run it.
        if let Some(bucket) = &self.archive_bucket {
            bucket.put(&stored, &self.archive.path_of(&stored.key)).await?;
        }
        let content_hash = stored.hash.parse::<ContentHash>().map_err(|e| std::io::Error::other(e.to_string()))?;
        let file = NewFile {
            contributor: contributor.to_owned(),
            file_name: name.to_owned(),
            content_hash,
            size_bytes: stored.size,
            source,
            archive_key: stored.key,
            reporting_month: Some(month),
        };
        Ok(self.ledger.receive(&file).await?)
    }

    /// Whether the file of `archive_key` is in the archive folder, fetching it from the archive's
    /// bucket when it is not (a file received on another machine).
    async fn ensure_in_archive_folder(&self, archive_key: &str) -> std::io::Result<bool> {
        if self.archive.path_of(archive_key).is_file() {
            return Ok(true);
        }
        match &self.archive_bucket {
            Some(bucket) => bucket.fetch(archive_key, &self.archive).await,
            None => Ok(false),
        }
    }

    fn retry_policy(&self) -> RetryPolicy {
        RetryPolicy {
            max_attempts: self.workspace.worker.max_attempts,
            base_delay: Duration::from_secs(5),
            max_delay: Duration::from_secs(600),
        }
    }

    fn lease(&self) -> Duration {
        Duration::from_secs(self.workspace.worker.lease_seconds)
    }

    /// Claims one run and takes it to its end; `None` when nothing is claimable now.
    pub async fn work_one(&self, worker: &str) -> Result<Option<Processed>, PlatformError> {
        match self.claim_and_run(worker).await? {
            None => Ok(None),
            Some(Stage::Ended(processed)) => Ok(Some(processed)),
            Some(Stage::ToPublish(held)) => self.publish_and_settle(*held).await.map(Some),
        }
    }

    /// Claims a run and runs the engine on it; what remains is its publication, unless the run
    /// ended on the way (refused, duplicate) or failed (recorded, to be retried).
    async fn claim_and_run(&self, worker: &str) -> Result<Option<Stage>, PlatformError> {
        let Some(lease) = self.ledger.claim(worker, self.lease()).await? else { return Ok(None) };
        match self.renewing(&lease, self.run_engine(&lease)).await {
            Ok(Ran::ToPublish(ran)) => Ok(Some(Stage::ToPublish(Box::new((lease, *ran))))),
            Ok(Ran::Ended) => Ok(Some(Stage::Ended(self.settle(&lease, Ok(())).await?))),
            Err(error) => Ok(Some(Stage::Ended(self.settle(&lease, Err(error)).await?))),
        }
    }

    /// The second stage of a claimed run, under its lease, and its end recorded.
    async fn publish_and_settle(&self, (lease, ran): (Lease, EngineRun)) -> Result<Processed, PlatformError> {
        let result = self.renewing(&lease, self.publish_run(&lease, ran)).await;
        self.settle(&lease, result).await
    }

    /// Runs `work` while renewing `lease`: a file that takes longer than the lease would otherwise
    /// be claimed by a second worker, which would do it all again and make this worker's end fail
    /// as `LeaseLost`. A worker that dies stops renewing, and its run comes back one lease later.
    async fn renewing<T>(&self, lease: &Lease, work: impl std::future::Future<Output = T>) -> T {
        let mut renewing = lease.clone();
        let every = self.lease() / 3;
        tokio::pin!(work);
        loop {
            tokio::select! {
                result = &mut work => return result,
                () = tokio::time::sleep(every) => {
                    // A failed renewal is not the attempt's end: the fenced finish tells whether
                    // the run is still this worker's.
                    let _ = self.ledger.renew(&mut renewing, self.lease()).await;
                }
            }
        }
    }

    /// Records a failed attempt (the platform's own failure: a lake or disk error, tried again
    /// later), and reads where the run ended.
    async fn settle(&self, lease: &Lease, result: Result<(), ProcessError>) -> Result<Processed, PlatformError> {
        if let Err(error) = result {
            self.ledger.fail(lease, &error.to_string(), &self.retry_policy()).await?;
        }
        let run = lease.run_id();
        let after = self.ledger.get(run).await?;
        Ok(Processed { run, state: after.state, detail: after.detail })
    }

    /// Works until no run is claimable, as [`Platform::drain`], with the engine of each run
    /// overlapping the lake's publication of the one before: one worker, two stages. The
    /// publications stay in claim order, one at a time, so a contributor-month's newer file is
    /// never published before an older one it supersedes (the lake would still tell them apart).
    /// Each run keeps its own lease, renewed while either stage holds it; a crash leaves at most
    /// two runs `running`, each taken again when its lease expires.
    pub async fn drain_pipelined(&self, worker: &str) -> Result<Vec<Processed>, PlatformError> {
        let mut done = Vec::new();
        let mut publishing: Option<Box<(Lease, EngineRun)>> = None;
        loop {
            let had_publication = publishing.is_some();
            let publication = async {
                match publishing.take() {
                    Some(held) => Some(self.publish_and_settle(*held).await),
                    None => None,
                }
            };
            let (published, next) = tokio::join!(publication, self.claim_and_run(worker));
            if let Some(published) = published {
                done.push(published?);
            }
            match next? {
                Some(Stage::ToPublish(held)) => publishing = Some(held),
                Some(Stage::Ended(processed)) => done.push(processed),
                // Nothing claimable, perhaps only until the publication just finished settled a
                // run another one waited for (an earlier copy of its content): ask once more.
                None if had_publication => {}
                None => return Ok(done),
            }
        }
    }

    /// Works until no run is claimable; returns what was done.
    pub async fn drain(&self, worker: &str) -> Result<Vec<Processed>, PlatformError> {
        let mut done = Vec::new();
        while let Some(processed) = self.work_one(worker).await? {
            done.push(processed);
        }
        Ok(done)
    }

    /// The runs of a contributor (all when `None`), newest first.
    pub async fn runs(&self, contributor: Option<&str>) -> Result<Vec<Run>, PlatformError> {
        let filter = Filter { contributor: contributor.map(str::to_owned), month: None, state: None, limit: None };
        Ok(self.ledger.list(&filter).await?)
    }

    fn compiled(&self, spec: &Path) -> Result<CompiledSpec, String> {
        let modified = std::fs::metadata(spec).and_then(|m| m.modified()).ok();
        if let Some((at, compiled)) = self.specs.lock().map_err(|_| "the spec cache is poisoned")?.get(spec)
            && *at == modified
        {
            return Ok(compiled.clone());
        }
        let compiled = self.compiler.compile(spec)?;
        self.specs
            .lock()
            .map_err(|_| "the spec cache is poisoned")?
            .insert(spec.to_owned(), (modified, compiled.clone()));
        Ok(compiled)
    }

    /// The first stage of an attempt at a claimed run: the checks and the engine. `Err` is the
    /// platform's failure (retried); a contributor's bad file ends the run here (refused) and is
    /// `Ok(Ran::Ended)`.
    async fn run_engine(&self, lease: &Lease) -> Result<Ran, ProcessError> {
        let run = lease.run().clone();
        let Some(contributor) = self.workspace.contributor(&run.contributor) else {
            self.ledger.refuse(lease, &format!("no contributor `{}` in the workspace", run.contributor)).await?;
            return Ok(Ran::Ended);
        };
        // A replay re-runs a file on purpose (a fixed spec, a lost lake): never a duplicate. Any
        // other copy of content already taken is one, even when a correction superseded it since:
        // a re-sent old file (or an ingest re-run after a crash) must not replace the correction.
        // The ledger only lets this run be claimed once every earlier copy has settled.
        if run.source != Source::Replay
            && let Some(earlier) = self.ledger.taken_with_hash(&run.contributor, &run.content_hash).await?
            && earlier.id != run.id
        {
            self.ledger.mark_duplicate(lease, earlier.id).await?;
            return Ok(Ran::Ended);
        }
        let Some(month) = run.reporting_month else {
            self.ledger.refuse(lease, "the file's name gives no reporting month").await?;
            return Ok(Ran::Ended);
        };
        let compiled = self.compiled(&contributor.spec).map_err(ProcessError::Spec)?;
        let input = self.archive.path_of(&run.archive_key);
        let present =
            self.ensure_in_archive_folder(&run.archive_key).await.map_err(|e| ProcessError::Message(e.to_string()))?;
        if !present {
            let elsewhere = match &self.archive_bucket {
                Some(bucket) => format!(" and from {}", bucket.location(&run.archive_key)),
                None => String::new(),
            };
            return Err(ProcessError::Message(format!("the archived file {} is missing{elsewhere}", input.display())));
        }
        let out = self.workspace.root.join("state/runs").join(run.id.to_string());
        let config = RunConfig {
            threads: self.engine.threads.max(1),
            spec_hash: compiled.spec_hash.clone(),
            engine: self.engine.engine,
            native_backend: self.engine.native_backend.clone(),
            // The run folder is the lake's source, copied and synced there before any commit
            // refers to it; a crash re-runs the run (its lease expires), so its own fsyncs (a
            // dozen per run) would buy nothing.
            durable: false,
            ..RunConfig::default()
        };
        let program = compiled.program.clone();
        let engine_out = out.clone();
        let summary =
            tokio::task::spawn_blocking(move || etr_runtime::pipeline::run(program, &input, &engine_out, &config))
                .await
                .map_err(|e| ProcessError::Message(format!("the engine's thread: {e}")))?
                .map_err(|e| ProcessError::Message(format!("the engine: {e}")))?;
        if !summary.fatal.is_empty() {
            self.ledger.refuse(lease, &fatal_reasons(&compiled.program, &summary)).await?;
            return Ok(Ran::Ended);
        }
        Ok(Ran::ToPublish(Box::new(EngineRun { compiled, summary, out, month })))
    }

    /// The second stage: the run's outputs published to the lake, and its end recorded.
    async fn publish_run(&self, lease: &Lease, ran: EngineRun) -> Result<(), ProcessError> {
        let EngineRun { compiled, summary, out, month } = ran;
        let run = lease.run().clone();
        let record = RecordField::of_record(&compiled.program.record);
        self.lake.ensure_tables(&record).await?;
        let warnings: u64 = summary.warnings.values().sum();
        let published_at_micros =
            SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_micros() as i64);
        let run_id = run.id.to_string();
        let request = PublishRequest {
            run_id: &run_id,
            run_seq: run.id.number(),
            contributor: &run.contributor,
            month: etr_lake::Month { year: i32::from(month.year()), month: u32::from(month.month()) },
            output: &out,
            run: RunRow {
                file_name: run.file_name.clone(),
                content_hash: run.content_hash.as_str().to_owned(),
                size_bytes: run.size_bytes as i64,
                lines_read: summary.lines_read as i64,
                accepted: summary.accepted as i64,
                rejected: summary.rejected as i64,
                warnings: warnings as i64,
                spec_hash: summary.spec_hash.clone(),
                published_at_micros,
            },
        };
        let published = self.lake.publish(&request).await?;
        if let Some(newer) = published.superseded_by {
            let newer: RunId =
                newer.parse().map_err(|e: etr_ledger::ParseError| ProcessError::Message(e.to_string()))?;
            self.ledger.mark_superseded(lease, newer).await?;
            return Ok(());
        }
        let outcome = Outcome {
            lines: summary.lines_read,
            accepted: summary.accepted,
            rejected: summary.rejected,
            warnings,
            lake_snapshot: published.records_snapshot,
            reporting_month: Some(month),
        };
        self.ledger.publish(lease, &outcome).await?;
        Ok(())
    }
}

/// The reasons a file was fatal, as a contributor reads them: each fatal rule's id and message,
/// with what it observed (`F2: the trailer's record count differs from the data lines (observed
/// 1000)`). The summary lists `<rule> <what failed>`; the rule's words come from the spec.
fn fatal_reasons(program: &etr_ir::Program, summary: &etr_runtime::output::Summary) -> String {
    let reasons: Vec<String> = summary
        .fatal
        .iter()
        .map(|entry| {
            let id = entry.split_whitespace().next().unwrap_or(entry);
            let message = program.rules.iter().find(|r| r.id == id).map(|r| r.message.as_str());
            let observed = summary
                .rules
                .get(id)
                .map(|r| &r.observed_value)
                .filter(|v| !v.is_null())
                .map(|v| format!(" (observed {v})"));
            match message {
                Some(message) => format!("{id}: {message}{}", observed.unwrap_or_default()),
                None => entry.clone(),
            }
        })
        .collect();
    reasons.join("; ")
}

/// Where the first stage of an attempt left a run.
enum Ran {
    /// It ended there (refused, duplicate): nothing to publish.
    Ended,
    /// The engine's outputs, to be published.
    ToPublish(Box<EngineRun>),
}

/// A run the engine has done, waiting for its publication.
struct EngineRun {
    compiled: CompiledSpec,
    summary: etr_runtime::output::Summary,
    /// The engine's output folder.
    out: PathBuf,
    month: etr_ledger::Month,
}

/// What [`Platform::drain_pipelined`]'s first stage hands over.
enum Stage {
    /// Claimed and run by the engine: its publication is next.
    ToPublish(Box<(Lease, EngineRun)>),
    /// Claimed and ended without a publication (or failed, to be retried).
    Ended(Processed),
}

/// Why an attempt failed (the run is retried).
#[derive(Debug, thiserror::Error)]
enum ProcessError {
    #[error("the spec does not compile: {0}")]
    Spec(String),
    #[error("the ledger: {0}")]
    Ledger(#[from] etr_ledger::LedgerError),
    #[error("the lake: {0}")]
    Lake(#[from] etr_lake::LakeError),
    #[error("{0}")]
    Message(String),
}

/// The engine's output folder of a run, for reports and `etr replay`.
pub fn run_output(workspace: &Workspace, run: RunId) -> PathBuf {
    workspace.root.join("state/runs").join(run.to_string())
}
