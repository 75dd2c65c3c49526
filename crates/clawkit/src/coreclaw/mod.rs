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
//!
//! The input is checked by [`InputBuilder`]; how it checks (type names, suggestions, the
//! validator, memory sizes) is not API:
//!
//! ```compile_fail
//! let _ = clawkit::coreclaw::input::suggestions("URL", ["urls"]);
//! ```

mod envelope;
pub mod error;
mod input;
pub mod results;
pub mod run;
mod v2;
pub mod webhook;
pub mod worker;

use std::sync::Arc;
use std::time::Duration;

use clawkit_runtime::{Auth, ClientConfig, Fetched, Paged, Runtime, Safety};
use coreclaw_api::types;
use rust_decimal::Decimal;

pub use coreclaw_api::enums::RunStatus;
pub use error::{Error, StatusCode};
pub use input::{Input, InputBuilder, InputErrors, InputProblem, System};
pub use results::ExportFormat;
pub use run::{LogEntry, LogLevel, Run, RunLog, RunRecord, Start, SyncRun, WaitOptions};
pub use v2::{NewTask, ProxyRegion, Schedule, Task, TaskSummary, TaskUpdate};
pub use worker::{Property, PropertyType, SystemDefaults, Worker};

use envelope::Reply;

/// CoreClaw's production API.
pub const DEFAULT_BASE_URL: &str = "https://openapi.coreclaw.com";

/// The largest page of run history CoreClaw's docs allow (10, 20 or 50).
const MAX_HISTORY_PAGE: u32 = 50;

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
    /// Remaining traffic in bytes (v1; v2's account answer has no traffic: `None`).
    pub traffic_bytes: Option<u64>,
    /// When the traffic expires (unix seconds), from `traffic_expiration_at` or the docs'
    /// `traffic_expires_at` (v1).
    pub traffic_expires_at: Option<i64>,
    /// When the balance expires (unix seconds, v2's `balance_expiration_at`).
    pub balance_expires_at: Option<i64>,
}

/// Which of CoreClaw's APIs the shared vocabulary (Worker, Run, items, export, wait) goes through.
///
/// Both are served by the same host with the same API key (v1 as the `api-key` header, v2 as a
/// Bearer token) over the same account: a run started through one is read through the other.
/// v2-only capabilities (Worker tasks, last runs, proxy regions) use v2 whichever is chosen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ApiVersion {
    /// `/api/store`, `/api/scraper`, `/api/v1/...` (the guide's API).
    #[default]
    V1,
    /// `/api/v2/...` (CoreClaw's later document: offsets, Worker paths `owner~name`, a real JSON
    /// Schema per Worker).
    V2,
}

impl std::str::FromStr for ApiVersion {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        match s.trim().to_ascii_lowercase().as_str() {
            "v1" | "1" => Ok(ApiVersion::V1),
            "v2" | "2" => Ok(ApiVersion::V2),
            other => Err(Error::InvalidArgument(format!(
                "api: expected v1 or v2, got `{other}`"
            ))),
        }
    }
}

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
impl crate::client::Service for Client {
    type Error = Error;
    type Options = Options;
    const NAME: &'static str = "coreclaw";
    const TITLE: &'static str = "CoreClaw";
    const ENV_PREFIX: &'static str = "CORECLAW";

    fn build(config: ClientConfig, options: Options) -> Result<Client, Error> {
        let key = config
            .given()
            .api_key
            .clone()
            .ok_or_else(|| config.missing("API key", "api_key", &["API_KEY"]))?;
        let base_url = config.base_url_or(DEFAULT_BASE_URL)?;
        let runtime = Runtime::builder()
            .auth(Auth::api_key("api-key", &key)?)
            .retry(config.retry_policy())
            .timeout(config.timeout_or(Duration::from_secs(30)))
            .build();
        // v2: the same key as a Bearer token, through the same retry and limits.
        let bearer = Runtime::builder()
            .auth(Auth::bearer(&key)?)
            .retry(config.retry_policy())
            .timeout(config.timeout_or(Duration::from_secs(30)))
            .build();
        let http = config.http_client()?;
        let long = runtime.with_timeout(options.sync_timeout);
        let v2_long = bearer.with_timeout(options.sync_timeout);
        Ok(Client {
            inner: Arc::new(Inner {
                api: coreclaw_api::Client::new_with_client(
                    &base_url,
                    http.clone(),
                    runtime.clone(),
                ),
                long: coreclaw_api::Client::new_with_client(&base_url, http.clone(), long),
                v2: coreclaw_v2_api::Client::new_with_client(&base_url, http.clone(), bearer),
                v2_long: coreclaw_v2_api::Client::new_with_client(&base_url, http.clone(), v2_long),
                version: options.api,
                http,
                runtime,
                base_url,
                wait: options.wait,
            }),
        })
    }
}

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

