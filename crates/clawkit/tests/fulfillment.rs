//! The OpenClaw fulfillment facade against the in-process sandbox: the spec's test vectors both
//! ways, clock skew corrected, nonces and tokens, cursor streams, stock that never oversells,
//! labels, and webhooks verified and de-duplicated.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

use chrono::DateTime;
use clawkit::fulfillment::signing::{self, canonical_string, signature};
use clawkit::fulfillment::types::{self, WebhookEventType};
use clawkit::fulfillment::webhook::{self as hooks, Event, Receiver};
use clawkit::fulfillment::{Client, OrderFilter, Reason};
use clawkit::runtime::webhook::Deliveries;
use clawkit::{ErrorKind, RetryPolicy};
use clawkit_sandbox::{Sandbox, Vendor};
use futures::TryStreamExt;

const CLIENT_ID: &str = "sandbox-client";
const SECRET: &str = "cs_sandbox_5f2b9c7e4d1a";

fn client(sb: &Sandbox) -> Client {
    Client::builder()
        .app(CLIENT_ID, SECRET)
        .base_url(sb.base_url(Vendor::OpenclawFulfillment))
        .retry(RetryPolicy::fast())
        .build()
        .unwrap()
}

async fn sandbox() -> Sandbox {
    Sandbox::builder()
        .configure(|c: &mut clawkit_sandbox::fulfillment::Config| {
            c.logistics_step = Duration::from_millis(200)
        })
        .configure(|c: &mut clawkit_sandbox::fulfillment::Config| {
            c.webhook_backoff = Duration::from_millis(50)
        })
        .start()
        .await
        .unwrap()
}

fn order_request(order_no: &str, sku: &str, quantity: u64) -> types::CreateOrderRequest {
    serde_json::from_value(serde_json::json!({
        "order_no": order_no,
        "channel": "shopify",
        "store_id": "shopify-us-main",
        "ordered_at": "2024-06-15T08:30:00+08:00",
        "currency": "USD",
        "recipient": {
            "name": "Jane Doe", "country_code": "US", "city": "San Francisco",
            "postal_code": "94105", "address_line1": "1 Market St"
        },
        "lines": [{"sku": sku, "quantity": quantity, "unit_price": "12.99"}]
    }))
    .unwrap()
}

/// A SKU and warehouse with stock to sell.
async fn stocked(c: &Client) -> (String, String, u64) {
    let rows: Vec<_> = c
        .inventory_levels(Default::default())
        .try_collect()
        .await
        .unwrap();
    let row = rows.iter().max_by_key(|r| r.ats).expect("seeded stock");
    assert!(row.ats > 2, "{row:?}");
    (row.sku.clone(), row.warehouse_code.clone(), row.ats)
}

