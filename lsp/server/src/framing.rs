//! The protocol's framing on stdio, owned by the server rather than by tower-lsp-server.
//!
//! Why: tower-lsp-server 0.23 reads stdin through a `tokio_util` `FramedRead`, which ends the
//! stream after the first decoding error. One undecodable message (a body that is not UTF-8,
//! truncated JSON, a lone surrogate escape `"\ud800"` that serde_json rejects) got a Parse error
//! answer and then the server stopped reading and exited 0: the editor lost its server. Here each
//! frame is read whole by its `Content-Length`, its body checked to be a JSON-RPC message
//! tower-lsp will accept, and only the good ones are passed on; a bad one is answered here (Parse
//! error -32700 or Invalid Request -32600, id null unless the message's id could be read) and the
//! next frame is read as usual.
//!
//! A header block that cannot be framed (no valid `Content-Length`, a line that is not a header,
//! a header line over [`MAX_HEADER_LINE`] without its line end) is skipped, not fatal: one line
//! goes to stderr, and reading resumes at the next `Content-Length:` (header names are
//! case-insensitive), searched from the second byte of the bad block on. The search does not
//! wait for a line start: after a `Content-Length` shorter than its body, the rest of that body
//! runs into the next frame's header on the same line, and that next frame is the one to answer.
//! The search holds no more than the bad block in memory, however long the garbage. Only the end
//! of stdin ends the server (a frame cut short there is logged), or a read error on stdin.
//!
//! Plumbing: a thread reads stdin (a blocking read that no runtime has to wait for at exit) and
//! sends each checked frame to the runtime; tower-lsp reads the good ones from an in-memory pipe
//! and writes its output to another, whose frames a writer task copies to stdout whole, between
//! the answers to bad messages.

use std::io::{BufRead, Read};

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;
use tower_lsp_server::jsonrpc;

/// The longest header line accepted, and the most header lines in one frame (so a bad header
/// block, kept to search it again, is at most about 256 KiB).
const MAX_HEADER_LINE: usize = 8 * 1024;
const MAX_HEADER_LINES: usize = 32;
/// The largest body read; a larger one is skipped and answered with an error. A whole spec is
/// about 40 kB, and a `didOpen` of the largest spec the server reads is 16 MiB.
const MAX_BODY: usize = 64 * 1024 * 1024;
/// The header a frame starts at after a resynchronisation (compared ignoring ASCII case).
const CONTENT_LENGTH: &[u8] = b"content-length:";

/// Why stdin can no longer be read at all (a read error; never the bytes the client sent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenStream(pub String);

impl std::fmt::Display for BrokenStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot read the client's messages: {}", self.0)
    }
}

/// One frame's body, or what was skipped instead, or the end of the stream.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    Body(Vec<u8>),
    /// A body over [`MAX_BODY`], skipped unread (its length).
    TooLarge(usize),
    /// Bytes that were not a frame, skipped up to the next `Content-Length:` or EOF (why).
    Skipped(String),
    End,
}

/// Why a frame could not be read.
enum Unreadable {
    /// The header block (its raw bytes, line ends included) cannot be framed.
    Unframed(String, Vec<u8>),
    /// The stream ends inside a frame.
    Truncated(String),
    Io(BrokenStream),
}

fn io_error(e: std::io::Error) -> Unreadable {
    Unreadable::Io(BrokenStream(e.to_string()))
}

/// The client's stream, with bytes put back in front of it: the part of a bad header block that
/// follows a `Content-Length:` found in it is read again as the next frame's header.
pub struct FrameReader<R> {
    pending: Vec<u8>,
    at: usize,
    input: R,
    /// The body of the frame just read, when the caller found it bad ([`Self::last_body_was_bad`]).
    /// A bad body followed by a header block that cannot be framed means the length before it was
    /// wrong (`Content-Length: 10` cut with bare line ends, say): the next frame is searched from
    /// the start of that body, where its header may have begun.
    bad_body: Vec<u8>,
    last_body: Vec<u8>,
}

impl<R: BufRead> Read for FrameReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for FrameReader<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        if self.at < self.pending.len() {
            return Ok(&self.pending[self.at..]);
        }
        self.input.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        if self.at < self.pending.len() {
            self.at += amount;
            if self.at >= self.pending.len() {
                self.pending.clear();
                self.at = 0;
            }
        } else {
            self.input.consume(amount);
        }
    }
}

