//! Object storage as a destination (feature `object-store`): `s3://bucket/key`, `gs://bucket/key`,
//! `az://container/key` and `file:///path`, through the `object_store` crate.
//!
//! - [`ObjectWriter`] is an `AsyncWrite` that streams to one object: bytes are buffered up to a
//!   part ([`PART_SIZE`], above S3's 5 MiB minimum), then sent as a multipart upload with at most
//!   two parts in flight, so memory stays flat (about three parts) whatever the size, and no
//!   temporary file is written. [`ObjectWriter::finish`] (or `shutdown`) completes the upload;
//!   until then nothing is visible at the key. [`ObjectWriter::abort`] (or dropping it unfinished)
//!   leaves no object.
//! - [`Objects`] puts whole objects under a prefix and lists them: for batch pipelines that make
//!   one durable object per batch.
//!
//! Credentials and endpoints come from the environment, the way each cloud's own tools read it:
//! `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION` /
//! `AWS_DEFAULT_REGION`, `AWS_ENDPOINT_URL` (an S3-compatible server such as MinIO or moto;
//! `AWS_ALLOW_HTTP=true` for plain http); `GOOGLE_SERVICE_ACCOUNT` / `GOOGLE_APPLICATION_CREDENTIALS`;
//! `AZURE_STORAGE_ACCOUNT_NAME`, `AZURE_STORAGE_ACCOUNT_KEY` (or a SAS / client secret).

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use object_store::ObjectStore;
use object_store::ObjectStoreExt;
use object_store::buffered::BufWriter;
use object_store::path::Path as ObjectPath;
use tokio::io::AsyncWrite;

/// Bytes per uploaded part (S3 wants at least 5 MiB for every part but the last).
pub const PART_SIZE: usize = 6 * 1024 * 1024;

/// Parts uploaded at once.
pub const PARTS_IN_FLIGHT: usize = 2;

/// What went wrong with an object destination.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ObjectError {
    /// The destination is not a URL this build can write to.
    #[error(
        "{url}: expected s3://BUCKET/KEY, gs://BUCKET/KEY, az://CONTAINER/KEY or file:///PATH ({reason})"
    )]
    Url {
        /// What was given.
        url: String,
        /// Why it was refused.
        reason: String,
    },
    /// The store refused or failed (credentials, bucket, network).
    #[error("{url}: {source}")]
    Store {
        /// The destination.
        url: String,
        /// The store's error.
        #[source]
        source: object_store::Error,
    },
}

/// Whether `destination` names an object store (`scheme://...`) rather than a local path.
pub fn is_object_url(destination: &str) -> bool {
    destination.split_once("://").is_some_and(|(scheme, _)| {
        matches!(
            scheme,
            "s3" | "s3a" | "gs" | "az" | "azure" | "abfs" | "abfss" | "file"
        )
    })
}

/// A store and a location in it, from a destination URL and the environment.
fn open(destination: &str) -> Result<(Arc<dyn ObjectStore>, ObjectPath), ObjectError> {
    let bad = |reason: String| ObjectError::Url {
        url: destination.to_string(),
        reason,
    };
    let url = url::Url::parse(destination).map_err(|e| bad(e.to_string()))?;
    if !is_object_url(destination) {
        return Err(bad(format!("scheme {} is not supported", url.scheme())));
    }
    let store_error = |source| ObjectError::Store {
        url: destination.to_string(),
        source,
    };
    let (scheme, path) =
        object_store::ObjectStoreScheme::parse(&url).map_err(|e| bad(e.to_string()))?;
    let store: Arc<dyn ObjectStore> = match scheme {
        object_store::ObjectStoreScheme::AmazonS3 if url.scheme().starts_with("s3") => Arc::new(
            object_store::aws::AmazonS3Builder::from_env()
                .with_url(destination)
                .build()
                .map_err(store_error)?,
        ),
        object_store::ObjectStoreScheme::GoogleCloudStorage => Arc::new(
            object_store::gcp::GoogleCloudStorageBuilder::from_env()
                .with_url(destination)
                .build()
                .map_err(store_error)?,
        ),
        object_store::ObjectStoreScheme::MicrosoftAzure if url.scheme() != "https" => Arc::new(
            object_store::azure::MicrosoftAzureBuilder::from_env()
                .with_url(destination)
                .build()
                .map_err(store_error)?,
        ),
        object_store::ObjectStoreScheme::Local => {
            // Relative to `/`: the path is the URL's absolute path; parent folders are made.
            Arc::new(object_store::local::LocalFileSystem::new())
        }
        _ => return Err(bad(format!("scheme {} is not supported", url.scheme()))),
    };
    if path.as_ref().is_empty() {
        return Err(bad("no key after the bucket".into()));
    }
    Ok((store, path))
}

