//! The fault matrix: every vendor flow that exists, under every sandbox fault. Each cell either
//! completes with every item exactly once, or returns a typed error that says what to do next
//! (`is_retryable`) and keeps what the caller needs to resume (a run slug, an offset); the caller
//! then follows that advice once and must complete exactly once.
//!
//! `cargo test -p clawkit-tests --test fault_matrix -- --nocapture` prints the table.

use std::fmt::Write as _;
use std::time::Duration;

use clawkit::RetryPolicy;
use clawkit::bazhuayu;
use clawkit::coreclaw::{self, ApiVersion, ExportFormat, WaitOptions};
use clawkit_sandbox::{FaultKind, FaultRule, Sandbox, Vendor};
use futures::TryStreamExt;
use serde_json::Value;

const LOAD: &str = "01KSBXLOADGEN0000000000001";
const TASK: &str = "337fd7d7-aded-4081-9104-2b551161ccc8";
const ITEMS: u64 = 1_500;

#[derive(Clone, Debug)]
enum Fault {
    Kind(FaultKind),
    TokenExpiry,
}

fn faults() -> Vec<(&'static str, Fault)> {
    vec![
        (
            "429 + Retry-After",
            Fault::Kind(FaultKind::Http429 {
                retry_after_secs: 0,
            }),
        ),
        ("4290 envelope", Fault::Kind(FaultKind::Code4290)),
        ("503", Fault::Kind(FaultKind::Http503)),
        ("latency 50 ms", Fault::Kind(FaultKind::Latency { ms: 50 })),
        ("reset mid-body", Fault::Kind(FaultKind::ResetMidBody)),
        ("truncated JSON", Fault::Kind(FaultKind::TruncatedJson)),
        (
            "slow body",
            Fault::Kind(FaultKind::SlowBody {
                chunk_delay_ms: 1,
                chunk_size: 2048,
            }),
        ),
        ("token expiry", Fault::TokenExpiry),
    ]
}

