//! bots.win BotCloud: cloud browsers driven over CDP, billed 1 quota unit (times the plan's
//! effective rate) per started minute, with quota, usage, session history and User Data
//! containers (persistent cookies and localStorage).
//!
//! - **Preflight and cost** ([`Client::ensure_quota`], [`Estimate`]): refuse a job the quota cannot
//!   pay before it starts, with a typed [`Flow::InsufficientQuota`].
//! - **History** ([`Client::history`]): a `Stream` of [`SessionRecord`]s over a time range, read
//!   window by window so a long range is never one huge answer; every session exactly once.
//!   Disconnect reasons are a [`DisconnectReason`] that keeps values this version does not know.
//! - **Browser sessions that never leak minutes** ([`Client::open_session`], [`Session`]): the
//!   session's WebSocket is held by a local relay; your CDP client connects to
//!   [`Session::ws_url`]. Dropping the [`Session`] (a job that panics or returns early) ends the
//!   session with a Close frame at once, and an idle guard ends it when no CDP traffic passed for
//!   a while (a job that hangs), instead of billing until the server's 5-minute timeout.
//! - **User Data** ([`Client::temporary_user_data`], [`UserDataGuard`]): a container deleted when
//!   the guard is dropped, unless kept, once its session has released it.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let sandbox = clawkit_sandbox::Sandbox::builder().start().await?;
//! # let base_url = sandbox.base_url(clawkit_sandbox::Vendor::Botswin);
//! use clawkit::botswin::{Client, SessionOptions};
//!
//! let client = Client::builder().token("sandbox-token").base_url(&base_url).build()?;
//! let estimate = client.ensure_quota(10).await?; // fails before the job if 10 minutes cannot be paid
//! println!("10 minutes cost {} units, {:?} would remain", estimate.units, estimate.remaining_after());
//!
//! let session = client.open_session(SessionOptions::new()).await?;
//! // chromiumoxide: `let (browser, handler) = Browser::connect(session.ws_url()).await?;`
//! println!("CDP endpoint: {}", session.ws_url());
//! let end = session.close().await; // or drop it: the session ends either way
//! assert_eq!(end.reason, clawkit::botswin::DisconnectReason::ClientClosed);
//! # Ok(())
//! # }
//! ```

mod client;
pub mod error;
mod history;
mod models;
mod session;
mod user_data;

pub use botswin_api::types;
pub use client::{Client, ClientBuilder, DEFAULT_BASE_URL, Options};
pub use error::{ApiError, Error, Flow, Reason};
pub use history::HistoryQuery;
pub use models::{DisconnectReason, Estimate, SessionRecord};
pub use session::{Session, SessionEnd, SessionOptions};
pub use user_data::UserDataGuard;
