//! The platform's one-shot commands: `etr init` writes a workspace, `etr ingest` takes files
//! through the whole path (archive, ledger, engine, lake) and waits for their end, `etr runs` lists
//! the ledger, `etr replay` runs an archived file again.
//!
//! Exit codes of `etr ingest` and `etr replay`, for orchestrators (Airflow, cron, scripts):
//! - 0: every file ended published, a duplicate of a published file, or superseded by a newer one;
//! - 2: usage or configuration (a bad flag, an `etr.yaml` that does not load);
//! - 3: an input was refused at the door (unreadable, a name the contributor does not send, empty);
//! - 4: a file was refused by its spec (fatal: a bad trailer, an encoding the spec refuses);
//! - 5: internal (the ledger, the lake or the disk failed; the run is retried by the next worker).
//!
//! The worst outcome decides: a fatal file and an internal failure in one call exit 5.
//!
//! `etr ingest --resume` (no files) works on the queue until no run is open. Re-running a killed
//! `etr ingest` is safe: docs/platform.md, "Crash safety", says what each kill point leaves.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use etr_ledger::{RunId, RunState, Source};
use etr_platform::{EngineSettings, IntakeError, Platform, Workspace};

use crate::platform_compiler::CliCompiler;

pub(crate) const EXIT_CONFIG: u8 = 2;
pub(crate) const EXIT_INPUT: u8 = 3;
const EXIT_FATAL: u8 = 4;
pub(crate) const EXIT_INTERNAL: u8 = 5;

/// The JCL spec and its committed 1,000-line sample, the example `etr init --sample` writes.
const EXAMPLE_SPEC: &str = include_str!("../../../contributors/jcl.etr");
const EXAMPLE_FILE: &str = include_str!("../../../tests/corpus/w1/jcl_1k/input.psv");

/// The workspace file `etr init` writes.
const WORKSPACE_TEMPLATE: &str = r#"# The etr workspace (docs/platform.md has every key). Relative paths are against this folder.
contributors:
  JCL:
    # The contributor's spec, and the names of the files it sends: {YYYY}{MM} is the reporting month.
    spec: specs/jcl.etr
    files: "JCL_{YYYY}{MM}*.psv"
    # HTTP uploads as JCL need a bearer token, from the environment or a file (never written here):
    # token: { env: ETR_TOKEN_JCL }

# Where files arrive (one subfolder per contributor), where they are kept, and the run ledger.
landing: landing
# An S3-compatible landing zone watched beside the folder (objects under <prefix>/<contributor>/):
# landing_bucket:
#   bucket: bureau-landing
#   prefix: landing
#   access_key_id: { env: ETR_S3_KEY }
#   secret_access_key: { env: ETR_S3_SECRET }
archive: archive
# A copy of the archive in an S3-compatible bucket (disaster recovery; workers on other machines):
# archive_bucket:
#   bucket: bureau-archive
#   access_key_id: { env: ETR_S3_KEY }
#   secret_access_key: { env: ETR_S3_SECRET }
ledger: { sqlite: state/ledger.db }

# The lake: Iceberg tables (records, rejects, runs) in a SQL catalog and a warehouse folder.
lake:
  catalog: { sqlite: state/catalog.db }
  warehouse: { folder: warehouse }

http:
  listen: 127.0.0.1:8080
"#;

/// Loads a workspace, printing its error (with the line) when it does not load.
pub fn load_workspace(dir: &Path) -> Result<Workspace, ExitCode> {
    etr_platform::config::load(dir).map_err(|error| {
        eprintln!("{:?}", miette::Report::new(*error));
        ExitCode::from(EXIT_CONFIG)
    })
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")
}

async fn open(workspace: Workspace, engine: EngineSettings) -> Result<Platform> {
    let compiler = Arc::new(CliCompiler { workspace: workspace.root.clone() });
    Platform::open(workspace, compiler, engine).await.context("opening the workspace's ledger, lake and archive")
}

