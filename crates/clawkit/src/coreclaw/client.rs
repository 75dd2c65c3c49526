//! The CoreClaw client: its settings, how it is built (the API key as v1's `api-key` header and
//! as v2's Bearer token), and the calls that are the same through either API.

use std::sync::Arc;
use std::time::Duration;

use clawkit_runtime::{Auth, ClientConfig, Paged, Runtime};

use crate::client::Optionally;

use super::api::Api;
use super::error::{Error, Reason};
use super::model::{Account, ApiVersion, RunRecord, RunStatus, StoreItem, WaitOptions};
use super::v1::V1;
use super::v2::V2;
use super::worker::Worker;

/// CoreClaw's production API.
pub const DEFAULT_BASE_URL: &str = "https://openapi.coreclaw.com";

/// CoreClaw's own settings.
#[derive(Debug, Clone)]
pub struct Options {
    sync_timeout: Duration,
    wait: WaitOptions,
    api: ApiVersion,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            sync_timeout: Duration::from_secs(330),
            wait: WaitOptions::default(),
            api: ApiVersion::V1,
        }
    }
}

/// CoreClaw for the shared [`crate::ClientBuilder`]: the `api-key` header, a 30 s request
/// timeout, `CORECLAW_*` environment variables.
fn build(config: ClientConfig, options: Options) -> Result<Client, Error> {
    let key = config
        .given()
        .api_key
        .clone()
        .ok_or_else(|| config.missing("API key", "api_key", &["API_KEY"]))?;
    let base_url = config.base_url_or(DEFAULT_BASE_URL)?;
    let timeout = config.timeout_or(Duration::from_secs(30));
    // The backoff the service asks for, shared with every process on the same state store (the
    // account is known by its key, hashed).
    let state = config.shared_by_key(<Client as crate::client::Service>::NAME, &base_url, &key)?;
    let runtime = Runtime::builder()
        .optionally(state.clone(), |b, s| b.state(s))
        .auth(Auth::api_key("api-key", &key)?)
        .retry(config.retry_policy())
        .timeout(timeout)
        .build();
    // v2: the same key as a Bearer token, through the same retry and limits.
    let bearer = Runtime::builder()
        .optionally(state, |b, s| b.state(s))
        .auth(Auth::bearer(&key)?)
        .retry(config.retry_policy())
        .timeout(timeout)
        .build();
    let http = config.http_client()?;
    let v1 = |runtime: &Runtime| {
        coreclaw_api::Client::new_with_client(&base_url, http.clone(), runtime.clone())
    };
    let v2 = |runtime: &Runtime| {
        coreclaw_v2_api::Client::new_with_client(&base_url, http.clone(), runtime.clone())
    };
    let long = options.sync_timeout;
    let v2_api = V2 {
        api: v2(&bearer),
        long: v2(&bearer.with_timeout(long)),
        runtime: bearer.clone(),
    };
    let api: Arc<dyn Api> = match options.api {
        ApiVersion::V1 => Arc::new(V1 {
            api: v1(&runtime),
            long: v1(&runtime.with_timeout(long)),
            runtime: runtime.clone(),
        }),
        ApiVersion::V2 => Arc::new(v2_api.clone()),
    };
    Ok(Client {
        inner: Arc::new(Inner {
            api,
            v2: v2_api,
            http,
            runtime,
            base_url,
            wait: options.wait,
        }),
    })
}

crate::call::service!(Client: "coreclaw", "CoreClaw", "CORECLAW", Options, Reason, build);

/// Settings for a [`Client`] (see [`crate::ClientBuilder`] for the shared ones).
pub type ClientBuilder = crate::ClientBuilder<Client>;

impl ClientBuilder {
    /// The API key (the `api-key` header). Kept as a secret: never in `Debug`, logs or errors.
    pub fn api_key(self, key: impl Into<String>) -> Self {
        self.config(|c| c.api_key(key))
    }

    /// Timeout of a synchronous run request, which CoreClaw holds up to 5 minutes (default 330 s).
    pub fn sync_timeout(mut self, timeout: Duration) -> Self {
        self.options.sync_timeout = timeout;
        self
    }

    /// How `Run::wait` polls by default.
    pub fn wait(mut self, options: WaitOptions) -> Self {
        self.options.wait = options;
        self
    }

    /// Which API the shared vocabulary uses (default [`ApiVersion::V1`]).
    pub fn api(mut self, version: ApiVersion) -> Self {
        self.options.api = version;
        self
    }
}

pub(super) struct Inner {
    /// The API the shared vocabulary goes through.
    pub(super) api: Arc<dyn Api>,
    /// v2, for what only it has.
    pub(super) v2: V2,
    /// For download links: they point at storage, so no request hook and never the api-key.
    pub(super) http: reqwest::Client,
    /// The retry policy downloads follow.
    pub(super) runtime: Runtime,
    pub(super) base_url: String,
    pub(super) wait: WaitOptions,
}

/// A CoreClaw client. Cheap to clone: clones share one connection pool.
#[derive(Clone)]
pub struct Client {
    pub(super) inner: Arc<Inner>,
}

impl Client {
    /// Settings for a new client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client from `CORECLAW_API_KEY` and, optionally, `CORECLAW_BASE_URL` and
    /// `CORECLAW_TIMEOUT` (seconds).
    pub fn from_env() -> Result<Client, Error> {
        ClientBuilder::from_env()?.build()
    }

    /// The base URL in use.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// The API the shared vocabulary goes through.
    pub fn api_version(&self) -> ApiVersion {
        self.inner.api.version()
    }

    /// Searches the Worker store (no API key needed).
    pub async fn search(&self, query: &str, limit: u64) -> Result<Vec<StoreItem>, Error> {
        if query.trim().is_empty() {
            return Err(Error::InvalidArgument("search: must not be empty".into()));
        }
        self.inner.api.search(query, limit).await
    }

    /// Reads a Worker's live contract: exact version, readme, system defaults and input fields.
    pub async fn worker(&self, slug: &str) -> Result<Worker, Error> {
        self.inner.api.worker(slug).await
    }

    /// Account balance (exact decimal), traffic and its expiry.
    pub async fn account(&self) -> Result<Account, Error> {
        self.inner.api.account().await
    }

    /// Run history, newest first, as a stream (50 a page, the most CoreClaw allows); filter by
    /// Worker and status (`None`: all). Owns a client handle: it can be spawned.
    pub fn runs(
        &self,
        worker: Option<&str>,
        status: Option<RunStatus>,
    ) -> Paged<RunRecord, Error, u64> {
        self.inner.api.runs(worker, status)
    }
}
