//! A throwaway PostgreSQL server for tests: Debian's `postgresql` package, a temporary directory
//! and a free loopback port, started in a second or two.
//!
//! [`Cluster::start`] finds `initdb` and `pg_ctl` under `/usr/lib/postgresql/<version>/bin` (the
//! newest version there) or on `PATH`, creates a cluster with `initdb -A trust` in a temporary
//! directory and starts it with `pg_ctl start -w` on `127.0.0.1` only, durability off (`fsync`,
//! `synchronous_commit` and `full_page_writes`: a test's data needs no crash safety). PostgreSQL
//! refuses to run as root, and CI runs as root: there the programs run as the `postgres` system
//! user (`runuser -u postgres --`), which owns the directory.
//!
//! Dropping a [`Cluster`] stops the server (`pg_ctl stop -m immediate`) and removes the directory.
//! A test binary whose tests share one cluster ([`Cluster::shared`]) never drops it (statics are
//! not dropped), and a test process can die without unwinding: so every cluster also has a
//! watchdog, a shell loop in a process group of its own, that stops the server and removes the
//! directory once the process that started it is gone.
//!
//! `.ci/run` installs the `postgresql` package when `initdb` is missing; elsewhere a test that
//! cannot find it is skipped ([`Cluster::shared_or_skip`], see [`crate::ci`]).

use std::fs::File;
use std::net::{Ipv4Addr, TcpListener};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use tempfile::TempDir;

/// The user the server runs as when the tests run as root, and the superuser it creates.
const POSTGRES_USER: &str = "postgres";

/// How many ports to try when the one found free is taken before the server binds it.
const PORT_ATTEMPTS: usize = 3;

/// How many lines of a log an error message quotes.
const LOG_TAIL_LINES: usize = 20;

/// Why a cluster could not be had.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ClusterError {
    /// The PostgreSQL server programs are not installed: a reason to skip, not a failure.
    #[error(
        "the PostgreSQL server is not installed (no `initdb` under /usr/lib/postgresql/*/bin or on PATH); \
         install Debian's package with `apt-get install -y postgresql`, or run `.ci/run`, which installs it"
    )]
    NotInstalled,
    /// Preparing the cluster's directory or finding its user failed.
    #[error("cannot prepare a PostgreSQL cluster: {0}")]
    Setup(String),
    /// A PostgreSQL program failed; `log_tail` holds the end of its output or of the server log.
    #[error("{what} failed ({status}); the end of its log:\n{log_tail}")]
    Command { what: String, status: String, log_tail: String },
}

/// A running PostgreSQL server, stopped and removed on drop.
pub struct Cluster {
    port: u16,
    bin: PathBuf,
    run_as: RunAs,
    /// The stopper of last resort; ended by [`Drop`], which does its work first.
    watchdog: Option<Child>,
    /// Holds the data directory (`data/`), the socket, and the logs; removed after the server stops.
    dir: TempDir,
}

impl Cluster {
    /// Creates and starts a new cluster. Takes a second or two.
    pub fn start() -> Result<Cluster, ClusterError> {
        let bin = server_bin_dir()?;
        let run_as = RunAs::for_this_process()?;
        let dir = tempfile::Builder::new()
            .prefix("etr-pg-")
            .tempdir()
            .map_err(|error| ClusterError::Setup(format!("a temporary directory: {error}")))?;
        run_as.give(dir.path())?;
        let data = dir.path().join("data");
        let initdb_log = dir.path().join("initdb.log");
        run_logged(
            run_as.command(&bin.join("initdb")).arg("-D").arg(&data).args([
                "-A",
                "trust",
                "-U",
                POSTGRES_USER,
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
                "--no-instructions",
            ]),
            "initdb",
            &initdb_log,
        )?;
        let server_log = dir.path().join("server.log");
        let mut last_error = None;
        for _ in 0..PORT_ATTEMPTS {
            let port = free_loopback_port()?;
            let options = format!(
                "-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={socket_dir} \
                 -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
                socket_dir = dir.path().display()
            );
            let started = run_logged(
                run_as
                    .command(&bin.join("pg_ctl"))
                    .args(["start", "-w", "-t", "60", "-D"])
                    .arg(&data)
                    .arg("-l")
                    .arg(&server_log)
                    .arg("-o")
                    .arg(options),
                "pg_ctl start",
                &dir.path().join("pg_ctl.log"),
            );
            match started {
                Ok(()) => {
                    let mut cluster = Cluster { port, bin, run_as, watchdog: None, dir };
                    cluster.watchdog = Some(cluster.spawn_watchdog()?);
                    return Ok(cluster);
                }
                Err(error) => {
                    let server_tail = tail_of(&server_log);
                    let port_taken = server_tail.contains("could not bind");
                    // The server's own log says why it stopped; pg_ctl's only that it did.
                    last_error = Some(match error {
                        ClusterError::Command { what, status, log_tail } => ClusterError::Command {
                            what,
                            status,
                            log_tail: format!("{log_tail}\n-- server.log --\n{server_tail}"),
                        },
                        other => other,
                    });
                    if !port_taken {
                        break;
                    }
                }
            }
        }
        Err(last_error.expect("at least one start was tried"))
    }

