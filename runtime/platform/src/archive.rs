//! The archive: every received file, kept once, by the SHA-256 of its bytes. It is what a run
//! reads (never the landing copy, which its sender may overwrite), what `etr replay` re-runs, and
//! what disaster recovery restores from.
//!
//! A file is written to `tmp/` under a name of its own, hashed as it is copied, synced, then renamed
//! to `sha256/<first two hex digits>/<hash>`: a reader never sees half a file under a hash, and a
//! crash leaves at most a temporary file, which the next start removes (`Archive::open`). A file
//! whose hash is already there is not written again (the same bytes); its temporary copy is removed.
//! Only files this archive created are ever removed.
//!
//! Several processes share an archive (`etr serve` and an `etr ingest` beside it), so a start must
//! not take a file another process is still receiving for a crash's leftover: a temporary file is
//! locked (`flock`) by its writer from its creation to its rename, and a start removes only the
//! ones it can lock, whose writer is gone (the kernel drops a dead process's locks).

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// The archive folder.
#[derive(Debug, Clone)]
pub struct Archive {
    root: PathBuf,
}

/// A file in the archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// SHA-256 of the bytes, lower-case hex.
    pub hash: String,
    pub size: u64,
    /// The key under the archive's root: `sha256/ab/abcdef...`.
    pub key: String,
}

/// The name prefix of this archive's temporary files: only names with it are ever cleaned up.
const TEMP_PREFIX: &str = "incoming-";

