//! 认证授权: `POST /auth/token` (OAuth 2.0 `client_credentials` and `password` grants, JSON body),
//! `POST /auth/refresh` (single-use refresh tokens of the kit, rotated on every refresh) and the
//! check of `Authorization: Bearer <jwt>` (the kit's bearer header): HS256 JWTs signed with a key
//! drawn when the sandbox starts.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::Devops;
use super::envelope::ApiError;
use super::limits::ANONYMOUS;
use super::rbac::{Caller, Role};
use super::request::{body, finish};
use super::state::Inner;
use crate::kit::clock::{unix_millis, unix_now, utc};
use crate::kit::ids::{random_hex, random_u64};
use crate::kit::read::Problem;
use crate::kit::tokens::{BearerProblem, RefreshRefusal, bearer};

/// The sandbox's API key (`client_id`).
pub const CLIENT_ID: &str = "sandbox";
/// The sandbox's client secret (`client_secret`).
pub const CLIENT_SECRET: &str = "sandbox-secret";
/// The user id behind the client credentials: the `admin` role user.
pub(super) const CLIENT_USER_ID: &str = "usr_role_admin";
/// How long a refresh token lives: 7 days, the short end of the seed's 7-30.
const REFRESH_TTL_MS: i64 = 7 * 24 * 3600 * 1000;
/// Longest account name kept for rate limiting (longer ones are cut).
const ACCOUNT_MAX: usize = 64;

/// The claims of an access token.
#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    /// The user id.
    sub: String,
    /// The account: `sandbox` or the username.
    name: String,
    /// The RBAC role.
    role: String,
    /// Issued at, Unix seconds.
    iat: i64,
    /// Expires at, Unix seconds.
    exp: i64,
    /// Unique token id.
    jti: String,
}

/// What a refresh token grants, once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Grant {
    /// The account.
    account: String,
    /// The user id.
    user_id: String,
    /// The role when issued (a user's current role is read again on refresh).
    role: Role,
    /// Issued to the client credentials rather than a user's password.
    client: bool,
}

impl Devops {
    /// A new token set for `grant` as its `role` now, as `TokenResponse`: an access token, and a
    /// refresh token recorded in `inner`.
    fn issue(&self, inner: &mut Inner, grant: Grant, role: Role) -> Value {
        let now = unix_now();
        let ttl = self.config.token_ttl.as_secs_f64().ceil() as i64;
        let claims = Claims {
            sub: grant.user_id.clone(),
            name: grant.account.clone(),
            role: role.as_str().to_string(),
            iat: now,
            exp: now + ttl,
            jti: format!("{:016x}{:08x}", random_u64(), self.next_serial()),
        };
        let access = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(&self.secret.0),
        )
        .unwrap_or_default();
        let refresh = random_hex(3);
        let grant = Grant { role, ..grant };
        inner
            .refresh
            .issue(refresh.clone(), grant, unix_millis() + REFRESH_TTL_MS);
        json!({
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": ttl,
            "refresh_token": refresh,
            "scope": role.scope(),
            "issued_at": utc(now * 1000),
        })
    }

    /// The caller of a request from its `Authorization: Bearer` token; the error is the 401's
    /// `details.reason`: `missing_token`, `invalid_token` or `token_expired`.
    pub(super) fn verify(&self, headers: &HeaderMap) -> Result<Caller, &'static str> {
        let token = bearer(headers).map_err(|problem| match problem {
            BearerProblem::Missing => "missing_token",
            BearerProblem::NotBearer => "invalid_token",
        })?;
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        let data = jsonwebtoken::decode::<Claims>(
            token,
            &DecodingKey::from_secret(&self.secret.0),
            &validation,
        )
        .map_err(|e| match e.kind() {
            ErrorKind::ExpiredSignature => "token_expired",
            _ => "invalid_token",
        })?;
        let role = Role::parse(&data.claims.role).ok_or("invalid_token")?;
        Ok(Caller {
            user_id: data.claims.sub,
            account: data.claims.name,
            role,
        })
    }

    /// 401 `UNAUTHORIZED` with `reason`, counted against the `anonymous` account's limits (429
    /// when they are spent).
    pub(super) fn refuse(&self, reason: &'static str) -> Response {
        match self.admit(ANONYMOUS) {
            Err(refused) => refused.response(),
            Ok(admission) => {
                self.stats.requests.fetch_add(1, Ordering::Relaxed);
                admission
                    .quota
                    .on(ApiError::unauthorized(reason).into_response())
            }
        }
    }

    /// Whose rate limits an `/auth/*` request counts against: a refresh token's account, the
    /// `username` of a password grant, else the `client_id`, else `anonymous`.
    pub(super) fn account_of_auth_body(&self, bytes: &Bytes) -> String {
        let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(bytes) else {
            return ANONYMOUS.to_string();
        };
        let text = |k: &str| body.get(k).and_then(Value::as_str);
        let account = if let Some(refresh) = text("refresh_token") {
            self.lock()
                .refresh
                .grant(refresh)
                .map(|g| g.account.clone())
        } else if text("grant_type") == Some("password") && text("username").is_some() {
            text("username").map(str::to_string)
        } else {
            text("client_id").map(str::to_string)
        };
        let mut account = account.unwrap_or_else(|| ANONYMOUS.to_string());
        if account.len() > ACCOUNT_MAX {
            let mut cut = ACCOUNT_MAX;
            while !account.is_char_boundary(cut) {
                cut -= 1;
            }
            account.truncate(cut);
        }
        account
    }
}

