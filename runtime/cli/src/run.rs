//! `etr run`: compile a spec and run it on a contributor file, with a progress bar on a terminal.

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use etr_runtime::pipeline::{self, Progress, RunConfig};
use indicatif::{ProgressBar, ProgressStyle};

use crate::specs;

/// How `etr run` was asked to run.
pub struct RunOptions<'a> {
    pub quiet: bool,
    pub threads: Option<usize>,
    pub as_of: Option<&'a str>,
    pub engine: pipeline::Engine,
    /// The folder whose specs the spec may `use`.
    pub workspace: &'a Path,
}

pub fn run(spec_path: &Path, input: &Path, out: &Path, options: &RunOptions<'_>) -> Result<ExitCode> {
    let RunOptions { quiet, threads, as_of, engine, workspace } = *options;
    let (mut db, workspace) = specs::database(workspace)?;
    let spec = specs::load(&mut db, &workspace, spec_path)?;
    let (program, diagnostics) = specs::compile(&db, spec);
    if !quiet || program.is_none() {
        specs::print_diagnostics(&db, spec, &diagnostics.iter().filter(|d| d.is_error()).cloned().collect::<Vec<_>>());
    }
    let Some(program) = program else {
        eprintln!("{}: the spec has errors; nothing was run", spec_path.display());
        return Ok(ExitCode::from(1));
    };
    let mut config = RunConfig { spec_hash: specs::spec_hash(&db, spec), ..RunConfig::default() };
    if let Some(threads) = threads {
        config.threads = threads.max(1);
    }
    if let Some(as_of) = as_of {
        config.as_of = Some(pipeline::parse_as_of(as_of)?);
    }
    config.engine = engine;
    if engine == pipeline::Engine::Jit {
        config.native_backend = Some(Arc::new(etr_jit::JitBackend::default()));
    }
    config.notify = Some(Arc::new(|notice: &str| {
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), "note: {notice}");
    }));
    keep_block_buffers_in_the_heap();
    let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar
    });
    if let Some(bar) = &bar {
        let bar = bar.clone();
        config.progress = Some(Arc::new(move |p: Progress| {
            bar.set_message(format!("pass {}/{}: {} lines", p.pass, p.passes, p.lines));
            bar.tick();
        }));
    }
    let summary = pipeline::run(program, input, out, &config)
        .with_context(|| format!("running {} on {}", spec_path.display(), input.display()));
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let summary = summary?;
    if !quiet {
        // The output is published: a closed stderr must not turn this line into a failure.
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "{}: {} lines read, {} accepted, {} rejected{}{} -> {}",
            input.display(),
            summary.lines_read,
            summary.accepted,
            summary.rejected,
            if summary.refused > 0 { format!(", {} refused", summary.refused) } else { String::new() },
            if summary.fatal.is_empty() { String::new() } else { format!(", FATAL: {}", summary.fatal.join("; ")) },
            out.display()
        );
    }
    Ok(if summary.fatal.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(3) })
}

/// Tells glibc's allocator to serve the run's block-sized buffers (a 1 MiB block of lines, its
/// columns' views, the evaluated arrays: hundreds of KB to a few MB, freed a moment later) from
/// the heap and to keep freed memory for the next block. By default glibc maps each such buffer
/// afresh and returns it to the kernel when freed, so every block paid for page faults and
/// zeroing; kept in the heap, they cost a little more peak memory and much less system time
/// (docs/notes/0009). It only changes where memory comes from, never what the run computes.
fn keep_block_buffers_in_the_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        const MMAP_THRESHOLD: libc::c_int = 32 << 20;
        const TRIM_THRESHOLD: libc::c_int = 128 << 20;
        // SAFETY: mallopt only sets allocator parameters; it is called before the run starts
        // its threads, and a refused setting (return value 0) leaves glibc's default, which is
        // slower but correct.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
            libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD);
        }
    }
}
