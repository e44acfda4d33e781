//! `etr run` and the printing commands at the edges a careless user or a hostile campaign reaches
//! (issue 13): an output folder that is not etr's, a named pipe as input, a closed pipe on stdout,
//! an error's cause printed once, and runs interrupted by a signal.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn etr() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_etr"));
    command.current_dir(root());
    command
}

fn path_arg(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("readable folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn run_jcl(input: &Path, out: &Path) -> Output {
    etr().args(["run", "contributors/jcl.etr", path_arg(input), "--out", path_arg(out)]).output().expect("etr runs")
}

/// Waits for a child with a deadline: a hang is a failure of the test, not of CI's patience.
fn wait_with_deadline(child: &mut Child, deadline: Duration) -> Option<std::process::ExitStatus> {
    let start = Instant::now();
    while start.elapsed() < deadline {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

fn lines_read(out: &Path) -> u64 {
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).expect("summary")).expect("json");
    summary["lines_read"].as_u64().expect("lines_read")
}

/// Finding 1: `--out $PWD`, run from a folder holding the spec, the input and `sub/notes.txt`,
/// left only the five output files. Now it is refused before anything runs, and nothing changes.
#[test]
fn out_pointing_at_the_users_folder_is_refused_and_nothing_is_deleted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let work = dir.path().join("work");
    std::fs::create_dir_all(work.join("sub")).expect("folders");
    std::fs::copy(root().join("contributors/jcl.etr"), work.join("jcl.etr")).expect("spec");
    std::fs::copy(root().join("tests/corpus/w1/jcl_1k/input.psv"), work.join("input.psv")).expect("input");
    std::fs::write(work.join("sub/notes.txt"), "my notes").expect("notes");
    let before = entries(&work);

    let out = Command::new(env!("CARGO_BIN_EXE_etr"))
        .args(["run", "jcl.etr", "input.psv", "--out", path_arg(&work), "--workspace", path_arg(&root())])
        .current_dir(&work)
        .output()
        .expect("etr runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("refusing to write the output to") && stderr.contains("`sub`"), "{stderr}");
    assert_eq!(entries(&work), before);
    assert_eq!(std::fs::read_to_string(work.join("sub/notes.txt")).expect("notes"), "my notes");
    assert_eq!(entries(dir.path()), ["work"], "no staging folder is left beside it");
}

/// Finding 9: a named pipe as the input of a spec that reads its file twice (jcl.etr has a
/// `unique` check) hung forever when the second pass opened it again. It is refused up front.
#[test]
fn a_named_pipe_for_a_spec_that_reads_twice_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("input.fifo");
    let c_path = std::ffi::CString::new(path_arg(&fifo)).expect("path");
    // SAFETY: a NUL-terminated path that outlives the call.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0, "mkfifo");
    let out = dir.path().join("out");
    let mut child = etr()
        .args(["run", "contributors/jcl.etr", path_arg(&fifo), "--out", path_arg(&out)])
        .stderr(Stdio::piped())
        .spawn()
        .expect("etr runs");
    // A writer that feeds the pipe, as `cat file > fifo` would; it gives up once nobody reads.
    let writer_path = fifo.clone();
    std::thread::spawn(move || {
        if let Ok(mut pipe) = std::fs::OpenOptions::new().write(true).open(&writer_path) {
            let data = std::fs::read(root().join("tests/corpus/w1/jcl_1k/input.psv")).expect("input");
            let _ = pipe.write_all(&data);
        }
    });
    let status = wait_with_deadline(&mut child, Duration::from_secs(60)).expect("etr run must not hang on a pipe");
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut stderr).expect("stderr");
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("not a regular file") && (stderr.contains("2 times") || stderr.contains("3 times")),
        "{stderr}"
    );
    assert!(!out.exists());
    // Unblock the writer thread if it is still waiting for a reader.
    let _ = std::fs::File::open(&fifo);
}

