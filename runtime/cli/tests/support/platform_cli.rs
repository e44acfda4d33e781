//! Running the `etr` binary on a platform workspace, for the platform's end-to-end tests
//! (`tests/platform.rs`, `tests/sql.rs`): the command with `--workspace`, and what it printed.
//! Included by path (`#[path = "support/platform_cli.rs"]`) by the tests that use it, so the others
//! do not compile it.

use std::path::Path;
use std::process::{Command, Output};

/// `etr --workspace WORKSPACE`, to which a test adds the subcommand.
pub fn etr(workspace: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_etr"));
    command.arg("--workspace").arg(workspace);
    command
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A finished command's status and output, for an assertion's message.
pub fn shown(output: &Output) -> String {
    format!("status {:?}\nstdout:\n{}\nstderr:\n{}", output.status, text(&output.stdout), text(&output.stderr))
}