pub(crate) struct Inner {
    pub(crate) api: coreclaw_api::Client,
    pub(crate) long: coreclaw_api::Client,
    pub(crate) v2: coreclaw_v2_api::Client,
    /// v2 with the synchronous-run timeout.
    pub(crate) v2_long: coreclaw_v2_api::Client,
    pub(crate) version: ApiVersion,
    /// For download links: they point at storage, so no request hook and never the api-key.
    pub(crate) http: reqwest::Client,
    pub(crate) runtime: Runtime,
    pub(crate) base_url: String,
    pub(crate) wait: WaitOptions,
}

/// Settings for a [`Client`] (see [`crate::ClientBuilder`] for the shared ones).
pub type ClientBuilder = crate::ClientBuilder<Client>;

/// A CoreClaw client. Cheap to clone: clones share one connection pool.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        crate::client::debug_client(f, &self.inner.base_url)
    }
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
        self.inner.version
    }

    pub(crate) fn is_v2(&self) -> bool {
        self.inner.version == ApiVersion::V2
    }

    /// Runs one request with the retry policy: `Safety::Creates` for a request that creates
    /// something (a run), retried only when the service certainly did nothing, so a retry never
    /// pays twice.
    pub(crate) async fn send<R: Reply, E: envelope::ErrorBody, F, Fut>(
        &self,
        what: &str,
        safety: Safety,
        request: F,
    ) -> Result<R::Data, Error>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = envelope::Sent<R, E>>,
    {
        self.inner
            .runtime
            .call(what, safety, || async {
                envelope::open(request().await).await
            })
            .await
    }

    /// Searches the Worker store (no API key needed).
    pub async fn search(&self, query: &str, limit: u64) -> Result<Vec<StoreItem>, Error> {
        if query.trim().is_empty() {
            return Err(Error::InvalidParams {
                message: "search: must not be empty".into(),
            });
        }
        if self.is_v2() {
            return v2::search(self, query, limit).await;
        }
        let limit = std::num::NonZeroU64::new(limit.max(1)).unwrap_or(std::num::NonZeroU64::MIN);
        let data: types::StoreSearchData = self
            .send("searching the store", Safety::Idempotent, || {
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
        if self.is_v2() {
            return v2::worker(self, slug).await;
        }
        let data = self
            .send("reading the Worker", Safety::Idempotent, || {
                self.inner.api.get_scraper().slug(slug).send()
            })
            .await?;
        Ok(Worker::from_detail(slug, data))
    }

    /// Account balance (exact decimal), traffic and its expiry.
    pub async fn account(&self) -> Result<Account, Error> {
        if self.is_v2() {
            return v2::account(self).await;
        }
        let data: types::AccountInfoData = self
            .send("reading the account", Safety::Idempotent, || {
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
            traffic_bytes: Some(traffic_bytes),
            traffic_expires_at: data.traffic_expiration_at.or(data.traffic_expires_at),
            balance_expires_at: None,
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
    /// most 5 minutes, and answers with its first results; past that, this falls back to
    /// waiting. Returns the final record and the results the answer carried.
    pub async fn run_sync(&self, worker: &Worker, input: Input) -> Result<SyncRun, Error> {
        let (run, page) = Start::new(self, worker, input, false).send_full().await?;
        let record = run.wait().await?;
        let page = page.unwrap_or_default();
        Ok(SyncRun {
            total: page.total.unwrap_or(record.results),
            items: page.items,
            run,
            record,
        })
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
            .send("running the task", Safety::Creates, || {
                self.inner.api.run_task().body(body.clone()).send()
            })
            .await?;
        Ok(self.run(data.run_slug))
    }

    /// Run history, newest first, as a stream (50 a page, the most CoreClaw allows); filter by
    /// Worker and status (`None`: all). Owns a client handle: it can be spawned.
    pub fn runs(
        &self,
        worker: Option<&str>,
        status: Option<RunStatus>,
    ) -> Paged<RunRecord, Error, u64> {
        if self.is_v2() {
            return v2::runs(self, worker, status);
        }
        let client = self.clone();
        let worker = worker.map(str::to_string);
        let status = types::RunListRequestStatus::try_from(status.map(|s| s.code()).unwrap_or(0))
            .map_err(|e| e.to_string());
        Paged::numbered("page_size", MAX_HISTORY_PAGE, move |page, size| {
            let client = client.clone();
            let body = status.clone().map(|status| types::RunListRequest {
                page: None,
                page_index: std::num::NonZeroU64::new(page).unwrap_or(std::num::NonZeroU64::MIN),
                page_size: std::num::NonZeroU64::new(u64::from(size))
                    .unwrap_or(std::num::NonZeroU64::MIN),
                scraper_slug: worker.clone(),
                status: Some(status),
            });
            async move {
                let body = body.map_err(|e| Error::InvalidArgument(format!("status: {e}")))?;
                let data: types::RunListData = client
                    .send("listing runs", Safety::Idempotent, || {
                        client.inner.api.list_runs().body(body.clone()).send()
                    })
                    .await?;
                Ok(Fetched {
                    items: data.list.into_iter().map(RunRecord::from).collect(),
                    next: (),
                    total: u64::try_from(data.count).ok(),
                })
            }
        })
        .throttle(self.inner.runtime.throttle())
    }
}
