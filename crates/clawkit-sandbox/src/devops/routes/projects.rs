//! Projects (项目管理 API): create, list and read projects.

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use openclaw_devops_api::types::{
    ProjectList, ProjectMemberRole, ProjectVisibility, WebhookEventType,
};

use crate::devops::error::ApiError;
use crate::devops::model::ids::next_in;
use crate::devops::model::projects::Project;
use crate::devops::rbac::{Caller, PROJECTS_WRITE};
use crate::devops::read::{Params, PathId, RawParams, body, choice, finish, pattern_subject};
use crate::devops::state::Devops;
use crate::kit::clock::{code, unix_millis};

/// 可见性.
const VISIBILITIES: [&str; 3] = ["private", "internal", "public"];
/// A member's role in a project, as `GET /projects?role=` names it.
const MEMBER_ROLES: [&str; 2] = ["owner", "member"];

/// `GET /projects`: the projects the caller can see, newest first.
pub(crate) async fn list(
    State(d): State<Arc<Devops>>,
    Extension(caller): Extension<Caller>,
    raw: RawParams,
) -> Result<Response, ApiError> {
    let params = Params::of(raw)?;
    let page = params.page()?;
    let role: Option<ProjectMemberRole> = params.choice("role", &MEMBER_ROLES)?;
    let status = params.get("status");
    let inner = d.lock();
    let now = unix_millis();
    let mut projects: Vec<&Project> = inner
        .projects
        .iter()
        .filter(|p| p.visible_to(&caller.user_id, caller.role))
        .filter(|p| status.is_none_or(|s| p.status == s))
        .filter(|p| role.is_none_or(|r| p.has(&caller.user_id, r)))
        .collect();
    projects.sort_by(|a, b| b.created_ms.cmp(&a.created_ms).then(a.id.cmp(&b.id)));
    let (data, pagination) = page.cut(projects);
    let data = data.into_iter().map(|p| inner.project(p, now)).collect();
    Ok(axum::Json(ProjectList { data, pagination }).into_response())
}

/// `POST /projects`: 201 `Project`; the owner joins as `owner`, `members` as `member`.
pub(crate) async fn create(
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
    let visibility: Option<ProjectVisibility> =
        choice(&mut body, "visibility", &VISIBILITIES, false);
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
        && !inner.user_exists(owner)
    {
        body.problem("ownerId", format!("用户 {owner} 不存在"), "not_found");
    }
    for (i, member) in members.iter().enumerate() {
        if !inner.user_exists(member) {
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
    let id = next_in(&prefix, 2, inner.projects.iter().map(|p| p.id.as_str()));
    let mut all_members = vec![(owner_id.clone(), ProjectMemberRole::Owner)];
    for m in members {
        if all_members.iter().all(|(id, _)| *id != m) {
            all_members.push((m, ProjectMemberRole::Member));
        }
    }
    let project = Project {
        id,
        name,
        key,
        description,
        owner_id,
        status: "active".into(),
        visibility: visibility.unwrap_or(ProjectVisibility::Private),
        members: all_members,
        created_ms: now,
        next_task: 1,
    };
    let answer = inner.project(&project, now);
    inner.projects.push(project);
    drop(inner);
    d.emit(
        WebhookEventType::ProjectCreated,
        serde_json::to_value(&answer).unwrap_or_default(),
    );
    Ok((StatusCode::CREATED, axum::Json(answer)).into_response())
}

/// `GET /projects/{projectId}`.
pub(crate) async fn get(
    State(d): State<Arc<Devops>>,
    Extension(caller): Extension<Caller>,
    PathId(id): PathId,
) -> Result<Response, ApiError> {
    let inner = d.lock();
    let project = inner.project_for(&id, &caller)?;
    Ok(axum::Json(inner.project(project, unix_millis())).into_response())
}
