//! `cargo bench -p clawkit`: streaming a run's results through `Run::items_as` against a plain
//! reqwest + serde_json page loop, same sandbox, same run, pages of 1000.
//!
//! Each side runs in its own child process (with its own in-process sandbox), so its peak RSS
//! (VmHWM) is its own: goal under 64 MB for clawkit, flat from 100,000 to 1,000,000 items.
//! The figure includes the in-process sandbox, which itself stays under 10 MB.
//! `BENCH_COUNTS=100000,1000000` changes the sizes.

use std::process::Command;
use std::time::{Duration, Instant};

use clawkit::RetryPolicy;
use clawkit::coreclaw::Client;
use clawkit_sandbox::{Sandbox, Vendor};
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

async fn prepare(count: u64) -> (Sandbox, Client, String) {
    let sandbox = Sandbox::builder()
        .run_duration(Duration::ZERO)
        .start()
        .await
        .expect("sandbox");
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

async fn clawkit_side(client: &Client, slug: &str) -> u64 {
    let run = client.run(slug);
    let mut stream = run.items_from(PAGE, 0);
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

async fn child(side: &str, count: u64) {
    let (sandbox, client, slug) = prepare(count).await;
    let started = Instant::now();
    let n = match side {
        "clawkit" => clawkit_side(&client, &slug).await,
        _ => raw_side(&sandbox, &slug).await,
    };
    let secs = started.elapsed().as_secs_f64();
    assert_eq!(n, count, "every item exactly once");
    println!("{} {}", n as f64 / secs, peak_rss_mb());
}

fn run_child(side: &str, count: u64) -> (f64, f64) {
    let exe = std::env::current_exe().expect("own path");
    let out = Command::new(exe)
        .args(["--child", side, &count.to_string()])
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

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        let side = args[i + 1].clone();
        let count: u64 = args[i + 2].parse().expect("count");
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(child(&side, count));
        return;
    }
    // `cargo test --benches` runs this without `--bench`: keep that run small.
    let full = args.iter().any(|a| a == "--bench");
    let counts: Vec<u64> = std::env::var("BENCH_COUNTS")
        .ok()
        .map(|v| v.split(',').filter_map(|c| c.trim().parse().ok()).collect())
        .unwrap_or_else(|| {
            if full {
                vec![100_000, 1_000_000]
            } else {
                vec![20_000]
            }
        });
    println!(
        "{:>9}  {:>14}  {:>14}  {:>6}  {:>17}",
        "items", "clawkit items/s", "raw items/s", "ratio", "clawkit peak RSS"
    );
    for count in counts {
        let (raw, _) = run_child("raw", count);
        let (ck, rss) = run_child("clawkit", count);
        println!(
            "{count:>9}  {ck:>14.0}  {raw:>14.0}  {:>6.3}  {rss:>14.1} MB",
            ck / raw
        );
    }
}
