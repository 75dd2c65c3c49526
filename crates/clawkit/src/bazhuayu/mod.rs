//! Bazhuayu (八爪鱼) DataAPI: task groups and tasks, data by offset, and an export pipeline that
//! never loses a row.
//!
//! - **Tokens.** Fetched lazily with the password grant, renewed before expiry; each refresh token
//!   is used at most once, even under many concurrent callers (one refresh in flight, the others
//!   wait for it); a failed refresh falls back to the password grant.
//! - **Rate limit.** The service's leaky bucket (20 requests/s, 5 s bucket) is matched by a
//!   client-side limiter shared by every clone of the client, so a busy program stays just under
//!   it; 429 and 503 are still retried with backoff.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let sandbox = clawkit_sandbox::Sandbox::builder().start().await?;
//! # let base_url = sandbox.base_url(clawkit_sandbox::Vendor::Bazhuayu);
//! use clawkit::bazhuayu::Client;
//! use futures::TryStreamExt;
//!
//! let client = Client::builder().credentials("sandbox", "sandbox").base_url(&base_url).build()?;
//! let group = &client.task_groups().await?[0];
//! let task = &client.tasks(group.id).await?[0];
//! let rows: Vec<_> = client.data_by_offset(&task.id).try_collect().await?;
//! println!("{} rows of {}", rows.len(), task.name);
//! # Ok(())
//! # }
//! ```

pub mod data;
pub mod error;
pub mod export;
mod token;

use std::sync::Arc;
use std::time::Duration;

use bazhuayu_api::types;
use clawkit_runtime::reply::{self, Answer, Head};
use clawkit_runtime::{Auth, ClientConfig, Runtime, Safety, TokenSource};
use serde::Deserialize;
use serde::de::DeserializeOwned;

pub use data::{DataByOffset, Page, Row};
pub use error::Error;
#[cfg(feature = "object-store")]
pub use export::ObjectSink;
pub use export::{Batch, ExportNew, ExportReport, JsonlSink};

use token::PasswordGrant;

/// Bazhuayu's production API.
pub const DEFAULT_BASE_URL: &str = "https://dataapi.bazhuayu.com";

/// The most rows one request may ask for (`size`).
const MAX_SIZE: u32 = 1000;

/// Bazhuayu's own settings.
#[derive(Debug, Clone)]
pub struct Options {
    rate: (Duration, u32),
}

impl Default for Options {
    fn default() -> Self {
        // Just under the service's 20/s with a 100-request bucket, so network jitter never
        // pushes a request over its bucket.
        Self {
            rate: (Duration::from_millis(51), 90),
        }
    }
}

/// Bazhuayu for the shared [`crate::ClientBuilder`]: OAuth password grant, the 20 requests/s
/// bucket, a 60 s request timeout, `BAZHUAYU_*` environment variables.
impl crate::client::Service for Client {
    fn build(config: ClientConfig, options: Options) -> Result<Client, Error> {
        let given = config.given();
        let (Some(username), Some(password)) = (given.username.clone(), given.password.clone())
        else {
            return Err(config
                .missing("credentials", "credentials", &["USERNAME", "PASSWORD"])
                .into());
        };
        let base_url = config.base_url_or(DEFAULT_BASE_URL)?;
        let http = config.http_client()?;
        let timeout = config.timeout_or(Duration::from_secs(60));
        // The token endpoint needs no auth and is outside the bucket; same connection pool.
        let anonymous = Runtime::builder().timeout(timeout).build();
        let grant = PasswordGrant {
            api: bazhuayu_api::Client::new_with_client(&base_url, http.clone(), anonymous),
            username,
            password,
        };
        let runtime = Runtime::builder()
            .auth(Auth::Token(TokenSource::with_scheme(grant, "bearer")))
            .rate_limit(options.rate.0, options.rate.1)
            .retry(config.retry_policy())
            .timeout(timeout)
            .build();
        Ok(Client {
            inner: Arc::new(Inner {
                api: bazhuayu_api::Client::new_with_client(&base_url, http, runtime.clone()),
                runtime,
                base_url,
            }),
        })
    }

    const NAME: &'static str = "bazhuayu";

