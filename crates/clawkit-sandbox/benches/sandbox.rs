//! Sandbox benchmarks: `cargo bench -p clawkit-sandbox`.
//!
//! 1. Peak RSS of the `clawkit-sandbox` process while it exports a run of N items as CSV
//!    (goal: under 50 MB and flat as N grows). Each N runs in a fresh process, so its VmHWM
//!    (peak resident set) is that export's own.
//! 2. Requests per second the sandbox serves for `result/list` pages of 100 items, from
//!    8 concurrent clients in this process, on the same machine.
//!
//! `BENCH_EXPORT_COUNTS=100000,1000000` and `BENCH_SECONDS=5` change the sizes.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{Value, json};

const LOAD: &str = "01KSBXLOADGEN0000000000001";

struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start() -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_clawkit-sandbox"))
            .args(["--port", "0", "--run-seconds", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the sandbox binary starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut reader = BufReader::new(stdout);
        let mut first = String::new();
        reader
            .read_line(&mut first)
            .expect("the sandbox prints its URL");
        // Keep reading, so the sandbox never writes into a closed pipe.
        std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
        let url = first.trim().rsplit(' ').next().expect("a URL").to_string();
        Server {
            child,
            base: format!("{url}/coreclaw"),
        }
    }

    /// Peak resident set size of the process so far, in MB.
    fn peak_rss_mb(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map(|kb| kb / 1024.0)
            .unwrap_or(f64::NAN)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn client() -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        "api-key",
        reqwest::header::HeaderValue::from_static("sandbox-key"),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .expect("client")
}

async fn post(client: &reqwest::Client, url: String, body: Value) -> Value {
    client
        .post(url)
        .json(&body)
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json")
}

async fn start_run(client: &reqwest::Client, base: &str, count: u64) -> String {
    let body = json!({
        "scraper_slug": LOAD, "version": "v1.0.0", "is_async": true,
        "input": {"parameters": {"system": {"cpus": 0.125, "memory": 512}, "custom": {"count": count}}}
    });
    let reply = post(client, format!("{base}/api/v1/scraper/run"), body).await;
    reply["data"]["run_slug"]
        .as_str()
        .expect("run slug")
        .to_string()
}

async fn export_bench(count: u64) {
    let server = Server::start();
    let client = client();
    let run = start_run(&client, &server.base, count).await;
    let idle = server.peak_rss_mb();
    let export = post(
        &client,
        format!("{}/api/v1/run/result/export", server.base),
        json!({"run_slug": run, "format": "csv", "filter_keys": []}),
    )
    .await;
    let url = export["data"]["download_url"]
        .as_str()
        .expect("download url")
        .to_string();
    let started = Instant::now();
    let mut stream = client
        .get(url)
        .send()
        .await
        .expect("download")
        .bytes_stream();
    let (mut bytes, mut lines) = (0u64, 0u64);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.expect("chunk");
        bytes += chunk.len() as u64;
        lines += chunk.iter().filter(|b| **b == b'\n').count() as u64;
    }
    let secs = started.elapsed().as_secs_f64();
    assert_eq!(lines, count + 1, "header plus one line per item");
    println!(
        "export csv {count:>9} items: {:>7.1} MB in {secs:>5.2} s ({:>6.1} MB/s), sandbox peak RSS {:>5.1} MB (idle {:.1} MB)",
        bytes as f64 / 1e6,
        bytes as f64 / 1e6 / secs,
        server.peak_rss_mb(),
        idle
    );
}

async fn result_list_bench(seconds: u64) {
    let server = Server::start();
    let client = client();
    let run = start_run(&client, &server.base, 100_000).await;
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let url = format!("{}/api/v1/run/result/list", server.base);
    let workers: Vec<_> = (0..8u64)
        .map(|w| {
            let (client, url, run) = (client.clone(), url.clone(), run.clone());
            tokio::spawn(async move {
                let mut n = 0u64;
                let mut page = 1 + w * 125;
                while Instant::now() < deadline {
                    let body = json!({"run_slug": run, "page_index": page, "page_size": 100});
                    let reply: Value = client
                        .post(&url)
                        .json(&body)
                        .send()
                        .await
                        .expect("sent")
                        .json()
                        .await
                        .expect("json");
                    assert_eq!(reply["data"]["list"].as_array().map(Vec::len), Some(100));
                    n += 1;
                    page = page % 1000 + 1;
                }
                n
            })
        })
        .collect();
    let mut total = 0;
    for w in workers {
        total += w.await.expect("worker");
    }
    println!(
        "result/list pages of 100 items, 8 clients, {seconds} s: {total} requests, {:.0} requests/s, sandbox peak RSS {:.1} MB",
        total as f64 / seconds as f64,
        server.peak_rss_mb()
    );
}

#[tokio::main]
async fn main() {
    // `cargo test --benches` runs this binary with `--bench` absent: keep that run short.
    let full = std::env::args().any(|a| a == "--bench");
    let counts: Vec<u64> = std::env::var("BENCH_EXPORT_COUNTS")
        .ok()
        .map(|v| v.split(',').filter_map(|c| c.trim().parse().ok()).collect())
        .unwrap_or_else(|| {
            if full {
                vec![100_000, 1_000_000, 3_000_000]
            } else {
                vec![10_000]
            }
        });
    let seconds = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if full { 5 } else { 1 });
    for count in counts {
        export_bench(count).await;
    }
    result_list_bench(seconds).await;
}
