//! The landing-folder watcher: files that contributors drop (by SFTP, or a shared folder) into
//! `landing/<contributor>/` are received once complete, then moved out of the way.
//!
//! The folder is polled, not watched with inotify: a poll sees what a notification would, works on
//! network file systems where notifications do not arrive, and needs no dependency.
//!
//! The completeness rule (docs/platform.md says it for users): a file directly in a contributor's
//! folder is taken when
//! - it is a regular file whose name is not hidden (no leading `.`) and has no temporary suffix
//!   ([`TEMPORARY_SUFFIXES`]): an SFTP client that uploads as `name.part` and renames is never
//!   seen half written;
//! - its size and modification time were the same at two polls at least `settle_seconds` apart
//!   (and at least one poll apart when `settle_seconds` is 0): a file still being written grows
//!   or is touched, and is looked at again later.
//!
//! A settled file is first set aside: renamed into the contributor's `.taking/` folder under a name
//! of this process's own. The rename is atomic, so of several `etr serve` processes watching one
//! folder (one ledger, several machines) exactly one takes each file; the others find it gone and
//! pass. A file left in `.taking/` by a process that died before finishing with it is taken again
//! by any watcher once it has lain there [`STALE_TAKING`] (its change time, which the rename set).
//!
//! A taken file whose name is one of the contributor's is received (archived, recorded with
//! `Source::Folder`) and moved to `received/<run-id>-<name>`. Any other taken file (another
//! contributor's name, an empty file) is moved to `refused/<name>` with `<name>.reason.txt` beside
//! it. The platform did not create these files, so it never deletes one. A crash between the
//! ledger's record and the move receives the file again at the next start; the worker then finds
//! the first run's content and makes the second a duplicate.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use etr_ledger::{RunId, Source};

use crate::platform::{IntakeError, Platform};

/// Name endings of files still being written: what SFTP clients, browsers and copy tools use.
pub const TEMPORARY_SUFFIXES: &[&str] = &[".part", ".partial", ".filepart", ".tmp", ".temp", ".crdownload", "~"];

/// The subfolder of received files.
pub const RECEIVED: &str = "received";
/// The subfolder of refused files and their reasons.
pub const REFUSED: &str = "refused";

/// The subfolder a watcher moves a file into while it receives it.
pub const TAKING: &str = ".taking";
/// How long a file may lie in `.taking/` before another watcher takes it over: far longer than
/// archiving and recording any file takes, so only a file whose watcher died is taken twice.
pub const STALE_TAKING: Duration = Duration::from_secs(600);

/// What one poll did with a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Taken {
    /// Received as a run, moved to `to`.
    Received { contributor: String, run: RunId, to: PathBuf },
    /// Refused, moved to `to`, the reason beside it.
    Refused { contributor: String, to: PathBuf, reason: String },
}

/// What a file looked like at a poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Look {
    size: u64,
    modified: Option<SystemTime>,
}

/// Polls the landing folder; remembers what each file looked like and since when.
pub struct Watcher {
    platform: Arc<Platform>,
    settle: Duration,
    /// Each candidate file: how it looked, and when it was first seen looking so.
    seen: HashMap<PathBuf, (Look, Instant)>,
    /// How long a file lies in `.taking/` before this watcher takes it over ([`STALE_TAKING`]).
    stale_after: Duration,
}

impl Watcher {
    pub fn new(platform: Arc<Platform>) -> Watcher {
        let settle = Duration::from_secs(platform.workspace.worker.settle_seconds);
        Watcher { platform, settle, seen: HashMap::new(), stale_after: STALE_TAKING }
    }

    /// A watcher that takes over files set aside longer than `after` ago (tests use 0).
    pub fn taking_over_after(mut self, after: Duration) -> Watcher {
        self.stale_after = after;
        self
    }

    /// Creates every contributor's landing folder (so an SFTP user finds it), and looks at every
    /// file once: receives the settled ones, refuses the settled ones that are not the
    /// contributor's, and remembers the others for the next poll.
    pub async fn poll(&mut self) -> std::io::Result<Vec<Taken>> {
        let mut taken = Vec::new();
        let mut present = Vec::new();
        let contributors: Vec<String> = self.platform.workspace.contributors.iter().map(|c| c.name.clone()).collect();
        for contributor in contributors {
            let folder = self.platform.workspace.landing.join(&contributor);
            tokio::fs::create_dir_all(&folder).await?;
            for (path, name) in stale_takings(&folder, self.stale_after).await {
                match self.take(&contributor, &folder, &path, &name).await {
                    Ok(Some(done)) => taken.push(done),
                    Ok(None) => {}
                    Err(error) => eprintln!("etr serve: landing file {}: {error}", path.display()),
                }
            }
            let mut entries = tokio::fs::read_dir(&folder).await?;
            while let Some(entry) = entries.next_entry().await? {
                let path = entry.path();
                let name = entry.file_name().to_string_lossy().into_owned();
                // `symlink_metadata`: a link is not followed out of the landing folder.
                let Ok(meta) = tokio::fs::symlink_metadata(&path).await else { continue };
                if !meta.is_file() || name.starts_with('.') || TEMPORARY_SUFFIXES.iter().any(|s| name.ends_with(s)) {
                    continue;
                }
                present.push(path.clone());
                let look = Look { size: meta.len(), modified: meta.modified().ok() };
                let now = Instant::now();
                let settled = match self.seen.get(&path) {
                    Some((before, since)) if *before == look => now.duration_since(*since) >= self.settle,
                    _ => {
                        self.seen.insert(path.clone(), (look, now));
                        false
                    }
                };
                if settled {
                    self.seen.remove(&path);
                    match self.take(&contributor, &folder, &path, &name).await {
                        Ok(Some(done)) => taken.push(done),
                        Ok(None) => {}
                        Err(error) => eprintln!("etr serve: landing file {}: {error}", path.display()),
                    }
                }
            }
        }
        // Forget files that went away (renamed by their sender, or taken).
        self.seen.retain(|path, _| present.contains(path));
        Ok(taken)
    }

