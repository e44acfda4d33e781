//! The etr runtime: streams a contributor file through a compiled spec and writes the outputs.
//!
//! This crate is the only place that touches data files. The stages, each in its own module:
//! - [`dialect`]: how a contributor writes its files (delimiter, quoting, encoding, header and
//!   trailer markers);
//! - [`reader`]: raw bytes to [`reader::RawChunk`]s of whole data lines, in bounded memory, with
//!   the header, the trailer, the input hash and the line counters;
//! - [`split`]: a chunk to an [`etr_interp::RawBatch`] of zero-copy string-view columns, pure so
//!   that it can run on worker threads;
//! - [`output`]: the output folder (Parquet files and `summary.json`) and its writers;
//! - [`publish`]: what an output folder may replace, the atomic exchange that publishes it, and
//!   the cleanup of what killed runs left behind.
//!
//! The pipeline that ties them to the evaluators lives in its own module. Native kernels (the
//! JIT's) come from the binary that runs the pipeline, through [`native`]: the runtime itself
//! depends on the IR and the interpreter only.

mod chunks;
pub mod dialect;
mod encode;
pub mod error;
mod keys;
pub mod native;
pub mod output;
pub mod pipeline;
pub mod publish;
pub mod reader;
pub mod split;

pub use dialect::{DialectError, Encoding, SourceDialect};
pub use error::{Result, RuntimeError};
pub use etr_interp::{RawBatch, RawRecordLine};
pub use native::{CompiledKernels, KernelFallbacks, NativeBackend, NativeKernels};
pub use output::{
    NativeFallbacks, OutputDir, ParquetOptions, ParquetSink, Published, RuleStats, Severity, Summary, ViolationRow,
    ViolationRowsBuilder, violation_schema,
};
pub use reader::{ChunkReader, InputFacts, RawChunk, ReaderConfig, open};
pub use split::{split_chunk, split_chunk_columns, split_record_line};
