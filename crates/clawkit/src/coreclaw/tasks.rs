//! What only CoreClaw's v2 API has, whichever API the client speaks: saved Worker tasks (a
//! Worker, its saved input and an optional schedule), last runs and proxy regions.

use clawkit_runtime::{Fetched, Paged, Safety};
use coreclaw_v2_api::types;
use serde_json::{Map, Value, json};

use crate::call::Calls;
use crate::client::Optionally;

use super::client::Client;
use super::error::Error;
use super::input::Input;
use super::run::Run;
use super::v2::{MAX_PAGE, offset_of};
use super::worker::Worker;

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
        let throttle = self.inner.v2.runtime.throttle();
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
                    .inner
                    .v2
                    .call("listing tasks", Safety::Idempotent, |api| {
                        api.list_worker_tasks()
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
            .inner
            .v2
            .call("reading the task", Safety::Idempotent, |api| {
                api.get_worker_task().worker_task_id(slug).send()
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
            .inner
            .v2
            .call("saving the task", Safety::Creates, |api| {
                api.create_worker_task().body(body.clone()).send()
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
        self.inner
            .v2
            .call("updating the task", Safety::Idempotent, |api| {
                api.update_worker_task()
                    .worker_task_id(slug)
                    .body(body.clone())
                    .send()
            })
            .await
    }

    /// Deletes a saved task (v2).
    pub async fn delete_task(&self, slug: &str) -> Result<(), Error> {
        self.inner
            .v2
            .call("deleting the task", Safety::Idempotent, |api| {
                api.delete_worker_task().worker_task_id(slug).send()
            })
            .await
    }

    /// A saved task's input as saved (v2): `(input, version)`.
    pub async fn task_input(&self, slug: &str) -> Result<(Value, Option<String>), Error> {
        let data: types::WorkerTaskInput = self
            .inner
            .v2
            .call("reading the task input", Safety::Idempotent, |api| {
                api.get_worker_task_input().worker_task_id(slug).send()
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
        self.inner
            .v2
            .call("saving the task input", Safety::Idempotent, |api| {
                api.update_worker_task_input()
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
            .inner
            .v2
            .call("running the task", Safety::Creates, |api| {
                api.run_worker_task()
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
                self.inner
                    .v2
                    .call("reading the last run", Safety::Idempotent, |api| {
                        api.get_worker_last_run().worker_id(w).send()
                    })
                    .await?
            }
            None => {
                self.inner
                    .v2
                    .call("reading the last run", Safety::Idempotent, |api| {
                        api.get_last_worker_run().send()
                    })
                    .await?
            }
        };
        Ok(self.run(data.slug))
    }

    /// The proxy regions a Worker can run from (v2), named in `language` (`en` by default).
    pub async fn proxy_regions(&self, language: Option<&str>) -> Result<Vec<ProxyRegion>, Error> {
        let data: types::ProxyRegionList = self
            .inner
            .v2
            .call("listing proxy regions", Safety::Idempotent, |api| {
                let r = api.list_proxy_regions();
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
