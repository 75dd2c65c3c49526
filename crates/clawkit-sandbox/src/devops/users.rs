//! Users (用户管理 API): the list with paging, filters, search and sorting; create, read, update,
//! and soft or hard delete. Only `admin` writes users.

use std::cmp::Ordering;
use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::Devops;
use super::envelope::{ApiError, json_answer};
use super::rbac::{Caller, Role, USERS_WRITE};
use super::request::{Params, PathId, RawParams, body, finish, is_email, pattern_subject};
use crate::kit::clock::{unix_millis, utc};
use crate::kit::ids::mix;
use crate::kit::read::Fields;

/// The password every seeded user logs in with (`POST /auth/token`, `password` grant).
pub const USER_PASSWORD: &str = "sandbox-secret";

/// Statuses `GET /users?status=` takes.
const STATUS_FILTER: [&str; 3] = ["active", "inactive", "suspended"];
/// Fields `GET /users?sortBy=` takes.
const SORT_FIELDS: [&str; 5] = ["createdAt", "username", "email", "fullName", "lastLoginAt"];

/// One user account.
#[derive(Debug, Clone)]
pub(super) struct User {
    /// RBAC role.
    pub(super) role: Role,
    /// `active`, `inactive`, `suspended` or `pending_verification`.
    pub(super) status: &'static str,
    /// Soft-deleted: gone from every read, kept for the audit log.
    pub(super) deleted: bool,
    /// `usr_…`.
    pub(super) id: String,
    /// 3-20 letters, digits, underscores.
    pub(super) username: String,
    /// Unique.
    pub(super) email: String,
    /// 真实姓名.
    pub(super) full_name: String,
    /// Avatar URL.
    pub(super) avatar: Option<String>,
    /// 所属部门.
    pub(super) department: Option<String>,
    /// Unix ms.
    pub(super) created_ms: i64,
    /// Unix ms of the last password login.
    pub(super) last_login_ms: Option<i64>,
    /// The password of the `password` grant.
    pub(super) password: String,
}

impl User {
    /// The `User` schema, fields in the seed's order.
    pub(super) fn json(&self) -> Value {
        let mut out = json!({
            "id": self.id,
            "username": self.username,
            "email": self.email,
            "fullName": self.full_name,
            "role": self.role.as_str(),
            "status": self.status,
        });
        if let Some(avatar) = &self.avatar {
            out["avatar"] = json!(avatar);
        }
        if let Some(department) = &self.department {
            out["department"] = json!(department);
        }
        out["createdAt"] = json!(utc(self.created_ms));
        if let Some(at) = self.last_login_ms {
            out["lastLoginAt"] = json!(utc(at));
        }
        out
    }

    /// The `CreatedUser` schema of the seed's 201.
    fn created_json(&self) -> Value {
        let mut out = json!({
            "id": self.id,
            "username": self.username,
            "email": self.email,
            "fullName": self.full_name,
            "role": self.role.as_str(),
            "status": self.status,
        });
        if let Some(department) = &self.department {
            out["department"] = json!(department);
        }
        out["createdAt"] = json!(utc(self.created_ms));
        out["verificationEmailSent"] = json!(true);
        out
    }
}

/// Checks `username` as the seed says (3-20 字符,字母数字下划线).
fn check_username(body: &mut Fields, username: &str) {
    let len = username.chars().count();
    if len < 3 {
        body.problem("username", "用户名长度至少为 3 个字符", "min_length");
    } else if len > 20 {
        body.problem("username", "用户名长度最多为 20 个字符", "max_length");
    } else if !pattern_subject(username)
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        body.problem(
            "username",
            "用户名只能包含字母、数字和下划线",
            "invalid_format",
        );
    }
}

fn check_email(body: &mut Fields, email: &str) {
    if !is_email(email) {
        body.problem("email", "邮箱格式不正确", "invalid_format");
    }
}

