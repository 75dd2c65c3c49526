//! Users (用户管理 API): the list with paging, filters, search and sorting; create, read,
//! update, and soft or hard delete. Only `admin` writes users.

use std::cmp::Ordering;
use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use openclaw_devops_api::types::{Role, UserList, UserStatus};

use crate::devops::error::ApiError;
use crate::devops::model::users::User;
use crate::devops::rbac::{Caller, ROLE_NAMES, USERS_WRITE};
use crate::devops::read::{
    Params, PathId, RawParams, body, choice, finish, is_email, pattern_subject,
};
use crate::devops::state::Devops;
use crate::kit::clock::unix_millis;
use crate::kit::ids::mix;
use crate::kit::read::Fields;

/// Statuses `GET /users?status=` takes.
const STATUS_FILTER: [&str; 3] = ["active", "inactive", "suspended"];
/// Fields `GET /users?sortBy=` takes.
const SORT_FIELDS: [&str; 5] = ["createdAt", "username", "email", "fullName", "lastLoginAt"];

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

/// The fields a user is created or updated with, checked.
struct Fill {
    username: Option<String>,
    email: Option<String>,
    password: Option<String>,
    full_name: Option<String>,
    role: Option<Role>,
    department: Option<String>,
}

/// Reads the user fields of `body`, in the spec's order: `new` for `POST /users` (which requires
/// some and takes a password), else for `PUT` (every field optional, no password).
fn fill(body: &mut Fields, new: bool) -> Fill {
    let username = body.string("username", new);
    let email = body.string("email", new);
    let password = new.then(|| body.string("password", true)).flatten();
    let full_name = body.string("fullName", new);
    let role = choice(body, "role", &ROLE_NAMES, false);
    let department = body.string("department", false);
    if let Some(u) = &username {
        check_username(body, u);
    }
    if let Some(e) = &email {
        check_email(body, e);
    }
    if let Some(p) = &password {
        check_password(body, p);
    }
    Fill {
        username,
        email,
        password,
        full_name,
        role,
        department,
    }
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

/// 409 if another user (deleted or not) than `except` has this username or email,
/// case-insensitively.
fn unclaimed(users: &[User], except: &str, fill: &Fill) -> Result<(), ApiError> {
    let taken = |field: &str, value: &Option<String>| {
        let Some(value) = value else { return Ok(()) };
        let clash = users.iter().any(|u| {
            u.id != except
                && match field {
                    "username" => u.username.eq_ignore_ascii_case(value),
                    _ => u.email.eq_ignore_ascii_case(value),
                }
        });
        if clash {
            Err(ApiError::duplicate("user", field, value))
        } else {
            Ok(())
        }
    };
    taken("username", &fill.username)?;
    taken("email", &fill.email)
}

/// `GET /users`.
pub(crate) async fn list(
    State(d): State<Arc<Devops>>,
    raw: RawParams,
) -> Result<Response, ApiError> {
    let params = Params::of(raw)?;
    let page = params.page()?;
    let role: Option<Role> = params.choice("role", &ROLE_NAMES)?;
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
        .filter(|u| role.is_none_or(|r| u.role == r))
        .filter(|u| status.is_none_or(|s| u.status.to_string() == s))
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
    let data = data.into_iter().map(User::wire).collect();
    Ok(axum::Json(UserList { data, pagination }).into_response())
}

/// `POST /users`: 201 `CreatedUser`, `pending_verification`.
pub(crate) async fn create(
    State(d): State<Arc<Devops>>,
    Extension(caller): Extension<Caller>,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    caller.may(USERS_WRITE)?;
    let mut body = body(&bytes)?;
    let fill = fill(&mut body, true);
    finish(body)?;
    let mut inner = d.lock();
    unclaimed(&inner.users, "", &fill)?;
    let (Some(username), Some(email), Some(password), Some(full_name)) =
        (fill.username, fill.email, fill.password, fill.full_name)
    else {
        return Err(ApiError::body("缺少必填字段"));
    };
    let user = User {
        id: d.new_user_id(&inner.users),
        username,
        email,
        full_name,
        role: fill.role.unwrap_or(Role::Developer),
        status: UserStatus::PendingVerification,
        avatar: None,
        department: fill.department,
        created_ms: unix_millis() / 1000 * 1000,
        last_login_ms: None,
        password,
        deleted: false,
    };
    let answer = user.created();
    inner.users.push(user);
    Ok((StatusCode::CREATED, axum::Json(answer)).into_response())
}

/// `GET /users/{userId}`.
pub(crate) async fn get(
    State(d): State<Arc<Devops>>,
    PathId(id): PathId,
) -> Result<Response, ApiError> {
    let mut inner = d.lock();
    let user = inner.user_mut(&id)?;
    Ok(axum::Json(user.wire()).into_response())
}

/// `PUT /users/{userId}`: the fields sent replace the stored ones; no password here.
pub(crate) async fn update(
    State(d): State<Arc<Devops>>,
    Extension(caller): Extension<Caller>,
    PathId(id): PathId,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    caller.may(USERS_WRITE)?;
    d.lock().user_mut(&id)?;
    let mut body = body(&bytes)?;
    let fill = fill(&mut body, false);
    finish(body)?;
    let mut inner = d.lock();
    unclaimed(&inner.users, &id, &fill)?;
    let user = inner.user_mut(&id)?;
    let Fill {
        username,
        email,
        full_name,
        role,
        department,
        ..
    } = fill;
    user.username = username.unwrap_or_else(|| user.username.clone());
    user.email = email.unwrap_or_else(|| user.email.clone());
    user.full_name = full_name.unwrap_or_else(|| user.full_name.clone());
    user.role = role.unwrap_or(user.role);
    user.department = department.or_else(|| user.department.clone());
    Ok(axum::Json(user.wire()).into_response())
}

/// `DELETE /users/{userId}`: soft (kept, gone from reads) unless `hard=true`; 204.
pub(crate) async fn delete(
    State(d): State<Arc<Devops>>,
    Extension(caller): Extension<Caller>,
    PathId(id): PathId,
    raw: RawParams,
) -> Result<Response, ApiError> {
    caller.may(USERS_WRITE)?;
    let params = Params::of(raw)?;
    let mut inner = d.lock();
    inner.user_mut(&id)?;
    // The spec lists no 400 here; a `hard` that is not a boolean still is one.
    let hard = params.boolean("hard")?.unwrap_or(false);
    if hard {
        inner.users.retain(|u| u.id != id);
    } else if let Ok(user) = inner.user_mut(&id) {
        user.deleted = true;
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
