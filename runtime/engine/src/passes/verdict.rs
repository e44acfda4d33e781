//! What a run concludes about the whole file once its last pass is over: the file checks'
//! verdict (is the file fatal, and why) and every rule's statistics for the summary.

use std::collections::{BTreeMap, BTreeSet};

use etr_interp::{BatchResult, CheckStats, DatasetStats, FileCheckOutcome, Scalar};
use etr_ir::{Program, RuleIdx, Severity as RuleSeverity, TypeKind};

use crate::output::RuleStats;
use crate::passes::write::Counts;

/// Row-level fatal violations (`else fail`, fatal row checks), as summary entries.
pub(crate) fn collect_row_fatal(result: &BatchResult, into: &mut BTreeSet<(RuleIdx, String)>) {
    for violation in &result.fatal {
        into.insert((violation.rule, violation.target.to_string()));
    }
}

/// The file-level outcome: every file check's outcome, and the fatal reasons in rule order.
pub(crate) struct FileVerdict {
    pub(crate) outcomes: Vec<FileCheckOutcome>,
    pub(crate) fatal: Vec<String>,
}

impl FileVerdict {
    pub(crate) fn new(
        program: &Program,
        outcomes: Vec<FileCheckOutcome>,
        row_fatal: BTreeSet<(RuleIdx, String)>,
    ) -> FileVerdict {
        let mut fatal = Vec::new();
        // A check's own severity decides (a zone `fatal above 5%` of a reject rule is fatal).
        for (check, outcome) in program.file_checks.iter().zip(&outcomes) {
            if !outcome.passed && check.severity == RuleSeverity::Fatal {
                fatal.push(format!("{} {}", program.rule_id(outcome.rule), outcome.target));
            }
        }
        for (rule, target) in row_fatal {
            let entry = format!("{} {}", program.rule_id(rule), target);
            if !fatal.contains(&entry) {
                fatal.push(entry);
            }
        }
        FileVerdict { outcomes, fatal }
    }

    /// Whether a file check or a row failed fatally: then the file loads nothing.
    pub(crate) fn is_fatal(&self) -> bool {
        !self.fatal.is_empty()
    }
}

/// Every rule's statistics over the file, for the summary.
pub(crate) fn rule_stats(
    program: &Program,
    check_stats: &[CheckStats],
    dataset_stats: &DatasetStats,
    outcomes: &[FileCheckOutcome],
    counts: &Counts,
    lines_read: u64,
) -> BTreeMap<String, RuleStats> {
    let mut stats = BTreeMap::new();
    for (idx, rule) in program.rules.iter_enumerated() {
        let mostly = rule.mostly.map_or(1.0, |m| m.0);
        let mut considered = 0;
        let mut unexpected = 0;
        let mut missing = 0;
        let mut file_checks_pass = true;
        let mut observed = serde_json::Value::Null;
        let mut value_counts = None;
        let mut observed_values = Vec::new();
        let mut scope = "raised";
        for (check, stat) in program.row_checks.iter().zip(check_stats) {
            if check.rule == idx {
                scope = "row";
                considered += stat.considered;
                unexpected += stat.unexpected;
                missing += stat.missing;
            }
        }
        // Zones are about the file, not the rule's own rows: they do not count here.
        for (check, outcome) in
            program.file_checks.iter().zip(outcomes).filter(|(c, o)| o.rule == idx && c.zone.is_none())
        {
            scope = "file";
            considered += 1;
            if !outcome.passed {
                unexpected += 1;
                file_checks_pass = false;
            }
            let kind = check.observed.as_ref().map_or(TypeKind::Null, |measured| measured.ty.kind);
            observed_values
                .push(outcome.observed.as_ref().map_or(serde_json::Value::Null, |v| scalar_json(program, kind, v)));
            if observed.is_null() {
                observed = outcome.observed.as_ref().map_or(serde_json::Value::Null, |v| scalar_json(program, kind, v));
                let element = match kind {
                    TypeKind::List(of) => of.kind(),
                    other => other,
                };
                value_counts = outcome.value_counts.as_ref().map(|pairs| {
                    pairs
                        .iter()
                        .map(|(v, n)| serde_json::json!({ "value": scalar_json(program, element, v), "count": n }))
                        .collect()
                });
            }
        }
        for (check, stat) in program.order_checks.iter().zip(&dataset_stats.order) {
            if check.rule == idx {
                scope = "dataset";
                considered += stat.considered;
                unexpected += stat.unexpected;
            }
        }
        for (check, stat) in program.unique_checks.iter().zip(&dataset_stats.unique) {
            if check.rule == idx {
                scope = "dataset";
                considered += stat.considered;
                missing += stat.missing;
            }
        }
        // A unique rule's broken lines are its rows in the rejects.
        if program.unique_checks.iter().any(|c| c.rule == idx) {
            unexpected += counts.per_rule.get(&rule.id).copied().unwrap_or(0);
        }
        if scope == "raised" {
            // Raised by handlers or the source's structural checks: every line could raise it.
            considered = lines_read;
            unexpected = counts.per_rule.get(&rule.id).copied().unwrap_or(0)
                + counts.warnings.get(&rule.id).copied().unwrap_or(0);
        }
        let passing_share_ok =
            considered == 0 || (considered - unexpected.min(considered)) as f64 / considered as f64 >= mostly;
        let unexpected_percent = if considered == 0 { 0.0 } else { unexpected as f64 / considered as f64 * 100.0 };
        stats.insert(
            rule.id.clone(),
            RuleStats {
                severity: rule.severity.as_str().to_string(),
                scope: scope.to_string(),
                considered,
                unexpected_count: unexpected,
                unexpected_percent,
                missing_count: missing,
                mostly,
                success: file_checks_pass && passing_share_ok,
                observed_value: observed,
                value_counts,
                observed_values: if observed_values.len() > 1 { observed_values } else { Vec::new() },
            },
        );
    }
    stats
}

pub(crate) fn scalar_json(program: &Program, kind: TypeKind, value: &Scalar) -> serde_json::Value {
    use serde_json::Value;
    match (value, kind) {
        (Scalar::Null, _) => Value::Null,
        (Scalar::Bool(b), _) => Value::Bool(*b),
        // Money is shown in sen, as it is held: exact.
        (Scalar::Int(i), _) => Value::from(*i),
        (Scalar::Number(n), _) => serde_json::Number::from_f64(*n).map_or(Value::Null, Value::Number),
        (Scalar::List(items), TypeKind::List(of)) => {
            Value::Array(items.iter().map(|item| scalar_json(program, of.kind(), item)).collect())
        }
        (other, kind) => etr_interp::render_scalar(program, kind, other).map_or(Value::Null, Value::String),
    }
}
