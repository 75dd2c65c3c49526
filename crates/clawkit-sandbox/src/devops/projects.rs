//! Projects (项目管理 API) and their tasks (任务管理 API): create, list and read projects; create,
//! list and read tasks; move a task through todo → in_progress → review → testing → done.

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Number, Value, json};

use super::Devops;
use super::envelope::{ApiError, details, json_answer};
use super::rbac::{Caller, PROJECTS_WRITE, Role, TASKS_WRITE};
use super::request::{Params, PathId, RawParams, body, finish, pattern_subject};
use super::state::Inner;
use crate::kit::clock::{code, unix_millis, utc};

/// Task statuses, in the order a task moves through them.
pub(super) const TASK_STATUSES: [&str; 5] = ["todo", "in_progress", "review", "testing", "done"];
/// 任务类型.
const TASK_TYPES: [&str; 4] = ["story", "task", "bug", "epic"];
/// 优先级.
const PRIORITIES: [&str; 4] = ["critical", "high", "medium", "low"];
/// 可见性.
const VISIBILITIES: [&str; 3] = ["private", "internal", "public"];

/// A project.
#[derive(Debug, Clone)]
pub(super) struct Project {
    /// `prj_…`.
    pub(super) id: String,
    /// 项目名称.
    pub(super) name: String,
    /// Upper-case key, the prefix of task keys.
    pub(super) key: String,
    /// 项目描述.
    pub(super) description: Option<String>,
    /// The owner's user id.
    pub(super) owner_id: String,
    /// `active`.
    pub(super) status: String,
    /// `private`, `internal` or `public`.
    pub(super) visibility: &'static str,
    /// (user id, `owner` or `member`), the owner first.
    pub(super) members: Vec<(String, &'static str)>,
    /// Unix ms.
    pub(super) created_ms: i64,
    /// The number of the next task (`ECOM-2` after `ECOM-1`).
    pub(super) next_task: u64,
}

/// A task.
#[derive(Debug, Clone)]
pub(super) struct Task {
    /// `task_…`.
    pub(super) id: String,
    /// `ECOM-1`.
    pub(super) key: String,
    /// Its project.
    pub(super) project_id: String,
    /// story, task, bug or epic.
    pub(super) kind: &'static str,
    /// 任务标题.
    pub(super) title: String,
    /// 任务描述.
    pub(super) description: Option<String>,
    /// Index in [`TASK_STATUSES`].
    pub(super) status: usize,
    /// 负责人.
    pub(super) assignee_id: Option<String>,
    /// Who created it.
    pub(super) reporter_id: String,
    /// 优先级.
    pub(super) priority: &'static str,
    /// 故事点, as sent.
    pub(super) story_points: Option<Number>,
    /// 父任务.
    pub(super) parent_task_id: Option<String>,
    /// 标签.
    pub(super) labels: Vec<String>,
    /// Unix ms.
    pub(super) created_ms: i64,
    /// Unix ms.
    pub(super) updated_ms: i64,
}

impl Task {
    /// The `Task` schema, fields in the seed's order.
    pub(super) fn json(&self) -> Value {
        let mut out = json!({
            "id": self.id,
            "key": self.key,
            "projectId": self.project_id,
            "type": self.kind,
            "title": self.title,
        });
        if let Some(d) = &self.description {
            out["description"] = json!(d);
        }
        out["status"] = json!(TASK_STATUSES[self.status]);
        if let Some(a) = &self.assignee_id {
            out["assigneeId"] = json!(a);
        }
        out["reporterId"] = json!(self.reporter_id);
        out["priority"] = json!(self.priority);
        if let Some(p) = &self.story_points {
            out["storyPoints"] = Value::Number(p.clone());
        }
        if let Some(p) = &self.parent_task_id {
            out["parentTaskId"] = json!(p);
        }
        out["labels"] = json!(self.labels);
        out["createdAt"] = json!(utc(self.created_ms));
        out["updatedAt"] = json!(utc(self.updated_ms));
        out
    }
}

impl Project {
    /// Whether `caller` sees it: admins and members always, others unless it is private.
    fn visible_to(&self, caller: &Caller) -> bool {
        caller.role == Role::Admin
            || self.visibility != "private"
            || self.members.iter().any(|(id, _)| *id == caller.user_id)
    }

