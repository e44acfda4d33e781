//! The protocol's framing on stdio, owned by the server rather than by tower-lsp-server.
//!
//! Why: tower-lsp-server 0.23 reads stdin through a `tokio_util` `FramedRead`, which ends the
//! stream after the first decoding error. One undecodable message (a body that is not UTF-8,
//! truncated JSON, a lone surrogate escape `"\ud800"` that serde_json rejects) got a Parse error
//! answer and then the server stopped reading and exited 0: the editor lost its server. Here each
//! frame is read whole by its `Content-Length`, its body checked to be a JSON-RPC message
//! tower-lsp will accept, and only the good ones are passed on; a bad one is answered here (Parse
//! error -32700 or Invalid Request -32600, id null unless the message's id could be read) and the
//! next frame is read as usual. Only a stream whose frames can no longer be told apart (a header
//! without a length, a body cut short by EOF) ends the server, with a message and an error.
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

/// The longest header line accepted, and the most header lines in one frame.
const MAX_HEADER_LINE: usize = 8 * 1024;
const MAX_HEADER_LINES: usize = 32;
/// The largest body read; a larger one is skipped and answered with an error. A whole spec is
/// about 40 kB, and a `didOpen` of the largest spec the server reads is 16 MiB.
const MAX_BODY: usize = 64 * 1024 * 1024;

/// Why the stream from the client can no longer be read frame by frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenStream(pub String);

impl std::fmt::Display for BrokenStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the client's message stream is broken: {}", self.0)
    }
}

/// One frame's body, or the end of the stream.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    Body(Vec<u8>),
    /// A body over [`MAX_BODY`], skipped unread (its length).
    TooLarge(usize),
    End,
}

/// Reads one header line, without its `\r\n` (or `\n`). `None` at EOF before any byte.
fn header_line(input: &mut impl BufRead) -> Result<Option<String>, BrokenStream> {
    let mut line = Vec::new();
    let read = input
        .by_ref()
        .take(MAX_HEADER_LINE as u64 + 1)
        .read_until(b'\n', &mut line)
        .map_err(|e| BrokenStream(format!("cannot read stdin: {e}")))?;
    if read == 0 {
        return Ok(None);
    }
    if !line.ends_with(b"\n") {
        return Err(if line.len() > MAX_HEADER_LINE {
            BrokenStream(format!("a header line is longer than {MAX_HEADER_LINE} bytes"))
        } else {
            BrokenStream("the stream ends inside a header".into())
        });
    }
    line.pop();
    if line.ends_with(b"\r") {
        line.pop();
    }
    String::from_utf8(line).map(Some).map_err(|_| BrokenStream("a header is not text".into()))
}

/// Reads the next frame: headers up to an empty line, then `Content-Length` bytes of body.
pub fn read_frame(input: &mut impl BufRead) -> Result<Frame, BrokenStream> {
    let mut length = None;
    let mut lines = 0;
    loop {
        let Some(line) = header_line(input)? else {
            return if lines == 0 {
                Ok(Frame::End)
            } else {
                Err(BrokenStream("the stream ends inside a header".into()))
            };
        };
        lines += 1;
        if line.is_empty() {
            if lines == 1 {
                // A stray line end between frames: tolerated, as most clients' readers do.
                lines = 0;
                continue;
            }
            break;
        }
        if lines > MAX_HEADER_LINES {
            return Err(BrokenStream(format!("more than {MAX_HEADER_LINES} header lines")));
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(BrokenStream(format!("{line:?} is not a header")));
        };
        if name.trim().eq_ignore_ascii_case("content-length") {
            let parsed = value.trim().parse::<usize>();
            length = Some(parsed.map_err(|_| BrokenStream(format!("{:?} is not a Content-Length", value.trim())))?);
        }
        // Content-Type (always UTF-8 JSON in practice) and unknown headers are ignored.
    }
    let length = length.ok_or_else(|| BrokenStream("a frame has no Content-Length".into()))?;
    if length > MAX_BODY {
        let skipped = std::io::copy(&mut input.by_ref().take(length as u64), &mut std::io::sink())
            .map_err(|e| BrokenStream(format!("cannot read stdin: {e}")))?;
        if skipped < length as u64 {
            return Err(BrokenStream("the stream ends inside a body".into()));
        }
        return Ok(Frame::TooLarge(length));
    }
    let mut body = vec![0; length];
    input.read_exact(&mut body).map_err(|_| BrokenStream("the stream ends inside a body".into()))?;
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

/// Reads frames from `input` until EOF or a broken stream, checking each; runs on its own thread.
pub fn read_client(mut input: impl BufRead, to_runtime: mpsc::Sender<Incoming>) {
    loop {
        let incoming = match read_frame(&mut input) {
            Ok(Frame::Body(body)) => match check_body(&body) {
                Ok(()) => Incoming::Message(body),
                Err(answer) => Incoming::Refused(answer),
            },
            Ok(Frame::TooLarge(length)) => Incoming::Refused(json!({
                "jsonrpc": "2.0",
                "error": { "code": -32700, "message": format!("Parse error: a message of {length} bytes is over the limit of {MAX_BODY}") },
                "id": null,
            })),
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
pub async fn write_client(
    from_server: impl AsyncRead + Unpin,
    mut refused: mpsc::UnboundedReceiver<Value>,
    mut output: impl AsyncWrite + Unpin,
) {
    let mut from_server = BufReader::new(from_server);
    loop {
        let body = tokio::select! {
            frame = read_server_frame(&mut from_server) => match frame {
                Some(body) => body,
                None => break,
            },
            Some(answer) = refused.recv() => answer.to_string().into_bytes(),
        };
        if write_frame(&mut output, &body).await.is_err() {
            // The client is gone: nobody reads what would be written.
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
        let mut input = std::io::Cursor::new(stream.to_vec());
        let mut acc = Vec::new();
        loop {
            let frame = read_frame(&mut input);
            let stop = !matches!(frame, Ok(Frame::Body(_)) | Ok(Frame::TooLarge(_)));
            acc.push(frame);
            if stop {
                return acc;
            }
        }
    }

    fn frame(body: &[u8]) -> Vec<u8> {
        let mut acc = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
        acc.extend_from_slice(body);
        acc
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
    fn a_stream_that_cannot_be_framed_is_broken() {
        let broken = |stream: &[u8]| matches!(frames(stream).last(), Some(Err(_)));
        assert!(broken(b"Content-Length: abc\r\n\r\n{}"));
        assert!(broken(b"Content-Type: x\r\n\r\n{}"));
        assert!(broken(b"garbage without a colon\r\n\r\n"));
        assert!(broken(b"Content-Length: 10\r\n\r\n{}"));
        assert!(broken(b"Content-Length: 10\r\n"));
        assert!(broken(&[b'x'; MAX_HEADER_LINE + 10]));
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
}
