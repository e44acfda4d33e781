//! The one module loader of the editor and the command line: a workspace's modules are known by
//! name from the start, and each is read from disk only once an analysis reaches it.
//!
//! Lazily, because an unused `.etr` of the folder may be huge, a FIFO or unreadable, and never
//! matters. In a loop, because a module read can reveal the modules it uses in turn.
//!
//! The two front ends differ in their databases (the command line's `etr_sema::Database`, the
//! server's `etr_ide::AnalysisHost` behind its locks) and in what a refusal means (the command line
//! stops with the reason, the server leaves the file out and logs why), so each implements
//! [`ModuleHost`]; the bookkeeping of what is still unread ([`Unread`]) and the loop
//! ([`read_needed_modules`]) are shared, so both read the same modules at the same moments.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::disk::ReadRefusal;

/// The workspace files known by path whose text has not been read yet (their text in the
/// database is empty until then), keyed by the host's name for a file.
#[derive(Debug, Clone)]
pub struct Unread<K> {
    files: BTreeMap<K, PathBuf>,
}

impl<K> Default for Unread<K> {
    fn default() -> Self {
        Unread { files: BTreeMap::new() }
    }
}

impl<K: Ord + Clone> Unread<K> {
    /// Records a file whose text is to be read from `path` when it is needed.
    pub fn insert(&mut self, file: K, path: PathBuf) {
        self.files.insert(file, path);
    }

    /// Takes a file out: its text has been read, or given otherwise (an editor's buffer, the
    /// spec named on the command line). Its path, if it was unread.
    pub fn remove(&mut self, file: &K) -> Option<PathBuf> {
        self.files.remove(file)
    }

    pub fn contains(&self, file: &K) -> bool {
        self.files.contains_key(file)
    }

    /// The unread files among `files`, with their paths, in key order and each once.
    pub fn among(&self, files: impl IntoIterator<Item = K>) -> Vec<(K, PathBuf)> {
        let wanted: BTreeSet<K> = files.into_iter().collect();
        wanted.into_iter().filter_map(|file| Some((file.clone(), self.files.get(&file)?.clone()))).collect()
    }