/// 最少 8 字符,包含大小写字母和数字: the spec's pattern `^(?=.*[a-z])(?=.*[A-Z])(?=.*[0-9]).*$`,
/// whose `.` does not cross a line break.
fn check_password(body: &mut Fields, password: &str) {
    let line = pattern_subject(password);
    if password.chars().count() < 8 {
        body.problem("password", "密码长度至少为 8 位", "min_length");
    } else if !(line.chars().any(|c| c.is_ascii_lowercase())
        && line.chars().any(|c| c.is_ascii_uppercase())
        && line.chars().any(|c| c.is_ascii_digit()))
        || line.contains('\n')
    {
        body.problem("password", "密码必须包含大小写字母和数字", "invalid_format");
    }
}

/// The role field, if sent and valid.
fn role_field(body: &mut Fields) -> Option<Role> {
    body.one_of("role", &Role::NAMES, false)
        .and_then(Role::parse)
}

impl Devops {
    /// A new user id: `usr_` and 12 lowercase hex characters.
    fn new_user_id(&self, taken: &[User]) -> String {
        loop {
            let n = self.next_serial();
            let id = format!("usr_{:012x}", mix(self.entropy ^ mix(n)) & 0xffff_ffff_ffff);
            if taken.iter().all(|u| u.id != id) {
                return id;
            }
        }
    }
}

/// The first other user (deleted or not) with this username or email, case-insensitively.
fn clash<'a>(users: &'a [User], except: &str, field: &str, value: &str) -> Option<&'a User> {
    users.iter().find(|u| {
        u.id != except
            && match field {
                "username" => u.username.eq_ignore_ascii_case(value),
                _ => u.email.eq_ignore_ascii_case(value),
            }
    })
}

/// `GET /users`.
pub(super) async fn list(
    State(d): State<Arc<Devops>>,
    raw: RawParams,
) -> Result<Response, ApiError> {
    let params = Params::of(raw)?;
    let page = params.page()?;
    let role = params.one_of("role", &Role::NAMES)?;
    let status = params.one_of("status", &STATUS_FILTER)?;
    let sort_by = params
        .one_of("sortBy", &SORT_FIELDS)?
        .unwrap_or("createdAt");
    let descending = params.one_of("sortOrder", &["asc", "desc"])? != Some("asc");
    let search = params.get("search").map(str::to_lowercase);
    let inner = d.lock();
    let mut users: Vec<&User> = inner
        .users
        .iter()
        .filter(|u| !u.deleted)
        .filter(|u| role.is_none_or(|r| u.role.as_str() == r))
        .filter(|u| status.is_none_or(|s| u.status == s))
        .filter(|u| {
            search.as_deref().is_none_or(|s| {
                u.username.to_lowercase().contains(s)
                    || u.email.to_lowercase().contains(s)
                    || u.full_name.to_lowercase().contains(s)
            })
        })
        .collect();
    users.sort_by(|a, b| {
        let by = match sort_by {
            "username" => a.username.cmp(&b.username),
            "email" => a.email.cmp(&b.email),
            "fullName" => a.full_name.cmp(&b.full_name),
            "lastLoginAt" => a.last_login_ms.cmp(&b.last_login_ms),
            _ => a.created_ms.cmp(&b.created_ms),
        };
        let by = if descending { by.reverse() } else { by };
        match by {
            Ordering::Equal => a.id.cmp(&b.id),
            other => other,
        }
    });
    let (data, pagination) = page.cut(users);
    let data: Vec<Value> = data.into_iter().map(User::json).collect();
    Ok(axum::Json(json!({"data": data, "pagination": pagination})).into_response())
}

