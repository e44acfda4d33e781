//! The Python the tests use as an independent checker (pyiceberg reading our Iceberg tables, moto's
//! S3 server), never as part of the build: `.ci/run` installs it in `target/test-python`, and
//! `ETR_TEST_PYTHON` names another one.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The test Python when it can import every module of `modules` (`"pyiceberg, moto.server"`), or
/// why it cannot: pass the result to [`crate::ci::require`].
pub fn with_modules(modules: &str) -> Result<PathBuf, String> {
    let python = std::env::var_os("ETR_TEST_PYTHON").map(PathBuf::from).unwrap_or_else(default_python);
    let ready =
        Command::new(&python).args(["-c", &format!("import {modules}")]).output().is_ok_and(|o| o.status.success());
    if ready {
        Ok(python)
    } else {
        Err(format!(
            "no Python with {modules} at {} (`.ci/run` installs it in target/test-python; or set ETR_TEST_PYTHON)",
            python.display()
        ))
    }
}

/// `<workspace>/target/test-python/bin/python`: this crate sits in `<workspace>/tests/kit`.
fn default_python() -> PathBuf {
    let kit = Path::new(env!("CARGO_MANIFEST_DIR"));
    let workspace = kit.parent().and_then(Path::parent).unwrap_or(kit);
    workspace.join("target/test-python/bin/python")
}
