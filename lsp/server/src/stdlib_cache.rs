//! The stdlib materialised as read-only files, so that go-to-definition opens a real file any
//! editor can show: under the user's cache folder (`$XDG_CACHE_HOME/etr/stdlib-VERSION/`, else
//! `~/.cache/etr/...`), else in a private temporary folder this process creates.
//!
//! The folder is written as if others could plant files in it, because with a shared cache root
//! (or the old fallback, a fixed name under `/tmp`) they could: a symlink at a cache path would
//! have had the server overwrite whatever it pointed to. So:
//! - an existing copy is reused only when it is a real folder (no symlink anywhere in it), owned
//!   by this user and that no one else can write, whose files are regular files with exactly the stdlib's
//!   text (read without following symlinks);
//! - otherwise a fresh folder with a random name is created (mode 0700, `tempfile`), the files
//!   are created new in it (`create_new`, and `O_NOFOLLOW`), and it is renamed into place; the
//!   stale copy or planted link is removed first (removing a link never touches its target);
//! - there is no predictable shared path: without a cache folder, the copy lives in a private
//!   temporary folder that is deleted with the server.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// Where the stdlib's files are, and the temporary folder to keep alive while they are used.
pub struct MaterialisedStdlib {
    pub dir: PathBuf,
    _private: Option<tempfile::TempDir>,
}

/// The user's cache folder: `$XDG_CACHE_HOME`, else `~/.cache`, when set and absolute.
pub fn user_cache_root() -> Option<PathBuf> {
    let xdg = std::env::var_os("XDG_CACHE_HOME").map(PathBuf::from).filter(|p| p.is_absolute());
    xdg.or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")).filter(|p| p.is_absolute()))
}

/// Writes (or reuses) the stdlib under `cache_root`, else in a private temporary folder.
pub fn materialise(cache_root: Option<&Path>) -> Option<MaterialisedStdlib> {
    if let Some(dir) = cache_root.and_then(in_cache) {
        return Some(MaterialisedStdlib { dir, _private: None });
    }
    let private = private_folder(tempfile::Builder::new().prefix("etr-stdlib-").tempdir()).ok()?;
    write_modules(private.path()).ok()?;
    Some(MaterialisedStdlib { dir: private.path().to_path_buf(), _private: Some(private) })
}

fn folder_name() -> String {
    format!("stdlib-{}", env!("CARGO_PKG_VERSION"))
}

/// The stdlib folder under `<cache_root>/etr/`, verified or freshly written; `None` when the
/// cache cannot be used safely.
fn in_cache(cache_root: &Path) -> Option<PathBuf> {
    let etr = cache_root.join("etr");
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(&etr).ok()?;
    if !is_private_dir(&etr) {
        return None;
    }
    let dir = etr.join(folder_name());
    if holds_the_stdlib(&dir) {
        return Some(dir);
    }
    // Write a fresh copy beside it, then swap it in.
    let fresh =
        private_folder(tempfile::Builder::new().prefix(&format!(".{}-", folder_name())).tempdir_in(&etr)).ok()?;
    write_modules(fresh.path()).ok()?;
    // Another server may have put a good copy in place meanwhile: keep it, drop ours.
    if holds_the_stdlib(&dir) {
        return Some(dir);
    }
    match std::fs::symlink_metadata(&dir) {
        Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(&dir).ok()?,
        // A file or a symlink (planted, or left by a crash): unlinking it leaves its target alone.
        Ok(_) => std::fs::remove_file(&dir).ok()?,
        Err(_) => {}
    }
    let fresh = fresh.keep();
    if std::fs::rename(&fresh, &dir).is_ok() {
        return Some(dir);
    }
    // Another server won the race to this name: use its copy if it is right, else ours as is.
    if holds_the_stdlib(&dir) {
        let _ = std::fs::remove_dir_all(&fresh);
        return Some(dir);
    }
    Some(fresh)
}

