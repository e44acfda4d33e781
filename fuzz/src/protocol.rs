//! The `lsp-protocol` target: malformed traffic to a real language server process (`etr lsp`, or
//! the stand-in that runs the same `etr_lsp::run_stdio`, see `child.rs`).
//!
//! A case is a list of raw messages written to the server's stdin, in order: valid ones
//! (initialize, didOpen, requests) and broken ones (truncated JSON, lone surrogate escapes,
//! bodies that are not UTF-8, a Content-Length too short or a padded body too long, headers that
//! are not numbers, unknown methods, didClose and didChange of unknown URIs, requests before
//! initialize, parameters of the wrong type, ids of odd types, positions far outside the text).
//! After them comes one valid request, the probe.
//!
//! Oracles: the probe is answered (a result or an error, within a generous bound), the server
//! is still running afterwards, and it printed no panic.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::child::Launcher;
use crate::minimise::{Budget, ddmin};
use crate::rng::Rng;
use crate::{Failure, Stats, Target, escape_bytes, unescape_bytes};

/// The probe's id.
const PROBE_ID: u64 = 424_242;
/// How long the probe may take: very generous, a hang is what it catches.
const PROBE_WAIT: Duration = Duration::from_secs(30);
/// The document the valid messages open.
const DOC_URI: &str = "file:///fuzz/ws/main.etr";

#[derive(Debug, Clone)]
pub struct ProtocolCase {
    /// What each message is, for people.
    pub labels: Vec<String>,
    pub messages: Vec<Vec<u8>>,
}

pub struct ProtocolTarget {
    launcher: Launcher,
    spec: String,
}

impl ProtocolTarget {
    pub fn new(launcher: Launcher) -> ProtocolTarget {
        let spec = crate::seeds::specs()
            .into_iter()
            .find(|s| s.path.ends_with("contributors/jcl.etr"))
            .map(|s| s.text)
            .unwrap_or_else(|| "contributor X \"x\" layout 1\n".into());
        ProtocolTarget { launcher, spec }
    }
}

/// A message framed as the protocol wants it.
pub fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body);
    out
}

fn framed_json(value: &Value) -> Vec<u8> {
    frame(value.to_string().as_bytes())
}

fn request(id: Value, method: &str, params: Value) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params })
}

fn notification(method: &str, params: Value) -> Value {
    json!({ "jsonrpc": "2.0", "method": method, "params": params })
}

fn initialize() -> Value {
    request(json!(1), "initialize", json!({ "processId": null, "rootUri": null, "capabilities": {} }))
}

fn position_request(id: u64, method: &str, uri: &str, line: i64, character: i64) -> Value {
    request(
        json!(id),
        method,
        json!({ "textDocument": { "uri": uri }, "position": { "line": line, "character": character },
                "context": { "includeDeclaration": true }, "newName": "renamed" }),
    )
}

const METHODS: &[&str] = &[
    "textDocument/hover",
    "textDocument/completion",
    "textDocument/definition",
    "textDocument/references",
    "textDocument/rename",
    "textDocument/prepareRename",
    "textDocument/documentSymbol",
    "textDocument/semanticTokens/full",
    "textDocument/formatting",
    "textDocument/codeAction",
    "textDocument/inlayHint",
];