#[tokio::test]
async fn the_specs_request_vectors_are_accepted_by_the_sandbox_at_their_time() {
    // The sandbox's clock set to the vectors' signing time, 2024-06-15T08:30:00+08:00.
    let at = DateTime::parse_from_rfc3339("2024-06-15T08:30:00+08:00").unwrap();
    let offset = at.timestamp() - chrono::Utc::now().timestamp();
    let sb = Sandbox::builder()
        .configure(|c: &mut clawkit_sandbox::fulfillment::Config| c.clock_offset_secs = offset)
        .start()
        .await
        .unwrap();
    let base = sb.base_url(Vendor::OpenclawFulfillment);
    // The facade learns the server's (very old) time from its Date header and signs with it.
    let c = client(&sb);
    let order = c.order("#1001").await.unwrap();
    assert_eq!(order.order_no, "#1001");
    assert!(c.clock_skew().num_seconds() < -3600, "{:?}", c.clock_skew());

    // A token for the raw requests, signed by hand at the vectors' time.
    let http = reqwest::Client::new();
    let raw = |method: reqwest::Method, target: &str, nonce: &str, body: &'static str| {
        let text = canonical_string(
            method.as_str(),
            target,
            "2024-06-15T08:30:00+08:00",
            nonce,
            body.as_bytes(),
        );
        http.request(method, format!("{base}{target}"))
            .header("X-OpenClaw-Client-Id", CLIENT_ID)
            .header("X-OpenClaw-Timestamp", "2024-06-15T08:30:00+08:00")
            .header("X-OpenClaw-Nonce", nonce)
            .header("X-OpenClaw-Signature", signature(SECRET, &text))
            .header("content-type", "application/json")
            .body(body)
    };
    let token: serde_json::Value = raw(
        reqwest::Method::POST,
        "/v2.1/auth/token",
        "0b5c3a4e-token-nonce-0001",
        r#"{"grant_type":"client_credentials","client_id":"sandbox-client","client_secret":"cs_sandbox_5f2b9c7e4d1a"}"#,
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let bearer = format!("Bearer {}", token["access_token"].as_str().unwrap());

    // Vector 2, byte for byte: the signature the spec gives.
    let two = raw(
        reqwest::Method::GET,
        "/v2.1/orders?status=shipped&updated_from=2024-06-15T00%3A00%3A00%2B08%3A00&limit=50",
        "f47ac10b-58cc-4372-a567-0e02b2c3d479",
        "",
    )
    .header("authorization", &bearer)
    .build()
    .unwrap();
    assert_eq!(
        two.headers()["x-openclaw-signature"],
        "4930d1a6a23510fe625220bed3602349cab1e45fae42c1bcabf56213b6e6f333"
    );
    let answer = http.execute(two).await.unwrap();
    assert_eq!(answer.status(), 200, "{:?}", answer.text().await);

    // Vector 1.
    let one = raw(
        reqwest::Method::POST,
        "/v2.1/orders/%231001/cancel",
        "7c9e6679-7425-40de-944b-e07fc1f90ae7",
        r#"{"reason":"customer_request"}"#,
    )
    .header("authorization", &bearer)
    .build()
    .unwrap();
    assert_eq!(
        one.headers()["x-openclaw-signature"],
        "70bda7f8c5eeaa641a79206185815f86c694a7ee9a2e37570b6565a470fd3286"
    );
    let answer = http.execute(one).await.unwrap();
    let status = answer.status().as_u16();
    let body = answer.text().await.unwrap();
    assert!(
        status == 200 || (status == 409 && body.contains("invalid_order_state")),
        "{status} {body}"
    );

    // The same request again: its nonce was used.
    let again = raw(
        reqwest::Method::POST,
        "/v2.1/orders/%231001/cancel",
        "7c9e6679-7425-40de-944b-e07fc1f90ae7",
        r#"{"reason":"customer_request"}"#,
    )
    .header("authorization", &bearer)
    .send()
    .await
    .unwrap();
    assert_eq!(again.status(), 401);
    assert!(again.text().await.unwrap().contains("nonce_reused"));
}

#[tokio::test]
async fn a_skewed_server_clock_is_learned_and_the_refused_request_signed_again() {
    let sb = Sandbox::builder()
        .configure(|c: &mut clawkit_sandbox::fulfillment::Config| c.clock_offset_secs = 600)
        .start()
        .await
        .unwrap();
    let c = client(&sb);
    let orders: Vec<_> = c.orders(OrderFilter::new()).try_collect().await.unwrap();
    assert!(!orders.is_empty());
    let skew = c.clock_skew().num_seconds();
    assert!((595..=605).contains(&skew), "{skew}");
    let refused = sb
        .vendor::<clawkit_sandbox::fulfillment::Fulfillment>()
        .stats
        .refused_timestamp
        .load(Ordering::Relaxed);
    assert_eq!(
        refused, 1,
        "only the first request, before the clock was learned"
    );
}

#[tokio::test]
async fn a_wrong_secret_is_a_typed_auth_error_without_the_secret() {
    let sb = sandbox().await;
    let c = Client::builder()
        .app(CLIENT_ID, "cs_wrong_secret_value")
        .base_url(sb.base_url(Vendor::OpenclawFulfillment))
        .retry(RetryPolicy::fast())
        .build()
        .unwrap();
    let err = c.order("#1001").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert!(err.to_string().contains("invalid_signature"), "{err}");
    assert!(!err.to_string().contains("cs_wrong_secret_value"));
    assert!(!format!("{c:?}").contains("cs_wrong"));
}

