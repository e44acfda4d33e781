//! The IDE harness: each case is a fixture (one or more spec files, `$0` marking the cursor) and
//! the expected answer of one feature, rendered as text and checked with `expect-test`
//! (`UPDATE_EXPECT=1 cargo test -p etr-ide` rewrites the expectations; review the diff).
//!
//! Fixtures with several files start each with a `//- /path.etr` line. Every fixture also gets
//! the embedded stdlib, read-only, as the language server loads it; workspace files are
//! importable by their path (`/rules/shared.etr` is `use rules.shared`).

mod fixture;

mod code_actions;
mod completion;
mod diagnostics;
mod formatting;
mod hover;
mod inlay_hints;
mod navigation;
mod outline;
mod robustness;
mod semantic_tokens;
