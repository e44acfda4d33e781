//! `etr lsp`: the etr language server, speaking the Language Server Protocol over stdio.
//!
//! This crate is the only one that knows the protocol: it converts positions (UTF-16) and
//! protocol types to and from the `etr-ide` facade, which knows the compiler. It could move to
//! another LSP library by rewriting `server.rs`, `requests/` and `to_proto.rs` alone.
//!
//! Architecture invariant: analysis never blocks the message loop (see `server.rs`).

mod framing;
mod line_index;
mod requests;
mod server;
mod stdlib_cache;
mod to_proto;
mod workspace;

pub use line_index::LineIndex;

/// Serves the protocol on stdin/stdout until the client exits or closes stdin. A message that
/// cannot be decoded is answered with an error and the server goes on, and bytes that cannot be
/// framed are skipped up to the next `Content-Length` header (see `framing.rs`); an error is
/// returned when the async runtime cannot start, or when stdin cannot be read.
pub fn run_stdio() -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let outcome = runtime.block_on(async {
        let (mut to_server, server_input) = tokio::io::duplex(1 << 16);
        let (server_output, from_server) = tokio::io::duplex(1 << 16);
        let (refused_tx, refused_rx) = tokio::sync::mpsc::unbounded_channel();
        let (incoming_tx, mut incoming_rx) = tokio::sync::mpsc::channel(64);
        std::thread::spawn(move || framing::read_client(std::io::stdin().lock(), incoming_tx));
        let output = tokio::spawn(framing::write_client(from_server, refused_rx, tokio::io::stdout()));
        let (service, socket) = tower_lsp_server::LspService::new(server::Server::new);
        let mut serve = tokio::spawn(tower_lsp_server::Server::new(server_input, server_output, socket).serve(service));
        let forward = async {
            while let Some(incoming) = incoming_rx.recv().await {
                match incoming {
                    framing::Incoming::Message(body) => {
                        if framing::write_frame(&mut to_server, &body).await.is_err() {
                            return Ok(());
                        }
                    }
                    framing::Incoming::Refused(answer) => {
                        let _ = refused_tx.send(answer);
                    }
                    framing::Incoming::End(outcome) => return outcome,
                }
            }
            Ok(())
        };
        let (outcome, served) = tokio::select! {
            outcome = forward => (outcome, false),
            // The server ended by itself (the `exit` notification).
            _ = &mut serve => (Ok(()), true),
        };
        // Closing the server's input ends it (if it has not ended); its output then ends too,
        // after the writer has copied everything it wrote.
        drop(to_server);
        drop(refused_tx);
        if !served {
            let _ = serve.await;
        }
        let _ = output.await;
        outcome
    });
    outcome.map_err(|broken| std::io::Error::new(std::io::ErrorKind::InvalidData, broken.to_string()))
}
