//! CoreClaw: run scraper Workers, wait for them, stream their results.
//!
//! The whole workflow of CoreClaw's guide, checked against the Worker's live schema before a
//! cent is spent:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let sandbox = clawkit_sandbox::Sandbox::builder()
//! #     .run_duration(std::time::Duration::from_millis(200)).start().await?;
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

pub mod error;
pub mod input;
mod response;
pub mod results;
pub mod run;
pub mod webhook;
pub mod worker;

use std::sync::Arc;
use std::time::Duration;

use coreclaw_api::types;
use futures::StreamExt;
use futures::stream::BoxStream;
use rust_decimal::Decimal;
use secrecy::{ExposeSecret, SecretString};

pub use coreclaw_api::enums::RunStatus;
pub use error::{Error, StatusCode};
pub use input::{Input, InputBuilder, InputErrors, InputProblem, System};
pub use results::ExportFormat;
pub use run::{LogEntry, LogLevel, Run, RunLog, RunRecord, Start, WaitOptions};
pub use worker::{Property, PropertyType, SystemDefaults, Worker};

use crate::transport::{self, retry::RetryPolicy};
use response::Reply;

/// CoreClaw's production API.
pub const DEFAULT_BASE_URL: &str = "https://openapi.coreclaw.com";

/// A search result of the Worker store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreItem {
    /// Worker id.
    pub slug: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
}

/// The account's balance and traffic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Balance in USD, exact.
    pub balance: Decimal,
    /// Remaining traffic in bytes.
    pub traffic_bytes: u64,
    /// When the traffic expires (unix seconds), from `traffic_expiration_at` or the docs'
    /// `traffic_expires_at`.
    pub traffic_expires_at: Option<i64>,
}

/// Settings for a [`Client`].
#[derive(Clone)]
pub struct ClientBuilder {
    api_key: Option<SecretString>,
    base_url: String,
    timeout: Duration,
    connect_timeout: Duration,
    sync_timeout: Duration,
    retry: RetryPolicy,
    wait: WaitOptions,
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("api_key", &self.api_key.as_ref().map(|_| "[redacted]"))
            .field("base_url", &self.base_url)
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            api_key: None,
            base_url: DEFAULT_BASE_URL.to_string(),
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            sync_timeout: Duration::from_secs(330),
            retry: RetryPolicy::default(),
            wait: WaitOptions::default(),
        }
    }
}

impl ClientBuilder {
    /// The API key (the `api-key` header). Kept as a secret: never in `Debug`, logs or errors.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(SecretString::from(key.into()));
        self
    }

    /// The API's base URL (default [`DEFAULT_BASE_URL`]).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into().trim_end_matches('/').to_string();
        self
    }

    /// Timeout of one ordinary request (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Timeout of a synchronous run request, which CoreClaw holds up to 5 minutes (default 330 s).
    pub fn sync_timeout(mut self, timeout: Duration) -> Self {
        self.sync_timeout = timeout;
        self
    }

    /// How failed requests are retried (default: 1, 2, 4, 8, 16 s with jitter).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// How `Run::wait` polls by default.
    pub fn wait(mut self, options: WaitOptions) -> Self {
        self.wait = options;
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<Client, Error> {
        let key = self.api_key.ok_or_else(|| {
            Error::Config("no API key: call .api_key(..) or set CORECLAW_API_KEY".into())
        })?;
        if key.expose_secret().trim().is_empty() {
            return Err(Error::Config("the API key is empty".into()));
        }
        let url = reqwest::Url::parse(&self.base_url).map_err(|e| {
            Error::Config(format!("base URL `{}` is not a URL: {e}", self.base_url))
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Error::Config(format!(
                "base URL `{}` must be http or https",
                self.base_url
            )));
        }
        let headers =
            transport::sensitive_header("api-key", key.expose_secret()).map_err(Error::Config)?;
        let http = |timeout| {
            transport::http_client(headers.clone(), timeout, self.connect_timeout)
                .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))
        };
        let api = http(Some(self.timeout))?;
        let long = http(Some(self.sync_timeout))?;
        // Download URLs point at storage, not at CoreClaw: they never get the api-key.
        let download = transport::http_client(Default::default(), None, self.connect_timeout)
            .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))?;
        Ok(Client {
            inner: Arc::new(Inner {
                api: coreclaw_api::Client::new_with_client(&self.base_url, api),
                long: coreclaw_api::Client::new_with_client(&self.base_url, long),
                download,
                base_url: self.base_url,
                retry: self.retry,
                wait: self.wait,
            }),
        })
    }
}