    const TITLE: &'static str = "Bazhuayu";

    const ENV_PREFIX: &'static str = "BAZHUAYU";
    type Options = Options;
    type Error = Error;
}

impl ClientBuilder {
    /// The Bazhuayu account (the password is kept as a secret: never in `Debug`, logs or errors).
    pub fn credentials(self, username: impl Into<String>, password: impl Into<String>) -> Self {
        self.config(|c| c.credentials(username, password))
    }

    /// Client-side pacing: one request per `period` on average, bursts of `burst` (default 51 ms
    /// and 90, just inside the service's 20/s and 100).
    pub fn rate_limit(mut self, period: Duration, burst: u32) -> Self {
        self.options.rate = (period, burst);
        self
    }
}

struct Inner {
    api: bazhuayu_api::Client,
    runtime: Runtime,
    base_url: String,
}

/// Settings for a [`Client`] (see [`crate::ClientBuilder`] for the shared ones).
pub type ClientBuilder = crate::ClientBuilder<Client>;

/// A Bazhuayu client. Cheap to clone: clones share the token, the rate limiter and the
/// connection pool.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        crate::client::debug_client(f, &self.inner.base_url)
    }
}

/// What the generated client returned.
type Sent<R> = reply::Sent<R, types::ErrorEnvelope>;

/// A generated envelope response `{data, error, error_Description}`.
trait Reply: DeserializeOwned {
    type Data;
    fn error(&self) -> &str;
    fn description(&self) -> &str;
    fn into_data(self) -> Self::Data;
}

macro_rules! replies {
    ($($response:ident => $data:ty, |$r:ident| $get:expr;)*) => {$(
        impl Reply for types::$response {
            type Data = $data;
            fn error(&self) -> &str { &self.error }
            fn description(&self) -> &str { &self.error_description }
            fn into_data(self) -> $data { let $r = self; $get }
        }
    )*};
}

replies! {
    TaskGroupListResponse => Vec<types::TaskGroup>, |r| r.data;
    TaskListResponse => Vec<types::Task>, |r| r.data;
    ClearTaskDataResponse => (), |_r| ();
    ExportDataBatchResponse => types::ExportDataBatch, |r| r.data;
    MarkDataExportedResponse => (), |_r| ();
    DataByOffsetResponse => types::DataByOffsetPage, |r| r.data;
    StartTaskResponse => Option<i32>, |r| r.data;
    StopTaskResponse => (), |_r| ();
    TaskStatusListResponse => Vec<types::TaskStatus>, |r| r.data;
}

/// Bazhuayu's error fields, in an envelope or an OAuth error body (either spelling).
#[derive(Deserialize)]
struct Bare {
    error: String,
    #[serde(rename = "error_Description", alias = "error_description", default)]
    description: String,
}

/// A body that is not the documented type: Bazhuayu's error fields become the typed error,
/// anything else what the runtime makes of it (truncated, not JSON, a field of the wrong shape).
fn undocumented<R: DeserializeOwned>(head: &Head, bytes: &[u8]) -> Error {
    match serde_json::from_slice::<Bare>(bytes) {
        Ok(bare) if !bare.error.eq_ignore_ascii_case("success") => Error::from_status(
            head.status,
            &bare.error,
            bare.description,
            head.retry_after(),
        ),
        _ => reply::undocumented::<R, Error>(head, bytes),
    }
}

async fn open<R: Reply>(sent: Sent<R>) -> Result<R::Data, Error> {
    match reply::answer::<_, _, Error>(sent).await? {
        Answer::Ok(_, reply) if reply.error().eq_ignore_ascii_case("success") => {
            Ok(reply.into_data())
        }
        Answer::Ok(head, reply) => Err(Error::from_status(
            head.status,
            reply.error(),
            reply.description(),
            head.retry_after(),
        )),
        Answer::Documented(head, e) => Err(Error::from_status(
            head.status,
            &e.error,
            e.error_description.unwrap_or_default(),
            head.retry_after(),
        )),
        Answer::Undocumented(head, bytes) => Err(undocumented::<R>(&head, &bytes)),
    }
}

