//! OpenClaw fulfillment end to end, over HTTP: the spec's test vectors on the wire, every 401
//! code, tokens and refresh, time formats, the order-query limit, the skewed clock and faults.

mod fulfillment_client;
mod support;

use std::sync::atomic::Ordering;
use std::time::Duration;

use clawkit_sandbox::fulfillment::{CLIENT_ID, CLIENT_SECRET};
use clawkit_sandbox::kit::clock::unix_millis;
use clawkit_sandbox::{FaultKind, FaultRule, Vendor};
use fulfillment_client::{Client, Coded, order, rfc3339, run, run_request, sandbox};
use serde_json::json;
use support::Answer;

#[tokio::test]
async fn the_specs_test_vectors_are_accepted_on_the_wire() {
    // The server's clock shows the vectors' signing time.
    let offset = 1_718_411_400 - unix_millis() / 1000;
    let sb = sandbox(|b| {
        b.configure(|c: &mut clawkit_sandbox::fulfillment::Config| c.clock_offset_secs = offset)
    })
    .await;
    let mut api = Client::anonymous(&sb);
    api.skew = offset;
    api.login().await;
    let body = br#"{"reason":"customer_request"}"#;
    let vector1 = api.signed(
        "POST",
        "/v2.1/orders/%231001/cancel",
        body,
        "2024-06-15T08:30:00+08:00",
        "7c9e6679-7425-40de-944b-e07fc1f90ae7",
    );
    let request = vector1.build().unwrap();
    assert_eq!(
        request.headers()["x-openclaw-signature"],
        "70bda7f8c5eeaa641a79206185815f86c694a7ee9a2e37570b6565a470fd3286"
    );
    let answer = run(api.signed(
        "POST",
        "/v2.1/orders/%231001/cancel",
        body,
        "2024-06-15T08:30:00+08:00",
        "7c9e6679-7425-40de-944b-e07fc1f90ae7",
    ))
    .await;
    answer.expect(200);
    assert_eq!(answer.body["order_no"], "#1001");
    assert_eq!(answer.body["status"], "cancelled");
    assert_eq!(answer.body["cancel_reason"], "customer_request");

    let path =
        "/v2.1/orders?status=shipped&updated_from=2024-06-15T00%3A00%3A00%2B08%3A00&limit=50";
    let vector2 = api.signed(
        "GET",
        path,
        b"",
        "2024-06-15T08:30:00+08:00",
        "f47ac10b-58cc-4372-a567-0e02b2c3d479",
    );
    let answer = run(vector2).await;
    answer.expect(200);
    let items = answer.body["items"].as_array().unwrap();
    assert!(!items.is_empty());
    assert!(items.iter().all(|o| o["status"] == "shipped"));
    assert!(items.iter().any(|o| o["order_no"] == "#1003"));
}

#[tokio::test]
async fn every_refusal_has_its_401_code() {
    let sb = sandbox(|b| b).await;
    let api = Client::of(&sb).await;
    let ok = api.get("/v2.1/webhooks").await;
    ok.expect(200);
    assert!(ok.header("date").is_some());

    // Unsigned.
    let bare = run(api
        .http
        .get(format!("{}/v2.1/webhooks", api.base))
        .bearer_auth(api.token.clone().unwrap()))
    .await;
    bare.expect_code(401, "invalid_signature");
    assert!(
        bare.body["request_id"]
            .as_str()
            .unwrap()
            .starts_with("req_")
    );
    // A signature that does not match.
    let mut forged = api.request("GET", "/v2.1/webhooks", b"").build().unwrap();
    forged
        .headers_mut()
        .insert("X-OpenClaw-Signature", "00".repeat(32).parse().unwrap());
    let wrong = run_request(&api.http, forged).await;
    wrong.expect_code(401, "invalid_signature");
    // A body that is not the signed one.
    let signed = api
        .request("POST", "/v2.1/inventory/reservations", b"{}")
        .body("{ }");
    assert_eq!(run(signed).await.code(), "invalid_signature");
    // Ten minutes off.
    let late = run(api.signed(
        "GET",
        "/v2.1/webhooks",
        b"",
        &rfc3339(unix_millis() - 400_000),
        "nonce-0000000000000001",
    ))
    .await;
    late.expect_code(401, "timestamp_out_of_range");
    // A Unix timestamp is not a signing time.
    let unix = run(api.signed(
        "GET",
        "/v2.1/webhooks",
        b"",
        "1718411400",
        "nonce-0000000000000002",
    ))
    .await;
    unix.expect_code(401, "invalid_signature");
    // The same nonce twice.
    let at = rfc3339(unix_millis());
    let first = run(api.signed("GET", "/v2.1/webhooks", b"", &at, "nonce-0000000000000003")).await;
    assert_eq!(first.status, 200);
    let again = run(api.signed("GET", "/v2.1/webhooks", b"", &at, "nonce-0000000000000003")).await;
    again.expect_code(401, "nonce_reused");
    // Tokens.
    let mut nobody = Client::anonymous(&sb);
    let missing = nobody.get("/v2.1/webhooks").await;
    missing.expect_code(401, "invalid_token");
    nobody.token = Some("oat_unknown".into());
    assert_eq!(nobody.get("/v2.1/webhooks").await.code(), "invalid_token");
    let wrong_secret = nobody
        .post(
            "/v2.1/auth/token",
            json!({"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": "nope"}),
        )
        .await;
    wrong_secret.expect_code(401, "invalid_client");

    let stats = &sb
        .vendor::<clawkit_sandbox::fulfillment::Fulfillment>()
        .stats;
    assert_eq!(stats.refused_invalid_signature.load(Ordering::Relaxed), 4);
    assert_eq!(stats.refused_timestamp.load(Ordering::Relaxed), 1);
    assert_eq!(stats.refused_nonce.load(Ordering::Relaxed), 1);
    let snapshot = api.get("/_sandbox/stats").await;
    assert_eq!(snapshot.body["refused"]["nonce_reused"], 1);
}

