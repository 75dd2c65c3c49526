//! Bazhuayu (八爪鱼) DataAPI: task groups and tasks, data by offset, and an export pipeline that
//! never loses a row.
//!
//! - **Tokens.** Fetched lazily with the password grant, renewed before expiry; each refresh token
//!   is used at most once, even under many concurrent callers (one refresh in flight, the others
//!   wait for it); a failed refresh falls back to the password grant.
//! - **Rate limit.** The service's leaky bucket (20 requests/s, 5 s bucket) is matched by a
//!   client-side limiter shared by every clone of the client, so a busy program stays just under
//!   it; 429 and 503 are still retried with backoff.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let sandbox = clawkit_sandbox::Sandbox::builder().start().await?;
//! # let base_url = sandbox.base_url(clawkit_sandbox::Vendor::Bazhuayu);
//! use clawkit::bazhuayu::Client;
//! use futures::TryStreamExt;
//!
//! let client = Client::builder().credentials("sandbox", "sandbox").base_url(&base_url).build()?;
//! let group = &client.task_groups().await?[0];
//! let task = &client.tasks(group.id).await?[0];
//! let rows: Vec<_> = client.data_by_offset(&task.id).try_collect().await?;
//! println!("{} rows of {}", rows.len(), task.name);
//! # Ok(())
//! # }
//! ```

mod client;
pub mod data;
mod envelope;
pub mod error;
pub mod export;
mod token;

pub use bazhuayu_api::types;
/// A task's run status (paid add-on API).
pub use bazhuayu_api::types::TaskRunStatus;
pub use client::{Client, ClientBuilder, DEFAULT_BASE_URL, Options, Task, TaskGroup};
pub use data::{DataByOffset, Page, Row};
pub use error::{ApiError, Error, Flow, Reason};
#[cfg(feature = "object-store")]
pub use export::ObjectSink;
pub use export::{Batch, ExportNew, ExportReport, JsonlSink};