    /// The `Project` schema with its stats now.
    pub(super) fn json(&self, inner: &Inner, now: i64) -> Value {
        let tasks = inner.tasks.iter().filter(|t| t.project_id == self.id);
        let total = tasks.clone().count();
        let done = tasks
            .filter(|t| t.status == TASK_STATUSES.len() - 1)
            .count();
        let prds = inner
            .activations
            .iter()
            .filter(|a| a.agent_type == "product" && a.completed(now))
            .filter(|a| {
                inner
                    .tasks
                    .iter()
                    .any(|t| t.id == a.task_id && t.project_id == self.id)
            })
            .count();
        let app = format!("app_{}", self.key.to_lowercase());
        let deployments = inner
            .deployments
            .iter()
            .filter(|d| d.application_id == app || d.application_id.starts_with(&format!("{app}_")))
            .count();
        let mut out = json!({
            "id": self.id,
            "name": self.name,
            "key": self.key,
        });
        if let Some(d) = &self.description {
            out["description"] = json!(d);
        }
        out["ownerId"] = json!(self.owner_id);
        out["status"] = json!(self.status);
        out["visibility"] = json!(self.visibility);
        out["members"] = Value::Array(
            self.members
                .iter()
                .map(|(id, role)| json!({"userId": id, "role": role}))
                .collect(),
        );
        out["stats"] = json!({
            "totalTasks": total,
            "completedTasks": done,
            "totalPRDs": prds,
            "totalDeployments": deployments,
        });
        out["createdAt"] = json!(utc(self.created_ms));
        out
    }
}

/// The project `id` as `caller` may see it, or 404.
fn project_for<'a>(inner: &'a Inner, id: &str, caller: &Caller) -> Result<&'a Project, ApiError> {
    inner
        .projects
        .iter()
        .find(|p| p.id == id && p.visible_to(caller))
        .ok_or_else(|| ApiError::not_found("project", id))
}

/// Whether `id` is a live user.
fn user_exists(inner: &Inner, id: &str) -> bool {
    inner.users.iter().any(|u| u.id == id && !u.deleted)
}

/// `GET /projects`: the projects the caller can see, newest first.
pub(super) async fn list(
    State(d): State<Arc<Devops>>,
    Extension(caller): Extension<Caller>,
    raw: RawParams,
) -> Result<Response, ApiError> {
    let params = Params::of(raw)?;
    let page = params.page()?;
    let role = params.one_of("role", &["owner", "member"])?;
    let status = params.get("status");
    let inner = d.lock();
    let now = unix_millis();
    let mut projects: Vec<&Project> = inner
        .projects
        .iter()
        .filter(|p| p.visible_to(&caller))
        .filter(|p| status.is_none_or(|s| p.status == s))
        .filter(|p| {
            role.is_none_or(|r| {
                p.members
                    .iter()
                    .any(|(id, as_)| *id == caller.user_id && *as_ == r)
            })
        })
        .collect();
    projects.sort_by(|a, b| b.created_ms.cmp(&a.created_ms).then(a.id.cmp(&b.id)));
    let (data, pagination) = page.cut(projects);
    let data: Vec<Value> = data.into_iter().map(|p| p.json(&inner, now)).collect();
    Ok(axum::Json(json!({"data": data, "pagination": pagination})).into_response())
}

/// `POST /projects`: 201 `Project`; the owner joins as `owner`, `members` as `member`.
pub(super) async fn create(
    State(d): State<Arc<Devops>>,
    Extension(caller): Extension<Caller>,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    caller.may(PROJECTS_WRITE)?;
    let mut body = body(&bytes)?;
    let name = body.string("name", true);
    let description = body.string("description", false);
    let key = body.string("key", true);
    let owner_id = body.string("ownerId", true);
    let members = body.strings("members", false).unwrap_or_default();
    let visibility = body.one_of("visibility", &VISIBILITIES, false);
    if let Some(k) = &key {
        let mut chars = pattern_subject(k).chars();
        let ok = chars.next().is_some_and(|c| c.is_ascii_uppercase())
            && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
        if !ok {
            body.problem(
                "key",
                "项目标识符应为大写字母开头的大写字母和数字(如 ECOM)",
                "invalid_format",
            );
        }
    }
    let mut inner = d.lock();
    if let Some(owner) = &owner_id
        && !user_exists(&inner, owner)
    {
        body.problem("ownerId", format!("用户 {owner} 不存在"), "not_found");
    }
    for (i, member) in members.iter().enumerate() {
        if !user_exists(&inner, member) {
            body.problem(
                format!("members[{i}]"),
                format!("用户 {member} 不存在"),
                "not_found",
            );
        }
    }
    finish(body)?;
    let (Some(name), Some(key), Some(owner_id)) = (name, key, owner_id) else {
        return Err(ApiError::body("缺少必填字段"));
    };
    if inner.projects.iter().any(|p| p.key == key) {
        return Err(ApiError::duplicate("project", "key", &key));
    }
    let now = unix_millis() / 1000 * 1000;
    let prefix = format!("prj_{}{}", key.to_lowercase(), code(now, 0, "%Y%m%d"));
    let mut n = 1 + inner
        .projects
        .iter()
        .filter(|p| p.id.starts_with(&prefix))
        .count();
    while inner
        .projects
        .iter()
        .any(|p| p.id == format!("{prefix}{n:02}"))
    {
        n += 1;
    }
    let mut all_members = vec![(owner_id.clone(), "owner")];
    for m in members {
        if all_members.iter().all(|(id, _)| *id != m) {
            all_members.push((m, "member"));
        }
    }
    let project = Project {
        id: format!("{prefix}{n:02}"),
        name,
        key,
        description,
        owner_id,
        status: "active".into(),
        visibility: visibility.unwrap_or("private"),
        members: all_members,
        created_ms: now,
        next_task: 1,
    };
    let answer = project.json(&inner, now);
    inner.projects.push(project);
    drop(inner);
    d.emit("project.created", answer.clone());
    Ok(json_answer(StatusCode::CREATED, answer))
}

