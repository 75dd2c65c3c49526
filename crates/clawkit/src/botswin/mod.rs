//! bots.win BotCloud: cloud browsers driven over CDP, billed 1 quota unit (times the plan's
//! effective rate) per started minute, with quota, usage, session history and User Data
//! containers (persistent cookies and localStorage).
//!
//! - **Preflight and cost** ([`Client::ensure_quota`], [`Estimate`]): refuse a job the quota cannot
//!   pay before it starts, with a typed [`Error::InsufficientQuota`].
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

pub mod error;
mod history;
mod models;
mod session;
mod user_data;

use std::sync::Arc;
use std::time::Duration;

use clawkit_runtime::reply::Head;
use clawkit_runtime::{Auth, ClientConfig, Runtime, Safety};
use secrecy::SecretString;

use crate::client::Calls;

pub use botswin_api::types;
pub use error::{ApiError, Error, Reason};
pub use history::HistoryQuery;
pub use models::{DisconnectReason, Estimate, SessionRecord};
pub use session::{Session, SessionEnd, SessionOptions};
pub use user_data::UserDataGuard;

/// The production API (its root is also the browser WebSocket endpoint, `wss://cloud.bots.win`).
pub const DEFAULT_BASE_URL: &str = "https://cloud.bots.win";

/// The bots.win client's own settings.
#[derive(Debug, Clone)]
pub struct Options {
    idle: Option<Duration>,
    history_window: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            idle: Some(Duration::from_secs(120)),
            history_window: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

/// bots.win for the shared [`crate::ClientBuilder`]: the user token as a bearer token (and as
/// the browser endpoint's `token`), `BOTSWIN_*` environment variables.
impl crate::client::Service for Client {
    type Error = Error;
    type Options = Options;
    const ENV_PREFIX: &'static str = "BOTSWIN";

    fn build(config: ClientConfig, options: Options) -> Result<Client, Error> {
        let token = config.token_or_missing("the user token", "token")?;
        let base_url = config.base_url_or(DEFAULT_BASE_URL)?;
        let browser = session::browser_endpoint(&base_url)?;
        let runtime = Runtime::builder()
            .auth(Auth::bearer(&token)?)
            .retry(config.retry_policy())
            .timeout(config.timeout_or(Duration::from_secs(30)))
            .build();
        let api =
            botswin_api::Client::new_with_client(&base_url, config.http_client()?, runtime.clone());
        Ok(Client {
            inner: Arc::new(Inner {
                api,
                runtime,
                base_url,
                browser,
                token,
                options,
            }),
        })
    }
}

/// Settings for a [`Client`] (see [`crate::ClientBuilder`] for the shared ones).
pub type ClientBuilder = crate::ClientBuilder<Client>;

impl ClientBuilder {
    /// The user token from the bots.win dashboard. Never in `Debug`, logs or errors.
    pub fn token(self, token: impl Into<String>) -> Self {
        self.config(|c| c.token(token))
    }

    /// End a browser session when no CDP traffic passed for this long (default 2 minutes, under
    /// the server's 5). `Duration::ZERO` turns the idle guard off.
    pub fn session_idle(mut self, idle: Duration) -> Self {
        self.options.idle = (!idle.is_zero()).then_some(idle);
        self
    }

    /// How much of a history range one request covers (default 7 days).
    pub fn history_window(mut self, window: Duration) -> Self {
        self.options.history_window = window;
        self
    }
}

struct Inner {
    api: botswin_api::Client,
    runtime: Runtime,
    base_url: String,
    /// The browser WebSocket endpoint, without the token.
    browser: reqwest::Url,
    token: SecretString,
    options: Options,
}

/// A bots.win client. Cheap to clone: clones share the connection pool and settings. `Debug`
/// shows the base URL, never the token.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

/// Calls go through the runtime (bearer token, retries); error bodies are [`ApiError`]s.
impl Calls for Client {
    type Api = botswin_api::Client;
    type Body = types::Error;
    type Error = Error;

    fn runtime(&self) -> &Runtime {
        &self.inner.runtime
    }

    fn api(&self) -> &botswin_api::Client {
        &self.inner.api
    }

    fn error(head: &Head, body: types::Error) -> Error {
        ApiError::from_body(head.status, body, head.retry_after()).into()
    }
}

impl Client {
    /// Settings for a new client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client from `BOTSWIN_TOKEN`, optionally `BOTSWIN_BASE_URL` and `BOTSWIN_TIMEOUT`
    /// (seconds).
    pub fn from_env() -> Result<Client, Error> {
        ClientBuilder::from_env()?.build()
    }

    /// `GET /api/quota`: remaining quota and the plan's pricing.
    pub async fn quota(&self) -> Result<types::Quota, Error> {
        self.call("get_quota", Safety::Idempotent, |api| {
            api.get_quota().send()
        })
        .await
    }

    /// `GET /api/usage`: sessions, billed minutes and live sessions.
    pub async fn usage(&self) -> Result<types::Usage, Error> {
        self.call("get_usage", Safety::Idempotent, |api| {
            api.get_usage().send()
        })
        .await
    }

    /// What `minutes` of one browser session cost at the current pricing, and what would remain.
    pub async fn estimate(&self, minutes: u32) -> Result<Estimate, Error> {
        Ok(Estimate::new(&self.quota().await?, minutes))
    }

    /// The preflight before a job: the estimate for `minutes`, or [`Error::InsufficientQuota`]
    /// when the remaining quota cannot pay them (nothing is started either way).
    pub async fn ensure_quota(&self, minutes: u32) -> Result<Estimate, Error> {
        if minutes == 0 {
            return Err(Error::InvalidArgument(
                "minutes: expected 1 or more (a session is billed per started minute), got 0"
                    .into(),
            ));
        }
        let estimate = self.estimate(minutes).await?;
        match estimate.remaining {
            Some(remaining) if remaining + 1e-9 < estimate.units => Err(Error::InsufficientQuota {
                minutes,
                rate: estimate.rate,
                needed: estimate.units,
                remaining,
            }),
            _ => Ok(estimate),
        }
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        crate::client::debug_client(f, &self.inner.base_url)
    }
}
