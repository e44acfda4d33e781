//! The etr runtime: streams a contributor file through a compiled spec and writes the outputs.
//!
//! This crate is the only place that touches data files. Its folders are its parts:
//! - [`input`]: how a contributor writes its files ([`input::dialect`]), raw bytes to blocks of
//!   whole data lines in bounded memory ([`input::reader`]), and a block to an
//!   [`etr_interp::RawBatch`] of zero-copy string-view columns ([`input::split`]);
//! - [`passes`]: the sweeps over the file a spec needs ([`passes::PassPlan`]), one function per
//!   pass, and the key index of `unique` checks between them;
//! - [`output`]: the output folder (Parquet files, `feedback.csv`, `summary.json`), its writers
//!   and encoders, and its atomic publication ([`output::publish`]).
//!
//! The pipeline that ties them to the evaluators lives in its own module. Native kernels (the
//! JIT's) come from the binary that runs the pipeline, through [`native`]: the runtime itself
//! depends on the IR and the interpreter only.

mod config;
pub mod error;
pub mod input;
pub mod native;
pub mod output;
pub mod passes;
pub mod pipeline;

pub use error::{Result, RuntimeError};
pub use etr_interp::{RawBatch, RawRecordLine};
pub use input::dialect::{DialectError, Encoding, SourceDialect};
pub use input::reader::{BlockReader, InputFacts, RawBlock, ReaderConfig, open};
pub use input::split::{split_block, split_block_columns, split_record_line};
pub use native::{CompiledKernels, KernelFallbacks, NativeBackend, NativeKernels};
pub use output::{
    NativeFallbacks, OutputDir, ParquetOptions, ParquetSink, Published, RuleStats, Severity, Summary, ViolationRow,
    ViolationRowsBuilder, violation_schema,
};
