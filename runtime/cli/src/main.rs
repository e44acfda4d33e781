//! `etr`: the command line. Checks specs, runs them on contributor files, explains what they mean,
//! formats them, and serves editors (`etr lsp`); with the platform, takes files into the lake
//! (`etr ingest`, `etr serve`) and queries it (`etr sql`).
//!
//! This binary is the only place besides the runtime that touches the file system and the
//! terminal: it reads spec files, hands their text to the compiler's database, and renders what
//! comes back.

mod check;
mod explain;
mod fmt;
#[cfg(test)]
mod jit_backend;
#[cfg(feature = "platform")]
mod platform_cmd;
#[cfg(feature = "platform")]
mod platform_compiler;
mod run;
#[cfg(feature = "platform")]
mod serve;
mod signals;
mod specs;
#[cfg(feature = "platform")]
mod sql;

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(name = "etr", version, about = "Declarative mapping and quality rules for credit-bureau contributor files")]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// The folder whose specs a spec can `use` by their relative path (`rules/shared.etr` is
    /// `use rules.shared`), as the editor does with the folder it opened. Used by check, run and
    /// explain; for the platform's commands (ingest, runs, replay, serve, sql), the folder of etr.yaml.
    #[arg(long, global = true, value_name = "DIR", default_value = ".")]
    workspace: std::path::PathBuf,
}

