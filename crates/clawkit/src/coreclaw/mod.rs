//! CoreClaw: run scraper Workers, wait for them, stream their results.
//!
//! The whole workflow of CoreClaw's guide, checked against the Worker's live schema before a
//! cent is spent:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let sandbox = clawkit_sandbox::Sandbox::builder()
//! #     .configure(|c: &mut clawkit_sandbox::coreclaw::Config| c.run_duration = std::time::Duration::from_millis(200)).start().await?;
//! # let base_url = sandbox.base_url(clawkit_sandbox::Vendor::Coreclaw);
//! use clawkit::coreclaw::{Client, ExportFormat};
//! use futures::TryStreamExt;
//!
//! let client = Client::builder().api_key("sandbox-key").base_url(&base_url).build()?;
//!
//! // Read the Worker's live schema, then build and validate the input from it.
//! let worker = client.worker("01KNXSHE0Y7DZKF1N8B1EMFX35").await?;
//! let input = worker
//!     .input()
//!     .set("urls", [serde_json::json!({"url": "https://www.amazon.com/dp/B0CHHSFMRL"})])
//!     .build()?;
//!
//! // Start the run and wait for it.
//! let run = client.start(&worker, input).await?;
//! let record = run.wait().await?;
//! assert!(record.is_success());
//!
//! // Stream the results, or export them to any AsyncWrite.
//! let items: Vec<serde_json::Map<String, serde_json::Value>> = run.items().try_collect().await?;
//! assert_eq!(items.len(), 1);
//! let mut csv = Vec::new();
//! run.export(ExportFormat::Csv, &mut csv).await?;
//!
//! println!("balance left: {} USD", client.account().await?.balance);
//! # Ok(())
//! # }
//! ```
//!
//! The input is checked by [`InputBuilder`]; how it checks (type names, suggestions, the
//! validator, memory sizes) is not API:
//!
//! ```compile_fail
//! let _ = clawkit::coreclaw::input::suggestions("URL", ["urls"]);
//! ```

mod api;
mod client;
mod envelope;
pub mod error;
mod input;
mod model;
pub mod results;
pub mod run;
mod tasks;
mod v1;
mod v2;
pub mod webhook;
pub mod worker;

pub use client::{Client, ClientBuilder, DEFAULT_BASE_URL, Options};
pub use error::{ApiError, Error, Flow, InputErrors, InputProblem, Reason, StatusCode};
pub use input::{Input, InputBuilder, System};
pub use model::{
    Account, ApiVersion, ExportFormat, LogEntry, LogLevel, RunLog, RunRecord, RunStatus, StoreItem,
    WaitOptions,
};
pub use run::{Run, Start, SyncRun};
pub use tasks::{NewTask, ProxyRegion, Schedule, Task, TaskSummary, TaskUpdate};
pub use worker::{Property, PropertyType, SystemDefaults, Worker};

/// The generated types of CoreClaw's v1 API (`coreclaw-api`), for what the vocabulary above does
/// not wrap; v2's are [`types_v2`].
pub use coreclaw_api::types;
/// The generated types of CoreClaw's v2 API (`coreclaw-v2-api`).
pub use coreclaw_v2_api::types as types_v2;
