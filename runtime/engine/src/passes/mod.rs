//! The sweeps a run makes over the input file: which ones a spec needs ([`plan`]), one function
//! per pass, and what they build between them.
//!
//! A spec with a `unique` check reads the file in three sweeps. The key pass evaluates only what
//! the keys need and counts them; the few lines whose key it saw more than once are read again and
//! evaluated fully, which tells the duplicated keys exactly (`keys`); the last pass evaluates
//! everything and writes (`write`). A spec whose rows read file aggregates
//! (`x > 3 * median(X)`) adds a first pass for them (`aggregates`). Every pass must see the same
//! bytes: a file that changes between passes (its xxh3-128 fingerprint differs) fails the run. The
//! file checks are judged at the end of the last pass (`verdict`); when one is fatal the
//! accepted rows written so far are discarded.
//!
//! Each pass is one sweep of `stream`: a reader thread, worker threads that split and evaluate
//! blocks of lines, and the calling thread, which receives their results in file order.

pub(crate) mod aggregates;
pub(crate) mod keys;
pub mod plan;
pub(crate) mod stream;
pub(crate) mod verdict;
pub(crate) mod write;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use etr_interp::{DuplicateLines, Interpreter};
use etr_ir::Program;

pub use plan::{Pass, PassPlan};

use crate::config::RunConfig;
use crate::error::{Result, RuntimeError};
use crate::input::dialect::SourceDialect;
use crate::output::OutputDir;
use stream::Sweep;
use write::WriteOutcome;

/// What every pass of a run shares: the run's program, input, dialect and configuration, and what
/// the passes record for the summary.
pub(crate) struct PassContext<'a> {
    pub(crate) program: &'a Arc<Program>,
    pub(crate) input: &'a Path,
    pub(crate) dialect: &'a SourceDialect,
    pub(crate) config: &'a RunConfig,
    /// How many passes the run makes (for progress).
    passes: u8,
    identity: InputIdentity,
    /// Wall time per pass (and per phase within one), in milliseconds.
    pub(crate) timings: BTreeMap<String, f64>,
    /// What the passes kept in memory beyond their bounded buffers (the key index).
    pub(crate) memory: BTreeMap<String, u64>,
}

/// What every pass must agree on about the input: the first pass's fingerprint, which every later
/// pass must match (the same bytes), and the blake3 hash only the first pass computes (for the
/// summary).
#[derive(Default)]
struct InputIdentity {
    first_fingerprint: Option<u128>,
    content_hash: Option<String>,
}

impl<'a> PassContext<'a> {
    pub(crate) fn new(
        program: &'a Arc<Program>,
        input: &'a Path,
        dialect: &'a SourceDialect,
        config: &'a RunConfig,
        plan: &PassPlan,
        timings: BTreeMap<String, f64>,
    ) -> PassContext<'a> {
        PassContext {
            program,
            input,
            dialect,
            config,
            passes: plan.len(),
            identity: InputIdentity::default(),
            timings,
            memory: BTreeMap::new(),
        }
    }

    /// Pass number `pass`, splitting only `columns` (all of them for `None`).
    pub(crate) fn sweep<'c>(&self, pass: u8, columns: Option<&'c [bool]>) -> Sweep<'c> {
        Sweep { pass, passes: self.passes, columns }
    }

    /// Checks that a pass read the bytes the first pass read, and keeps the first pass's hash.
    pub(crate) fn same_input(&mut self, fingerprint: u128, input_hash: Option<&str>) -> Result<()> {
        let identity = &mut self.identity;
        if identity.content_hash.is_none() {
            identity.content_hash = input_hash.map(str::to_owned);
        }
        match identity.first_fingerprint {
            None => identity.first_fingerprint = Some(fingerprint),
            Some(first) if first != fingerprint => {
                return Err(RuntimeError::Config(format!(
                    "{} changed while it was being read (its hash differs between two passes); rerun once it is complete",
                    self.input.display()
                )));
            }
            Some(_) => {}
        }
        Ok(())
    }

    /// The blake3 hash of the input, which the run's first pass computed.
    pub(crate) fn content_hash(&self) -> Result<String> {
        self.identity
            .content_hash
            .clone()
            .ok_or_else(|| RuntimeError::Internal("no pass computed the input hash".into()))
    }

    /// Records how long `name` took since `start`.
    pub(crate) fn time(&mut self, name: String, start: Instant) {
        self.timings.insert(name, milliseconds_since(start));
    }
}

/// Runs the passes of `plan`, in order, each with the interpreter the passes before it prepared,
/// and returns what the writing pass, the last, found.
pub(crate) fn execute(
    plan: &PassPlan,
    context: &mut PassContext<'_>,
    interpreter: Interpreter,
    output: &OutputDir,
) -> Result<WriteOutcome> {
    let mut interpreter = interpreter;
    let mut duplicates = DuplicateLines::none();
    for (number, pass) in (1..).zip(plan.passes()) {
        match pass {
            Pass::Aggregates => interpreter = aggregates::aggregates_pass(context, number, &interpreter)?,
            Pass::Keys { columns } => duplicates = keys::key_pass(context, number, &interpreter, columns)?,
            Pass::Write => {
                // The writing pass tells duplicates by line number: it hashes no key.
                let interpreter = Arc::new(interpreter.without_key_hashes());
                return write::write_pass(context, number, interpreter, duplicates, output);
            }
        }
    }
    Err(RuntimeError::Internal("the pass plan has no writing pass".into()))
}

/// Milliseconds since `start`, to a tenth.
pub(crate) fn milliseconds_since(start: Instant) -> f64 {
    (start.elapsed().as_secs_f64() * 1000.0 * 10.0).round() / 10.0
}
