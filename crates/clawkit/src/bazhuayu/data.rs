//! A task's data by offset, as a `Stream`.
//!
//! The service returns, with each page, the offset to ask for next; it is opaque ("x不一定等于100"),
//! so the stream follows it exactly and never computes offsets from counts. A page with no rows
//! ends the stream; totals are not trusted. A stream that breaks says where to resume
//! ([`Flow::Stream`]); a task that does not exist is [`Reason::NotFound`], not a broken stream.

use clawkit_runtime::paging::Failed;
use clawkit_runtime::{Fetched, Paged};
use serde_json::{Map, Value};

use super::client::{Client, MAX_SIZE};
use super::error::{Error, Flow, Reason};

/// One row of task data: field name to value, in the service's order.
pub type Row = Map<String, Value>;

/// A task's rows by offset: a `Stream` of [`Row`]s, and a builder until polled
/// (`.page_size(n)` 1 to 1000, default 1000; `.start_at(offset)` to resume; `.pages()`).
pub type DataByOffset = Paged<Row, Error, i64>;

/// One page of rows, with the offset it was read at and the offset of the next page.
pub type Page = clawkit_runtime::Page<Row, i64>;

impl Client {
    /// A task's data by offset: every row exactly once, in order, across token renewals and
    /// retries, 1000 rows a request (the most the service allows). The next page is requested as
    /// soon as a page arrives, while the caller works on it (`.prefetch(0)` waits until asked).
    /// The stream owns a client handle: it can be spawned onto a task.
    pub fn data_by_offset(&self, task: &str) -> DataByOffset {
        let client = self.clone();
        let task = task.to_string();
        let missing = task.clone();
        let throttle = self.inner.runtime.throttle();
        Paged::offsets("size", MAX_SIZE, move |offset, size| {
            let (client, task) = (client.clone(), task.clone());
            async move {
                let page = client
                    .read("reading data by offset", |api| {
                        api.get_data_by_offset()
                            .task_id(&task)
                            .offset(offset)
                            .size(
                                std::num::NonZeroU32::new(size)
                                    .unwrap_or(std::num::NonZeroU32::MIN),
                            )
                            .send()
                    })
                    .await?;
                Ok(Fetched {
                    items: page.data_list.into_iter().map(|r| r.0).collect(),
                    next: page.offset,
                    total: u64::try_from(page.total).ok(),
                })
            }
        })
        .throttle(throttle)
        .on_error(move |e, failed: Failed<'_, i64>| match e {
            Error::Api(mut api) if api.reason == Reason::NotFound && failed.delivered == 0 => {
                api.message = format!(
                    "{} (task {missing} does not exist: list task ids with \
                     Client::task_groups and Client::tasks)",
                    api.message
                );
                Error::Api(api)
            }
            e => Flow::Stream {
                resume_offset: *failed.at,
                source: Box::new(e),
            }
            .into(),
        })
    }
}
