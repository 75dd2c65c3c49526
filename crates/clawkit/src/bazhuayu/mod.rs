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
//! let rows: Vec<_> = client.data_by_offset(&task.id).page_size(1000).rows().try_collect().await?;
//! println!("{} rows of {}", rows.len(), task.name);
//! # Ok(())
//! # }
//! ```

pub mod data;
pub mod error;
pub mod export;
mod token;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bazhuayu_api::types;
use secrecy::SecretString;
use serde::de::DeserializeOwned;

pub use data::{DataByOffset, Page, Row};
pub use error::Error;
pub use export::{Batch, ExportNew, ExportReport, JsonlSink};

use crate::transport::{self, ratelimit::RateLimit, retry::RetryPolicy};
use token::TokenManager;

/// Bazhuayu's production API.
pub const DEFAULT_BASE_URL: &str = "https://dataapi.bazhuayu.com";

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

/// Settings for a [`Client`].
#[derive(Clone)]
pub struct ClientBuilder {
    username: Option<String>,
    password: Option<SecretString>,
    base_url: String,
    timeout: Duration,
    retry: RetryPolicy,
    rate: (Duration, u32),
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "[redacted]"))
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            username: None,
            password: None,
            base_url: DEFAULT_BASE_URL.to_string(),
            timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
            // Just under the service's 20/s with a 100-request bucket, so network jitter never
            // pushes a request over its bucket.
            rate: (Duration::from_millis(51), 90),
        }
    }
}

impl ClientBuilder {
    /// The Bazhuayu account (the password is kept as a secret: never in `Debug`, logs or errors).
    pub fn credentials(mut self, username: impl Into<String>, password: impl Into<String>) -> Self {
        self.username = Some(username.into());
        self.password = Some(SecretString::from(password.into()));
        self
    }

    /// The API base URL (default [`DEFAULT_BASE_URL`]).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into().trim_end_matches('/').to_string();
        self
    }

    /// Timeout of one request (default 60 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How failed requests are retried (default 1, 2, 4, 8, 16 s with jitter).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Client-side pacing: one request per `period` on average, bursts of `burst` (default 51 ms
    /// and 90, just inside the service's 20/s and 100).
    pub fn rate_limit(mut self, period: Duration, burst: u32) -> Self {
        self.rate = (period, burst);
        self
    }

    /// Builds the client. No request is made until the first call.
    pub fn build(self) -> Result<Client, Error> {
        let (Some(username), Some(password)) = (self.username, self.password) else {
            return Err(Error::Config(
                "no credentials: call .credentials(user, password) or set BAZHUAYU_USERNAME and BAZHUAYU_PASSWORD".into(),
            ));
        };
        reqwest::Url::parse(&self.base_url).map_err(|e| {
            Error::Config(format!("base URL `{}` is not a URL: {e}", self.base_url))
        })?;
        Ok(Client {
            inner: Arc::new(Inner {
                tokens: TokenManager::new(&self.base_url, username, password, self.timeout)?,
                limit: RateLimit::new(self.rate.0, self.rate.1),
                retry: self.retry,
                base_url: self.base_url,
            }),
        })
    }
}

struct Inner {
    tokens: TokenManager,
    limit: RateLimit,
    retry: RetryPolicy,
    base_url: String,
}

/// A Bazhuayu client. Cheap to clone: clones share the token and the rate limiter.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base_url)
            .field("credentials", &"[redacted]")
            .finish_non_exhaustive()
    }
}

/// What the generated client returned.
type Sent<R> = Result<bazhuayu_api::ResponseValue<R>, bazhuayu_api::Error<types::ErrorEnvelope>>;

/// A generated envelope response.
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

/// A transport-level failure of the generated client, as a typed error.
async fn transport_error<E: std::fmt::Debug>(error: bazhuayu_api::Error<E>) -> Error {
    use bazhuayu_api::Error as E;
    match error {
        E::CommunicationError(e) if e.is_timeout() => Error::Timeout(e.without_url().to_string()),
        E::CommunicationError(e) => Error::Http {
            status: e.status().map(|s| s.as_u16()),
            message: e.without_url().to_string(),
        },
        E::ResponseBodyError(e) => Error::Http {
            status: None,
            message: format!("the response body broke off: {}", e.without_url()),
        },
        E::InvalidResponsePayload(bytes, e) if e.is_eof() || e.is_syntax() => Error::Http {
            status: None,
            message: format!(
                "the response body is incomplete or not JSON ({} bytes): {e}",
                bytes.len()
            ),
        },
        E::InvalidResponsePayload(_, e) => Error::Decode {
            path: String::new(),
            message: e.to_string(),
        },
        E::UnexpectedResponse(response) => {
            let status = response.status().as_u16();
            let retry_after = transport::retry_after(response.headers());
            let body = response.bytes().await.unwrap_or_default();
            match serde_json::from_slice::<serde_json::Value>(&body) {
                Ok(v) => Error::from_status(
                    status,
                    v["error"].as_str().unwrap_or(""),
                    v["error_Description"]
                        .as_str()
                        .or(v["error_description"].as_str())
                        .unwrap_or(""),
                    retry_after,
                ),
                Err(_) => Error::Http {
                    status: Some(status),
                    message: String::from_utf8_lossy(&body).chars().take(300).collect(),
                },
            }
        }
        E::InvalidRequest(m) => Error::Config(format!("invalid request: {m}")),
        other => Error::Http {
            status: None,
            message: format!("{other:?}"),
        },
    }
}

