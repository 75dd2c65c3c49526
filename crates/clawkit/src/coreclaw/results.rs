//! A run's results: a `Stream` over result pages, and exports streamed to any `AsyncWrite`.

use coreclaw_api::types;
use futures::StreamExt;
use futures::stream::BoxStream;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use tokio::io::AsyncWrite;

use super::Error;
use super::run::{Run, download};
use crate::transport::paging;

/// Default items per result page.
pub const DEFAULT_PAGE_SIZE: u64 = 100;
/// The largest result page.
pub const MAX_PAGE_SIZE: u64 = 1000;

/// Export file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// CSV with a header row.
    Csv,
    /// A JSON array.
    Json,
}

impl Run {
    /// The run's result items as JSON objects, 100 per request. See [`Run::items_from`].
    pub fn items(&self) -> BoxStream<'_, Result<Map<String, Value>, Error>> {
        self.items_from(DEFAULT_PAGE_SIZE, 0)
    }

    /// The run's result items as JSON objects, `page_size` (1 to 1000) per request, starting
    /// after the first `start` items (to resume a stream that failed: pass the count already
    /// received).
    ///
    /// Each item comes exactly once: the stream advances by the items actually received, asks a
    /// short page again, retries a failed page with backoff, and ends when a page has nothing new,
    /// never trusting a reported total. One page is held in memory at a time. The internal
    /// `__coreclaw_data_id__` field is kept. Call it after the run ended (see [`Run::wait`]); on a
    /// running run it yields what exists so far.
    pub fn items_from(
        &self,
        page_size: u64,
        start: u64,
    ) -> BoxStream<'_, Result<Map<String, Value>, Error>> {
        let size = page_size.clamp(1, MAX_PAGE_SIZE);
        paging::items(size, start, move |page, size| async move {
            let body = types::RunResultListRequest {
                run_slug: self.slug.clone(),
                page_index: std::num::NonZeroU64::new(page).unwrap_or(std::num::NonZeroU64::MIN),
                page_size: std::num::NonZeroU64::new(size).unwrap_or(std::num::NonZeroU64::MIN),
            };
            let api = &self.client.inner.api;
            let data: types::RunResultListData = self
                .client
                .read("reading a result page", || {
                    api.list_run_results().body(body.clone()).send()
                })
                .await?;
            Ok::<_, Error>(
                data.list
                    .into_iter()
                    .map(|record| record.0)
                    .collect::<Vec<_>>(),
            )
        })
        .boxed()
    }

    /// [`Run::items_from`], each item decoded as `T` (a decode error names the item and field).
    pub fn items_as<T: DeserializeOwned + Send + 'static>(
        &self,
        page_size: u64,
        start: u64,
    ) -> BoxStream<'_, Result<T, Error>> {
        self.items_from(page_size, start)
            .enumerate()
            .map(move |(i, item)| {
                let item = Value::Object(item?);
                T::deserialize(&item).map_err(|_| {
                    // Decode again, only on failure, to name the field.
                    let path = serde_path_to_error::deserialize::<_, T>(&item)
                        .err()
                        .map(|e| (e.path().to_string(), e.inner().to_string()))
                        .unwrap_or_default();
                    Error::Decode {
                        path: format!("item {}: {}", start + i as u64, path.0),
                        message: path.1,
                    }
                })
            })
            .boxed()
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

    /// Asks CoreClaw for an export file and returns its temporary download URL.
    pub async fn export_url(&self, format: ExportFormat, keys: &[&str]) -> Result<String, Error> {
        let body = types::RunResultExportRequest {
            run_slug: self.slug.clone(),
            format: match format {
                ExportFormat::Csv => types::RunResultExportRequestFormat::Csv,
                ExportFormat::Json => types::RunResultExportRequestFormat::Json,
            },
            filter_keys: keys.iter().map(|k| k.to_string()).collect(),
        };
        let api = &self.client.inner.api;
        let data: types::RunResultExportData = self
            .client
            .read("requesting an export", || {
                api.export_run_results().body(body.clone()).send()
            })
            .await?;
        Ok(data.download_url)
    }
}
