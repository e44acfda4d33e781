//! The platform around the engine: a workspace (`etr.yaml`) of contributors, the files they send
//! (landing folder, HTTP, bucket), the archive that keeps every received file by content hash, and
//! the path of each file from landing to the lake, tracked by the run ledger.
//!
//! This crate holds the parts that are not the engine, the ledger or the lake: reading the workspace
//! (`config`), naming a file's reporting month (`pattern`), keeping received files (`archive`, with its copy in a bucket: `archive_bucket`), and
//! taking each run from arrival to its end (`platform`), and `etr serve`: the HTTP API and portal
//! (`http`), the landing-folder watcher (`watch`), the landing-bucket watcher (`bucket`), and the loop that runs them with the workers (`serve`). docs/architecture.md has the map.

pub mod archive;
pub mod archive_bucket;
pub mod bucket;
pub mod config;
pub mod http;
pub mod pattern;
pub mod platform;
pub mod serve;
pub mod watch;

pub use archive::{Archive, Incoming, Stored};
pub use config::{ConfigError, Contributor, LedgerLocation, Secret, WORKSPACE_FILE, Workspace};
pub use pattern::FilePattern;
pub use platform::{CompiledSpec, EngineSettings, IntakeError, Platform, PlatformError, Processed, SpecCompiler};
pub use serve::{ServeOptions, interrupted, serve, serve_with};