async fn open<R: Reply>(sent: Sent<R>) -> Result<R::Data, Error> {
    match sent {
        Ok(value) => {
            let status = value.status().as_u16();
            let reply = value.into_inner();
            if reply.error().eq_ignore_ascii_case("success") {
                Ok(reply.into_data())
            } else {
                Err(Error::from_status(
                    status,
                    reply.error(),
                    reply.description(),
                    None,
                ))
            }
        }
        Err(bazhuayu_api::Error::ErrorResponse(value)) => {
            let status = value.status().as_u16();
            let retry_after = transport::retry_after(value.headers());
            let e = value.into_inner();
            Err(Error::from_status(
                status,
                &e.error,
                e.error_description.unwrap_or_default(),
                retry_after,
            ))
        }
        Err(other) => Err(transport_error(other).await),
    }
}

fn size(n: u32) -> Result<std::num::NonZeroU32, Error> {
    std::num::NonZeroU32::new(n)
        .filter(|n| n.get() <= 1000)
        .ok_or_else(|| Error::Config(format!("size must be in [1,1000], got {n}")))
}

impl Client {
    /// Settings for a new client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client from `BAZHUAYU_USERNAME`, `BAZHUAYU_PASSWORD` and, optionally, `BAZHUAYU_BASE_URL`.
    pub fn from_env() -> Result<Client, Error> {
        let user = std::env::var("BAZHUAYU_USERNAME")
            .map_err(|_| Error::Config("BAZHUAYU_USERNAME is not set".into()))?;
        let pass = std::env::var("BAZHUAYU_PASSWORD")
            .map_err(|_| Error::Config("BAZHUAYU_PASSWORD is not set".into()))?;
        let mut builder = Client::builder().credentials(user, pass);
        if let Ok(url) = std::env::var("BAZHUAYU_BASE_URL") {
            builder = builder.base_url(url);
        }
        builder.build()
    }

    /// One API call: paced by the rate limiter, authenticated (a refused token is replaced once),
    /// retried with backoff on 429, 503 and broken connections. Every Bazhuayu call is safe to
    /// repeat (reads, and marks that are idempotent).
    async fn call<R, F, Fut>(&self, what: &str, request: F) -> Result<R::Data, Error>
    where
        R: Reply,
        F: Fn(bazhuayu_api::Client) -> Fut,
        Fut: Future<Output = Sent<R>>,
    {
        transport::retry::retry(&self.inner.retry, what, || async {
            let mut authed = self.inner.tokens.authed().await?;
            for attempt in 0..2 {
                self.inner.limit.acquire().await;
                match open(request(authed.api.clone()).await).await {
                    Err(Error::Unauthorized { .. }) if attempt == 0 => {
                        tracing::debug!("Bazhuayu refused the access token; getting a new one");
                        self.inner.tokens.invalidate(authed.id).await;
                        authed = self.inner.tokens.authed().await?;
                    }
                    other => return other,
                }
            }
            unreachable!("the loop returns on its second pass")
        })
        .await
    }

    /// Every task group of the account.
    pub async fn task_groups(&self) -> Result<Vec<TaskGroup>, Error> {
        let groups = self
            .call("listing task groups", |api| async move {
                api.list_task_groups().send().await
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
            .call("listing tasks", |api| async move {
                api.list_tasks().task_group_id(group).send().await
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
        self.call("clearing task data", |api| async move {
            api.clear_task_data().task_id(task).send().await
        })
        .await
    }

    /// Starts a task in the cloud. Paid add-on API (增值接口): accounts without it get
    /// [`Error::Forbidden`]. Returns the service's start code (1: started).
    pub async fn start_task(&self, task: &str) -> Result<Option<i32>, Error> {
        self.call("starting a task", |api| async move {
            api.start_task().task_id(task).send().await
        })
        .await
    }

    /// Stops a task. Paid add-on API.
    pub async fn stop_task(&self, task: &str) -> Result<(), Error> {
        self.call("stopping a task", |api| async move {
            api.stop_task().task_id(task).send().await
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
            .call("reading task statuses", |api| {
                let body = body.clone();
                async move { api.get_task_statuses().body(body).send().await }
            })
            .await?;
        Ok(list.into_iter().map(|s| (s.task_id, s.status)).collect())
    }

    /// A task's data by offset: see [`DataByOffset`].
    pub fn data_by_offset(&self, task: &str) -> DataByOffset<'_> {
        DataByOffset::new(self, task)
    }

    /// The at-least-once export pipeline of rows not exported yet: see [`ExportNew`].
    pub fn export_new(&self, task: &str) -> ExportNew<'_> {
        ExportNew::new(self, task)
    }
}
