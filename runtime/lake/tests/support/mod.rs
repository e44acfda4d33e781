//! What the lake's test binaries share: a publication request for JCL's June 2025.

use std::path::Path;

use etr_lake::{Month, PublishRequest, RunRow};

/// The request to publish the engine's output folder `output` as run `run_id`, received `seq`th.
pub fn request<'a>(
    run_id: &'a str,
    seq: i64,
    output: &'a Path,
    summary: &etr_runtime::output::Summary,
) -> PublishRequest<'a> {
    PublishRequest {
        run_id,
        run_seq: seq,
        contributor: "JCL",
        month: Month { year: 2025, month: 6 },
        output,
        run: RunRow {
            file_name: format!("JCL_202506_{seq}.psv"),
            content_hash: format!("{seq:064}"),
            size_bytes: 1,
            lines_read: summary.lines_read as i64,
            accepted: summary.accepted as i64,
            rejected: summary.rejected as i64,
            warnings: 0,
            spec_hash: summary.spec_hash.clone(),
            published_at_micros: 1_750_000_000_000_000 + seq,
        },
    }
}