/// Finding 12: `etr explain SPEC | head -1` and `check --format json | head -c 10` panicked on
/// the closed pipe (exit 101). They end quietly instead, as a Unix filter does. The reading end is
/// closed before the command prints (it compiles a spec first), so its first write meets it.
#[test]
fn a_closed_stdout_ends_printing_commands_quietly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = std::fs::read_to_string(root().join("contributors/jcl.etr")).expect("jcl.etr");
    let broken = dir.path().join("broken.etr");
    std::fs::write(&broken, text.replace("account_no          = ACCT_NO", "account_no          = ACCT_NUM"))
        .expect("spec");
    for args in [
        vec!["explain", "contributors/jcl.etr"],
        vec!["check", "--format", "json", path_arg(&broken)],
        vec!["fmt", "--stdout", "contributors/jcl.etr"],
    ] {
        let mut child = etr().args(&args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("etr runs");
        drop(child.stdout.take());
        let status = wait_with_deadline(&mut child, Duration::from_secs(60)).expect("no hang");
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut stderr).expect("stderr");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_ne!(status.code(), Some(101), "{args:?}: {stderr}");
    }
}

/// Finding 18 (runtime side): an error's cause was printed twice ("X: X").
#[test]
fn an_error_names_its_cause_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = run_jcl(&dir.path().join("missing.psv"), &dir.path().join("out"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.matches("No such file or directory").count(), 1, "{stderr}");
}

/// A contributor file large enough that a run is still going when the test signals it.
fn large_input(dir: &Path) -> PathBuf {
    let sample = std::fs::read_to_string(root().join("tests/corpus/w1/jcl_1k/input.psv")).expect("sample");
    let data: Vec<&str> = sample.lines().filter(|l| !l.starts_with("H|") && !l.starts_with("T|")).collect();
    let path = dir.join("large.psv");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).expect("create"));
    for _ in 0..300 {
        for line in &data {
            writeln!(file, "{line}").expect("write");
        }
    }
    file.flush().expect("flush");
    path
}

/// Starts a run on a large file and waits until its staging folder exists.
fn start_large_run(dir: &Path, input: &Path, out: &Path) -> Child {
    let child = etr()
        .args(["run", "contributors/jcl.etr", path_arg(input), "--out", path_arg(out), "--quiet"])
        .stderr(Stdio::piped())
        .spawn()
        .expect("etr runs");
    let start = Instant::now();
    while !entries(dir).iter().any(|name| name.starts_with(".out.tmp-")) {
        assert!(start.elapsed() < Duration::from_secs(60), "the run never made its staging folder");
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(200));
    child
}

/// Finding 7: SIGTERM and SIGINT left the staging folder (raw contributor lines) forever. The
/// run removes it, exits with 128 + the signal, and the previous output is untouched.
#[test]
fn a_signalled_run_removes_its_staging_folder() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let first = run_jcl(&root().join("tests/corpus/w1/jcl_1k/input.psv"), &out);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let input = large_input(dir.path());
    for signal in [libc::SIGTERM, libc::SIGINT] {
        let mut child = start_large_run(dir.path(), &input, &out);
        let pid = libc::pid_t::try_from(child.id()).expect("pid");
        // SAFETY: signals our own child, which has not been reaped yet.
        assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
        let status = wait_with_deadline(&mut child, Duration::from_secs(60)).expect("the run ends");
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut stderr).expect("stderr");
        assert_eq!(status.code(), Some(128 + signal), "the run finished before the signal? {stderr}");
        assert!(stderr.contains("unfinished output was removed"), "{stderr}");
        assert_eq!(entries(dir.path()), ["large.psv", "out"], "signal {signal}");
        assert_eq!(lines_read(&out), 1000, "the previous output is untouched");
    }
}

/// A run killed outright (SIGKILL cannot be caught) leaves its staging folder; the next run into
/// the same folder removes it and says so.
#[test]
fn the_next_run_removes_what_a_killed_run_left() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let input = large_input(dir.path());
    let mut child = start_large_run(dir.path(), &input, &out);
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    let leftovers: Vec<String> = entries(dir.path()).into_iter().filter(|n| n.starts_with(".out.tmp-")).collect();
    assert_eq!(leftovers.len(), 1, "{leftovers:?}");

    let rerun = run_jcl(&root().join("tests/corpus/w1/jcl_1k/input.psv"), &out);
    let stderr = String::from_utf8_lossy(&rerun.stderr);
    assert!(rerun.status.success(), "{stderr}");
    assert!(stderr.contains("left by killed runs") && stderr.contains(&leftovers[0]), "{stderr}");
    assert_eq!(entries(dir.path()), ["large.psv", "out"]);
    assert_eq!(lines_read(&out), 1000);
}