/// `POST /users`: 201 `CreatedUser`, `pending_verification`.
pub(super) async fn create(
    State(d): State<Arc<Devops>>,
    Extension(caller): Extension<Caller>,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    caller.may(USERS_WRITE)?;
    let mut body = body(&bytes)?;
    let username = body.string("username", true);
    let email = body.string("email", true);
    let password = body.string("password", true);
    let full_name = body.string("fullName", true);
    let role = role_field(&mut body).unwrap_or(Role::Developer);
    let department = body.string("department", false);
    if let Some(u) = &username {
        check_username(&mut body, u);
    }
    if let Some(e) = &email {
        check_email(&mut body, e);
    }
    if let Some(p) = &password {
        check_password(&mut body, p);
    }
    finish(body)?;
    let (Some(username), Some(email), Some(password), Some(full_name)) =
        (username, email, password, full_name)
    else {
        return Err(ApiError::body("缺少必填字段"));
    };
    let mut inner = d.lock();
    if clash(&inner.users, "", "username", &username).is_some() {
        return Err(ApiError::duplicate("user", "username", &username));
    }
    if clash(&inner.users, "", "email", &email).is_some() {
        return Err(ApiError::duplicate("user", "email", &email));
    }
    let user = User {
        id: d.new_user_id(&inner.users),
        username,
        email,
        full_name,
        role,
        status: "pending_verification",
        avatar: None,
        department,
        created_ms: unix_millis() / 1000 * 1000,
        last_login_ms: None,
        password,
        deleted: false,
    };
    let answer = user.created_json();
    inner.users.push(user);
    Ok(json_answer(StatusCode::CREATED, answer))
}

/// The live user `id`, or 404.
fn live<'a>(users: &'a mut [User], id: &str) -> Result<&'a mut User, ApiError> {
    users
        .iter_mut()
        .find(|u| u.id == id && !u.deleted)
        .ok_or_else(|| ApiError::not_found("user", id))
}

/// `GET /users/{userId}`.
pub(super) async fn get(
    State(d): State<Arc<Devops>>,
    PathId(id): PathId,
) -> Result<Response, ApiError> {
    let mut inner = d.lock();
    let user = live(&mut inner.users, &id)?;
    Ok(axum::Json(user.json()).into_response())
}

/// `PUT /users/{userId}`: the fields sent replace the stored ones; no password here.
pub(super) async fn update(
    State(d): State<Arc<Devops>>,
    Extension(caller): Extension<Caller>,
    PathId(id): PathId,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    caller.may(USERS_WRITE)?;
    {
        let mut inner = d.lock();
        live(&mut inner.users, &id)?;
    }
    let mut body = body(&bytes)?;
    let username = body.string("username", false);
    let email = body.string("email", false);
    let full_name = body.string("fullName", false);
    let role = role_field(&mut body);
    let department = body.string("department", false);
    if let Some(u) = &username {
        check_username(&mut body, u);
    }
    if let Some(e) = &email {
        check_email(&mut body, e);
    }
    finish(body)?;
    let mut inner = d.lock();
    if let Some(u) = &username
        && clash(&inner.users, &id, "username", u).is_some()
    {
        return Err(ApiError::duplicate("user", "username", u));
    }
    if let Some(e) = &email
        && clash(&inner.users, &id, "email", e).is_some()
    {
        return Err(ApiError::duplicate("user", "email", e));
    }
    let user = live(&mut inner.users, &id)?;
    if let Some(u) = username {
        user.username = u;
    }
    if let Some(e) = email {
        user.email = e;
    }
    if let Some(f) = full_name {
        user.full_name = f;
    }
    if let Some(r) = role {
        user.role = r;
    }
    if let Some(dep) = department {
        user.department = Some(dep);
    }
    Ok(axum::Json(user.json()).into_response())
}

/// `DELETE /users/{userId}`: soft (kept, gone from reads) unless `hard=true`; 204.
pub(super) async fn delete(
    State(d): State<Arc<Devops>>,
    Extension(caller): Extension<Caller>,
    PathId(id): PathId,
    raw: RawParams,
) -> Result<Response, ApiError> {
    caller.may(USERS_WRITE)?;
    let params = Params::of(raw)?;
    let mut inner = d.lock();
    live(&mut inner.users, &id)?;
    // The spec lists no 400 here; a `hard` that is not a boolean still is one.
    let hard = params.boolean("hard")?.unwrap_or(false);
    if hard {
        inner.users.retain(|u| u.id != id);
    } else if let Ok(user) = live(&mut inner.users, &id) {
        user.deleted = true;
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
