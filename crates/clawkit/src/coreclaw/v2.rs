//! CoreClaw's v2 API (`/api/v2`, the key as a Bearer token): one implementation of [`Api`]. What
//! only v2 has (Worker tasks, last runs, proxy regions) goes through it whichever API the client
//! speaks (see `tasks.rs`).

use clawkit_runtime::paging::Throttle;
use clawkit_runtime::{Fetched, Paged, Runtime, Safety};
use coreclaw_v2_api::types;
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use crate::call::Calls;
use crate::client::Optionally;

use super::api::{Api, Call, StartRequest};
use super::envelope::Envelope;
use super::error::{Error, Reason, refusal};
use super::model::{
    Account, ApiVersion, ExportFormat, LogEntry, LogLevel, RunLog, RunRecord, RunStatus, StoreItem,
    SyncPage,
};
use super::worker::Worker;

/// The v2 API: its generated client, the same with the synchronous-run timeout, and the runtime
/// (the key as a Bearer token, retries, limits).
#[derive(Debug, Clone)]
pub(crate) struct V2 {
    pub(crate) api: coreclaw_v2_api::Client,
    pub(crate) long: coreclaw_v2_api::Client,
    pub(crate) runtime: Runtime,
}

// v2's calls read CoreClaw's envelope; error bodies are its `ErrorEnvelope`.
crate::call::calls!(V2: Reason, coreclaw_v2_api::Client, types::ErrorEnvelope, Envelope, refusal);

/// The largest page v2 allows (`limit` 1..=100).
pub(crate) const MAX_PAGE: u32 = 100;

fn decimal(value: &str, path: &str) -> Result<Decimal, Error> {
    value.trim().parse::<Decimal>().map_err(|e| Error::Decode {
        path: path.into(),
        message: format!("`{value}` is not a decimal: {e}"),
    })
}

/// The offset of result page `page` (1-based) of `size` items: v2 pages by offset.
pub(crate) fn offset_of(page: u64, size: u32) -> i64 {
    i64::try_from(page.saturating_sub(1).saturating_mul(u64::from(size))).unwrap_or(i64::MAX)
}

/// v2's status words onto the one `RunStatus` (an unknown word is kept as `Unknown(0)`).
pub(crate) fn status_of(word: &str) -> RunStatus {
    match word {
        "ready" => RunStatus::Ready,
        "running" => RunStatus::Running,
        "succeeded" => RunStatus::Succeeded,
        "failed" => RunStatus::Failed,
        "aborting" => RunStatus::Aborting,
        other => {
            tracing::warn!(
                status = other,
                "CoreClaw v2 sent a run status clawkit does not know"
            );
            RunStatus::Unknown(0)
        }
    }
}

fn word_of(status: RunStatus) -> Option<types::ListWorkerRunsStatus> {
    Some(match status {
        RunStatus::Ready => types::ListWorkerRunsStatus::Ready,
        RunStatus::Running => types::ListWorkerRunsStatus::Running,
        RunStatus::Succeeded => types::ListWorkerRunsStatus::Succeeded,
        RunStatus::Failed => types::ListWorkerRunsStatus::Failed,
        RunStatus::Aborting => types::ListWorkerRunsStatus::Aborting,
        _ => return None,
    })
}

impl From<types::WorkerRun> for RunRecord {
    fn from(r: types::WorkerRun) -> Self {
        let usage = r.usage.as_deref().unwrap_or("0");
        let usage = usage.trim().parse::<Decimal>().unwrap_or_else(|_| {
            tracing::warn!(usage, run = %r.slug, "run usage is not a decimal; read as 0");
            Decimal::ZERO
        });
        RunRecord {
            status: status_of(&r.status),
            err_msg: r.err_msg.unwrap_or_default(),
            worker_slug: r.scraper_slug,
            worker_title: r.scraper_title,
            results: r.results.and_then(|n| u64::try_from(n).ok()).unwrap_or(0),
            usage,
            started_at: r.started_at.filter(|t| *t > 0),
            finished_at: r.finished_at.filter(|t| *t > 0),
            duration: r.duration.unwrap_or(0),
            origin: r.origin.unwrap_or_default(),
            traffic: r.traffic.unwrap_or(0),
            version: r.version.unwrap_or_default(),
            slug: r.slug,
        }
    }
}

impl Api for V2 {
    fn version(&self) -> ApiVersion {
        ApiVersion::V2
    }

