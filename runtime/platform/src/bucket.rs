//! The landing bucket: files that contributors put into an S3-compatible bucket, as
//! `<prefix>/<contributor>/<name>`, are received like the landing folder's, by `etr serve`
//! polling the bucket (the S3 landing zone of the bureau's AWS plan, or a MinIO beside it).
//!
//! An object is complete as soon as it is listed: S3 makes a PUT, and the completion of a
//! multipart upload, visible all at once. So there is no settling rule as in the folder (where an
//! SFTP upload grows the file in place); names that are hidden or end like a temporary file
//! ([`crate::watch::TEMPORARY_SUFFIXES`]) are passed over all the same, and objects deeper than
//! the contributor's folder are not looked at.
//!
//! Each version of an object (its key and ETag) is taken by exactly one watcher of all the `etr
//! serve` processes polling the bucket, through S3's conditional writes, in keys of the platform's
//! own under `<prefix>/.etr/` (outside every contributor's folder, so that the write access a
//! contributor is given to its folder does not reach them):
//! - `.etr/taking/<contributor>/<name>/<etag>`, the claim: created with `If-None-Match: *`, which
//!   only one watcher's create passes. A claim that has lain [`STALE_TAKING`] without its version
//!   being taken is a dead watcher's; another takes it over by rewriting it `If-Match` its ETag,
//!   which again only one passes.
//! - `.etr/taken/<contributor>/<name>/<etag>`: written once that version is received (the body
//!   names the run) or refused (the body gives the reason); it is never taken again. The claim
//!   stays beside it (removed, it would let a watcher that listed the claims after the removal and
//!   the markers before, take the version again); a claim is removed only when its watcher could
//!   not receive the version (the platform's own trouble), so that the next poll tries again.
//!
//! The object is read `If-Match` the ETag it was listed with, so the bytes received are the
//! version claimed; one overwritten meanwhile is taken at a later poll under its new ETag. A crash
//! between the ledger's record and the `taken` marker receives the version again once its claim
//! is stale; the worker then finds the first run's content and makes the second a duplicate.
//!
//! The platform never deletes or moves a contributor's object: S3 has no rename, and a copy then a
//! delete would race with a sender writing the key again (the delete would drop a file never
//! received). The bucket's lifecycle rules expire the landing objects; the archive holds the bytes.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use etr_lake::S3Config;
use etr_ledger::{RunId, Source};
use futures::StreamExt as _;
use object_store::path::Path as Key;
use object_store::{
    GetOptions, ObjectMeta, ObjectStore, ObjectStoreExt as _, PutMode, PutOptions, PutPayload, UpdateVersion,
};

use crate::archive::StreamedIncoming;
use crate::platform::{IntakeError, Platform};
use crate::watch::TEMPORARY_SUFFIXES;

/// How long a claim may lie before another watcher takes its version over: far longer than
/// receiving any file takes, so only a dead watcher's version is taken twice.
pub const STALE_TAKING: Duration = Duration::from_secs(600);

/// What one poll did with an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BucketTaken {
    /// Received as a run.
    Received { contributor: String, name: String, run: RunId },
    /// Refused: a name that is not the contributor's, or an empty object.
    Refused { contributor: String, name: String, reason: String },
}

