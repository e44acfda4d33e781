//! `etr lsp`: the etr language server, speaking the Language Server Protocol over stdio.
//!
//! This crate is the only one that knows the protocol: it converts positions (UTF-16) and
//! protocol types to and from the `etr-ide` facade, which knows the compiler. It could move to
//! another LSP library by rewriting `server.rs`, `requests/` and `to_proto.rs` alone.
//!
//! Architecture invariant: analysis never blocks the message loop (see `server.rs`).

mod disk;
mod line_index;
mod requests;
mod server;
mod to_proto;
mod workspace;

pub use disk::{MAX_SPEC_BYTES, ReadRefusal, read_spec};
pub use line_index::LineIndex;
pub use workspace::workspace_specs;

/// Serves the protocol on stdin/stdout until the client exits. Returns an error only when the
/// async runtime cannot start.
pub fn run_stdio() -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let (service, socket) = tower_lsp_server::LspService::new(server::Server::new);
        tower_lsp_server::Server::new(tokio::io::stdin(), tokio::io::stdout(), socket).serve(service).await;
    });
    Ok(())
}