/// A `size` argument, 1 to 1000.
fn size(n: u32) -> Result<std::num::NonZeroU32, Error> {
    std::num::NonZeroU32::new(n)
        .filter(|n| n.get() <= MAX_SIZE)
        .ok_or_else(|| {
            clawkit_runtime::PagingError::PageSize {
                field: "size",
                got: n,
                max: MAX_SIZE,
            }
            .into()
        })
}

impl Client {
    /// Settings for a new client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client from `BAZHUAYU_USERNAME`, `BAZHUAYU_PASSWORD` and, optionally,
    /// `BAZHUAYU_BASE_URL` and `BAZHUAYU_TIMEOUT` (seconds).
    pub fn from_env() -> Result<Client, Error> {
        ClientBuilder::from_env()?.build()
    }

    /// One API call, through the runtime: paced by the rate limiter, authenticated (a refused
    /// token is renewed once and the call replayed), retried with backoff on 429, 503 and broken
    /// connections. Every Bazhuayu call is safe to repeat (reads, and marks that are idempotent).
    async fn call<R, F, Fut>(&self, what: &str, request: F) -> Result<R::Data, Error>
    where
        R: Reply,
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Sent<R>>,
    {
        self.inner
            .runtime
            .call(what, Safety::Idempotent, || async {
                open(request().await).await
            })
            .await
    }

    /// Every task group of the account.
    pub async fn task_groups(&self) -> Result<Vec<TaskGroup>, Error> {
        let groups = self
            .call("listing task groups", || {
                self.inner.api.list_task_groups().send()
            })
            .await?;
        Ok(groups
            .into_iter()
            .map(|g| TaskGroup {
                id: g.task_group_id,
                name: g.task_group_name,
            })
            .collect())
    }

    /// The tasks of a group.
    pub async fn tasks(&self, group: i64) -> Result<Vec<Task>, Error> {
        let tasks = self
            .call("listing tasks", || {
                self.inner.api.list_tasks().task_group_id(group).send()
            })
            .await?;
        Ok(tasks
            .into_iter()
            .map(|t| Task {
                id: t.task_id,
                name: t.task_name,
                creation_user_id: t.creation_user_id,
            })
            .collect())
    }

    /// Deletes all of a task's collected data.
    pub async fn clear_data(&self, task: &str) -> Result<(), Error> {
        self.call("clearing task data", || {
            self.inner.api.clear_task_data().task_id(task).send()
        })
        .await
    }

    /// Starts a task in the cloud. Paid add-on API (增值接口): accounts without it get
    /// [`Error::Forbidden`]. Returns the service's start code (1: started).
    pub async fn start_task(&self, task: &str) -> Result<Option<i32>, Error> {
        self.call("starting a task", || {
            self.inner.api.start_task().task_id(task).send()
        })
        .await
    }

    /// Stops a task. Paid add-on API.
    pub async fn stop_task(&self, task: &str) -> Result<(), Error> {
        self.call("stopping a task", || {
            self.inner.api.stop_task().task_id(task).send()
        })
        .await
    }

    /// The status of tasks. Paid add-on API.
    pub async fn task_statuses(
        &self,
        tasks: &[&str],
    ) -> Result<Vec<(String, TaskRunStatus)>, Error> {
        let body = types::TaskIdList {
            task_id_list: tasks.iter().map(|t| t.to_string()).collect(),
        };
        let list = self
            .call("reading task statuses", || {
                self.inner.api.get_task_statuses().body(body.clone()).send()
            })
            .await?;
        Ok(list.into_iter().map(|s| (s.task_id, s.status)).collect())
    }

    /// The at-least-once export pipeline of rows not exported yet: see [`ExportNew`].
    pub fn export_new(&self, task: &str) -> ExportNew {
        ExportNew::new(self.clone(), task)
    }
}

/// A task group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskGroup {
    /// `taskGroupId`.
    pub id: i64,
    /// `taskGroupName`.
    pub name: String,
}

/// A task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    /// `taskId` (a GUID).
    pub id: String,
    /// `taskName`.
    pub name: String,
    /// `creationUserId`.
    pub creation_user_id: String,
}

/// A task's run status (paid add-on API).
pub use bazhuayu_api::types::TaskRunStatus;
