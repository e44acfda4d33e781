//! Publishing an output folder safely: what may be replaced, the atomic exchange, durability, and
//! the cleanup of what killed runs left behind.
//!
//! `etr run --out DIR` replaces DIR as a whole, so the one question that matters before anything
//! else is whether DIR may be replaced at all. It may when it does not exist, when it is an empty
//! folder, or when it is an etr output folder: it holds the marker file [`MARKER_FILE`] that every
//! published folder carries, and nothing but the files a run writes ([`OUTPUT_FILES`]). Anything
//! else (a folder holding the spec, the input, a user's notes; a symbolic link; a file) is
//! refused before the run starts, and checked again at the commit, and nothing is deleted that
//! was not written by a run: the previous output is removed file by file, by name, and a folder
//! that gained a stranger in the meantime is left in place.
//!
//! The commit swaps the staging folder and the published one with `renameat2(RENAME_EXCHANGE)`
//! (Linux 3.15+, on the file systems that support it): a reader polling DIR sees the old complete
//! folder or the new complete one, never nothing, and a kill at any moment leaves one of them
//! under DIR. Where the exchange is not available (another kernel, or a file system that refuses
//! it with `EINVAL`), the commit falls back to two renames (the old folder aside, the new one in),
//! and between them DIR is missing for a moment; a run killed in that gap leaves the old folder as
//! `.<name>.old-<pid>-<n>`, which the next run puts back.
//!
//! Every file of the staging folder and the folder itself are fsynced before the exchange, and
//! the parent folder after it, so a published folder survives a power loss with its content.
//!
//! Staging folders are named `.<name>.tmp-<pid>-<n>` beside DIR. A run killed before its commit
//! leaves one behind; the next run into the same DIR removes those of processes that no longer
//! exist (only when they hold nothing but output files), and restores or removes the `.old-`
//! folders of interrupted fallback commits. The process id is the liveness test, so two hosts
//! writing into one shared folder must not publish to the same DIR at the same time.

use std::ffi::OsStr;
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::{Result, RuntimeError};

/// The file that marks a folder as an etr output folder, which a later run may replace.
pub const MARKER_FILE: &str = ".etr-output";

/// What the marker file says, for a person who finds it.
pub const MARKER_TEXT: &str = "etr output folder (format 1)\n\
`etr run --out` replaces this folder as a whole: keep nothing else in it.\n";

/// Every file name a run may write into its output folder, the marker first. A folder holding
/// anything else is not replaced.
pub const OUTPUT_FILES: [&str; 6] =
    [MARKER_FILE, "accepted.parquet", "rejects.parquet", "warnings.parquet", "summary.json", "feedback.csv"];

/// What lies at the path a run will publish to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Nothing: the folder is created.
    Missing,
    /// An empty folder: replaced (it holds nothing to lose).
    Empty,
    /// A folder a previous run published: replaced as a whole.
    EtrOutput,
}

/// Decides whether `path` may be replaced by a run's output, and refuses with the reason
/// otherwise (a file, a symbolic link, a folder holding anything a run does not write).
pub fn inspect_target(path: &Path) -> Result<Target> {
    let refuse = |reason: String| Err(RuntimeError::OutputRefused { path: path.to_path_buf(), reason });
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Target::Missing),
        Err(e) => return Err(RuntimeError::io("inspect", path, e)),
    };
    if meta.file_type().is_symlink() {
        return refuse("it is a symbolic link; etr replaces the output folder itself, so give the real path".into());
    }
    if !meta.is_dir() {
        return refuse("it exists and is not a folder".into());
    }
    // One listing decides: a second look could see another folder, swapped in meanwhile by a
    // concurrent run.
    let mut has_marker = false;
    let mut entries = 0usize;
    let mut strangers = Vec::new();
    for entry in fs::read_dir(path).map_err(|e| RuntimeError::io("list", path, e))? {
        let entry = entry.map_err(|e| RuntimeError::io("list", path, e))?;
        entries += 1;
        let name = entry.file_name();
        let is_file = entry.file_type().map_err(|e| RuntimeError::io("inspect", entry.path(), e))?.is_file();
        match name.to_str() {
            Some(MARKER_FILE) if is_file => has_marker = true,
            Some(known) if is_file && OUTPUT_FILES.contains(&known) => {}
            _ => strangers.push(name.to_string_lossy().into_owned()),
        }
    }
    strangers.sort();
    if !strangers.is_empty() {
        let shown: Vec<String> = strangers.iter().take(3).map(|s| format!("`{s}`")).collect();
        let more = match strangers.len() {
            n if n > 3 => format!(" and {} more", n - 3),
            _ => String::new(),
        };
        return refuse(format!(
            "it holds {}{more}, which etr did not write; a run replaces its output folder as a whole, so give a \
             new or empty folder, or one a previous run wrote",
            shown.join(", ")
        ));
    }
    if has_marker {
        Ok(Target::EtrOutput)
    } else if entries == 0 {
        Ok(Target::Empty)
    } else {
        refuse(format!(
            "it has no `{MARKER_FILE}` marker, so it is not a folder etr published (an output of etr before the \
             marker existed must be removed by hand)"
        ))
    }
}