/// `etr init DIR [--sample]`.
pub fn init(dir: &Path, sample: bool, engine: EngineSettings) -> Result<ExitCode> {
    let file = dir.join(etr_platform::WORKSPACE_FILE);
    if file.exists() {
        eprintln!("error: {} exists; `etr init` writes a new workspace and changes none", file.display());
        return Ok(ExitCode::from(EXIT_CONFIG));
    }
    std::fs::create_dir_all(dir.join("specs")).with_context(|| format!("creating {}", dir.display()))?;
    std::fs::create_dir_all(dir.join("landing/JCL"))?;
    let spec = dir.join("specs/jcl.etr");
    if !spec.exists() {
        std::fs::write(&spec, EXAMPLE_SPEC)?;
    }
    std::fs::write(&file, WORKSPACE_TEMPLATE)?;
    println!("wrote the workspace {} (contributor JCL, spec {})", file.display(), spec.display());
    if !sample {
        return Ok(ExitCode::SUCCESS);
    }
    let samples = dir.join("samples");
    std::fs::create_dir_all(&samples)?;
    let sample_file = samples.join("JCL_202506.psv");
    std::fs::write(&sample_file, EXAMPLE_FILE)?;
    let code = ingest(dir, Some("JCL"), &[sample_file], false, engine)?;
    let workspace = match load_workspace(dir) {
        Ok(workspace) => workspace,
        Err(code) => return Ok(code),
    };
    println!(
        "the lake's tables: {} (Iceberg SQL catalog `etr`, namespace `{}`)",
        catalog_text(&workspace),
        workspace.lake.namespace
    );
    if let etr_lake::Warehouse::Local(path) = &workspace.lake.warehouse {
        println!("their files: {}", path.display());
    }
    Ok(code)
}

fn catalog_text(workspace: &Workspace) -> String {
    match &workspace.lake.catalog {
        etr_lake::CatalogConfig::Sql { url } if url.starts_with("sqlite:") => {
            url.trim_start_matches("sqlite:").trim_end_matches("?mode=rwc").to_owned()
        }
        etr_lake::CatalogConfig::Sql { .. } => "the SQL catalog of etr.yaml".to_owned(),
    }
}