impl<R: BufRead> FrameReader<R> {
    pub fn new(input: R) -> Self {
        FrameReader { pending: Vec::new(), at: 0, input, bad_body: Vec::new(), last_body: Vec::new() }
    }

    /// Says that the body [`Self::next_frame`] just returned is not a message (see `bad_body`).
    pub fn last_body_was_bad(&mut self) {
        self.bad_body = std::mem::take(&mut self.last_body);
    }

    /// The next frame; a stretch that is not a frame comes back as [`Frame::Skipped`], once.
    pub fn next_frame(&mut self) -> Result<Frame, BrokenStream> {
        let bad_body = std::mem::take(&mut self.bad_body);
        self.last_body.clear();
        match read_frame(self) {
            Ok(Frame::Body(body)) => {
                self.last_body.extend_from_slice(&body);
                Ok(Frame::Body(body))
            }
            Ok(frame) => Ok(frame),
            Err(Unreadable::Truncated(why)) => Ok(Frame::Skipped(why)),
            Err(Unreadable::Io(broken)) => Err(broken),
            Err(Unreadable::Unframed(why, block)) => {
                // From the block's second byte, so that the search always moves on; from the bad
                // body's first, which was read as a body and never searched.
                let found = if bad_body.is_empty() {
                    self.skip_to_content_length(&block, 1)?
                } else {
                    self.skip_to_content_length(&[bad_body, block].concat(), 0)?
                };
                let resumed = if found { "reading on from the next Content-Length" } else { "no frame follows" };
                Ok(Frame::Skipped(format!("{why}; skipped to {resumed}")))
            }
        }
    }

    /// Puts the reader at the next `Content-Length:` from byte `from` of `block` (the bytes just
    /// read that are not a frame), or at EOF; whether one was found.
    fn skip_to_content_length(&mut self, block: &[u8], from: usize) -> Result<bool, BrokenStream> {
        let mut matched = 0;
        for (i, &byte) in block.iter().enumerate().skip(from) {
            matched = next_match(matched, byte);
            if matched == CONTENT_LENGTH.len() {
                let rest = &block[i + 1 - CONTENT_LENGTH.len()..];
                let mut pending = rest.to_vec();
                pending.extend_from_slice(&self.pending[self.at..]);
                self.pending = pending;
                self.at = 0;
                return Ok(true);
            }
        }
        // Not in the block: read on, holding nothing but how much of the name matched so far.
        loop {
            let available = self.fill_buf().map_err(|e| BrokenStream(e.to_string()))?;
            if available.is_empty() {
                return Ok(false);
            }
            let mut found = None;
            for (i, &byte) in available.iter().enumerate() {
                matched = next_match(matched, byte);
                if matched == CONTENT_LENGTH.len() {
                    found = Some(i + 1);
                    break;
                }
            }
            let used = found.unwrap_or(available.len());
            self.consume(used);
            if found.is_some() {
                // The name's bytes may lie in buffers already consumed: put the name back whole.
                let mut pending = b"Content-Length:".to_vec();
                pending.extend_from_slice(&self.pending[self.at..]);
                self.pending = pending;
                self.at = 0;
                return Ok(true);
            }
        }
    }
}

/// How much of [`CONTENT_LENGTH`] is matched after `byte`, given `matched` before it. The name's
/// first letter occurs nowhere else in it, so a mismatch restarts at that letter or at nothing.
fn next_match(matched: usize, byte: u8) -> usize {
    let byte = byte.to_ascii_lowercase();
    if byte == CONTENT_LENGTH[matched] {
        matched + 1
    } else if byte == CONTENT_LENGTH[0] {
        1
    } else {
        0
    }
}