/// What happened in one cell.
enum Outcome {
    Completed,
    ResumedAfter(String),
    NotApplicable(&'static str),
}

async fn sandbox(fault: &Fault) -> Sandbox {
    let ttl = if matches!(fault, Fault::TokenExpiry) {
        Duration::from_secs(1)
    } else {
        Duration::from_secs(600)
    };
    Sandbox::builder()
        .configure(|c: &mut clawkit_sandbox::coreclaw::Config| {
            c.run_duration = Duration::from_millis(100)
        })
        .configure(|c: &mut clawkit_sandbox::bazhuayu::Config| c.token_ttl = ttl)
        .start()
        .await
        .unwrap()
}

fn apply(sb: &Sandbox, fault: &Fault, vendor: Vendor, routes: &[&str]) {
    if let Fault::Kind(kind) = fault {
        for route in routes {
            sb.add_fault(
                FaultRule::new(kind.clone())
                    .vendor(vendor)
                    .route(*route)
                    .every(2),
            );
        }
    }
}

fn coreclaw(sb: &Sandbox, api: ApiVersion) -> coreclaw::Client {
    coreclaw::Client::builder()
        .api_key("sandbox-key")
        .base_url(sb.base_url(Vendor::Coreclaw))
        .api(api)
        .retry(RetryPolicy::fast())
        .wait(WaitOptions {
            initial_interval: Duration::from_millis(20),
            max_interval: Duration::from_millis(80),
            timeout: Duration::from_secs(20),
            ..WaitOptions::default()
        })
        .build()
        .unwrap()
}

fn bzy(sb: &Sandbox) -> bazhuayu::Client {
    bazhuayu::Client::builder()
        .credentials("sandbox", "sandbox")
        .base_url(sb.base_url(Vendor::Bazhuayu))
        .retry(RetryPolicy::fast())
        .build()
        .unwrap()
}

async fn finished_run(client: &coreclaw::Client) -> coreclaw::Run {
    let worker = client.worker(LOAD).await.unwrap();
    let (run, record) = client
        .call(&worker, worker.input().set("count", ITEMS).build().unwrap())
        .await
        .unwrap();
    assert_eq!(record.results, ITEMS);
    run
}

fn exactly_once(indices: &[u64], what: &str) {
    assert_eq!(
        indices,
        (0..indices.len() as u64).collect::<Vec<_>>().as_slice(),
        "{what}: order, gaps or repeats"
    );
}

/// The routes of one run's detail, results and export in `api` (v2 names the run in the path).
fn run_routes(api: ApiVersion) -> [&'static str; 3] {
    match api {
        ApiVersion::V1 => [
            "/api/v1/run/detail",
            "/api/v1/run/result/list",
            "/api/v1/run/result/export",
        ],
        ApiVersion::V2 => ["/api/v2/worker-runs/*"; 3],
    }
}

async fn coreclaw_run_and_wait(fault: &Fault, api: ApiVersion) -> Outcome {
    if matches!(fault, Fault::TokenExpiry) {
        return Outcome::NotApplicable("api-key, no token");
    }
    let sb = sandbox(fault).await;
    let client = coreclaw(&sb, api);
    let [detail, _, _] = run_routes(api);
    apply(&sb, fault, Vendor::Coreclaw, &[detail]);
    let run = finished_run(&client).await;
    assert!(run.detail().await.unwrap().is_success());
    Outcome::Completed
}

async fn coreclaw_result_stream(fault: &Fault, api: ApiVersion) -> Outcome {
    if matches!(fault, Fault::TokenExpiry) {
        return Outcome::NotApplicable("api-key, no token");
    }
    let sb = sandbox(fault).await;
    let client = coreclaw(&sb, api);
    let run = finished_run(&client).await;
    let [_, results, _] = run_routes(api);
    apply(&sb, fault, Vendor::Coreclaw, &[results]);
    // v2's pages hold at most 100 items.
    let page_size = if api == ApiVersion::V2 { 100 } else { 250 };
    let items: Vec<u64> = run
        .items_from(page_size, 0)
        .map_ok(|i| i["index"].as_u64().unwrap())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(items.len() as u64, ITEMS);
    exactly_once(&items, "result stream");
    Outcome::Completed
}

async fn coreclaw_export(fault: &Fault, api: ApiVersion) -> Outcome {
    if matches!(fault, Fault::TokenExpiry) {
        return Outcome::NotApplicable("api-key, no token");
    }
    let sb = sandbox(fault).await;
    let client = coreclaw(&sb, api);
    let run = finished_run(&client).await;
    // The export request is retried by the client; the download streams into the caller's writer
    // and is not: a broken download is a typed, retryable error, and the run slug is all it takes
    // to export again.
    if let Fault::Kind(kind) = fault {
        let [_, _, export] = run_routes(api);
        sb.add_fault(
            FaultRule::new(kind.clone())
                .vendor(Vendor::Coreclaw)
                .route(export)
                .every(2),
        );
        // The download is a file from storage: only transport faults apply to it. (An envelope
        // code means nothing there, and a body cut short with a matching Content-Length cannot be
        // told from a whole file without a checksum, which CoreClaw does not send.)
        if !matches!(kind, FaultKind::Code4290 | FaultKind::TruncatedJson) {
            sb.add_fault(
                FaultRule::new(kind.clone())
                    .vendor(Vendor::Coreclaw)
                    .route("/_sandbox/exports/*")
                    .limit(1),
            );
        }
    }
    let mut outcome = Outcome::Completed;
    let mut csv = Vec::new();
    if let Err(e) = run.export(ExportFormat::Csv, &mut csv).await {
        assert!(e.is_retryable(), "export: {e:?} is not retryable");
        outcome = Outcome::ResumedAfter(short(&e.to_string()));
        csv.clear();
        client
            .run(run.slug())
            .export(ExportFormat::Csv, &mut csv)
            .await
            .unwrap();
    }
    let text = String::from_utf8(csv).unwrap();
    assert!(
        text.lines().count() > 1,
        "export: {} bytes: {}",
        text.len(),
        short(&text)
    );
    let indices: Vec<u64> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().parse().unwrap())
        .collect();
    exactly_once(&indices, "export");
    assert_eq!(indices.len() as u64, ITEMS);
    outcome
}

async fn bazhuayu_token(fault: &Fault) -> Outcome {
    let sb = sandbox(fault).await;
    let client = bzy(&sb);
    if let Fault::Kind(kind) = fault {
        sb.add_fault(
            FaultRule::new(kind.clone())
                .vendor(Vendor::Bazhuayu)
                .route("/token")
                .limit(1),
        );
    }
    for _ in 0..3 {
        assert_eq!(client.task_groups().await.unwrap().len(), 2);
        if matches!(fault, Fault::TokenExpiry) {
            tokio::time::sleep(Duration::from_millis(1100)).await;
        }
    }
    assert_eq!(
        sb.vendor::<clawkit_sandbox::bazhuayu::Bazhuayu>()
            .stats
            .refresh_reuse
            .load(std::sync::atomic::Ordering::Relaxed),
        0
    );
    Outcome::Completed
}

