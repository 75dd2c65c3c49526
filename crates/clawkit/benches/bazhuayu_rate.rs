//! `cargo bench -p clawkit --bench bazhuayu_rate`: 2,000 requests from 8 concurrent tasks through
//! one Bazhuayu client against the sandbox's leaky bucket (20 requests/s, 100 burst, per token).
//! Reports the achieved requests/s divided by 20 (goal >= 0.95) and the 429s the bucket answered
//! (goal 0). `BENCH_REQUESTS=2000` changes the count. Takes about 100 s at the default.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use clawkit::bazhuayu::Client;
use clawkit_sandbox::{Sandbox, Vendor};

#[tokio::main]
async fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let total: usize = std::env::var("BENCH_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if full { 2_000 } else { 150 });
    let sandbox = Sandbox::builder().start().await.expect("sandbox");
    let client = Client::builder()
        .credentials("sandbox", "sandbox")
        .base_url(sandbox.base_url(Vendor::Bazhuayu))
        .build()
        .expect("client");
    client.task_groups().await.expect("warm-up: the token");
    // Let the bucket fill again after the warm-up request.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let started = Instant::now();
    let per_task = total / 8;
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move {
                for _ in 0..per_task {
                    c.task_groups().await.expect("request");
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("task");
    }
    let secs = started.elapsed().as_secs_f64();
    let done = per_task * 8;
    let rate = done as f64 / secs;
    let limited = sandbox
        .vendor::<clawkit_sandbox::bazhuayu::Bazhuayu>()
        .stats
        .rate_limited
        .load(Ordering::Relaxed);
    println!(
        "{done} requests from 8 tasks in {secs:.1} s: {rate:.2} requests/s, {:.3} of 20/s, {limited} answered 429",
        rate / 20.0
    );
}