/// Reads one header line into `block` (line end included) and returns it without its `\r\n` (or
/// `\n`). `None` at EOF before any byte.
fn header_line(input: &mut impl BufRead, block: &mut Vec<u8>) -> Result<Option<Vec<u8>>, Unreadable> {
    let start = block.len();
    let read = input.by_ref().take(MAX_HEADER_LINE as u64 + 1).read_until(b'\n', block).map_err(io_error)?;
    if read == 0 {
        return Ok(None);
    }
    if !block.ends_with(b"\n") {
        return Err(if read > MAX_HEADER_LINE {
            // The rest of the line is not read here: the search for the next frame skips it.
            Unreadable::Unframed(format!("a header line is longer than {MAX_HEADER_LINE} bytes"), std::mem::take(block))
        } else {
            Unreadable::Truncated("the stream ends inside a header".into())
        });
    }
    let mut line = block[start..block.len() - 1].to_vec();
    if line.ends_with(b"\r") {
        line.pop();
    }
    Ok(Some(line))
}

/// Reads the next frame: headers up to an empty line, then `Content-Length` bytes of body.
fn read_frame(input: &mut impl BufRead) -> Result<Frame, Unreadable> {
    let mut length = None;
    let mut lines = 0;
    let mut block = Vec::new();
    let unframed = |why: String, block: &mut Vec<u8>| Err(Unreadable::Unframed(why, std::mem::take(block)));
    loop {
        let Some(line) = header_line(input, &mut block)? else {
            return if lines == 0 {
                Ok(Frame::End)
            } else {
                Err(Unreadable::Truncated("the stream ends inside a header".into()))
            };
        };
        lines += 1;
        if line.is_empty() {
            if lines == 1 {
                // A stray line end between frames: tolerated, as most clients' readers do.
                lines = 0;
                block.clear();
                continue;
            }
            break;
        }
        if lines > MAX_HEADER_LINES {
            return unframed(format!("more than {MAX_HEADER_LINES} header lines"), &mut block);
        }
        let Some((name, value)) = std::str::from_utf8(&line).ok().and_then(|line| line.split_once(':')) else {
            let shown: String = String::from_utf8_lossy(&line).chars().take(40).collect();
            return unframed(format!("{shown:?} is not a header"), &mut block);
        };
        if name.trim().eq_ignore_ascii_case("content-length") {
            match value.trim().parse::<usize>() {
                Ok(parsed) => length = Some(parsed),
                Err(_) => {
                    let shown: String = value.trim().chars().take(40).collect();
                    return unframed(format!("{shown:?} is not a Content-Length"), &mut block);
                }
            }
        }
        // Content-Type (always UTF-8 JSON in practice) and unknown headers are ignored.
    }
    let Some(length) = length else {
        return unframed("a frame has no Content-Length".into(), &mut block);
    };
    if length > MAX_BODY {
        let skipped = std::io::copy(&mut input.by_ref().take(length as u64), &mut std::io::sink()).map_err(io_error)?;
        if skipped < length as u64 {
            return Err(Unreadable::Truncated("the stream ends inside a body".into()));
        }
        return Ok(Frame::TooLarge(length));
    }
    let mut body = Vec::with_capacity(length.min(1 << 20));
    let read = input.by_ref().take(length as u64).read_to_end(&mut body).map_err(io_error)?;
    if read < length {
        return Err(Unreadable::Truncated("the stream ends inside a body".into()));
    }
    Ok(Frame::Body(body))
}

/// Whether a body is a message tower-lsp accepts; if not, the answer to send back.
pub fn check_body(body: &[u8]) -> Result<(), Value> {
    let error = |code: i64, message: &str, id: Value| json!({ "jsonrpc": "2.0", "error": { "code": code, "message": message }, "id": id });
    let Ok(text) = std::str::from_utf8(body) else {
        return Err(error(-32700, "Parse error: the message is not UTF-8", Value::Null));
    };
    // serde_json rejects what JSON-RPC peers may not send: lone surrogates, truncated text.
    let value: Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(e) => return Err(error(-32700, &format!("Parse error: {e}"), Value::Null)),
    };
    // tower-lsp reads a message as a response, else a request or notification (untagged).
    let is_response = serde_json::from_value::<jsonrpc::Response>(value.clone()).is_ok();
    if is_response || serde_json::from_value::<jsonrpc::Request>(value.clone()).is_ok() {
        return Ok(());
    }
    let id = match value.get("id") {
        Some(id @ (Value::Number(_) | Value::String(_))) => id.clone(),
        _ => Value::Null,
    };
    Err(error(-32600, "Invalid Request: not a JSON-RPC 2.0 request, notification or response", id))
}

