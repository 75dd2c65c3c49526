//! A task's data by offset, as a `Stream`.
//!
//! The service returns, with each page, the offset to ask for next; it is opaque ("x不一定等于100"),
//! so the stream follows it exactly and never computes offsets from counts. A page with no rows
//! ends the stream; totals are not trusted.

use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::{Client, Error, size};

/// One row of task data: field name to value.
pub type Row = Map<String, Value>;

/// One page of data.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// Its rows.
    pub rows: Vec<Row>,
    /// The offset this page was asked for.
    pub offset: i64,
    /// The offset to ask for next (opaque).
    pub next_offset: i64,
    /// The task's total, as reported.
    pub total: i64,
    /// Rows after this page, as reported.
    pub rest_total: i64,
}

/// Reads a task's data by offset; see the module docs. Make one with [`Client::data_by_offset`].
#[derive(Debug, Clone)]
pub struct DataByOffset<'a> {
    client: &'a Client,
    task: String,
    page_size: u32,
    offset: i64,
}

impl<'a> DataByOffset<'a> {
    pub(crate) fn new(client: &'a Client, task: &str) -> Self {
        Self {
            client,
            task: task.to_string(),
            page_size: 100,
            offset: 0,
        }
    }

    /// Rows per request, 1 to 1000 (default 100).
    pub fn page_size(mut self, n: u32) -> Self {
        self.page_size = n;
        self
    }

    /// Starts at an offset the service returned earlier (default 0: the beginning), for example
    /// the `resume_offset` of an [`Error::Stream`].
    pub fn from_offset(mut self, offset: i64) -> Self {
        self.offset = offset;
        self
    }

    /// One page at `offset`.
    async fn page(&self, offset: i64) -> Result<Page, Error> {
        let n = size(self.page_size)?;
        let task = self.task.as_str();
        let page = self
            .client
            .call("reading data by offset", |api| async move {
                api.get_data_by_offset()
                    .task_id(task)
                    .offset(offset)
                    .size(n)
                    .send()
                    .await
            })
            .await?;
        Ok(Page {
            rows: page.data_list.into_iter().map(|r| r.0).collect(),
            offset,
            next_offset: page.offset,
            total: page.total,
            rest_total: page.rest_total,
        })
    }

    /// The pages, each with the offset to resume from. An error ends the stream as
    /// [`Error::Stream`], naming the offset to resume from.
    pub fn pages(self) -> BoxStream<'a, Result<Page, Error>> {
        stream::try_unfold((self, None::<i64>), |(reader, at)| async move {
            let offset = at.unwrap_or(reader.offset);
            let page = reader
                .page(offset)
                .await
                .map_err(|e| Error::Stream { resume_offset: offset, source: Box::new(e) })?;
            if page.rows.is_empty() {
                return Ok(None);
            }
            if page.next_offset == offset {
                return Err(Error::Stream {
                    resume_offset: offset,
                    source: Box::new(Error::Decode {
                        path: "data.offset".into(),
                        message: format!("the service returned rows but the same offset {offset}: the stream cannot advance"),
                    }),
                });
            }
            let next = page.next_offset;
            Ok(Some((page, (reader, Some(next)))))
        })
        .boxed()
    }

    /// The rows, in order, each exactly once, across token renewals and retries.
    pub fn rows(self) -> BoxStream<'a, Result<Row, Error>> {
        self.pages()
            .map_ok(|p| stream::iter(p.rows.into_iter().map(Ok)))
            .try_flatten()
            .boxed()
    }

    /// The rows decoded as `T` (a decode error names the field).
    pub fn rows_as<T: DeserializeOwned + Send + 'static>(self) -> BoxStream<'a, Result<T, Error>> {
        self.rows()
            .map(|row| {
                let row = Value::Object(row?);
                serde_path_to_error::deserialize::<_, T>(&row).map_err(|e| Error::Decode {
                    path: e.path().to_string(),
                    message: e.inner().to_string(),
                })
            })
            .boxed()
    }
}