    fn throttle(&self) -> Throttle {
        self.runtime.throttle()
    }

    fn search<'a>(&'a self, query: &'a str, limit: u64) -> Call<'a, Vec<StoreItem>> {
        Box::pin(async move {
            let limit = limit.clamp(1, u64::from(MAX_PAGE));
            let data: types::WorkerList = self
                .call("searching the store", Safety::Idempotent, |api| {
                    api.list_store().keyword(query).limit(limit).send()
                })
                .await?;
            Ok(data
                .scraper
                .into_iter()
                .map(|w| StoreItem {
                    slug: w.slug,
                    title: w.title,
                    description: w.description.unwrap_or_default(),
                })
                .collect())
        })
    }

    fn worker<'a>(&'a self, id: &'a str) -> Call<'a, Worker> {
        Box::pin(async move {
            let detail: types::WorkerDetail = self
                .call("reading the Worker", Safety::Idempotent, |api| {
                    api.get_worker().worker_id(id).send()
                })
                .await?;
            let schema: types::WorkerInputSchema = self
                .call(
                    "reading the Worker's input schema",
                    Safety::Idempotent,
                    |api| api.get_worker_input_schema().worker_id(id).send(),
                )
                .await?;
            Ok(Worker::from_schema(
                id,
                detail.version,
                detail.readme.unwrap_or_default(),
                &detail.parameters.system,
                Value::Object(schema.input_schema),
            ))
        })
    }

