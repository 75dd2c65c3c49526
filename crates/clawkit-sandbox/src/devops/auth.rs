//! Issuing and checking tokens, over the state: the vendor's access tokens are HS256 JWTs signed
//! with a key drawn when the sandbox starts (`sub` user id, `name` account, `role`, `iat`, `exp`,
//! `jti`); its refresh tokens live 7 days and work once ([`RefreshTokens`] of the kit, rotated on
//! every refresh); the bearer header is read by [`bearer`].
//!
//! [`RefreshTokens`]: crate::kit::tokens::RefreshTokens

use axum::body::Bytes;
use axum::http::HeaderMap;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use openclaw_devops_api::types::{Role, TokenResponse};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::rbac::{Caller, Grant, scope};
use super::state::{Devops, Inner};
use crate::kit::clock::{unix_millis, unix_now, utc_datetime};
use crate::kit::ids::{random_hex, random_u64};
use crate::kit::tokens::{BearerProblem, bearer};

/// The sandbox's API key (`client_id`).
pub const CLIENT_ID: &str = "sandbox";
/// The sandbox's client secret (`client_secret`).
pub const CLIENT_SECRET: &str = "sandbox-secret";
/// The user id behind the client credentials: the `admin` role user.
pub(crate) const CLIENT_USER_ID: &str = "usr_role_admin";
/// The account of requests that name none (no token, a bad token, an auth body without a
/// client id).
pub(crate) const ANONYMOUS: &str = "anonymous";
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

/// The grant of the client credentials: the `sandbox` account as the `admin` role user.
pub(crate) fn client_grant() -> Grant {
    Grant {
        account: CLIENT_ID.into(),
        user_id: CLIENT_USER_ID.into(),
        role: Role::Admin,
        client: true,
    }
}

impl Devops {
    /// A new token set for `grant` as its `role` now: an access token, and a refresh token
    /// recorded in `inner`.
    pub(crate) fn issue(&self, inner: &mut Inner, grant: Grant, role: Role) -> TokenResponse {
        let now = unix_now();
        let ttl = self.config.token_ttl.as_secs_f64().ceil() as i64;
        let claims = Claims {
            sub: grant.user_id.clone(),
            name: grant.account.clone(),
            role: role.to_string(),
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
        TokenResponse {
            access_token: access,
            token_type: "Bearer".into(),
            expires_in: ttl,
            refresh_token: Some(refresh),
            scope: Some(scope(role).into()),
            issued_at: Some(utc_datetime(now * 1000)),
        }
    }

    /// The caller of a request from its `Authorization: Bearer` token; the error is the 401's
    /// `details.reason`: `missing_token`, `invalid_token` or `token_expired`.
    pub(crate) fn verify(&self, headers: &HeaderMap) -> Result<Caller, &'static str> {
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
        let role = data.claims.role.parse().map_err(|_| "invalid_token")?;
        Ok(Caller {
            user_id: data.claims.sub,
            account: data.claims.name,
            role,
        })
    }

    /// Whose rate limits an `/auth/*` request counts against: a refresh token's account, the
    /// `username` of a password grant, else the `client_id`, else `anonymous`.
    pub(crate) fn account_of_auth_body(&self, bytes: &Bytes) -> String {
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