/// `POST /auth/token`: the body is checked against `TokenRequest` (422), then the client (401),
/// then what the grant needs (a password grant without `username` or `password` is 422), then
/// the user (401).
pub(super) async fn token(
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
    if client_id.as_deref() != Some(CLIENT_ID) || client_secret.as_deref() != Some(CLIENT_SECRET) {
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
        let now = unix_millis();
        let user = inner.users.iter_mut().find(|u| {
            !u.deleted
                && Some(u.username.as_str()) == username.as_deref()
                && Some(u.password.as_str()) == password.as_deref()
        });
        let Some(user) = user else {
            return Err(ApiError::unauthorized("invalid_grant"));
        };
        if matches!(user.status, "inactive" | "suspended") {
            return Err(ApiError::unauthorized("account_disabled"));
        }
        user.last_login_ms = Some(now / 1000 * 1000);
        let grant = Grant {
            account: user.username.clone(),
            user_id: user.id.clone(),
            role: user.role,
            client: false,
        };
        let role = grant.role;
        d.issue(&mut inner, grant, role)
    } else {
        let grant = Grant {
            account: CLIENT_ID.into(),
            user_id: CLIENT_USER_ID.into(),
            role: Role::Admin,
            client: true,
        };
        d.issue(&mut inner, grant, Role::Admin)
    };
    d.stats.token_grants.fetch_add(1, Ordering::Relaxed);
    Ok(axum::Json(answer).into_response())
}

/// `POST /auth/refresh`: a new token set; the refresh token sent is spent.
pub(super) async fn refresh(
    State(d): State<Arc<Devops>>,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let mut body = body(&bytes)?;
    let token = body.string("refresh_token", true);
    finish(body)?;
    let token = token.unwrap_or_default();
    let mut inner = d.lock();
    let stored = match inner.refresh.redeem(&token, unix_millis()) {
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
    let role = if stored.client {
        stored.role
    } else {
        match inner
            .users
            .iter()
            .find(|u| u.id == stored.user_id && !u.deleted)
        {
            Some(user) if !matches!(user.status, "inactive" | "suspended") => user.role,
            _ => return Err(ApiError::unauthorized("account_disabled")),
        }
    };
    let answer = d.issue(&mut inner, stored, role);
    d.stats.refreshes.fetch_add(1, Ordering::Relaxed);
    Ok(axum::Json(answer).into_response())
}
