//! Tests that need something from outside the repository: skipped where it is missing, except
//! under CI, where they must run.
//!
//! A test that needs Neovim, a PostgreSQL server or the conformance suite cannot pass honestly on
//! a machine without it. On a developer's machine it is skipped, saying so where the developer
//! sees it; under CI (the `CI` variable set, as `.ci/run` and CI services set it) a missing
//! component is a failure, so a test cannot quietly stop running there because an install step
//! broke.

use std::fmt::Display;
use std::io::Write as _;

/// Whether this is a CI run: `CI` set to anything but empty, `0` or `false`.
pub fn in_ci() -> bool {
    means_ci(std::env::var("CI").ok().as_deref())
}

/// Whether a value of `CI` (`None` when unset) says this is a CI run.
fn means_ci(value: Option<&str>) -> bool {
    value.is_some_and(|value| !matches!(value.trim(), "" | "0" | "false"))
}

/// `found`'s component, or, when it is missing (`Err(reason)`), `None` after [`skip`]: the
/// caller returns at once.
///
/// ```no_run
/// fn find_nvim() -> Result<std::path::PathBuf, String> {
///     let path = std::env::var_os("PATH").unwrap_or_default();
///     std::env::split_paths(&path)
///         .map(|dir| dir.join("nvim"))
///         .find(|candidate| candidate.is_file())
///         .ok_or_else(|| "no nvim on PATH (apt-get install -y neovim)".to_owned())
/// }
/// let Some(nvim) = etr_testkit::ci::require(find_nvim()) else { return };
/// ```
pub fn require<T, E: Display>(found: Result<T, E>) -> Option<T> {
    match found {
        Ok(component) => Some(component),
        Err(reason) => {
            skip(&reason);
            None
        }
    }
}

/// Gives up on the running test for want of a component, `reason` saying which and how to get
/// it: under CI a panic, elsewhere a line on stderr (`<test>: skipped: <reason>`) and a return,
/// after which the test must return.
pub fn skip(reason: &dyn Display) {
    // libtest names the thread after the test; a `harness = false` binary runs on `main`.
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("test");
    assert!(!in_ci(), "{test}: {reason}. CI is set, where this test must run.");
    // Straight to the process's stderr: the test harness captures `eprintln!` of a passing test,
    // and a skip nobody sees would look like a pass.
    let _ = writeln!(std::io::stderr(), "{test}: skipped: {reason}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ci_is_any_value_of_the_variable_but_empty_zero_or_false() {
        for value in ["true", "1", "yes", "github-actions"] {
            assert!(means_ci(Some(value)), "{value:?}");
        }
        for value in [None, Some(""), Some(" "), Some("0"), Some("false")] {
            assert!(!means_ci(value), "{value:?}");
        }
    }

    #[test]
    fn a_found_component_is_handed_back() {
        assert_eq!(require::<_, String>(Ok(7)), Some(7));
    }

    #[test]
    fn a_missing_component_fails_under_ci_and_is_skipped_elsewhere() {
        let outcome = std::panic::catch_unwind(|| require::<(), _>(Err("no frobnicator on PATH")));
        if in_ci() {
            let message = outcome.expect_err("a missing component must fail under CI");
            let text = message.downcast_ref::<String>().expect("a formatted panic message");
            assert!(text.contains("no frobnicator on PATH") && text.contains("CI is set"), "{text}");
        } else {
            assert_eq!(outcome.expect("a missing component is a skip outside CI"), None);
        }
    }
}
