//! Helpers shared by the CLI's integration tests.

pub mod lsp_client;