    /// One cluster for every test of this test binary, started by the first to ask; each test
    /// takes a database of its own ([`Cluster::create_database`]).
    pub fn shared() -> Result<&'static Cluster, ClusterError> {
        static SHARED: OnceLock<Result<Cluster, ClusterError>> = OnceLock::new();
        SHARED.get_or_init(Cluster::start).as_ref().map_err(Clone::clone)
    }

    /// [`Cluster::shared`] for a test: `None` (after [`crate::ci::skip`]: a failure under CI) when
    /// PostgreSQL is not installed, a panic when it is installed but would not start.
    pub fn shared_or_skip() -> Option<&'static Cluster> {
        match Cluster::shared() {
            Ok(cluster) => Some(cluster),
            Err(ClusterError::NotInstalled) => crate::ci::require(Err(ClusterError::NotInstalled)),
            Err(error) => panic!("{error}"),
        }
    }

    /// The URL of the `postgres` database, as its superuser `postgres` (no password: trust).
    pub fn url(&self) -> String {
        self.database_url("postgres")
    }

    /// The loopback port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Creates the database `name` (lowercase ASCII letters, digits and `_`) and returns its URL.
    pub fn create_database(&self, name: &str) -> Result<String, ClusterError> {
        let valid = !name.is_empty()
            && name.len() <= 63
            && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !valid {
            return Err(ClusterError::Setup(format!(
                "{name:?} is not a database name for tests (lowercase letters, digits and `_`, at most 63)"
            )));
        }
        let log = self.dir.path().join(format!("createdb-{name}.log"));
        run_logged(
            Command::new(self.bin.join("createdb"))
                .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", POSTGRES_USER])
                .arg(name),
            &format!("createdb {name}"),
            &log,
        )?;
        Ok(self.database_url(name))
    }

    /// A database of its own for each caller: `prefix` and a number no caller got before in
    /// this process.
    pub fn fresh_database(&self, prefix: &str) -> Result<String, ClusterError> {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        self.create_database(&format!("{prefix}_{}", NEXT.fetch_add(1, Ordering::Relaxed)))
    }

    /// The last lines of the server's log, for a test's failure message.
    pub fn log_tail(&self) -> String {
        tail_of(&self.dir.path().join("server.log"))
    }

    fn database_url(&self, database: &str) -> String {
        format!("postgres://{POSTGRES_USER}@127.0.0.1:{}/{database}", self.port)
    }

    /// The arguments that stop the server at once (no checkpoint, nothing to keep).
    fn stop_command(&self) -> Command {
        let mut stop = self.run_as.command(&self.bin.join("pg_ctl"));
        stop.args(["stop", "-m", "immediate", "-w", "-D"]).arg(self.dir.path().join("data"));
        stop
    }

    /// A shell loop that waits for this process to end, then stops the server and removes the
    /// directory. Its own process group: an interrupt sent to the test's group leaves it running
    /// to clean up.
    fn spawn_watchdog(&self) -> Result<Child, ClusterError> {
        let stop = self.stop_command();
        let script = r#"pid=$1; dir=$2; shift 2
while [ -d "/proc/$pid" ]; do sleep 0.2; done
"$@"
rm -rf "$dir""#;
        Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg("etr-postgres-watchdog")
            .arg(std::process::id().to_string())
            .arg(self.dir.path())
            .arg(stop.get_program())
            .args(stop.get_args())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .map_err(|error| ClusterError::Setup(format!("cannot start the watchdog shell: {error}")))
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.stop_command().stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).status();
        if let Some(mut watchdog) = self.watchdog.take() {
            let _ = watchdog.kill();
            let _ = watchdog.wait();
        }
        // `dir` removes itself after this.
    }
}

/// Whether the server programs run as this process's user or, for root, as `postgres`.
#[derive(Debug, Clone, Copy)]
enum RunAs {
    ThisUser,
    Postgres { uid: u32, gid: u32 },
}

impl RunAs {
    fn for_this_process() -> Result<RunAs, ClusterError> {
        if effective_uid()? != 0 {
            return Ok(RunAs::ThisUser);
        }
        let (uid, gid) = system_user_ids(POSTGRES_USER)?;
        Ok(RunAs::Postgres { uid, gid })
    }

    /// Hands `dir` to the user the server runs as.
    fn give(self, dir: &Path) -> Result<(), ClusterError> {
        match self {
            RunAs::ThisUser => Ok(()),
            RunAs::Postgres { uid, gid } => std::os::unix::fs::chown(dir, Some(uid), Some(gid)).map_err(|error| {
                ClusterError::Setup(format!("cannot give {} to {POSTGRES_USER}: {error}", dir.display()))
            }),
        }
    }

