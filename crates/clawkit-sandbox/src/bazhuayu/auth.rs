//! Credentials: `POST /token` (a form, either grant) and the check of `Authorization: bearer TOKEN`
//! with the token's leaky bucket.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::envelope::{envelope, fault_body, oauth_error};
use super::state::{BUCKET, RATE_PER_SECOND};
use super::{Bazhuayu, PASSWORD, USERNAME};

/// The description of `unsupported_grant_type`: the body is not the form the seed shows.
const MALFORMED: &str =
    "POST数据格式不正确,要保证格式为:username={username}&password={password}&grant_type=password。";

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
    match field("grant_type") {
        Some("password") => {
            if field("username") == Some(USERNAME) && field("password") == Some(PASSWORD) {
                (StatusCode::OK, axum::Json(b.issue(&mut inner))).into_response()
            } else {
                oauth_error("invalid_grant", "账号名或密码不正确。")
            }
        }
        Some("refresh_token") => match field("refresh_token")
            .and_then(|t| inner.refresh.get(t).copied().map(|used| (t, used)))
        {
            Some((t, false)) => {
                let t = t.to_string();
                inner.refresh.insert(t, true);
                (StatusCode::OK, axum::Json(b.issue(&mut inner))).into_response()
            }
            Some((_, true)) => {
                b.stats.refresh_reuse.fetch_add(1, Ordering::Relaxed);
                oauth_error(
                    "invalid_grant",
                    "refresh_token已使用,同一个refresh_token只能使用一次。",
                )
            }
            None => oauth_error("invalid_grant", "refresh_token无效。"),
        },
        _ => oauth_error("unsupported_grant_type", MALFORMED),
    }
}

/// Checks `Authorization: bearer TOKEN` (401 `unauthorized` unless it names a live token), then
/// the token's leaky bucket (429 `quota_exceeded` when empty), and counts the request.
#[allow(clippy::result_large_err)] // as `Api::authorize`: the refusal is the answer
pub(super) fn check_bearer(b: &Bazhuayu, request: &Request) -> Result<(), Response> {
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim());
    let unauthorized = || {
        envelope(
            StatusCode::UNAUTHORIZED,
            Value::Null,
            "unauthorized",
            "access_token无效 ,原因是token过期或者非法,此时需要重新获取token。",
        )
    };
    let Some(token) = token else {
        return Err(unauthorized());
    };
    {
        let mut inner = b.lock();
        let now = Instant::now();
        let Some(t) = inner.tokens.get_mut(token) else {
            return Err(unauthorized());
        };
        if now >= t.expires {
            return Err(unauthorized());
        }
        t.bucket =
            (t.bucket + now.duration_since(t.refilled).as_secs_f64() * RATE_PER_SECOND).min(BUCKET);
        t.refilled = now;
        if t.bucket < 1.0 {
            b.stats.rate_limited.fetch_add(1, Ordering::Relaxed);
            return Err(
                (StatusCode::TOO_MANY_REQUESTS, axum::Json(fault_body(true))).into_response(),
            );
        }
        t.bucket -= 1.0;
    }
    b.stats.requests.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use serde_json::Value;

    use crate::{Sandbox, Vendor};

    async fn post_token(sb: &Sandbox, content_type: &str, body: &str) -> (u16, Value) {
        let response = reqwest::Client::new()
            .post(format!("{}/token", sb.base_url(Vendor::Bazhuayu)))
            .header("content-type", content_type)
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    const FORM: &str = "application/x-www-form-urlencoded";

    #[tokio::test]
    async fn the_token_form_decodes_and_grants() {
        let sb = Sandbox::builder().start().await.unwrap();
        // Percent-encoded values decode; a field sent twice counts the first time.
        let (status, body) = post_token(
            &sb,
            FORM,
            "username=%73andbox&password=sand%62ox&grant_type=password&grant_type=refresh_token",
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["token_type"], "bearer");
        assert_eq!(body["expires_in"], 86_399);
        let (status, body) = post_token(
            &sb,
            "application/x-www-form-urlencoded; charset=utf-8",
            "username=sandbox&password=wrong+one&grant_type=password",
        )
        .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_grant"))
        );
        assert_eq!(body["error_description"], "账号名或密码不正确。");
        assert_eq!(
            sb.vendor::<crate::bazhuayu::Bazhuayu>()
                .stats
                .token_requests
                .load(Ordering::Relaxed),
            2
        );
    }

    #[tokio::test]
    async fn a_body_that_is_not_a_form_is_an_unsupported_grant_type() {
        let sb = Sandbox::builder().start().await.unwrap();
        let json = r#"{"username":"sandbox","password":"sandbox","grant_type":"password"}"#;
        for (content_type, body) in [
            ("application/json", json),
            (FORM, json),
            (
                "text/plain",
                "username=sandbox&password=sandbox&grant_type=password",
            ),
            (FORM, ""),
        ] {
            let (status, answer) = post_token(&sb, content_type, body).await;
            assert_eq!(status, 400, "{content_type} {body}");
            assert_eq!(answer["error"], "unsupported_grant_type");
            assert_eq!(answer["error_description"], super::MALFORMED);
        }
        assert_eq!(
            sb.vendor::<crate::bazhuayu::Bazhuayu>()
                .stats
                .token_requests
                .load(Ordering::Relaxed),
            4
        );
    }

    #[tokio::test]
    async fn a_refresh_token_works_once() {
        let sb = Sandbox::builder().start().await.unwrap();
        let (_, first) = post_token(
            &sb,
            FORM,
            "username=sandbox&password=sandbox&grant_type=password",
        )
        .await;
        let refresh = format!(
            "refresh_token={}&grant_type=refresh_token",
            first["refresh_token"].as_str().unwrap()
        );
        let (status, second) = post_token(&sb, FORM, &refresh).await;
        assert_eq!(status, 200);
        assert_ne!(second["access_token"], first["access_token"]);
        let (status, again) = post_token(&sb, FORM, &refresh).await;
        assert_eq!(
            (status, again["error"].as_str()),
            (400, Some("invalid_grant"))
        );
        assert_eq!(
            again["error_description"],
            "refresh_token已使用,同一个refresh_token只能使用一次。"
        );
        assert_eq!(
            sb.vendor::<crate::bazhuayu::Bazhuayu>()
                .stats
                .refresh_reuse
                .load(Ordering::Relaxed),
            1
        );
        let (status, unknown) =
            post_token(&sb, FORM, "refresh_token=rt_nope&grant_type=refresh_token").await;
        assert_eq!(
            (status, unknown["error"].as_str()),
            (400, Some("invalid_grant"))
        );
        // The new access token opens the protected routes.
        let response = reqwest::Client::new()
            .get(format!("{}/api/TaskGroup", sb.base_url(Vendor::Bazhuayu)))
            .header(
                "authorization",
                format!("bearer {}", second["access_token"].as_str().unwrap()),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        assert_eq!(
            sb.vendor::<crate::bazhuayu::Bazhuayu>()
                .stats
                .requests
                .load(Ordering::Relaxed),
            1
        );
    }
}