#[tokio::test]
async fn tokens_expire_and_refresh_tokens_work_once() {
    let sb = sandbox(|b| {
        b.configure(|c: &mut clawkit_sandbox::fulfillment::Config| {
            c.token_ttl = Duration::from_millis(600)
        })
    })
    .await;
    let mut api = Client::anonymous(&sb);
    let grant = api.login().await;
    assert_eq!(grant["token_type"], "Bearer");
    assert_eq!(grant["expires_in"], 1);
    assert_eq!(grant["refresh_expires_in"], 2_592_000);
    assert!(grant["expires_at"].as_str().unwrap().ends_with("+08:00"));
    assert_eq!(api.get("/v2.1/webhooks").await.status, 200);
    tokio::time::sleep(Duration::from_millis(700)).await;
    let expired = api.get("/v2.1/webhooks").await;
    expired.expect_code(401, "token_expired");

    let refresh = json!({"grant_type": "refresh_token", "client_id": CLIENT_ID, "refresh_token": grant["refresh_token"]});
    let renewed = api.post("/v2.1/auth/token/refresh", refresh.clone()).await;
    renewed.expect(200);
    assert_ne!(renewed.body["refresh_token"], grant["refresh_token"]);
    api.token = renewed.body["access_token"].as_str().map(str::to_string);
    assert_eq!(api.get("/v2.1/webhooks").await.status, 200);
    let reused = api.post("/v2.1/auth/token/refresh", refresh).await;
    reused.expect_code(401, "invalid_token");
    let stats = &sb
        .vendor::<clawkit_sandbox::fulfillment::Fulfillment>()
        .stats;
    assert_eq!(stats.token_grants.load(Ordering::Relaxed), 1);
    assert_eq!(stats.refreshes.load(Ordering::Relaxed), 1);
    assert_eq!(stats.refresh_reuse.load(Ordering::Relaxed), 1);
}

#[tokio::test]
async fn times_without_an_offset_are_400_naming_the_field() {
    let sb = sandbox(|b| b).await;
    let api = Client::of(&sb).await;
    for (value, reason) in [
        (json!("2024-06-15T08:30:00"), "offset"),
        (json!(1_718_411_400), "Unix"),
        (json!("1718411400"), "Unix"),
    ] {
        let mut body = order("T-1", "CBL-USBC-1M-BK", 1, "US");
        body["ordered_at"] = value;
        let answer = api.post("/v2.1/orders", body).await;
        answer.expect_code(400, "invalid_time_format");
        assert!(
            answer.body["message"]
                .as_str()
                .unwrap()
                .contains("ordered_at")
        );
        assert_eq!(answer.body["details"][0]["field"], "ordered_at");
        let why = answer.body["details"][0]["reason"].as_str().unwrap();
        assert!(why.contains(reason), "{why}");
    }
    // A bare `+` decodes to a space.
    let bare = api
        .get("/v2.1/orders?updated_from=2024-06-15T00:00:00+08:00")
        .await;
    bare.expect_code(400, "invalid_time_format");
    assert_eq!(bare.body["details"][0]["field"], "updated_from");
    let naive = api
        .get("/v2.1/returns?updated_to=2024-06-15T00:00:00")
        .await;
    assert_eq!(naive.body["details"][0]["field"], "updated_to");
    let encoded = api
        .get("/v2.1/orders?updated_from=2024-06-15T00:00:00%2B08:00")
        .await;
    encoded.expect(200);
    // Other field problems name the field too.
    let mut body = order("T-2", "CBL-USBC-1M-BK", 0, "US");
    body["recipient"]["country_code"] = json!("USA");
    let answer = api.post("/v2.1/orders", body).await;
    answer.expect_code(400, "invalid_request");
    assert_eq!(answer.body["details"][0]["field"], "recipient.country_code");
    let bad_cursor = api.get("/v2.1/orders?cursor=abc").await;
    assert_eq!(bad_cursor.body["details"][0]["field"], "cursor");
    let bad_status = api.get("/v2.1/orders?status=lost").await;
    assert_eq!(bad_status.body["details"][0]["field"], "status");
}

