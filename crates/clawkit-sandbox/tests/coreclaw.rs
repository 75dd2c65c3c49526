//! CoreClaw's two APIs over one state, end to end: each refuses a request without its credential
//! with its own body, each answers a fault on its routes with its own envelope, and the completion
//! webhook is delivered until the receiver answers exactly 200.

mod support;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use clawkit_sandbox::coreclaw::{API_KEY, Config, CoreClaw};
use clawkit_sandbox::{FaultKind, FaultRule, Sandbox, Vendor};
use serde_json::{Value, json};
use support::{Answer, Http, Inbox, eventually};

const LOAD: &str = "01KSBXLOADGEN0000000000001";

async fn sandbox() -> Sandbox {
    Sandbox::builder()
        .configure(|c: &mut Config| c.run_duration = Duration::from_millis(100))
        .start()
        .await
        .unwrap()
}

fn v1(sb: &Sandbox) -> Http {
    Http::new(sb.base_url(Vendor::Coreclaw)).with_header("api-key", API_KEY)
}

fn v2(sb: &Sandbox) -> Http {
    Http::new(sb.base_url(Vendor::Coreclaw)).bearer(API_KEY)
}

/// v1's error envelope: `{code, message, data: null}` and nothing else.
fn assert_v1_error(answer: &Answer, status: u16, code: i64) {
    answer.expect(status);
    let body = answer.body.as_object().expect("a JSON object");
    let keys: Vec<&str> = body.keys().map(String::as_str).collect();
    assert_eq!(keys, ["code", "message", "data"], "{}", answer.body);
    assert_eq!((&body["code"], &body["data"]), (&json!(code), &Value::Null));
}

/// v2's error envelope: `{code, message, request_id}` and nothing else.
fn assert_v2_error(answer: &Answer, status: u16, code: i64) {
    answer.expect(status);
    let body = answer.body.as_object().expect("a JSON object");
    let keys: Vec<&str> = body.keys().map(String::as_str).collect();
    assert_eq!(keys, ["code", "message", "request_id"], "{}", answer.body);
    assert_eq!(body["code"], code);
    assert!(body["request_id"].as_str().is_some_and(|id| !id.is_empty()));
}

#[tokio::test]
async fn each_api_refuses_a_request_without_its_credential_with_its_own_body() {
    let sb = sandbox().await;
    let anonymous = Http::new(sb.base_url(Vendor::Coreclaw));

    let v1_refused = anonymous.post("/api/v1/account/info", json!({})).await;
    assert_v1_error(&v1_refused, 401, 20001);
    assert_eq!(
        v1_refused.body["message"],
        "Invalid API key: the api-key header is missing"
    );
    // v2's credential is not v1's, nor v1's v2's.
    let bearer_on_v1 = v2(&sb).post("/api/v1/account/info", json!({})).await;
    assert_v1_error(&bearer_on_v1, 401, 20001);

    let v2_refused = anonymous.get("/api/v2/users/account").await;
    assert_v2_error(&v2_refused, 401, 12001);
    let key_on_v2 = v1(&sb).get("/api/v2/users/account").await;
    assert_v2_error(&key_on_v2, 401, 12001);
    let wrong = anonymous
        .clone()
        .bearer("nope")
        .get("/api/v2/worker-runs")
        .await;
    assert_v2_error(&wrong, 401, 12002);
    // The check comes before the method and the route's own reading, as v1's does.
    let wrong_method = anonymous.delete("/api/v2/worker-runs").await;
    assert_v2_error(&wrong_method, 401, 12001);

    v1(&sb)
        .post("/api/v1/account/info", json!({}))
        .await
        .expect(200);
    v2(&sb).get("/api/v2/users/account").await.expect(200);
    anonymous
        .get(&format!("/api/v2/users/account?token={API_KEY}"))
        .await
        .expect(200);
    // Both APIs name their credential; the client setting is the same one.
    let banner = sb.banner();
    assert!(
        banner.contains("header api-key: sandbox-key   (CORECLAW_API_KEY)"),
        "{banner}"
    );
    assert!(
        banner.contains("Authorization: Bearer (or ?token=): sandbox-key   (CORECLAW_API_KEY)"),
        "{banner}"
    );
    assert_eq!(
        sb.credentials(Vendor::Coreclaw),
        [("API_KEY", API_KEY.to_string())]
    );
}

