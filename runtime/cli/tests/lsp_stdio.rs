//! `etr lsp` over stdio, driven by a minimal client: the process starts, analyses a workspace of
//! two specs, publishes diagnostics on open and on change, and answers hover, completion and
//! go-to-definition into the materialised stdlib.

mod support;

use std::time::Duration;

use serde_json::json;
use support::lsp_client::{LspClient, file_uri};

const SPEC: &str = r#"contributor ACME "Acme" layout 1
use etr.record
use rules.shared
source delimited "|" {
  encoding "utf-8" else reject R0
  columns { ACCT, SEX } else reject R0
}
map to Record {
  account_no = ACCT
  gender = genders[SEX] else reject R0
}
rule R0 reject "bad line ✓"
"#;

const SHARED: &str = r#"use etr.codes
table genders: text -> Gender { "L" => "M", "P" => "F" }
"#;

#[test]
fn serves_a_workspace_over_stdio() {
    let root = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(root.path().join("rules")).expect("mkdir");
    std::fs::write(root.path().join("rules/shared.etr"), SHARED).expect("write");
    let spec_path = root.path().join("acme.etr");
    std::fs::write(&spec_path, SPEC).expect("write");
    let uri = file_uri(&spec_path);
    // The stdlib is materialised under the cache folder: keep it inside the test's folder.
    let mut client = LspClient::start_with_env(
        env!("CARGO_BIN_EXE_etr"),
        root.path(),
        &[("XDG_CACHE_HOME", root.path().join("cache").display().to_string())],
    );
    client.initialize(&file_uri(root.path()));

    client.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": uri, "languageId": "etr", "version": 1, "text": SPEC } }),
    );
    let diagnostics = client.diagnostics(&uri, 1, Duration::from_secs(30));
    let codes: Vec<&str> = diagnostics.as_array().unwrap().iter().filter_map(|d| d["code"].as_str()).collect();
    assert_eq!(codes, ["W601"], "{diagnostics}");

    // A misspelt column: an error with a code and the compiler's hint.
    let broken = SPEC.replace("account_no = ACCT", "account_no = ACCTT");
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri, "version": 2 }, "contentChanges": [{ "text": broken }] }),
    );
    let diagnostics = client.diagnostics(&uri, 2, Duration::from_secs(30));
    let error = diagnostics.as_array().unwrap().iter().find(|d| d["code"] == "E200").expect("E200");
    assert_eq!(error["range"]["start"], json!({ "line": 8, "character": 15 }));
    assert!(error["message"].as_str().unwrap().contains("did you mean `ACCT`?"), "{error}");

    // Hover on the record field `gender` (line 9, column 3).
    let hover = client.call(
        "textDocument/hover",
        json!({ "textDocument": { "uri": uri }, "position": { "line": 9, "character": 4 } }),
    );
    let markdown = hover["contents"]["value"].as_str().expect("markdown hover");
    assert!(markdown.contains("gender: Gender"), "{markdown}");

    // Completion after `genders[` offers the table's keys.
    let lookup = broken.replace("genders[SEX]", "genders[");
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri, "version": 3 }, "contentChanges": [{ "text": lookup }] }),
    );
    let completion = client.call(
        "textDocument/completion",
        json!({ "textDocument": { "uri": uri }, "position": { "line": 9, "character": 19 } }),
    );
    let labels: Vec<&str> = completion.as_array().unwrap().iter().filter_map(|c| c["label"].as_str()).collect();
    assert_eq!(labels, ["\"L\"", "\"P\""]);

    // Go to the definition of the module in `use etr.record` (the mapping is broken by now):
    // the stdlib file, materialised read-only.
    let definition = client.call(
        "textDocument/definition",
        json!({ "textDocument": { "uri": uri }, "position": { "line": 1, "character": 9 } }),
    );
    let target = definition[0]["uri"].as_str().expect("a location");
    assert!(target.ends_with("/etr/record.etr"), "{target}");
    let path = target.strip_prefix("file://").unwrap();
    let materialised = std::fs::read_to_string(path).expect("the stdlib file exists");
    assert!(materialised.contains("record Record"));
    assert!(std::fs::metadata(path).unwrap().permissions().readonly());

    // Back to the clean spec for the requests that read the whole file.
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri, "version": 4 }, "contentChanges": [{ "text": SPEC }] }),
    );
    client.diagnostics(&uri, 4, Duration::from_secs(30));

    // References of the table `genders` (line 9, after `gender = `) in both files.
    let references = client.call(
        "textDocument/references",
        json!({ "textDocument": { "uri": uri }, "position": { "line": 9, "character": 13 },
                "context": { "includeDeclaration": true } }),
    );
    let files: Vec<&str> = references.as_array().unwrap().iter().filter_map(|r| r["uri"].as_str()).collect();
    assert_eq!(files.len(), 2, "{references}");
    assert!(files.iter().any(|f| f.ends_with("/rules/shared.etr")), "{references}");

    // Rename the rule R0 from its declaration (line 11): four edits in this file.
    let rename = client.call(
        "textDocument/rename",
        json!({ "textDocument": { "uri": uri }, "position": { "line": 11, "character": 6 }, "newName": "BAD" }),
    );
    let edits = rename["changes"][uri.as_str()].as_array().expect("edits in the spec");
    assert_eq!(edits.len(), 4, "{rename}");
    assert!(edits.iter().all(|e| e["newText"] == "BAD"));

    // Semantic tokens: the last token is the rule message, after "✓" counted in UTF-16 units.
    let tokens = client.call("textDocument/semanticTokens/full", json!({ "textDocument": { "uri": uri } }));
    let data: Vec<u64> = tokens["data"].as_array().unwrap().iter().filter_map(|v| v.as_u64()).collect();
    assert_eq!(data.len() % 5, 0);
    let last = &data[data.len() - 5..];
    assert_eq!((last[2], last[3]), ("\"bad line ✓\"".encode_utf16().count() as u64, 2), "{data:?}");

    // The outline lists the items; a code action fixes an unhandled lookup.
    let symbols = client.call("textDocument/documentSymbol", json!({ "textDocument": { "uri": uri } }));
    let names: Vec<&str> = symbols.as_array().unwrap().iter().filter_map(|s| s["name"].as_str()).collect();
    assert_eq!(names, ["ACME", "etr.record", "rules.shared", "source", "map to Record", "R0"]);
    let unhandled = SPEC.replace("genders[SEX] else reject R0", "genders[SEX]");
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri, "version": 5 }, "contentChanges": [{ "text": unhandled }] }),
    );
    client.diagnostics(&uri, 5, Duration::from_secs(30));
    let range = json!({ "start": { "line": 9, "character": 12 }, "end": { "line": 9, "character": 12 } });
    let actions = client.call(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": uri }, "range": range, "context": { "diagnostics": [] } }),
    );
    let titles: Vec<&str> = actions.as_array().unwrap().iter().filter_map(|a| a["title"].as_str()).collect();
    assert!(titles.contains(&"Handle the failure with `else null`"), "{actions}");

    // Formatting: one edit with `etr fmt`'s layout (the messy spacing is gone).
    let messy = SPEC.replace("account_no = ACCT", "account_no   =ACCT");
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri, "version": 6 }, "contentChanges": [{ "text": messy }] }),
    );
    let edits = client.call(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": uri }, "options": { "tabSize": 2, "insertSpaces": true } }),
    );
    let formatted = edits[0]["newText"].as_str().unwrap_or_else(|| panic!("{edits}"));
    assert!(formatted.contains("  account_no = ACCT\n"), "{formatted}");

    assert!(client.shutdown().success());
}

