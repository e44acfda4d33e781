//! The criterion settings every kernel-family bench shares, included by path from each crate's
//! `benches/` (criterion is a dev-dependency only, so no library crate can hold this).
//!
//! One iteration of these benches is a batch or a million fields (a millisecond to tens of
//! milliseconds): half a second of warm-up and two seconds of samples give stable medians while
//! the whole set stays within a few minutes on the shared 2-core machine.

use std::time::Duration;

use criterion::Criterion;

/// Short runs of `sample_size` samples. Without criterion's rayon feature its bootstrap runs on
/// one thread: 10,000 resamples (not 100,000) keep the analysis to a fraction of a second.
pub fn short_runs(sample_size: usize) -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(sample_size)
        .nresamples(10_000)
}
