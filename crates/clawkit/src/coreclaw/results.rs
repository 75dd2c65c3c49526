//! A run's results: a `Stream` over result pages, and exports streamed to any `AsyncWrite`.

use clawkit_runtime::Paged;
use futures::stream::BoxStream;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use tokio::io::AsyncWrite;

pub use super::model::ExportFormat;

use super::error::Error;
use super::run::{Run, download};

/// The largest result page of v1 (the default; v2's is 100).
pub const MAX_PAGE_SIZE: u32 = super::v1::MAX_PAGE;

/// A run's result items as a `Stream`; see [`Run::items`].
pub type Items = Paged<Map<String, Value>, Error, u64>;

impl Run {
    /// The run's result items as JSON objects, in the Worker's field order, 1000 (the most
    /// CoreClaw allows) per request. `.page_size(n)` (1 to 1000) and `.start_at(count)` (to
    /// resume a stream that failed: pass the count already received) change that.
    ///
    /// Each item comes exactly once: the stream advances by the items actually received, asks a
    /// short page again, retries a failed page with backoff, and ends when a page has nothing new,
    /// never trusting a reported total. Once the first page gave the total, the next 8 pages
    /// ([`clawkit_runtime::DEFAULT_PREFETCH`]) are read ahead, concurrently and in order, so a
    /// distant server's latency is paid once per 8 pages; `.prefetch(n)` changes that (`0`: one
    /// page at a time) and a 4290 makes it read fewer ahead for a while. At most `n + 2` pages
    /// are held in memory. The internal
    /// `__coreclaw_data_id__` field is kept. Call it after the run ended (see [`Run::wait`]); on a
    /// running run it yields what exists so far. The stream owns a client handle: it can be
    /// spawned onto a task.
    pub fn items(&self) -> Items {
        let api = self.client.inner.api.clone();
        let slug = self.slug.clone();
        let (max, throttle) = (api.max_page(), api.throttle());
        Paged::numbered("page_size", max, move |page, size| {
            let (api, slug) = (api.clone(), slug.clone());
            async move { api.results(&slug, page, size).await }
        })
        .throttle(throttle)
    }

    /// [`Run::items`] with `page_size` (1 to 1000) items per request, starting after the first
    /// `start` items.
    pub fn items_from(&self, page_size: u32, start: u64) -> Items {
        self.items().page_size(page_size).start_at(start)
    }

    /// [`Run::items_from`], each item decoded as `T` (a decode error names the item and field).
    pub fn items_as<T: DeserializeOwned + Send + 'static>(
        &self,
        page_size: u32,
        start: u64,
    ) -> BoxStream<'static, Result<T, Error>> {
        self.items_from(page_size, start).decoded()
    }

    /// Exports every result as `format` and streams the file to `writer`, without holding it in
    /// memory. Returns the bytes written.
    pub async fn export<W: AsyncWrite + Unpin>(
        &self,
        format: ExportFormat,
        writer: &mut W,
    ) -> Result<u64, Error> {
        self.export_keys(format, &[], writer).await
    }

    /// [`Run::export`] keeping only `keys` (in that order; empty keeps all).
    pub async fn export_keys<W: AsyncWrite + Unpin>(
        &self,
        format: ExportFormat,
        keys: &[&str],
        writer: &mut W,
    ) -> Result<u64, Error> {
        let url = self.export_url(format, keys).await?;
        download(&self.client, &url, writer).await
    }

    /// Exports every result as `format` straight to object storage (feature `object-store`):
    /// `s3://bucket/key.csv`, `gs://…`, `az://…` or `file:///…`, configured from the environment
    /// (see [`crate::objects`]). The file is streamed as a multipart upload: no temporary file,
    /// flat memory, a download that breaks off resumed where it stopped. The object appears,
    /// whole, only when everything was written; on failure the upload is abandoned. Returns the
    /// bytes written.
    ///
    /// ```no_run
    /// # async fn demo(run: clawkit::coreclaw::Run) -> Result<(), clawkit::coreclaw::Error> {
    /// use clawkit::coreclaw::ExportFormat;
    ///
    /// let bytes = run.export_to(ExportFormat::Csv, "s3://my-bucket/runs/latest.csv").await?;
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(feature = "object-store")]
    pub async fn export_to(&self, format: ExportFormat, destination: &str) -> Result<u64, Error> {
        let mut writer = clawkit_runtime::objects::ObjectWriter::create(destination)?;
        let written = self.export(format, &mut writer).await.map(drop);
        writer.finish_or_abort(written).await
    }

    /// Writes every result item as JSON Lines (one object per line, the Worker's field order)
    /// straight to object storage (feature `object-store`), from [`Run::items`]: read ahead,
    /// every item exactly once, streamed as a multipart upload in flat memory. The object
    /// appears, whole, only when every item was written; on failure the upload is abandoned.
    /// Returns the items written.
    ///
    /// ```no_run
    /// # async fn demo(run: clawkit::coreclaw::Run) -> Result<(), clawkit::coreclaw::Error> {
    /// let items = run.items_to("gs://my-bucket/runs/latest.jsonl").await?;
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(feature = "object-store")]
    pub async fn items_to(&self, destination: &str) -> Result<u64, Error> {
        use futures::StreamExt;
        use tokio::io::AsyncWriteExt;
        let mut writer = clawkit_runtime::objects::ObjectWriter::create(destination)?;
        let mut items = self.items();
        let mut buffer = Vec::with_capacity(256 * 1024);
        let mut count = 0u64;
        let written: Result<(), Error> = async {
            while let Some(item) = items.next().await {
                // A JSON object from the API: encoding it again cannot fail.
                let _ = serde_json::to_writer(&mut buffer, &item?);
                buffer.push(b'\n');
                count += 1;
                if buffer.len() >= 256 * 1024 {
                    writer.write_all(&buffer).await?;
                    buffer.clear();
                }
            }
            writer.write_all(&buffer).await?;
            Ok(())
        }
        .await;
        writer.finish_or_abort(written).await?;
        Ok(count)
    }

    /// Asks CoreClaw for an export file and returns its temporary download URL.
    pub async fn export_url(&self, format: ExportFormat, keys: &[&str]) -> Result<String, Error> {
        self.client
            .inner
            .api
            .export_url(&self.slug, format, keys)
            .await
    }
}