impl ProtocolTarget {
    /// One broken (or odd but valid) message, with its label.
    ///
    /// With `malformed` false, only messages that are valid JSON-RPC (odd for the server, but
    /// well-formed): a server that gives up on malformed traffic is still explored beyond it.
    fn odd_message(&self, rng: &mut Rng, next_id: &mut u64, malformed: bool) -> (String, Vec<u8>) {
        *next_id += 1;
        let id = *next_id;
        let method = *rng.pick(METHODS);
        let valid = position_request(id, method, DOC_URI, rng.below(200) as i64, rng.below(80) as i64).to_string();
        const WELL_FORMED: &[usize] = &[7, 8, 9, 10, 13, 14, 16, 18];
        let choice = if malformed { rng.below(19) } else { *rng.pick(WELL_FORMED) };
        match choice {
            18 => ("a request at a random position".into(), frame(valid.as_bytes())),
            0 => {
                let cut = rng.below(valid.len());
                ("truncated JSON".into(), frame(&valid.as_bytes()[..cut]))
            }
            1 => {
                let body = format!(
                    r#"{{"jsonrpc":"2.0","method":"textDocument/didChange","params":{{"textDocument":{{"uri":"{DOC_URI}","version":99}},"contentChanges":[{{"text":"\ud800 lone \udc00"}}]}}}}"#
                );
                ("lone surrogate escapes (didChange)".into(), frame(body.as_bytes()))
            }
            2 => {
                let body = format!(
                    r#"{{"jsonrpc":"2.0","id":{id},"method":"{method}","params":{{"textDocument":{{"uri":"\udfff"}},"position":{{"line":0,"character":0}}}}}}"#
                );
                ("lone surrogate escape in a request's URI".into(), frame(body.as_bytes()))
            }
            3 => {
                let mut body = valid.clone().into_bytes();
                let at = body.iter().position(|&b| b == b':').map_or(0, |i| i + 2);
                body.splice(at..at, [0xff, 0xfe, 0xc3]);
                ("a body that is not UTF-8".into(), frame(&body))
            }
            4 => {
                let short = rng.below(valid.len());
                let mut out = format!("Content-Length: {short}\r\n\r\n").into_bytes();
                out.extend_from_slice(valid.as_bytes());
                ("Content-Length too short".into(), out)
            }
            5 => {
                let extra = rng.between(1, 50);
                let mut out = format!("Content-Length: {}\r\n\r\n", valid.len() + extra).into_bytes();
                out.extend_from_slice(valid.as_bytes());
                out.extend(std::iter::repeat_n(b'#', extra));
                ("Content-Length too long, body padded with junk".into(), out)
            }
            6 => {
                let header = *rng.pick(&[
                    "Content-Length: abc\r\n\r\n",
                    "Content-Length: -5\r\n\r\n",
                    "Content-Length: 18446744073709551616\r\n\r\n",
                    "Content-Type: application/json\r\n\r\n",
                    "Garbage\r\n\r\n",
                    "Content-Length: 10\n\n",
                    "\r\n\r\n",
                ]);
                ("a malformed header".into(), header.as_bytes().to_vec())
            }
            7 => {
                let unknown = request(json!(id), "etr/doesNotExist", json!({}));
                ("an unknown request".into(), framed_json(&unknown))
            }
            8 => ("an unknown notification".into(), framed_json(&notification("$/etrUnknown", json!([1, 2])))),
            9 => {
                let uri = *rng.pick(&[
                    "file:///nowhere/x.etr",
                    "untitled:Untitled-1",
                    "http://example.com/a.etr",
                    "file://%zz",
                    "",
                ]);
                let close = notification("textDocument/didClose", json!({ "textDocument": { "uri": uri } }));
                ("didClose of an unknown URI".into(), framed_json(&close))
            }
            10 => {
                let change = notification(
                    "textDocument/didChange",
                    json!({ "textDocument": { "uri": "file:///nowhere/y.etr", "version": 3 }, "contentChanges": [{ "text": "x" }] }),
                );
                ("didChange of an unknown URI".into(), framed_json(&change))
            }
            11 => {
                let params = rng
                    .pick(&[json!("abc"), json!([1]), json!(null), json!({ "position": "here" }), json!({})])
                    .clone();
                let message = json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params });
                ("parameters of the wrong type".into(), framed_json(&message))
            }
            12 => {
                let odd_id = rng
                    .pick(&[json!(null), json!({ "a": 1 }), json!([1]), json!(1.5), json!("str-id"), json!(-1)])
                    .clone();
                ("an id of an odd type".into(), framed_json(&request(odd_id, method, json!({}))))
            }
            13 => {
                let huge = position_request(id, method, DOC_URI, i64::from(u32::MAX), -1);
                ("positions far outside the text".into(), framed_json(&huge))
            }
            14 => {
                let long = "x".repeat(100_000);
                let text = *rng.pick(&["\r\r\n\0𝄞😀\r", "", "rule R1 reject \"é\"\r", long.as_str()]);
                let change = notification(
                    "textDocument/didChange",
                    json!({ "textDocument": { "uri": DOC_URI, "version": id }, "contentChanges": [{ "text": text }] }),
                );
                ("didChange with odd text".into(), framed_json(&change))
            }
            15 => {
                let batch = json!([request(json!(id), method, json!({})), notification("initialized", json!({}))]);
                ("a JSON-RPC batch".into(), framed_json(&batch))
            }
            16 => (
                "a second initialize".into(),
                framed_json(&request(json!(id), "initialize", json!({ "capabilities": {} }))),
            ),
            _ => {
                let old = json!({ "jsonrpc": "1.0", "id": id, "method": method });
                ("jsonrpc 1.0".into(), framed_json(&old))
            }
        }
    }
}

