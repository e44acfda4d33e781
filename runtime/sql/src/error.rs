//! What can go wrong with a query, split by whose it is to fix: the analyst's (the SQL text, a
//! name), the workspace's (no lake yet), or the platform's (the catalog or storage failed).
//! `etr sql` turns each class into its exit status.

use arrow::error::ArrowError;
use datafusion::error::DataFusionError;
use datafusion::sql::sqlparser::parser::ParserError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum SqlError {
    /// The lake has no tables yet: no run was ever published in this workspace.
    #[error("the lake has no tables yet: no run has been published in this workspace")]
    NoLake,
    /// The text is not one SQL statement (DataFusion's parser says where and why).
    #[error("syntax error: {0}")]
    Syntax(String),
    /// The query names a table the lake does not have.
    #[error("no table `{name}` in the lake; its tables are {}", available.join(", "))]
    UnknownTable { name: String, available: Vec<String> },
    /// The query does not plan (an unknown column, types that do not go together, SQL DataFusion does
    /// not support) or fails on the data it reads (a cast of a value that is not a number, say).
    #[error("{0}")]
    Query(String),
    /// A statement that would change something (`CREATE`, `INSERT`, `COPY`, `SET`): `etr sql` only reads.
    #[error("`etr sql` only reads the lake: {0}")]
    NotReadOnly(String),
    /// The lake could not be read (the catalog, the warehouse's files), or the query ran out of the
    /// memory and spill space it is allowed.
    #[error("{0}")]
    Lake(String),
    /// The result could not be written out (a full disk, say).
    #[error("writing the result: {0}")]
    Write(String),
}

impl SqlError {
    /// Whether the query itself is at fault (its text, a name in it, what it asks): what an
    /// analyst fixes, as opposed to a lake that is missing or failing.
    pub fn is_in_the_query(&self) -> bool {
        matches!(
            self,
            SqlError::Syntax(_) | SqlError::UnknownTable { .. } | SqlError::Query(_) | SqlError::NotReadOnly(_)
        )
    }

    /// Sorts an error of DataFusion by its root cause. DataFusion wraps causes (in `Context`,
    /// `Shared`, `Diagnostic`), so the class is read from the innermost one, and the text from it
    /// too: the wrappers add prefixes, not information an analyst needs.
    pub(crate) fn from_datafusion(error: DataFusionError) -> SqlError {
        let root = error.find_root();
        match root {
            DataFusionError::SQL(parser, _) => SqlError::Syntax(match parser.as_ref() {
                ParserError::ParserError(message) | ParserError::TokenizerError(message) => message.clone(),
                ParserError::RecursionLimitExceeded => "the statement nests too deeply".to_owned(),
            }),
            DataFusionError::Plan(message) | DataFusionError::NotImplemented(message) => {
                SqlError::Query(message.clone())
            }
            DataFusionError::SchemaError(..) => SqlError::Query(root.message().into_owned()),
            // A cast or an arithmetic on values is the query's; reading bytes is the lake's.
            DataFusionError::ArrowError(arrow, _) => match arrow.as_ref() {
                ArrowError::IoError(..) | ArrowError::ExternalError(_) => {
                    SqlError::Lake(format!("the query could not run: {}", root.message()))
                }
                _ => SqlError::Query(root.message().into_owned()),
            },
            // `Execution` is what DataFusion's functions raise on a bad argument value.
            DataFusionError::Execution(message) => SqlError::Query(message.clone()),
            DataFusionError::ResourcesExhausted(message) => SqlError::Lake(format!(
                "the query needs more memory or spill space than it is allowed ({message}); \
                 raise the memory limit, or aggregate or filter more before sorting or joining"
            )),
            // Reading the catalog or the files, spilling, a task that died.
            _ => SqlError::Lake(format!("the query could not run: {}", root.message())),
        }
    }
}
