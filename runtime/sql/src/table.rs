//! A lake table as a DataFusion table: `datafusion_iceberg`'s provider on the table's current
//! snapshot, asked for every live data file, with the query's filters applied by DataFusion.
//!
//! Why not `datafusion_iceberg`'s own pruning: it skips manifests and data files by the bounds
//! that iceberg-rust 0.10 wrote into the manifest list and the manifests, and some of those bounds
//! are wrong, so pruning on them drops files whose rows match (docs/notes/0026):
//! - the manifest list's partition summary of a text column is never widened when a manifest
//!   gains files (`update_partitions` compares numbers and dates only), so the `contributor`
//!   summary names the first contributor of a manifest, and `WHERE contributor = 'ABC'` skips
//!   every manifest first written for another contributor;
//! - a data file's text bounds are its first row group's, not merged over its row groups;
//! - a decimal's bounds are read as big-endian bytes from Parquet statistics that are little-endian
//!   integers, which makes money's bounds meaningless.
//!
//! Given no filter, the provider lists the snapshot's live files from its manifests, which are
//! right. The filters stay in the plan above the scan, and DataFusion's Parquet reader still
//! skips row groups by the statistics in each file's own footer, which the Parquet writer computed
//! from the rows: `records` and `rejects` hold one contributor-month per file, so a filter on
//! `month` or `contributor` reads only the footer of every other file.
//!
//! The scan the provider plans also carries the manifests' bounds, as column statistics of the
//! table and of each file, and DataFusion trusts them: it answers `max(balance)` from them without
//! reading a row, and skips a file whose bounds rule a filter out. So they are taken out of the
//! plan, all but the row counts (which are the Parquet footers' and right).

use std::any::Any;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::Session;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{ColumnStatistics, Statistics};
use datafusion::datasource::TableProvider;
use datafusion::datasource::physical_plan::{FileGroup, FileScanConfig, FileScanConfigBuilder};
use datafusion::datasource::source::DataSourceExec;
use datafusion::error::Result;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown, TableType};
use datafusion::physical_plan::ExecutionPlan;
use datafusion_iceberg::DataFusionTable;

/// One of the lake's tables at the snapshot it was loaded at, read without trusting the
/// manifests' bounds.
#[derive(Debug)]
pub(crate) struct SnapshotTable {
    inner: DataFusionTable,
}

impl SnapshotTable {
    pub(crate) fn new(inner: DataFusionTable) -> SnapshotTable {
        SnapshotTable { inner }
    }
}

#[async_trait]
impl TableProvider for SnapshotTable {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn schema(&self) -> SchemaRef {
        self.inner.schema()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        // Every filter is `Unsupported` below, so none reaches here, and DataFusion passes a limit
        // only when no filter stands between it and the scan.
        let plan = self.inner.scan(state, projection, &[], limit).await?;
        without_column_statistics(plan)
    }

    fn supports_filters_pushdown(&self, filters: &[&Expr]) -> Result<Vec<TableProviderFilterPushDown>> {
        Ok(vec![TableProviderFilterPushDown::Unsupported; filters.len()])
    }

    fn statistics(&self) -> Option<Statistics> {
        // The snapshot summary's row count, marked inexact: for the planner's choices, never for
        // an answer.
        self.inner.statistics()
    }
    // No `insert_into`: the trait's default refuses it, so this table cannot be written through
    // DataFusion whatever plan reaches it.
}

/// `plan` with the column statistics of its file scans unknown: the table's, and each file's
/// (a file without statistics is never skipped by them). The row counts stay.
fn without_column_statistics(plan: Arc<dyn ExecutionPlan>) -> Result<Arc<dyn ExecutionPlan>> {
    plan.transform_up(|node| {
        let Some(config) = node
            .as_any()
            .downcast_ref::<DataSourceExec>()
            .and_then(|scan| scan.data_source().as_any().downcast_ref::<FileScanConfig>())
        else {
            return Ok(Transformed::no(node));
        };
        let table = config.statistics();
        let statistics = Statistics {
            num_rows: table.num_rows,
            total_byte_size: table.total_byte_size,
            column_statistics: vec![ColumnStatistics::new_unknown(); table.column_statistics.len()],
        };
        let file_groups: Vec<FileGroup> = config
            .file_groups
            .iter()
            .map(|group| {
                group
                    .iter()
                    .cloned()
                    .map(|mut file| {
                        file.statistics = None;
                        file
                    })
                    .collect()
            })
            .collect();
        let config = FileScanConfigBuilder::from(config.clone())
            .with_file_groups(file_groups)
            .with_statistics(statistics)
            .build();
        Ok(Transformed::yes(DataSourceExec::from_data_source(config) as Arc<dyn ExecutionPlan>))
    })
    .map(|transformed| transformed.data)
}
