//! `cargo bench -p clawkit --bench items`: streaming a run's results through `Run::items`
//! against a plain reqwest + serde_json page loop that reads one page at a time, same sandbox,
//! same run, pages of 1000.
//!
//! Two cases: the sandbox as it is (no added latency; 100,000 and 1,000,000 items), and each
//! result page delayed by 50 ms (a sandbox latency fault on `/api/v1/run/result/list`, as from a
//! server on another continent; 200,000 items). clawkit reads ahead
//! (`clawkit_runtime::DEFAULT_PREFETCH` pages); the raw loop waits on one page at a time, as the
//! guide's Python loop does.
//!
//! Each side runs in its own child process (with its own in-process sandbox), so its peak RSS
//! (VmHWM) is its own: goal under 64 MB for clawkit, flat from 100,000 to 1,000,000 items.
//! The figure includes the in-process sandbox, which itself stays under 10 MB.
//!
//! Environment: `BENCH_COUNTS=100000,1000000` (no-latency sizes), `BENCH_LATENCY_COUNT=200000`,
//! `BENCH_LATENCY_MS=50`, `BENCH_PREFETCH=0,2,4,8,16` (also measure clawkit at these depths, to
//! choose the default).

use std::process::Command;
use std::time::{Duration, Instant};

use clawkit::RetryPolicy;
use clawkit::coreclaw::Client;
use clawkit_sandbox::{FaultKind, FaultRule, Sandbox, Vendor};
use futures::StreamExt;
use serde_json::{Value, json};

const LOAD: &str = "01KSBXLOADGEN0000000000001";
const PAGE: u32 = 1000;

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

async fn prepare(count: u64, latency_ms: u64) -> (Sandbox, Client, String) {
    let mut sandbox = Sandbox::builder()
        .configure(|c: &mut clawkit_sandbox::coreclaw::Config| c.run_duration = Duration::ZERO);
    if latency_ms > 0 {
        sandbox = sandbox.fault(
            FaultRule::new(FaultKind::Latency { ms: latency_ms })
                .vendor(Vendor::Coreclaw)
                .route("/api/v1/run/result/list"),
        );
    }
    let sandbox = sandbox.start().await.expect("sandbox");
    let client = Client::builder()
        .api_key("sandbox-key")
        .base_url(sandbox.base_url(Vendor::Coreclaw))
        .retry(RetryPolicy::fast())
        .build()
        .expect("client");
    let worker = client.worker(LOAD).await.expect("worker");
    let input = worker.input().set("count", count).build().expect("input");
    let run = client.start(&worker, input).await.expect("start");
    run.wait().await.expect("wait");
    let slug = run.slug().to_string();
    (sandbox, client, slug)
}

async fn clawkit_side(client: &Client, slug: &str, prefetch: Option<usize>) -> u64 {
    let run = client.run(slug);
    let mut stream = run.items_from(PAGE, 0);
    if let Some(depth) = prefetch {
        stream = stream.prefetch(depth);
    }
    let mut n = 0u64;
    while let Some(item) = stream.next().await {
        let item = item.expect("item");
        assert!(item.contains_key("index"));
        n += 1;
    }
    n
}

async fn raw_side(sandbox: &Sandbox, slug: &str) -> u64 {
    let http = reqwest::Client::new();
    let url = format!(
        "{}/api/v1/run/result/list",
        sandbox.base_url(Vendor::Coreclaw)
    );
    let mut n = 0u64;
    for page in 1.. {
        let body = json!({"run_slug": slug, "page_index": page, "page_size": PAGE});
        let reply: Value = http
            .post(&url)
            .header("api-key", "sandbox-key")
            .json(&body)
            .send()
            .await
            .expect("sent")
            .json()
            .await
            .expect("json");
        let list = reply["data"]["list"].as_array().expect("list");
        if list.is_empty() {
            break;
        }
        for item in list {
            assert!(item.get("index").is_some());
            n += 1;
        }
    }
    n
}

