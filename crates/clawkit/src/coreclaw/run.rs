//! Runs: start (async or sync), wait, abort, rerun, logs.

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use clawkit_runtime::download::DownloadError;
use clawkit_runtime::wait::{self, Polling};
use tokio::io::AsyncWrite;

pub use super::model::{LogEntry, LogLevel, RunLog, RunRecord, RunStatus, WaitOptions};

use super::api::StartRequest;
use super::client::Client;
use super::error::{Error, Flow, Reason};
use super::input::Input;
use super::model::SyncPage;
use super::worker::Worker;

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
    fn new(client: &'a Client, worker: &'a Worker, input: Input, is_async: bool) -> Self {
        Self {
            client,
            worker,
            input,
            is_async,
            callback_url: None,
        }
    }

    /// CoreClaw POSTs `{run_slug, status, results, usage}` here when the run ends
    /// (see [`crate::coreclaw::webhook`]).
    pub fn callback_url(mut self, url: impl Into<String>) -> Self {
        self.callback_url = Some(url.into());
        self
    }

    async fn send(self) -> Result<Run, Error> {
        self.send_full().await.map(|(run, _)| run)
    }

    /// Starts the run; a synchronous start also returns the results its answer carried.
    async fn send_full(self) -> Result<(Run, Option<SyncPage>), Error> {
        if self.input.scraper_slug != self.worker.slug || self.input.version != self.worker.version
        {
            return Err(Error::InvalidArgument(format!(
                "input: it was built for Worker {} {}, not {} {}",
                self.input.scraper_slug, self.input.version, self.worker.slug, self.worker.version
            )));
        }
        let request = StartRequest {
            worker: &self.worker.slug,
            input: &self.input,
            is_async: self.is_async,
            callback_url: self.callback_url.as_deref(),
        };
        let (slug, page) = self.client.inner.api.start(request).await?;
        tracing::info!(run = %slug, worker = %self.worker.slug, "run started");
        Ok((self.client.started(slug), page))
    }
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

impl Client {
    /// A handle on an existing run (for example one whose wait timed out).
    pub fn run(&self, slug: impl Into<String>) -> Run {
        Run {
            client: self.clone(),
            slug: slug.into(),
            started: None,
        }
    }

    /// A handle on a run just started: a wait tolerates its being unknown for a moment.
    pub(crate) fn started(&self, slug: String) -> Run {
        Run {
            started: Some(Instant::now()),
            ..self.run(slug)
        }
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
        let slug = self.inner.api.run_task(task_slug, callback_url).await?;
        Ok(self.run(slug))
    }
}

/// What one poll of a wait saw.
#[derive(Debug, Clone, PartialEq)]
enum Seen {
    /// A new run not known yet (70001 within the grace).
    Unknown,
    /// The record, and whether the wait is over.
    Record(Box<RunRecord>, bool),
}

impl Run {
    /// The run slug.
    pub fn slug(&self) -> &str {
        &self.slug
    }

    /// The run record now.
    pub async fn detail(&self) -> Result<RunRecord, Error> {
        self.client.inner.api.detail(&self.slug).await
    }

    /// Waits until the run succeeds, fails or is aborted, with the client's [`WaitOptions`].
    pub async fn wait(&self) -> Result<RunRecord, Error> {
        self.wait_with(self.client.inner.wait).await
    }

    /// Waits with the given options: polls run detail with a growing, capped interval until the
    /// run succeeds or fails. Status 5 (aborting) keeps it waiting until the run ends (as 4,
    /// failed) or for `aborting_grace`, after which the aborting record is returned. A 70001 in
    /// the first moments after start is tolerated; a timeout is an error that keeps the run slug.
    pub async fn wait_with(&self, options: WaitOptions) -> Result<RunRecord, Error> {
        let polling = Polling {
            initial_interval: options.initial_interval,
            factor: options.factor,
            max_interval: options.max_interval,
            timeout: options.timeout,
        };
        let logged = Arc::new(AtomicUsize::new(0));
        let aborting_since = Arc::new(Mutex::new(None::<Instant>));
        let run = self.clone();
        let read = move || {
            let (run, logged, aborting_since) =
                (run.clone(), logged.clone(), aborting_since.clone());
            async move { run.poll(options, &logged, &aborting_since).await }
        };
        let slug = self.slug.clone();
        let timed_out = move |_| {
            Error::from(Flow::Timeout {
                what: format!("after {:?} waiting for the run to end", options.timeout),
                run_slug: Some(slug.clone()),
            })
        };
        let over = |seen: &Seen| matches!(seen, Seen::Record(_, true));
        let snapshots = wait::watch(polling, read, over, timed_out);
        match wait::until_final(snapshots, |_| {}).await? {
            Some(Seen::Record(record, _)) => Ok(*record),
            _ => Err(Error::InvalidArgument("the wait saw no state".into())),
        }
    }

    /// One poll of a wait: the record (and the new log lines, when forwarded).
    async fn poll(
        &self,
        options: WaitOptions,
        logged: &AtomicUsize,
        aborting_since: &Mutex<Option<Instant>>,
    ) -> Result<Seen, Error> {
        let record = match self.detail().await {
            Ok(record) => record,
            Err(e)
                if e.reason() == Some(Reason::RunNotFound)
                    && self
                        .started
                        .is_some_and(|s| s.elapsed() < options.not_found_grace) =>
            {
                return Ok(Seen::Unknown);
            }
            Err(e) => return Err(e),
        };
        if options.forward_logs {
            let shown = self.forward_logs(logged.load(Ordering::Relaxed)).await;
            logged.store(shown, Ordering::Relaxed);
        }
        let over = match record.status {
            RunStatus::Succeeded | RunStatus::Failed => true,
            RunStatus::Aborting => {
                let mut since = aborting_since.lock().unwrap_or_else(|e| e.into_inner());
                since.get_or_insert_with(Instant::now).elapsed() >= options.aborting_grace
            }
            _ => {
                *aborting_since.lock().unwrap_or_else(|e| e.into_inner()) = None;
                false
            }
        };
        if !over {
            tracing::debug!(run = %self.slug, status = %record.status, results = record.results, "waiting");
        }
        Ok(Seen::Record(Box::new(record), over))
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
    /// [`Reason::AbortFailed`].
    pub async fn abort(&self) -> Result<(), Error> {
        self.client.inner.api.abort(&self.slug).await
    }

    /// Starts a new run with this run's input. CoreClaw requires a `callback_url` here.
    pub async fn rerun(&self, callback_url: &str) -> Result<Run, Error> {
        let slug = self
            .client
            .inner
            .api
            .rerun(&self.slug, callback_url)
            .await?;
        Ok(self.client.started(slug))
    }

    /// The latest log lines.
    pub async fn log(&self) -> Result<RunLog, Error> {
        self.client.inner.api.log(&self.slug).await
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
            Err(io) => io.into(),
        })
}