/// Whether the commit swapped the folders in one step or had to move the old one aside first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Swap {
    /// `RENAME_EXCHANGE`: the old folder is now at the staging path.
    Exchanged,
    /// The target did not exist: the staging folder was renamed into place.
    Created,
    /// Two renames: the old folder was moved to the given `.old-` path first.
    MovedAside,
}

/// Moves `staging` to `target`, replacing what is there (already inspected by the caller), and
/// returns what happened and where the old folder now is, if there was one.
pub(crate) fn swap_into_place(staging: &Path, target: &Path, aside: &Path) -> Result<(Swap, Option<PathBuf>)> {
    // A concurrent run may create or replace the target between the inspection and the rename;
    // each such race sends us round again, and the inspection refuses whatever is not ours.
    for _ in 0..8 {
        match inspect_target(target)? {
            Target::Missing => match rename_no_replace(staging, target) {
                Ok(()) => return Ok((Swap::Created, None)),
                Err(e) if matches!(e.raw_os_error(), Some(libc::EEXIST) | Some(libc::ENOTEMPTY)) => continue,
                Err(e) => return Err(RuntimeError::io("publish", target, e)),
            },
            Target::Empty | Target::EtrOutput => match rename_exchange(staging, target) {
                Ok(()) => return Ok((Swap::Exchanged, Some(staging.to_path_buf()))),
                Err(e) if e.raw_os_error() == Some(libc::ENOENT) => continue,
                Err(e) if exchange_unsupported(&e) => return two_renames(staging, target, aside),
                Err(e) => return Err(RuntimeError::io("publish", target, e)),
            },
        }
    }
    Err(RuntimeError::io(
        "publish",
        target,
        io::Error::other("another process keeps replacing it; is a second run writing there?"),
    ))
}

/// The fallback without an atomic exchange: the old folder aside, the new one in, the old one back
/// if the second rename fails.
fn two_renames(staging: &Path, target: &Path, aside: &Path) -> Result<(Swap, Option<PathBuf>)> {
    fs::rename(target, aside).map_err(|e| RuntimeError::io("move away", target, e))?;
    if let Err(e) = fs::rename(staging, target) {
        let _ = fs::rename(aside, target);
        return Err(RuntimeError::io("publish", target, e));
    }
    Ok((Swap::MovedAside, Some(aside.to_path_buf())))
}