/// A folder `tempfile` just created (with a random name, `create_new`), made 0700: `tempfile`
/// leaves the mode to the umask.
fn private_folder(created: std::io::Result<tempfile::TempDir>) -> std::io::Result<tempfile::TempDir> {
    let dir = created?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(dir)
}

/// A real folder (not a symlink), owned by this user, that no one else can write into.
fn is_private_dir(path: &Path) -> bool {
    let Ok(meta) = std::fs::symlink_metadata(path) else { return false };
    if !meta.is_dir() {
        return false;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        // SAFETY: geteuid has no preconditions and cannot fail.
        let me = unsafe { libc::geteuid() };
        if meta.uid() != me || meta.mode() & 0o022 != 0 {
            return false;
        }
    }
    true
}

/// Whether `dir` is a private folder whose module files are regular files (no symlink on the
/// way) holding exactly the stdlib's text.
fn holds_the_stdlib(dir: &Path) -> bool {
    is_private_dir(dir)
        && etr_stdlib::MODULES.iter().all(|module| {
            let relative = Path::new(module.path.trim_start_matches("stdlib/"));
            // Every folder between `dir` and the file is a real folder.
            let mut folder = dir.to_path_buf();
            for part in relative.parent().into_iter().flat_map(Path::components) {
                folder.push(part);
                if !std::fs::symlink_metadata(&folder).is_ok_and(|m| m.is_dir()) {
                    return false;
                }
            }
            read_no_follow(&dir.join(relative)).is_some_and(|text| text == module.text.as_bytes())
        })
}

/// Options that never follow a symlink at the last component of the path.
fn no_follow(options: &mut std::fs::OpenOptions) -> &mut std::fs::OpenOptions {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    options
}

/// The bytes of a regular file, not through a symlink, up to a little more than the largest
/// module (a larger file is not the stdlib anyway).
fn read_no_follow(path: &Path) -> Option<Vec<u8>> {
    let file = no_follow(std::fs::OpenOptions::new().read(true)).open(path).ok()?;
    if !file.metadata().ok()?.is_file() {
        return None;
    }
    let limit = etr_stdlib::MODULES.iter().map(|m| m.text.len()).max().unwrap_or(0) as u64 + 1;
    let mut bytes = Vec::new();
    file.take(limit).read_to_end(&mut bytes).ok()?;
    Some(bytes)
}