/// Lists `folder` once: proves the bucket exists and the credentials may read it, before a long
/// job produces anything to write. A local folder that does not exist yet is fine (it is made).
async fn reachable(
    url: &str,
    store: &dyn ObjectStore,
    folder: &ObjectPath,
    local: bool,
) -> Result<(), ObjectError> {
    match store.list_with_delimiter(Some(folder)).await {
        Ok(_) => Ok(()),
        Err(object_store::Error::NotFound { .. }) if local => Ok(()),
        Err(source) => Err(ObjectError::Store {
            url: url.to_string(),
            source,
        }),
    }
}

/// The folder of `path` (everything before its last segment).
fn folder_of(path: &ObjectPath) -> ObjectPath {
    let parts: Vec<_> = path.parts().collect();
    ObjectPath::from_iter(parts[..parts.len().saturating_sub(1)].iter().cloned())
}

/// A streaming writer to one object; see the module docs.
pub struct ObjectWriter {
    url: String,
    inner: BufWriter,
    written: u64,
    check: (Arc<dyn ObjectStore>, ObjectPath),
}

impl std::fmt::Debug for ObjectWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectWriter")
            .field("url", &self.url)
            .field("written", &self.written)
            .finish_non_exhaustive()
    }
}

impl ObjectWriter {
    /// A writer to `destination` (an object URL). Nothing is sent until a part is full or the
    /// writer is finished; a bad URL or missing configuration is an error here.
    pub fn create(destination: &str) -> Result<Self, ObjectError> {
        let (store, path) = open(destination)?;
        Ok(Self {
            url: destination.to_string(),
            check: (store.clone(), folder_of(&path)),
            inner: BufWriter::with_capacity(store, path, PART_SIZE)
                .with_max_concurrency(PARTS_IN_FLIGHT),
            written: 0,
        })
    }

    /// Checks, with one list request of the key's folder, that the bucket exists and the
    /// credentials can reach it: worth doing before a job whose output would have nowhere to go.
    pub async fn check(&self) -> Result<(), ObjectError> {
        let local = self.url.starts_with("file:");
        reachable(&self.url, self.check.0.as_ref(), &self.check.1, local).await
    }

    /// The destination.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Bytes accepted so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Sends what is buffered and completes the upload: the object exists, whole, once this
    /// returns. Returns the bytes written.
    pub async fn finish(mut self) -> Result<u64, ObjectError> {
        use tokio::io::AsyncWriteExt;
        self.inner.shutdown().await.map_err(|e| self.io_error(e))?;
        Ok(self.written)
    }

    /// Ends the upload by how writing went: finished when `written` is `Ok` (returns the bytes),
    /// abandoned when it is an error (returns that error; a failure to abandon is only logged,
    /// since the unfinished upload never becomes an object either way).
    pub async fn finish_or_abort<E: From<ObjectError>>(
        self,
        written: Result<(), E>,
    ) -> Result<u64, E> {
        match written {
            Ok(()) => Ok(self.finish().await?),
            Err(e) => {
                let url = self.url.clone();
                if let Err(abort) = self.abort().await {
                    tracing::warn!(%url, error = %abort, "could not abandon the upload");
                }
                Err(e)
            }
        }
    }

    /// Abandons the upload: no object is created (parts already sent are discarded).
    pub async fn abort(mut self) -> Result<(), ObjectError> {
        let url = self.url.clone();
        self.inner
            .abort()
            .await
            .map_err(|source| ObjectError::Store { url, source })
    }

    fn io_error(&self, e: std::io::Error) -> ObjectError {
        ObjectError::Store {
            url: self.url.clone(),
            source: object_store::Error::Generic {
                store: "object store",
                source: Box::new(e),
            },
        }
    }
}

