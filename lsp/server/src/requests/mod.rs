//! One module per request: each converts the protocol's parameters, calls `etr-ide` on a snapshot
//! (through `Server::query` or `Server::at_position`), and converts the answer back.

pub(crate) mod code_action;
pub(crate) mod completion;
pub(crate) mod definition;
pub(crate) mod document_symbol;
pub(crate) mod formatting;
pub(crate) mod hover;
pub(crate) mod inlay_hint;
pub(crate) mod references;
pub(crate) mod rename;
pub(crate) mod semantic_tokens;
