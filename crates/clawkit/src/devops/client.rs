//! The DevOps client: its tier and settings, how it is built (tokens, pacing by the rate-limit
//! headers and the tier), and how its calls read answers.

use std::sync::Arc;
use std::time::Duration;

use clawkit_runtime::wait::Polling;
use clawkit_runtime::{Auth, ClientConfig, RateLimitHeaders, Runtime, TokenSource};
use openclaw_devops_api::types;

use crate::call::Plain;
use crate::client::Optionally;
use secrecy::ExposeSecret;

use super::error::{Error, Reason, refusal};
use super::token::{Credentials, DevopsGrant};

/// The service's production API.
pub const DEFAULT_BASE_URL: &str = "https://api.openclaw-cocode.system/v2";

/// The largest page (`pageSize`).
pub(crate) const MAX_PAGE_SIZE: u32 = 100;

/// The account's rate-limit tier (用户等级): requests per minute and per hour, and concurrent
/// connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tier {
    /// 60 a minute, 1,000 an hour, 5 at once.
    #[default]
    Free,
    /// 300 a minute, 10,000 an hour, 20 at once.
    Pro,
    /// 1,000 a minute, 50,000 an hour, 100 at once.
    Enterprise,
}

impl Tier {
    /// Requests per minute.
    pub fn per_minute(self) -> u32 {
        match self {
            Tier::Free => 60,
            Tier::Pro => 300,
            Tier::Enterprise => 1000,
        }
    }

    /// Requests per hour.
    pub fn per_hour(self) -> u32 {
        match self {
            Tier::Free => 1000,
            Tier::Pro => 10_000,
            Tier::Enterprise => 50_000,
        }
    }

    /// Concurrent connections.
    pub fn concurrent(self) -> usize {
        match self {
            Tier::Free => 5,
            Tier::Pro => 20,
            Tier::Enterprise => 100,
        }
    }
}

impl std::str::FromStr for Tier {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s.to_ascii_lowercase().as_str() {
            "free" => Ok(Tier::Free),
            "pro" => Ok(Tier::Pro),
            "enterprise" => Ok(Tier::Enterprise),
            other => Err(Error::InvalidArgument(format!(
                "tier: expected free, pro or enterprise, got {other:?}"
            ))),
        }
    }
}

/// The DevOps client's own settings.
#[derive(Debug, Clone)]
pub struct Options {
    tier: Tier,
    prefetch: usize,
    pub(super) polling: Polling,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            tier: Tier::default(),
            prefetch: clawkit_runtime::DEFAULT_PREFETCH,
            polling: Polling::default(),
        }
    }
}

/// OpenClaw DevOps for the shared [`crate::ClientBuilder`]: JWT tokens from the client
/// credentials (or a user's password), pacing by the rate-limit headers and the tier,
/// `OPENCLAW_DEVOPS_*` environment variables.
fn build(config: ClientConfig, options: Options) -> Result<Client, Error> {
    let (client_id, client_secret) =
        config.client_credentials_or_missing("client credentials", "client_credentials")?;
    let given = config.given();
    let user = given.username.clone().zip(given.password.clone());
    let base_url = config.base_url_or(DEFAULT_BASE_URL)?;
    let http = config.http_client()?;
    let timeout = config.timeout_or(Duration::from_secs(30));
    let tier = options.tier;
    let anonymous = Runtime::builder().timeout(timeout).build();
    let grant = DevopsGrant {
        api: openclaw_devops_api::Client::new_with_client(&base_url, http.clone(), anonymous),
        credentials: Credentials {
            client_id,
            client_secret,
            user,
        },
    };
    // The tier's limits, requests in flight and the token, shared with every process on the
    // same state store: per app, and per user when acting as one.
    let credentials = &grant.credentials;
    let identity = match &credentials.user {
        Some((user, _)) => format!("{}/{user}", credentials.client_id),
        None => credentials.client_id.clone(),
    };
    let mut secrets = vec![credentials.client_secret.expose_secret().as_bytes()];
    if let Some((_, password)) = &credentials.user {
        secrets.push(password.expose_secret().as_bytes());
    }
    let state = config.shared(
        <Client as crate::client::Service>::NAME,
        &base_url,
        &identity,
        &secrets,
    )?;
    let runtime = Runtime::builder()
        .optionally(state, |b, s| b.state(s))
        .auth(Auth::Token(TokenSource::new(grant)))
        .pace_by(RateLimitHeaders::x_ratelimit().refilled_over(Duration::from_secs(60)))
        // The hourly quota, which the headers do not show: a bucket of the whole hour.
        .rate_limit(Duration::from_secs(3600) / tier.per_hour(), tier.per_hour())
        .space_writes(Duration::from_secs(60) / tier.per_minute())
        .concurrency(tier.concurrent())
        .retry(config.retry_policy())
        .timeout(timeout)
        .build();
    let api = openclaw_devops_api::Client::new_with_client(&base_url, http, runtime.clone());
    let inner = Inner {
        options,
        base_url,
        runtime,
        api,
    };
    Ok(Client {
        inner: Arc::new(inner),
    })
}