#[derive(Subcommand)]
enum Command {
    /// Check specs for errors, like a type checker: every problem, with its location and a hint.
    Check {
        /// Spec files to check.
        #[arg(required = true)]
        specs: Vec<std::path::PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Run a spec on a contributor file and write accepted.parquet, rejects.parquet,
    /// warnings.parquet and summary.json into the output folder (atomically).
    Run {
        /// The contributor's spec.
        spec: std::path::PathBuf,
        /// The contributor's file.
        input: std::path::PathBuf,
        /// The output folder (replaced as a whole when the run succeeds).
        #[arg(long)]
        out: std::path::PathBuf,
        /// Print nothing but errors.
        #[arg(long)]
        quiet: bool,
        /// Worker threads (default: one less than the number of cores, at least 1).
        #[arg(long)]
        threads: Option<usize>,
        /// The date the run is as of, YYYY-MM-DD (what `run_date()` reads; default: today, UTC).
        #[arg(long)]
        as_of: Option<String>,
        /// The back end: `interp` (the reference interpreter) or `jit` (native kernels where the
        /// JIT has them); the outputs are identical.
        #[arg(long, value_enum, default_value_t = EngineArg::Interp)]
        engine: EngineArg,
    },
    /// Print the compiled plan of a spec: the typed IR, with every name resolved, then the passes
    /// a run makes over the input file.
    Explain {
        /// The spec to explain.
        spec: std::path::PathBuf,
    },
    /// Rewrite specs in the one canonical layout (indentation, spacing, line breaks), keeping
    /// every comment. A spec with a syntax error is left untouched and reported.
    Fmt {
        /// Spec files to format.
        #[arg(required = true)]
        specs: Vec<std::path::PathBuf>,
        /// Change nothing: list the specs whose layout would change, and exit with status 1 if
        /// there are any (for CI).
        #[arg(long, conflicts_with = "stdout")]
        check: bool,
        /// Print the formatted text to standard output instead of rewriting the files.
        #[arg(long)]
        stdout: bool,
    },
    /// Run the language server on stdin/stdout, for editors (VS Code, Neovim, any LSP client).
    #[cfg(feature = "lsp")]
    Lsp,
    /// Write a new platform workspace (etr.yaml, a spec, the landing folder) into DIR.
    #[cfg(feature = "platform")]
    Init {
        /// The workspace folder (created).
        dir: std::path::PathBuf,
        /// Also ingest the committed sample month (JCL, June 2025) and print where the tables are.
        #[arg(long)]
        sample: bool,
    },
    /// Take files through the platform (archive, ledger, engine, lake) and wait for their end. Exit
    /// status: 0 published, duplicate or superseded; 2 usage or configuration; 3 a file refused at
    /// the door; 4 a file refused by its spec (fatal); 5 internal. Re-running it after a crash is
    /// safe (docs/platform.md, "Crash safety").
    #[cfg(feature = "platform")]
    Ingest {
        /// The files.
        #[arg(required_unless_present = "resume")]
        files: Vec<std::path::PathBuf>,
        /// The contributor who sent them, as etr.yaml names it; by default the name of each file's
        /// folder (`landing/JCL/JCL_202506.psv` is JCL's).
        #[arg(long)]
        contributor: Option<String>,
        /// No files: work on the queue until no run is open, taking the runs of crashed workers
        /// once their leases expire.
        #[arg(long, conflicts_with_all = ["files", "contributor"])]
        resume: bool,
        #[arg(long, value_enum, default_value_t = EngineArg::Interp)]
        engine: EngineArg,
    },
    /// List the run ledger of the workspace, newest first.
    #[cfg(feature = "platform")]
    Runs {
        /// Only this contributor's runs.
        #[arg(long)]
        contributor: Option<String>,
    },
    /// Run a run's archived file again, under today's spec; when published it replaces the month.
    #[cfg(feature = "platform")]
    Replay {
        /// The run (run-000123).
        run: String,
        #[arg(long, value_enum, default_value_t = EngineArg::Interp)]
        engine: EngineArg,
    },
    /// Run one SQL query over the lake's tables (records, rejects, runs) as they are now, and print
    /// its result. Exit status: 0 done; 2 usage or the query (syntax, an unknown table or column, a
    /// statement that writes); 3 no run published yet, so no lake; 5 the lake could not be read.
    #[cfg(feature = "platform")]
    #[command(
        after_help = "Examples:\n  etr sql \"SELECT contributor, month, count(*) FROM records GROUP BY 1, 2 ORDER BY 2\"\n  \
                            etr sql --format csv -f monthly.sql > monthly.csv\n  echo 'SHOW COLUMNS FROM records' | etr sql -"
    )]
    Sql {
        /// The query (DataFusion's SQL, PostgreSQL-like); `-` reads it from standard input.
        #[arg(required_unless_present = "file", conflicts_with = "file", value_name = "SQL")]
        query: Option<String>,
        /// Read the query from FILE (`-`: standard input).
        #[arg(short = 'f', long = "file", value_name = "FILE")]
        file: Option<std::path::PathBuf>,
        /// How the result is written: an aligned table, CSV with a header, or JSON lines.
        #[arg(long, value_enum, default_value_t = SqlFormat::Table)]
        format: SqlFormat,
        /// Write at most N rows (default: 1000 for a table, every row for csv and json).
        #[arg(long, value_name = "N")]
        max_rows: Option<usize>,
        /// Memory the query's joins, sorts and aggregates may hold, in MiB, before they spill to
        /// the temporary folder (TMPDIR).
        #[arg(long, value_name = "MIB", default_value_t = 1024)]
        memory_mb: usize,
    },
    /// Serve the platform of the workspace (`--workspace`, the folder of etr.yaml): the HTTP API
    /// and portal, the landing-folder watcher and the workers, until SIGINT or SIGTERM.
    #[cfg(feature = "platform")]
    Serve {
        /// Worker loops taking runs from the ledger.
        #[arg(long, default_value_t = 1)]
        workers: usize,
        #[arg(long, value_enum, default_value_t = EngineArg::Interp)]
        engine: EngineArg,
    },
}

impl EngineArg {
    fn engine(self) -> etr_runtime::pipeline::Engine {
        match self {
            EngineArg::Interp => etr_runtime::pipeline::Engine::Interp,
            EngineArg::Jit => etr_runtime::pipeline::Engine::Jit,
        }
    }

