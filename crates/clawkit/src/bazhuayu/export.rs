//! Export of rows not exported yet: at least once, never lost, and exactly once into a
//! [`JsonlSink`].
//!
//! The service's protocol (seed 2.3): `gettop` returns up to `size` rows not exported yet and marks
//! them "exporting" (not "exported"), so it can be called again for the same rows; `update` marks
//! every "exporting" row "exported". [`ExportNew::run`] hands each batch to the caller's sink and
//! calls `update` only after the sink returned `Ok`. If the sink fails, the program crashes, or the
//! network breaks before that, the same batch is delivered again next time: **at least once, never
//! lost**. A sink that recognises a batch it already wrote (like [`JsonlSink`]) makes it exactly once.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use super::client::{Client, size};
use super::data::Row;
use super::error::{Error, Flow};

impl Client {
    /// The at-least-once export pipeline of rows not exported yet: see [`ExportNew`].
    pub fn export_new(&self, task: &str) -> ExportNew {
        ExportNew::new(self.clone(), task)
    }
}

/// A batch of rows handed to the sink.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// The rows.
    pub rows: Vec<Row>,
    /// Rows not exported yet, this batch included, as reported.
    pub remaining: i64,
}

impl Batch {
    /// A fingerprint of the batch's content (SHA-256 of its rows as JSON): the same batch
    /// delivered again has the same fingerprint.
    pub fn fingerprint(&self) -> String {
        let mut hash = Sha256::new();
        for row in &self.rows {
            hash.update(serde_json::to_vec(row).unwrap_or_default());
            hash.update(b"\n");
        }
        hex::encode(hash.finalize())
    }

    /// The rows as JSON Lines (one object per line, the service's field order), as both sinks
    /// write them.
    pub fn jsonl(&self) -> Vec<u8> {
        let mut bytes = Vec::new();
        for row in &self.rows {
            // A Row is a JSON object: encoding it cannot fail.
            let _ = serde_json::to_writer(&mut bytes, row);
            bytes.push(b'\n');
        }
        bytes
    }
}

/// What an export did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExportReport {
    /// Batches delivered and marked exported.
    pub batches: u64,
    /// Rows in them.
    pub rows: u64,
}

/// The export pipeline; make one with [`Client::export_new`]. It owns a client handle.
#[derive(Debug, Clone)]
pub struct ExportNew {
    client: Client,
    task: String,
    batch_size: u32,
    max_batches: Option<u64>,
}

impl ExportNew {
    pub(crate) fn new(client: Client, task: &str) -> Self {
        Self {
            client,
            task: task.to_string(),
            batch_size: 1000,
            max_batches: None,
        }
    }

    /// Rows per batch, 1 to 1000 (default 1000).
    pub fn batch_size(mut self, n: u32) -> Self {
        self.batch_size = n;
        self
    }

    /// Stop after this many batches (default: until no row is left).
    pub fn max_batches(mut self, n: u64) -> Self {
        self.max_batches = Some(n);
        self
    }

    /// Fetches batches and hands each to `sink`; a batch is marked exported only after the sink
    /// returned `Ok`. A sink error stops the export with [`Flow::Sink`]; that batch comes again
    /// on the next run.
    pub async fn run<F, E>(self, mut sink: F) -> Result<ExportReport, Error>
    where
        F: AsyncFnMut(Batch) -> Result<(), E>,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let n = size(self.batch_size)?;
        let task = self.task.as_str();
        let mut report = ExportReport::default();
        while self.max_batches.is_none_or(|m| report.batches < m) {
            let batch = self
                .client
                .read("exporting a batch", |api| {
                    api.export_data_batch().task_id(task).size(n).send()
                })
                .await?;
            let rows: Vec<Row> = batch.data_list.into_iter().map(|r| r.0).collect();
            if rows.is_empty() {
                break;
            }
            let count = rows.len();
            sink(Batch {
                rows,
                remaining: batch.total,
            })
            .await
            .map_err(|e| Flow::Sink {
                rows: count,
                source: e.into(),
            })?;
            self.client
                .read("marking a batch exported", |api| {
                    api.mark_data_exported().task_id(task).send()
                })
                .await?;
            report.batches += 1;
            report.rows += count as u64;
            tracing::debug!(task, rows = count, "batch exported");
        }
        Ok(report)
    }
}

/// A JSON Lines file sink that writes each batch exactly once, across crashes and re-deliveries.
///
/// Beside `FILE` it keeps `FILE.state`: the fingerprint of the last batch written and the file's
/// length after it. A batch with that fingerprint is skipped (it was written; only the
/// "exported" mark was missing); any other batch first cuts the file back to that length (dropping
/// a half-written batch from a crash), then is appended and synced, and only then is the state
/// replaced (written to a temporary file and renamed).
///
/// ```no_run
/// # async fn demo(client: clawkit::bazhuayu::Client) -> Result<(), Box<dyn std::error::Error>> {
/// use clawkit::bazhuayu::JsonlSink;
///
/// let mut sink = JsonlSink::open("task.jsonl").await?;
/// let report = client
///     .export_new("337fd7d7-aded-4081-9104-2b551161ccc8")
///     .run(async |batch| sink.write(&batch).await)
///     .await?;
/// println!("{} rows in {} batches", report.rows, report.batches);
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct JsonlSink {
    path: PathBuf,
    state: PathBuf,
    last: Option<(String, u64)>,
}

