//! Publishing output folders: what a run may replace, what it must never delete, the atomic
//! exchange seen by a reader, and the leftovers of killed runs.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use etr_runtime::output::SUMMARY_FILE;
use etr_runtime::output::publish::{self, MARKER_FILE, Target};
use etr_runtime::{OutputDir, RuntimeError, Summary};

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("readable folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn publish(final_path: &Path, lines_read: u64) -> etr_runtime::Published {
    let out = OutputDir::create(final_path).expect("staging");
    out.write_summary(&Summary { lines_read, ..Summary::default() }).expect("summary");
    out.commit().expect("commit")
}

/// The id of a process that has exited (a child reaped a moment ago; ids are not reused that fast).
fn dead_pid() -> u32 {
    let mut child = std::process::Command::new("true").spawn().expect("spawn `true`");
    let pid = child.id();
    child.wait().expect("wait");
    pid
}

/// Finding 1 of issue 13: `--out $PWD` from a folder holding the spec, the input and
/// `sub/notes.txt` deleted all of them. Such a folder is refused and nothing in it changes.
#[test]
fn a_folder_etr_did_not_write_is_refused_and_kept() {
    let root = tempfile::tempdir().expect("temp dir");
    let work = root.path().join("work");
    std::fs::create_dir_all(work.join("sub")).expect("folders");
    std::fs::write(work.join("jcl.etr"), "spec").expect("spec");
    std::fs::write(work.join("input.psv"), "data").expect("input");
    std::fs::write(work.join("sub/notes.txt"), "notes").expect("notes");

    let err = OutputDir::create(&work).unwrap_err();
    assert!(matches!(err, RuntimeError::OutputRefused { .. }), "{err}");
    let message = err.to_string();
    assert!(message.contains("`input.psv`") && message.contains("`sub`"), "{message}");
    assert_eq!(entries(&work), ["input.psv", "jcl.etr", "sub"]);
    assert_eq!(std::fs::read_to_string(work.join("sub/notes.txt")).expect("notes"), "notes");
    assert_eq!(entries(root.path()), ["work"], "no staging folder is made");
}

/// A folder holding only output file names but no marker (an older etr's output, or a user's own
/// `summary.json`) is not taken for one.
#[test]
fn output_names_without_the_marker_are_refused() {
    let root = tempfile::tempdir().expect("temp dir");
    let out = root.path().join("out");
    std::fs::create_dir(&out).expect("folder");
    std::fs::write(out.join(SUMMARY_FILE), "{}").expect("file");
    let err = OutputDir::create(&out).unwrap_err();
    assert!(err.to_string().contains(MARKER_FILE), "{err}");
    assert_eq!(entries(&out), [SUMMARY_FILE]);
}

#[test]
fn a_symbolic_link_is_refused() {
    let root = tempfile::tempdir().expect("temp dir");
    let real = root.path().join("real");
    publish(&real, 1);
    let link = root.path().join("link");
    std::os::unix::fs::symlink(&real, &link).expect("symlink");
    let err = OutputDir::create(&link).unwrap_err();
    assert!(err.to_string().contains("symbolic link"), "{err}");
    assert!(real.join(SUMMARY_FILE).exists());
}

#[test]
fn an_empty_folder_and_a_previous_output_are_replaced() {
    let root = tempfile::tempdir().expect("temp dir");
    let out = root.path().join("out");
    std::fs::create_dir(&out).expect("empty folder");
    assert_eq!(publish::inspect_target(&out).expect("inspect"), Target::Empty);
    publish(&out, 1);
    assert_eq!(publish::inspect_target(&out).expect("inspect"), Target::EtrOutput);
    publish(&out, 2);
    assert_eq!(entries(root.path()), ["out"]);
}

/// A file that appears in the previous output while the run works is not deleted: the commit
/// refuses the folder, and the previous output stays as it was.
#[test]
fn a_stranger_arriving_during_the_run_stops_the_commit() {
    let root = tempfile::tempdir().expect("temp dir");
    let out_path = root.path().join("out");
    publish(&out_path, 1);
    let out = OutputDir::create(&out_path).expect("staging");
    out.write_summary(&Summary { lines_read: 2, ..Summary::default() }).expect("summary");
    std::fs::write(out_path.join("notes.txt"), "mine").expect("stranger");
    let err = out.commit().unwrap_err();
    assert!(matches!(err, RuntimeError::OutputRefused { .. }), "{err}");
    assert_eq!(std::fs::read_to_string(out_path.join("notes.txt")).expect("kept"), "mine");
    assert_eq!(entries(root.path()), ["out"], "the staging folder is removed");
}