async fn child(side: &str, count: u64, latency_ms: u64, prefetch: Option<usize>) {
    let (sandbox, client, slug) = prepare(count, latency_ms).await;
    let started = Instant::now();
    let n = match side {
        "clawkit" => clawkit_side(&client, &slug, prefetch).await,
        _ => raw_side(&sandbox, &slug).await,
    };
    let secs = started.elapsed().as_secs_f64();
    assert_eq!(n, count, "every item exactly once");
    println!("{} {}", n as f64 / secs, peak_rss_mb());
}

fn run_child(side: &str, count: u64, latency_ms: u64, prefetch: Option<usize>) -> (f64, f64) {
    let exe = std::env::current_exe().expect("own path");
    let depth = prefetch.map_or("default".to_string(), |d| d.to_string());
    let out = Command::new(exe)
        .args([
            "--child",
            side,
            &count.to_string(),
            &latency_ms.to_string(),
            &depth,
        ])
        .output()
        .expect("child runs");
    assert!(
        out.status.success(),
        "{side} {count}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let mut parts = text
        .split_whitespace()
        .map(|p| p.parse::<f64>().unwrap_or(f64::NAN));
    (
        parts.next().unwrap_or(f64::NAN),
        parts.next().unwrap_or(f64::NAN),
    )
}

fn list<T: std::str::FromStr>(var: &str) -> Option<Vec<T>> {
    std::env::var(var)
        .ok()
        .map(|v| v.split(',').filter_map(|c| c.trim().parse().ok()).collect())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        let side = args[i + 1].clone();
        let count: u64 = args[i + 2].parse().expect("count");
        let latency_ms: u64 = args[i + 3].parse().expect("latency");
        let prefetch: Option<usize> = args[i + 4].parse().ok();
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(child(&side, count, latency_ms, prefetch));
        return;
    }
    // `cargo test --benches` runs this without `--bench`: keep that run small.
    let full = args.iter().any(|a| a == "--bench");
    let counts: Vec<u64> = list("BENCH_COUNTS").unwrap_or_else(|| {
        if full {
            vec![100_000, 1_000_000]
        } else {
            vec![20_000]
        }
    });
    let latency_ms: u64 = list("BENCH_LATENCY_MS")
        .and_then(|v: Vec<u64>| v.first().copied())
        .unwrap_or(50);
    let latency_count: u64 = list("BENCH_LATENCY_COUNT")
        .and_then(|v: Vec<u64>| v.first().copied())
        .unwrap_or(if full { 200_000 } else { 10_000 });
    let depths: Vec<usize> = list("BENCH_PREFETCH").unwrap_or_default();
    let mut cases: Vec<(u64, u64)> = counts.iter().map(|&c| (c, 0)).collect();
    cases.push((latency_count, latency_ms));
    println!(
        "{:>9}  {:>7}  {:>8}  {:>14}  {:>14}  {:>6}  {:>17}",
        "items",
        "latency",
        "prefetch",
        "clawkit items/s",
        "raw items/s",
        "ratio",
        "clawkit peak RSS"
    );
    // Each figure is the median of `rounds` runs, the sides alternating (the machine is shared).
    let rounds = if full { 3 } else { 1 };
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    for (count, latency) in cases {
        let mut sides: Vec<Option<usize>> = vec![None];
        sides.extend(depths.iter().map(|&d| Some(d)));
        let mut raws = Vec::new();
        let mut ours: Vec<(Vec<f64>, f64)> = vec![(Vec::new(), 0.0); sides.len()];
        for _ in 0..rounds {
            raws.push(run_child("raw", count, latency, None).0);
            for (i, prefetch) in sides.iter().enumerate() {
                let (rate, rss) = run_child("clawkit", count, latency, *prefetch);
                ours[i].0.push(rate);
                ours[i].1 = ours[i].1.max(rss);
            }
        }
        let raw = median(raws);
        for (prefetch, (rates, rss)) in sides.into_iter().zip(ours) {
            let ck = median(rates);
            let depth = prefetch.unwrap_or(clawkit::runtime::DEFAULT_PREFETCH);
            println!(
                "{count:>9}  {:>5}ms  {depth:>8}  {ck:>14.0}  {raw:>14.0}  {:>6.2}  {rss:>14.1} MB",
                latency,
                ck / raw
            );
        }
    }
}
