//! A plain HTTP/1.1 client over `std::net::TcpStream`, for tests of `etr serve`: one request per
//! connection (`Connection: close`), the answer read to its end. It can also send a request cut
//! off mid-body, which no ordinary client does on purpose.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::Duration;

/// An answer.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    /// Header names in lower case, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// The first header named `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends `method path` with `headers` and `body` (with its Content-Length) and reads the answer.
pub fn request(
    address: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<Response> {
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("content-length") || n.eq_ignore_ascii_case("transfer-encoding"))
    {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body);
    exchange(address, &bytes, false)
}

/// Sends `bytes` as they are (a request head and as much body as wanted) and reads the answer to
/// the end of the connection. With `abort`, the connection is closed right after sending,
/// reading nothing: a client that went away.
pub fn exchange(address: SocketAddr, bytes: &[u8], abort: bool) -> std::io::Result<Response> {
    let mut stream = TcpStream::connect(address)?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    // A server may answer (a refusal) and close before reading the whole body: a failed write or
    // shutdown is then expected, and the answer is still there to read.
    let written = stream.write_all(bytes);
    if abort {
        let _ = stream.shutdown(Shutdown::Both);
        return written.map(|()| Response { status: 0, headers: Vec::new(), body: Vec::new() });
    }
    // The sending side stays open: hyper's server drops a connection whose client half-closes
    // before the answer. `Connection: close` makes the server close it after answering.
    let mut answer = Vec::new();
    let read = stream.read_to_end(&mut answer);
    if answer.is_empty() {
        read?;
        written?;
    }
    parse(&answer)
}

fn parse(answer: &[u8]) -> std::io::Result<Response> {
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
    let end = answer.windows(4).position(|w| w == b"\r\n\r\n").ok_or_else(|| bad("no end of the answer's head"))?;
    let head = std::str::from_utf8(&answer[..end]).map_err(|_| bad("the head is not UTF-8"))?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status =
        status_line.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| bad("no status in the answer"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let raw = &answer[end + 4..];
    let chunked = headers.iter().any(|(n, v)| n == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    let body = if chunked { dechunk(raw).ok_or_else(|| bad("a bad chunked body"))? } else { raw.to_vec() };
    Ok(Response { status, headers, body })
}

/// The body of a `Transfer-Encoding: chunked` answer.
fn dechunk(mut raw: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = raw.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&raw[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        raw = &raw[line_end + 2..];
        if size == 0 {
            return Some(body);
        }
        body.extend_from_slice(raw.get(..size)?);
        raw = raw.get(size + 2..)?;
    }
}

/// A `Transfer-Encoding: chunked` body of `parts`, for uploads that give no length up front.
pub fn chunked(parts: &[&[u8]]) -> Vec<u8> {
    let mut body = Vec::new();
    for part in parts.iter().filter(|p| !p.is_empty()) {
        body.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
        body.extend_from_slice(part);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"0\r\n\r\n");
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_bodies_round_trip_and_answers_parse() {
        let body = chunked(&[b"hello ".as_slice(), b"", b"world"]);
        let answer =
            [b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\nX-A: b\r\n\r\n".as_slice(), &body].concat();
        let response = parse(&answer).unwrap();
        assert_eq!(response.status, 201);
        assert_eq!(response.header("x-a"), Some("b"));
        assert_eq!(response.text(), "hello world");
        assert!(parse(b"HTTP/1.1 200 OK\r\n").is_err());
    }
}