/// Writes the modules into `dir`, a folder this process just created: every folder and file is
/// created new (nothing existing is opened for writing), the files read-only once written.
fn write_modules(dir: &Path) -> std::io::Result<()> {
    for module in etr_stdlib::MODULES {
        let path = dir.join(module.path.trim_start_matches("stdlib/"));
        let mut folder = dir.to_path_buf();
        for part in Path::new(module.path.trim_start_matches("stdlib/")).parent().into_iter().flat_map(Path::components)
        {
            folder.push(part);
            if !std::fs::symlink_metadata(&folder).is_ok_and(|m| m.is_dir()) {
                let mut builder = std::fs::DirBuilder::new();
                #[cfg(unix)]
                std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
                builder.create(&folder)?;
            }
        }
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = no_follow(&mut options).open(&path)?;
        file.write_all(module.text.as_bytes())?;
        let mut permissions = file.metadata()?.permissions();
        permissions.set_readonly(true);
        file.set_permissions(permissions)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> &'static etr_stdlib::StdlibModule {
        etr_stdlib::MODULES.iter().find(|m| m.name == "etr.record").expect("the stdlib has etr.record")
    }

    fn assert_holds_the_stdlib(dir: &Path) {
        for module in etr_stdlib::MODULES {
            let path = dir.join(module.path.trim_start_matches("stdlib/"));
            assert!(!std::fs::symlink_metadata(&path).unwrap().file_type().is_symlink(), "{}", path.display());
            assert_eq!(std::fs::read_to_string(&path).unwrap(), module.text);
            assert!(std::fs::metadata(&path).unwrap().permissions().readonly());
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_planted_at_a_module_file_is_not_followed() {
        let cache = tempfile::tempdir().unwrap();
        let victim = cache.path().join("victim.txt");
        std::fs::write(&victim, "precious").unwrap();
        let dir = cache.path().join("etr").join(folder_name());
        std::fs::create_dir_all(dir.join("etr")).unwrap();
        std::os::unix::fs::symlink(&victim, dir.join("etr/record.etr")).unwrap();
        let stdlib = materialise(Some(cache.path())).expect("materialised");
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        assert_holds_the_stdlib(&stdlib.dir);
        assert!(stdlib.dir.starts_with(cache.path().join("etr")));
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_planted_at_the_stdlib_folder_is_not_followed() {
        let cache = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(elsewhere.path().join("etr")).unwrap();
        std::fs::write(elsewhere.path().join("etr/record.etr"), "precious").unwrap();
        std::fs::create_dir_all(cache.path().join("etr")).unwrap();
        std::os::unix::fs::symlink(elsewhere.path(), cache.path().join("etr").join(folder_name())).unwrap();
        let stdlib = materialise(Some(cache.path())).expect("materialised");
        assert_eq!(std::fs::read_to_string(elsewhere.path().join("etr/record.etr")).unwrap(), "precious");
        assert!(!elsewhere.path().join("etr/codes.etr").exists());
        assert_holds_the_stdlib(&stdlib.dir);
    }

    #[test]
    fn a_verified_copy_is_reused_and_a_tampered_one_replaced() {
        let cache = tempfile::tempdir().unwrap();
        let first = materialise(Some(cache.path())).expect("materialised");
        assert_eq!(first.dir, cache.path().join("etr").join(folder_name()));
        let path = first.dir.join(record().path.trim_start_matches("stdlib/"));
        let inode = |p: &Path| {
            #[cfg(unix)]
            return std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(p).unwrap());
            #[cfg(not(unix))]
            return std::fs::read_to_string(p).unwrap().len() as u64;
        };
        let before = inode(&path);
        let again = materialise(Some(cache.path())).expect("materialised");
        assert_eq!(again.dir, first.dir);
        assert_eq!(inode(&path), before, "a verified copy is not rewritten");
        // Tampered with: replaced by a fresh copy.
        let mut permissions = std::fs::metadata(&path).unwrap().permissions();
        #[allow(clippy::permissions_set_readonly_false, reason = "the test tampers with its own file")]
        permissions.set_readonly(false);
        std::fs::set_permissions(&path, permissions).unwrap();
        std::fs::write(&path, "record Record { }\n").unwrap();
        let fixed = materialise(Some(cache.path())).expect("materialised");
        assert_holds_the_stdlib(&fixed.dir);
    }

    #[cfg(unix)]
    #[test]
    fn a_cache_folder_others_can_write_is_not_used() {
        use std::os::unix::fs::PermissionsExt;
        let cache = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(cache.path().join("etr")).unwrap();
        std::fs::set_permissions(cache.path().join("etr"), std::fs::Permissions::from_mode(0o777)).unwrap();
        let stdlib = materialise(Some(cache.path())).expect("materialised");
        assert!(!stdlib.dir.starts_with(cache.path()), "{}", stdlib.dir.display());
        assert_holds_the_stdlib(&stdlib.dir);
    }

    #[cfg(unix)]
    #[test]
    fn without_a_cache_the_copy_is_private_and_unpredictable() {
        use std::os::unix::fs::PermissionsExt;
        let one = materialise(None).expect("materialised");
        let two = materialise(None).expect("materialised");
        assert_ne!(one.dir, two.dir);
        assert_eq!(std::fs::metadata(&one.dir).unwrap().permissions().mode() & 0o777, 0o700);
        assert_holds_the_stdlib(&one.dir);
        let dir = one.dir.clone();
        drop(one);
        assert!(!dir.exists(), "the private copy goes with the server");
    }
}
