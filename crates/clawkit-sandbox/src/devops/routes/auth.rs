//! 认证授权: `POST /auth/token` (OAuth 2.0 `client_credentials` and `password` grants, JSON
//! body) and `POST /auth/refresh` (single-use refresh tokens, rotated on every refresh).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use openclaw_devops_api::types::Role;

use crate::devops::auth::{CLIENT_ID, CLIENT_SECRET, client_grant};
use crate::devops::error::ApiError;
use crate::devops::rbac::Grant;
use crate::devops::read::{body, finish};
use crate::devops::state::Devops;
use crate::kit::clock::unix_millis;
use crate::kit::read::Problem;
use crate::kit::tokens::{RefreshRefusal, same};

/// `POST /auth/token`: the body is checked against `TokenRequest` (422), then the client (401),
/// then what the grant needs (a password grant without `username` or `password` is 422), then
/// the user (401).
pub(crate) async fn token(
    State(d): State<Arc<Devops>>,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let mut body = body(&bytes)?;
    let grant = body.one_of("grant_type", &["client_credentials", "password"], true);
    let client_id = body.string("client_id", true);
    let client_secret = body.string("client_secret", true);
    let username = body.string("username", false);
    let password = body.string("password", false);
    finish(body)?;
    // The request is well formed; the client is checked before what its grant needs.
    let client = client_id.as_deref() == Some(CLIENT_ID)
        && client_secret.is_some_and(|secret| same(&secret, CLIENT_SECRET));
    if !client {
        return Err(ApiError::unauthorized("invalid_client"));
    }
    let password_grant = grant == Some("password");
    if password_grant {
        let missing: Vec<Problem> = [("username", &username), ("password", &password)]
            .into_iter()
            .filter(|(_, value)| value.is_none())
            .map(|(field, _)| {
                Problem::new(
                    field,
                    format!("{field} 为必填字段(password 模式)"),
                    "required",
                )
            })
            .collect();
        if !missing.is_empty() {
            return Err(ApiError::validation(&missing));
        }
    }
    let mut inner = d.lock();
    let answer = if password_grant {
        let user = inner.users.iter_mut().find(|u| {
            !u.deleted
                && Some(u.username.as_str()) == username.as_deref()
                && password.as_deref().is_some_and(|p| same(p, &u.password))
        });
        let Some(user) = user else {
            return Err(ApiError::unauthorized("invalid_grant"));
        };
        if !user.enabled() {
            return Err(ApiError::unauthorized("account_disabled"));
        }
        user.last_login_ms = Some(unix_millis() / 1000 * 1000);
        let grant = Grant {
            account: user.username.clone(),
            user_id: user.id.clone(),
            role: user.role,
            client: false,
        };
        let role = grant.role;
        d.issue(&mut inner, grant, role)
    } else {
        d.issue(&mut inner, client_grant(), Role::Admin)
    };
    d.stats.token_grants.fetch_add(1, Ordering::Relaxed);
    Ok(axum::Json(answer).into_response())
}

/// `POST /auth/refresh`: a new token set; the refresh token sent is spent.
pub(crate) async fn refresh(
    State(d): State<Arc<Devops>>,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let mut body = body(&bytes)?;
    let token = body.string("refresh_token", true);
    finish(body)?;
    let token = token.unwrap_or_default();
    let mut inner = d.lock();
    let grant = match inner.refresh.redeem(&token, unix_millis()) {
        Ok(grant) => grant,
        Err(RefreshRefusal::Unknown) => {
            return Err(ApiError::unauthorized("invalid_refresh_token"));
        }
        Err(RefreshRefusal::Reused) => {
            d.stats.refresh_reuse.fetch_add(1, Ordering::Relaxed);
            return Err(ApiError::unauthorized("refresh_token_reused"));
        }
        Err(RefreshRefusal::Expired) => {
            return Err(ApiError::unauthorized("refresh_token_expired"));
        }
    };
    let Some(role) = inner.role_now(&grant) else {
        return Err(ApiError::unauthorized("account_disabled"));
    };
    let answer = d.issue(&mut inner, grant, role);
    d.stats.refreshes.fetch_add(1, Ordering::Relaxed);
    Ok(axum::Json(answer).into_response())
}