/// `etr ingest FILE... [--contributor X]`: every file received, then worked on until each has
/// ended; one line per file with its end. Without `--contributor`, a file's contributor is the
/// name of its folder (the landing folder's layout: `landing/JCL/JCL_202506.psv`). With `resume`
/// (no files): the queue worked on until nothing is open, one line per run taken.
///
/// Re-running an ingest that was killed is safe, and is what an operator does: files received
/// before the kill are received again as new runs, which the ledger holds back until the killed
/// runs have ended and which then end as duplicates of them; the killed process's runs are taken
/// again once their leases expire, which this waits for (docs/platform.md, "Crash safety").
pub fn ingest(
    dir: &Path,
    contributor: Option<&str>,
    files: &[PathBuf],
    resume: bool,
    engine: EngineSettings,
) -> Result<ExitCode> {
    let workspace = match load_workspace(dir) {
        Ok(workspace) => workspace,
        Err(code) => return Ok(code),
    };
    let runtime = runtime()?;
    runtime.block_on(async {
        let platform = match open(workspace, engine).await {
            Ok(platform) => platform,
            Err(error) => {
                eprintln!("error: {error:#}");
                return Ok(ExitCode::from(EXIT_INTERNAL));
            }
        };
        let mut worst = 0u8;
        let mut ours = Vec::new();
        let worker = format!("ingest-{}", std::process::id());
        // The files are received while the worker already runs the first ones: receiving (a hash
        // and a synced copy into the archive) and running overlap, as they do in `etr serve`; and
        // the worker runs the engine on one run while the lake publishes the one before.
        let intake_done = std::cell::Cell::new(false);
        let intake = async {
            for file in files {
                let folder = file.parent().and_then(|p| p.file_name()).and_then(|n| n.to_str()).unwrap_or_default();
                let contributor = contributor.unwrap_or(folder);
                match platform.receive_path(contributor, file, Source::Cli).await {
                    Ok(run) => {
                        eprintln!("{}: received as {} ({} bytes)", file.display(), run.id, run.size_bytes);
                        ours.push((file.clone(), run.id));
                    }
                    Err(error) => {
                        let code = match error {
                            IntakeError::Ledger(_) => EXIT_INTERNAL,
                            IntakeError::Io(_) if file.is_file() => EXIT_INTERNAL,
                            _ => EXIT_INPUT,
                        };
                        eprintln!("{}: not received: {error}", file.display());
                        worst = worst.max(code);
                    }
                }
            }
            intake_done.set(true);
        };
        let early = async {
            let mut taken = Vec::new();
            if resume {
                return Ok(taken);
            }
            while !intake_done.get() {
                let done = platform.drain_pipelined(&worker).await?;
                if done.is_empty() {
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                }
                taken.extend(done.iter().map(|processed| processed.run));
            }
            Ok::<_, etr_platform::PlatformError>(taken)
        };
        let ((), early) = tokio::join!(intake, early);
        if let Err(error) = early {
            eprintln!("error: {error:#}");
            worst = worst.max(EXIT_INTERNAL);
        }
        let mine: Vec<RunId> = ours.iter().map(|(_, id)| *id).collect();
        let taken = match work_until_ended(&platform, &worker, if resume { None } else { Some(mine.as_slice()) }).await
        {
            Ok(taken) => taken,
            Err(error) => {
                eprintln!("error: {error:#}");
                worst = worst.max(EXIT_INTERNAL);
                Vec::new()
            }
        };
        if resume {
            for id in taken {
                let run = platform.ledger.get(id).await?;
                worst = worst.max(report(Path::new(&run.file_name), &run));
            }
        }
        for (file, id) in ours {
            let run = platform.ledger.get(id).await?;
            worst = worst.max(report(&file, &run));
        }
        Ok(if worst == 0 { ExitCode::SUCCESS } else { ExitCode::from(worst) })
    })
}

/// Works on the queue until the runs `waited_for` (every open run when `None`) have ended, or
/// until only a failed run's retry could move them (its back-off can be minutes; the next worker
/// takes it then). A run held by another worker, or by a killed one, is waited for: when its lease
/// expires it is claimable, and taken here. Returns the runs this worker took, in order, once each.
async fn work_until_ended(platform: &Platform, worker: &str, waited_for: Option<&[RunId]>) -> Result<Vec<RunId>> {
    let mut taken: Vec<RunId> = Vec::new();
    let mut announced: Vec<(RunId, u32)> = Vec::new();
    loop {
        for processed in platform.drain_pipelined(worker).await? {
            if !taken.contains(&processed.run) {
                taken.push(processed.run);
            }
        }
        let open = match waited_for {
            Some(ids) => {
                let mut open = false;
                for id in ids {
                    let run = platform.ledger.get(*id).await?;
                    open |= matches!(run.state, RunState::Received | RunState::Running);
                }
                open
            }
            None => {
                let all = platform.runs(None).await?;
                all.iter().any(|run| matches!(run.state, RunState::Received | RunState::Running))
            }
        };
        if !open {
            return Ok(taken);
        }
        // What may free the open runs: a lease that expires (its worker finished or died).
        let filter = etr_ledger::Filter { state: Some(RunState::Running), ..etr_ledger::Filter::default() };
        let running = platform.ledger.list(&filter).await?;
        let Some(next) = running.iter().filter_map(|run| run.lease_expires_at).min() else {
            return Ok(taken);
        };
        for run in &running {
            if !announced.contains(&(run.id, run.attempts)) {
                announced.push((run.id, run.attempts));
                eprintln!(
                    "waiting for {} ({}, attempt {}): taken here if its lease expires, at {}",
                    run.id,
                    run.lease_owner.as_deref().unwrap_or("a worker"),
                    run.attempts,
                    run.lease_expires_at.map(|at| at.to_rfc3339()).unwrap_or_default()
                );
            }
        }
        // Polled at least every second: the other worker may end the run before its lease does.
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        let until = u64::try_from(next.timestamp_micros() - now.as_micros() as i64).unwrap_or(0);
        tokio::time::sleep(std::time::Duration::from_micros(until.clamp(20_000, 1_000_000))).await;
    }
}

