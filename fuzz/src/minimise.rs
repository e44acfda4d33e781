//! Delta debugging: the smallest list of units (lines, tokens, bytes, edits, messages) that still
//! shows the same failure, within a budget of tries.
//!
//! The classic ddmin removes ever smaller chunks of the list while the failure reproduces. Only
//! the "remove a chunk" step is kept (testing chunks on their own rarely helps on text and doubles
//! the cost), and every try counts against a [`Budget`] because a try is a whole case run.

use std::time::{Duration, Instant};

/// How many tries minimisation may spend, and until when.
#[derive(Debug, Clone)]
pub struct Budget {
    tries_left: usize,
    deadline: Instant,
}

impl Budget {
    pub fn new(tries: usize, time: Duration) -> Budget {
        Budget { tries_left: tries, deadline: Instant::now() + time }
    }

    /// Takes one try; false when the budget is spent.
    pub fn take(&mut self) -> bool {
        if self.tries_left == 0 || Instant::now() >= self.deadline {
            return false;
        }
        self.tries_left -= 1;
        true
    }
}

/// Removes chunks of `units` while `fails` still holds, halving the chunk size when no chunk of
/// the current size can go. `fails` is never asked about the full list (the caller knows it
/// fails).
pub fn ddmin<T: Clone>(units: Vec<T>, budget: &mut Budget, fails: &mut dyn FnMut(&[T]) -> bool) -> Vec<T> {
    let mut units = units;
    let mut parts = 2usize;
    while units.len() >= 2 || (units.len() == 1 && parts == 2) {
        let chunk = units.len().div_ceil(parts).max(1);
        let mut removed_one = false;
        let mut start = 0;
        while start < units.len() {
            if !budget.take() {
                return units;
            }
            let end = (start + chunk).min(units.len());
            let candidate: Vec<T> = units[..start].iter().chain(&units[end..]).cloned().collect();
            if fails(&candidate) {
                units = candidate;
                removed_one = true;
                // The same start now holds the next chunk.
            } else {
                start = end;
            }
        }
        if removed_one {
            parts = parts.saturating_sub(1).max(2);
            continue;
        }
        if chunk == 1 {
            break;
        }
        parts = (parts * 2).min(units.len());
    }
    units
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_what_the_failure_needs() {
        let units: Vec<u32> = (0..100).collect();
        let mut budget = Budget::new(10_000, Duration::from_secs(60));
        let minimal = ddmin(units, &mut budget, &mut |c| c.contains(&17) && c.contains(&83));
        assert_eq!(minimal, vec![17, 83]);
    }

    #[test]
    fn an_empty_list_can_be_the_answer() {
        let mut budget = Budget::new(100, Duration::from_secs(60));
        assert!(ddmin(vec![1, 2, 3], &mut budget, &mut |_| true).is_empty());
    }

    #[test]
    fn stops_when_the_budget_is_spent() {
        let units: Vec<u32> = (0..1000).collect();
        let mut budget = Budget::new(3, Duration::from_secs(60));
        let mut asked = 0;
        let kept = ddmin(units, &mut budget, &mut |_| {
            asked += 1;
            false
        });
        assert_eq!(asked, 3);
        assert_eq!(kept.len(), 1000);
    }
}
