//! Runs: start (async or sync), wait, abort, rerun, logs.

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::time::{Duration, Instant};

use clawkit_runtime::Safety;
use clawkit_runtime::download::DownloadError;
use coreclaw_api::types;
use rust_decimal::Decimal;
use tokio::io::AsyncWrite;

pub use coreclaw_api::enums::{LogLevel, RunStatus};

use super::input::Input;
use super::worker::Worker;
use super::{Client, Error};

/// How [`Run::wait`] polls.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WaitOptions {
    /// First pause between polls.
    pub initial_interval: Duration,
    /// Each pause is this many times the previous one...
    pub factor: f64,
    /// ...up to this.
    pub max_interval: Duration,
    /// Give up after this long (the error keeps the run slug).
    pub timeout: Duration,
    /// A new run may be unknown (70001) for a moment after it was started: tolerated this long.
    pub not_found_grace: Duration,
    /// Forward new log lines to `tracing` while waiting.
    pub forward_logs: bool,
    /// Status 5 is "aborting" (a run on its way out, not final): `wait` keeps polling while it
    /// stops (it then ends as 4, failed), and returns it as it is once it has stayed 5 this long,
    /// since CoreClaw names no final status for an aborted run.
    pub aborting_grace: Duration,
}

impl Default for WaitOptions {
    fn default() -> Self {
        Self {
            initial_interval: Duration::from_secs(1),
            factor: 1.5,
            max_interval: Duration::from_secs(15),
            timeout: Duration::from_secs(3600),
            not_found_grace: Duration::from_secs(10),
            forward_logs: false,
            aborting_grace: Duration::from_secs(30),
        }
    }
}

/// A run record (run detail and history), with the Worker named either way CoreClaw names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRecord {
    /// Run slug.
    pub slug: String,
    /// Status.
    pub status: RunStatus,
    /// Error message of a failed run.
    pub err_msg: String,
    /// The Worker's slug (`scraper_slug`, or `actors_slug` in the docs).
    pub worker_slug: Option<String>,
    /// The Worker's title.
    pub worker_title: Option<String>,
    /// Results produced so far.
    pub results: u64,
    /// Charge in USD, exact.
    pub usage: Decimal,
    /// Unix seconds it started (`None` while unset).
    pub started_at: Option<i64>,
    /// Unix seconds it finished (`None` while running).
    pub finished_at: Option<i64>,
    /// Seconds it ran.
    pub duration: i64,
    /// `api` or `web`.
    pub origin: String,
    /// Traffic in bytes.
    pub traffic: i64,
    /// Worker version.
    pub version: String,
}

impl RunRecord {
    /// Whether the status is final: succeeded or failed. Status 5 (aborting) is not: an abort
    /// was asked and the run is stopping (see [`Run::wait_with`] for how a wait treats it).
    pub fn is_final(&self) -> bool {
        matches!(self.status, RunStatus::Succeeded | RunStatus::Failed)
    }

    /// Whether an abort was asked and the run is stopping (status 5).
    pub fn is_aborting(&self) -> bool {
        self.status == RunStatus::Aborting
    }

    /// Whether it succeeded.
    pub fn is_success(&self) -> bool {
        self.status == RunStatus::Succeeded
    }
}

impl From<types::RunSummary> for RunRecord {
    fn from(s: types::RunSummary) -> Self {
        let usage = s.usage.trim().parse::<Decimal>().unwrap_or_else(|_| {
            tracing::warn!(usage = %s.usage, run = %s.slug, "run usage is not a decimal; read as 0");
            Decimal::ZERO
        });
        RunRecord {
            status: s.status,
            err_msg: s.err_msg,
            worker_slug: s.scraper_slug.or(s.actors_slug),
            worker_title: s.scraper_title.or(s.actors_title),
            results: u64::try_from(s.results).unwrap_or(0),
            usage,
            started_at: (s.started_at > 0).then_some(s.started_at),
            finished_at: (s.finished_at > 0).then_some(s.finished_at),
            duration: s.duration,
            origin: s.origin,
            traffic: s.traffic,
            version: s.version,
            slug: s.slug,
        }
    }
}

/// One log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// Level.
    pub level: LogLevel,
    /// Subtask group.
    pub group: String,
    /// Text.
    pub content: String,
    /// Unix milliseconds.
    pub timestamp: i64,
}

/// The latest log lines of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunLog {
    /// Latest entries.
    pub entries: Vec<LogEntry>,
    /// Where the full log can be downloaded ([`Run::full_log`]).
    pub all_logs_url: String,
    /// Results produced.
    pub result_count: u64,
}

/// A started run, by slug. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Run {
    pub(crate) client: Client,
    pub(crate) slug: String,
    pub(crate) started: Option<Instant>,
}

/// A start request: `.await` it, optionally after [`Start::callback_url`].
#[must_use = "a Start does nothing until awaited"]
pub struct Start<'a> {
    client: &'a Client,
    worker: &'a Worker,
    input: Input,
    is_async: bool,
    callback_url: Option<String>,
}