/// Removes a replaced output folder, by name: the output files, the marker last (so that the
/// folder is recognised as an output until it is empty, by a concurrent run that looks at it),
/// then the folder. Whatever else it holds (a file someone put there since the inspection) is
/// left, and so is the folder.
pub fn remove_old_output(old: &Path) -> io::Result<()> {
    for name in OUTPUT_FILES.iter().rev() {
        match fs::remove_file(old.join(name)) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    fs::remove_dir(old)
}

/// Flushes every file of `folder` and the folder itself to stable storage.
pub(crate) fn sync_folder(folder: &Path) -> Result<()> {
    for entry in fs::read_dir(folder).map_err(|e| RuntimeError::io("list", folder, e))? {
        let path = entry.map_err(|e| RuntimeError::io("list", folder, e))?.path();
        File::open(&path).and_then(|f| f.sync_all()).map_err(|e| RuntimeError::io("sync", &path, e))?;
    }
    sync_dir(folder)
}

/// Flushes a folder's entries (names) to stable storage.
pub(crate) fn sync_dir(folder: &Path) -> Result<()> {
    File::open(folder).and_then(|f| f.sync_all()).map_err(|e| RuntimeError::io("sync", folder, e))
}

/// The folder `path` is in (`.` for a bare name), where its staging folders are made.
pub(crate) fn parent_folder(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// What [`clean_stale_siblings`] did, for the caller to report.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Cleanup {
    /// Staging folders of dead runs, removed.
    pub removed: Vec<PathBuf>,
    /// A previous output moved aside by an interrupted commit, put back in place.
    pub restored: Option<PathBuf>,
    /// Leftovers that were not removed because they hold files a run does not write.
    pub kept: Vec<PathBuf>,
}

/// Removes the staging (`.<name>.tmp-<pid>-<n>`) and moved-aside (`.<name>.old-<pid>-<n>`) folders
/// that runs into `target` left behind when they were killed: only those of processes that no
/// longer exist, and only when they hold nothing but output files. A moved-aside folder is put
/// back when `target` is missing (a fallback commit killed between its two renames).
pub fn clean_stale_siblings(target: &Path) -> Result<Cleanup> {
    let mut cleanup = Cleanup::default();
    let Some(name) = target.file_name().and_then(OsStr::to_str) else {
        return Ok(cleanup);
    };
    let parent = parent_folder(target);
    let entries = match fs::read_dir(&parent) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(cleanup),
        Err(e) => return Err(RuntimeError::io("list", &parent, e)),
    };
    let mut stale = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| RuntimeError::io("list", &parent, e))?;
        let file_name = entry.file_name();
        let Some(leftover) = file_name.to_str().and_then(|n| Leftover::parse(n, name)) else { continue };
        if leftover.pid == std::process::id() || process_alive(leftover.pid) {
            continue;
        }
        if !entry.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        stale.push((leftover, entry.path()));
    }
    // Oldest first, so the most recent moved-aside output is the one restored.
    stale.sort_by_key(|(leftover, _)| (leftover.pid, leftover.n));
    for (leftover, path) in stale.into_iter().rev() {
        if !holds_only_output_files(&path) {
            cleanup.kept.push(path);
            continue;
        }
        if leftover.moved_aside && cleanup.restored.is_none() && matches!(inspect_target(target), Ok(Target::Missing)) {
            fs::rename(&path, target).map_err(|e| RuntimeError::io("restore", &path, e))?;
            cleanup.restored = Some(path);
            continue;
        }
        remove_old_output(&path).map_err(|e| RuntimeError::io("remove", &path, e))?;
        cleanup.removed.push(path);
    }
    Ok(cleanup)
}

/// A folder name of the form `.<name>.tmp-<pid>-<n>` or `.<name>.old-<pid>-<n>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Leftover {
    moved_aside: bool,
    pid: u32,
    n: u64,
}

impl Leftover {
    fn parse(file_name: &str, target_name: &str) -> Option<Leftover> {
        let rest = file_name.strip_prefix('.')?.strip_prefix(target_name)?;
        let (moved_aside, rest) = if let Some(rest) = rest.strip_prefix(".tmp-") {
            (false, rest)
        } else {
            (true, rest.strip_prefix(".old-")?)
        };
        let (pid, n) = rest.split_once('-')?;
        Some(Leftover { moved_aside, pid: pid.parse().ok()?, n: n.parse().ok()? })
    }
}

fn holds_only_output_files(folder: &Path) -> bool {
    let Ok(entries) = fs::read_dir(folder) else { return false };
    entries.into_iter().all(|entry| {
        entry.is_ok_and(|entry| {
            entry.file_type().is_ok_and(|t| t.is_file())
                && entry.file_name().to_str().is_some_and(|n| OUTPUT_FILES.contains(&n))
        })
    })
}

