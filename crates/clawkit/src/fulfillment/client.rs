//! The fulfillment client: its settings, how it is built (signed, with tokens), and how its calls
//! read answers.

use std::sync::Arc;
use std::time::Duration;

use clawkit_runtime::reply::Sent;
use clawkit_runtime::{Auth, ClientConfig, Runtime, Safety, TokenSource};
use openclaw_fulfillment_api::types;
use secrecy::ExposeSecret;

use crate::call::{Calls, Plain};
use crate::client::Optionally;

use super::error::{Error, Reason, refusal};
use super::signing::RequestSigner;
use super::token::AppGrant;

/// The setters of a list filter: each sets one optional field of the same name.
macro_rules! filter_setters {
    ($($(#[$doc:meta])* $field:ident: $ty:ty),* $(,)?) => {
        $(
            $(#[$doc])*
            pub fn $field(mut self, value: $ty) -> Self {
                self.$field = Some(value.into());
                self
            }
        )*
    };
}
pub(super) use filter_setters;

/// The production API (the sandbox is `https://api-sandbox.openclaw.com`).
pub const DEFAULT_BASE_URL: &str = "https://api.openclaw.com";

/// The operations the service counts as order queries (at most 10 per second).
pub const ORDER_QUERIES: &[&str] = &["list_orders", "get_order"];

/// Order queries are spaced `1 s x 1.03 / limit` apart (9.7 a second for 10): evenly spaced
/// queries arrive with network jitter, and at exactly the limit two of them a few milliseconds
/// early would put 11 in one second of the server's window.
const JITTER_MARGIN: Duration = Duration::from_millis(1030);

/// The largest page (`limit`).
const MAX_PAGE: u32 = 100;

/// The fulfillment client's own settings.
#[derive(Debug, Clone)]
pub struct Options {
    order_queries_per_second: u32,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            order_queries_per_second: 10,
        }
    }
}

/// OpenClaw fulfillment for the shared [`crate::ClientBuilder`]: a signed client with tokens
/// from the app's credentials, `OPENCLAW_FULFILLMENT_*` environment variables.
fn build(config: ClientConfig, options: Options) -> Result<Client, Error> {
    let (client_id, client_secret) =
        config.client_credentials_or_missing("the app's credentials", "app")?;
    let base_url = config.base_url_or(DEFAULT_BASE_URL)?;
    let base =
        reqwest::Url::parse(&base_url).map_err(|e| clawkit_runtime::ConfigError::Invalid {
            field: "base URL".into(),
            reason: e.to_string(),
        })?;
    let http = config.http_client()?;
    let timeout = config.timeout_or(Duration::from_secs(30));
    let signer = || {
        RequestSigner::new(
            &client_id,
            client_secret.expose_secret().to_string().into(),
            base.clone(),
        )
        .map_err(|e| Error::InvalidArgument(e.0))
    };
    // The token calls are signed too, but carry no bearer token.
    let unauthenticated = Runtime::builder()
        .signer(signer()?)
        .strict_path_encoding()
        .retry(config.retry_policy())
        .timeout(timeout)
        .build();
    let grant = AppGrant {
        api: openclaw_fulfillment_api::Client::new_with_client(
            &base_url,
            http.clone(),
            unauthenticated.clone(),
        ),
        client_id: client_id.clone(),
        client_secret: client_secret.clone(),
    };
    let per_second = options.order_queries_per_second.max(1);
    // The order-query limit and the token, shared with every process on the same state store.
    let state = config.shared(
        <Client as crate::client::Service>::NAME,
        &base_url,
        &client_id,
        &[client_secret.expose_secret().as_bytes()],
    )?;
    let runtime = Runtime::builder()
        .optionally(state, |b, s| b.state(s))
        .auth(Auth::Token(TokenSource::new(grant)))
        .signer(signer()?)
        .share_clock(&unauthenticated)
        .strict_path_encoding()
        .limit_operations(ORDER_QUERIES, JITTER_MARGIN / per_second, 1)
        .retry(config.retry_policy())
        .timeout(timeout)
        .build();
    let api =
        openclaw_fulfillment_api::Client::new_with_client(&base_url, http.clone(), runtime.clone());
    Ok(Client {
        inner: Arc::new(Inner {
            api,
            runtime,
            base_url,
            files: http,
        }),
    })
}

crate::call::service!(Client: "openclaw-fulfillment", "OpenClaw fulfillment", "OPENCLAW_FULFILLMENT", Options, Reason, build);

impl ClientBuilder {
    /// The app's `client_id` and `client_secret` (开发者中心). The secret signs every request and
    /// is never in `Debug`, logs or errors.
    pub fn app(self, client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        self.config(|c| c.client_credentials(client_id, client_secret))
    }

    /// Order queries allowed per second on this client (default 10, the service's limit). Lower
    /// it when several processes share one app.
    pub fn order_queries_per_second(mut self, n: u32) -> Self {
        self.options.order_queries_per_second = n;
        self
    }
}

/// Settings for a [`Client`] (see [`crate::ClientBuilder`] for the shared ones).
pub type ClientBuilder = crate::ClientBuilder<Client>;

pub(super) struct Inner {
    pub(super) api: openclaw_fulfillment_api::Client,
    pub(super) runtime: Runtime,
    pub(super) base_url: String,
    /// For label files: a plain client, never the API's credentials.
    pub(super) files: reqwest::Client,
}

/// An OpenClaw fulfillment client. Cheap to clone: clones share the token, the clock, the
/// order-query limit and the connection pool.
#[derive(Clone)]
pub struct Client {
    pub(super) inner: Arc<Inner>,
}

// Calls are signed, authorized and limited by the runtime; error bodies are [`ApiError`]s.
crate::call::calls!(Client.inner: Reason, openclaw_fulfillment_api::Client, types::Error, Plain, refusal);

impl Client {
    /// The server's clock minus this machine's, as learned from its `Date` headers (0 until a
    /// skew of more than 2 s is seen).
    pub fn clock_skew(&self) -> chrono::TimeDelta {
        chrono::TimeDelta::milliseconds(self.inner.runtime.clock().skew_ms())
    }

    /// A read (retried on any transient failure) of the generated client, through the runtime.
    pub(super) async fn read<'a, T, F, Fut>(&'a self, what: &str, request: F) -> Result<T, Error>
    where
        T: serde::de::DeserializeOwned,
        F: Fn(&'a openclaw_fulfillment_api::Client) -> Fut,
        Fut: std::future::Future<Output = Sent<T, types::Error>> + 'a,
    {
        self.call(what, Safety::Idempotent, request).await
    }

    /// A write that may create something: repeated only when the failure proves nothing was done.
    pub(super) async fn write<'a, T, F, Fut>(&'a self, what: &str, request: F) -> Result<T, Error>
    where
        T: serde::de::DeserializeOwned,
        F: Fn(&'a openclaw_fulfillment_api::Client) -> Fut,
        Fut: std::future::Future<Output = Sent<T, types::Error>> + 'a,
    {
        self.call(what, Safety::Creates, request).await
    }

    /// Settings for a new client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client from `OPENCLAW_FULFILLMENT_CLIENT_ID` and `OPENCLAW_FULFILLMENT_CLIENT_SECRET`,
    /// optionally `OPENCLAW_FULFILLMENT_BASE_URL` and `OPENCLAW_FULFILLMENT_TIMEOUT` (seconds).
    pub fn from_env() -> Result<Client, Error> {
        ClientBuilder::from_env()?.build()
    }
}

/// A page size for the generated client (1 to 100).
fn limit(size: u32) -> std::num::NonZeroU64 {
    std::num::NonZeroU64::new(u64::from(size.clamp(1, MAX_PAGE)))
        .unwrap_or(std::num::NonZeroU64::MIN)
}

/// A cursor page of the generated client as the runtime's [`clawkit_runtime::Fetched`]. A page
/// that says there is more but gives no cursor is an error, never a silent end.
pub(super) fn fetched<T>(
    items: Vec<T>,
    has_more: bool,
    next: Option<String>,
) -> Result<clawkit_runtime::Fetched<T, Option<String>>, Error> {
    let next = match (has_more, next) {
        (false, _) => None,
        (true, Some(cursor)) if !cursor.is_empty() => Some(cursor),
        (true, _) => {
            return Err(Error::Decode {
                path: "next_cursor".into(),
                message: "`has_more` is true but no `next_cursor` was given".into(),
            });
        }
    };
    Ok(clawkit_runtime::Fetched {
        items,
        next,
        total: None,
    })
}

/// A cursor stream of pages of up to 100 items: `fetch(client, cursor, limit)` reads one page.
pub(super) fn cursor_stream<T, F, Fut>(
    client: &Client,
    fetch: F,
) -> clawkit_runtime::Paged<T, Error, Option<String>>
where
    T: Send + 'static,
    F: Fn(Client, Option<String>, std::num::NonZeroU64) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<clawkit_runtime::Fetched<T, Option<String>>, Error>>
        + Send
        + 'static,
{
    let throttle = client.inner.runtime.throttle();
    let client = client.clone();
    clawkit_runtime::Paged::cursors("limit", MAX_PAGE, move |cursor, size| {
        fetch(client.clone(), cursor, limit(size))
    })
    .throttle(throttle)
}
