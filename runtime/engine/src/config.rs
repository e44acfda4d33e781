//! How a run is carried out: threads, reader settings, the engine and its native back end, the
//! date it is as of, and whom it tells about its progress and notices. Nothing here changes the
//! outputs. The types are the pipeline's ([`crate::pipeline`] re-exports them); they live apart
//! so that the passes and the native seam can read them without depending on the pipeline.

use std::sync::Arc;

use crate::input::reader::ReaderConfig;
use crate::native::NativeBackend;

/// How a run is carried out. Nothing here changes the outputs.
#[derive(Clone)]
pub struct RunConfig {
    /// Worker threads evaluating blocks (at least 1), and as many threads encoding the accepted
    /// file's columns. By default one less than the cores: the reader, the writing thread and the
    /// encoders need a core between them (docs/notes/0011).
    pub threads: usize,
    pub reader: ReaderConfig,
    /// Shown in the summary: the hash of the spec and stdlib texts the program came from.
    pub spec_hash: String,
    /// Called from the writing thread as the file is read.
    pub progress: Option<Arc<dyn Fn(Progress) + Send + Sync>>,
    /// The date the run is as of (days since 1970-01-01), what `run_date()` reads; by default the
    /// day (UTC) the run starts. Recorded in the summary, so a rerun can pass the same date.
    pub as_of: Option<i32>,
    /// Which back end evaluates the spec. Outputs are identical either way.
    pub engine: Engine,
    /// What compiles the native kernels of [`Engine::Jit`]: the runtime does not link a JIT
    /// itself, the binary that offers one hands it over here (see [`crate::native`]). Without
    /// one, `Engine::Jit` runs the interpreter alone, and the summary's engine line says so.
    pub native_backend: Option<Arc<dyn NativeBackend>>,
    /// Told, once the output is published, what the publication did besides (leftovers of killed
    /// runs removed, a previous output that could not be removed): one sentence each.
    pub notify: Option<Notify>,
    /// Whether the output folder's files are flushed to stable storage before it is published
    /// (the default). The platform turns it off: its run folder is a staging area that the lake
    /// copies, and syncs, before anything refers to it, and a run lost in a crash is run again.
    pub durable: bool,
}

/// Receives the notices of a run, one sentence each.
pub type Notify = Arc<dyn Fn(&str) + Send + Sync>;

/// The back ends. The JIT compiles what it supports to native code and leaves the rest, per
/// expression, to the interpreter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Engine {
    /// The reference interpreter alone.
    #[default]
    Interp,
    /// Native kernels from [`RunConfig::native_backend`] where they exist, the interpreter
    /// elsewhere.
    Jit,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            threads: default_threads(),
            reader: ReaderConfig::default(),
            spec_hash: String::new(),
            progress: None,
            as_of: None,
            engine: Engine::default(),
            native_backend: None,
            notify: None,
            durable: true,
        }
    }
}

/// One less than the cores, at least 1. Asked of the system once per process: on Linux
/// `available_parallelism` reads the cgroup's CPU quota files at every call (a millisecond), and a
/// platform worker makes a `RunConfig` per run.
fn default_threads() -> usize {
    static THREADS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *THREADS.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1)))
}

/// Progress of a run, for a progress bar.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    /// 1-based pass number, and how many passes this run makes.
    pub pass: u8,
    pub passes: u8,
    /// Data lines done in this pass.
    pub lines: u64,
}