/// Finding 8: a previous output that cannot be removed once the new one is in place does not fail
/// the run; it is reported, and only output files are ever removed from it.
#[test]
fn a_previous_output_that_cannot_be_removed_is_a_notice() {
    let root = tempfile::tempdir().expect("temp dir");
    let old = root.path().join("old");
    std::fs::create_dir(&old).expect("folder");
    std::fs::write(old.join(MARKER_FILE), "marker").expect("marker");
    std::fs::write(old.join("notes.txt"), "mine").expect("stranger");
    assert!(publish::remove_old_output(&old).is_err(), "a folder with a stranger is not removed");
    assert_eq!(entries(&old), ["notes.txt"], "only the output files went");
}

/// Finding 4: publishing was two renames, and a reader polling the folder saw it missing between
/// them. With the exchange it sees a complete output at every look.
#[test]
fn a_reader_never_sees_the_output_missing() {
    let root = tempfile::tempdir().expect("temp dir");
    let out = root.path().join("out");
    publish(&out, 0);
    let done = Arc::new(AtomicBool::new(false));
    let looks = Arc::new(AtomicU64::new(0));
    let reader = {
        let (out, done, looks) = (out.clone(), Arc::clone(&done), Arc::clone(&looks));
        std::thread::spawn(move || {
            let mut missing = 0u64;
            while !done.load(Ordering::Relaxed) {
                looks.fetch_add(1, Ordering::Relaxed);
                if !out.join(SUMMARY_FILE).is_file() {
                    missing += 1;
                }
            }
            missing
        })
    };
    for n in 1..=300 {
        publish(&out, n);
    }
    done.store(true, Ordering::Relaxed);
    let missing = reader.join().expect("reader");
    assert!(looks.load(Ordering::Relaxed) > 0);
    assert_eq!(missing, 0, "the output was missing at {missing} looks");
    assert_eq!(entries(root.path()), ["out"]);
}

/// Two runs publishing to one folder at once both succeed, and leave one complete output and
/// nothing else (the loser of a race used to exit 2 and leak the old folder).
#[test]
fn concurrent_publications_leave_one_output() {
    let root = tempfile::tempdir().expect("temp dir");
    let out = root.path().join("out");
    let writers: Vec<_> = (0..4u64)
        .map(|w| {
            let out = out.clone();
            std::thread::spawn(move || {
                for n in 0..50 {
                    publish(&out, w * 1000 + n);
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().expect("writer");
    }
    assert_eq!(entries(root.path()), ["out"]);
    assert_eq!(entries(&out), [MARKER_FILE, SUMMARY_FILE]);
}

/// Finding 7: a killed run's staging folder (raw contributor lines) stayed forever. The next run
/// into the same folder removes those of dead processes, and says so.
#[test]
fn staging_folders_of_dead_runs_are_removed_by_the_next_run() {
    let root = tempfile::tempdir().expect("temp dir");
    let out = root.path().join("out");
    publish(&out, 1);
    let pid = dead_pid();
    let stale = root.path().join(format!(".out.tmp-{pid}-0"));
    std::fs::create_dir(&stale).expect("stale staging");
    std::fs::write(stale.join("rejects.parquet"), "raw lines").expect("partial file");
    // A live process's staging folder (ours, under another number) and another output's leftovers
    // are not touched.
    let other = root.path().join(format!(".other.tmp-{pid}-0"));
    std::fs::create_dir(&other).expect("other staging");

    let published = publish(&out, 2);
    assert!(!stale.exists(), "the dead run's staging folder is removed");
    assert!(other.exists());
    assert_eq!(published.notices.len(), 1, "{:?}", published.notices);
    assert!(published.notices[0].contains(&stale.display().to_string()), "{:?}", published.notices);
}

/// A leftover that holds something a run does not write is kept, and reported.
#[test]
fn a_leftover_with_a_stranger_is_kept() {
    let root = tempfile::tempdir().expect("temp dir");
    let out = root.path().join("out");
    let stale = root.path().join(format!(".out.tmp-{}-0", dead_pid()));
    std::fs::create_dir(&stale).expect("stale staging");
    std::fs::write(stale.join("notes.txt"), "mine").expect("stranger");
    let published = publish(&out, 1);
    assert!(stale.join("notes.txt").exists());
    assert!(published.notices.iter().any(|n| n.contains("left")), "{:?}", published.notices);
}

/// A fallback commit (two renames) killed between them left the output only as `.out.old-*`: the
/// next run puts it back before it looks at the target.
#[test]
fn an_output_moved_aside_by_a_killed_commit_is_put_back() {
    let root = tempfile::tempdir().expect("temp dir");
    let out = root.path().join("out");
    publish(&out, 5);
    let aside: PathBuf = root.path().join(format!(".out.old-{}-3", dead_pid()));
    std::fs::rename(&out, &aside).expect("simulate the killed commit");

    let cleanup = publish::clean_stale_siblings(&out).expect("cleanup");
    assert_eq!(cleanup.restored.as_deref(), Some(aside.as_path()));
    let summary: Summary =
        serde_json::from_slice(&std::fs::read(out.join(SUMMARY_FILE)).expect("restored")).expect("json");
    assert_eq!(summary.lines_read, 5);
    assert_eq!(entries(root.path()), ["out"]);
}