fn row_index(row: &serde_json::Map<String, Value>) -> u64 {
    row["序号"].as_str().unwrap().parse().unwrap()
}

async fn bazhuayu_offset_stream(fault: &Fault) -> Outcome {
    let sb = sandbox(fault).await;
    let client = bzy(&sb);
    apply(&sb, fault, Vendor::Bazhuayu, &["/api/alldata/*"]);
    let mut indices = Vec::new();
    let mut pages = client.data_by_offset(TASK).page_size(250).pages();
    while let Some(page) = futures::StreamExt::next(&mut pages).await {
        let page = page.unwrap();
        indices.extend(page.items.iter().map(row_index));
        if matches!(fault, Fault::TokenExpiry) {
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }
    exactly_once(&indices, "offset stream");
    assert_eq!(indices.len(), 2_500);
    Outcome::Completed
}

async fn bazhuayu_export(fault: &Fault) -> Outcome {
    let sb = sandbox(fault).await;
    let client = bzy(&sb);
    apply(&sb, fault, Vendor::Bazhuayu, &["/api/notexportdata/*"]);
    let mut delivered = Vec::new();
    client
        .export_new(TASK)
        .batch_size(300)
        .run(async |batch| {
            delivered.extend(batch.rows.iter().map(row_index));
            if matches!(fault, Fault::TokenExpiry) {
                tokio::time::sleep(Duration::from_millis(150)).await;
            }
            Ok::<(), std::io::Error>(())
        })
        .await
        .unwrap();
    // At least once: a batch whose mark was lost comes again; nothing is missing.
    let mut unique = delivered.clone();
    unique.sort();
    unique.dedup();
    exactly_once(&unique, "export pipeline (distinct rows)");
    assert_eq!(unique.len(), 2_500);
    let repeated = delivered.len() - unique.len();
    if repeated > 0 {
        Outcome::ResumedAfter(format!("{repeated} rows re-delivered, none lost"))
    } else {
        Outcome::Completed
    }
}

fn short(s: &str) -> String {
    let s: String = s.chars().take(48).collect();
    s.replace('\n', " ")
}

/// One flow of the matrix, run under one fault.
type Flow = fn(&Fault) -> futures::future::LocalBoxFuture<'_, Outcome>;

#[tokio::test(flavor = "multi_thread")]
async fn every_flow_under_every_fault() {
    let flows: [(&str, Flow); 9] = [
        ("CoreClaw run + wait", |f| {
            Box::pin(coreclaw_run_and_wait(f, ApiVersion::V1))
        }),
        ("CoreClaw result stream", |f| {
            Box::pin(coreclaw_result_stream(f, ApiVersion::V1))
        }),
        ("CoreClaw export", |f| {
            Box::pin(coreclaw_export(f, ApiVersion::V1))
        }),
        // v2's faults answer v2's envelope (13000 with HTTP 429 for both rate limits, 10000 with
        // HTTP 503).
        ("CoreClaw v2 run + wait", |f| {
            Box::pin(coreclaw_run_and_wait(f, ApiVersion::V2))
        }),
        ("CoreClaw v2 result stream", |f| {
            Box::pin(coreclaw_result_stream(f, ApiVersion::V2))
        }),
        ("CoreClaw v2 export", |f| {
            Box::pin(coreclaw_export(f, ApiVersion::V2))
        }),
        ("Bazhuayu token", |f| Box::pin(bazhuayu_token(f))),
        ("Bazhuayu offset stream", |f| {
            Box::pin(bazhuayu_offset_stream(f))
        }),
        ("Bazhuayu export pipeline", |f| Box::pin(bazhuayu_export(f))),
    ];
    let mut table = String::new();
    let _ = writeln!(table, "| flow | fault | outcome |\n|---|---|---|");
    for (flow, run) in flows {
        for (name, fault) in faults() {
            let outcome = match run(&fault).await {
                Outcome::Completed => "completed, every item exactly once".to_string(),
                Outcome::ResumedAfter(e) => {
                    format!("typed retryable error ({e}); resumed: complete, none lost")
                }
                Outcome::NotApplicable(why) => format!("n/a ({why})"),
            };
            let _ = writeln!(table, "| {flow} | {name} | {outcome} |");
        }
    }
    println!("{table}");
}