/// Why one object was not taken to its end at this poll.
#[derive(Debug, thiserror::Error)]
enum TakeError {
    #[error(transparent)]
    Intake(#[from] IntakeError),
    #[error("the bucket: {0}")]
    Store(#[from] object_store::Error),
    /// Overwritten since it was listed: its new version is taken at a later poll.
    #[error("overwritten while it was being taken")]
    Replaced,
}

/// Polls the landing bucket.
pub struct BucketWatcher {
    platform: Arc<Platform>,
    store: Arc<dyn ObjectStore>,
    /// The key prefix of the landing zone, without a trailing `/` (may be empty).
    prefix: String,
    stale_after: Duration,
    /// This watcher's name in its claims (for a person reading the bucket).
    who: String,
}

impl BucketWatcher {
    /// A watcher of `bucket` (its `prefix` is the landing zone's).
    pub fn new(platform: Arc<Platform>, bucket: &S3Config) -> Result<BucketWatcher, object_store::Error> {
        let store: Arc<dyn ObjectStore> = Arc::new(bucket.client()?);
        let who = format!("{}-{}", crate::serve::hostname(), std::process::id());
        Ok(BucketWatcher {
            platform,
            store,
            prefix: bucket.prefix.trim_matches('/').to_owned(),
            stale_after: STALE_TAKING,
            who,
        })
    }

    /// A watcher that takes over claims older than `after` (tests use 0).
    pub fn taking_over_after(mut self, after: Duration) -> BucketWatcher {
        self.stale_after = after;
        self
    }

    fn key(&self, rest: &str) -> Key {
        if self.prefix.is_empty() { Key::from(rest) } else { Key::from(format!("{}/{rest}", self.prefix)) }
    }

    /// Looks at every contributor's folder once and takes the versions no watcher has taken.
    pub async fn poll(&self) -> Result<Vec<BucketTaken>, object_store::Error> {
        let mut taken = Vec::new();
        let contributors: Vec<String> = self.platform.workspace.contributors.iter().map(|c| c.name.clone()).collect();
        for contributor in contributors {
            let listing = self.store.list_with_delimiter(Some(&self.key(&contributor))).await?;
            let candidates: Vec<(String, String, ObjectMeta)> = listing
                .objects
                .into_iter()
                .filter_map(|object| {
                    let name = object.location.filename()?.to_owned();
                    let hidden = name.starts_with('.') || TEMPORARY_SUFFIXES.iter().any(|s| name.ends_with(s));
                    let tag = version_tag(object.e_tag.as_deref()?)?;
                    (!hidden).then_some((name, tag, object))
                })
                .collect();
            if candidates.is_empty() {
                continue;
            }
            let done = self.versions_under(&format!(".etr/taken/{contributor}")).await?;
            let claims = self.versions_under(&format!(".etr/taking/{contributor}")).await?;
            for (name, tag, object) in candidates {
                let claim = self.key(&format!(".etr/taking/{contributor}/{name}/{tag}"));
                // As the listings spell it: a key part escapes what object_store does not take
                // as is (`%`, `#`, ...), and the listings return the parts of the keys as written.
                let version = last_two_parts(&claim);
                if done.contains_key(&version) {
                    continue;
                }
                let ours = match claims.get(&version) {
                    None => self.claim(&claim, PutMode::Create).await?,
                    Some(meta) if self.is_stale(meta) => {
                        let held = UpdateVersion { e_tag: meta.e_tag.clone(), version: meta.version.clone() };
                        // Taken over, unless its watcher was slow rather than dead and has marked
                        // the version taken since this poll listed the markers.
                        self.claim(&claim, PutMode::Update(held)).await?
                            && !self.exists(&self.key(&format!(".etr/taken/{contributor}/{name}/{tag}"))).await?
                    }
                    Some(_) => false,
                };
                if !ours {
                    continue;
                }
                match self.take(&contributor, &name, &tag, &object).await {
                    Ok(done) => taken.push(done),
                    Err(error) => {
                        eprintln!("etr serve: landing object {}: {error}; it is tried again", object.location);
                        // Released, so that the next poll (of any watcher) tries it again.
                        self.forget(&claim).await;
                    }
                }
            }
        }
        Ok(taken)
    }

    /// The versions (`<name>/<etag>`) with a key under `.etr/<folder>/`, with their keys' metadata.
    async fn versions_under(&self, folder: &str) -> Result<HashMap<String, ObjectMeta>, object_store::Error> {
        let base = self.key(folder);
        let mut versions = HashMap::new();
        let mut listing = self.store.list(Some(&base));
        while let Some(meta) = listing.next().await {
            let meta = meta?;
            let parts: Vec<String> =
                meta.location.prefix_match(&base).into_iter().flatten().map(|p| p.as_ref().to_owned()).collect();
            if let [name, tag] = parts.as_slice() {
                versions.insert(format!("{name}/{tag}"), meta);
            }
        }
        Ok(versions)
    }

    fn is_stale(&self, claim: &ObjectMeta) -> bool {
        let written = SystemTime::from(claim.last_modified);
        SystemTime::now().duration_since(written).is_ok_and(|age| age >= self.stale_after)
    }

    /// Writes a claim; whether this watcher holds it now.
    async fn claim(&self, key: &Key, mode: PutMode) -> Result<bool, object_store::Error> {
        let body = format!("taking by {} at {}\n", self.who, unix_seconds());
        let options = PutOptions { mode, ..PutOptions::default() };
        match self.store.put_opts(key, PutPayload::from(body), options).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::AlreadyExists { .. } | object_store::Error::Precondition { .. }) => Ok(false),
            Err(error) => Err(error),
        }
    }

