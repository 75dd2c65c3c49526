//! `cargo bench -p clawkit --bench devops_rate`: four tasks share one Pro account (300
//! requests/minute, a token bucket refilling at 5/s) through one DevOps client for 60 s
//! (`BENCH_SECONDS` changes it), reading users. Reports the sustained rate (after the first
//! time the bucket ran low, i.e. what the pacing holds once the initial bucket is spent) divided
//! by the tier's 5 requests/s (goal >= 0.9), the whole run's rate, and the 429s the sandbox
//! answered (goal 0). Without `--bench` (as `cargo test` runs benches) it runs 5 s.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clawkit::devops::{Client, Tier};
use clawkit_sandbox::{Sandbox, Vendor};

/// 60 s under `cargo bench`, 5 s when `cargo test` runs it, or `BENCH_SECONDS`.
fn seconds() -> u64 {
    match std::env::var("BENCH_SECONDS").map(|v| v.parse()) {
        Ok(Ok(s)) => s,
        _ if std::env::args().any(|a| a == "--bench") => 60,
        _ => 5,
    }
}

#[tokio::main]
async fn main() {
    let seconds = seconds();
    let sandbox = Sandbox::builder().start().await.expect("sandbox");
    let client = Client::builder()
        .client_credentials("sandbox", "sandbox-secret")
        .base_url(sandbox.base_url(Vendor::OpenclawDevops))
        .tier(Tier::Pro)
        .build()
        .expect("client");
    let done = Arc::new(AtomicU64::new(0));
    // (when, count) of the first request answered once the bucket was low.
    let low_at: Arc<std::sync::Mutex<Option<(Instant, u64)>>> = Default::default();
    let started = Instant::now();
    let until = started + Duration::from_secs(seconds);
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let (c, done, low_at) = (client.clone(), done.clone(), low_at.clone());
            tokio::spawn(async move {
                while Instant::now() < until {
                    c.user("usr_abc123def456").await.expect("request");
                    let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                    // The Pro bucket holds 300; the pacer takes over below a tenth of it.
                    if n >= 270 {
                        let mut low = low_at.lock().expect("lock");
                        low.get_or_insert((Instant::now(), n));
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("task");
    }
    let ended = Instant::now();
    let total = done.load(Ordering::Relaxed);
    let limited = sandbox
        .vendor::<clawkit_sandbox::devops::Devops>()
        .stats
        .rate_limited
        .load(Ordering::Relaxed);
    let whole = total as f64 / (ended - started).as_secs_f64();
    let sustained = low_at
        .lock()
        .expect("lock")
        .map(|(at, n)| (total - n) as f64 / (ended - at).as_secs_f64());
    match sustained {
        Some(rate) => println!(
            "4 tasks, one Pro account, {seconds} s: {total} requests; sustained {rate:.2}/s = {:.3} of the tier's 5/s; whole run {whole:.2}/s; {limited} answered 429",
            rate / 5.0
        ),
        None => println!(
            "4 tasks, one Pro account, {seconds} s: {total} requests ({whole:.2}/s, the bucket never ran low); {limited} answered 429"
        ),
    }
}