impl<'a> Start<'a> {
    pub(crate) fn new(
        client: &'a Client,
        worker: &'a Worker,
        input: Input,
        is_async: bool,
    ) -> Self {
        Self {
            client,
            worker,
            input,
            is_async,
            callback_url: None,
        }
    }

    /// CoreClaw POSTs `{run_slug, status, results, usage}` here when the run ends
    /// (see [`super::webhook`]).
    pub fn callback_url(mut self, url: impl Into<String>) -> Self {
        self.callback_url = Some(url.into());
        self
    }

    async fn send(self) -> Result<Run, Error> {
        self.send_full().await.map(|(run, _)| run)
    }

    /// Starts the run; a synchronous start also returns the results its answer carried.
    pub(crate) async fn send_full(self) -> Result<(Run, Option<SyncPage>), Error> {
        if self.input.scraper_slug != self.worker.slug || self.input.version != self.worker.version
        {
            return Err(Error::InvalidArgument(format!(
                "input: it was built for Worker {} {}, not {} {}",
                self.input.scraper_slug, self.input.version, self.worker.slug, self.worker.version
            )));
        }
        let (slug, page) = if self.client.is_v2() {
            super::v2::start(
                self.client,
                &self.worker.slug,
                &self.input,
                self.is_async,
                self.callback_url.clone(),
            )
            .await?
        } else {
            self.send_v1().await?
        };
        tracing::info!(run = %slug, worker = %self.worker.slug, "run started");
        let mut run = Run::new(self.client.clone(), slug);
        run.started = Some(Instant::now());
        Ok((run, page))
    }

    async fn send_v1(&self) -> Result<(String, Option<SyncPage>), Error> {
        let body: types::StartScraperRunRequest = serde_json::from_value(serde_json::json!({
            "scraper_slug": self.input.scraper_slug,
            "version": self.input.version,
            "is_async": self.is_async,
            "input": self.input.to_json(),
            "callback_url": self.callback_url,
        }))
        .map_err(|e| {
            Error::InvalidArgument(format!(
                "input: the start request does not fit the spec: {e}"
            ))
        })?;
        let api = if self.is_async {
            &self.client.inner.api
        } else {
            &self.client.inner.long
        };
        let data: types::RunStartData = self
            .client
            .send("starting a run", Safety::Creates, || {
                api.start_run().body(body.clone()).send()
            })
            .await?;
        // An asynchronous answer has neither; a synchronous one has both.
        let page = (!data.list.is_empty() || data.count.is_some()).then(|| SyncPage {
            items: data.list.into_iter().map(|r| r.0).collect(),
            total: data.count.and_then(|c| u64::try_from(c).ok()),
        });
        Ok((data.run_slug, page))
    }
}

/// The results a synchronous start's answer carried.
#[derive(Debug, Clone, Default)]
pub(crate) struct SyncPage {
    pub(crate) items: Vec<serde_json::Map<String, serde_json::Value>>,
    pub(crate) total: Option<u64>,
}

/// A finished synchronous run: its record and the results CoreClaw answered with directly.
#[derive(Debug, Clone)]
pub struct SyncRun {
    /// The run (stream the rest of its results with [`Run::items`]).
    pub run: Run,
    /// Its final record.
    pub record: RunRecord,
    /// The results the synchronous answer carried (v1: the first 100; v2: the first 100 too,
    /// asked for with `limit`); empty when the run outlived the 5 minutes and was waited for.
    pub items: Vec<serde_json::Map<String, serde_json::Value>>,
    /// How many results the run has in all.
    pub total: u64,
}

impl<'a> IntoFuture for Start<'a> {
    type Output = Result<Run, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

fn slug_body(slug: &str) -> types::RunSlugRequest {
    types::RunSlugRequest {
        run_slug: slug.to_string(),
    }
}

impl Run {
    pub(crate) fn new(client: Client, slug: String) -> Self {
        Run {
            client,
            slug,
            started: None,
        }
    }

    /// The run slug.
    pub fn slug(&self) -> &str {
        &self.slug
    }

    /// The run record now.
    pub async fn detail(&self) -> Result<RunRecord, Error> {
        if self.client.is_v2() {
            return super::v2::detail(&self.client, &self.slug).await;
        }
        let api = &self.client.inner.api;
        let data = self
            .client
            .send("reading the run", Safety::Idempotent, || {
                api.get_run().body(slug_body(&self.slug)).send()
            })
            .await?;
        Ok(RunRecord::from(data))
    }

    /// Waits until the run succeeds, fails or is aborted, with the client's [`WaitOptions`].
    pub async fn wait(&self) -> Result<RunRecord, Error> {
        self.wait_with(self.client.inner.wait).await
    }

