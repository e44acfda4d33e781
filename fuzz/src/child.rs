//! The processes the `kill` and `lsp-protocol` targets start: the real `etr` binary when there is
//! one, or a stand-in.
//!
//! Cargo tells a test where the binaries of its own package are (`CARGO_BIN_EXE_<name>`), never
//! those of another package, and a test cannot build `etr` itself (the build folder is locked by
//! the `cargo test` that runs it). So `etr-fuzz` carries two hidden subcommands that do what
//! `etr run` and `etr lsp` do through the same library calls: `child-run` compiles the spec with
//! the stdlib and calls `etr_runtime::pipeline::run`, which owns the output folder's staging and
//! publication; `child-lsp` calls `etr_lsp::run_stdio`, the whole of `etr lsp`. The smoke run uses
//! the stand-in (always built, always current); campaigns use the real `etr` next to `etr-fuzz`
//! (`campaign.sh` builds both), or the one `ETR_BIN` names.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

/// How to start `etr run` and `etr lsp`.
#[derive(Debug, Clone)]
pub enum Launcher {
    /// The real `etr` binary.
    Etr(PathBuf),
    /// `etr-fuzz child-run` and `etr-fuzz child-lsp`.
    StandIn(PathBuf),
}

impl Launcher {
    /// The real `etr` if `ETR_BIN` names it or it sits next to `own_exe` (or one folder up, for a
    /// test binary in `deps/`); the stand-in `own_exe` otherwise.
    pub fn find(own_exe: &Path) -> Launcher {
        if let Some(path) = std::env::var_os("ETR_BIN") {
            return Launcher::Etr(PathBuf::from(path));
        }
        let folder = own_exe.parent().unwrap_or(Path::new("."));
        for candidate in [folder.join("etr"), folder.join("../etr")] {
            if candidate.is_file() {
                return Launcher::Etr(candidate);
            }
        }
        Launcher::StandIn(own_exe.to_path_buf())
    }

    /// `etr run SPEC INPUT --out OUT --quiet --as-of 2025-07-01 --threads N`.
    pub fn run_command(&self, spec: &Path, input: &Path, out: &Path, threads: usize) -> Command {
        let mut command = match self {
            Launcher::Etr(etr) => {
                let mut c = Command::new(etr);
                c.arg("run");
                c
            }
            Launcher::StandIn(exe) => {
                let mut c = Command::new(exe);
                c.arg("child-run");
                c
            }
        };
        command.arg(spec).arg(input).arg("--out").arg(out).arg("--quiet");
        command.args(["--as-of", AS_OF, "--threads", &threads.to_string()]);
        command
    }

    /// `etr lsp`.
    pub fn lsp_command(&self) -> Command {
        match self {
            Launcher::Etr(etr) => {
                let mut c = Command::new(etr);
                c.arg("lsp");
                c
            }
            Launcher::StandIn(exe) => {
                let mut c = Command::new(exe);
                c.arg("child-lsp");
                c
            }
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Launcher::Etr(path) => format!("the etr binary {}", path.display()),
            Launcher::StandIn(path) => format!("the stand-in {} child-run/child-lsp", path.display()),
        }
    }
}

/// The date every fuzzed run is as of, so that reruns compare equal.
pub const AS_OF: &str = "2025-07-01";

/// `etr-fuzz child-run SPEC INPUT --out OUT [--quiet] [--as-of D] [--threads N]`: what `etr run`
/// does (without its progress bar): exit 0, or 3 for a fatal file, 1 for a spec with errors, 2
/// for a failed run.
pub fn child_run(args: &[String]) -> i32 {
    let mut positional = Vec::new();
    let mut out = None;
    let mut as_of = None;
    let mut threads = None;
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        match arg.as_str() {
            "--out" => out = iter.next().cloned(),
            "--as-of" => as_of = iter.next().cloned(),
            "--threads" => threads = iter.next().and_then(|t| t.parse::<usize>().ok()),
            "--quiet" => {}
            _ => positional.push(arg.clone()),
        }
    }
    let (Some(spec), Some(input), Some(out)) = (positional.first(), positional.get(1), out) else {
        eprintln!("usage: etr-fuzz child-run SPEC INPUT --out OUT [--as-of D] [--threads N]");
        return 2;
    };
    let text = match std::fs::read_to_string(spec) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("error: cannot read {spec}: {e}");
            return 2;
        }
    };
    let (program, diagnostics, db, file) = etr_tests::compile(spec, &text);
    let Some(program) = program else {
        eprint!("{}", etr_tests::render_diagnostics(&db, file, &diagnostics));
        return 1;
    };
    let mut texts: Vec<&str> = vec![text.as_str()];
    texts.extend(etr_stdlib::MODULES.iter().map(|m| m.text));
    let mut config = etr_runtime::pipeline::RunConfig {
        spec_hash: etr_runtime::pipeline::spec_hash(texts),
        ..etr_runtime::pipeline::RunConfig::default()
    };
    if let Some(threads) = threads {
        config.threads = threads.max(1);
    }
    if let Some(as_of) = as_of {
        match etr_runtime::pipeline::parse_as_of(&as_of) {
            Ok(day) => config.as_of = Some(day),
            Err(e) => {
                eprintln!("error: {e}");
                return 2;
            }
        }
    }
    match etr_runtime::pipeline::run(Arc::clone(&program), Path::new(input), Path::new(&out), &config) {
        Ok(summary) if summary.fatal.is_empty() => 0,
        Ok(_) => 3,
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}

/// `etr-fuzz child-lsp`: `etr lsp`.
pub fn child_lsp() -> i32 {
    match etr_lsp::run_stdio() {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}