/// Whether a process with this id exists (on this host). A process we may not signal exists.
fn process_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else { return false };
    if pid <= 0 {
        return false;
    }
    // SAFETY: signal 0 sends nothing; kill only checks that the process exists and may be signalled.
    let status = unsafe { libc::kill(pid, 0) };
    status == 0 || io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

#[cfg(target_os = "linux")]
fn renameat2(from: &Path, to: &Path, flags: libc::c_uint) -> io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let from = std::ffi::CString::new(from.as_os_str().as_bytes()).map_err(io::Error::other)?;
    let to = std::ffi::CString::new(to.as_os_str().as_bytes()).map_err(io::Error::other)?;
    // SAFETY: both paths are NUL-terminated strings that outlive the call; AT_FDCWD makes them
    // relative to the working directory, as `fs::rename` does.
    let status = unsafe { libc::renameat2(libc::AT_FDCWD, from.as_ptr(), libc::AT_FDCWD, to.as_ptr(), flags) };
    if status == 0 { Ok(()) } else { Err(io::Error::last_os_error()) }
}

/// Swaps two existing paths in one step.
fn rename_exchange(a: &Path, b: &Path) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        renameat2(a, b, libc::RENAME_EXCHANGE)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (a, b);
        Err(io::Error::from_raw_os_error(libc::ENOSYS))
    }
}

/// Renames `from` to `to`, failing if `to` exists (even as an empty folder, which a plain rename
/// would silently replace).
fn rename_no_replace(from: &Path, to: &Path) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        match renameat2(from, to, libc::RENAME_NOREPLACE) {
            Err(e) if exchange_unsupported(&e) => fs::rename(from, to),
            other => other,
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        fs::rename(from, to)
    }
}

/// The kernel or the file system does not offer `renameat2`'s flags.
fn exchange_unsupported(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EINVAL) | Some(libc::ENOSYS) | Some(libc::EOPNOTSUPP))
}

/// The staging folders of this process that are not committed yet, for a signal handler that
/// removes them before the process exits (see [`remove_pending_staging`]).
static PENDING_STAGING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

pub(crate) fn register_staging(path: &Path) {
    PENDING_STAGING.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(path.to_path_buf());
}

pub(crate) fn unregister_staging(path: &Path) {
    PENDING_STAGING.lock().unwrap_or_else(std::sync::PoisonError::into_inner).retain(|p| p != path);
}

/// Removes the staging folders of the runs in progress in this process and returns them: for a
/// handler of SIGINT or SIGTERM that ends the process next (a commit in progress finishes first:
/// it holds the same lock while it swaps, then unregisters its folder).
pub fn remove_pending_staging() -> Vec<PathBuf> {
    let mut pending = PENDING_STAGING.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let removed = std::mem::take(&mut *pending);
    for path in &removed {
        let _ = fs::remove_dir_all(path);
    }
    removed
}

/// [`swap_into_place`] while no signal handler can remove staging folders, and the staging folder
/// unregistered in the same step once it is published (or holds the replaced output).
pub(crate) fn swap_registered(staging: &Path, target: &Path, aside: &Path) -> Result<(Swap, Option<PathBuf>)> {
    let mut pending = PENDING_STAGING.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let swapped = swap_into_place(staging, target, aside)?;
    pending.retain(|p| p != staging);
    Ok(swapped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leftover_names_parse_for_their_target_only() {
        assert_eq!(Leftover::parse(".out.tmp-12-3", "out"), Some(Leftover { moved_aside: false, pid: 12, n: 3 }));
        assert_eq!(Leftover::parse(".out.old-12-0", "out"), Some(Leftover { moved_aside: true, pid: 12, n: 0 }));
        assert_eq!(Leftover::parse(".out2.tmp-12-3", "out"), None);
        assert_eq!(Leftover::parse(".out.tmp-x-3", "out"), None);
        assert_eq!(Leftover::parse("out.tmp-12-3", "out"), None);
        assert_eq!(Leftover::parse(".out.tmp-12", "out"), None);
    }

    #[test]
    fn this_process_is_alive() {
        assert!(process_alive(std::process::id()));
        assert!(!process_alive(0));
    }
}
