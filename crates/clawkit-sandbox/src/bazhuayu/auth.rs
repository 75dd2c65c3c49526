//! Credentials: `POST /token` (a form, either grant) and the check of `Authorization: bearer TOKEN`
//! with the token's leaky bucket.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bazhuayu_api::types::AccessToken;

use super::envelope::{fault_body, oauth_error, unauthorized};
use super::state::{Bazhuayu, Inner, LEAKY_BUCKET};
use crate::kit::clock::unix_millis;
use crate::kit::tokens::{RefreshRefusal, bearer};

/// Sandbox credentials.
pub const USERNAME: &str = "sandbox";
/// Sandbox password.
pub const PASSWORD: &str = "sandbox";

/// The description of `unsupported_grant_type`: the body is not the form the seed shows.
const MALFORMED: &str =
    "POST数据格式不正确,要保证格式为:username={username}&password={password}&grant_type=password。";

/// A new access token of `user` and its one-use refresh token, as `POST /token` answers them.
fn issue(b: &Bazhuayu, inner: &mut Inner, user: &str) -> AccessToken {
    let access = format!("at_{}", b.ids.next());
    let refresh = format!("rt_{}", b.ids.next());
    let now = unix_millis();
    let ttl_ms = i64::try_from(b.ttl.as_millis()).unwrap_or(i64::MAX);
    inner.access.issue(
        access.clone(),
        user.to_string(),
        now,
        now.saturating_add(ttl_ms),
    );
    inner
        .refresh
        .issue(refresh.clone(), user.to_string(), i64::MAX);
    b.stats.token_grants.fetch_add(1, Ordering::Relaxed);
    AccessToken {
        access_token: access,
        token_type: "bearer".into(),
        expires_in: i64::try_from(b.ttl.as_secs()).unwrap_or(i64::MAX),
        refresh_token: refresh,
    }
}

/// `POST /token`: the password grant or a refresh grant, as a form. A body that is not a form
/// (another content type) or that axum's `Form` cannot decode is 400 `unsupported_grant_type`, as
/// is a form without a known grant; a field sent twice counts once, the first time. (`Form`
/// decodes leniently: an invalid percent escape stays as written.)
pub(super) async fn token(
    State(b): State<Arc<Bazhuayu>>,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    // A body that cannot be read (too large, cut) is refused as axum refuses it, uncounted.
    if let Err(FormRejection::BytesRejection(rejection)) = form {
        return rejection.into_response();
    }
    b.stats.token_requests.fetch_add(1, Ordering::Relaxed);
    let Ok(Form(form)) = form else {
        return oauth_error("unsupported_grant_type", MALFORMED);
    };
    let field = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let mut inner = b.lock();
    let granted = match field("grant_type") {
        Some("password") => {
            if field("username") != Some(USERNAME) || field("password") != Some(PASSWORD) {
                return oauth_error("invalid_grant", "账号名或密码不正确。");
            }
            issue(&b, &mut inner, USERNAME)
        }
        Some("refresh_token") => {
            let token = field("refresh_token").unwrap_or_default();
            match inner.refresh.redeem(token, unix_millis()) {
                Ok(user) => {
                    b.stats.refreshes.fetch_add(1, Ordering::Relaxed);
                    issue(&b, &mut inner, &user)
                }
                Err(RefreshRefusal::Reused) => {
                    b.stats.refresh_reuse.fetch_add(1, Ordering::Relaxed);
                    return oauth_error(
                        "invalid_grant",
                        "refresh_token已使用,同一个refresh_token只能使用一次。",
                    );
                }
                Err(_) => return oauth_error("invalid_grant", "refresh_token无效。"),
            }
        }
        _ => return oauth_error("unsupported_grant_type", MALFORMED),
    };
    (StatusCode::OK, axum::Json(granted)).into_response()
}

/// Checks `Authorization: bearer TOKEN` (401 `unauthorized` unless it names a live token), then
/// its account's leaky bucket (429 `quota_exceeded` when empty: every token of one user takes from
/// the same bucket, as the spec reads the seed), and counts the request.
#[allow(clippy::result_large_err)] // as `Api::authorize`: the refusal is the answer
pub(super) fn check_bearer(b: &Bazhuayu, request: &Request) -> Result<(), Response> {
    let token = bearer(request.headers()).map_err(|_| unauthorized())?;
    let user = match b.lock().access.check(token, unix_millis()) {
        Ok(user) => user.clone(),
        Err(_) => return Err(unauthorized()),
    };
    if b.buckets.take(&user, &[LEAKY_BUCKET]).is_err() {
        b.stats.rate_limited.fetch_add(1, Ordering::Relaxed);
        return Err((StatusCode::TOO_MANY_REQUESTS, axum::Json(fault_body(true))).into_response());
    }
    b.stats.requests.fetch_add(1, Ordering::Relaxed);
    Ok(())
}
