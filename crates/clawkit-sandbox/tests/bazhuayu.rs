//! Bazhuayu's sandbox end to end: the token form and its grants, the single-use refresh token,
//! and the bearer check of the data calls.

mod support;

use std::sync::atomic::Ordering;

use clawkit_sandbox::bazhuayu::Bazhuayu;
use clawkit_sandbox::{Sandbox, Vendor};
use serde_json::Value;
use support::Http;

/// The description of `unsupported_grant_type` (the seed's words).
const MALFORMED: &str =
    "POST数据格式不正确,要保证格式为:username={username}&password={password}&grant_type=password。";

/// `POST /token` with `body` as `content_type`: the status and the JSON answer.
async fn post_token(sb: &Sandbox, content_type: &str, body: &str) -> (u16, Value) {
    let answer = Http::new(sb.base_url(Vendor::Bazhuayu))
        .send_raw("POST", "/token", content_type, body.to_string())
        .await;
    (answer.status, answer.body)
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
        sb.vendor::<Bazhuayu>()
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
        assert_eq!(answer["error_description"], MALFORMED);
    }
    assert_eq!(
        sb.vendor::<Bazhuayu>()
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
        sb.vendor::<Bazhuayu>()
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
    let groups = Http::new(sb.base_url(Vendor::Bazhuayu))
        .with_header(
            "authorization",
            format!("bearer {}", second["access_token"].as_str().unwrap()),
        )
        .get("/api/TaskGroup")
        .await;
    assert_eq!(groups.status, 200);
    assert_eq!(
        sb.vendor::<Bazhuayu>()
            .stats
            .requests
            .load(Ordering::Relaxed),
        1
    );
}

/// The seed limits the user's access frequency: every token of one user takes from one bucket
/// (100 at once, 20 a second), so two tokens sent alternately are refused past it together, where
/// a bucket per token would let 200 through.
#[tokio::test]
async fn all_tokens_of_one_user_share_one_bucket() {
    let sb = Sandbox::builder().start().await.unwrap();
    let grant = "username=sandbox&password=sandbox&grant_type=password";
    let mut tokens = Vec::new();
    for _ in 0..2 {
        let (status, body) = post_token(&sb, FORM, grant).await;
        assert_eq!(status, 200, "{body}");
        tokens.push(body["access_token"].as_str().unwrap().to_string());
    }
    assert_ne!(tokens[0], tokens[1]);
    let clients: Vec<Http> = tokens
        .iter()
        .map(|t| Http::new(sb.base_url(Vendor::Bazhuayu)).bearer(t))
        .collect();
    let started = std::time::Instant::now();
    let (mut admitted, mut limited) = (0u64, 0u64);
    for i in 0..160 {
        match clients[i % 2].get("/api/TaskGroup").await.status {
            200 => admitted += 1,
            429 => limited += 1,
            other => panic!("unexpected {other}"),
        }
    }
    let refilled = (started.elapsed().as_secs_f64() * 20.0).ceil() as u64;
    assert!(limited > 0, "no 429 in 160 requests of one user");
    assert!(
        admitted <= 100 + refilled,
        "{admitted} admitted, {refilled} refilled"
    );
    let stats = &sb.vendor::<Bazhuayu>().stats;
    assert_eq!(stats.token_grants.load(Ordering::Relaxed), 2);
    assert_eq!(stats.refreshes.load(Ordering::Relaxed), 0);
    assert_eq!(stats.rate_limited.load(Ordering::Relaxed), limited);
}