/// What the stdin thread hands to the runtime.
#[derive(Debug)]
pub enum Incoming {
    /// A checked message for tower-lsp.
    Message(Vec<u8>),
    /// The answer to a message that was not passed on.
    Refused(Value),
    /// The end: `Ok` at EOF, else why the stream broke.
    End(Result<(), BrokenStream>),
}

/// Reads frames from `input` until EOF (or a read error), checking each; runs on its own thread.
pub fn read_client(input: impl BufRead, to_runtime: mpsc::Sender<Incoming>) {
    let mut input = FrameReader::new(input);
    loop {
        let incoming = match input.next_frame() {
            Ok(Frame::Body(body)) => match check_body(&body) {
                Ok(()) => Incoming::Message(body),
                Err(answer) => {
                    input.last_body_was_bad();
                    Incoming::Refused(answer)
                }
            },
            Ok(Frame::TooLarge(length)) => Incoming::Refused(json!({
                "jsonrpc": "2.0",
                "error": { "code": -32700, "message": format!("Parse error: a message of {length} bytes is over the limit of {MAX_BODY}") },
                "id": null,
            })),
            Ok(Frame::Skipped(why)) => {
                // Nothing to answer (no id can be read from bytes that are not a frame): the
                // editor's log is the one place this can be seen.
                eprintln!("etr lsp: the client sent bytes that are not a frame: {why}");
                continue;
            }
            Ok(Frame::End) => Incoming::End(Ok(())),
            Err(broken) => Incoming::End(Err(broken)),
        };
        let last = matches!(incoming, Incoming::End(_));
        if to_runtime.blocking_send(incoming).is_err() || last {
            return;
        }
    }
}

/// Writes one frame.
pub async fn write_frame(output: &mut (impl AsyncWrite + Unpin), body: &[u8]) -> std::io::Result<()> {
    output.write_all(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes()).await?;
    output.write_all(body).await?;
    output.flush().await
}

/// Reads one frame of tower-lsp's own output (well formed: `Content-Length`, blank line, body).
/// `None` when tower-lsp has finished.
async fn read_server_frame(input: &mut (impl AsyncBufReadExt + Unpin)) -> Option<Vec<u8>> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if input.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    input.read_exact(&mut body).await.ok()?;
    Some(body)
}