/// Prints a run's end; its exit code (0 when fine).
fn report(file: &Path, run: &etr_ledger::Run) -> u8 {
    let detail = run.detail.as_deref().map(|d| format!(": {d}")).unwrap_or_default();
    match run.state {
        RunState::Published => {
            let counts = run
                .outcome
                .as_ref()
                .map(|o| format!(": {} lines, {} accepted, {} rejected", o.lines, o.accepted, o.rejected))
                .unwrap_or_default();
            println!("{}: {} published{counts}", file.display(), run.id);
            0
        }
        RunState::Duplicate | RunState::Superseded => {
            println!("{}: {} {}{detail}", file.display(), run.id, run.state.as_str());
            0
        }
        RunState::Refused => {
            println!("{}: {} refused{detail}", file.display(), run.id);
            EXIT_FATAL
        }
        RunState::Received | RunState::Running | RunState::Failed => {
            println!("{}: {} {}{detail}", file.display(), run.id, run.state.as_str());
            EXIT_INTERNAL
        }
    }
}

/// `etr runs [--contributor X]`: the ledger, newest first.
pub fn runs(dir: &Path, contributor: Option<&str>) -> Result<ExitCode> {
    let workspace = match load_workspace(dir) {
        Ok(workspace) => workspace,
        Err(code) => return Ok(code),
    };
    runtime()?.block_on(async {
        let platform = open(workspace, EngineSettings::default()).await?;
        for run in platform.runs(contributor).await? {
            let month = run.reporting_month.map(|m| m.to_string()).unwrap_or_else(|| "-".into());
            let counts = run
                .outcome
                .as_ref()
                .map(|o| format!("{} accepted, {} rejected", o.accepted, o.rejected))
                .unwrap_or_default();
            println!(
                "{}  {:<10} {:<8} {:<8} {:<40} {}",
                run.id,
                run.state.as_str(),
                run.contributor,
                month,
                run.file_name,
                if counts.is_empty() { run.detail.clone().unwrap_or_default() } else { counts }
            );
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// `etr replay RUN`: the run's archived file received again and taken to its end.
pub fn replay(dir: &Path, run: &str, engine: EngineSettings) -> Result<ExitCode> {
    let Ok(id) = run.parse::<RunId>() else {
        eprintln!("error: `{run}` is not a run id (run-000123)");
        return Ok(ExitCode::from(EXIT_CONFIG));
    };
    let workspace = match load_workspace(dir) {
        Ok(workspace) => workspace,
        Err(code) => return Ok(code),
    };
    runtime()?.block_on(async {
        let platform = open(workspace, engine).await?;
        let replayed = match platform.replay(id).await {
            Ok(run) => run,
            Err(IntakeError::Ledger(etr_ledger::LedgerError::UnknownRun(_))) => {
                eprintln!("error: no run {id} in the ledger");
                return Ok(ExitCode::from(EXIT_INPUT));
            }
            Err(error) => {
                eprintln!("error: {error}");
                return Ok(ExitCode::from(EXIT_INTERNAL));
            }
        };
        eprintln!("{id}: replayed as {}", replayed.id);
        platform.drain(&format!("replay-{}", std::process::id())).await?;
        let run = platform.ledger.get(replayed.id).await?;
        let code = report(Path::new(&run.file_name), &run);
        Ok(if code == 0 { ExitCode::SUCCESS } else { ExitCode::from(code) })
    })
}
