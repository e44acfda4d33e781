//! The JIT's typed errors: what can go wrong while compiling a program or running a kernel.
//!
//! A binding the JIT does not support is not an error: it is left to the interpreter
//! ([`crate::JitProgram::eval_binding`] returns `Ok(None)` for it).

use etr_ir::ColumnIdx;

#[derive(Debug, thiserror::Error)]
pub enum JitError {
    /// The host cannot run Cranelift code (no native ISA, or a layout the kernels do not assume).
    #[error("the host is not supported by the JIT: {0}")]
    UnsupportedHost(String),
    /// A Cranelift setting was refused (a bug in this crate's flag list).
    #[error("invalid Cranelift setting: {0}")]
    Settings(#[from] cranelift_codegen::settings::SetError),
    /// Declaring, defining or finalising a function failed; the function text is attached when
    /// known. Cranelift rejected code this crate generated: this is a bug.
    #[error("Cranelift could not compile binding {binding}: {message}")]
    Codegen { binding: usize, message: String },
    /// The module failed outside any one function (finalisation).
    #[error("Cranelift module error: {0}")]
    Module(#[from] Box<cranelift_module::ModuleError>),
    /// The batch has fewer columns than the program declares.
    #[error("the batch has {columns} columns, binding {binding} reads column {}", .column.raw())]
    MissingColumn { binding: usize, column: ColumnIdx, columns: usize },
    /// A kernel found a string view pointing outside the array's data buffers. Arrow validates
    /// views when an array is built, so this is a broken array (built unchecked), not bad data.
    #[error("binding {binding}: column {} has a string view outside its data buffers", .column.raw())]
    InvalidView { binding: usize, column: ColumnIdx },
}