pub(crate) struct Inner {
    pub(crate) api: coreclaw_api::Client,
    pub(crate) long: coreclaw_api::Client,
    pub(crate) download: reqwest::Client,
    pub(crate) base_url: String,
    pub(crate) retry: RetryPolicy,
    pub(crate) wait: WaitOptions,
}

/// A CoreClaw client. Cheap to clone: clones share one connection pool.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base_url)
            .field("api_key", &"[redacted]")
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Settings for a new client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client from `CORECLAW_API_KEY` and, optionally, `CORECLAW_BASE_URL`.
    pub fn from_env() -> Result<Client, Error> {
        let key = std::env::var("CORECLAW_API_KEY")
            .map_err(|_| Error::Config("CORECLAW_API_KEY is not set".into()))?;
        let mut builder = Client::builder().api_key(key);
        if let Ok(url) = std::env::var("CORECLAW_BASE_URL") {
            builder = builder.base_url(url);
        }
        builder.build()
    }

    /// The base URL in use.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// Runs an idempotent request with the retry policy.
    pub(crate) async fn read<R: Reply, F, Fut>(
        &self,
        what: &str,
        request: F,
    ) -> Result<R::Data, Error>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = response::Sent<R>>,
    {
        transport::retry::retry(&self.inner.retry, what, || async {
            response::open(request().await).await
        })
        .await
    }

    /// Runs a request that creates something (a run): retried only when the service certainly did
    /// nothing (a rate limit, or a connection that was never made), so a retry never pays twice.
    pub(crate) async fn create<R: Reply, F, Fut>(
        &self,
        what: &str,
        request: F,
    ) -> Result<R::Data, Error>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = response::Sent<R>>,
    {
        transport::retry::retry_if(
            &self.inner.retry,
            what,
            || async { response::open(request().await).await },
            Error::nothing_was_done,
        )
        .await
    }

    /// Searches the Worker store (no API key needed).
    pub async fn search(&self, query: &str, limit: u64) -> Result<Vec<StoreItem>, Error> {
        if query.trim().is_empty() {
            return Err(Error::InvalidParams {
                message: "search: must not be empty".into(),
            });
        }
        let limit = std::num::NonZeroU64::new(limit.max(1)).unwrap_or(std::num::NonZeroU64::MIN);
        let data: types::StoreSearchData = self
            .read("searching the store", || {
                self.inner
                    .api
                    .search_store()
                    .search(query)
                    .limit(limit)
                    .send()
            })
            .await?;
        Ok(data
            .scraper
            .into_iter()
            .map(|s| StoreItem {
                slug: s.slug,
                title: s.title,
                description: s.description,
            })
            .collect())
    }

    /// Reads a Worker's live contract: exact version, readme, system defaults and input fields.
    pub async fn worker(&self, slug: &str) -> Result<Worker, Error> {
        let data = self
            .read("reading the Worker", || {
                self.inner.api.get_scraper().slug(slug).send()
            })
            .await?;
        Ok(Worker::from_detail(slug, data))
    }

    /// Account balance (exact decimal), traffic and its expiry.
    pub async fn account(&self) -> Result<Account, Error> {
        let data: types::AccountInfoData = self
            .read("reading the account", || {
                self.inner
                    .api
                    .get_account_info()
                    .body(types::GetAccountInfoBody::default())
                    .send()
            })
            .await?;
        let balance = data
            .balance
            .trim()
            .parse::<Decimal>()
            .map_err(|e| Error::Decode {
                path: "data.balance".into(),
                message: format!("`{}` is not a decimal: {e}", data.balance),
            })?;
        let traffic_bytes = match &data.traffic {
            types::AccountInfoDataTraffic::Integer(n) => u64::try_from(*n).unwrap_or(0),
            types::AccountInfoDataTraffic::String(s) => {
                s.parse::<u64>().map_err(|e| Error::Decode {
                    path: "data.traffic".into(),
                    message: format!("`{}` is not a byte count: {e}", s.as_str()),
                })?
            }
        };
        Ok(Account {
            balance,
            traffic_bytes,
            traffic_expires_at: data.traffic_expiration_at.or(data.traffic_expires_at),
        })
    }

    /// A handle on an existing run (for example one whose wait timed out).
    pub fn run(&self, slug: impl Into<String>) -> Run {
        Run::new(self.clone(), slug.into())
    }

    /// Starts a run of `worker` with a validated `input`. Await it as is, or set a completion
    /// webhook first: `client.start(&worker, input).callback_url(url).await`.
    pub fn start<'a>(&'a self, worker: &'a Worker, input: Input) -> Start<'a> {
        Start::new(self, worker, input, true)
    }

    /// Runs synchronously (`is_async: false`): CoreClaw holds the request until the run ends, at
    /// most 5 minutes; past that, this falls back to waiting. Returns the final record.
    pub async fn run_sync(&self, worker: &Worker, input: Input) -> Result<(Run, RunRecord), Error> {
        let run = Start::new(self, worker, input, false).await?;
        let record = run.wait().await?;
        Ok((run, record))
    }

    /// Start and wait: the final record of a new run.
    pub async fn call(&self, worker: &Worker, input: Input) -> Result<(Run, RunRecord), Error> {
        let run = self.start(worker, input).await?;
        let record = run.wait().await?;
        Ok((run, record))
    }

    /// Runs a saved task template. CoreClaw requires a `callback_url` here.
    pub async fn run_task(&self, task_slug: &str, callback_url: &str) -> Result<Run, Error> {
        let body = types::TaskRunRequest {
            task_slug: task_slug.to_string(),
            callback_url: callback_url.to_string(),
        };
        let data: types::RunSlugData = self
            .create("running the task", || {
                self.inner.api.run_task().body(body.clone()).send()
            })
            .await?;
        Ok(self.run(data.run_slug))
    }

    /// Run history, newest first, as a stream; filter by Worker and status (`None`: all).
    pub fn runs(
        &self,
        worker: Option<&str>,
        status: Option<RunStatus>,
    ) -> BoxStream<'_, Result<RunRecord, Error>> {
        let worker = worker.map(str::to_string);
        transport::paging::items(50, 0, move |page, size| {
            let worker = worker.clone();
            async move {
                let body = types::RunListRequest {
                    page: None,
                    page_index: std::num::NonZeroU64::new(page)
                        .unwrap_or(std::num::NonZeroU64::MIN),
                    page_size: std::num::NonZeroU64::new(size).unwrap_or(std::num::NonZeroU64::MIN),
                    scraper_slug: worker,
                    status: Some(
                        types::RunListRequestStatus::try_from(
                            status.map(|s| s.code()).unwrap_or(0),
                        )
                        .map_err(|e| Error::Config(format!("status filter: {e}")))?,
                    ),
                };
                let data: types::RunListData = self
                    .read("listing runs", || {
                        self.inner.api.list_runs().body(body.clone()).send()
                    })
                    .await?;
                Ok(data.list.into_iter().map(RunRecord::from).collect())
            }
        })
        .boxed()
    }
}