crate::call::service!(Client: "openclaw-devops", "OpenClaw DevOps", "OPENCLAW_DEVOPS", Options, Reason, build);

impl ClientBuilder {
    /// The API client's id (API Key) and secret: the `client_credentials` grant. The secret is
    /// kept as a secret: never in `Debug`, logs or errors.
    pub fn client_credentials(
        self,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> Self {
        self.config(|c| c.client_credentials(client_id, client_secret))
    }

    /// Acts as a user: the `password` grant (with the client credentials, which it also needs).
    pub fn user(self, username: impl Into<String>, password: impl Into<String>) -> Self {
        self.config(|c| c.credentials(username, password))
    }

    /// The account's tier (default Free): sets the concurrency, the hourly quota and the spacing
    /// of writes. The per-minute budget is read from the answers' headers whatever the tier.
    pub fn tier(self, tier: Tier) -> Self {
        self.options(|o| o.tier = tier)
    }

    /// Pages read ahead by list streams once the total is known (default
    /// [`clawkit_runtime::DEFAULT_PREFETCH`]; 0 reads one page at a time, only when asked). Each
    /// stream also takes `.prefetch(n)` for itself.
    pub fn prefetch(self, pages: usize) -> Self {
        self.options(|o| o.prefetch = pages)
    }

    /// How waits poll (default every 1 s growing to 10 s, for at most an hour).
    pub fn polling(self, polling: Polling) -> Self {
        self.options(|o| o.polling = polling)
    }

    fn options(mut self, change: impl FnOnce(&mut Options)) -> Self {
        change(&mut self.options);
        self
    }
}

/// Settings for a [`Client`] (see [`crate::ClientBuilder`] for the shared ones).
pub type ClientBuilder = crate::ClientBuilder<Client>;

pub(super) struct Inner {
    pub(super) api: openclaw_devops_api::Client,
    pub(super) runtime: Runtime,
    pub(super) base_url: String,
    pub(super) options: Options,
}

/// An OpenClaw DevOps client. Cheap to clone: clones share the token, the limits and the
/// connection pool.
#[derive(Clone)]
pub struct Client {
    pub(super) inner: Arc<Inner>,
}

// Calls are authorized, paced and limited by the runtime; error bodies are [`ApiError`]s.
crate::call::calls!(Client.inner: Reason, openclaw_devops_api::Client, types::ErrorResponse, Plain, refusal);

impl Client {
    /// Settings for a new client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client from `OPENCLAW_DEVOPS_CLIENT_ID` and `OPENCLAW_DEVOPS_CLIENT_SECRET` (and, to act
    /// as a user, `OPENCLAW_DEVOPS_USERNAME` and `OPENCLAW_DEVOPS_PASSWORD`), optionally
    /// `OPENCLAW_DEVOPS_BASE_URL` and `OPENCLAW_DEVOPS_TIMEOUT` (seconds).
    pub fn from_env() -> Result<Client, Error> {
        ClientBuilder::from_env()?.build()
    }

    /// A list endpoint as a page stream of `pageSize` 100 that reads ahead once the total is
    /// known: `fetch(client, page, size)` reads one page, giving its items and `pagination`.
    pub(super) fn listed<T, F, Fut>(&self, fetch: F) -> clawkit_runtime::Paged<T, Error, u64>
    where
        T: Send + 'static,
        F: Fn(Client, u64, u32) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = Result<(Vec<T>, types::Pagination), Error>>
            + Send
            + 'static,
    {
        let client = self.clone();
        clawkit_runtime::Paged::numbered("pageSize", MAX_PAGE_SIZE, move |page, size| {
            let list = fetch(client.clone(), page, size);
            async move {
                let (items, pagination) = list.await?;
                Ok(clawkit_runtime::Fetched {
                    total: Some(pagination.total_items),
                    items,
                    next: (),
                })
            }
        })
        .prefetch(self.inner.options.prefetch)
        .throttle(self.inner.runtime.throttle())
    }
}

/// A page size argument, 1 to 100, as the generated client takes it.
pub(super) fn page_number(n: u64) -> std::num::NonZeroU64 {
    std::num::NonZeroU64::new(n).unwrap_or(std::num::NonZeroU64::MIN)
}