    fn account(&self) -> Call<'_, Account> {
        Box::pin(async move {
            let data: types::Account = self
                .call("reading the account", Safety::Idempotent, |api| {
                    api.get_account().send()
                })
                .await?;
            Ok(Account {
                balance: decimal(&data.balance, "data.balance")?,
                traffic_bytes: None,
                traffic_expires_at: None,
                balance_expires_at: data.balance_expiration_at,
            })
        })
    }

    /// A synchronous start holds the request (the client's `sync_timeout`) and answers with the
    /// first results.
    fn start<'a>(&'a self, start: StartRequest<'a>) -> Call<'a, (String, Option<SyncPage>)> {
        Box::pin(async move {
            let body: types::RunWorkerRequest = serde_json::from_value(json!({
                "input": start.input.to_json(),
                "version": start.input.version,
                "is_async": start.is_async,
                "callback_url": start.callback_url,
                "limit": MAX_PAGE,
                "offset": 0,
            }))
            .map_err(|e| {
                Error::InvalidArgument(format!("input: the run request does not fit the spec: {e}"))
            })?;
            let api = if start.is_async {
                &self.api
            } else {
                &self.long
            };
            let data: types::RunStarted = self
                .call("starting a run", Safety::Creates, |_| {
                    api.run_worker()
                        .worker_id(start.worker)
                        .body(body.clone())
                        .send()
                })
                .await?;
            Ok(started(data))
        })
    }

    fn detail<'a>(&'a self, run: &'a str) -> Call<'a, RunRecord> {
        Box::pin(async move {
            let data: types::WorkerRun = self
                .call("reading the run", Safety::Idempotent, |api| {
                    api.get_worker_run().run_id(run).send()
                })
                .await?;
            Ok(RunRecord::from(data))
        })
    }

    fn abort<'a>(&'a self, run: &'a str) -> Call<'a, ()> {
        // Not retried after a broken connection: the abort may have happened. A rate limit is.
        Box::pin(self.call("aborting the run", Safety::Creates, move |api| {
            api.abort_worker_run().run_id(run).send()
        }))
    }

    fn rerun<'a>(&'a self, run: &'a str, callback_url: &'a str) -> Call<'a, String> {
        Box::pin(async move {
            let body = types::RerunRequest {
                callback_url: Some(callback_url.to_string()),
                is_async: Some(true),
                ..Default::default()
            };
            let data: types::RunStarted = self
                .call("rerunning", Safety::Creates, |api| {
                    api.rerun_worker_run().run_id(run).body(body.clone()).send()
                })
                .await?;
            Ok(data.run_slug)
        })
    }

    fn run_task<'a>(&'a self, task: &'a str, callback_url: &'a str) -> Call<'a, String> {
        Box::pin(async move {
            let body = types::RunTaskRequest {
                callback_url: Some(callback_url.to_string()),
                is_async: Some(true),
                ..Default::default()
            };
            let data: types::RunStarted = self
                .call("running the task", Safety::Creates, |api| {
                    api.run_worker_task()
                        .worker_task_id(task)
                        .body(body.clone())
                        .send()
                })
                .await?;
            Ok(data.run_slug)
        })
    }

    fn log<'a>(&'a self, run: &'a str) -> Call<'a, RunLog> {
        Box::pin(async move {
            let data: types::RunLog = self
                .call("reading the log", Safety::Idempotent, |api| {
                    api.get_worker_run_log().run_id(run).send()
                })
                .await?;
            Ok(RunLog {
                entries: data
                    .list
                    .into_iter()
                    .map(|line| LogEntry {
                        level: LogLevel::Info,
                        group: String::new(),
                        content: line,
                        timestamp: 0,
                    })
                    .collect(),
                all_logs_url: data.all_logs_url.unwrap_or_default(),
                result_count: data
                    .result_count
                    .and_then(|n| u64::try_from(n).ok())
                    .unwrap_or(0),
            })
        })
    }

    fn max_page(&self) -> u32 {
        MAX_PAGE
    }

    /// Result page `page` (1-based) of `size` items, as an offset.
    fn results<'a>(
        &'a self,
        run: &'a str,
        page: u64,
        size: u32,
    ) -> Call<'a, Fetched<Map<String, Value>, ()>> {
        Box::pin(async move {
            let size = size.clamp(1, MAX_PAGE);
            let offset = offset_of(page, size);
            let data: types::ResultPage = self
                .call("reading a result page", Safety::Idempotent, |api| {
                    api.list_worker_run_results()
                        .run_id(run)
                        .offset(offset)
                        .limit(u64::from(size))
                        .send()
                })
                .await?;
            Ok(Fetched {
                items: data.list.into_iter().map(|r| r.0).collect(),
                next: (),
                total: u64::try_from(data.count).ok(),
            })
        })
    }

    fn export_url<'a>(
        &'a self,
        run: &'a str,
        format: ExportFormat,
        keys: &'a [&'a str],
    ) -> Call<'a, String> {
        Box::pin(async move {
            let format = match format {
                ExportFormat::Csv => types::ExportWorkerRunResultsFormat::Csv,
                ExportFormat::Json => types::ExportWorkerRunResultsFormat::Json,
            };
            let keys = keys.join(",");
            let keys = (!keys.is_empty()).then_some(keys);
            let data: types::ExportLink = self
                .call("requesting an export", Safety::Idempotent, |api| {
                    api.export_worker_run_results()
                        .run_id(run)
                        .format(format)
                        .optionally(keys.clone(), |r, k| r.filter_keys(k))
                        .send()
                })
                .await?;
            Ok(data.download_url)
        })
    }

    fn runs(
        &self,
        worker: Option<&str>,
        status: Option<RunStatus>,
    ) -> Paged<RunRecord, Error, u64> {
        let v2 = self.clone();
        let worker = worker.map(str::to_string);
        let status = match status {
            None => Ok(None),
            Some(s) => word_of(s)
                .map(Some)
                .ok_or_else(|| format!("status: v2 cannot filter by {s}")),
        };
        Paged::numbered("limit", MAX_PAGE, move |page, size| {
            let v2 = v2.clone();
            let worker = worker.clone();
            let status = status.clone();
            async move {
                let status = status.map_err(Error::InvalidArgument)?;
                let offset = offset_of(page, size);
                let data: types::WorkerRunPage = v2
                    .call("listing runs", Safety::Idempotent, |api| {
                        api.list_worker_runs()
                            .offset(offset)
                            .limit(u64::from(size.max(1)))
                            .optionally(worker.clone(), |r, w| r.worker_id(w))
                            .optionally(status, |r, s| r.status(s))
                            .send()
                    })
                    .await?;
                Ok(Fetched {
                    items: data.list.into_iter().map(RunRecord::from).collect(),
                    next: (),
                    total: u64::try_from(data.count).ok(),
                })
            }
        })
        .throttle(self.runtime.throttle())
    }
}

fn started(data: types::RunStarted) -> (String, Option<SyncPage>) {
    let page = (!data.list.is_empty() || data.count.is_some()).then(|| SyncPage {
        items: data.list.into_iter().map(|r| r.0).collect(),
        total: data.count.and_then(|c| u64::try_from(c).ok()),
    });
    (data.run_slug, page)
}
