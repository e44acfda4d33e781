//! What `etr` does when a signal arrives: the two that end a run remove its staging folder, and a
//! closed pipe ends the commands that only print.
//!
//! `etr run` writes its outputs into a staging folder and publishes it at the end; killed by
//! Ctrl-C or a service manager's SIGTERM, it would leave that folder (up to several MB of raw
//! contributor lines) beside the output. So `run` blocks SIGINT and SIGTERM in every thread and
//! waits for them on a thread of its own (`sigwait`: ordinary code, not a signal handler, so it may
//! take locks and remove folders), which removes the staging folders of the run and exits with
//! 128 + the signal's number, as a shell reports a process the signal killed. A commit in progress
//! finishes first (see `etr_runtime::output::publish::remove_pending_staging`). SIGKILL cannot be caught:
//! its leftovers are removed by the next run into the same folder.
//!
//! Rust ignores SIGPIPE, so printing to a closed pipe (`etr explain spec | head -1`) is an error
//! that `print!` turns into a panic. The commands that only print (check, explain, fmt) restore the
//! default: the process ends quietly when its reader has gone, like `cat` or `grep`. `run` and
//! `lsp` keep ignoring it: they must clean up, and write their own few lines without panicking.

/// Lets SIGPIPE end the process, as it does any Unix filter whose reader has gone.
pub fn end_quietly_on_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to its default before any thread is started; no
    // handler code runs.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Routes SIGINT and SIGTERM to a thread that removes the run's staging folders and ends the
/// process. Call before the run starts any thread: threads inherit the blocked set.
pub fn clean_up_on_interrupt() {
    #[cfg(unix)]
    {
        // SAFETY: `set` is a local sigset_t initialised by sigemptyset before use; the calls only
        // read and write it and the calling thread's signal mask.
        let set = unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGINT);
            libc::sigaddset(&mut set, libc::SIGTERM);
            if libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) != 0 {
                // Not blocked: the signals keep their default (the next run cleans up).
                return;
            }
            set
        };
        let spawned = std::thread::Builder::new().name("etr-signals".into()).spawn(move || {
            let mut signal: libc::c_int = 0;
            // SAFETY: `set` is initialised and lives in this closure; `signal` is a valid out-pointer.
            while unsafe { libc::sigwait(&set, &mut signal) } != 0 {}
            let removed = etr_runtime::output::publish::remove_pending_staging();
            let name = if signal == libc::SIGINT { "interrupted" } else { "terminated" };
            let cleaned = if removed.is_empty() { String::new() } else { "; its unfinished output was removed".into() };
            use std::io::Write as _;
            let _ = writeln!(std::io::stderr(), "etr run: {name}{cleaned}");
            std::process::exit(128 + signal);
        });
        if spawned.is_err() {
            // No thread: let the signals act as before rather than be blocked forever.
            // SAFETY: unblocks the same initialised set in the calling thread.
            unsafe {
                libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
            }
        }
    }
}