#[tokio::test]
async fn a_token_expiring_mid_stream_is_renewed_and_no_order_is_lost_or_repeated() {
    let sb = Sandbox::builder()
        .configure(|c: &mut clawkit_sandbox::fulfillment::Config| {
            c.token_ttl = Duration::from_millis(1500)
        })
        .start()
        .await
        .unwrap();
    let c = client(&sb);
    let all: Vec<_> = c.orders(OrderFilter::new()).try_collect().await.unwrap();
    let mut pages = Box::pin(c.orders(OrderFilter::new()).page_size(3).pages());
    let mut seen = Vec::new();
    while let Some(page) = pages.try_next().await.unwrap() {
        seen.extend(page.items.into_iter().map(|o| o.order_no));
        if seen.len() <= 6 {
            tokio::time::sleep(Duration::from_millis(900)).await;
        }
    }
    let expected: Vec<_> = all.into_iter().map(|o| o.order_no).collect();
    assert_eq!(seen, expected);
    let stats = &sb
        .vendor::<clawkit_sandbox::fulfillment::Fulfillment>()
        .stats;
    let renewals =
        stats.token_grants.load(Ordering::Relaxed) + stats.refreshes.load(Ordering::Relaxed);
    assert!(
        renewals >= 2,
        "the token was renewed while streaming ({renewals})"
    );
}

