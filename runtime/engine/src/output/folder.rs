//! The output folder of one run, published atomically.
//!
//! Downstream loaders pick up whatever folder they find, so a run must never leave a half-written
//! one behind. Everything is written into a hidden sibling staging folder
//! (`.<name>.tmp-<pid>-<n>`), with the marker file that says it is an etr output, and swapped with
//! the final folder only by [`OutputDir::commit`], so readers see either the old complete folder or
//! the new complete one. What may be replaced, the atomic exchange, fsync and the cleanup of killed
//! runs' leftovers are in [`crate::output::publish`]. Dropping an [`OutputDir`] without committing
//! (an error, a panic, a fatal file the caller chose not to publish) deletes the staging folder.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use arrow::datatypes::SchemaRef;

use super::parquet::{ParquetOptions, ParquetSink, violation_options};
use super::publish;
use super::summary::Summary;
use super::violations::violation_schema;
use super::{ACCEPTED_FILE, REJECTS_FILE, SUMMARY_FILE, WARNINGS_FILE};
use crate::error::{Result, RuntimeError};

/// Distinguishes staging folders made by one process.
static STAGING_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A run's output folder, staged until [`OutputDir::commit`]; see the module docs and
/// [`crate::output::publish`].
#[derive(Debug)]
pub struct OutputDir {
    final_path: PathBuf,
    staging: PathBuf,
    writers: Arc<WriterLedger>,
    committed: bool,
    notices: Vec<String>,
}

/// What [`OutputDir::commit`] must know about the writers it handed out.
#[derive(Debug, Default)]
pub(super) struct WriterLedger {
    pub(super) open: AtomicUsize,
    pub(super) abandoned: AtomicUsize,
}

/// A published output folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// Where it is.
    pub path: PathBuf,
    /// What the publication did besides, for the user to know (leftovers of killed runs removed,
    /// a previous output that could not be removed): each a sentence.
    pub notices: Vec<String>,
}

impl OutputDir {
    /// Creates the staging folder for `final_path` (creating `final_path`'s parent if needed),
    /// after checking that `final_path` may be replaced ([`publish::inspect_target`]) and removing
    /// what killed runs into the same folder left behind ([`publish::clean_stale_siblings`]).
    /// Nothing at `final_path` is touched until [`OutputDir::commit`] (except that the previous
    /// output, moved aside by a commit that was killed halfway, is put back).
    pub fn create(final_path: impl Into<PathBuf>) -> Result<Self> {
        let final_path = final_path.into();
        let name = final_path
            .file_name()
            .ok_or_else(|| {
                RuntimeError::io(
                    "use as an output folder",
                    &final_path,
                    std::io::Error::new(std::io::ErrorKind::InvalidInput, "the path has no name"),
                )
            })?
            .to_string_lossy()
            .into_owned();
        let parent = publish::parent_folder(&final_path);
        fs::create_dir_all(&parent).map_err(|e| RuntimeError::io("create folder", &parent, e))?;
        let mut notices = Vec::new();
        let cleanup = publish::clean_stale_siblings(&final_path)?;
        if let Some(restored) = &cleanup.restored {
            notices.push(format!(
                "put back the previous output of {}, moved aside as {} by a run that was killed while publishing",
                final_path.display(),
                restored.display()
            ));
        }
        if !cleanup.removed.is_empty() {
            notices.push(format!(
                "removed {} folder(s) left by killed runs: {}",
                cleanup.removed.len(),
                cleanup.removed.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
            ));
        }
        for kept in &cleanup.kept {
            notices.push(format!(
                "left {} in place: a killed run's folder, but it holds files etr does not write",
                kept.display()
            ));
        }
        publish::inspect_target(&final_path)?;
        let staging = loop {
            let n = STAGING_COUNTER.fetch_add(1, Ordering::Relaxed);
            let candidate = parent.join(format!(".{name}.tmp-{}-{n}", std::process::id()));
            match fs::create_dir(&candidate) {
                Ok(()) => break candidate,
                // Left over by a crashed run that had our pid: take the next number.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(RuntimeError::io("create folder", &candidate, e)),
            }
        };
        publish::register_staging(&staging);
        let output = OutputDir { final_path, staging, writers: Arc::default(), committed: false, notices };
        let marker = output.staging.join(publish::MARKER_FILE);
        fs::write(&marker, publish::MARKER_TEXT).map_err(|e| RuntimeError::io("write", &marker, e))?;
        Ok(output)
    }

    /// Where the folder will be once committed.
    pub fn final_path(&self) -> &Path {
        &self.final_path
    }