    /// Every unread file, with its path, in key order.
    pub fn all(&self) -> Vec<(K, PathBuf)> {
        self.files.iter().map(|(file, path)| (file.clone(), path.clone())).collect()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

/// A front end's database, as the loader sees it.
pub trait ModuleHost {
    /// The host's name for a file (a path string, an editor's file id).
    type File: Ord + Clone;
    /// What stops the loading (the command line's "cannot read the module").
    type Error;

    /// The files the analysis needs now whose text is still unread, with their paths on disk:
    /// typically [`Unread::among`] the spec (or the open documents) and what it imports.
    fn unread_needed(&mut self) -> Vec<(Self::File, PathBuf)>;

    /// Gives `file` the text read from `path`, or takes the refusal (why it was not read); either
    /// way the file is no longer unread ([`Unread::remove`]). `Err` stops the loading.
    fn supply(&mut self, file: Self::File, path: &Path, read: Result<String, ReadRefusal>) -> Result<(), Self::Error>;
}

/// Reads, with `read` ([`crate::read_spec`] but for tests), the unread modules the host needs,
/// then the ones those reveal, until the host needs none; each file at most once.
///
/// Each round reads every file the host lists, so it ends after at most as many rounds as there
/// are files. A host that lists a file it was already given is not given it again (its list would
/// not shrink, and the loop would not end): the loop ends when a round brings nothing new.
pub fn read_needed_modules<H: ModuleHost + ?Sized>(
    host: &mut H,
    read: &dyn Fn(&Path) -> Result<String, ReadRefusal>,
) -> Result<(), H::Error> {
    let mut given: BTreeSet<H::File> = BTreeSet::new();
    loop {
        let to_read: Vec<(H::File, PathBuf)> =
            host.unread_needed().into_iter().filter(|(file, _)| !given.contains(file)).collect();
        if to_read.is_empty() {
            return Ok(());
        }
        for (file, path) in to_read {
            given.insert(file.clone());
            let text = read(&path);
            host.supply(file, &path, text)?;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::collections::HashMap;

    use super::*;

    /// A database of modules named by one letter: `imports` says which modules each one's text
    /// uses; `needed` follows them from `root` through the modules read so far.
    struct Letters {
        root: char,
        texts: HashMap<char, String>,
        unread: Unread<char>,
        refused: Vec<char>,
        /// Whether `supply` forgets to take files out of `unread` (a broken host).
        forgetful: bool,
    }

    impl Letters {
        fn new(root: char, unread: &[char]) -> Letters {
            let mut set = Unread::default();
            for &module in unread {
                set.insert(module, PathBuf::from(format!("{module}.etr")));
            }
            Letters { root, texts: HashMap::new(), unread: set, refused: Vec::new(), forgetful: false }
        }

        fn imports(&self, module: char) -> Vec<char> {
            self.texts.get(&module).map(|text| text.chars().collect()).unwrap_or_default()
        }
    }

    impl ModuleHost for Letters {
        type File = char;
        type Error = String;

        fn unread_needed(&mut self) -> Vec<(char, PathBuf)> {
            let mut reached = vec![self.root];
            let mut at = 0;
            while let Some(&module) = reached.get(at) {
                for import in self.imports(module) {
                    if !reached.contains(&import) {
                        reached.push(import);
                    }
                }
                at += 1;
            }
            self.unread.among(reached)
        }

        fn supply(&mut self, file: char, _path: &Path, read: Result<String, ReadRefusal>) -> Result<(), String> {
            if !self.forgetful {
                self.unread.remove(&file);
            }
            match read {
                Ok(text) => {
                    self.texts.insert(file, text);
                    Ok(())
                }
                Err(refusal) => {
                    self.refused.push(file);
                    Err(format!("{file}: {refusal}"))
                }
            }
        }
    }

    /// The modules' texts: `a` uses `b`, which uses `c`; nothing uses `d`; `x` cannot be read.
    fn disk(path: &Path) -> Result<String, ReadRefusal> {
        match path.to_str() {
            Some("b.etr") => Ok("c".into()),
            Some("c.etr") => Ok(String::new()),
            Some("d.etr") => Ok("b".into()),
            _ => Err(ReadRefusal::NotARegularFile),
        }
    }

    #[test]
    fn only_the_modules_reached_are_read_each_once_in_rounds() {
        let mut host = Letters::new('a', &['b', 'c', 'd']);
        host.texts.insert('a', "b".into());
        let reads = RefCell::new(Vec::new());
        let read = |path: &Path| {
            reads.borrow_mut().push(path.display().to_string());
            disk(path)
        };
        read_needed_modules(&mut host, &read).unwrap();
        assert_eq!(reads.into_inner(), ["b.etr", "c.etr"]);
        assert_eq!(host.unread.all(), [('d', PathBuf::from("d.etr"))]);
    }

    #[test]
    fn a_refusal_stops_the_loading_with_the_hosts_error() {
        let mut host = Letters::new('a', &['b', 'x']);
        host.texts.insert('a', "xb".into());
        let error = read_needed_modules(&mut host, &disk).unwrap_err();
        assert_eq!(error, "x: it is not a regular file");
        // `b` comes first in key order and was read; `x` was refused.
        assert_eq!((host.texts.contains_key(&'b'), host.refused.as_slice()), (true, &['x'][..]));
    }

    #[test]
    fn a_host_that_does_not_take_files_out_still_ends_and_reads_each_once() {
        let mut host = Letters::new('a', &['b', 'c']);
        host.forgetful = true;
        host.texts.insert('a', "b".into());
        let reads = RefCell::new(0);
        let read = |path: &Path| {
            *reads.borrow_mut() += 1;
            disk(path)
        };
        read_needed_modules(&mut host, &read).unwrap();
        assert_eq!(reads.into_inner(), 2);
    }

    #[test]
    fn unread_among_is_sorted_deduplicated_and_skips_read_files() {
        let mut unread = Unread::default();
        unread.insert(3, PathBuf::from("three"));
        unread.insert(1, PathBuf::from("one"));
        unread.insert(2, PathBuf::from("two"));
        assert_eq!(unread.remove(&2), Some(PathBuf::from("two")));
        assert_eq!(unread.among([3, 2, 1, 3, 9]), [(1, PathBuf::from("one")), (3, PathBuf::from("three"))]);
        assert!(unread.contains(&1) && !unread.contains(&2));
    }
}
