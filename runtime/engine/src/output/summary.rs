//! `summary.json`: what a run read, accepted, rejected and refused, every rule's statistics, and
//! how the run was made (spec and input hashes, engine, timings).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The run summary written as `summary.json`. The key names are a contract with the checkers
/// (`lines_read`, `accepted`, `rejected`, `fatal`, `per_rule` and `warnings` are compared).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// The contributor code the spec was written for.
    pub contributor: String,
    /// The layout (spec) name and version.
    pub layout: String,
    /// Data lines read (header, trailer and ignored trailing lines excluded).
    pub lines_read: u64,
    /// Lines written to the accepted output (0 when the file is fatal).
    pub accepted: u64,
    /// Distinct line numbers with at least one REJECT.
    pub rejected: u64,
    /// Lines that broke no row rule but were not loaded because the file is fatal (0 otherwise):
    /// `lines_read = accepted + rejected + refused`.
    pub refused: u64,
    /// The FATAL file checks that failed, such as `"F2 count"`; empty when none did.
    pub fatal: Vec<String>,
    /// Reject rows per rule id.
    pub per_rule: BTreeMap<String, u64>,
    /// Warnings per rule id, counted over accepted lines.
    pub warnings: BTreeMap<String, u64>,
    /// Info findings per rule id, counted over accepted lines.
    pub info: BTreeMap<String, u64>,
    /// The `warn` file checks that failed, such as `"F6 malformed lines"` (the file is loaded).
    pub file_warnings: Vec<String>,
    /// The hash of the compiled spec.
    pub spec_hash: String,
    /// The blake3 hash of the raw input bytes, lowercase hex.
    pub input_hash: String,
    /// Raw input bytes read.
    pub input_bytes: u64,
    /// Blank and Ctrl-Z lines after the last non-empty line (not data, not counted as read).
    pub ignored_trailing_lines: u64,
    /// The date the run was as of (`run_date()`), `YYYY-MM-DD`.
    pub as_of: String,
    /// The engine that evaluated the rules (`"interp"`, `"jit"`) and its version.
    pub engine: String,
    /// Where native kernels did not run and the interpreter computed in their place; absent when
    /// they all ran (and for the interpreter alone).
    #[serde(default, skip_serializing_if = "NativeFallbacks::is_empty")]
    pub native_fallbacks: NativeFallbacks,
    /// Wall time per phase, in milliseconds.
    pub timings_ms: BTreeMap<String, f64>,
    /// What the run kept in memory beyond its bounded buffers, in bytes: today the key index of
    /// `unique` checks (`key_index`), the one structure that grows with the file.
    pub memory_bytes: BTreeMap<String, u64>,
    /// Per rule: how many rows it considered, how many broke it, and whether it succeeded over the
    /// file (its `mostly` threshold met, its file checks passed).
    pub rules: BTreeMap<String, RuleStats>,
}

/// Where a native back end fell back to the interpreter. The outputs are the same either way; this
/// tells a user who asked for `--engine jit` that some of the run did not get native code.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NativeFallbacks {
    /// How many times: one for a spec the back end could not compile (nothing ran natively), and
    /// one per kernel and batch that failed.
    pub count: u64,
    /// Why, the first distinct messages, each after the back end's name.
    pub reasons: Vec<String>,
}

impl NativeFallbacks {
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Adds `count` fallbacks of back end `backend`, for `reasons`.
    pub fn add(&mut self, backend: &str, count: u64, reasons: impl IntoIterator<Item = String>) {
        self.count += count;
        self.reasons.extend(reasons.into_iter().map(|reason| format!("{backend}: {reason}")));
    }
}

/// The quality statistics of one rule over the whole file, uncapped.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RuleStats {
    /// `fatal`, `reject`, `warn` or `info`.
    pub severity: String,
    /// `row`, `file`, `dataset` (uniqueness) or `raised` (by handlers and the source's checks).
    pub scope: String,
    /// Rows (or file checks) the rule was evaluated on with a definite result.
    pub considered: u64,
    /// Rows (or file checks) that broke it.
    pub unexpected_count: u64,
    /// `unexpected_count / considered * 100` (0 when nothing was considered).
    pub unexpected_percent: f64,
    /// Rows where the rule could not be decided because an input was null.
    pub missing_count: u64,
    /// The rule's threshold (1.0 unless it says `mostly`).
    pub mostly: f64,
    /// Whether the rule held over the file: no file check broken, and the share of considered
    /// rows that passed at least `mostly` (vacuously true when nothing was considered).
    pub success: bool,
    /// For a file check reading one aggregate: the aggregate's value.
    pub observed_value: serde_json::Value,
    /// For a check of `distinct_values(x)`: each value with its count (the column's distribution).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_counts: Option<Vec<serde_json::Value>>,
    /// For a rule with several file checks: each check's observed value, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub observed_values: Vec<serde_json::Value>,
}
