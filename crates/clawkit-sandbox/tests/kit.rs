//! The shared test support against a real sandbox: the client keeps answers whole, the inbox
//! records deliveries and answers as scripted.

mod support;

use std::sync::Arc;

use clawkit_sandbox::{Sandbox, Vendor};
use serde_json::json;
use support::{Http, Inbox};

#[tokio::test]
async fn the_client_reads_answers_whole() {
    let sb = Sandbox::builder().start().await.unwrap();
    let coreclaw = Http::new(sb.base_url(Vendor::Coreclaw));
    let store = coreclaw.get("/api/store?search=amazon").await;
    store.expect(200);
    assert_eq!(store.body["code"], 0);
    assert!(store.header("content-type").unwrap().contains("json"));
    let refused = coreclaw
        .with_header("api-key", "wrong")
        .post("/api/v1/run/detail", json!({"run_slug": "x"}))
        .await;
    assert_eq!(refused.body["code"], 20001);
}

#[tokio::test]
async fn the_inbox_records_and_answers_as_scripted() {
    let inbox = Inbox::answering(Arc::new(|n| if n == 0 { (500, "") } else { (200, "ok") })).await;
    let client = reqwest::Client::new();
    for expected in [500, 200] {
        let status = client
            .post(&inbox.url)
            .header("x-n", "1")
            .body("{\"a\":1}")
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status.as_u16(), expected);
    }
    let got = inbox.wait_for(2).await;
    assert_eq!(got[1].header("x-n"), Some("1"));
    assert_eq!(got[0].json()["a"], 1);
}