impl Target for ProtocolTarget {
    type Input = ProtocolCase;

    fn name(&self) -> &'static str {
        "lsp-protocol"
    }

    fn time_limit(&self) -> Duration {
        Duration::from_secs(90)
    }

    fn generate(&self, rng: &mut Rng) -> ProtocolCase {
        let mut labels = Vec::new();
        let mut messages = Vec::new();
        let mut next_id = 100;
        let malformed = rng.chance(1, 2);
        // Before initialize: odd messages and requests that must be refused, not dropped.
        for _ in 0..rng.below(3) {
            let (label, message) = self.odd_message(rng, &mut next_id, malformed);
            labels.push(format!("before initialize: {label}"));
            messages.push(message);
        }
        labels.push("initialize".into());
        messages.push(framed_json(&initialize()));
        labels.push("initialized".into());
        messages.push(framed_json(&notification("initialized", json!({}))));
        labels.push("didOpen".into());
        messages.push(framed_json(&notification(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": DOC_URI, "languageId": "etr", "version": 1, "text": self.spec } }),
        )));
        for _ in 0..rng.between(1, 8) {
            let (label, message) = self.odd_message(rng, &mut next_id, malformed);
            labels.push(label);
            messages.push(message);
        }
        ProtocolCase { labels, messages }
    }

    fn check(&self, case: &ProtocolCase) -> Result<Stats, Failure> {
        session(&self.launcher, case)
    }

    fn minimise(
        &self,
        input: ProtocolCase,
        budget: &mut Budget,
        reproduces: &mut dyn FnMut(&ProtocolCase) -> bool,
    ) -> ProtocolCase {
        let pairs: Vec<(String, Vec<u8>)> = input.labels.into_iter().zip(input.messages).collect();
        let pairs = ddmin(pairs, budget, &mut |pairs| {
            reproduces(&ProtocolCase {
                labels: pairs.iter().map(|p| p.0.clone()).collect(),
                messages: pairs.iter().map(|p| p.1.clone()).collect(),
            })
        });
        let (labels, messages) = pairs.into_iter().unzip();
        ProtocolCase { labels, messages }
    }

    fn input_to_json(&self, input: &ProtocolCase) -> Value {
        let messages: Vec<Value> = input
            .labels
            .iter()
            .zip(&input.messages)
            .map(|(label, bytes)| json!({ "label": label, "bytes": escape_bytes(bytes) }))
            .collect();
        json!({ "messages": messages })
    }

    fn input_from_json(&self, value: &Value) -> Result<ProtocolCase, String> {
        let mut labels = Vec::new();
        let mut messages = Vec::new();
        for m in value["messages"].as_array().ok_or("no `messages`")? {
            labels.push(m["label"].as_str().unwrap_or_default().to_string());
            messages.push(unescape_bytes(m["bytes"].as_str().ok_or("a message without bytes")?)?);
        }
        Ok(ProtocolCase { labels, messages })
    }
}