/// Copies tower-lsp's frames and the answers to refused messages to `output`, whole, until
/// tower-lsp's output ends.
///
/// Why tower-lsp's frames are read by a task of their own: reading a frame is not cancel-safe
/// (`read_line` and `read_exact` drop what they have read when their future is dropped). Selected
/// against the refused answers directly, an answer arriving while a frame was half read dropped
/// that half; the rest of the frame was then read as a header with no `Content-Length`, taken for
/// the end, and nothing the server wrote afterwards reached the client. Only the channel's
/// `recv`, which is cancel-safe, takes part in the select.
pub async fn write_client(
    from_server: impl AsyncRead + Unpin + Send + 'static,
    mut refused: mpsc::UnboundedReceiver<Value>,
    mut output: impl AsyncWrite + Unpin,
) {
    let (frame_tx, mut frames) = mpsc::channel::<Vec<u8>>(16);
    let reader = tokio::spawn(async move {
        let mut from_server = BufReader::new(from_server);
        while let Some(body) = read_server_frame(&mut from_server).await {
            if frame_tx.send(body).await.is_err() {
                return;
            }
        }
    });
    loop {
        let body = tokio::select! {
            frame = frames.recv() => match frame {
                Some(body) => body,
                None => break,
            },
            Some(answer) = refused.recv() => answer.to_string().into_bytes(),
        };
        if write_frame(&mut output, &body).await.is_err() {
            // The client is gone: nobody reads what would be written.
            reader.abort();
            return;
        }
    }
    while let Ok(answer) = refused.try_recv() {
        if write_frame(&mut output, answer.to_string().as_bytes()).await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(stream: &[u8]) -> Vec<Result<Frame, BrokenStream>> {
        let mut input = FrameReader::new(std::io::Cursor::new(stream.to_vec()));
        let mut acc = Vec::new();
        loop {
            let frame = input.next_frame();
            let stop = !matches!(frame, Ok(Frame::Body(_) | Frame::TooLarge(_) | Frame::Skipped(_)));
            acc.push(frame);
            if stop {
                return acc;
            }
        }
    }

    /// The stream's frames, as bodies and `skipped`, until the end.
    fn read(stream: &[u8]) -> Vec<String> {
        frames(stream)
            .into_iter()
            .map(|frame| match frame {
                Ok(Frame::Body(body)) => String::from_utf8_lossy(&body).into_owned(),
                Ok(Frame::TooLarge(length)) => format!("too large: {length}"),
                Ok(Frame::Skipped(_)) => "skipped".into(),
                Ok(Frame::End) => "end".into(),
                Err(broken) => format!("{broken}"),
            })
            .collect()
    }

    fn frame(body: &[u8]) -> Vec<u8> {
        let mut acc = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
        acc.extend_from_slice(body);
        acc
    }

    /// The fuzzer's case: `Content-Length: 10` ended by bare line ends takes ten bytes of the next
    /// frame's header as its body; that body is bad, the rest of the header cannot be framed, and
    /// the next frame is found again from where the bad body began.
    #[test]
    fn a_length_that_cut_into_the_next_header_is_recovered_from() {
        let next = frame(br#"{"jsonrpc":"2.0","id":1,"method":"shutdown"}"#);
        let stream = [&b"Content-Length: 10\n\n"[..], &next[..]].concat();
        let mut input = FrameReader::new(std::io::Cursor::new(stream));
        let mut seen = Vec::new();
        loop {
            match input.next_frame() {
                Ok(Frame::Body(body)) => {
                    if check_body(&body).is_err() {
                        input.last_body_was_bad();
                    }
                    seen.push(String::from_utf8_lossy(&body).into_owned());
                }
                Ok(Frame::Skipped(_)) => seen.push("skipped".into()),
                Ok(Frame::End) => break,
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(seen, ["Content-Le", "skipped", r#"{"jsonrpc":"2.0","id":1,"method":"shutdown"}"#]);
    }

    #[test]
    fn frames_are_read_by_their_length_whatever_their_bodies() {
        let mut stream = frame(br#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#);
        stream.extend(frame(b"\xff\xfe not utf-8"));
        stream.extend(b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\ncontent-length: 2\r\n\r\n{}");
        let read = frames(&stream);
        assert_eq!(read.len(), 4);
        assert_eq!(read[1], Ok(Frame::Body(b"\xff\xfe not utf-8".to_vec())));
        assert_eq!(read[2], Ok(Frame::Body(b"{}".to_vec())));
        assert_eq!(read[3], Ok(Frame::End));
    }

    #[test]
    fn a_header_block_that_cannot_be_framed_is_skipped_to_the_next_content_length() {
        let next = frame(b"{next}");
        let after = |garbage: &[u8]| read(&[garbage, &next[..]].concat());
        let resumed = ["skipped", "{next}", "end"];
        assert_eq!(after(b"Content-Length: abc\r\n\r\n{}"), resumed);
        assert_eq!(after(b"Content-Type: x\r\n\r\n{}\r\n"), resumed);
        assert_eq!(after(b"garbage without a colon\r\n\r\n"), resumed);
        assert_eq!(after(b"\xff\xfe: 1\r\n\r\n"), resumed);
        assert_eq!(after(&b"X-A: 1\r\n".repeat(MAX_HEADER_LINES + 1)), resumed);
        // The header name is case-insensitive where the next frame is searched too.
        assert_eq!(
            after(b"Content-Length: -5\r\n\r\n{}\r\ncontent-LENGTH: 2\r\n\r\n{}"),
            ["skipped", "{}", "{next}", "end"]
        );
        // A Content-Length shorter than its body: the body's rest runs into the next header on
        // one line (the fuzzer's case), and the next frame is still found there.
        assert_eq!(after(b"Content-Length: 0\r\n\r\n{\"id\":102}"), ["", "skipped", "{next}", "end"]);
        // Garbage without a line end, longer than any header line: skipped without being kept.
        let long = [vec![b'x'; 10 * MAX_HEADER_LINE + 3], b"Content-Lengt".to_vec()].concat();
        assert_eq!(after(&long), resumed);
        // The name split across the reader's buffers is still found.
        let mut split = FrameReader::new(std::io::BufReader::with_capacity(
            7,
            std::io::Cursor::new([&long[..], &next[..]].concat()),
        ));
        assert_eq!(split.next_frame().map(|f| matches!(f, Frame::Skipped(_))), Ok(true));
        assert_eq!(split.next_frame(), Ok(Frame::Body(b"{next}".to_vec())));
        assert_eq!(split.next_frame(), Ok(Frame::End));
    }

    #[test]
    fn only_the_end_of_the_stream_ends_the_frames() {
        assert_eq!(read(b"Content-Length: 10\r\n\r\n{}"), ["skipped", "end"]);
        assert_eq!(read(b"Content-Length: 10\r\n"), ["skipped", "end"]);
        assert_eq!(read(b"Content-Length: 10"), ["skipped", "end"]);
        assert_eq!(read(&[b'x'; MAX_HEADER_LINE + 10]), ["skipped", "end"]);
        assert_eq!(read(b"Content-Type: x\r\n\r\n{}"), ["skipped", "end"]);
        assert_eq!(read(b""), ["end"]);
    }

    #[test]
    fn bad_bodies_get_the_json_rpc_error_they_deserve() {
        let code =
            |body: &[u8]| check_body(body).err().map(|answer| (answer["error"]["code"].clone(), answer["id"].clone()));
        assert_eq!(code(br#"{"jsonrpc":"2.0","id":1,"method":"shutdown"}"#), None);
        assert_eq!(code(br#"{"jsonrpc":"2.0","id":1,"result":null}"#), None);
        assert_eq!(code(b"\xff"), Some((json!(-32700), Value::Null)));
        assert_eq!(
            code(br#"{"jsonrpc":"2.0","id":1,"method":"x","params":{"a":"\ud800"}}"#),
            Some((json!(-32700), Value::Null))
        );
        assert_eq!(code(br#"{"jsonrpc":"2.0","id":1,"meth"#), Some((json!(-32700), Value::Null)));
        assert_eq!(code(b""), Some((json!(-32700), Value::Null)));
        assert_eq!(code(b"[1, 2]"), Some((json!(-32600), Value::Null)));
        assert_eq!(code(br#"{"jsonrpc":"2.0","id":7,"method":3}"#), Some((json!(-32600), json!(7))));
    }
    /// The lsp-protocol fuzzer's last finding: an answer to a refused message arriving while one of
    /// tower-lsp's frames is half written must neither cut that frame nor stop the copying.
    #[tokio::test]
    async fn a_refused_answer_in_the_middle_of_a_server_frame_loses_nothing() {
        use tokio::io::AsyncWriteExt;
        let (mut server_output, from_server) = tokio::io::duplex(1 << 16);
        let (client_side, mut client) = tokio::io::duplex(1 << 16);
        let (refused_tx, refused_rx) = mpsc::unbounded_channel();
        let writer = tokio::spawn(write_client(from_server, refused_rx, client_side));
        let first = br#"{"jsonrpc":"2.0","id":1,"result":[]}"#;
        let (head, tail) = first.split_at(10);
        server_output.write_all(format!("Content-Length: {}\r\n\r\n", first.len()).as_bytes()).await.unwrap();
        server_output.write_all(head).await.unwrap();
        // Let the writer read the first half and wait for the rest.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        refused_tx
            .send(json!({"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}, "id": null}))
            .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        server_output.write_all(tail).await.unwrap();
        server_output.write_all(&frame(br#"{"jsonrpc":"2.0","id":2,"result":null}"#)).await.unwrap();
        drop(server_output);
        drop(refused_tx);
        writer.await.unwrap();
        let mut written = Vec::new();
        client.read_to_end(&mut written).await.unwrap();
        let mut bodies: Vec<String> = read(&written).into_iter().filter(|b| b != "end").collect();
        bodies.sort();
        assert_eq!(
            bodies,
            [
                r#"{"error":{"code":-32700,"message":"Parse error"},"id":null,"jsonrpc":"2.0"}"#,
                r#"{"jsonrpc":"2.0","id":1,"result":[]}"#,
                r#"{"jsonrpc":"2.0","id":2,"result":null}"#,
            ]
        );
    }
}
