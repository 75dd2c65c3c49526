//! OpenClaw DevOps API v2: users, projects and tasks, AI agents, pipelines and builds,
//! deployments, test runs and signed webhooks.
//!
//! - **Tokens.** `POST /auth/token` with the `client_credentials` grant (or `password`, for a
//!   user), fetched lazily, renewed before expiry through `/auth/refresh` (whose refresh token
//!   works once), one renewal in flight however many tasks call; a 401 renews once and replays.
//! - **Errors.** The service's envelope as [`ApiError`]: its [`Reason`] (unknown codes kept),
//!   message, the 422 field errors as a list and the `requestId` for support.
//! - **Rate limits**, the way GitHub documents them: `Retry-After` is obeyed; when
//!   `X-RateLimit-Remaining` runs low requests are paced at the bucket's refill rate, and at 0
//!   they wait for the next token; writes are spaced apart; at most the tier's concurrent
//!   connections are open; the hourly quota is kept client-side. Retries (429, 503, broken
//!   connections) only where safe: GET, PUT, DELETE, never a POST that creates unless the answer
//!   proves nothing was done.
//! - **Lists** are `Stream`s ([`Paged`](crate::Paged)): once the first page gives the total, the
//!   next pages are read ahead, in order, through the same limits.
//! - **Waits** ([`Activation::wait`], [`BuildRef::wait`], [`DeploymentRef::wait`],
//!   [`TestRunRef::wait`]) poll with a growing interval, report progress to a callback or as a
//!   stream, and keep the id when they time out.
//! - **Webhooks** ([`webhook`]): typed events for the eight names, signatures checked against
//!   several secrets at once, a timestamp tolerance, de-duplication by event id.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let sandbox = clawkit_sandbox::Sandbox::builder().configure(|c: &mut clawkit_sandbox::devops::Config| c.job_time = std::time::Duration::from_millis(300)).start().await?;
//! # let base_url = sandbox.base_url(clawkit_sandbox::Vendor::OpenclawDevops);
//! use clawkit::devops::{Client, UserFilter, types::Role};
//! use futures::TryStreamExt;
//!
//! let client = Client::builder()
//!     .client_credentials("sandbox", "sandbox-secret")
//!     .base_url(&base_url)
//!     .build()?;
//! let developers: Vec<_> = client.users(UserFilter::new().role(Role::Developer)).try_collect().await?;
//! assert!(developers.iter().all(|u| u.role == Role::Developer));
//!
//! let build = client.trigger_pipeline("pipe_ecom_main", Default::default()).await?;
//! let done = build.wait().polling(clawkit::runtime::wait::Polling::fast())
//!     .on_progress(|b| println!("{} {:?}", b.status, b.current_stage))
//!     .await?;
//! assert_eq!(done.status, "success");
//! # Ok(())
//! # }
//! ```

mod client;
pub mod error;
mod jobs;
mod projects;
mod token;
mod users;
pub mod webhook;

pub use client::{Client, ClientBuilder, DEFAULT_BASE_URL, Options, Tier};
pub use error::{ApiError, Error, Flow, Reason};
pub use jobs::{Activation, BuildRef, DeploymentRef, TestRunRef, Wait};
pub use openclaw_devops_api::types;
pub use projects::{NewProject, NewTask, TaskFilter};
pub use users::{NewUser, UserFilter, UserUpdate};