/// A running server: its stdin, the messages it sent, its stderr file.
struct Server {
    child: Child,
    stdin: Arc<Mutex<ChildStdin>>,
    received: mpsc::Receiver<Value>,
    stderr_path: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start(launcher: &Launcher) -> Result<Server, Failure> {
        let harness = |e: std::io::Error| Failure::new("harness: cannot start the server", e.to_string());
        let dir = tempfile::tempdir().map_err(harness)?;
        let stderr_path = dir.path().join("stderr.txt");
        let stderr = std::fs::File::create(&stderr_path).map_err(harness)?;
        let mut command = launcher.lsp_command();
        command
            .current_dir(dir.path())
            .env("XDG_CACHE_HOME", dir.path().join("cache"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(stderr));
        let mut child = command.spawn().map_err(harness)?;
        let stdin = Arc::new(Mutex::new(child.stdin.take().expect("piped")));
        let stdout = child.stdout.take().expect("piped");
        let (send, received) = mpsc::channel();
        let answer_to = Arc::clone(&stdin);
        std::thread::spawn(move || read_messages(stdout, &send, &answer_to));
        Ok(Server { child, stdin, received, stderr_path, _dir: dir })
    }

    fn write(&self, bytes: &[u8]) -> std::io::Result<()> {
        let mut stdin = self.stdin.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        stdin.write_all(bytes)?;
        stdin.flush()
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// Waits for the response with `id`, skipping everything else.
    fn wait_for(&self, id: u64, limit: Duration) -> Option<Value> {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            match self.received.recv_timeout(left) {
                Ok(message) if message.get("method").is_none() && message["id"] == json!(id) => return Some(message),
                Ok(_) => {}
                Err(_) => return None,
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads framed messages from the server; answers its own requests (configuration, progress)
/// with `null` so that it never waits on the client.
fn read_messages(stdout: std::process::ChildStdout, send: &mpsc::Sender<Value>, stdin: &Mutex<ChildStdin>) {
    let mut reader = BufReader::new(stdout);
    loop {
        let mut length = None;
        loop {
            let mut line = String::new();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some(value) = line.strip_prefix("Content-Length:") {
                length = value.trim().parse::<usize>().ok();
            }
        }
        let Some(length) = length else { return };
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let Ok(message) = serde_json::from_slice::<Value>(&body) else { continue };
        if message.get("method").is_some()
            && let Some(id) = message.get("id")
        {
            let reply = framed_json(&json!({ "jsonrpc": "2.0", "id": id, "result": null }));
            let mut stdin = stdin.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let _ = stdin.write_all(&reply).and_then(|()| stdin.flush());
        }
        if send.send(message).is_err() {
            return;
        }
    }
}

/// A panic printed by the server, as a failure kind naming its location.
fn panic_in(stderr: &str) -> Option<Failure> {
    let at = stderr.find("panicked at ")?;
    let rest = &stderr[at + "panicked at ".len()..];
    let location = rest.split(['\n', ' ']).next().unwrap_or("").trim_end_matches(':');
    Some(Failure::new(format!("server panic at {location}"), stderr[at..].chars().take(2_000).collect::<String>()))
}

fn session(launcher: &Launcher, case: &ProtocolCase) -> Result<Stats, Failure> {
    let mut stats = Stats::default();
    let mut server = Server::start(launcher)?;
    for (label, message) in case.labels.iter().zip(&case.messages) {
        if server.write(message).is_err() {
            let status = server.child.wait().ok();
            return Err(Failure::new(
                "lsp-protocol: the server exited",
                format!("while writing `{label}`: {status:?}\n{}", tail(&server.stderr())),
            ));
        }
    }
    let probe = position_request(PROBE_ID, "textDocument/documentSymbol", DOC_URI, 0, 0);
    let written = server.write(&framed_json(&probe));
    let answer = if written.is_ok() { server.wait_for(PROBE_ID, PROBE_WAIT) } else { None };
    if answer.is_none() {
        // The answer may be missing because the server is exiting: give it a moment to finish, so
        // that the failure's kind does not depend on that race.
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline && matches!(server.child.try_wait(), Ok(None)) {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    if let Some(panic) = panic_in(&server.stderr()) {
        return Err(panic);
    }
    if let Ok(Some(status)) = server.child.try_wait() {
        return Err(Failure::new(
            "lsp-protocol: the server exited",
            format!("{status} after {:?}\n{}", case.labels, tail(&server.stderr())),
        ));
    }
    if answer.is_none() {
        return Err(Failure::new(
            "lsp-protocol: a valid request after malformed messages is not answered",
            format!("no answer within {} s after {:?}\n{}", PROBE_WAIT.as_secs(), case.labels, tail(&server.stderr())),
        ));
    }
    stats.passed("lsp-protocol: the probe is answered");
    stats.passed("lsp-protocol: the server is still running, no panic");
    // A clean exit, so that the process does not linger.
    let _ = server.write(&framed_json(&request(json!(PROBE_ID + 1), "shutdown", json!(null))));
    let _ = server.wait_for(PROBE_ID + 1, Duration::from_secs(10));
    let _ = server.write(&framed_json(&notification("exit", json!(null))));
    Ok(stats)
}

fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}