    /// Sets one settled file aside, then receives or refuses it; `None` when another watcher
    /// took it first, or when the platform could not receive it now (it is put back).
    async fn take(&self, contributor: &str, folder: &Path, path: &Path, name: &str) -> std::io::Result<Option<Taken>> {
        let taking = folder.join(TAKING);
        tokio::fs::create_dir_all(&taking).await?;
        let aside = taking.join(format!("{}--{name}", claim_tag()));
        match tokio::fs::rename(path, &aside).await {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(error),
        }
        let path = aside.as_path();
        match self.platform.receive_named(contributor, path, name, Source::Folder).await {
            Ok(run) => {
                let to = folder.join(RECEIVED).join(format!("{}-{name}", run.id));
                tokio::fs::create_dir_all(folder.join(RECEIVED)).await?;
                tokio::fs::rename(path, &to).await?;
                eprintln!("etr serve: received {} {contributor} {name} ({} bytes, folder)", run.id, run.size_bytes);
                Ok(Some(Taken::Received { contributor: contributor.to_owned(), run: run.id, to }))
            }
            Err(error @ (IntakeError::BadName { .. } | IntakeError::Empty)) => {
                let reason = error.to_string();
                let to = refuse(folder, path, name, &reason).await?;
                eprintln!("etr serve: refused landing file {contributor}/{name}: {reason}");
                Ok(Some(Taken::Refused { contributor: contributor.to_owned(), to, reason }))
            }
            Err(error) => {
                // The platform's own trouble (disk, ledger): the file goes back and is tried
                // again, unless a new file of that name arrived meanwhile; then it stays aside
                // and is taken again once stale.
                let back = folder.join(name);
                if !tokio::fs::try_exists(&back).await.unwrap_or(true) {
                    tokio::fs::rename(path, &back).await?;
                }
                eprintln!("etr serve: could not receive {contributor}/{name}: {error}; it is tried again");
                Ok(None)
            }
        }
    }
}

/// A name part no other watcher (in this process or another) uses at the same moment.
fn claim_tag() -> String {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{}-{nanos}-{n}", std::process::id())
}

/// The files of `folder/.taking/` set aside longer than `after` ago, with the names they arrived
/// under.
async fn stale_takings(folder: &Path, after: Duration) -> Vec<(PathBuf, String)> {
    use std::os::unix::fs::MetadataExt;
    let Ok(mut entries) = tokio::fs::read_dir(folder.join(TAKING)).await else { return Vec::new() };
    let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    let mut stale = Vec::new();
    while let Ok(Some(entry)) = entries.next_entry().await {
        let file = entry.file_name().to_string_lossy().into_owned();
        let Some((_, name)) = file.split_once("--") else { continue };
        let Ok(meta) = tokio::fs::symlink_metadata(entry.path()).await else { continue };
        // The change time: set when the file was renamed in (its modification time is the sender's).
        if meta.is_file() && now - meta.ctime() >= after.as_secs() as i64 {
            stale.push((entry.path(), name.to_owned()));
        }
    }
    stale
}

/// Moves a refused file to `refused/`, under a name no earlier refused file has, with the reason
/// beside it.
async fn refuse(folder: &Path, path: &Path, name: &str, reason: &str) -> std::io::Result<PathBuf> {
    let refused = folder.join(REFUSED);
    tokio::fs::create_dir_all(&refused).await?;
    let mut to = refused.join(name);
    let mut n = 1;
    while tokio::fs::try_exists(&to).await? {
        to = refused.join(format!("{name}.{n}"));
        n += 1;
    }
    tokio::fs::rename(path, &to).await?;
    let mut reason_file = to.clone().into_os_string();
    reason_file.push(".reason.txt");
    tokio::fs::write(&reason_file, format!("{reason}\n")).await?;
    Ok(to)
}

/// Polls every `interval` until `stop` is true.
pub async fn run(platform: Arc<Platform>, interval: Duration, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut watcher = Watcher::new(platform);
    while !*stop.borrow() {
        if let Err(error) = watcher.poll().await {
            eprintln!("etr serve: the landing folder: {error}");
        }
        if !crate::serve::pause(interval, &mut stop).await {
            break;
        }
    }
}