impl Archive {
    /// Opens (creating) the archive at `root`, and removes the temporary files a crash left.
    pub fn open(root: &Path) -> io::Result<Archive> {
        fs::create_dir_all(root.join("tmp"))?;
        fs::create_dir_all(root.join("sha256"))?;
        for entry in fs::read_dir(root.join("tmp"))? {
            let entry = entry?;
            if !entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX) || !entry.file_type()?.is_file() {
                continue;
            }
            // Locked: another process is receiving it. Gone: it was just renamed or removed.
            let Ok(file) = File::open(entry.path()) else { continue };
            if file.try_lock().is_ok() {
                match fs::remove_file(entry.path()) {
                    Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                    _ => {}
                }
            }
        }
        Ok(Archive { root: root.to_owned() })
    }

    /// Where an archived file is.
    pub fn path_of(&self, key: &str) -> PathBuf {
        self.root.join(key)
    }

    /// A new temporary file to receive bytes into.
    pub fn incoming(&self) -> io::Result<Incoming> {
        let mut random = [0u8; 8];
        // Unique per process and moment; collisions are refused by `create_new`, then retried.
        for attempt in 0..16u32 {
            let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
            random.copy_from_slice(
                &((nanos as u64) ^ u64::from(std::process::id()) << 32 ^ u64::from(attempt)).to_le_bytes(),
            );
            let path = self.root.join("tmp").join(format!("{TEMP_PREFIX}{}", hex(&random)));
            match File::options().write(true).create_new(true).open(&path) {
                Ok(file) => {
                    file.lock()?;
                    // Another process's `open` may have removed the file between its creation and
                    // the lock (it was not locked yet): then it is not at its path, and a new name
                    // is tried.
                    let ours = fs::metadata(&path).is_ok_and(|at_path| same_file(&at_path, &file));
                    if ours {
                        return Ok(Incoming { file: Some(file), path, hasher: Sha256::new(), size: 0 });
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
        Err(io::Error::other("could not create a temporary file in the archive"))
    }

    /// Copies a file into the archive.
    ///
    /// The bytes are copied by the kernel (`io::copy` between two files is `copy_file_range` on
    /// Linux: no pass through this process, and a reflink where the file system has them), then
    /// the copy is read back to hash it. Hashing the copy, not the source, keeps the name true to
    /// the bytes kept even when the source changes while it is copied. Writing through a buffer
    /// cost more than the hash itself (docs/notes/0027).
    pub fn store_file(&self, source: &Path) -> io::Result<Stored> {
        let mut incoming = self.incoming()?;
        let mut reader = File::open(source)?;
        let file = incoming.file.as_mut().ok_or_else(|| io::Error::other("an incoming file without its file"))?;
        let copied = io::copy(&mut reader, file)?;
        // The copy goes to the disk while it is hashed: `commit`'s own sync then finds little left.
        let (synced, hashed) = std::thread::scope(|scope| {
            let syncing = scope.spawn(|| file.sync_data());
            let hashed = hash_file(&incoming.path, &mut incoming.hasher);
            (syncing.join().unwrap_or_else(|_| Err(io::Error::other("the sync's thread panicked"))), hashed)
        });
        synced?;
        let hashed = hashed?;
        if hashed != copied {
            return Err(io::Error::other(format!("copied {copied} bytes but read back {hashed}")));
        }
        incoming.size = copied;
        self.commit(incoming)
    }

    /// Files a received file under its hash. Its bytes are on disk (synced) before it has a name.
    pub fn commit(&self, mut incoming: Incoming) -> io::Result<Stored> {
        let file = incoming.file.take().ok_or_else(|| io::Error::other("an incoming file committed twice"))?;
        file.sync_all()?;
        // The file stays open, and so locked, until it is renamed or removed: an unlocked
        // temporary file is a dead writer's, which another process's `open` removes.
        let hash = hex(&std::mem::take(&mut incoming.hasher).finalize());
        let key = format!("sha256/{}/{hash}", &hash[..2]);
        let target = self.root.join(&key);
        fs::create_dir_all(target.parent().unwrap_or(&self.root))?;
        if target.exists() {
            fs::remove_file(&incoming.path)?;
        } else {
            fs::rename(&incoming.path, &target)?;
            File::open(target.parent().unwrap_or(&self.root))?.sync_all()?;
        }
        drop(file);
        incoming.path = PathBuf::new();
        Ok(Stored { hash, size: incoming.size, key })
    }
}

/// How many chunks may wait for the disk: enough to keep the writer busy, few enough that a slow
/// disk slows the sender (an HTTP client, a bucket's download) instead of filling memory.
const CHUNKS_IN_FLIGHT: usize = 8;

/// An [`Incoming`] file fed from async code (an HTTP body, an object in a bucket): the chunks go
/// by a channel to a blocking thread that writes and hashes them, so the async threads never wait
/// on the disk. [`StreamedIncoming::finish`] hands the file back to be committed; dropped or
/// abandoned on the way (a stream cut off), the file is removed with nothing recorded.
pub struct StreamedIncoming {
    sender: tokio::sync::mpsc::Sender<bytes::Bytes>,
    writer: tokio::task::JoinHandle<io::Result<Incoming>>,
}

impl StreamedIncoming {
    /// A new temporary file of `archive`, and its writer's thread.
    pub fn start(archive: &Archive) -> io::Result<StreamedIncoming> {
        let mut incoming = archive.incoming()?;
        let (sender, mut receiver) = tokio::sync::mpsc::channel::<bytes::Bytes>(CHUNKS_IN_FLIGHT);
        let writer = tokio::task::spawn_blocking(move || {
            while let Some(chunk) = receiver.blocking_recv() {
                incoming.write_all(&chunk)?;
            }
            Ok(incoming)
        });
        Ok(StreamedIncoming { sender, writer })
    }

    /// Hands a chunk to the writer; `false` when the writer has stopped (its error is
    /// [`StreamedIncoming::finish`]'s).
    pub async fn write(&self, chunk: bytes::Bytes) -> bool {
        self.sender.send(chunk).await.is_ok()
    }

    /// Waits for the writer to write every chunk handed over, and returns the file.
    pub async fn finish(self) -> io::Result<Incoming> {
        drop(self.sender);
        self.writer.await.map_err(|e| io::Error::other(format!("the archive's writer: {e}")))?
    }
}

impl Archive {
    /// [`Archive::commit`] on a blocking thread, for async callers: the commit syncs the file.
    pub async fn commit_async(&self, incoming: Incoming) -> io::Result<Stored> {
        let archive = self.clone();
        tokio::task::spawn_blocking(move || archive.commit(incoming))
            .await
            .map_err(|e| io::Error::other(format!("the archive's commit: {e}")))?
    }
}

/// A file being received. Dropped without [`Archive::commit`] (an upload cut off), its temporary
/// file is removed: nothing of it is recorded.
pub struct Incoming {
    file: Option<File>,
    path: PathBuf,
    hasher: Sha256,
    size: u64,
}

impl Incoming {
    /// Bytes received so far.
    pub fn size(&self) -> u64 {
        self.size
    }
}

impl Write for Incoming {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let file = self.file.as_mut().ok_or_else(|| io::Error::other("write after commit"))?;
        let n = file.write(bytes)?;
        self.hasher.update(&bytes[..n]);
        self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.as_mut().map_or(Ok(()), Write::flush)
    }
}

impl Drop for Incoming {
    fn drop(&mut self) {
        if self.file.take().is_some() || !self.path.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Feeds the file at `path` to `hasher`; the bytes read.
fn hash_file(path: &Path, hasher: &mut Sha256) -> io::Result<u64> {
    let mut file = File::open(path)?;
    let mut buffer = vec![0u8; 1 << 20];
    let mut read = 0u64;
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            return Ok(read);
        }
        hasher.update(&buffer[..n]);
        read += n as u64;
    }
}

/// Whether `file` is the file `at_path` describes (same device and inode).
fn same_file(at_path: &fs::Metadata, file: &File) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    file.metadata().is_ok_and(|open| open.dev() == at_path.dev() && open.ino() == at_path.ino())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_kept_once_under_its_hash() {
        let dir = tempfile::tempdir().unwrap();
        let archive = Archive::open(&dir.path().join("archive")).unwrap();
        let source = dir.path().join("JCL_202506.psv");
        fs::write(&source, b"abc").unwrap();
        let stored = archive.store_file(&source).unwrap();
        // SHA-256("abc"), a published test vector.
        assert_eq!(stored.hash, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(stored.size, 3);
        assert_eq!(fs::read(archive.path_of(&stored.key)).unwrap(), b"abc");
        let again = archive.store_file(&source).unwrap();
        assert_eq!(again, stored);
        assert_eq!(fs::read_dir(dir.path().join("archive/tmp")).unwrap().count(), 0);
        assert!(source.exists(), "the source is never removed");
    }

    #[test]
    fn an_upload_cut_off_leaves_nothing_and_a_crash_leftover_is_cleaned_at_open() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("archive");
        let archive = Archive::open(&root).unwrap();
        let mut incoming = archive.incoming().unwrap();
        incoming.write_all(b"half a fi").unwrap();
        drop(incoming);
        assert_eq!(fs::read_dir(root.join("tmp")).unwrap().count(), 0);

        // Another process's upload in progress: its file is locked, and an open leaves it.
        let mut receiving = archive.incoming().unwrap();
        receiving.write_all(b"still coming").unwrap();
        Archive::open(&root).unwrap();
        assert_eq!(archive.commit(receiving).unwrap().size, 12);

        fs::write(root.join("tmp").join(format!("{TEMP_PREFIX}dead")), b"x").unwrap();
        fs::write(root.join("tmp").join("someone-elses"), b"y").unwrap();
        Archive::open(&root).unwrap();
        let left: Vec<_> = fs::read_dir(root.join("tmp")).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(left, vec![std::ffi::OsString::from("someone-elses")]);
    }
}
