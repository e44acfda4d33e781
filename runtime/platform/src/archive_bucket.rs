//! The archive's copy in a bucket (`archive_bucket:` in `etr.yaml`): every received file is put
//! there, under the same key as in the archive folder (`<prefix>/sha256/<ab>/<hash>`), before the
//! ledger hears of it. It is what makes the archive outlive its machine (disaster recovery, the
//! bureau's seven-year keeping), and what lets a worker on another machine run a file that a
//! server elsewhere received: a run whose file is not in the local archive folder is fetched from
//! the bucket, its hash checked against its name, then run.
//!
//! A key holds the bytes its name hashes to, so a key already there is never written again, and
//! two machines putting the same file at once put the same bytes. The platform never deletes from
//! the bucket; keeping and expiring is the bucket's lifecycle policy (S3 Object Lock for
//! immutability, when the bureau's audit asks for it).

use std::path::Path;
use std::sync::Arc;

use etr_lake::S3Config;
use futures::StreamExt as _;
use object_store::path::Path as Key;
use object_store::{ObjectStore, ObjectStoreExt as _};
use tokio::io::AsyncWriteExt as _;

use crate::archive::{Archive, Stored, StreamedIncoming};

/// The bucket holding the archive's copy.
#[derive(Clone)]
pub struct ArchiveBucket {
    store: Arc<dyn ObjectStore>,
    /// Without a trailing `/` (may be empty).
    prefix: String,
    bucket: String,
}

impl ArchiveBucket {
    pub fn new(config: &S3Config) -> Result<ArchiveBucket, object_store::Error> {
        Ok(ArchiveBucket {
            store: Arc::new(config.client()?),
            prefix: config.prefix.trim_matches('/').to_owned(),
            bucket: config.bucket.clone(),
        })
    }

    fn key(&self, archive_key: &str) -> Key {
        if self.prefix.is_empty() {
            Key::from(archive_key)
        } else {
            Key::from(format!("{}/{archive_key}", self.prefix))
        }
    }

    /// Where a file's copy is, for messages: `s3://bucket/prefix/sha256/ab/...`.
    pub fn location(&self, archive_key: &str) -> String {
        format!("s3://{}/{}", self.bucket, self.key(archive_key))
    }

    /// Puts the archived file `stored` (at `local`) into the bucket, unless its key is there.
    /// Large files go up in parts.
    pub async fn put(&self, stored: &Stored, local: &Path) -> std::io::Result<()> {
        let key = self.key(&stored.key);
        match self.store.head(&key).await {
            Ok(meta) if meta.size == stored.size => return Ok(()),
            Ok(_) | Err(object_store::Error::NotFound { .. }) => {}
            Err(error) => return Err(bucket_error(&self.location(&stored.key), error)),
        }
        let mut file = tokio::fs::File::open(local).await?;
        let mut upload = object_store::buffered::BufWriter::new(self.store.clone(), key);
        if let Err(error) = tokio::io::copy(&mut file, &mut upload).await {
            let _ = upload.abort().await;
            return Err(error);
        }
        upload
            .shutdown()
            .await
            .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", self.location(&stored.key))))
    }

    /// Fetches the file of `archive_key` into `archive`, checking that its bytes hash to its name.
    /// `Ok(false)` when the bucket does not have it.
    pub async fn fetch(&self, archive_key: &str, archive: &Archive) -> std::io::Result<bool> {
        let location = self.location(archive_key);
        let mut body = match self.store.get(&self.key(archive_key)).await {
            Ok(result) => result.into_stream(),
            Err(object_store::Error::NotFound { .. }) => return Ok(false),
            Err(error) => return Err(bucket_error(&location, error)),
        };
        let incoming = StreamedIncoming::start(archive)?;
        while let Some(chunk) = body.next().await {
            // A read cut off drops the file: nothing of it is kept.
            if !incoming.write(chunk.map_err(|e| bucket_error(&location, e))?).await {
                break;
            }
        }
        let stored = archive.commit_async(incoming.finish().await?).await?;
        if stored.key != archive_key {
            return Err(std::io::Error::other(format!(
                "{location} holds other bytes than its name says (their hash is {})",
                stored.hash
            )));
        }
        Ok(true)
    }
}

fn bucket_error(location: &str, error: object_store::Error) -> std::io::Error {
    std::io::Error::other(format!("{location}: {error}"))
}
