//! Test helpers shared by etr's crates, for their tests only (a dev-dependency, never shipped).
//!
//! - [`ci`]: what a test does when an external component it needs (a program, a server, a suite
//!   beside the repository) is missing: under CI it fails, on a developer's machine it says on
//!   stderr that it is skipped and why. Never a silent pass.
//! - [`postgres`]: a throwaway PostgreSQL server from the system's packages, on a temporary
//!   directory and a loopback port, for tests that need a real one.
//! - [`http`]: a plain HTTP/1.1 client on a TCP stream, for the tests of `etr serve`.
//! - [`python`]: the Python of the independent checkers (pyiceberg, moto).
//! - [`s3`]: moto's S3 server on a loopback port.

pub mod ci;
pub mod http;
pub mod postgres;
pub mod python;
pub mod s3;