#[tokio::test]
async fn a_fault_answers_in_the_envelope_of_the_api_that_owns_the_route() {
    let sb = sandbox().await;
    let (v1, v2) = (v1(&sb), v2(&sb));
    let rule = |kind: FaultKind| FaultRule::new(kind).vendor(Vendor::Coreclaw).limit(2);

    // One rule for the whole vendor: its first hit is a v1 route, its second a v2 route.
    sb.add_fault(rule(FaultKind::Http429 {
        retry_after_secs: 4,
    }));
    let limited = v1
        .post("/api/v1/run/list", json!({"page_index": 1, "page_size": 5}))
        .await;
    assert_v1_error(&limited, 429, 4290);
    assert_eq!(limited.header("retry-after"), Some("4"));
    let limited = v2.get("/api/v2/worker-runs").await;
    assert_v2_error(&limited, 429, 13000);
    assert_eq!(limited.body["message"], "too many requests");
    assert_eq!(limited.header("retry-after"), Some("4"));

    // v1's in-band 4290 comes with HTTP 200; v2 has none, so its rate limit is a 429.
    sb.add_fault(rule(FaultKind::Code4290));
    let in_band = v1.get("/api/v1/account/info").await;
    assert_v1_error(&in_band, 200, 4290);
    let limited = v2.get("/api/v2/users/account").await;
    assert_v2_error(&limited, 429, 13000);
    assert_eq!(limited.header("retry-after"), None);

    sb.add_fault(rule(FaultKind::Http503));
    let down = v2.get(&format!("/api/v2/workers/{LOAD}")).await;
    assert_v2_error(&down, 503, 10000);
    let down = Http::new(sb.base_url(Vendor::Coreclaw))
        .get("/api/store?search=load")
        .await;
    assert_v1_error(&down, 503, 5000);
    assert_eq!(down.body["message"], "Network error, try again");

    // A fault before the credential check: a v2 route without a token still gets v2's body.
    sb.add_fault(rule(FaultKind::Http503).route("/api/v2/*").limit(1));
    let anonymous = Http::new(sb.base_url(Vendor::Coreclaw));
    assert_v2_error(&anonymous.get("/api/v2/worker-runs/last").await, 503, 10000);

    // The rules are spent: both answer again.
    let page = v1
        .post("/api/v1/run/list", json!({"page_index": 1, "page_size": 5}))
        .await;
    assert_eq!(page.expect(200).body["code"], 0);
    assert_eq!(
        v2.get("/api/v2/worker-runs").await.expect(200).body["code"],
        0
    );
}

#[tokio::test]
async fn the_completion_webhook_is_delivered_until_the_receiver_answers_200() {
    let sb = sandbox().await;
    // A 204 is no acknowledgement (the guide: answer 200 OK), nor a 500.
    let inbox = Inbox::answering(Arc::new(|n| match n {
        0 => (204, ""),
        1 => (500, "busy"),
        _ => (200, "ok"),
    }))
    .await;
    let started = v1(&sb)
        .post(
            "/api/v1/scraper/run",
            json!({"scraper_slug": LOAD, "version": "v1.0.0", "is_async": true,
                   "callback_url": inbox.url,
                   "input": {"parameters": {"system": {"cpus": 0.125, "memory": 512},
                                            "custom": {"count": 3}}}}),
        )
        .await;
    let slug = started.expect(200).body["data"]["run_slug"]
        .as_str()
        .unwrap()
        .to_string();
    // The run ends when someone looks (or its timer fires), then the event goes out.
    v1(&sb)
        .post("/api/v1/run/detail", json!({"run_slug": slug}))
        .await
        .expect(200);
    let got = inbox.wait_for(3).await;
    assert!(
        got.iter().all(|r| r.json() == got[0].json()),
        "the same event each time"
    );
    assert_eq!(
        got[0].json(),
        json!({"run_slug": slug, "status": 3, "results": 3, "usage": "0.00"})
    );
    assert_eq!(got[0].header("content-type"), Some("application/json"));
    let counts = &sb.vendor::<CoreClaw>().webhooks;
    eventually("the delivery counted", || async {
        (counts.webhook_delivered.load(Ordering::Relaxed) == 1).then_some(())
    })
    .await;
    assert_eq!(counts.webhook_attempts.load(Ordering::Relaxed), 3);
    assert_eq!(counts.webhook_retries.load(Ordering::Relaxed), 2);
    assert_eq!(counts.webhook_failures.load(Ordering::Relaxed), 0);
    // Each attempt is in the run's log, through v2 as through v1.
    let log = v2(&sb)
        .get(&format!("/api/v2/worker-runs/{slug}/log"))
        .await;
    let lines: Vec<&str> = log.expect(200).body["data"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .filter(|l| l.starts_with("Completion webhook"))
        .collect();
    assert_eq!(
        lines,
        [
            "Completion webhook: 204",
            "Completion webhook: 500",
            "Completion webhook: 200"
        ]
    );
}
