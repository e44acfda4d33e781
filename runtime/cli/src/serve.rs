//! `etr serve`: the platform as a service. Loads the workspace (refusing a bad `etr.yaml` with the
//! line it is wrong at), compiles every contributor's spec once so that a broken spec stops the
//! start rather than failing every run, then serves HTTP, watches the landing folder and runs the
//! workers until SIGINT or SIGTERM (etr_platform::serve).
//!
//! Exit status: 0 after a stop by signal; 2 for a workspace that cannot be served (its
//! configuration, a spec with errors, an address already in use), as `etr ingest` says 2 for usage
//! and configuration.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use etr_platform::{EngineSettings, Platform, ServeOptions, SpecCompiler};

use crate::platform_compiler::CliCompiler;

const EXIT_CONFIG: u8 = 2;

/// Serves the workspace in `dir` with `workers` workers.
pub fn run(dir: &Path, workers: usize, settings: EngineSettings) -> Result<ExitCode> {
    let workspace = match etr_platform::config::load(dir) {
        Ok(workspace) => workspace,
        Err(error) => {
            eprintln!("{:?}", miette::Report::new(*error));
            eprintln!("etr serve: the workspace has errors; nothing was started");
            return Ok(ExitCode::from(EXIT_CONFIG));
        }
    };
    let compiler = Arc::new(CliCompiler { workspace: workspace.root.clone() });
    for contributor in &workspace.contributors {
        if let Err(errors) = compiler.compile(&contributor.spec) {
            eprintln!("{errors}");
            eprintln!("etr serve: the spec of {} has errors; nothing was started", contributor.name);
            return Ok(ExitCode::from(EXIT_CONFIG));
        }
    }
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the async runtime")?;
    runtime.block_on(async move {
        // Each worker runs one file at a time on one engine thread: parallelism comes from the
        // workers, so `--workers` is the one knob for how much of the machine `etr serve` takes.
        let settings = EngineSettings { threads: 1, ..settings };
        let platform = Platform::open(workspace, compiler, settings).await.context("cannot open the platform")?;
        let options = ServeOptions { workers: workers.max(1), ..ServeOptions::default() };
        match etr_platform::serve_with(Arc::new(platform), options, etr_platform::interrupted()).await {
            Ok(()) => Ok(ExitCode::SUCCESS),
            Err(error) => {
                eprintln!("etr serve: {error}; nothing was started");
                Ok(ExitCode::from(EXIT_CONFIG))
            }
        }
    })
}
