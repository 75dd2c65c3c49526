//! The Bazhuayu route handlers; [`super::state::Bazhuayu`]'s [`crate::vendor::Api`] lists them.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use bazhuayu_api::types::{
    DataByOffsetPage, DataRow, ExportDataBatch, Task, TaskGroup, TaskRunStatus, TaskStatus,
};
use serde_json::{Value, json};

use super::envelope::{bad_request, done, ok};
use super::model::{CREATOR, GROUPS, row};
use super::request::{Params, size_of, task_error, task_index};
use super::state::Bazhuayu;

type Shared = State<Arc<Bazhuayu>>;

/// Where returned offsets start: an opaque number, never the count read.
const OFFSET_BASE: i64 = 1_000;
/// Offset step per row.
const OFFSET_STEP: i64 = 3;

/// Rows `start..end` of task `id`.
fn rows_of(b: &Bazhuayu, id: &str, start: u64, end: u64) -> Vec<DataRow> {
    (start..end).map(|i| DataRow(row(b.seed, id, i))).collect()
}

pub(super) async fn stats(State(b): Shared) -> Response {
    axum::Json(&b.stats).into_response()
}

pub(super) async fn task_groups() -> Response {
    let groups: Vec<TaskGroup> = GROUPS
        .iter()
        .map(|(id, name)| TaskGroup {
            task_group_id: *id,
            task_group_name: (*name).into(),
        })
        .collect();
    ok(groups)
}

pub(super) async fn tasks(State(b): Shared, Query(q): Params) -> Response {
    let Some(group) = q.get("taskGroupId").and_then(|g| g.parse::<i64>().ok()) else {
        return bad_request("taskGroupId: required, an integer");
    };
    let inner = b.lock();
    let tasks: Vec<Task> = inner
        .tasks
        .iter()
        .filter(|t| t.group == group)
        .map(|t| Task {
            task_id: t.id.clone(),
            task_name: t.name.clone(),
            creation_user_id: CREATOR.into(),
        })
        .collect();
    ok(tasks)
}

pub(super) async fn clear(State(b): Shared, Query(q): Params) -> Response {
    let mut inner = b.lock();
    match task_index(&inner, &q).map_err(task_error) {
        Ok(i) => {
            let t = &mut inner.tasks[i];
            t.rows = 0;
            t.exported = 0;
            t.exporting = 0;
            done()
        }
        Err(r) => r,
    }
}

pub(super) async fn gettop(State(b): Shared, Query(q): Params) -> Response {
    let (id, start, end, rows) = {
        let mut inner = b.lock();
        let i = match task_index(&inner, &q) {
            Ok(i) => i,
            Err(r) => return task_error(r),
        };
        let size = match size_of(&q) {
            Ok(s) => s,
            Err(r) => return bad_request(r),
        };
        let t = &mut inner.tasks[i];
        // Rows not yet exported, from the first one: a batch that was not confirmed comes again.
        let start = t.exported;
        let end = (start + size).min(t.rows);
        t.exporting = t.exporting.max(end);
        (t.id.clone(), start, end, t.rows)
    };
    let list = rows_of(&b, &id, start, end);
    ok(ExportDataBatch {
        total: (rows - start) as i64,
        current_total: list.len() as i32,
        data_list: list,
    })
}

pub(super) async fn mark_exported(State(b): Shared, Query(q): Params) -> Response {
    let mut inner = b.lock();
    match task_index(&inner, &q).map_err(task_error) {
        Ok(i) => {
            let t = &mut inner.tasks[i];
            t.exported = t.exporting.max(t.exported);
            done()
        }
        Err(r) => r,
    }
}

pub(super) async fn by_offset(State(b): Shared, Query(q): Params) -> Response {
    let (id, rows) = {
        let inner = b.lock();
        match task_index(&inner, &q) {
            Ok(i) => (inner.tasks[i].id.clone(), inner.tasks[i].rows),
            Err(r) => return task_error(r),
        }
    };
    let size = match size_of(&q) {
        Ok(s) => s,
        Err(r) => return bad_request(r),
    };
    let offset = match q.get("offset").map(|o| o.parse::<i64>()) {
        Some(Ok(o)) => o,
        _ => return bad_request("offset: required, an integer (0 to start)"),
    };
    // The returned offsets are OFFSET_BASE + STEP * rows; any other value reads from the next
    // row at or after it (offsets at or below 0 from the start, as the seed says).
    let start = if offset <= OFFSET_BASE {
        0
    } else {
        ((offset - OFFSET_BASE) as u64).div_ceil(OFFSET_STEP as u64)
    };
    let start = start.min(rows);
    let end = (start + size).min(rows);
    ok(DataByOffsetPage {
        offset: OFFSET_BASE + end as i64 * OFFSET_STEP,
        total: rows as i64,
        rest_total: (rows - end) as i64,
        data_list: rows_of(&b, &id, start, end),
    })
}

async fn set_status(
    b: &Bazhuayu,
    q: &HashMap<String, String>,
    status: TaskRunStatus,
    answer: Value,
) -> Response {
    let mut inner = b.lock();
    match task_index(&inner, q).map_err(task_error) {
        Ok(i) => {
            inner.tasks[i].status = status;
            if answer.is_null() { done() } else { ok(answer) }
        }
        Err(r) => r,
    }
}

pub(super) async fn start_task(State(b): Shared, Query(q): Params) -> Response {
    set_status(&b, &q, TaskRunStatus::Running, json!(1)).await
}

pub(super) async fn stop_task(State(b): Shared, Query(q): Params) -> Response {
    set_status(&b, &q, TaskRunStatus::Stopped, Value::Null).await
}

pub(super) async fn statuses(State(b): Shared, body: Bytes) -> Response {
    let ids: Vec<String> = match serde_json::from_slice::<Value>(&body) {
        Ok(v) => match v.get("taskIdList").and_then(Value::as_array) {
            Some(list) if list.iter().all(Value::is_string) => list
                .iter()
                .filter_map(|i| i.as_str().map(str::to_string))
                .collect(),
            _ => return bad_request("taskIdList: required, an array of task id strings"),
        },
        Err(e) => return bad_request(format!("request body: JSON syntax error: {e}")),
    };
    let inner = b.lock();
    let statuses: Vec<TaskStatus> = inner
        .tasks
        .iter()
        .filter(|t| ids.iter().any(|i| i.eq_ignore_ascii_case(&t.id)))
        .map(|t| TaskStatus {
            task_id: t.id.clone(),
            task_name: t.name.clone(),
            status: t.status,
        })
        .collect();
    ok(statuses)
}
