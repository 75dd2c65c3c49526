//! v2's saved Worker tasks: list, create, read, change, delete, read and change the input, and
//! run one (v1's `task/run` runs them too).

use std::collections::HashMap;
use std::num::NonZeroU64;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use coreclaw_v2_api::types;
use serde_json::Value;

use super::envelope::{Answer, done, ok};
use super::request::{body, callback, check, sync_window, window};
use super::runs::started;
use super::wire::{task_of, task_summary};
use super::workers::{worker_filter, worker_of};
use crate::coreclaw::launch::launch;
use crate::coreclaw::ops;
use crate::coreclaw::state::CoreClaw;
use crate::coreclaw::task::Task;
use crate::coreclaw::validate;
use crate::coreclaw::worker::Worker;
use crate::kit::pages::from_offset;
use crate::kit::read::json_type;

type Shared = State<Arc<CoreClaw>>;
type Params = Query<HashMap<String, String>>;

/// Checks a task's input against its Worker's schema, as a run would.
fn check_input(worker: &Worker, input: &Value, problems: &mut Vec<String>) {
    match ops::custom_of(input) {
        Value::Object(custom) => {
            validate::validate_custom(worker, &custom, problems);
        }
        other => problems.push(format!(
            "input: expected an object (the Worker's input), got {}",
            json_type(&other)
        )),
    }
}

/// A Worker version a task may name: the current one (or `latest`).
fn version_of(worker: &Worker, version: Option<&str>, problems: &mut Vec<String>) -> String {
    match version {
        None | Some("latest") | Some("") => worker.version.to_string(),
        Some(v) if v == worker.version => v.to_string(),
        Some(v) => {
            problems.push(format!(
                "version: {v} is not available; the Worker's current version is {}",
                worker.version
            ));
            v.to_string()
        }
    }
}

/// `HH:mm`.
fn check_time(time: Option<&str>, problems: &mut Vec<String>) {
    if let Some(t) = time {
        let ok = t.len() == 5
            && t.as_bytes()[2] == b':'
            && t[..2].parse::<u8>().is_ok_and(|h| h < 24)
            && t[3..].parse::<u8>().is_ok_and(|m| m < 60);
        if !ok {
            problems.push(format!("schedule_time: expected HH:mm, got `{t}`"));
        }
    }
}

/// The bound a typed number cannot state: day of month 1..=31.
fn check_day(day: Option<NonZeroU64>, problems: &mut Vec<String>) {
    if let Some(d) = day.filter(|d| d.get() > 31) {
        problems.push(format!("schedule_day: expected 1 to 31, got {d}"));
    }
}

/// `YYYY-MM-DD`.
fn check_date(date: Option<&str>, problems: &mut Vec<String>) {
    if let Some(d) = date
        && chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_err()
    {
        problems.push(format!(
            "schedule_once_date: expected YYYY-MM-DD, got `{d}`"
        ));
    }
}

pub(super) async fn list_tasks(State(cc): Shared, Query(q): Params) -> Answer {
    let mut problems = Vec::new();
    let (offset, limit) = window(&q, &mut problems);
    check(problems)?;
    let worker = worker_filter(&cc, &q);
    let keyword = q.get("keyword").map(|k| k.trim().to_lowercase());
    let inner = cc.lock();
    let matching: Vec<&Task> = inner
        .tasks
        .iter()
        .filter(|t| worker.as_deref().is_none_or(|w| t.worker == w))
        .filter(|t| {
            keyword.as_deref().is_none_or(|k| {
                t.title.to_lowercase().contains(k) || t.slug.to_lowercase().contains(k)
            })
        })
        .collect();
    let count = matching.len() as i64;
    let list = from_offset(matching, offset, limit)
        .into_iter()
        .map(task_summary)
        .collect();
    ok(types::WorkerTaskPage { count, list })
}

