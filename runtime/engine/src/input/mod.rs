//! The input side of a run: what a contributor's file looks like ([`dialect`]), how it is read in
//! bounded memory ([`reader`]), and how its lines become columns ([`split`]).
//!
//! Nothing here evaluates or writes anything: the passes ask for the file's lines and get them
//! in file order, as batches of Arrow string views that point into the bytes read.

pub mod dialect;
pub mod reader;
pub mod split;

use std::path::Path;

use crate::error::{Result, RuntimeError};

/// Refuses, before anything is written, an input the run could not read as it needs: one that is
/// missing or a folder, and a pipe or device for a spec that reads the file more than once (the
/// second pass would wait forever for a writer that is gone).
pub(crate) fn check_input(input: &Path, passes: u8) -> Result<()> {
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
