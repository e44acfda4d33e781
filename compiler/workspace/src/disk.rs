//! Reading spec files from disk, defensively: the only way the language server and the command
//! line take a workspace module's text from the file system.
//!
//! A path reaches them from the editor (a `didClose` URI) or from a folder scan, and either can
//! name something that is not a spec: `/dev/zero` (endless), a FIFO (an `open` that blocks
//! until a writer comes), a 1 GiB data file with a `.etr` name. So a file is opened without
//! blocking, checked on the open handle (no race with a rename between a check and the open) to
//! be a regular file no larger than [`MAX_SPEC_BYTES`], and read with that cap even if it grows
//! meanwhile.

use std::fmt;
use std::fs::File;
use std::io::Read;
use std::path::Path;

/// The largest spec read. The largest real spec is about 40 kB; a file 400 times that is not one.
pub const MAX_SPEC_BYTES: u64 = 16 * 1024 * 1024;

/// Why a spec file was not read.
#[derive(Debug)]
pub enum ReadRefusal {
    /// Not a regular file (a folder, a FIFO, a device, a socket).
    NotARegularFile,
    /// Larger than the cap (its size in bytes).
    TooLarge(u64),
    /// Not UTF-8 text.
    NotUtf8,
    Io(std::io::Error),
}

impl fmt::Display for ReadRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadRefusal::NotARegularFile => f.write_str("it is not a regular file"),
            ReadRefusal::TooLarge(size) => {
                write!(f, "it is {size} bytes, more than the {MAX_SPEC_BYTES} bytes a spec may have")
            }
            ReadRefusal::NotUtf8 => f.write_str("it is not UTF-8 text"),
            ReadRefusal::Io(error) => write!(f, "{error}"),
        }
    }
}

impl std::error::Error for ReadRefusal {}

/// Opens `path` for reading without blocking on a FIFO or a device that has no data yet.
fn open_without_blocking(path: &Path) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    options.open(path)
}

/// The text of the spec file at `path`, or why it was not read: only a regular file of at most
/// [`MAX_SPEC_BYTES`] bytes of UTF-8 is read.
pub fn read_spec(path: &Path) -> Result<String, ReadRefusal> {
    // A first look that does not open: a FIFO is never opened at all (opening one, even without
    // blocking, is visible to its writer).
    let before = std::fs::metadata(path).map_err(ReadRefusal::Io)?;
    if !before.is_file() {
        return Err(ReadRefusal::NotARegularFile);
    }
    let file = open_without_blocking(path).map_err(ReadRefusal::Io)?;
    // The decisive look, on the handle: the path may have been replaced since the first.
    let meta = file.metadata().map_err(ReadRefusal::Io)?;
    if !meta.is_file() {
        return Err(ReadRefusal::NotARegularFile);
    }
    if meta.len() > MAX_SPEC_BYTES {
        return Err(ReadRefusal::TooLarge(meta.len()));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // One byte more than the cap tells a file that grew past it since the look.
    file.take(MAX_SPEC_BYTES + 1).read_to_end(&mut bytes).map_err(ReadRefusal::Io)?;
    if bytes.len() as u64 > MAX_SPEC_BYTES {
        return Err(ReadRefusal::TooLarge(bytes.len() as u64));
    }
    String::from_utf8(bytes).map_err(|_| ReadRefusal::NotUtf8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_spec_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.etr");
        std::fs::write(&path, "let x = 1\n").unwrap();
        assert_eq!(read_spec(&path).unwrap(), "let x = 1\n");
    }

    #[test]
    fn a_file_over_the_cap_is_refused_unread() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("huge.etr");
        // Sparse: no disk is used, and reading it would take seconds and a gigabyte.
        File::create(&path).unwrap().set_len(1 << 30).unwrap();
        assert!(matches!(read_spec(&path), Err(ReadRefusal::TooLarge(size)) if size == 1 << 30));
    }

    #[test]
    fn a_folder_and_a_device_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(read_spec(dir.path()), Err(ReadRefusal::NotARegularFile)));
        #[cfg(unix)]
        assert!(matches!(read_spec(Path::new("/dev/zero")), Err(ReadRefusal::NotARegularFile)));
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pipe.etr");
        let c_path = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path; mkfifo only creates a file system entry.
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
        // Were the FIFO opened for reading, this thread would wait for a writer forever.
        let reader = std::thread::spawn(move || matches!(read_spec(&path), Err(ReadRefusal::NotARegularFile)));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !reader.is_finished() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert!(reader.is_finished(), "reading a FIFO blocked");
        assert!(reader.join().unwrap());
    }

    #[test]
    fn a_non_utf8_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("latin1.etr");
        std::fs::write(&path, b"let x = \"\xe9\"\n").unwrap();
        assert!(matches!(read_spec(&path), Err(ReadRefusal::NotUtf8)));
    }
}