impl AsyncWrite for ObjectWriter {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = &polled {
            self.written += *n as u64;
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Whole objects under one prefix (`s3://bucket/exports/task-1/`): put and list.
#[derive(Debug, Clone)]
pub struct Objects {
    url: String,
    store: Arc<dyn ObjectStore>,
    prefix: ObjectPath,
}

impl Objects {
    /// The objects under `prefix` (an object URL; a trailing `/` is optional).
    pub fn open(prefix: &str) -> Result<Self, ObjectError> {
        let trimmed = prefix.trim_end_matches('/');
        let (store, path) = open(trimmed)?;
        Ok(Self {
            url: format!("{trimmed}/"),
            store,
            prefix: path,
        })
    }

    /// The prefix, ending in `/`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Checks, with one list request, that the bucket exists and the credentials can reach it.
    pub async fn check(&self) -> Result<(), ObjectError> {
        let local = self.url.starts_with("file:");
        reachable(&self.url, self.store.as_ref(), &self.prefix, local).await
    }

    fn error(&self, source: object_store::Error) -> ObjectError {
        ObjectError::Store {
            url: self.url.clone(),
            source,
        }
    }

    /// Writes `bytes` as object `name` under the prefix, whole (one PUT: the object is durable
    /// and complete once this returns, or absent).
    pub async fn put(&self, name: &str, bytes: bytes::Bytes) -> Result<(), ObjectError> {
        let path = self.prefix.clone().join(name);
        self.store
            .put(&path, bytes.into())
            .await
            .map_err(|e| self.error(e))?;
        Ok(())
    }

    /// The names of the objects directly under the prefix, sorted.
    pub async fn names(&self) -> Result<Vec<String>, ObjectError> {
        let listed = self
            .store
            .list_with_delimiter(Some(&self.prefix))
            .await
            .map_err(|e| self.error(e))?;
        let mut names: Vec<String> = listed
            .objects
            .into_iter()
            .filter_map(|o| o.location.filename().map(str::to_string))
            .collect();
        names.sort();
        Ok(names)
    }

    /// The bytes of object `name` under the prefix.
    pub async fn get(&self, name: &str) -> Result<bytes::Bytes, ObjectError> {
        let path = self.prefix.clone().join(name);
        let got = self.store.get(&path).await.map_err(|e| self.error(e))?;
        got.bytes().await.map_err(|e| self.error(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    #[test]
    fn destinations_are_told_from_paths() {
        for url in [
            "s3://b/k.csv",
            "gs://b/k",
            "az://c/k",
            "file:///tmp/x.jsonl",
        ] {
            assert!(is_object_url(url), "{url}");
        }
        for path in [
            "out.csv",
            "./s3/x.csv",
            "/tmp/x.csv",
            "C:\\x.csv",
            "http://x/y",
        ] {
            assert!(!is_object_url(path), "{path}");
        }
    }

    #[test]
    fn a_bad_destination_names_what_is_expected() {
        for (url, says) in [
            ("s3://bucket", "no key"),
            ("ftp://host/x", "not supported"),
            ("s3://", "s3://BUCKET/KEY"),
        ] {
            let e = ObjectWriter::create(url).unwrap_err().to_string();
            assert!(e.contains(says) && e.contains(url), "{url}: {e}");
        }
    }

    #[tokio::test]
    async fn a_file_destination_streams_and_appears_only_when_finished() {
        let dir = std::env::temp_dir().join(format!("clawkit-objects-{}", std::process::id()));
        let file = dir.join("sub/out.bin");
        let url = format!("file://{}", file.display());
        let mut w = ObjectWriter::create(&url).unwrap();
        let chunk = vec![7u8; 1 << 20];
        for _ in 0..13 {
            w.write_all(&chunk).await.unwrap();
        }
        w.check().await.unwrap();
        assert!(!file.exists(), "nothing visible before finish");
        assert_eq!(w.finish().await.unwrap(), 13 << 20);
        assert_eq!(std::fs::metadata(&file).unwrap().len(), 13 << 20);

        let parts = Objects::open(&format!("file://{}/parts/", dir.display())).unwrap();
        parts.put("b.jsonl", "2\n".into()).await.unwrap();
        parts.put("a.jsonl", "1\n".into()).await.unwrap();
        assert_eq!(parts.names().await.unwrap(), ["a.jsonl", "b.jsonl"]);
        assert_eq!(&parts.get("b.jsonl").await.unwrap()[..], b"2\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
