//! Running one SQL statement: parsed, its tables looked up, planned, checked to only read, then
//! executed as a stream of Arrow batches, so a large result is written out as it comes and never
//! held whole.
//!
//! The steps are DataFusion's `SessionContext::sql`, taken one at a time so that each failure is
//! told apart: a parse error is the analyst's syntax, a plan that fails on a table missing from the
//! lake is answered with the lake's tables (DataFusion would only say it is not found), and a plan
//! that would write is refused before anything runs.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::execution::context::SQLOptions;
use futures::{Stream, TryStreamExt};

use crate::error::SqlError;
use crate::session::LakeSql;

/// A query's result, batch by batch.
pub struct QueryStream {
    schema: SchemaRef,
    batches: SendableRecordBatchStream,
}

impl LakeSql {
    /// Runs one SQL statement that reads. With `limit`, at most that many rows come back, and the
    /// plan stops reading once it has them.
    pub async fn query(&self, sql: &str, limit: Option<usize>) -> Result<QueryStream, SqlError> {
        let state = self.context.state();
        let dialect = state.config().options().sql_parser.dialect;
        let statement = state.sql_to_statement(sql, &dialect).map_err(SqlError::from_datafusion)?;
        // The tables a statement names, looked up only when it does not plan: a `CREATE TABLE x AS`
        // names a table that does not exist yet, and is refused below as a write, not as unknown.
        let references = state.resolve_table_references(&statement).map_err(SqlError::from_datafusion)?;
        let plan = match state.statement_to_plan(statement).await {
            Ok(plan) => plan,
            Err(error) => {
                // CTEs are not among the references (they are the query's own names);
                // `information_schema`'s views are, and exist. A schema that does not resolve
                // (`elsewhere.records`) makes an unknown table too.
                let unknown = references.iter().find(|r| !self.context.table_exist((*r).clone()).unwrap_or(false));
                return Err(match unknown {
                    Some(name) => SqlError::UnknownTable { name: name.to_string(), available: self.tables.clone() },
                    None => SqlError::from_datafusion(error),
                });
            }
        };
        SQLOptions::new()
            .with_allow_ddl(false)
            .with_allow_dml(false)
            .with_allow_statements(false)
            .verify_plan(&plan)
            .map_err(|refused| SqlError::NotReadOnly(refused.find_root().message().into_owned()))?;
        let mut frame = self.context.execute_logical_plan(plan).await.map_err(SqlError::from_datafusion)?;
        if let Some(limit) = limit {
            frame = frame.limit(0, Some(limit)).map_err(SqlError::from_datafusion)?;
        }
        let schema = Arc::new(frame.schema().as_arrow().clone());
        let batches = frame.execute_stream().await.map_err(SqlError::from_datafusion)?;
        Ok(QueryStream { schema, batches })
    }
}

impl QueryStream {
    /// The result's columns, known before the first batch (a result of no rows has them too).
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// Every batch of the result, in memory: for results known to be small.
    pub async fn collect(self) -> Result<Vec<RecordBatch>, SqlError> {
        self.try_collect().await
    }
}

impl Stream for QueryStream {
    type Item = Result<RecordBatch, SqlError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.batches.as_mut().poll_next(cx).map(|item| item.map(|batch| batch.map_err(SqlError::from_datafusion)))
    }
}
