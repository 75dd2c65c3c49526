//! The bots.win client: its settings, how it is built, and how its calls read answers.

use std::sync::Arc;
use std::time::Duration;

use clawkit_runtime::{Auth, ClientConfig, Runtime, Safety};
use secrecy::SecretString;

use crate::call::{Calls, Plain};
use crate::client::Optionally;

use super::error::{Error, Flow, Reason, refusal};
use super::models::Estimate;

use botswin_api::types;

/// The production API (its root is also the browser WebSocket endpoint, `wss://cloud.bots.win`).
pub const DEFAULT_BASE_URL: &str = "https://cloud.bots.win";

/// The bots.win client's own settings.
#[derive(Debug, Clone)]
pub struct Options {
    pub(super) idle: Option<Duration>,
    pub(super) history_window: Duration,
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
fn build(config: ClientConfig, options: Options) -> Result<Client, Error> {
    let token = config.token_or_missing("the user token", "token")?;
    let base_url = config.base_url_or(DEFAULT_BASE_URL)?;
    let browser = browser_endpoint(&base_url)?;
    // The backoff the service asks for, shared with every process on the same state store (the
    // account is known by its token, hashed).
    let state =
        config.shared_by_key(<Client as crate::client::Service>::NAME, &base_url, &token)?;
    let runtime = Runtime::builder()
        .optionally(state, |b, s| b.state(s))
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

crate::call::service!(Client: "botswin", "bots.win", "BOTSWIN", Options, Reason, build);

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

pub(super) struct Inner {
    pub(super) api: botswin_api::Client,
    pub(super) runtime: Runtime,
    pub(super) base_url: String,
    /// The browser WebSocket endpoint, without the token.
    pub(super) browser: reqwest::Url,
    pub(super) token: SecretString,
    pub(super) options: Options,
}

/// A bots.win client. Cheap to clone: clones share the connection pool and settings. `Debug`
/// shows the base URL, never the token.
#[derive(Clone)]
pub struct Client {
    pub(super) inner: Arc<Inner>,
}

// Calls go through the runtime (bearer token, retries); error bodies are [`ApiError`]s.
crate::call::calls!(Client.inner: Reason, botswin_api::Client, types::Error, Plain, refusal);

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

    /// The preflight before a job: the estimate for `minutes`, or [`Flow::InsufficientQuota`]
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
            Some(remaining) if remaining + 1e-9 < estimate.units => Err(Flow::InsufficientQuota {
                minutes,
                rate: estimate.rate,
                needed: estimate.units,
                remaining,
            }
            .into()),
            _ => Ok(estimate),
        }
    }
}

/// The browser endpoint of an API base URL: the same host and path, `ws`/`wss` for `http`/`https`
/// (`https://cloud.bots.win` → `wss://cloud.bots.win/`).
fn browser_endpoint(base_url: &str) -> Result<reqwest::Url, clawkit_runtime::ConfigError> {
    let invalid = |reason: String| clawkit_runtime::ConfigError::Invalid {
        field: "base URL".into(),
        reason,
    };
    let mut url = reqwest::Url::parse(base_url).map_err(|e| invalid(e.to_string()))?;
    let scheme = if url.scheme() == "https" { "wss" } else { "ws" };
    url.set_scheme(scheme)
        .map_err(|()| invalid(format!("`{base_url}` has no WebSocket form")))?;
    url.set_query(None);
    url.set_fragment(None);
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_browser_endpoint_follows_the_base_url() {
        assert_eq!(
            browser_endpoint("https://cloud.bots.win").unwrap().as_str(),
            "wss://cloud.bots.win/"
        );
        assert_eq!(
            browser_endpoint("http://127.0.0.1:8787/botswin")
                .unwrap()
                .as_str(),
            "ws://127.0.0.1:8787/botswin"
        );
    }
}