pub(super) async fn create_task(State(cc): Shared, bytes: Bytes) -> Answer {
    let request: types::CreateRequest = body(&bytes)?;
    let worker = worker_of(&cc, &request.worker_id)?;
    let mut problems = Vec::new();
    if request.title.trim().is_empty() {
        problems.push("title: must not be empty".into());
    }
    let version = version_of(worker, request.version.as_deref(), &mut problems);
    check_input(worker, &request.input, &mut problems);
    check_time(request.schedule_time.as_deref(), &mut problems);
    check_date(request.schedule_once_date.as_deref(), &mut problems);
    check_day(request.schedule_day, &mut problems);
    check(problems)?;
    let slug = cc.ids.next();
    let mut inner = cc.lock();
    let id = inner.tasks.iter().map(|t| t.id).max().unwrap_or(2000) + 1;
    inner.tasks.push(Task {
        title: request.title,
        description: request.description.unwrap_or_default(),
        schedule_enabled: request.schedule_enabled.map(|v| *v).unwrap_or(0),
        schedule_type: request.schedule_type.map(|v| *v),
        schedule_time: request.schedule_time,
        schedule_weekday: request.schedule_weekday.map(|v| v.get() as i64),
        schedule_day: request.schedule_day.map(|v| v.get() as i64),
        schedule_once_date: request.schedule_once_date,
        ..Task::new(id, slug.clone(), worker.slug, &version, request.input)
    });
    ok(types::WorkerTaskCreated { slug })
}

pub(super) async fn get_task(State(cc): Shared, Path(slug): Path<String>) -> Answer {
    let inner = cc.lock();
    let task = inner.task(&slug)?;
    ok(task_of(task, &cc))
}

pub(super) async fn update_task(
    State(cc): Shared,
    Path(slug): Path<String>,
    bytes: Bytes,
) -> Answer {
    let request: types::UpdateRequest = body(&bytes)?;
    let mut problems = Vec::new();
    if request
        .title
        .as_deref()
        .is_some_and(|t| t.trim().is_empty())
    {
        problems.push("title: must not be empty".into());
    }
    check_time(request.schedule_time.as_deref(), &mut problems);
    check_date(request.schedule_once_date.as_deref(), &mut problems);
    check_day(request.schedule_day, &mut problems);
    let mut inner = cc.lock();
    let task = inner.task_mut(&slug)?;
    check(problems)?;
    if let Some(v) = request.title {
        task.title = v;
    }
    if let Some(v) = request.description {
        task.description = v;
    }
    if let Some(v) = request.schedule_enabled {
        task.schedule_enabled = *v;
    }
    if let Some(v) = request.schedule_type {
        task.schedule_type = Some(*v);
    }
    if let Some(v) = request.schedule_time {
        task.schedule_time = Some(v);
    }
    if let Some(v) = request.schedule_weekday {
        task.schedule_weekday = Some(v.get() as i64);
    }
    if let Some(v) = request.schedule_day {
        task.schedule_day = Some(v.get() as i64);
    }
    if let Some(v) = request.schedule_once_date {
        task.schedule_once_date = Some(v);
    }
    done()
}

pub(super) async fn delete_task(State(cc): Shared, Path(slug): Path<String>) -> Answer {
    let mut inner = cc.lock();
    inner.task(&slug)?;
    inner.tasks.retain(|t| t.slug != slug);
    done()
}

pub(super) async fn task_input(State(cc): Shared, Path(slug): Path<String>) -> Answer {
    let inner = cc.lock();
    let task = inner.task(&slug)?;
    ok(types::WorkerTaskInput {
        input: task.input.clone(),
        version: Some(task.version.clone()),
    })
}

pub(super) async fn update_task_input(
    State(cc): Shared,
    Path(slug): Path<String>,
    bytes: Bytes,
) -> Answer {
    let request: types::UpdateInputBody = body(&bytes)?;
    let worker = {
        let inner = cc.lock();
        let task = inner.task(&slug)?;
        task.worker.clone()
    };
    let worker = worker_of(&cc, &worker)?;
    let mut problems = Vec::new();
    let version = request
        .version
        .as_deref()
        .map(|v| version_of(worker, Some(v), &mut problems));
    check_input(worker, &request.input, &mut problems);
    check(problems)?;
    let mut inner = cc.lock();
    let task = inner.task_mut(&slug)?;
    task.input = request.input;
    if let Some(v) = version {
        task.version = v;
    }
    done()
}

pub(super) async fn run_task(State(cc): Shared, Path(slug): Path<String>, bytes: Bytes) -> Answer {
    let request: types::RunTaskRequest = body(&bytes)?;
    let mut problems = Vec::new();
    let (offset, limit) = sync_window(request.limit.get(), request.offset, &mut problems);
    let callback_url = callback(request.callback_url, &mut problems);
    check(problems)?;
    let start = ops::task_request(&cc, &slug, request.is_async.unwrap_or(true), callback_url)?;
    let launched = launch(&cc, start).await?;
    started(&cc, launched, offset, limit)
}
