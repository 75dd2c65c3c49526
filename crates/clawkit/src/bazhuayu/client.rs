//! The Bazhuayu client: its settings, how it is built (password grant, the 20 requests/s
//! bucket), and its task and group calls.

use std::sync::Arc;
use std::time::Duration;

use bazhuayu_api::types::{self, TaskRunStatus};
use clawkit_runtime::reply::Sent;
use clawkit_runtime::{Auth, ClientConfig, Runtime, Safety, TokenSource};

use crate::call::{Calls, Reply};
use crate::client::Optionally;
use secrecy::ExposeSecret;

use super::envelope::Envelope;
use super::error::{Error, Reason, refusal};
use super::token::PasswordGrant;

/// Bazhuayu's production API.
pub const DEFAULT_BASE_URL: &str = "https://dataapi.bazhuayu.com";

/// The most rows one request may ask for (`size`).
pub(super) const MAX_SIZE: u32 = 1000;

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
fn build(config: ClientConfig, options: Options) -> Result<Client, Error> {
    let given = config.given();
    let (Some(username), Some(password)) = (given.username.clone(), given.password.clone()) else {
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
    // The account's limits and token, shared with every process on the same state store.
    let state = config.shared(
        <Client as crate::client::Service>::NAME,
        &base_url,
        &grant.username,
        &[grant.password.expose_secret().as_bytes()],
    )?;
    let runtime = Runtime::builder()
        .optionally(state, |b, s| b.state(s))
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

crate::call::service!(Client: "bazhuayu", "Bazhuayu", "BAZHUAYU", Options, Reason, build);

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

pub(super) struct Inner {
    pub(super) api: bazhuayu_api::Client,
    pub(super) runtime: Runtime,
    pub(super) base_url: String,
}

/// Settings for a [`Client`] (see [`crate::ClientBuilder`] for the shared ones).
pub type ClientBuilder = crate::ClientBuilder<Client>;

/// A Bazhuayu client. Cheap to clone: clones share the token, the rate limiter and the
/// connection pool.
#[derive(Clone)]
pub struct Client {
    pub(super) inner: Arc<Inner>,
}

// Calls are paced and authorized by the runtime; answers are Bazhuayu's envelopes.
crate::call::calls!(Client.inner: Reason, bazhuayu_api::Client, types::ErrorEnvelope, Envelope, refusal);

/// A `size` argument, 1 to 1000.
pub(super) fn size(n: u32) -> Result<std::num::NonZeroU32, Error> {
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
    pub(super) async fn read<'a, R, F, Fut>(
        &'a self,
        what: &str,
        request: F,
    ) -> Result<R::Data, Error>
    where
        R: Reply<Envelope>,
        F: Fn(&'a bazhuayu_api::Client) -> Fut,
        Fut: std::future::Future<Output = Sent<R, types::ErrorEnvelope>> + 'a,
    {
        self.call(what, Safety::Idempotent, request).await
    }

    /// Every task group of the account.
    pub async fn task_groups(&self) -> Result<Vec<TaskGroup>, Error> {
        let groups = self
            .read("listing task groups", |api| api.list_task_groups().send())
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
            .read("listing tasks", |api| {
                api.list_tasks().task_group_id(group).send()
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
        self.read("clearing task data", |api| {
            api.clear_task_data().task_id(task).send()
        })
        .await
    }

    /// Starts a task in the cloud. Paid add-on API (增值接口): accounts without it get
    /// [`Reason::Forbidden`]. Returns the service's start code (1: started).
    pub async fn start_task(&self, task: &str) -> Result<Option<i32>, Error> {
        self.read("starting a task", |api| {
            api.start_task().task_id(task).send()
        })
        .await
    }

    /// Stops a task. Paid add-on API.
    pub async fn stop_task(&self, task: &str) -> Result<(), Error> {
        self.read("stopping a task", |api| {
            api.stop_task().task_id(task).send()
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
            .read("reading task statuses", |api| {
                api.get_task_statuses().body(body.clone()).send()
            })
            .await?;
        Ok(list.into_iter().map(|s| (s.task_id, s.status)).collect())
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