    #[cfg(feature = "platform")]
    fn settings(self) -> etr_platform::EngineSettings {
        let engine = self.engine();
        let native_backend = (engine == etr_runtime::pipeline::Engine::Jit).then(|| {
            std::sync::Arc::new(etr_jit::JitBackend::default()) as std::sync::Arc<dyn etr_runtime::NativeBackend>
        });
        etr_platform::EngineSettings { engine, native_backend, ..etr_platform::EngineSettings::default() }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum EngineArg {
    Interp,
    Jit,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Human,
    Json,
}

/// The formats of `etr sql`'s result.
#[cfg(feature = "platform")]
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SqlFormat {
    Table,
    Csv,
    /// JSON lines: one object per row.
    Json,
}

#[cfg(feature = "platform")]
impl SqlFormat {
    fn output(self) -> etr_sql::OutputFormat {
        match self {
            SqlFormat::Table => etr_sql::OutputFormat::Table,
            SqlFormat::Csv => etr_sql::OutputFormat::Csv,
            SqlFormat::Json => etr_sql::OutputFormat::JsonLines,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let workspace = cli.workspace;
    match cli.command {
        Command::Run { .. } => signals::clean_up_on_interrupt(),
        #[cfg(feature = "lsp")]
        Command::Lsp => {}
        Command::Check { .. } | Command::Explain { .. } | Command::Fmt { .. } => signals::end_quietly_on_closed_pipe(),
        #[cfg(feature = "platform")]
        Command::Init { .. }
        | Command::Ingest { .. }
        | Command::Runs { .. }
        | Command::Replay { .. }
        | Command::Sql { .. } => signals::end_quietly_on_closed_pipe(),
        #[cfg(feature = "platform")]
        Command::Serve { .. } => {}
    }
    let result = match cli.command {
        Command::Check { specs, format } => check::run(&specs, format == Format::Json, &workspace),
        Command::Run { spec, input, out, quiet, threads, as_of, engine } => {
            let engine = engine.engine();
            let options = run::RunOptions { quiet, threads, as_of: as_of.as_deref(), engine, workspace: &workspace };
            run::run(&spec, &input, &out, &options)
        }
        Command::Explain { spec } => explain::run(&spec, &workspace),
        Command::Fmt { specs, check, stdout } => {
            let mode = match (check, stdout) {
                (true, _) => fmt::Mode::Check,
                (false, true) => fmt::Mode::Stdout,
                (false, false) => fmt::Mode::InPlace,
            };
            fmt::run(&specs, mode)
        }
        #[cfg(feature = "lsp")]
        Command::Lsp => etr_lsp::run_stdio().map(|()| ExitCode::SUCCESS).map_err(anyhow::Error::from),
        #[cfg(feature = "platform")]
        Command::Init { dir, sample } => platform_cmd::init(&dir, sample, EngineArg::Interp.settings()),
        #[cfg(feature = "platform")]
        Command::Ingest { files, contributor, resume, engine } => {
            platform_cmd::ingest(&workspace, contributor.as_deref(), &files, resume, engine.settings())
        }
        #[cfg(feature = "platform")]
        Command::Runs { contributor } => platform_cmd::runs(&workspace, contributor.as_deref()),
        #[cfg(feature = "platform")]
        Command::Replay { run, engine } => platform_cmd::replay(&workspace, &run, engine.settings()),
        #[cfg(feature = "platform")]
        Command::Sql { query, file, format, max_rows, memory_mb } => {
            let text = match (query, file) {
                (_, Some(file)) => sql::QueryText::File(file),
                (Some(query), None) => sql::QueryText::Argument(query),
                // clap requires one of the two.
                (None, None) => sql::QueryText::Argument(String::new()),
            };
            let options = sql::SqlOptions {
                text,
                format: format.output(),
                max_rows,
                memory_limit_bytes: memory_mb.saturating_mul(1 << 20),
            };
            sql::run(&workspace, &options)
        }
        #[cfg(feature = "platform")]
        Command::Serve { workers, engine } => serve::run(&workspace, workers, engine.settings()),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            use std::io::Write as _;
            let _ = writeln!(std::io::stderr(), "error: {error:#}");
            ExitCode::from(2)
        }
    }
}