/// `GET /projects/{projectId}`.
pub(super) async fn get(
    State(d): State<Arc<Devops>>,
    Extension(caller): Extension<Caller>,
    PathId(id): PathId,
) -> Result<Response, ApiError> {
    let inner = d.lock();
    let project = project_for(&inner, &id, &caller)?;
    Ok(axum::Json(project.json(&inner, unix_millis())).into_response())
}

/// `GET /projects/{projectId}/tasks`: oldest first.
pub(super) async fn list_tasks(
    State(d): State<Arc<Devops>>,
    Extension(caller): Extension<Caller>,
    PathId(id): PathId,
    raw: RawParams,
) -> Result<Response, ApiError> {
    let params = Params::of(raw)?;
    let inner = d.lock();
    project_for(&inner, &id, &caller)?;
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
pub(super) async fn create_task(
    State(d): State<Arc<Devops>>,
    Extension(caller): Extension<Caller>,
    PathId(id): PathId,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    caller.may(TASKS_WRITE)?;
    let mut inner = d.lock();
    let project = project_for(&inner, &id, &caller)?;
    let (key_prefix, number) = (project.key.clone(), project.next_task);
    let mut body = body(&bytes)?;
    let kind = body.one_of("type", &TASK_TYPES, true);
    let title = body.string("title", true);
    let description = body.string("description", false);
    let assignee_id = body.string("assigneeId", false);
    let priority = body.one_of("priority", &PRIORITIES, false);
    let story_points = body.number("storyPoints");
    let parent_task_id = body.string("parentTaskId", false);
    let labels = body.strings("labels", false);
    finish(body)?;
    let (Some(kind), Some(title)) = (kind, title) else {
        return Err(ApiError::body("缺少必填字段"));
    };
    let mut n = number;
    while inner
        .tasks
        .iter()
        .any(|t| t.id == format!("task_{}{n:03}", key_prefix.to_lowercase()))
    {
        n += 1;
    }
    if let Some(p) = inner.projects.iter_mut().find(|p| p.id == id) {
        p.next_task = n + 1;
    }
    let now = unix_millis() / 1000 * 1000;
    let task = Task {
        id: format!("task_{}{n:03}", key_prefix.to_lowercase()),
        key: format!("{key_prefix}-{n}"),
        project_id: id,
        kind,
        title,
        description,
        status: 0,
        assignee_id,
        reporter_id: caller.user_id,
        priority: priority.unwrap_or("medium"),
        story_points,
        parent_task_id,
        labels: labels.unwrap_or_default(),
        created_ms: now,
        updated_ms: now,
    };
    let answer = task.json();
    inner.tasks.push(task);
    Ok(json_answer(StatusCode::CREATED, answer))
}

/// The task `id` if its project is visible to `caller`, or 404.
fn task_index(inner: &Inner, id: &str, caller: &Caller) -> Result<usize, ApiError> {
    inner
        .tasks
        .iter()
        .position(|t| {
            t.id == id
                && inner
                    .projects
                    .iter()
                    .any(|p| p.id == t.project_id && p.visible_to(caller))
        })
        .ok_or_else(|| ApiError::not_found("task", id))
}

/// `GET /tasks/{taskId}`.
pub(super) async fn get_task(
    State(d): State<Arc<Devops>>,
    Extension(caller): Extension<Caller>,
    PathId(id): PathId,
) -> Result<Response, ApiError> {
    let inner = d.lock();
    let i = task_index(&inner, &id, &caller)?;
    Ok(axum::Json(inner.tasks[i].json()).into_response())
}

/// The statuses a task in status `from` may move to: the next one and every earlier one.
fn allowed_moves(from: usize) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = TASK_STATUSES.get(from + 1).copied().into_iter().collect();
    out.extend(TASK_STATUSES[..from].iter().copied());
    out
}

/// `PUT /tasks/{taskId}/status`: one step forward or back to any earlier status; the same
/// status is a no-op; anything else is 409 with `from`, `to`, `allowed`.
pub(super) async fn update_status(
    State(d): State<Arc<Devops>>,
    Extension(caller): Extension<Caller>,
    PathId(id): PathId,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    caller.may(TASKS_WRITE)?;
    let mut inner = d.lock();
    let i = task_index(&inner, &id, &caller)?;
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
    if to != from + 1 && to > from {
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
                ("allowed", json!(allowed_moves(from))),
            ]),
        ));
    }
    task.status = to;
    task.updated_ms = unix_millis() / 1000 * 1000;
    let answer = task.json();
    drop(inner);
    d.emit("task.updated", answer.clone());
    Ok(axum::Json(answer).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_task_moves_one_step_forward_or_back() {
        assert_eq!(allowed_moves(0), ["in_progress"]);
        assert_eq!(allowed_moves(2), ["testing", "todo", "in_progress"]);
        assert_eq!(
            allowed_moves(4),
            ["todo", "in_progress", "review", "testing"]
        );
    }
}