/// Starts `etr lsp` on a folder with the stdlib cached inside it, initialised.
fn start_in(root: &std::path::Path) -> LspClient {
    let mut client = LspClient::start_with_env(
        env!("CARGO_BIN_EXE_etr"),
        root,
        &[("XDG_CACHE_HOME", root.join("cache").display().to_string())],
    );
    client.initialize(&file_uri(root));
    client
}

#[test]
fn did_close_of_a_document_never_opened_reads_nothing() {
    let root = tempfile::tempdir().expect("temp dir");
    // A file outside any open document (as `/etc/passwd` would be): closing it must not load it.
    let elsewhere = tempfile::tempdir().expect("temp dir");
    let secret = elsewhere.path().join("secret.etr");
    std::fs::write(&secret, "let leaked = 1\n").expect("write");
    let secret_uri = file_uri(&secret);
    let mut client = start_in(root.path());
    client.notify("textDocument/didClose", json!({ "textDocument": { "uri": secret_uri } }));
    // The server does not know the document: no outline (it would list `leaked` had it read it).
    // Notifications and requests are handled concurrently, so a read started by the didClose
    // could land after a first request: ask several times over half a second.
    for _ in 0..20 {
        let symbols = client.call("textDocument/documentSymbol", json!({ "textDocument": { "uri": secret_uri } }));
        assert_eq!(symbols, serde_json::Value::Null, "{symbols}");
        std::thread::sleep(Duration::from_millis(25));
    }
    assert!(client.shutdown().success());
}

