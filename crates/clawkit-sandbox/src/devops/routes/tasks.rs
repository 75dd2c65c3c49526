//! Tasks (任务管理 API): create, list and read a project's tasks; move a task through todo →
//! in_progress → review → testing → done.

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use openclaw_devops_api::types::{TaskPriority, TaskType, WebhookEventType};
use serde_json::{Value, json};

use crate::devops::error::{ApiError, details};
use crate::devops::model::ids::counted;
use crate::devops::model::projects::{TASK_STATUSES, Task};
use crate::devops::rbac::{Caller, TASKS_WRITE};
use crate::devops::read::{Params, PathId, RawParams, body, choice, finish};
use crate::devops::state::Devops;
use crate::kit::clock::unix_millis;

/// 任务类型.
const TASK_TYPES: [&str; 4] = ["story", "task", "bug", "epic"];
/// 优先级.
const PRIORITIES: [&str; 4] = ["critical", "high", "medium", "low"];

/// `GET /projects/{projectId}/tasks`: oldest first.
pub(crate) async fn list(
    State(d): State<Arc<Devops>>,
    Extension(caller): Extension<Caller>,
    PathId(id): PathId,
    raw: RawParams,
) -> Result<Response, ApiError> {
    let params = Params::of(raw)?;
    let inner = d.lock();
    inner.project_for(&id, &caller)?;
    let page = params.page()?;
    let status = params.one_of("status", &TASK_STATUSES)?;
    let mut tasks: Vec<&Task> = inner
        .tasks
        .iter()
        .filter(|t| t.project_id == id)
        .filter(|t| status.is_none_or(|s| TASK_STATUSES[t.status] == s))
        .collect();
    tasks.sort_by(|a, b| a.created_ms.cmp(&b.created_ms).then(a.id.cmp(&b.id)));
    let (data, pagination) = page.cut(tasks);
    let data: Vec<Value> = data.into_iter().map(Task::json).collect();
    Ok(axum::Json(json!({"data": data, "pagination": pagination})).into_response())
}

/// `POST /projects/{projectId}/tasks`: 201 `Task` in `todo`, reported by the caller.
pub(crate) async fn create(
    State(d): State<Arc<Devops>>,
    Extension(caller): Extension<Caller>,
    PathId(id): PathId,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    caller.may(TASKS_WRITE)?;
    let mut inner = d.lock();
    let project = inner.project_for(&id, &caller)?;
    let (key_prefix, number) = (project.key.clone(), project.next_task);
    let mut body = body(&bytes)?;
    let kind: Option<TaskType> = choice(&mut body, "type", &TASK_TYPES, true);
    let title = body.string("title", true);
    let description = body.string("description", false);
    let assignee_id = body.string("assigneeId", false);
    let priority: Option<TaskPriority> = choice(&mut body, "priority", &PRIORITIES, false);
    let story_points = body.number("storyPoints");
    let parent_task_id = body.string("parentTaskId", false);
    let labels = body.strings("labels", false);
    finish(body)?;
    let (Some(kind), Some(title)) = (kind, title) else {
        return Err(ApiError::body("缺少必填字段"));
    };
    let prefix = format!("task_{}", key_prefix.to_lowercase());
    let (task_id, n) = counted(&prefix, number, 3, |t| {
        inner.tasks.iter().any(|x| x.id == t)
    });
    if let Some(p) = inner.projects.iter_mut().find(|p| p.id == id) {
        p.next_task = n + 1;
    }
    let now = unix_millis() / 1000 * 1000;
    let task = Task {
        id: task_id,
        key: format!("{key_prefix}-{n}"),
        project_id: id,
        kind,
        title,
        description,
        status: 0,
        assignee_id,
        reporter_id: caller.user_id,
        priority: priority.unwrap_or(TaskPriority::Medium),
        story_points,
        parent_task_id,
        labels: labels.unwrap_or_default(),
        created_ms: now,
        updated_ms: now,
    };
    let answer = task.json();
    inner.tasks.push(task);
    Ok((StatusCode::CREATED, axum::Json(answer)).into_response())
}

/// `GET /tasks/{taskId}`.
pub(crate) async fn get(
    State(d): State<Arc<Devops>>,
    Extension(caller): Extension<Caller>,
    PathId(id): PathId,
) -> Result<Response, ApiError> {
    let inner = d.lock();
    let i = inner.task_index(&id, &caller)?;
    Ok(axum::Json(inner.tasks[i].json()).into_response())
}

/// `PUT /tasks/{taskId}/status`: one step forward or back to any earlier status; the same
/// status is a no-op; anything else is 409 with `from`, `to`, `allowed`.
pub(crate) async fn update_status(
    State(d): State<Arc<Devops>>,
    Extension(caller): Extension<Caller>,
    PathId(id): PathId,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    caller.may(TASKS_WRITE)?;
    let mut inner = d.lock();
    let i = inner.task_index(&id, &caller)?;
    let mut body = body(&bytes)?;
    let status = body.one_of("status", &TASK_STATUSES, true);
    body.string("comment", false);
    finish(body)?;
    let to = TASK_STATUSES
        .iter()
        .position(|s| Some(*s) == status)
        .unwrap_or(0);
    let task = &mut inner.tasks[i];
    let from = task.status;
    if to == from {
        return Ok(axum::Json(task.json()).into_response());
    }
    if !task.may_move(to) {
        return Err(ApiError::conflict(
            format!(
                "资源冲突:任务不能从 {} 直接变更为 {}",
                TASK_STATUSES[from], TASK_STATUSES[to]
            ),
            details([
                ("resource", json!("task")),
                ("id", json!(id)),
                ("from", json!(TASK_STATUSES[from])),
                ("to", json!(TASK_STATUSES[to])),
                ("allowed", json!(task.moves())),
            ]),
        ));
    }
    task.status = to;
    task.updated_ms = unix_millis() / 1000 * 1000;
    let answer = task.json();
    drop(inner);
    d.emit(WebhookEventType::TaskUpdated, answer.clone());
    Ok(axum::Json(answer).into_response())
}