#[tokio::test]
async fn order_queries_are_limited_to_10_per_second() {
    let sb = sandbox(|b| b).await;
    let api = Client::of(&sb).await;
    let calls = (0..15).map(|_| api.get("/v2.1/orders/%231001"));
    let answers = futures::future::join_all(calls).await;
    let limited: Vec<&Answer> = answers.iter().filter(|a| a.status == 429).collect();
    assert!(answers.iter().filter(|a| a.status == 200).count() <= 10);
    assert!(!limited.is_empty());
    for a in &limited {
        assert_eq!(a.code(), "rate_limited");
        assert!(
            a.header("retry-after")
                .and_then(|v| v.parse::<u64>().ok())
                .is_some_and(|s| s >= 1)
        );
    }
    // Other operations are not order queries.
    assert_eq!(api.get("/v2.1/inventory?limit=1").await.status, 200);
    assert!(
        sb.vendor::<clawkit_sandbox::fulfillment::Fulfillment>()
            .stats
            .rate_limited
            .load(Ordering::Relaxed)
            >= 1
    );
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert_eq!(api.get("/v2.1/orders?limit=1").await.status, 200);
}

#[tokio::test]
async fn a_skewed_server_clock_shows_in_date_and_refuses_local_time() {
    let sb = sandbox(|b| {
        b.configure(|c: &mut clawkit_sandbox::fulfillment::Config| c.clock_offset_secs = 600)
    })
    .await;
    let mut api = Client::anonymous(&sb);
    let local = api
        .post(
            "/v2.1/auth/token",
            json!({"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}),
        )
        .await;
    local.expect_code(401, "timestamp_out_of_range");
    let date = local.header("date").unwrap();
    let server = httpdate::parse_http_date(date).unwrap();
    let ahead = server
        .duration_since(std::time::SystemTime::now())
        .unwrap_or_default()
        .as_secs();
    assert!((595..=601).contains(&ahead), "{ahead}");
    api.skew = 600;
    api.login().await;
    assert_eq!(api.get("/v2.1/webhooks").await.status, 200);
}

#[tokio::test]
async fn faults_and_unknown_routes_answer_the_error_body() {
    let sb = sandbox(|b| {
        b.fault(
            FaultRule::new(FaultKind::Http429 {
                retry_after_secs: 3,
            })
            .vendor(Vendor::OpenclawFulfillment)
            .route("/v2.1/inventory")
            .limit(1),
        )
        .fault(
            FaultRule::new(FaultKind::Http503)
                .vendor(Vendor::OpenclawFulfillment)
                .route("/v2.1/returns")
                .limit(1),
        )
    })
    .await;
    let api = Client::of(&sb).await;
    let limited = api.get("/v2.1/inventory").await;
    limited.expect_code(429, "rate_limited");
    assert_eq!(limited.header("retry-after"), Some("3"));
    assert!(limited.header("date").is_some());
    let broken = api.get("/v2.1/returns").await;
    broken.expect_code(500, "internal_error");
    assert_eq!(api.get("/v2.1/inventory").await.status, 200);
    let nowhere = api.get("/v2.1/nowhere").await;
    nowhere.expect_code(404, "not_found");
    let wrong_method = run(api.request("PUT", "/v2.1/orders", b"")).await;
    assert_eq!(wrong_method.status, 405);
    assert!(wrong_method.header("allow").is_some());
    assert_eq!(
        sb.credentials(Vendor::OpenclawFulfillment),
        [
            ("CLIENT_ID", CLIENT_ID.to_string()),
            ("CLIENT_SECRET", CLIENT_SECRET.to_string())
        ]
    );
}