/// `etr lsp` driven byte by byte, for messages no well-behaved client sends.
struct RawServer {
    child: std::process::Child,
    stdin: Option<std::process::ChildStdin>,
    stdout: std::io::BufReader<std::process::ChildStdout>,
}

impl RawServer {
    fn start(root: &std::path::Path) -> RawServer {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_etr"))
            .arg("lsp")
            .current_dir(root)
            .env("XDG_CACHE_HOME", root.join("cache"))
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("etr lsp starts");
        let stdin = child.stdin.take();
        let stdout = std::io::BufReader::new(child.stdout.take().expect("piped stdout"));
        RawServer { child, stdin, stdout }
    }

    fn send_raw(&mut self, bytes: &[u8]) {
        use std::io::Write;
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(bytes).expect("the server reads stdin");
        stdin.flush().expect("the server reads stdin");
    }

    /// One frame with this body, whatever the body is.
    fn send_body(&mut self, body: &[u8]) {
        let mut frame = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
        frame.extend_from_slice(body);
        self.send_raw(&frame);
    }

    /// The next message from the server (the server is expected to answer: no deadline needed,
    /// a server that exits ends the stream and fails the test).
    fn next(&mut self) -> serde_json::Value {
        use std::io::{BufRead, Read};
        let mut length = None;
        loop {
            let mut line = String::new();
            let read = self.stdout.read_line(&mut line).expect("read stdout");
            assert!(read > 0, "etr lsp closed its output");
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some(value) = line.strip_prefix("Content-Length: ") {
                length = value.parse::<usize>().ok();
            }
        }
        let mut body = vec![0; length.expect("a Content-Length")];
        self.stdout.read_exact(&mut body).expect("a whole body");
        serde_json::from_slice(&body).expect("the server sends JSON")
    }

    /// The next message that is a response (not a notification or a request to the client).
    fn next_response(&mut self) -> serde_json::Value {
        loop {
            let message = self.next();
            if message.get("method").is_none() {
                return message;
            }
        }
    }

    /// Closes stdin and waits for the exit, with what the server wrote on stderr.
    fn finish(mut self) -> (std::process::ExitStatus, String) {
        use std::io::Read;
        drop(self.stdin.take());
        let status = self.child.wait().expect("etr lsp exits");
        let mut stderr = String::new();
        self.child.stderr.take().expect("piped stderr").read_to_string(&mut stderr).expect("read stderr");
        (status, stderr)
    }
}