impl JsonlSink {
    /// Opens (or creates) `path` and its state file.
    pub async fn open(path: impl AsRef<Path>) -> std::io::Result<Self> {
        let path = path.as_ref().to_path_buf();
        let mut state = path.clone().into_os_string();
        state.push(".state");
        let state = PathBuf::from(state);
        let last = match tokio::fs::read_to_string(&state).await {
            Ok(text) => {
                let mut parts = text.split_whitespace();
                match (
                    parts.next(),
                    parts.next().and_then(|l| l.parse::<u64>().ok()),
                ) {
                    (Some(fp), Some(len)) => Some((fp.to_string(), len)),
                    _ => {
                        return Err(std::io::Error::new(
                            std::io::ErrorKind::InvalidData,
                            format!("{} is not a JsonlSink state file", state.display()),
                        ));
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        Ok(Self { path, state, last })
    }

    /// The file written to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes a batch unless it is the batch written last.
    pub async fn write(&mut self, batch: &Batch) -> std::io::Result<()> {
        let fingerprint = batch.fingerprint();
        if self.last.as_ref().is_some_and(|(fp, _)| *fp == fingerprint) {
            tracing::debug!(path = %self.path.display(), "batch already written; skipped");
            return Ok(());
        }
        let keep = self.last.as_ref().map_or(0, |(_, len)| *len);
        let mut file = tokio::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(false)
            .open(&self.path)
            .await?;
        file.set_len(keep).await?;
        let bytes = batch.jsonl();
        file.seek_to(keep).await?;
        file.write_all(&bytes).await?;
        file.sync_all().await?;
        let len = keep + bytes.len() as u64;
        let mut tmp = self.state.clone().into_os_string();
        tmp.push(".tmp");
        tokio::fs::write(&tmp, format!("{fingerprint} {len}\n")).await?;
        tokio::fs::rename(&tmp, &self.state).await?;
        self.last = Some((fingerprint, len));
        Ok(())
    }
}

/// One object per batch under an object-storage prefix (feature `object-store`), each written
/// whole before the batch is marked exported, exactly once across crashes and re-deliveries.
///
/// Batch `n` becomes `PREFIX/part-0000000n-FINGERPRINT.jsonl` (JSON Lines; the first 16 hex
/// digits of [`Batch::fingerprint`]) in one PUT, so a part is either complete and durable or
/// absent. On open, the parts already there are listed: numbering goes on after the last one, and
/// a batch whose fingerprint is the last part's is skipped (it was written; only the "exported"
/// mark was missing). Reading the parts in name order gives the rows in export order.
///
/// ```no_run
/// # async fn demo(client: clawkit::bazhuayu::Client) -> Result<(), Box<dyn std::error::Error>> {
/// use clawkit::bazhuayu::ObjectSink;
///
/// // AWS_* from the environment, as the AWS CLI reads them.
/// let mut sink = ObjectSink::open("s3://my-bucket/bazhuayu/task-337fd7d7/").await?;
/// let report = client
///     .export_new("337fd7d7-aded-4081-9104-2b551161ccc8")
///     .run(async |batch| sink.write(&batch).await)
///     .await?;
/// println!("{} rows in {} parts under {}", report.rows, report.batches, sink.url());
/// # Ok(())
/// # }
/// ```
#[cfg(feature = "object-store")]
#[derive(Debug)]
pub struct ObjectSink {
    objects: clawkit_runtime::objects::Objects,
    next: u64,
    last: Option<String>,
}

#[cfg(feature = "object-store")]
impl ObjectSink {
    /// Opens the prefix (an `s3://`, `gs://`, `az://` or `file://` URL) and reads which parts it
    /// already holds.
    pub async fn open(prefix: &str) -> Result<Self, clawkit_runtime::objects::ObjectError> {
        let objects = clawkit_runtime::objects::Objects::open(prefix)?;
        let (mut next, mut last) = (1, None);
        for name in objects.names().await? {
            let Some((n, fp)) = name
                .strip_prefix("part-")
                .and_then(|r| r.strip_suffix(".jsonl"))
                .and_then(|r| r.split_once('-'))
                .and_then(|(n, fp)| Some((n.parse::<u64>().ok()?, fp)))
            else {
                continue;
            };
            if n >= next {
                next = n + 1;
                last = Some(fp.to_string());
            }
        }
        Ok(Self {
            objects,
            next,
            last,
        })
    }

    /// The prefix written to.
    pub fn url(&self) -> &str {
        self.objects.url()
    }

    /// Writes a batch as the next part, unless it is the batch written last.
    pub async fn write(
        &mut self,
        batch: &Batch,
    ) -> Result<(), clawkit_runtime::objects::ObjectError> {
        let fingerprint = batch.fingerprint();
        let short = &fingerprint[..16.min(fingerprint.len())];
        if self.last.as_deref() == Some(short) {
            tracing::debug!(prefix = self.url(), "batch already written; skipped");
            return Ok(());
        }
        let name = format!("part-{:08}-{short}.jsonl", self.next);
        self.objects.put(&name, batch.jsonl().into()).await?;
        self.next += 1;
        self.last = Some(short.to_string());
        Ok(())
    }
}

trait SeekTo {
    async fn seek_to(&mut self, at: u64) -> std::io::Result<()>;
}

impl SeekTo for tokio::fs::File {
    async fn seek_to(&mut self, at: u64) -> std::io::Result<()> {
        use tokio::io::AsyncSeekExt;
        self.seek(std::io::SeekFrom::Start(at)).await.map(|_| ())
    }
}
