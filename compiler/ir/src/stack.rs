//! Enough stack for a walk over a deep expression, on any thread.
//!
//! An IR expression is as deep as the spec's (up to 256 levels, the parser's limit), and its
//! walks (the text form, the interpreter's evaluation, the JIT's planning, the runtime's look at
//! rule expressions) recurse once per level on whatever thread calls them: the runtime's worker
//! threads and a language server's have 2 MiB, which a debug build can exhaust, and a stack
//! overflow aborts the process. So each recursive walk calls [`ensure_sufficient_stack`] once per
//! level, as rustc does: when less than [`RED_ZONE`] is left, the walk continues on a fresh
//! segment.
//!
//! `etr-syntax` has the same helper for the front end's walks over the syntax tree; this one
//! serves the crates that know only the IR.

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
