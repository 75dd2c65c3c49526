//! CoreClaw's v2 API (`/api/v2`, Bearer auth): the shared vocabulary's v2 side, and what only v2
//! has (Worker tasks, last runs, proxy regions).

use clawkit_runtime::{Fetched, Paged, Safety};
use coreclaw_v2_api::types;
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use super::input::Input;
use super::results::ExportFormat;
use super::run::{LogEntry, LogLevel, Run, RunLog, RunRecord, RunStatus, SyncPage};
use super::{Account, Client, Error, StoreItem, Worker};
use crate::client::Optionally;

/// The largest page v2 allows (`limit` 1..=100).
pub(crate) const MAX_PAGE: u32 = 100;

fn decimal(value: &str, path: &str) -> Result<Decimal, Error> {
    value.trim().parse::<Decimal>().map_err(|e| Error::Decode {
        path: path.into(),
        message: format!("`{value}` is not a decimal: {e}"),
    })
}

/// The offset of result page `page` (1-based) of `size` items: v2 pages by offset.
fn offset_of(page: u64, size: u32) -> i64 {
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

// ---- the shared vocabulary through v2 ---------------------------------------------------------

pub(crate) async fn search(
    client: &Client,
    query: &str,
    limit: u64,
) -> Result<Vec<StoreItem>, Error> {
    let limit = limit.clamp(1, u64::from(MAX_PAGE));
    let data: types::WorkerList = client
        .send("searching the store", Safety::Idempotent, || {
            client
                .inner
                .v2
                .list_store()
                .keyword(query)
                .limit(limit)
                .send()
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
}

pub(crate) async fn worker(client: &Client, id: &str) -> Result<Worker, Error> {
    let detail: types::WorkerDetail = client
        .send("reading the Worker", Safety::Idempotent, || {
            client.inner.v2.get_worker().worker_id(id).send()
        })
        .await?;
    let schema: types::WorkerInputSchema = client
        .send(
            "reading the Worker's input schema",
            Safety::Idempotent,
            || {
                client
                    .inner
                    .v2
                    .get_worker_input_schema()
                    .worker_id(id)
                    .send()
            },
        )
        .await?;
    Ok(Worker::from_schema(
        id,
        detail.version,
        detail.readme.unwrap_or_default(),
        &detail.parameters.system,
        Value::Object(schema.input_schema),
    ))
}

pub(crate) async fn account(client: &Client) -> Result<Account, Error> {
    let data: types::Account = client
        .send("reading the account", Safety::Idempotent, || {
            client.inner.v2.get_account().send()
        })
        .await?;
    Ok(Account {
        balance: decimal(&data.balance, "data.balance")?,
        traffic_bytes: None,
        traffic_expires_at: None,
        balance_expires_at: data.balance_expiration_at,
    })
}

/// Starts a run of Worker `id`; a synchronous start holds the request (the client's
/// `sync_timeout`) and answers with the first results.
pub(crate) async fn start(
    client: &Client,
    id: &str,
    input: &Input,
    is_async: bool,
    callback_url: Option<String>,
) -> Result<(String, Option<SyncPage>), Error> {
    let body: types::RunWorkerRequest = serde_json::from_value(json!({
        "input": input.to_json(),
        "version": input.version,
        "is_async": is_async,
        "callback_url": callback_url,
        "limit": MAX_PAGE,
        "offset": 0,
    }))
    .map_err(|e| {
        Error::InvalidArgument(format!("input: the run request does not fit the spec: {e}"))
    })?;
    let api = if is_async {
        &client.inner.v2
    } else {
        &client.inner.v2_long
    };
    let data: types::RunStarted = client
        .send("starting a run", Safety::Creates, || {
            api.run_worker().worker_id(id).body(body.clone()).send()
        })
        .await?;
    Ok(started(data))
}

fn started(data: types::RunStarted) -> (String, Option<SyncPage>) {
    let page = (!data.list.is_empty() || data.count.is_some()).then(|| SyncPage {
        items: data.list.into_iter().map(|r| r.0).collect(),
        total: data.count.and_then(|c| u64::try_from(c).ok()),
    });
    (data.run_slug, page)
}

pub(crate) async fn detail(client: &Client, slug: &str) -> Result<RunRecord, Error> {
    let data: types::WorkerRun = client
        .send("reading the run", Safety::Idempotent, || {
            client.inner.v2.get_worker_run().run_id(slug).send()
        })
        .await?;
    Ok(RunRecord::from(data))
}

pub(crate) async fn abort(client: &Client, slug: &str) -> Result<(), Error> {
    // Not retried after a broken connection: the abort may have happened. A rate limit is.
    client
        .send("aborting the run", Safety::Creates, || {
            client.inner.v2.abort_worker_run().run_id(slug).send()
        })
        .await
}

pub(crate) async fn rerun(
    client: &Client,
    slug: &str,
    callback_url: Option<&str>,
) -> Result<String, Error> {
    let body = types::RerunRequest {
        callback_url: callback_url.map(str::to_string),
        is_async: Some(true),
        ..Default::default()
    };
    let data: types::RunStarted = client
        .send("rerunning", Safety::Creates, || {
            client
                .inner
                .v2
                .rerun_worker_run()
                .run_id(slug)
                .body(body.clone())
                .send()
        })
        .await?;
    Ok(data.run_slug)
}

pub(crate) async fn log(client: &Client, slug: &str) -> Result<RunLog, Error> {
    let data: types::RunLog = client
        .send("reading the log", Safety::Idempotent, || {
            client.inner.v2.get_worker_run_log().run_id(slug).send()
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
}

/// Result page `page` (1-based) of `size` items, as an offset.
pub(crate) async fn results(
    client: &Client,
    slug: &str,
    page: u64,
    size: u32,
) -> Result<Fetched<Map<String, Value>, ()>, Error> {
    let size = size.clamp(1, MAX_PAGE);
    let offset = offset_of(page, size);
    let data: types::ResultPage = client
        .send("reading a result page", Safety::Idempotent, || {
            client
                .inner
                .v2
                .list_worker_run_results()
                .run_id(slug)
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
}

pub(crate) async fn export_url(
    client: &Client,
    slug: &str,
    format: ExportFormat,
    keys: &[&str],
) -> Result<String, Error> {
    let format = match format {
        ExportFormat::Csv => types::ExportWorkerRunResultsFormat::Csv,
        ExportFormat::Json => types::ExportWorkerRunResultsFormat::Json,
    };
    let keys = keys.join(",");
    let data: types::ExportLink = client
        .send("requesting an export", Safety::Idempotent, || {
            let request = client
                .inner
                .v2
                .export_worker_run_results()
                .run_id(slug)
                .format(format);
            if keys.is_empty() {
                request.send()
            } else {
                request.filter_keys(keys.clone()).send()
            }
        })
        .await?;
    Ok(data.download_url)
}

pub(crate) fn runs(
    client: &Client,
    worker: Option<&str>,
    status: Option<RunStatus>,
) -> Paged<RunRecord, Error, u64> {
    let throttle = client.inner.runtime.throttle();
    let client = client.clone();
    let worker = worker.map(str::to_string);
    let status = match status {
        None => Ok(None),
        Some(s) => word_of(s)
            .map(Some)
            .ok_or_else(|| Error::InvalidArgument(format!("status: v2 cannot filter by {s}"))),
    };
    Paged::numbered("limit", MAX_PAGE, move |page, size| {
        let client = client.clone();
        let worker = worker.clone();
        let status = status.as_ref().map(Clone::clone).map_err(|e| e.to_string());
        async move {
            let status = status.map_err(Error::InvalidArgument)?;
            let offset = offset_of(page, size);
            let data: types::WorkerRunPage = client
                .send("listing runs", Safety::Idempotent, || {
                    client
                        .inner
                        .v2
                        .list_worker_runs()
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
    .throttle(throttle)
}

// ---- what only v2 has -----------------------------------------------------------------------

/// A proxy region a Worker can run from (`proxy_region`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyRegion {
    /// Region code, e.g. `US`.
    pub code: String,
    /// Its name in the requested language.
    pub name: String,
}

/// When a saved task runs by itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    /// Every day at `time` (`HH:mm`).
    Daily {
        /// `HH:mm`.
        time: String,
    },
    /// Every week on `weekday` (1 Monday .. 7 Sunday) at `time`.
    Weekly {
        /// 1 Monday .. 7 Sunday.
        weekday: u8,
        /// `HH:mm`.
        time: String,
    },
    /// Every month on `day` (1..31) at `time`.
    Monthly {
        /// 1..31.
        day: u8,
        /// `HH:mm`.
        time: String,
    },
    /// Once, on `date` (`YYYY-MM-DD`) at `time`.
    Once {
        /// `YYYY-MM-DD`.
        date: String,
        /// `HH:mm`.
        time: String,
    },
}

impl Schedule {
    /// The request fields of this schedule (enabled).
    fn fields(&self) -> Map<String, Value> {
        let (kind, time, extra) = match self {
            Schedule::Daily { time } => (1, time, None),
            Schedule::Weekly { weekday, time } => {
                (2, time, Some(("schedule_weekday", json!(weekday))))
            }
            Schedule::Monthly { day, time } => (3, time, Some(("schedule_day", json!(day)))),
            Schedule::Once { date, time } => (4, time, Some(("schedule_once_date", json!(date)))),
        };
        let mut out = Map::new();
        out.insert("schedule_enabled".into(), json!(1));
        out.insert("schedule_type".into(), json!(kind));
        out.insert("schedule_time".into(), json!(time));
        if let Some((k, v)) = extra {
            out.insert(k.into(), v);
        }
        out
    }

    fn of(t: &types::WorkerTask) -> Option<Schedule> {
        if t.schedule_enabled != Some(1) {
            return None;
        }
        let time = t.schedule_time.clone().unwrap_or_default();
        Some(match t.schedule_type? {
            1 => Schedule::Daily { time },
            2 => Schedule::Weekly {
                weekday: u8::try_from(t.schedule_weekday?).ok()?,
                time,
            },
            3 => Schedule::Monthly {
                day: u8::try_from(t.schedule_day?).ok()?,
                time,
            },
            4 => Schedule::Once {
                date: t.schedule_once_date.clone()?,
                time,
            },
            _ => return None,
        })
    }
}

/// A saved Worker task in a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskSummary {
    /// Task slug (what the other task methods take).
    pub slug: String,
    /// Numeric id.
    pub id: i64,
    /// Title.
    pub title: String,
    /// The Worker it runs.
    pub worker_slug: Option<String>,
    /// The Worker version it runs.
    pub version: Option<String>,
}

/// A saved Worker task: a Worker, its saved input and an optional schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    /// Task slug.
    pub slug: String,
    /// Numeric id.
    pub id: i64,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// The Worker it runs (slug, and path `owner~name`).
    pub worker_slug: Option<String>,
    /// The Worker's path.
    pub worker_path: Option<String>,
    /// The Worker version it runs.
    pub version: Option<String>,
    /// Its schedule, when enabled.
    pub schedule: Option<Schedule>,
}

/// A new saved task.
#[derive(Debug, Clone)]
pub struct NewTask {
    /// Title (required, not empty).
    pub title: String,
    /// Description.
    pub description: Option<String>,
    /// When it runs by itself (`None`: only when run).
    pub schedule: Option<Schedule>,
}

/// Changes to a saved task (`None` keeps the current value).
#[derive(Debug, Clone, Default)]
pub struct TaskUpdate {
    /// New title.
    pub title: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New schedule.
    pub schedule: Option<Schedule>,
    /// Turn the schedule off.
    pub unschedule: bool,
}

fn request<T: serde::de::DeserializeOwned>(what: &str, value: Value) -> Result<T, Error> {
    serde_json::from_value(value).map_err(|e| {
        Error::InvalidArgument(format!("{what}: the request does not fit the spec: {e}"))
    })
}

impl Client {
    /// Saved Worker tasks (v2), newest first as CoreClaw lists them; filter by Worker (slug or
    /// `owner~name`) and by a keyword in the title or slug.
    pub fn tasks(
        &self,
        worker: Option<&str>,
        keyword: Option<&str>,
    ) -> Paged<TaskSummary, Error, u64> {
        let throttle = self.inner.runtime.throttle();
        let client = self.clone();
        let worker = worker.map(str::to_string);
        let keyword = keyword.map(str::to_string);
        Paged::numbered("limit", MAX_PAGE, move |page, size| {
            let client = client.clone();
            let worker = worker.clone();
            let keyword = keyword.clone();
            async move {
                let offset = offset_of(page, size);
                let data: types::WorkerTaskPage = client
                    .send("listing tasks", Safety::Idempotent, || {
                        client
                            .inner
                            .v2
                            .list_worker_tasks()
                            .offset(offset)
                            .limit(u64::from(size.max(1)))
                            .optionally(worker.clone(), |r, w| r.worker_id(w))
                            .optionally(keyword.clone(), |r, k| r.keyword(k))
                            .send()
                    })
                    .await?;
                Ok(Fetched {
                    items: data
                        .list
                        .into_iter()
                        .map(|t| TaskSummary {
                            slug: t.slug,
                            id: t.id,
                            title: t.title,
                            worker_slug: t.worker_slug,
                            version: t.version,
                        })
                        .collect(),
                    next: (),
                    total: u64::try_from(data.count).ok(),
                })
            }
        })
        .throttle(throttle)
    }

    /// One saved task (v2).
    pub async fn task(&self, slug: &str) -> Result<Task, Error> {
        let t: types::WorkerTask = self
            .send("reading the task", Safety::Idempotent, || {
                self.inner.v2.get_worker_task().worker_task_id(slug).send()
            })
            .await?;
        Ok(Task {
            schedule: Schedule::of(&t),
            slug: t.slug,
            id: t.id,
            title: t.title,
            description: t.description.unwrap_or_default(),
            worker_slug: t.worker_slug,
            worker_path: t.worker_path,
            version: t.version,
        })
    }

    /// Saves a task of `worker` with a validated `input` (v2); returns its slug. Not retried
    /// after a broken connection (it may have been saved).
    pub async fn create_task(
        &self,
        worker: &Worker,
        input: &Input,
        task: &NewTask,
    ) -> Result<String, Error> {
        if input.scraper_slug != worker.slug {
            return Err(Error::InvalidArgument(format!(
                "input: it was built for Worker {}, not {}",
                input.scraper_slug, worker.slug
            )));
        }
        if task.title.trim().is_empty() {
            return Err(Error::InvalidArgument("title: must not be empty".into()));
        }
        let mut body = json!({
            "worker_id": worker.slug,
            "title": task.title,
            "input": input.to_json(),
            "version": input.version,
        });
        if let Some(d) = &task.description {
            body["description"] = json!(d);
        }
        if let (Some(s), Some(fields)) = (&task.schedule, body.as_object_mut()) {
            fields.extend(s.fields());
        }
        let body: types::CreateRequest = request("task", body)?;
        let data: types::WorkerTaskCreated = self
            .send("saving the task", Safety::Creates, || {
                self.inner.v2.create_worker_task().body(body.clone()).send()
            })
            .await?;
        Ok(data.slug)
    }

    /// Changes a saved task's title, description or schedule (v2).
    pub async fn update_task(&self, slug: &str, update: &TaskUpdate) -> Result<(), Error> {
        let mut body = Map::new();
        if let Some(t) = &update.title {
            body.insert("title".into(), json!(t));
        }
        if let Some(d) = &update.description {
            body.insert("description".into(), json!(d));
        }
        if let Some(s) = &update.schedule {
            body.extend(s.fields());
        } else if update.unschedule {
            body.insert("schedule_enabled".into(), json!(0));
        }
        let body: types::UpdateRequest = request("task", Value::Object(body))?;
        self.send("updating the task", Safety::Idempotent, || {
            self.inner
                .v2
                .update_worker_task()
                .worker_task_id(slug)
                .body(body.clone())
                .send()
        })
        .await
    }

    /// Deletes a saved task (v2).
    pub async fn delete_task(&self, slug: &str) -> Result<(), Error> {
        self.send("deleting the task", Safety::Idempotent, || {
            self.inner
                .v2
                .delete_worker_task()
                .worker_task_id(slug)
                .send()
        })
        .await
    }

    /// A saved task's input as saved (v2): `(input, version)`.
    pub async fn task_input(&self, slug: &str) -> Result<(Value, Option<String>), Error> {
        let data: types::WorkerTaskInput = self
            .send("reading the task input", Safety::Idempotent, || {
                self.inner
                    .v2
                    .get_worker_task_input()
                    .worker_task_id(slug)
                    .send()
            })
            .await?;
        Ok((data.input, data.version))
    }

    /// Replaces a saved task's input with a validated one (v2).
    pub async fn set_task_input(&self, slug: &str, input: &Input) -> Result<(), Error> {
        let body = types::UpdateInputBody {
            input: input.to_json(),
            version: Some(input.version.clone()),
        };
        self.send("saving the task input", Safety::Idempotent, || {
            self.inner
                .v2
                .update_worker_task_input()
                .worker_task_id(slug)
                .body(body.clone())
                .send()
        })
        .await
    }

    /// Runs a saved task (v2); `callback_url` is optional here.
    pub async fn start_task(&self, slug: &str, callback_url: Option<&str>) -> Result<Run, Error> {
        let body = types::RunTaskRequest {
            callback_url: callback_url.map(str::to_string),
            is_async: Some(true),
            ..Default::default()
        };
        let data: types::RunStarted = self
            .send("running the task", Safety::Creates, || {
                self.inner
                    .v2
                    .run_worker_task()
                    .worker_task_id(slug)
                    .body(body.clone())
                    .send()
            })
            .await?;
        let mut run = self.run(data.run_slug);
        run.started = Some(std::time::Instant::now());
        Ok(run)
    }

    /// The newest run (v2): of one Worker (slug or `owner~name`), or of the whole account.
    pub async fn last_run(&self, worker: Option<&str>) -> Result<Run, Error> {
        let data: types::WorkerRun = match worker {
            Some(w) => {
                self.send("reading the last run", Safety::Idempotent, || {
                    self.inner.v2.get_worker_last_run().worker_id(w).send()
                })
                .await?
            }
            None => {
                self.send("reading the last run", Safety::Idempotent, || {
                    self.inner.v2.get_last_worker_run().send()
                })
                .await?
            }
        };
        Ok(self.run(data.slug))
    }

    /// The proxy regions a Worker can run from (v2), named in `language` (`en` by default).
    pub async fn proxy_regions(&self, language: Option<&str>) -> Result<Vec<ProxyRegion>, Error> {
        let data: types::ProxyRegionList = self
            .send("listing proxy regions", Safety::Idempotent, || {
                let r = self.inner.v2.list_proxy_regions();
                match language {
                    Some(l) => r.language(l).send(),
                    None => r.send(),
                }
            })
            .await?;
        Ok(data
            .list
            .into_iter()
            .map(|r| ProxyRegion {
                code: r.code,
                name: r.name,
            })
            .collect())
    }
}