    /// Waits with the given options: polls run detail with a growing, capped interval until the
    /// run succeeds or fails. Status 5 (aborting) keeps it waiting until the run ends (as 4,
    /// failed) or for `aborting_grace`, after which the aborting record is returned. A 70001 in the first moments after start is tolerated; a timeout is an error that
    /// keeps the run slug.
    pub async fn wait_with(&self, options: WaitOptions) -> Result<RunRecord, Error> {
        let began = Instant::now();
        let mut interval = options.initial_interval;
        let mut logged = 0usize;
        let mut aborting_since: Option<Instant> = None;
        loop {
            match self.detail().await {
                Ok(record) => {
                    if options.forward_logs {
                        logged = self.forward_logs(logged).await;
                    }
                    match record.status {
                        RunStatus::Succeeded | RunStatus::Failed => return Ok(record),
                        RunStatus::Aborting => {
                            let since = *aborting_since.get_or_insert_with(Instant::now);
                            if since.elapsed() >= options.aborting_grace {
                                return Ok(record);
                            }
                        }
                        _ => aborting_since = None,
                    }
                    tracing::debug!(run = %self.slug, status = %record.status, results = record.results, "waiting");
                }
                Err(Error::RunNotFound { .. })
                    if self
                        .started
                        .is_some_and(|s| s.elapsed() < options.not_found_grace) => {}
                Err(e) => return Err(e),
            }
            if began.elapsed() + interval > options.timeout {
                return Err(Error::Timeout {
                    what: format!("after {:?} waiting for the run to end", options.timeout),
                    run_slug: Some(self.slug.clone()),
                });
            }
            tokio::time::sleep(interval).await;
            interval = interval
                .mul_f64(options.factor.max(1.0))
                .min(options.max_interval);
        }
    }

    async fn forward_logs(&self, already: usize) -> usize {
        let Ok(log) = self.log().await else {
            return already;
        };
        for entry in log.entries.iter().skip(already) {
            match entry.level {
                LogLevel::Error => tracing::error!(run = %self.slug, "{}", entry.content),
                LogLevel::Warn => tracing::warn!(run = %self.slug, "{}", entry.content),
                LogLevel::Debug => tracing::debug!(run = %self.slug, "{}", entry.content),
                _ => tracing::info!(run = %self.slug, "{}", entry.content),
            }
        }
        log.entries.len().max(already)
    }

    /// Aborts the run (it ends in status 5). A run that already ended gives
    /// [`Error::AbortFailed`].
    pub async fn abort(&self) -> Result<(), Error> {
        if self.client.is_v2() {
            return super::v2::abort(&self.client, &self.slug).await;
        }
        let api = &self.client.inner.api;
        // Not retried after a broken connection: the abort may have happened. A rate limit is.
        self.client
            .send("aborting the run", Safety::Creates, || {
                api.abort_run().body(slug_body(&self.slug)).send()
            })
            .await
    }

    /// Starts a new run with this run's input. CoreClaw requires a `callback_url` here.
    pub async fn rerun(&self, callback_url: &str) -> Result<Run, Error> {
        if self.client.is_v2() {
            let slug = super::v2::rerun(&self.client, &self.slug, Some(callback_url)).await?;
            let mut run = Run::new(self.client.clone(), slug);
            run.started = Some(Instant::now());
            return Ok(run);
        }
        let api = &self.client.inner.api;
        let body = types::RerunRequest {
            run_slug: self.slug.clone(),
            callback_url: callback_url.to_string(),
        };
        let data: types::RunSlugData = self
            .client
            .send("rerunning", Safety::Creates, || {
                api.rerun().body(body.clone()).send()
            })
            .await?;
        let mut run = Run::new(self.client.clone(), data.run_slug);
        run.started = Some(Instant::now());
        Ok(run)
    }

    /// The latest log lines.
    pub async fn log(&self) -> Result<RunLog, Error> {
        if self.client.is_v2() {
            return super::v2::log(&self.client, &self.slug).await;
        }
        let api = &self.client.inner.api;
        let data: types::RunLogsData = self
            .client
            .send("reading the log", Safety::Idempotent, || {
                api.get_run_log().body(slug_body(&self.slug)).send()
            })
            .await?;
        Ok(RunLog {
            entries: data
                .list
                .into_iter()
                .map(|e| LogEntry {
                    level: e.type_,
                    group: e.group,
                    content: e.content,
                    timestamp: e.timestamp,
                })
                .collect(),
            all_logs_url: data.all_logs_url,
            result_count: u64::try_from(data.result_count).unwrap_or(0),
        })
    }

    /// Streams the full log (from `all_logs_url`) to `writer`; returns the bytes written.
    pub async fn full_log<W: AsyncWrite + Unpin>(&self, writer: &mut W) -> Result<u64, Error> {
        let url = self.log().await?.all_logs_url;
        download(&self.client, &url, writer).await
    }
}

/// Streams a URL (a download or log link, not the API: no api-key is sent) to `writer`,
/// resuming with a `Range` request where a broken body stopped (the client's retry policy).
pub(crate) async fn download<W: AsyncWrite + Unpin>(
    client: &Client,
    url: &str,
    writer: &mut W,
) -> Result<u64, Error> {
    let policy = client.inner.runtime.retry_policy();
    clawkit_runtime::download::download_with(&client.inner.http, url, writer, &policy)
        .await
        .map(|d| d.bytes)
        .map_err(|e: DownloadError| match e.split() {
            Ok(t) => Error::Transport(t),
            Err(io) => Error::Io(io),
        })
}
