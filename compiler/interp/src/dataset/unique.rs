//! The `unique` checks: which lines take part, which keys occur more than once among them, and the
//! verdict on each line.
//!
//! A line takes part in a check when no row rule rejected it, the check's `when` holds, and some
//! part of its key is not null (a key whose parts are all null takes no part: missing keys are the
//! `require` rules' business, as in GX). Every line that takes part with a key occurring more than
//! once is rejected, all copies.

use etr_ir::{Program, UniqueCheck};
use hashbrown::{HashMap, HashSet};

use super::takes_part;
use crate::{BatchResult, CheckStats, InterpError, RawBatch};

/// Counts the keys of the lines that take part in each unique check, over batches evaluated with
/// key hashes ([`crate::BatchResult::key_hashes`]), in any order; then names the lines whose key
/// occurs more than once.
///
/// Fed every line of a file, it gives every check's duplicates. Fed a subset, it gives the
/// duplicates among that subset: the runtime's key pass feeds it only the lines whose key it
/// counted more than once over a superset of the lines that take part, which are the same.
#[derive(Debug)]
pub struct UniqueKeys {
    counts: Vec<HashMap<u128, u32>>,
    /// Per check, the line number and key of every line that took part.
    takers: Vec<Vec<(u64, u128)>>,
}

/// Per unique check, the lines (by line number) it rejects: those whose key occurs more than once
/// among the lines that take part.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DuplicateLines {
    per_check: Vec<HashSet<u64>>,
}

impl UniqueKeys {
    pub fn new(program: &Program) -> UniqueKeys {
        let checks = program.unique_checks.len();
        UniqueKeys { counts: vec![HashMap::new(); checks], takers: vec![Vec::new(); checks] }
    }

    /// Counts the lines of `batch` that take part, from its evaluation `result`.
    pub fn add(&mut self, program: &Program, batch: &RawBatch, result: &BatchResult) -> Result<(), InterpError> {
        for (index, (counts, takers)) in self.counts.iter_mut().zip(&mut self.takers).enumerate() {
            let (Some(check), Some(hashes)) = (program.unique_checks.get(index), result.key_hashes.get(index)) else {
                return Err(InterpError::internal(format!("no key hashes for unique check {index}")));
            };
            for (row, ((hash, rejected), &line)) in hashes.iter().zip(&result.rejected).zip(&batch.line_nos).enumerate()
            {
                if !rejected && takes_part(&result.unique_when, index, row) && !key_is_null(check, result, row) {
                    *counts.entry(*hash).or_insert(0) += 1;
                    takers.push((line, *hash));
                }
            }
        }
        Ok(())
    }

    /// Per check, the lines whose key was counted more than once.
    pub fn duplicates(self) -> DuplicateLines {
        let per_check = self
            .counts
            .into_iter()
            .zip(self.takers)
            .map(|(counts, takers)| {
                takers
                    .into_iter()
                    .filter(|(_, hash)| counts.get(hash).is_some_and(|&n| n > 1))
                    .map(|(line, _)| line)
                    .collect()
            })
            .collect();
        DuplicateLines { per_check }
    }
}

impl DuplicateLines {
    /// No line rejected by any check: what a program without unique checks has.
    pub fn none() -> DuplicateLines {
        DuplicateLines::default()
    }

    /// Whether unique check `check` rejects line `line_no`.
    pub fn rejects(&self, check: usize, line_no: u64) -> bool {
        self.per_check.get(check).is_some_and(|lines| lines.contains(&line_no))
    }
}

/// Counts row `row` (line `line_no`, which no row rule rejected) in the statistics of the checks it
/// takes part in, and returns the first check that rejects it: its finding is that check's.
pub(super) fn verdict(
    program: &Program,
    duplicates: &DuplicateLines,
    result: &BatchResult,
    row: usize,
    line_no: u64,
    stats: &mut [CheckStats],
) -> Option<usize> {
    for (index, (check, stats)) in program.unique_checks.iter().zip(stats.iter_mut()).enumerate() {
        if !takes_part(&result.unique_when, index, row) {
            continue;
        }
        if key_is_null(check, result, row) {
            stats.missing += 1;
        } else {
            stats.considered += 1;
        }
    }
    // The lines a check rejects are known by number; they all took part with a key.
    let first = (0..program.unique_checks.len()).find(|&index| duplicates.rejects(index, line_no))?;
    if let Some(stats) = stats.get_mut(first) {
        stats.unexpected += 1;
    }
    Some(first)
}

/// Whether every part of the key of `check` is null on row `row`.
fn key_is_null(check: &UniqueCheck, result: &BatchResult, row: usize) -> bool {
    check.key.iter().all(|&field| result.fields.get(field.index()).is_none_or(|values| values.is_null(row)))
}