    async fn exists(&self, key: &Key) -> Result<bool, object_store::Error> {
        match self.store.head(key).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(error) => Err(error),
        }
    }

    async fn forget(&self, claim: &Key) {
        if let Err(error) = self.store.delete(claim).await {
            eprintln!("etr serve: could not release the claim {claim}: {error}");
        }
    }

    /// Receives or refuses one claimed version, and marks it taken.
    async fn take(
        &self,
        contributor: &str,
        name: &str,
        tag: &str,
        object: &ObjectMeta,
    ) -> Result<BucketTaken, TakeError> {
        let version = format!("{contributor}/{name}/{tag}");
        let outcome = match self.receive(contributor, name, object).await {
            Ok(run) => {
                eprintln!("etr serve: received {} {contributor} {name} ({} bytes, bucket)", run.id, run.size_bytes);
                BucketTaken::Received { contributor: contributor.to_owned(), name: name.to_owned(), run: run.id }
            }
            Err(TakeError::Intake(error @ (IntakeError::BadName { .. } | IntakeError::Empty))) => {
                let reason = error.to_string();
                eprintln!("etr serve: refused landing object {contributor}/{name}: {reason}");
                BucketTaken::Refused { contributor: contributor.to_owned(), name: name.to_owned(), reason }
            }
            Err(error) => return Err(error),
        };
        let (body, refusal) = match &outcome {
            BucketTaken::Received { run, .. } => (format!("received as {run}\n"), None),
            BucketTaken::Refused { reason, .. } => (format!("refused: {reason}\n"), Some(reason)),
        };
        // The reason where the sender looks: beside its files, under a folder of the platform's.
        if let Some(reason) = refusal {
            let at = self.key(&format!("{contributor}/refused/{name}.{tag}.reason.txt"));
            self.store.put(&at, PutPayload::from(format!("{reason}\n"))).await?;
        }
        // The claim stays: removed, it would let a watcher that listed the claims after the removal
        // and the markers before this one take the version again.
        self.store.put(&self.key(&format!(".etr/taken/{version}")), PutPayload::from(body)).await?;
        Ok(outcome)
    }

    /// Copies the version into the archive and records it as a run.
    async fn receive(&self, contributor: &str, name: &str, object: &ObjectMeta) -> Result<etr_ledger::Run, TakeError> {
        let month = self.platform.check_name(contributor, name)?;
        if object.size == 0 {
            return Err(IntakeError::Empty.into());
        }
        let options = GetOptions { if_match: object.e_tag.clone(), ..GetOptions::default() };
        let mut body = match self.store.get_opts(&object.location, options).await {
            Ok(result) => result.into_stream(),
            Err(object_store::Error::Precondition { .. } | object_store::Error::NotFound { .. }) => {
                return Err(TakeError::Replaced);
            }
            Err(error) => return Err(error.into()),
        };
        let incoming = StreamedIncoming::start(&self.platform.archive).map_err(IntakeError::Io)?;
        while let Some(chunk) = body.next().await {
            // A read cut off drops the file: nothing of it is recorded.
            if !incoming.write(chunk?).await {
                break;
            }
        }
        let incoming = incoming.finish().await.map_err(IntakeError::Io)?;
        // Checked before the copy is filed: a short read never gets a name in the archive.
        if incoming.size() != object.size {
            let read = format!("read {} bytes of an object of {}", incoming.size(), object.size);
            return Err(IntakeError::Io(std::io::Error::other(read)).into());
        }
        let stored = self.platform.archive.commit_async(incoming).await.map_err(IntakeError::Io)?;
        Ok(self.platform.record(contributor, name, month, stored, Source::Bucket).await?)
    }
}

/// `<name>/<etag>`, the last two parts of a claim's or a marker's key, as a listing returns them.
fn last_two_parts(key: &Key) -> String {
    let parts: Vec<String> = key.parts().map(|p| p.as_ref().to_owned()).collect();
    match parts.as_slice() {
        [.., name, tag] => format!("{name}/{tag}"),
        _ => String::new(),
    }
}

/// An ETag as a key part: S3's are hex digits, with `-<parts>` after a multipart upload, in quotes.
fn version_tag(e_tag: &str) -> Option<String> {
    let tag = e_tag.trim_matches('"');
    (!tag.is_empty() && tag.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')).then(|| tag.to_owned())
}

fn unix_seconds() -> u64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Polls every `interval` until `stop` is true.
pub async fn run(watcher: BucketWatcher, interval: Duration, mut stop: tokio::sync::watch::Receiver<bool>) {
    while !*stop.borrow() {
        if let Err(error) = watcher.poll().await {
            eprintln!("etr serve: the landing bucket: {error}");
        }
        if !crate::serve::pause(interval, &mut stop).await {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_is_spelled_as_the_listings_spell_it() {
        let claim = Key::from(format!(".etr/taking/JCL/{}/{}", "JCL 202506 #2%.psv", "abc-2"));
        let listed = Key::parse(claim.as_ref()).unwrap();
        assert_eq!(last_two_parts(&claim), last_two_parts(&listed));
        assert_eq!(last_two_parts(&claim), "JCL 202506 %232%25.psv/abc-2");
    }

    #[test]
    fn an_etag_becomes_a_key_part_only_when_it_is_plain() {
        assert_eq!(
            version_tag("\"9dd4e461268c8034f5c8564e155c67a6\"").as_deref(),
            Some("9dd4e461268c8034f5c8564e155c67a6")
        );
        assert_eq!(
            version_tag("\"d41d8cd98f00b204e9800998ecf8427e-3\"").as_deref(),
            Some("d41d8cd98f00b204e9800998ecf8427e-3")
        );
        assert_eq!(version_tag("\"\""), None);
        assert_eq!(version_tag("\"a/b\""), None);
    }
}
