//! Enough stack for a walk over a deep expression, on any thread.
//!
//! The parser accepts expressions up to 256 levels deep (`lower::MAX_EXPR_DEPTH`) and parses on
//! a segment of its own, but every later walk over the tree (checking, lowering, formatting, the
//! IDE's features) recurses once per level too, on whatever thread calls it: a language server's
//! worker thread has 2 MiB, which a debug build of the checker used to exhaust on a sum of 200
//! terms. A stack overflow aborts the process, so each recursive walk calls
//! [`ensure_sufficient_stack`] once per level, as rustc does: when less than [`RED_ZONE`] is left,
//! the rest of the walk continues on a fresh segment.
//!
//! `etr-ir` has the same helper for the crates that do not depend on this one (the back ends
//! and the runtime).

/// What a walk may use between two calls of [`ensure_sufficient_stack`]: the frames of one level
/// (a handful of functions in a debug build), with a wide margin.
pub const RED_ZONE: usize = 256 << 10;

/// The size of each new segment. Mapped lazily: only what the recursion touches is committed.
pub const STACK_PER_RECURSION: usize = 4 << 20;

/// Runs `f`, on a new stack segment if less than [`RED_ZONE`] is left on the current one.
///
/// Call it at the top of every function that recurses over expressions.
#[inline]
pub fn ensure_sufficient_stack<R>(f: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(RED_ZONE, STACK_PER_RECURSION, f)
}
