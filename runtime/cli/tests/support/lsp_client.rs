//! A minimal Language Server Protocol client over a child's stdio, for the `etr lsp` tests and
//! the latency bench: frames JSON-RPC messages, sends requests and notifications, and waits for
//! responses or notifications with a deadline.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub struct LspClient {
    child: Child,
    stdin: ChildStdin,
    incoming: Receiver<Value>,
    next_id: u64,
    /// Messages read while waiting for something else, in arrival order.
    backlog: Vec<Value>,
}

impl LspClient {
    /// Starts `etr lsp` (the binary at `etr`) in `root`, with extra environment variables.
    pub fn start_with_env(etr: &str, root: &std::path::Path, env: &[(&str, String)]) -> LspClient {
        let mut child = Command::new(etr)
            .arg("lsp")
            .current_dir(root)
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("etr lsp starts");
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let (sender, incoming) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            while let Some(message) = read_message(&mut reader) {
                if sender.send(message).is_err() {
                    break;
                }
            }
        });
        LspClient { child, stdin, incoming, next_id: 1, backlog: Vec::new() }
    }

    fn send(&mut self, message: &Value) {
        let body = message.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).expect("the server reads stdin");
        self.stdin.flush().expect("the server reads stdin");
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    /// Sends a request and returns its id.
    pub fn request(&mut self, method: &str, params: Value) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        id
    }

    /// The first message (from the backlog, then from the server) that `wanted` accepts.
    fn wait_for(&mut self, timeout: Duration, wanted: impl Fn(&Value) -> bool) -> Value {
        if let Some(at) = self.backlog.iter().position(&wanted) {
            return self.backlog.remove(at);
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.incoming.recv_timeout(left) {
                Ok(message) if wanted(&message) => return message,
                Ok(message) => self.backlog.push(message),
                Err(RecvTimeoutError::Timeout) => panic!("no awaited message from etr lsp within {timeout:?}"),
                Err(RecvTimeoutError::Disconnected) => panic!("etr lsp closed its output"),
            }
        }
    }

    /// The response to request `id` (its `result`, or a panic with its `error`).
    pub fn response(&mut self, id: u64, timeout: Duration) -> Value {
        let message = self.wait_for(timeout, |m| m.get("id") == Some(&json!(id)) && m.get("method").is_none());
        match message.get("error") {
            Some(error) => panic!("request {id} failed: {error}"),
            None => message["result"].clone(),
        }
    }

    pub fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.request(method, params);
        self.response(id, Duration::from_secs(30))
    }

    /// The next `textDocument/publishDiagnostics` for `uri` with this document version.
    pub fn diagnostics(&mut self, uri: &str, version: i64, timeout: Duration) -> Value {
        self.wait_for(timeout, |m| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == uri
                && m["params"]["version"] == json!(version)
        })["params"]["diagnostics"]
            .clone()
    }

    pub fn initialize(&mut self, root_uri: &str) {
        let params = json!({
            "processId": null,
            "rootUri": root_uri,
            "capabilities": { "textDocument": { "hover": { "contentFormat": ["markdown"] } } },
        });
        let result = self.call("initialize", params);
        assert!(result["capabilities"]["hoverProvider"].as_bool().unwrap_or(false), "{result}");
        self.notify("initialized", json!({}));
    }

    /// Shuts the server down politely and waits for it to exit.
    pub fn shutdown(mut self) -> std::process::ExitStatus {
        self.call("shutdown", Value::Null);
        self.notify("exit", Value::Null);
        self.child.wait().expect("etr lsp exits")
    }
}

fn read_message(reader: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(value) = line.strip_prefix("Content-Length: ") {
            length = value.parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

/// A `file://` URI for an absolute path (the tests' paths are plain ASCII).
pub fn file_uri(path: &std::path::Path) -> String {
    format!("file://{}", path.display())
}