    /// The staging folder everything is written to until the commit.
    pub fn staging_path(&self) -> &Path {
        &self.staging
    }

    /// A writer for `accepted.parquet` with the caller's schema.
    pub fn accepted_writer(&self, schema: SchemaRef, options: &ParquetOptions) -> Result<ParquetSink> {
        self.parquet_writer(ACCEPTED_FILE, schema, options)
    }

    /// A writer for `rejects.parquet`.
    pub fn rejects_writer(&self, options: &ParquetOptions) -> Result<ParquetSink> {
        self.parquet_writer(REJECTS_FILE, violation_schema(), &violation_options(options))
    }

    /// A writer for `warnings.parquet`.
    pub fn warnings_writer(&self, options: &ParquetOptions) -> Result<ParquetSink> {
        self.parquet_writer(WARNINGS_FILE, violation_schema(), &violation_options(options))
    }

    /// A Parquet writer for any file of the folder (`name` is a plain file name, one of
    /// [`publish::OUTPUT_FILES`]: a folder holding others could not be replaced by the next run).
    pub fn parquet_writer(&self, name: &str, schema: SchemaRef, options: &ParquetOptions) -> Result<ParquetSink> {
        if !publish::OUTPUT_FILES.contains(&name) {
            return Err(RuntimeError::Internal(format!("{name} is not one of the output folder's files")));
        }
        ParquetSink::create(self.staging.join(name), schema, options, Arc::clone(&self.writers))
    }

    /// Writes `summary.json`.
    pub fn write_summary(&self, summary: &Summary) -> Result<()> {
        let path = self.staging.join(SUMMARY_FILE);
        let mut json = serde_json::to_vec_pretty(summary)
            .map_err(|e| RuntimeError::Internal(format!("cannot serialise the summary: {e}")))?;
        json.push(b'\n');
        fs::write(&path, json).map_err(|e| RuntimeError::io("write", &path, e))
    }

    /// Publishes the folder under its final name, replacing the folder already there (which must
    /// still be one that may be replaced), with its files on stable storage. Every writer must have
    /// been finished or discarded. Once the new folder is in place the commit has succeeded: a
    /// previous output that cannot be removed is reported in [`Published::notices`], not as an
    /// error (the next run removes it).
    pub fn commit(self) -> Result<Published> {
        self.publish(true)
    }

    /// Publishes the folder as [`OutputDir::commit`] does, without flushing its files or the
    /// rename to stable storage: for a staging output whose reader makes its own copy durable (the
    /// platform's run folder, which the lake copies), where a crash loses nothing but a re-run.
    pub fn commit_unsynced(self) -> Result<Published> {
        self.publish(false)
    }

    fn publish(mut self, durable: bool) -> Result<Published> {
        let open = self.writers.open.load(Ordering::SeqCst);
        let abandoned = self.writers.abandoned.load(Ordering::SeqCst);
        if open > 0 || abandoned > 0 {
            return Err(RuntimeError::Internal(format!(
                "output {} committed with {open} unfinished and {abandoned} abandoned writers",
                self.final_path.display()
            )));
        }
        if durable {
            publish::sync_folder(&self.staging)?;
        }
        let aside = self.sibling("old");
        let (_, old) = publish::swap_registered(&self.staging, &self.final_path, &aside)?;
        self.committed = true;
        let parent = publish::parent_folder(&self.final_path);
        let mut notices = std::mem::take(&mut self.notices);
        // Durability of the swap itself; the new folder is already visible, so a failure here is
        // reported, not fatal.
        if durable && let Err(e) = publish::sync_dir(&parent) {
            notices.push(format!("the output is published, but {e}"));
        }
        if let Some(old) = old
            && let Err(e) = publish::remove_old_output(&old)
        {
            notices.push(format!(
                "the output is published, but the previous one, now at {}, could not be removed ({e}); the next run \
                 into {} removes it",
                old.display(),
                self.final_path.display()
            ));
        }
        Ok(Published { path: self.final_path.clone(), notices })
    }

    fn sibling(&self, tag: &str) -> PathBuf {
        let name = self.final_path.file_name().unwrap_or_default().to_string_lossy();
        let n = STAGING_COUNTER.fetch_add(1, Ordering::Relaxed);
        self.final_path.with_file_name(format!(".{name}.{tag}-{}-{n}", std::process::id()))
    }
}

impl Drop for OutputDir {
    fn drop(&mut self) {
        if !self.committed {
            // Best effort: a failed run must not leave a partial folder, but there is no one to
            // report a failure to from a destructor. The staging folder is this run's own.
            publish::unregister_staging(&self.staging);
            let _ = fs::remove_dir_all(&self.staging);
        }
    }
}
