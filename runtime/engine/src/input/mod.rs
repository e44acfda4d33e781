//! The input side of a run: what a contributor's file looks like ([`dialect`]), how it is read in
//! bounded memory ([`reader`]), and how its lines become columns ([`split`]).
//!
//! Nothing here evaluates or writes anything: the passes ask for the file's lines and get them
//! in file order, as batches of Arrow string views that point into the bytes read.

pub mod dialect;
pub mod reader;
pub mod split;