#[tokio::test]
async fn order_numbers_with_reserved_characters_round_trip() {
    let sb = sandbox().await;
    let c = client(&sb);
    let (sku, _, _) = stocked(&c).await;
    for order_no in ["#2001&A", "SO/2024/07 B", "A+B=C?d"] {
        let created = c
            .create_order(&order_request(order_no, &sku, 1))
            .await
            .unwrap();
        assert_eq!(created.order_no, order_no);
        assert_eq!(c.order(order_no).await.unwrap().order_no, order_no);
    }
    // a resent order is refused, not duplicated
    let again = c
        .create_order(&order_request("#2001&A", &sku, 1))
        .await
        .unwrap_err();
    assert_eq!(again.reason(), Some(Reason::OrderExists));
    let missing = c.order("#no-such-order").await.unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn an_oversell_is_refused_and_holds_are_released_or_placed() {
    let sb = sandbox().await;
    let c = client(&sb);
    let (sku, warehouse, ats) = stocked(&c).await;
    let before = c.inventory(&sku, Some(&warehouse)).await.unwrap().ats;
    assert_eq!(before, ats);

    let err = c
        .reserve(&warehouse, None, &[(sku.as_str(), ats + 1)])
        .await
        .unwrap_err();
    assert_eq!(err.reason(), Some(Reason::InsufficientAts));
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert_eq!(c.inventory(&sku, Some(&warehouse)).await.unwrap().ats, ats);
    let zero = c
        .reserve(&warehouse, None, &[(sku.as_str(), 0)])
        .await
        .unwrap_err();
    assert!(zero.to_string().contains("lines[0].quantity"), "{zero}");

    // released explicitly
    let hold = c
        .reserve(&warehouse, None, &[(sku.as_str(), 2)])
        .await
        .unwrap();
    assert_eq!(
        c.inventory(&sku, Some(&warehouse)).await.unwrap().ats,
        ats - 2
    );
    hold.release().await.unwrap();
    assert_eq!(c.inventory(&sku, Some(&warehouse)).await.unwrap().ats, ats);

    // dropped: released in the background
    drop(
        c.reserve(&warehouse, None, &[(sku.as_str(), 2)])
            .await
            .unwrap(),
    );
    let mut back = false;
    for _ in 0..50 {
        if c.inventory(&sku, Some(&warehouse)).await.unwrap().ats == ats {
            back = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(back, "a dropped hold gives its stock back");

    // placed: the order takes the held stock over, nothing is reserved twice
    let hold = c
        .reserve(&warehouse, Some("#HOLD-1"), &[(sku.as_str(), 1)])
        .await
        .unwrap();
    let order = hold.place(order_request("ignored", &sku, 1)).await.unwrap();
    assert_eq!(order.order_no, "#HOLD-1");
    assert_eq!(
        c.inventory(&sku, Some(&warehouse)).await.unwrap().ats,
        ats - 1
    );
}

#[tokio::test]
async fn labels_download_as_pdf_and_tracking_advances() {
    let sb = sandbox().await;
    let c = client(&sb);
    let (sku, _, _) = stocked(&c).await;
    c.create_order(&order_request("#LBL-1", &sku, 1))
        .await
        .unwrap();
    let request: types::CreateLabelRequest = serde_json::from_value(serde_json::json!({
        "carrier": "4px", "service_code": "4PX-EXPRESS", "label_format": "pdf",
        "parcel": {"weight_g": 320}
    }))
    .unwrap();
    let label = c.create_label("#LBL-1", &request).await.unwrap();
    let mut pdf = Vec::new();
    let n = c.download_label(&label, &mut pdf).await.unwrap();
    assert_eq!(n as usize, pdf.len());
    assert!(pdf.starts_with(b"%PDF-"), "{:?}", &pdf[..pdf.len().min(16)]);

    let first = c.tracking(&label.tracking_number).await.unwrap();
    tokio::time::sleep(Duration::from_millis(900)).await;
    let later = c.order_tracking("#LBL-1").await.unwrap();
    assert!(later.events.len() > first.events.len(), "{later:?}");
}

#[tokio::test]
async fn times_without_an_offset_are_refused_naming_the_field() {
    let sb = sandbox().await;
    let base = sb.base_url(Vendor::OpenclawFulfillment);
    let c = client(&sb);
    c.order("#1001").await.unwrap(); // a token exists now; sign raw requests with the facade's signer
    let signer =
        signing::RequestSigner::new(CLIENT_ID, SECRET.to_string().into(), base.parse().unwrap())
            .unwrap();
    let http = reqwest::Client::new();
    let token: serde_json::Value = {
        let mut r = http
            .post(format!("{base}/v2.1/auth/token"))
            .header("content-type", "application/json")
            .body(r#"{"grant_type":"client_credentials","client_id":"sandbox-client","client_secret":"cs_sandbox_5f2b9c7e4d1a"}"#)
            .build()
            .unwrap();
        clawkit::runtime::Signer::sign(&signer, &mut r, SystemTime::now()).unwrap();
        http.execute(r).await.unwrap().json().await.unwrap()
    };
    let bearer = format!("Bearer {}", token["access_token"].as_str().unwrap());
    for bad in [
        "2024-06-15T08:30:00",
        "1718411400",
        "2024-06-15T08:30:00 08:00",
    ] {
        let mut r = http
            .get(format!("{base}/v2.1/orders"))
            .query(&[("updated_from", bad)])
            .header("authorization", &bearer)
            .build()
            .unwrap();
        clawkit::runtime::Signer::sign(&signer, &mut r, SystemTime::now()).unwrap();
        let answer = http.execute(r).await.unwrap();
        assert_eq!(answer.status(), 400, "{bad}");
        let body = answer.text().await.unwrap();
        assert!(body.contains("updated_from"), "{bad}: {body}");
    }
}

#[tokio::test]
async fn webhooks_from_the_sandbox_are_verified_and_a_redelivery_is_handled_once() {
    let sb = sandbox().await;
    let c = client(&sb);
    // the receiver, mounted in "our" server
    let mut hooks = Receiver::new("cs_old_secret")
        .also(SECRET)
        .store(Arc::new(Deliveries::new(Duration::from_secs(3600), 1000)))
        .serve(64);
    let app = axum::Router::new().nest("/hooks/openclaw", hooks.router);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let url = format!("http://{addr}/hooks/openclaw");

    let hook = c
        .create_webhook(&url, &[WebhookEventType::OrderCreated])
        .await
        .unwrap();
    assert!(
        c.webhooks()
            .await
            .unwrap()
            .iter()
            .any(|w| w.webhook_id == hook.webhook_id)
    );
    let refused = c
        .create_webhook("http://example.com/hook", &[WebhookEventType::OrderCreated])
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("url"), "{refused}");

    let (sku, _, _) = stocked(&c).await;
    c.create_order(&order_request("#WH-1", &sku, 1))
        .await
        .unwrap();
    let delivery = tokio::time::timeout(Duration::from_secs(10), hooks.events.recv())
        .await
        .unwrap()
        .unwrap();
    match &delivery.event {
        Event::OrderCreated(e) => assert_eq!(e.data.order_no, "#WH-1"),
        other => panic!("{other:?}"),
    }

    // the same delivery three times (a sender retrying): handled once, acknowledged each time
    let body = br##"{"event_id":"evt_dup_1","event_type":"order.created","occurred_at":"2024-06-15T08:30:05+08:00","data":{"order_id":"o1","order_no":"#D","channel":"shopify","store_id":"s","status":"created","ordered_at":"2024-06-15T08:30:00+08:00","currency":"USD","recipient":{"name":"J","country_code":"US","city":"SF","postal_code":"94105","address_line1":"1 Market St"},"lines":[],"warehouse_code":null,"carrier":null,"tracking_number":null,"created_at":"2024-06-15T08:30:00+08:00","updated_at":"2024-06-15T08:30:00+08:00"}}"##;
    let http = reqwest::Client::new();
    for _ in 0..3 {
        let headers = hooks::signed_headers(
            SECRET,
            SystemTime::now(),
            "evt_dup_1",
            "order.created",
            body,
        );
        let answer = http
            .post(&url)
            .headers(headers)
            .body(&body[..])
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200);
        assert!(!answer.text().await.unwrap().is_empty());
    }
    let once = tokio::time::timeout(Duration::from_secs(5), hooks.events.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(once.id, "evt_dup_1");
    assert!(hooks.events.try_recv().is_err(), "processed once");
    assert_eq!(hooks.counters.duplicates.load(Ordering::Relaxed), 2);

    // a forged one is refused
    let forged = hooks::signed_headers(
        "not-the-secret",
        SystemTime::now(),
        "evt_x",
        "order.created",
        body,
    );
    let answer = http
        .post(&url)
        .headers(forged)
        .body(&body[..])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 401);
    // a signed one whose body is not an event is a 400, not queued
    let partial = br#"{"event_id":"evt_partial"}"#;
    let signed = hooks::signed_headers(
        SECRET,
        SystemTime::now(),
        "evt_partial",
        "order.created",
        partial,
    );
    let answer = http
        .post(&url)
        .headers(signed)
        .body(&partial[..])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 400);
    assert!(hooks.events.try_recv().is_err(), "nothing queued");
    c.delete_webhook(&hook.webhook_id).await.unwrap();
}

#[tokio::test]
async fn the_sandbox_retries_a_failing_receiver_with_the_same_request_id() {
    use axum::http::{HeaderMap, StatusCode};
    use axum::response::IntoResponse;
    use std::sync::Mutex;
    let sb = sandbox().await;
    let c = client(&sb);
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = seen.clone();
    // fails twice, then answers; only the third attempt counts
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap| {
            let log = log.clone();
            async move {
                let id = headers
                    .get("x-openclaw-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string();
                let mut log = log.lock().unwrap();
                log.push(id);
                if log.len() < 3 {
                    (StatusCode::INTERNAL_SERVER_ERROR, "later").into_response()
                } else {
                    (StatusCode::OK, r#"{"received":true}"#).into_response()
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    c.create_webhook(
        &format!("http://{addr}/hook"),
        &[WebhookEventType::OrderCreated],
    )
    .await
    .unwrap();
    let (sku, _, _) = stocked(&c).await;
    c.create_order(&order_request("#RETRY-1", &sku, 1))
        .await
        .unwrap();
    for _ in 0..100 {
        if seen.lock().unwrap().len() >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert!(
        seen.iter().all(|id| id == &seen[0] && !id.is_empty()),
        "{seen:?}"
    );
    assert!(
        sb.vendor::<clawkit_sandbox::fulfillment::Fulfillment>()
            .stats
            .webhooks
            .webhook_retries
            .load(Ordering::Relaxed)
            >= 2
    );
}

#[tokio::test]
async fn a_retry_after_429_is_signed_again_with_a_fresh_nonce() {
    // The 429 comes after the signature check, so the refused request's nonce is spent: a retry
    // that reused it would be refused as nonce_reused.
    let sb = sandbox().await;
    let c = Client::builder()
        .app(CLIENT_ID, SECRET)
        .base_url(sb.base_url(Vendor::OpenclawFulfillment))
        .order_queries_per_second(1000) // the client-side spacing lifted
        .build()
        .unwrap();
    let reads = (0..20).map(|_| {
        let c = c.clone();
        async move { c.order("#1001").await }
    });
    for read in futures::future::join_all(reads).await {
        assert_eq!(read.unwrap().order_no, "#1001");
    }
    let stats = &sb
        .vendor::<clawkit_sandbox::fulfillment::Fulfillment>()
        .stats;
    assert!(
        stats.rate_limited.load(Ordering::Relaxed) > 0,
        "no 429 was provoked"
    );
    assert_eq!(stats.refused_nonce.load(Ordering::Relaxed), 0);
}