#[test]
fn an_undecodable_message_is_answered_and_the_server_goes_on() {
    let root = tempfile::tempdir().expect("temp dir");
    let mut server = RawServer::start(root.path());
    let bad: [(&str, &[u8], i64); 5] = [
        (
            "a lone surrogate escape",
            br#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"x":"\ud800"}}"#,
            -32700,
        ),
        ("truncated JSON", br#"{"jsonrpc":"2.0","id":1,"method":"initi"#, -32700),
        ("a body that is not UTF-8", b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xff\xfe\"}", -32700),
        ("an empty body", b"", -32700),
        ("JSON that is not a message", b"[1, 2, 3]", -32600),
    ];
    for (what, body, code) in bad {
        server.send_body(body);
        let answer = server.next_response();
        assert_eq!(answer["error"]["code"], json!(code), "{what}: {answer}");
        assert_eq!(answer["id"], serde_json::Value::Null, "{what}: {answer}");
    }
    // After all of them, a valid request is served.
    let initialize = json!({ "jsonrpc": "2.0", "id": 2, "method": "initialize",
                             "params": { "processId": null, "rootUri": null, "capabilities": {} } });
    server.send_body(initialize.to_string().as_bytes());
    let answer = server.next_response();
    assert_eq!(answer["id"], json!(2), "{answer}");
    assert!(answer["result"]["capabilities"]["hoverProvider"].as_bool().unwrap_or(false), "{answer}");
    // EOF ends the server normally.
    let (status, stderr) = server.finish();
    assert!(status.success(), "{status} {stderr}");
}

#[test]
fn after_a_broken_frame_header_the_server_reads_on_from_the_next_content_length() {
    let root = tempfile::tempdir().expect("temp dir");
    let mut server = RawServer::start(root.path());
    let initialize = json!({ "jsonrpc": "2.0", "id": 2, "method": "initialize",
                             "params": { "processId": null, "rootUri": null, "capabilities": {} } });
    // A length that is not a number, then the fuzzer's case: a `Content-Length: 0` whose body
    // (a request) runs into the header of the next frame on the same line.
    let mut stream = b"Content-Length: twelve\r\n\r\n{}".to_vec();
    stream.extend_from_slice(b"Content-Length: 0\r\n\r\n{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"shutdown\"}");
    stream
        .extend_from_slice(format!("Content-Length: {}\r\n\r\n{initialize}", initialize.to_string().len()).as_bytes());
    server.send_raw(&stream);
    let empty = server.next_response();
    assert_eq!(empty["error"]["code"], json!(-32700), "the empty body is answered as before: {empty}");
    let answer = server.next_response();
    assert_eq!(answer["id"], json!(2), "{answer}");
    assert!(answer["result"]["capabilities"]["hoverProvider"].as_bool().unwrap_or(false), "{answer}");
    // A line of 100 kB without a line end is skipped too, and the request after it served.
    server.send_raw(&vec![b'x'; 100 * 1024]);
    server.send_body(br#"{"jsonrpc":"2.0","id":3,"method":"shutdown"}"#);
    let answer = server.next_response();
    assert_eq!(answer["id"], json!(3), "{answer}");
    // EOF ends the server normally, after one line on stderr per stretch skipped.
    let (status, stderr) = server.finish();
    assert!(status.success(), "{status}\n{stderr}");
    let skipped: Vec<&str> = stderr.lines().filter(|l| l.contains("not a frame")).collect();
    assert_eq!(skipped.len(), 3, "{stderr}");
    assert!(skipped[0].contains("\"twelve\" is not a Content-Length"), "{stderr}");
}

#[test]
fn workspace_files_are_read_when_imported_or_searched() {
    let root = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(root.path().join("rules")).expect("mkdir");
    std::fs::write(root.path().join("rules/shared.etr"), SHARED).expect("write");
    let spec_path = root.path().join("acme.etr");
    std::fs::write(&spec_path, SPEC).expect("write");
    // Another spec that uses the table, never opened; and a gigabyte (sparse) no one uses.
    let other = SPEC.replace("contributor ACME \"Acme\"", "contributor OTHER \"Other\"");
    std::fs::write(root.path().join("other.etr"), other).expect("write");
    std::fs::File::create(root.path().join("huge.etr")).expect("create").set_len(1 << 30).expect("sparse");
    let uri = file_uri(&spec_path);
    let mut client = start_in(root.path());
    client.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": uri, "languageId": "etr", "version": 1, "text": SPEC } }),
    );
    // The imported module was read: `genders` resolves, only the usual warning is left.
    let diagnostics = client.diagnostics(&uri, 1, Duration::from_secs(30));
    let codes: Vec<&str> = diagnostics.as_array().unwrap().iter().filter_map(|d| d["code"].as_str()).collect();
    assert_eq!(codes, ["W601"], "{diagnostics}");
    // References search the whole folder: the spec never opened is read for it.
    let references = client.call(
        "textDocument/references",
        json!({ "textDocument": { "uri": uri }, "position": { "line": 9, "character": 13 },
                "context": { "includeDeclaration": true } }),
    );
    let mut files: Vec<&str> = references
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["uri"].as_str())
        .map(|u| u.rsplit('/').next().unwrap())
        .collect();
    files.sort();
    assert_eq!(files, ["acme.etr", "other.etr", "shared.etr"], "{references}");
    assert!(client.shutdown().success());
}
