//! Two webhook receivers behind one URL (two replicas) sharing delivery claims through a state
//! store: every event sent to both at once is handled exactly once, and a twin is answered so
//! that the sender retries. SQLite always; Redis when `CLAWKIT_TEST_REDIS` names a server
//! (required under CI).

use std::collections::HashSet;
use std::time::{Duration, SystemTime};

use clawkit::fulfillment::webhook::{self as hooks, Receiver};

const SECRET: &str = "cs_sandbox_5f2b9c7e4d1a";

fn body(id: &str) -> Vec<u8> {
    format!(
        r##"{{"event_id":"{id}","event_type":"order.created","occurred_at":"2024-06-15T08:30:05+08:00","data":{{"order_id":"o1","order_no":"#{id}","channel":"shopify","store_id":"s","status":"created","ordered_at":"2024-06-15T08:30:00+08:00","currency":"USD","recipient":{{"name":"J","country_code":"US","city":"SF","postal_code":"94105","address_line1":"1 Market St"}},"lines":[],"warehouse_code":null,"carrier":null,"tracking_number":null,"created_at":"2024-06-15T08:30:00+08:00","updated_at":"2024-06-15T08:30:00+08:00"}}}}"##
    )
    .into_bytes()
}

async fn serve(url: &str) -> (String, clawkit::webhook::Served<hooks::Event>) {
    let mut served = Receiver::new(SECRET).state(url).unwrap().serve(1024);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let at = format!("http://{}/", listener.local_addr().unwrap());
    let router = std::mem::take(&mut served.router);
    tokio::spawn(async move { axum::serve(listener, router).await });
    (at, served)
}

/// Posts one delivery until it is answered 200 (a sender retrying on 503).
async fn deliver(http: &reqwest::Client, to: &str, id: &str) -> u32 {
    let body = body(id);
    for attempt in 1..=200 {
        let headers = hooks::signed_headers(SECRET, SystemTime::now(), id, "order.created", &body);
        let answer = http
            .post(to)
            .headers(headers)
            .body(body.clone())
            .send()
            .await
            .unwrap();
        match answer.status().as_u16() {
            200 => return attempt,
            503 => tokio::time::sleep(Duration::from_millis(10)).await,
            other => panic!("{id}: answered {other}"),
        }
    }
    panic!("{id}: never acknowledged")
}

async fn exactly_once(url: &str) {
    let (a, mut first) = serve(url).await;
    let (b, mut second) = serve(url).await;
    let http = reqwest::Client::new();
    let run = format!("{}", std::process::id());
    let ids: Vec<String> = (0..40).map(|n| format!("evt_{run}_{n}")).collect();
    for id in &ids {
        tokio::join!(deliver(&http, &a, id), deliver(&http, &b, id));
    }
    let mut handled = Vec::new();
    for served in [&mut first, &mut second] {
        while let Ok(delivery) = served.events.try_recv() {
            handled.push(delivery.id);
        }
    }
    let unique: HashSet<&String> = handled.iter().collect();
    assert_eq!(
        unique.len(),
        handled.len(),
        "an event handled twice ({url})"
    );
    assert_eq!(
        unique,
        ids.iter().collect::<HashSet<_>>(),
        "every event handled ({url})"
    );
    // Sent again later (a sender's retry of an acknowledged delivery): acknowledged, not queued.
    deliver(&http, &a, &ids[0]).await;
    deliver(&http, &b, &ids[0]).await;
    assert!(first.events.try_recv().is_err() && second.events.try_recv().is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_receivers_on_one_sqlite_file_handle_each_event_once() {
    let path = std::env::temp_dir().join(format!("clawkit-hooks-{}.db", std::process::id()));
    exactly_once(&format!("sqlite://{}", path.display())).await;
    let _ = std::fs::remove_file(path);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_receivers_on_one_redis_handle_each_event_once() {
    let Some(url) = std::env::var("CLAWKIT_TEST_REDIS")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        assert!(
            std::env::var("CI").is_err(),
            "CLAWKIT_TEST_REDIS must name a Redis server under CI"
        );
        eprintln!("SKIPPED: no Redis (set CLAWKIT_TEST_REDIS=redis://127.0.0.1:PORT)");
        return;
    };
    exactly_once(&url).await;
}
