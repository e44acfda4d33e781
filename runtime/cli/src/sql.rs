//! `etr sql`: one SQL query over the workspace's lake, for analysts (`etr-sql` runs it with
//! DataFusion on the tables' current snapshots; docs/platform.md, "Querying the lake").
//!
//! The query is the argument, a file (`-f FILE`) or standard input (`-`). The result goes to
//! standard output as an aligned table (at most 1,000 rows unless `--max-rows` says otherwise: a
//! table is held whole to align it), CSV or JSON lines (every row unless `--max-rows`); a note on
//! standard error says when rows were left out.
//!
//! Exit status, in the platform's table (docs/platform.md, "Exit codes"):
//! - 0: the result was written;
//! - 2: usage or the query: a bad flag, no `etr.yaml` or one that does not load, a query that does
//!   not parse, names a table or column the lake lacks, or would write;
//! - 3: nothing to query: the workspace's lake has no tables yet (no run was ever published);
//! - 5: internal: the lake's catalog or files could not be read, memory and spill space ran out, or
//!   the result could not be written.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use etr_sql::{LakeSql, OutputFormat, SqlError, SqlSettings};

use crate::platform_cmd::{EXIT_CONFIG, EXIT_INPUT, EXIT_INTERNAL, load_workspace};

/// Rows an aligned table shows when `--max-rows` is not given.
pub const TABLE_ROWS_BY_DEFAULT: usize = 1000;

/// Where the query's text is.
pub enum QueryText {
    /// On the command line; `-` is standard input.
    Argument(String),
    /// In a file; `-` is standard input.
    File(PathBuf),
}

/// What `etr sql` was asked.
pub struct SqlOptions {
    pub text: QueryText,
    pub format: OutputFormat,
    /// At most this many rows; `None`: the format's default.
    pub max_rows: Option<usize>,
    pub memory_limit_bytes: usize,
}

/// `etr sql`: runs the query on the lake of the workspace in `dir` and writes its result.
pub fn run(dir: &Path, options: &SqlOptions) -> Result<ExitCode> {
    let text = match read_query(&options.text) {
        Ok(text) if !text.trim().is_empty() => text,
        Ok(_) => {
            eprintln!("error: the query is empty");
            return Ok(ExitCode::from(EXIT_CONFIG));
        }
        Err(error) => {
            eprintln!("error: {error:#}");
            return Ok(ExitCode::from(EXIT_CONFIG));
        }
    };
    let workspace = match load_workspace(dir) {
        Ok(workspace) => workspace,
        Err(code) => return Ok(code),
    };
    let max_rows = match (options.max_rows, options.format) {
        (Some(max), _) => Some(max),
        (None, OutputFormat::Table) => Some(TABLE_ROWS_BY_DEFAULT),
        (None, OutputFormat::Csv | OutputFormat::JsonLines) => None,
    };
    let settings = SqlSettings { memory_limit_bytes: options.memory_limit_bytes, ..SqlSettings::default() };
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")?;
    let written = runtime.block_on(async {
        let sql = LakeSql::open(&workspace.lake, &settings).await?;
        // One row more than shown, so that a result cut short is told from one that just fits.
        let result = sql.query(&text, max_rows.map(|max| max.saturating_add(1))).await?;
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        let written = result.write(options.format, max_rows, &mut out).await?;
        out.flush().map_err(|e| SqlError::Write(e.to_string()))?;
        Ok::<_, SqlError>(written)
    });
    match written {
        Ok(written) => {
            if written.truncated {
                eprintln!(
                    "etr sql: the first {} rows are shown; the result has more (--max-rows N shows more, \
                     --format csv or json writes them all)",
                    written.rows
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            eprintln!("error: {error}");
            let code = match &error {
                SqlError::NoLake => {
                    eprintln!("help: `etr ingest` publishes a contributor's file into the lake");
                    EXIT_INPUT
                }
                error if error.is_in_the_query() => EXIT_CONFIG,
                _ => EXIT_INTERNAL,
            };
            Ok(ExitCode::from(code))
        }
    }
}

fn read_query(text: &QueryText) -> Result<String> {
    let from_stdin = || {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).context("reading the query from standard input")?;
        Ok(text)
    };
    match text {
        QueryText::Argument(text) if text == "-" => from_stdin(),
        QueryText::Argument(text) => Ok(text.clone()),
        QueryText::File(path) if path.as_os_str() == "-" => from_stdin(),
        QueryText::File(path) => {
            std::fs::read_to_string(path).with_context(|| format!("cannot read the query file {}", path.display()))
        }
    }
}
