//! The fulfillment sandbox end to end, over HTTP, with a small signer of its own: the spec's test
//! vectors on the wire, every 401 code, tokens and refresh, time formats, order numbers with
//! reserved characters, cursor paging, stock holds, the order-query limit, the skewed clock,
//! labels, logistics, returns, webhook deliveries and faults.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

use super::clock::rfc3339;
use super::signing::{canonical, hmac_hex, webhook_signature};
use super::{CLIENT_ID, CLIENT_SECRET};
use crate::kit::clock::unix_millis;
use crate::kit::ids::random_u64;
use crate::{FaultKind, FaultRule, Sandbox, SandboxBuilder, Vendor};

/// One answer.
struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    bytes: Bytes,
    body: Value,
}

impl Answer {
    /// Status, headers, raw bytes and the JSON they hold (`Null` if none).
    async fn read(response: reqwest::Response) -> Self {
        let (status, headers) = (response.status().as_u16(), response.headers().clone());
        let bytes = response.bytes().await.unwrap_or_default();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Self {
            status,
            headers,
            bytes,
            body,
        }
    }

    fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or_default()
    }

    /// Asserts the status, and the error code unless `code` is empty; shows the body otherwise.
    fn expect(&self, status: u16, code: &str) -> &Self {
        let got = (self.status, if code.is_empty() { "" } else { self.code() });
        assert_eq!(got, (status, code), "{}", self.body);
        self
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A signing client of one sandbox's `/openclaw-fulfillment`.
struct Client {
    base: String,
    http: reqwest::Client,
    token: Option<String>,
    /// Seconds added to the local clock when signing.
    skew: i64,
}

impl Client {
    async fn of(sb: &Sandbox) -> Self {
        let mut client = Self::anonymous(sb);
        client.login().await;
        client
    }

    fn anonymous(sb: &Sandbox) -> Self {
        Self {
            base: sb.base_url(Vendor::OpenclawFulfillment),
            http: reqwest::Client::new(),
            token: None,
            skew: 0,
        }
    }

    async fn login(&mut self) -> Value {
        let body = json!({"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET});
        let answer = self.send("POST", "/v2.1/auth/token", Some(body)).await;
        answer.expect(200, "");
        self.token = answer.body["access_token"].as_str().map(str::to_string);
        answer.body
    }

    /// The request, signed now (local clock plus `skew`) with a fresh nonce.
    fn request(&self, method: &str, path: &str, body: &[u8]) -> reqwest::RequestBuilder {
        let at = rfc3339(unix_millis() + self.skew * 1000);
        let nonce = format!("{:016x}{:016x}", random_u64(), random_u64());
        self.signed(method, path, body, &at, &nonce)
    }

    /// The request with the given signing time and nonce.
    fn signed(
        &self,
        method: &str,
        path: &str,
        body: &[u8],
        at: &str,
        nonce: &str,
    ) -> reqwest::RequestBuilder {
        let url = reqwest::Url::parse(&format!("{}{path}", self.base)).unwrap();
        let mut target = url
            .path()
            .trim_start_matches("/openclaw-fulfillment")
            .to_string();
        if let Some(q) = url.query().filter(|q| !q.is_empty()) {
            target = format!("{target}?{q}");
        }
        let signature = hmac_hex(
            CLIENT_SECRET,
            &canonical([method, &target, at, nonce], body),
        );
        let mut request = self
            .http
            .request(method.parse().unwrap(), url)
            .header("X-OpenClaw-Client-Id", CLIENT_ID)
            .header("X-OpenClaw-Timestamp", at)
            .header("X-OpenClaw-Nonce", nonce)
            .header("X-OpenClaw-Signature", signature)
            .body(body.to_vec());
        if !body.is_empty() {
            request = request.header("content-type", "application/json");
        }
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        request
    }

    async fn send(&self, method: &str, path: &str, body: Option<Value>) -> Answer {
        let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        run(self.request(method, path, &bytes)).await
    }

    async fn get(&self, path: &str) -> Answer {
        self.send("GET", path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> Answer {
        self.send("POST", path, Some(body)).await
    }

    /// Polls `path` until `done` says so.
    async fn wait_for(&self, path: &str, mut done: impl FnMut(&Value) -> bool) -> Value {
        let start = Instant::now();
        loop {
            let answer = self.get(path).await;
            if answer.status == 200 && done(&answer.body) {
                return answer.body;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "{path}: {}",
                answer.body
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn run(request: reqwest::RequestBuilder) -> Answer {
    let (http, request) = request.build_split();
    run_request(&http, request.unwrap()).await
}

async fn run_request(http: &reqwest::Client, request: reqwest::Request) -> Answer {
    Answer::read(http.execute(request).await.unwrap()).await
}

/// A sandbox set up by `configure`, serving.
async fn sandbox(configure: impl FnOnce(SandboxBuilder) -> SandboxBuilder) -> Sandbox {
    configure(Sandbox::builder())
        .start()
        .await
        .expect("the sandbox starts")
}

/// A valid `CreateOrderRequest`.
fn order(no: &str, sku: &str, quantity: i64, country: &str) -> Value {
    json!({
        "order_no": no,
        "channel": "shopify",
        "store_id": "shopify-us-main",
        "ordered_at": "2024-06-14T17:30:00-07:00",
        "currency": "USD",
        "recipient": {
            "name": "Jane Doe", "country_code": country, "city": "San Francisco",
            "postal_code": "94105", "address_line1": "500 Howard St"
        },
        "lines": [{"sku": sku, "quantity": quantity, "unit_price": "12.99"}]
    })
}

async fn ats(api: &Client, sku_path: &str, warehouse: &str) -> i64 {
    let answer = api
        .get(&format!(
            "/v2.1/inventory/skus/{sku_path}?warehouse_code={warehouse}"
        ))
        .await;
    answer.expect(200, "");
    answer.body["ats"].as_i64().unwrap()
}

#[tokio::test]
async fn the_specs_test_vectors_are_accepted_on_the_wire() {
    // The server's clock shows the vectors' signing time.
    let offset = 1_718_411_400 - unix_millis() / 1000;
    let sb =
        sandbox(|b| b.configure(|c: &mut crate::fulfillment::Config| c.clock_offset_secs = offset))
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
    answer.expect(200, "");
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
    answer.expect(200, "");
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
    ok.expect(200, "");
    assert!(ok.header("date").is_some());

    // Unsigned.
    let bare = run(api
        .http
        .get(format!("{}/v2.1/webhooks", api.base))
        .bearer_auth(api.token.clone().unwrap()))
    .await;
    bare.expect(401, "invalid_signature");
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
    wrong.expect(401, "invalid_signature");
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
    late.expect(401, "timestamp_out_of_range");
    // A Unix timestamp is not a signing time.
    let unix = run(api.signed(
        "GET",
        "/v2.1/webhooks",
        b"",
        "1718411400",
        "nonce-0000000000000002",
    ))
    .await;
    unix.expect(401, "invalid_signature");
    // The same nonce twice.
    let at = rfc3339(unix_millis());
    let first = run(api.signed("GET", "/v2.1/webhooks", b"", &at, "nonce-0000000000000003")).await;
    assert_eq!(first.status, 200);
    let again = run(api.signed("GET", "/v2.1/webhooks", b"", &at, "nonce-0000000000000003")).await;
    again.expect(401, "nonce_reused");
    // Tokens.
    let mut nobody = Client::anonymous(&sb);
    let missing = nobody.get("/v2.1/webhooks").await;
    missing.expect(401, "invalid_token");
    nobody.token = Some("oat_unknown".into());
    assert_eq!(nobody.get("/v2.1/webhooks").await.code(), "invalid_token");
    let wrong_secret = nobody
        .post(
            "/v2.1/auth/token",
            json!({"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": "nope"}),
        )
        .await;
    wrong_secret.expect(401, "invalid_client");

    let stats = &sb.vendor::<crate::fulfillment::Fulfillment>().stats;
    assert_eq!(stats.refused_invalid_signature.load(Ordering::Relaxed), 4);
    assert_eq!(stats.refused_timestamp.load(Ordering::Relaxed), 1);
    assert_eq!(stats.refused_nonce.load(Ordering::Relaxed), 1);
    let snapshot = api.get("/_sandbox/stats").await;
    assert_eq!(snapshot.body["refused"]["nonce_reused"], 1);
}

#[tokio::test]
async fn tokens_expire_and_refresh_tokens_work_once() {
    let sb = sandbox(|b| {
        b.configure(|c: &mut crate::fulfillment::Config| c.token_ttl = Duration::from_millis(600))
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
    expired.expect(401, "token_expired");

    let refresh = json!({"grant_type": "refresh_token", "client_id": CLIENT_ID, "refresh_token": grant["refresh_token"]});
    let renewed = api.post("/v2.1/auth/token/refresh", refresh.clone()).await;
    renewed.expect(200, "");
    assert_ne!(renewed.body["refresh_token"], grant["refresh_token"]);
    api.token = renewed.body["access_token"].as_str().map(str::to_string);
    assert_eq!(api.get("/v2.1/webhooks").await.status, 200);
    let reused = api.post("/v2.1/auth/token/refresh", refresh).await;
    reused.expect(401, "invalid_token");
    let stats = &sb.vendor::<crate::fulfillment::Fulfillment>().stats;
    assert_eq!(stats.token_grants.load(Ordering::Relaxed), 1);
    assert_eq!(stats.refreshes.load(Ordering::Relaxed), 1);
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
        answer.expect(400, "invalid_time_format");
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
    bare.expect(400, "invalid_time_format");
    assert_eq!(bare.body["details"][0]["field"], "updated_from");
    let naive = api
        .get("/v2.1/returns?updated_to=2024-06-15T00:00:00")
        .await;
    assert_eq!(naive.body["details"][0]["field"], "updated_to");
    let encoded = api
        .get("/v2.1/orders?updated_from=2024-06-15T00:00:00%2B08:00")
        .await;
    encoded.expect(200, "");
    // Other field problems name the field too.
    let mut body = order("T-2", "CBL-USBC-1M-BK", 0, "US");
    body["recipient"]["country_code"] = json!("USA");
    let answer = api.post("/v2.1/orders", body).await;
    answer.expect(400, "invalid_request");
    assert_eq!(answer.body["details"][0]["field"], "recipient.country_code");
    let bad_cursor = api.get("/v2.1/orders?cursor=abc").await;
    assert_eq!(bad_cursor.body["details"][0]["field"], "cursor");
    let bad_status = api.get("/v2.1/orders?status=lost").await;
    assert_eq!(bad_status.body["details"][0]["field"], "status");
}

#[tokio::test]
async fn order_numbers_with_reserved_characters_work_percent_encoded() {
    let sb =
        sandbox(|b| b.configure(|c: &mut crate::fulfillment::Config| c.order_qps = 1000)).await;
    let api = Client::of(&sb).await;
    for (path, no) in [
        ("%231001", "#1001"),
        ("%231001%26A", "#1001&A"),
        ("%231001&A", "#1001&A"),
        ("SO%2F2024%2F0615-7", "SO/2024/0615-7"),
        ("TM%20240615%200008", "TM 240615 0008"),
        ("A%26B%201013%2F2", "A&B 1013/2"),
    ] {
        let answer = api.get(&format!("/v2.1/orders/{path}")).await;
        assert_eq!(answer.status, 200, "{path}: {}", answer.body);
        assert_eq!(answer.body["order_no"], no);
    }
    let missing = api.get("/v2.1/orders/%23nope").await;
    missing.expect(404, "order_not_found");
    let created = api
        .post("/v2.1/orders", order("X/Y #Z&W", "CBL-USBC-1M-BK", 1, "US"))
        .await;
    created.expect(201, "");
    assert_eq!(created.body["status"], "allocated");
    let dup = api
        .post("/v2.1/orders", order("X/Y #Z&W", "CBL-USBC-1M-BK", 1, "US"))
        .await;
    dup.expect(409, "order_exists");
    let cancel = api
        .post(
            "/v2.1/orders/X%2FY%20%23Z%26W/cancel",
            json!({"reason": "out_of_stock"}),
        )
        .await;
    cancel.expect(200, "");
    assert_eq!(cancel.body["status"], "cancelled");
    let sku = api.get("/v2.1/inventory/skus/GDN-HOSE%2015M%2FGR").await;
    sku.expect(200, "");
    assert_eq!(sku.body["sku"], "GDN-HOSE 15M/GR");
}

#[tokio::test]
async fn cursor_paging_sees_every_order_once_while_orders_change() {
    let sb =
        sandbox(|b| b.configure(|c: &mut crate::fulfillment::Config| c.order_qps = 1000)).await;
    let api = Client::of(&sb).await;
    let all = api.get("/v2.1/orders?limit=100").await;
    let total = all.body["items"].as_array().unwrap().len();
    assert!(total >= 40, "{total}");
    assert_eq!(all.body["has_more"], false);
    assert_eq!(all.body["next_cursor"], Value::Null);
    let mut seen: Vec<String> = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v2.1/orders?limit=7&cursor={c}"),
            None => "/v2.1/orders?limit=7".into(),
        };
        let page = api.get(&path).await;
        page.expect(200, "");
        for o in page.body["items"].as_array().unwrap() {
            seen.push(o["order_no"].as_str().unwrap().to_string());
        }
        pages += 1;
        if pages == 2 {
            // An order created mid-sync comes at the end, nothing is skipped.
            let new = api
                .post("/v2.1/orders", order("PAGE-NEW", "CBL-USBC-1M-BK", 1, "US"))
                .await;
            assert_eq!(new.status, 201);
        }
        if page.body["has_more"] == false {
            assert_eq!(page.body["next_cursor"], Value::Null);
            break;
        }
        cursor = page.body["next_cursor"].as_str().map(str::to_string);
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "duplicates in {seen:?}");
    assert_eq!(seen.len(), total + 1);
    assert_eq!(seen.last().map(String::as_str), Some("PAGE-NEW"));
    let shipped = api.get("/v2.1/orders?status=shipped&channel=lazada").await;
    let items = shipped.body["items"].as_array();
    assert!(items.is_some_and(|i| i.iter().all(|o| o["channel"] == "lazada")));
}

#[tokio::test]
async fn stock_is_held_all_or_nothing_and_released() {
    let sb = sandbox(|b| b).await;
    let api = Client::of(&sb).await;
    assert_eq!(ats(&api, "LMT-NFC-TAG-25", "CN-SZ-01").await, 5);
    let before = ats(&api, "PHC-20W-USBC-WH", "CN-SZ-01").await;
    let held = api
        .post(
            "/v2.1/inventory/reservations",
            json!({"warehouse_code": "CN-SZ-01", "lines": [{"sku": "LMT-NFC-TAG-25", "quantity": 3}]}),
        )
        .await;
    held.expect(201, "");
    assert_eq!(held.body["status"], "active");
    assert_eq!(held.body["order_no"], Value::Null);
    assert_eq!(ats(&api, "LMT-NFC-TAG-25", "CN-SZ-01").await, 2);
    let oversell = api
        .post(
            "/v2.1/inventory/reservations",
            json!({"warehouse_code": "CN-SZ-01", "lines": [
                {"sku": "PHC-20W-USBC-WH", "quantity": 1},
                {"sku": "LMT-NFC-TAG-25", "quantity": 3}
            ]}),
        )
        .await;
    oversell.expect(409, "insufficient_ats");
    assert_eq!(oversell.body["details"][0]["field"], "lines[1].quantity");
    assert_eq!(ats(&api, "PHC-20W-USBC-WH", "CN-SZ-01").await, before);
    // An order over the ATS is accepted and waits; releasing stock lets it be allocated.
    let waiting = api
        .post("/v2.1/orders", order("WAIT-1", "LMT-NFC-TAG-25", 4, "CN"))
        .await;
    assert_eq!(waiting.body["status"], "created");
    assert_eq!(waiting.body["warehouse_code"], Value::Null);
    let id = held.body["reservation_id"].as_str().unwrap();
    let released = api
        .post(
            &format!("/v2.1/inventory/reservations/{id}/release"),
            json!({}),
        )
        .await;
    released.expect(200, "");
    assert_eq!(released.body["status"], "released");
    let again = api
        .post(
            &format!("/v2.1/inventory/reservations/{id}/release"),
            json!({}),
        )
        .await;
    assert_eq!(again.status, 409);
    let allocated = api.get("/v2.1/orders/WAIT-1").await;
    assert_eq!(allocated.body["status"], "allocated");
    assert_eq!(ats(&api, "LMT-NFC-TAG-25", "CN-SZ-01").await, 1);
    let cancelled = api
        .post("/v2.1/orders/WAIT-1/cancel", json!({"reason": "other"}))
        .await;
    assert_eq!(cancelled.status, 200);
    assert_eq!(ats(&api, "LMT-NFC-TAG-25", "CN-SZ-01").await, 5);
    let twice = api
        .post("/v2.1/orders/WAIT-1/cancel", json!({"reason": "other"}))
        .await;
    twice.expect(409, "invalid_order_state");
    // Adjustments: ATS = max(0, on_hand - reserved - safety_stock).
    let safety = api
        .post(
            "/v2.1/inventory/adjustments",
            json!({"sku": "LMT-NFC-TAG-25", "warehouse_code": "CN-SZ-01", "adjustment_type": "safety_stock_set", "quantity": 7, "reason": "buffer"}),
        )
        .await;
    safety.expect(201, "");
    assert_eq!(safety.body["inventory"]["ats"], 0);
    let negative = api
        .post(
            "/v2.1/inventory/adjustments",
            json!({"sku": "LMT-NFC-TAG-25", "warehouse_code": "CN-SZ-01", "adjustment_type": "on_hand_delta", "quantity": -6, "reason": "lost"}),
        )
        .await;
    assert_eq!(negative.body["details"][0]["field"], "quantity");
    // A reservation lapses at its expires_at (sent in whole seconds, so at least 1 s ahead
    // however late in its second the request is made).
    let soon = rfc3339(unix_millis() + 2_000);
    let short = api
        .post(
            "/v2.1/inventory/reservations",
            json!({"warehouse_code": "CN-SZ-01", "lines": [{"sku": "CBL-USBC-1M-BK", "quantity": 10}], "expires_at": soon}),
        )
        .await;
    short.expect(201, "");
    let cables = ats(&api, "CBL-USBC-1M-BK", "CN-SZ-01").await;
    tokio::time::sleep(Duration::from_millis(3_100)).await;
    assert_eq!(ats(&api, "CBL-USBC-1M-BK", "CN-SZ-01").await, cables + 10);
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
        sb.vendor::<crate::fulfillment::Fulfillment>()
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
    let sb =
        sandbox(|b| b.configure(|c: &mut crate::fulfillment::Config| c.clock_offset_secs = 600))
            .await;
    let mut api = Client::anonymous(&sb);
    let local = api
        .post(
            "/v2.1/auth/token",
            json!({"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}),
        )
        .await;
    local.expect(401, "timestamp_out_of_range");
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

/// What a webhook receiver got.
type Inbox = Arc<Mutex<Vec<(HeaderMap, Bytes)>>>;

/// A receiver that answers 500 to the first `failures` attempts and 200 after.
async fn receiver(failures: usize) -> (String, Inbox) {
    async fn receive(
        State((inbox, failures)): State<(Inbox, usize)>,
        headers: HeaderMap,
        body: Bytes,
    ) -> (StatusCode, &'static str) {
        let mut got = inbox.lock().unwrap();
        got.push((headers, body));
        if got.len() <= failures {
            (StatusCode::INTERNAL_SERVER_ERROR, "no")
        } else {
            (StatusCode::OK, r#"{"received":true}"#)
        }
    }
    let inbox = Inbox::default();
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(receive))
        .with_state((inbox.clone(), failures));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/hook"), inbox)
}

async fn wait_inbox(inbox: &Inbox, n: usize) -> Vec<(HeaderMap, Bytes)> {
    let start = Instant::now();
    loop {
        let got = inbox.lock().unwrap().clone();
        if got.len() >= n {
            return got;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{} of {n}",
            got.len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn webhooks_are_signed_and_retried_with_the_same_request_id() {
    let sb = sandbox(|b| {
        b.configure(|c: &mut crate::fulfillment::Config| {
            c.webhook_backoff = Duration::from_millis(50)
        })
    })
    .await;
    let api = Client::of(&sb).await;
    let (url, inbox) = receiver(2).await;
    let bad = api
        .post(
            "/v2.1/webhooks",
            json!({"url": "http://erp.example.org/hook", "events": ["order.created"]}),
        )
        .await;
    assert_eq!(
        (bad.status, bad.body["details"][0]["field"].as_str()),
        (400, Some("url"))
    );
    let hook = api
        .post(
            "/v2.1/webhooks",
            json!({"url": url, "events": ["order.created"]}),
        )
        .await;
    hook.expect(201, "");
    assert_eq!(hook.body["status"], "active");
    let dup = api
        .post(
            "/v2.1/webhooks",
            json!({"url": url, "events": ["order.created", "return.received"]}),
        )
        .await;
    assert_eq!(dup.status, 409);
    let created = api
        .post("/v2.1/orders", order("HOOK-1", "CBL-USBC-1M-BK", 1, "US"))
        .await;
    assert_eq!(created.status, 201);
    let got = wait_inbox(&inbox, 3).await;
    let ids: Vec<&str> = got
        .iter()
        .map(|(h, _)| h["x-openclaw-request-id"].to_str().unwrap())
        .collect();
    assert!(
        ids.iter().all(|id| *id == ids[0] && id.starts_with("evt_")),
        "{ids:?}"
    );
    for (headers, body) in &got {
        let event: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(event["event_id"], ids[0]);
        assert_eq!(event["event_type"], "order.created");
        assert_eq!(event["data"]["order_no"], "HOOK-1");
        assert_eq!(headers["x-openclaw-event"], "order.created");
        let at = headers["x-openclaw-timestamp"].to_str().unwrap();
        assert_eq!(
            headers["x-openclaw-signature"].to_str().unwrap(),
            webhook_signature(CLIENT_SECRET, at, ids[0], body)
        );
    }
    let stats = &sb.vendor::<crate::fulfillment::Fulfillment>().stats;
    let start = Instant::now();
    while stats.webhook_delivered.load(Ordering::Relaxed) < 1 {
        assert!(start.elapsed() < Duration::from_secs(5));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(stats.webhook_attempts.load(Ordering::Relaxed), 3);
    assert_eq!(stats.webhook_retries.load(Ordering::Relaxed), 2);
    let listed = api.get("/v2.1/webhooks").await;
    assert_eq!(
        listed.body["items"][0]["webhook_id"],
        hook.body["webhook_id"]
    );
    let id = hook.body["webhook_id"].as_str().unwrap();
    assert_eq!(
        api.send("DELETE", &format!("/v2.1/webhooks/{id}"), None)
            .await
            .status,
        204
    );
    assert_eq!(
        api.send("DELETE", &format!("/v2.1/webhooks/{id}"), None)
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn a_receiver_that_never_acknowledges_gets_four_attempts_and_is_disabled_after_five_events() {
    let sb = sandbox(|b| {
        b.configure(|c: &mut crate::fulfillment::Config| {
            c.webhook_backoff = Duration::from_millis(20)
        })
    })
    .await;
    let api = Client::of(&sb).await;
    let (url, inbox) = receiver(usize::MAX).await;
    let hook = api
        .post(
            "/v2.1/webhooks",
            json!({"url": url, "events": ["inventory.changed"]}),
        )
        .await;
    assert_eq!(hook.status, 201);
    // One inventory.changed event: an on-hand adjustment of LMT-NFC-TAG-25.
    let adjust = || async {
        let adjusted = api
            .post(
                "/v2.1/inventory/adjustments",
                json!({"sku": "LMT-NFC-TAG-25", "warehouse_code": "CN-SZ-01", "adjustment_type": "on_hand_delta", "quantity": 1, "reason": "found"}),
            )
            .await;
        assert_eq!(adjusted.status, 201);
    };
    adjust().await;
    let got = wait_inbox(&inbox, 4).await;
    let event: Value = serde_json::from_slice(&got[0].1).unwrap();
    assert_eq!(event["data"]["reason"], "adjustment");
    assert_eq!(event["data"]["previous_ats"], 5);
    assert_eq!(event["data"]["inventory"]["ats"], 6);
    let stats = &sb.vendor::<crate::fulfillment::Fulfillment>().stats;
    let start = Instant::now();
    while stats.webhook_failures.load(Ordering::Relaxed) < 1 {
        assert!(start.elapsed() < Duration::from_secs(5));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(inbox.lock().unwrap().len(), 4);
    // One failed event leaves the subscription active: the next events are still sent.
    let listed = api.get("/v2.1/webhooks").await;
    assert_eq!(listed.body["items"][0]["status"], "active");
    for n in 2..=super::webhooks::DISABLE_AFTER {
        adjust().await;
        let start = Instant::now();
        while stats.webhook_failures.load(Ordering::Relaxed) < u64::from(n) {
            assert!(start.elapsed() < Duration::from_secs(5));
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let status = if n < super::webhooks::DISABLE_AFTER {
            "active"
        } else {
            "disabled"
        };
        let listed = api.get("/v2.1/webhooks").await;
        assert_eq!(
            listed.body["items"][0]["status"], status,
            "after {n} failed events"
        );
    }
    assert_eq!(inbox.lock().unwrap().len(), 4 * 5);
    // Disabled: a sixth event is not sent.
    adjust().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(inbox.lock().unwrap().len(), 4 * 5);
}

#[tokio::test]
async fn labels_download_and_parcels_move_to_delivery_or_failure() {
    let sb = sandbox(|b| {
        b.configure(|c: &mut crate::fulfillment::Config| {
            c.logistics_step = Duration::from_millis(40)
        })
        .configure(|c: &mut crate::fulfillment::Config| c.order_qps = 1000)
    })
    .await;
    let api = Client::of(&sb).await;
    let (url, inbox) = receiver(0).await;
    let hook = api
        .post(
            "/v2.1/webhooks",
            json!({"url": url, "events": ["logistics.updated"]}),
        )
        .await;
    assert_eq!(hook.status, 201);
    let mut body = order("LBL-1", "PHC-20W-USBC-BK", 1, "US");
    body["warehouse_code"] = json!("CN-SZ-01");
    assert_eq!(
        api.post("/v2.1/orders", body).await.body["status"],
        "allocated"
    );
    let request = json!({"carrier": "4px", "service_code": "4PX-GLOBAL-STANDARD", "parcel": {"weight_g": 180}});
    let label = api.post("/v2.1/orders/LBL-1/labels", request.clone()).await;
    label.expect(201, "");
    let tracking = label.body["tracking_number"].as_str().unwrap().to_string();
    assert!(tracking.starts_with("4PX"));
    let link = label.body["label_url"].as_str().unwrap();
    assert!(link.starts_with(&sb.base_url(Vendor::OpenclawFulfillment)));
    let pdf = run(reqwest::Client::new().get(link)).await;
    assert_eq!(pdf.status, 200);
    assert_eq!(pdf.header("content-type"), Some("application/pdf"));
    assert!(pdf.bytes.starts_with(b"%PDF-"));
    assert!(String::from_utf8_lossy(&pdf.bytes).contains(&tracking));
    let forged = run(reqwest::Client::new().get(link.replace("token=", "token=0"))).await;
    assert_eq!(forged.status, 403);
    let again = api.post("/v2.1/orders/LBL-1/labels", request).await;
    again.expect(409, "invalid_order_state");

    let done = api
        .wait_for(&format!("/v2.1/tracking/{tracking}"), |t| {
            t["status"] == "delivered"
        })
        .await;
    let statuses: Vec<&str> = done["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        [
            "info_received",
            "picked_up",
            "in_transit",
            "customs_clearance",
            "in_transit",
            "out_for_delivery",
            "delivered"
        ]
    );
    assert_eq!(done["customs"]["status"], "cleared");
    let delivered = api.get("/v2.1/orders/LBL-1").await;
    assert_eq!(delivered.body["status"], "delivered");
    assert!(delivered.body["shipped_at"].is_string() && delivered.body["delivered_at"].is_string());
    let by_order = api.get("/v2.1/orders/LBL-1/tracking").await;
    assert_eq!(by_order.body["tracking_number"], tracking);
    let got = wait_inbox(&inbox, 7).await;
    let last: Value = serde_json::from_slice(&got[6].1).unwrap();
    assert_eq!(last["data"]["events"].as_array().unwrap().len(), 1);

    // The last mile fails as the order number says; a ZPL label is text.
    let mut body = order("LBL-FAIL-REFUSED", "PHC-20W-USBC-BK", 1, "US");
    body["warehouse_code"] = json!("CN-SZ-01");
    assert_eq!(api.post("/v2.1/orders", body).await.status, 201);
    let zpl = api
        .post(
            "/v2.1/orders/LBL-FAIL-REFUSED/labels",
            json!({"carrier": "yanwen", "service_code": "YW-EXPRESS", "label_format": "zpl", "parcel": {"weight_g": 90}}),
        )
        .await;
    let file = run(reqwest::Client::new().get(zpl.body["label_url"].as_str().unwrap())).await;
    assert!(file.bytes.starts_with(b"^XA"));
    let failed = api
        .wait_for("/v2.1/orders/LBL-FAIL-REFUSED/tracking", |t| {
            t["status"] == "delivery_failed"
        })
        .await;
    assert_eq!(failed["delivery_failure"]["reason"], "refused");
    assert_eq!(failed["delivery_failure"]["attempts"], 1);
    assert_eq!(
        api.get("/v2.1/orders/LBL-FAIL-REFUSED").await.body["status"],
        "exception"
    );
    // Before a label there is no tracking; seeded parcels are there.
    assert_eq!(api.get("/v2.1/orders/%231001/tracking").await.status, 404);
    let held = api.get("/v2.1/orders/CUSTOMS-HOLD-1009/tracking").await;
    assert_eq!(held.body["customs"]["status"], "held");
}

#[tokio::test]
async fn returns_are_received_restocked_and_refunded() {
    let sb = sandbox(|b| {
        b.configure(|c: &mut crate::fulfillment::Config| {
            c.logistics_step = Duration::from_millis(40)
        })
    })
    .await;
    let api = Client::of(&sb).await;
    let (url, inbox) = receiver(0).await;
    api.post(
        "/v2.1/webhooks",
        json!({"url": url, "events": ["return.received"]}),
    )
    .await;
    let not_shipped = api
        .post("/v2.1/returns", json!({"order_no": "#1001", "reason": "defective", "lines": [{"sku": "PHC-20W-USBC-WH", "quantity": 1}]}))
        .await;
    not_shipped.expect(409, "invalid_order_state");
    let unknown = api
        .post(
            "/v2.1/returns",
            json!({"order_no": "#nope", "reason": "other", "lines": [{"sku": "X", "quantity": 1}]}),
        )
        .await;
    assert_eq!(unknown.status, 404);
    let too_many = api
        .post("/v2.1/returns", json!({"order_no": "#1004", "reason": "no_longer_needed", "lines": [{"sku": "CBL-USBC-1M-BK", "quantity": 2}]}))
        .await;
    assert_eq!(too_many.status, 409);
    let on_hand = api
        .get("/v2.1/inventory/skus/CBL-USBC-1M-BK?warehouse_code=CN-SZ-01")
        .await
        .body["on_hand"]
        .as_i64()
        .unwrap();
    let created = api
        .post("/v2.1/returns", json!({"order_no": "#1004", "reason": "no_longer_needed", "lines": [{"sku": "CBL-USBC-1M-BK", "quantity": 1}]}))
        .await;
    created.expect(201, "");
    assert_eq!(created.body["status"], "requested");
    assert_eq!(created.body["received_at"], Value::Null);
    let rma = created.body["rma_no"].as_str().unwrap();
    let refunded = api
        .wait_for(&format!("/v2.1/returns/{rma}"), |r| {
            r["status"] == "refunded"
        })
        .await;
    assert_eq!(refunded["refund_amount"], "15.00");
    assert!(refunded["received_at"].is_string());
    let back = api
        .get("/v2.1/inventory/skus/CBL-USBC-1M-BK?warehouse_code=CN-SZ-01")
        .await
        .body["on_hand"]
        .as_i64()
        .unwrap();
    assert_eq!(back, on_hand + 1);
    let got = wait_inbox(&inbox, 1).await;
    let event: Value = serde_json::from_slice(&got[0].1).unwrap();
    assert_eq!(event["event_type"], "return.received");
    assert_eq!(event["data"]["status"], "received");
    let parcel = api
        .get(&format!(
            "/v2.1/tracking/{}",
            refunded["return_tracking_number"].as_str().unwrap()
        ))
        .await;
    assert_eq!(parcel.body["status"], "delivered");
    let listed = api
        .get("/v2.1/returns?order_no=%231004&status=refunded")
        .await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);
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
    limited.expect(429, "rate_limited");
    assert_eq!(limited.header("retry-after"), Some("3"));
    assert!(limited.header("date").is_some());
    let broken = api.get("/v2.1/returns").await;
    broken.expect(500, "internal_error");
    assert_eq!(api.get("/v2.1/inventory").await.status, 200);
    let nowhere = api.get("/v2.1/nowhere").await;
    nowhere.expect(404, "not_found");
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