    fn command(self, program: &Path) -> Command {
        match self {
            RunAs::ThisUser => Command::new(program),
            RunAs::Postgres { .. } => {
                let mut command = Command::new("runuser");
                command.args(["-u", POSTGRES_USER, "--"]).arg(program);
                command
            }
        }
    }
}

/// The `bin` directory of the newest PostgreSQL under `/usr/lib/postgresql`, or the directory of
/// `initdb` on `PATH`.
fn server_bin_dir() -> Result<PathBuf, ClusterError> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Ok(bin);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path).find(|dir| dir.join("initdb").is_file()).ok_or(ClusterError::NotInstalled)
}

/// This process's effective user id, from `/proc/self/status` (`Uid: real effective ...`).
fn effective_uid() -> Result<u32, ClusterError> {
    let status = std::fs::read_to_string("/proc/self/status")
        .map_err(|error| ClusterError::Setup(format!("cannot read /proc/self/status: {error}")))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("Uid:")?.split_whitespace().nth(1)?.parse().ok())
        .ok_or_else(|| ClusterError::Setup("no `Uid:` line in /proc/self/status".into()))
}

/// The user and group ids of the system user `name`, from `/etc/passwd`.
fn system_user_ids(name: &str) -> Result<(u32, u32), ClusterError> {
    let passwd = std::fs::read_to_string("/etc/passwd")
        .map_err(|error| ClusterError::Setup(format!("cannot read /etc/passwd: {error}")))?;
    passwd
        .lines()
        .find_map(|line| {
            let mut fields = line.split(':');
            (fields.next()? == name).then_some(())?;
            let uid = fields.nth(1)?.parse().ok()?;
            let gid = fields.next()?.parse().ok()?;
            Some((uid, gid))
        })
        .ok_or_else(|| {
            ClusterError::Setup(format!(
                "running as root, the server must run as the `{name}` user, and /etc/passwd has none \
                 (Debian's `postgresql` package creates it)"
            ))
        })
}

/// A loopback port nothing listens on now (the server binds it a moment later).
fn free_loopback_port() -> Result<u16, ClusterError> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .map_err(|error| ClusterError::Setup(format!("cannot find a free loopback port: {error}")))?;
    listener.local_addr().map(|address| address.port()).map_err(|error| ClusterError::Setup(error.to_string()))
}

/// Runs `command` with its output in the file `log`; an error quotes the log's end.
///
/// Output goes to a file, not a pipe: `pg_ctl start` leaves the server running, and a server that
/// inherited a pipe would keep a reader of it waiting.
fn run_logged(command: &mut Command, what: &str, log: &Path) -> Result<(), ClusterError> {
    let setup = |error: std::io::Error| ClusterError::Setup(format!("{what}: {error}"));
    let output = File::create(log).map_err(setup)?;
    let errors = output.try_clone().map_err(setup)?;
    let status =
        command.stdin(Stdio::null()).stdout(output).stderr(errors).status().map_err(|error| {
            ClusterError::Setup(format!("cannot run {what} ({:?}): {error}", command.get_program()))
        })?;
    if status.success() {
        return Ok(());
    }
    Err(ClusterError::Command { what: what.into(), status: status.to_string(), log_tail: tail_of(log) })
}

/// The last [`LOG_TAIL_LINES`] lines of the file at `path`, or why there are none.
fn tail_of(path: &Path) -> String {
    match std::fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let lines: Vec<&str> = text.lines().collect();
            lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join("\n")
        }
        Err(error) => format!("({} cannot be read: {error})", path.display()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cluster_serves_databases_and_leaves_nothing_behind() {
        let Some(bin) = crate::ci::require(server_bin_dir()) else { return };
        let cluster = Cluster::start().unwrap_or_else(|error| panic!("{error}"));
        let dir = cluster.dir.path().to_owned();
        let url = cluster.create_database("kit_check").expect("createdb");
        assert_eq!(url, format!("postgres://postgres@127.0.0.1:{}/kit_check", cluster.port()));
        assert!(cluster.create_database("Not-A-Name").is_err());
        let ready = |port: u16| {
            Command::new(bin.join("pg_isready"))
                .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-d", "kit_check"])
                .stdout(Stdio::null())
                .status()
                .expect("pg_isready runs")
                .success()
        };
        let port = cluster.port();
        assert!(ready(port), "the server does not answer: {}", cluster.log_tail());
        drop(cluster);
        assert!(!ready(port), "the server still answers after the drop");
        assert!(!dir.exists(), "{} is left behind", dir.display());
    }

    #[test]
    fn a_log_tail_is_its_last_lines() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log");
        let text: String = (1..=30).map(|n| format!("line {n}\n")).collect();
        std::fs::write(&log, text).unwrap();
        let tail = tail_of(&log);
        assert!(tail.starts_with("line 11\n") && tail.ends_with("line 30"), "{tail}");
        assert!(tail_of(&dir.path().join("missing")).contains("cannot be read"));
    }
}
