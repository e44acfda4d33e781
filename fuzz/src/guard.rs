//! Running one case under the two oracles every target shares: no panic, no hang.
//!
//! A case runs on a thread of its own inside `catch_unwind`, and the caller waits for it with a
//! time limit. A case over the limit is reported as a hang and its thread is left behind (a
//! thread cannot be killed; the campaign stops the target after a few, see `campaign.rs`).
//! A panic hook records where each panic happened on case threads, so that a failure's kind
//! names the panicking line (stable across seeds) rather than its message (full of values), and
//! keeps those expected panics out of the terminal.

use std::cell::{Cell, RefCell};
use std::sync::Once;
use std::sync::mpsc;
use std::time::Duration;

use crate::{Failure, Stats};

thread_local! {
    /// Set on case threads: their panics are findings, recorded rather than printed.
    static ON_CASE_THREAD: Cell<bool> = const { Cell::new(false) };
    /// The last panic of this thread: location and message.
    static LAST_PANIC: RefCell<Option<(String, String)>> = const { RefCell::new(None) };
}

static HOOK: Once = Once::new();

fn install_hook() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if ON_CASE_THREAD.with(Cell::get) {
                let location = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
                let message = payload_text(info.payload());
                LAST_PANIC.with(|last| *last.borrow_mut() = Some((location, message)));
            } else {
                previous(info);
            }
        }));
    });
}

fn payload_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(a panic without a message)".to_string()
    }
}

/// Runs `check` on a fresh thread and waits at most `limit` for it. A panic becomes a failure
/// of kind `panic at <file>:<line>`, an overrun a failure of kind `hang`.
pub fn run_guarded<F>(limit: Duration, check: F) -> Result<Stats, Failure>
where
    F: FnOnce() -> Result<Stats, Failure> + Send + 'static,
{
    install_hook();
    let (send, receive) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("etr-fuzz-case".into())
        // The compiler recurses per nesting level on its own stack segments; the rest of a
        // case (rendering, the IDE's queries) gets the room the main thread would have.
        .stack_size(32 << 20)
        .spawn(move || {
            ON_CASE_THREAD.with(|flag| flag.set(true));
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(check));
            let outcome = match outcome {
                Ok(result) => result,
                Err(payload) => {
                    let (location, message) = LAST_PANIC
                        .with(|last| last.borrow_mut().take())
                        .unwrap_or_else(|| (String::new(), payload_text(payload.as_ref())));
                    Err(Failure::new(format!("panic at {}", short_location(&location)), message))
                }
            };
            // The receiver is gone only when the case already timed out.
            let _ = send.send(outcome);
        });
    if let Err(e) = spawned {
        return Err(Failure::new("harness: cannot start a case thread", e.to_string()));
    }
    match receive.recv_timeout(limit) {
        Ok(outcome) => outcome,
        Err(mpsc::RecvTimeoutError::Timeout) => {
            Err(Failure::new("hang", format!("the case did not finish within {} s", limit.as_secs())))
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            Err(Failure::new("harness: the case thread vanished", "no outcome was sent"))
        }
    }
}

/// A panic location without the machine's paths: `compiler/fmt/src/doc.rs:12`, or the crate
/// path inside the registry for a dependency's panic.
fn short_location(location: &str) -> String {
    if location.is_empty() {
        return "an unknown location".into();
    }
    let location = location.replace('\\', "/");
    if let Some(at) = location.find("/registry/src/") {
        // `<index folder>/<crate>-<version>/src/...`: keep from the crate on.
        let rest = &location[at + "/registry/src/".len()..];
        return rest.split_once('/').map_or(rest, |(_, crate_path)| crate_path).to_string();
    }
    if let Some(at) = location.find("/library/") {
        return location[at + 1..].to_string();
    }
    location
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_is_a_failure_named_by_its_line() {
        let outcome = run_guarded(Duration::from_secs(30), || panic!("boom {}", 42));
        let failure = outcome.expect_err("a panic fails the case");
        assert!(failure.kind.starts_with("panic at "), "{failure:?}");
        assert!(failure.kind.contains("guard.rs:"), "{failure:?}");
        assert_eq!(failure.detail, "boom 42");
    }

    #[test]
    fn an_overrun_is_a_hang() {
        let outcome = run_guarded(Duration::from_millis(50), || {
            std::thread::sleep(Duration::from_millis(500));
            Ok(Stats::default())
        });
        assert_eq!(outcome.expect_err("too slow").kind, "hang");
    }

    #[test]
    fn a_passing_case_returns_its_counts() {
        let outcome = run_guarded(Duration::from_secs(30), || {
            let mut stats = Stats::default();
            stats.passed("example");
            Ok(stats)
        });
        assert_eq!(outcome.expect("passes").oracles.get("example"), Some(&1));
    }
}
