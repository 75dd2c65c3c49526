//! `cargo bench -p clawkit --bench fulfillment`: two figures for OpenClaw fulfillment, side by
//! side in one run (`BENCH_SECONDS` changes the length; 20 s under `cargo bench`, 3 s when
//! `cargo test` runs benches).
//!
//! 1. **Order queries through the limiter**: 8 tasks share one client and read orders
//!    (`get_order`) against the sandbox, which allows 10 per second; reports queries per second
//!    (goal >= 9.5) and the 429s the sandbox answered (goal 0). Side by side, the same 8 tasks
//!    with the limiter lifted (`order_queries_per_second(1000)`): the retries on 429 +
//!    `Retry-After` still get every query through, at the cost the 429 count shows.
//! 2. **Webhook acknowledgement latency**: signed deliveries POSTed at 200 per second to the
//!    ready receiver (`Receiver::serve`) whose handler is slow (5 ms an event); every tenth
//!    event is delivered a second time (OpenClaw's retry: same `X-OpenClaw-Request-ID`, a new
//!    timestamp). Reports p50 and p99 of the time to the 200 over every delivery (goal p99 <
//!    50 ms) and that every event was handled exactly once.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use clawkit::fulfillment::Client;
use clawkit::fulfillment::webhook::{Receiver, signed_headers};
use clawkit::runtime::webhook::Deliveries;
use clawkit_sandbox::{Sandbox, Vendor};

const SECRET: &str = "cs_sandbox_5f2b9c7e4d1a";

fn seconds() -> u64 {
    match std::env::var("BENCH_SECONDS").map(|v| v.parse()) {
        Ok(Ok(s)) => s,
        _ if std::env::args().any(|a| a == "--bench") => 20,
        _ => 3,
    }
}

async fn order_queries(seconds: u64, per_second: u32) {
    let sandbox = Sandbox::builder().start().await.expect("sandbox");
    let client = Client::builder()
        .app("sandbox-client", SECRET)
        .base_url(sandbox.base_url(Vendor::OpenclawFulfillment))
        .order_queries_per_second(per_second)
        .build()
        .expect("client");
    client.order("#1001").await.expect("warm-up"); // the token, outside the measured time
    tokio::time::sleep(Duration::from_secs(1)).await; // and outside the server's window
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let until = started + Duration::from_secs(seconds);
    let reader = |c: Client, done: Arc<AtomicU64>| async move {
        while Instant::now() < until {
            c.order("#1001").await.expect("order query");
            done.fetch_add(1, Ordering::Relaxed);
        }
    };
    futures::future::join_all((0..8).map(|_| tokio::spawn(reader(client.clone(), done.clone()))))
        .await
        .into_iter()
        .for_each(|t| t.expect("task"));
    let elapsed = started.elapsed().as_secs_f64();
    let total = done.load(Ordering::Relaxed);
    let qps = total as f64 / elapsed;
    let stats = &sandbox
        .vendor::<clawkit_sandbox::fulfillment::Fulfillment>()
        .stats;
    println!(
        "order queries, 8 tasks, client limit {per_second}/s, {seconds} s: {total} in {elapsed:.2} s = {qps:.2} QPS ({:.3} of the 10 QPS limit); {} answered 429",
        qps / 10.0,
        stats.rate_limited.load(Ordering::Relaxed)
    );
}

async fn acknowledgements(seconds: u64) {
    let mut hooks = Receiver::new(SECRET)
        .store(Arc::new(Deliveries::new(
            Duration::from_secs(3600),
            100_000,
        )))
        .serve(100_000);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/hooks", listener.local_addr().expect("addr"));
    let router = hooks.router;
    tokio::spawn(async move { axum::serve(listener, router).await.expect("serve") });
    let handled = Arc::new(AtomicU64::new(0));
    let counter = handled.clone();
    tokio::spawn(async move {
        while let Some(_delivery) = hooks.events.recv().await {
            tokio::time::sleep(Duration::from_millis(5)).await; // the user's slow work
            counter.fetch_add(1, Ordering::Relaxed);
        }
    });
    let http = reqwest::Client::new();
    let deliveries = seconds * 200;
    let mut interval = tokio::time::interval(Duration::from_millis(5));
    let mut sends = Vec::with_capacity(deliveries as usize);
    let mut events = 0;
    for i in 0..deliveries {
        interval.tick().await;
        // Every 11th delivery repeats the one before it: one event in ten is delivered twice.
        let event = if i % 11 == 10 {
            i - 1
        } else {
            events += 1;
            i
        };
        let id = format!("evt_bench_{event}");
        let body = format!(
            r#"{{"event_id":"{id}","event_type":"inventory.changed","occurred_at":"2024-06-15T08:30:05+08:00","data":{{"reason":"reservation","previous_ats":5,"inventory":{{"sku":"A","warehouse_code":"W","on_hand":5,"reserved":1,"safety_stock":0,"in_transit":0,"ats":4,"updated_at":"2024-06-15T08:30:05+08:00"}}}}}}"#
        );
        let headers = signed_headers(
            SECRET,
            SystemTime::now(),
            &id,
            "inventory.changed",
            body.as_bytes(),
        );
        let request = http.post(&url).headers(headers).body(body);
        sends.push(tokio::spawn(async move {
            let sent = Instant::now();
            let answer = request.send().await.expect("delivery");
            assert_eq!(answer.status(), 200);
            sent.elapsed()
        }));
    }
    let mut latencies = Vec::with_capacity(sends.len());
    for s in sends {
        latencies.push(s.await.expect("send"));
    }
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 - 1.0) * q) as usize];
    let until = Instant::now() + Duration::from_secs(30);
    while handled.load(Ordering::Relaxed) < events && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await; // a duplicate handled late would show
    println!(
        "webhook receiver, {deliveries} deliveries of {events} events at 200/s, handler 5 ms/event: ack p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; {} events handled ({})",
        at(0.5).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
        at(1.0).as_secs_f64() * 1e3,
        handled.load(Ordering::Relaxed),
        if handled.load(Ordering::Relaxed) == events {
            "each once"
        } else {
            "NOT each once"
        }
    );
}

#[tokio::main]
async fn main() {
    let seconds = seconds();
    order_queries(seconds, 10).await;
    order_queries(seconds, 1000).await;
    acknowledgements(seconds).await;
}
