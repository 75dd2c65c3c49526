//! The Bazhuayu facade against the in-process sandbox: tokens, the rate limit, offset streams and
//! the export pipeline, under every fault kind.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use clawkit::RetryPolicy;
use clawkit::bazhuayu::{Batch, Client, Error, Flow, JsonlSink, Reason, TaskRunStatus};
use clawkit_sandbox::{FaultKind, FaultRule, Sandbox, Vendor};
use futures::{StreamExt, TryStreamExt};
use serde_json::Value;

const SMALL: &str = "337fd7d7-aded-4081-9104-2b551161ccc8"; // 2,500 rows
const BIG: &str = "4adf489b-f883-43fa-b958-0cfde945ddb7"; // 100,000 rows

async fn sandbox(ttl: Duration) -> Sandbox {
    Sandbox::builder()
        .configure(|c: &mut clawkit_sandbox::bazhuayu::Config| c.token_ttl = ttl)
        .start()
        .await
        .unwrap()
}

fn client(sb: &Sandbox) -> Client {
    Client::builder()
        .credentials("sandbox", "sandbox")
        .base_url(sb.base_url(Vendor::Bazhuayu))
        .retry(RetryPolicy::fast())
        .build()
        .unwrap()
}

fn index(row: &serde_json::Map<String, Value>) -> u64 {
    row["序号"].as_str().unwrap().parse().unwrap()
}

fn tokens(sb: &Sandbox) -> u64 {
    sb.vendor::<clawkit_sandbox::bazhuayu::Bazhuayu>()
        .stats
        .token_requests
        .load(Ordering::Relaxed)
}

#[tokio::test]
async fn groups_tasks_and_the_paid_api() {
    let sb = sandbox(Duration::from_secs(60)).await;
    let client = client(&sb);
    let groups = client.task_groups().await.unwrap();
    assert_eq!(groups[0].name, "示例组1");
    let tasks = client.tasks(groups[0].id).await.unwrap();
    assert_eq!(tasks[0].id, SMALL);
    assert_eq!(client.start_task(SMALL).await.unwrap(), Some(1));
    assert_eq!(
        client.task_statuses(&[SMALL]).await.unwrap(),
        vec![(SMALL.to_string(), TaskRunStatus::Running)]
    );
    client.stop_task(SMALL).await.unwrap();
    assert_eq!(
        client.task_statuses(&[SMALL]).await.unwrap()[0].1,
        TaskRunStatus::Stopped
    );
    assert_eq!(
        client
            .clear_data("no-such-task")
            .await
            .unwrap_err()
            .reason(),
        Some(Reason::NotFound)
    );
    assert!(matches!(
        client.data_by_offset(SMALL).page_size(0).next().await,
        Some(Err(Error::Flow(Flow::Stream { .. })))
    ));
    assert_eq!(tokens(&sb), 1, "one token for all of it");
}

#[tokio::test]
async fn wrong_credentials_and_missing_ones() {
    let sb = sandbox(Duration::from_secs(60)).await;
    let bad = Client::builder()
        .credentials("sandbox", "wrong")
        .base_url(sb.base_url(Vendor::Bazhuayu))
        .retry(RetryPolicy::fast())
        .build()
        .unwrap();
    assert_eq!(
        bad.task_groups().await.unwrap_err().reason(),
        Some(Reason::InvalidGrant)
    );
    assert!(matches!(Client::builder().build(), Err(Error::Config(_))));
    let secret = "pw-very-secret";
    let c = Client::builder()
        .credentials("u", secret)
        .base_url("http://127.0.0.1:9")
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let err = c.task_groups().await.unwrap_err();
    for text in [
        format!("{c:?}"),
        format!("{err:?}"),
        format!("{err}"),
        format!("{:?}", Client::builder().credentials("u", secret)),
    ] {
        assert!(!text.contains(secret), "{text}");
    }
}

#[tokio::test]
async fn the_stream_survives_token_expiry_with_no_row_lost_or_repeated() {
    let sb = sandbox(Duration::from_secs(1)).await;
    let client = client(&sb);
    let mut rows = client.data_by_offset(SMALL).page_size(100);
    let mut next = 0;
    while let Some(row) = rows.next().await {
        let row = row.unwrap();
        assert_eq!(index(&row), next);
        next += 1;
        if next % 100 == 0 {
            tokio::time::sleep(Duration::from_millis(120)).await; // a slow consumer outlives tokens
        }
    }
    assert_eq!(next, 2_500);
    assert!(tokens(&sb) >= 3, "tokens were renewed: {}", tokens(&sb));
    assert_eq!(
        sb.vendor::<clawkit_sandbox::bazhuayu::Bazhuayu>()
            .stats
            .refresh_reuse
            .load(Ordering::Relaxed),
        0,
        "no refresh token sent twice"
    );
}

#[tokio::test]
async fn concurrent_callers_share_one_refresh() {
    let sb = sandbox(Duration::from_secs(1)).await;
    let client = client(&sb);
    client.task_groups().await.unwrap();
    assert_eq!(tokens(&sb), 1);
    tokio::time::sleep(Duration::from_millis(1050)).await;
    let calls: Vec<_> = (0..16)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move { c.task_groups().await.map(|g| g.len()) })
        })
        .collect();
    for call in calls {
        assert_eq!(call.await.unwrap().unwrap(), 2);
    }
    assert_eq!(tokens(&sb), 2, "sixteen callers after expiry, one refresh");
    assert_eq!(
        sb.vendor::<clawkit_sandbox::bazhuayu::Bazhuayu>()
            .stats
            .refresh_reuse
            .load(Ordering::Relaxed),
        0
    );
}

#[tokio::test]
async fn a_failed_refresh_falls_back_to_the_password_grant() {
    let sb = sandbox(Duration::from_secs(1)).await;
    let client = client(&sb);
    client.task_groups().await.unwrap();
    tokio::time::sleep(Duration::from_millis(1050)).await;
    sb.add_fault(
        FaultRule::new(FaultKind::Http503)
            .vendor(Vendor::Bazhuayu)
            .route("/token")
            .limit(1),
    );
    assert_eq!(client.task_groups().await.unwrap().len(), 2);
    assert_eq!(
        sb.faults()[0].hits,
        1,
        "the refresh failed (503 before the service saw it)"
    );
    assert_eq!(
        tokens(&sb),
        2,
        "the first password grant and the fallback one"
    );
    assert_eq!(
        sb.vendor::<clawkit_sandbox::bazhuayu::Bazhuayu>()
            .stats
            .refresh_reuse
            .load(Ordering::Relaxed),
        0,
        "the refresh token was not retried"
    );
}

#[tokio::test]
async fn a_sink_failure_re_delivers_the_same_batch() {
    let sb = sandbox(Duration::from_secs(60)).await;
    let client = client(&sb);
    let mut first: Option<Batch> = None;
    let failed = client
        .export_new(SMALL)
        .batch_size(300)
        .run(async |batch| {
            first = Some(batch);
            Err::<(), _>("the disk is full")
        })
        .await
        .unwrap_err();
    assert!(
        matches!(failed, Error::Flow(Flow::Sink { rows: 300, .. })),
        "{failed:?}"
    );
    let mut again: Vec<Batch> = Vec::new();
    let report = client
        .export_new(SMALL)
        .batch_size(300)
        .run(async |batch| {
            again.push(batch);
            Ok::<(), std::io::Error>(())
        })
        .await
        .unwrap();
    assert_eq!(
        again[0],
        first.unwrap(),
        "the failed batch comes again, unchanged"
    );
    assert_eq!(report.rows, 2_500);
    let all: Vec<u64> = again
        .iter()
        .flat_map(|b| b.rows.iter().map(index))
        .collect();
    assert_eq!(all, (0..2_500).collect::<Vec<_>>());
    // everything is exported now
    let report = client
        .export_new(SMALL)
        .run(async |_| Ok::<(), std::io::Error>(()))
        .await
        .unwrap();
    assert_eq!(report.batches, 0);
}

#[tokio::test]
async fn the_jsonl_sink_is_exactly_once_across_a_crash_before_the_mark() {
    let sb = sandbox(Duration::from_secs(60)).await;
    let client = client(&sb);
    let dir = std::env::temp_dir().join(format!("clawkit-jsonl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("task.jsonl");
    let _ = std::fs::remove_file(&path);
    let _ = std::fs::remove_file(dir.join("task.jsonl.state"));

    // A run that writes two batches and "crashes" after writing the third but before marking it:
    // the sink succeeds, then the export stops (the mark never happens).
    {
        let mut sink = JsonlSink::open(&path).await.unwrap();
        client
            .export_new(SMALL)
            .batch_size(400)
            .max_batches(2)
            .run(async |b| sink.write(&b).await)
            .await
            .unwrap();
        let crashed = client
            .export_new(SMALL)
            .batch_size(400)
            .run(async |b| {
                sink.write(&b).await?;
                Err::<(), std::io::Error>(std::io::Error::other("crash after writing"))
            })
            .await;
        assert!(crashed.is_err());
    }
    // A new process: the same file, the re-delivered batch is recognised.
    let mut sink = JsonlSink::open(&path).await.unwrap();
    let report = client
        .export_new(SMALL)
        .batch_size(400)
        .run(async |b| sink.write(&b).await)
        .await
        .unwrap();
    assert_eq!(
        report.rows,
        2_500 - 800,
        "the re-delivered batch and the rest"
    );
    let text = std::fs::read_to_string(&path).unwrap();
    let written: Vec<u64> = text
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Map<String, Value>>(l)
                .map(|r| index(&r))
                .unwrap()
        })
        .collect();
    assert_eq!(
        written,
        (0..2_500).collect::<Vec<_>>(),
        "every row exactly once"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn every_fault_kind_loses_and_repeats_nothing() {
    let kinds = [
        FaultKind::Http429 {
            retry_after_secs: 0,
        },
        FaultKind::Code4290,
        FaultKind::Http503,
        FaultKind::Latency { ms: 20 },
        FaultKind::ResetMidBody,
        FaultKind::TruncatedJson,
        FaultKind::SlowBody {
            chunk_delay_ms: 1,
            chunk_size: 4096,
        },
    ];
    for kind in kinds {
        let sb = sandbox(Duration::from_secs(60)).await;
        let client = client(&sb);
        sb.add_fault(
            FaultRule::new(kind.clone())
                .vendor(Vendor::Bazhuayu)
                .route("/api/*")
                .every(3),
        );
        let rows: Vec<u64> = client
            .data_by_offset(SMALL)
            .page_size(250)
            .map_ok(|r| index(&r))
            .try_collect()
            .await
            .unwrap_or_else(|e| panic!("{kind:?}: {e}"));
        assert_eq!(rows, (0..2_500).collect::<Vec<_>>(), "{kind:?}");
        let seen = Arc::new(AtomicUsize::new(0));
        let mut exported = Vec::new();
        let s = seen.clone();
        client
            .export_new(SMALL)
            .batch_size(500)
            .run(async |b| {
                s.fetch_add(1, Ordering::Relaxed);
                exported.extend(b.rows.iter().map(index));
                Ok::<(), std::io::Error>(())
            })
            .await
            .unwrap_or_else(|e| panic!("{kind:?}: {e}"));
        exported.sort();
        exported.dedup();
        assert_eq!(
            exported,
            (0..2_500).collect::<Vec<_>>(),
            "{kind:?}: every row at least once"
        );
        assert!(sb.faults()[0].hits > 0, "{kind:?} never hit");
    }
}

#[tokio::test]
async fn the_limiter_keeps_busy_callers_under_the_bucket() {
    let sb = sandbox(Duration::from_secs(60)).await;
    let client = client(&sb);
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move {
                for _ in 0..20 {
                    c.task_groups().await.unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(
        sb.vendor::<clawkit_sandbox::bazhuayu::Bazhuayu>()
            .stats
            .rate_limited
            .load(Ordering::Relaxed),
        0,
        "no 429 from the bucket"
    );
    // a client without the limiter does get 429s (so the check above means something), and still
    // succeeds through retries
    let greedy = Client::builder()
        .credentials("sandbox", "sandbox")
        .base_url(sb.base_url(Vendor::Bazhuayu))
        .retry(RetryPolicy::fast())
        .rate_limit(Duration::from_micros(1), 10_000)
        .build()
        .unwrap();
    let burst: Vec<_> = (0..150)
        .map(|_| {
            let g = greedy.clone();
            tokio::spawn(async move { g.task_groups().await.is_ok() })
        })
        .collect();
    for b in burst {
        b.await.unwrap();
    }
    assert!(
        sb.vendor::<clawkit_sandbox::bazhuayu::Bazhuayu>()
            .stats
            .rate_limited
            .load(Ordering::Relaxed)
            > 0
    );
}

#[tokio::test]
async fn a_broken_stream_names_the_offset_to_resume_from() {
    let sb = sandbox(Duration::from_secs(60)).await;
    let client = Client::builder()
        .credentials("sandbox", "sandbox")
        .base_url(sb.base_url(Vendor::Bazhuayu))
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let mut pages = client.data_by_offset(BIG).page_size(1000).pages();
    let first = pages.next().await.unwrap().unwrap();
    sb.add_fault(
        FaultRule::new(FaultKind::Http503)
            .vendor(Vendor::Bazhuayu)
            .route("/api/alldata/*")
            .limit(1),
    );
    let err = pages.next().await.unwrap().unwrap_err();
    let Error::Flow(Flow::Stream { resume_offset, .. }) = err else {
        panic!("{err:?}")
    };
    assert_eq!(Some(resume_offset), first.next);
    let resumed = client
        .data_by_offset(BIG)
        .page_size(1000)
        .start_at(resume_offset)
        .next()
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        index(&resumed),
        1000,
        "resumes exactly after the last row received"
    );
}

/// Rows keep the service's field order; a stream asks for 1000 rows a request by default and
/// can be spawned; an unknown task is `NotFound` naming the task, not a broken stream.
#[tokio::test]
async fn rows_keep_their_order_and_an_unknown_task_is_not_a_broken_stream() {
    let sb = sandbox(Duration::from_secs(60)).await;
    let client = client(&sb);
    let rows = tokio::spawn(client.data_by_offset(SMALL).try_collect::<Vec<_>>())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rows.len(), 2_500);
    let keys: Vec<&str> = rows[0].keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        ["词条", "简介", "序号"],
        "the service's order, not sorted"
    );
    let requests = sb
        .vendor::<clawkit_sandbox::bazhuayu::Bazhuayu>()
        .stats
        .requests
        .load(Ordering::Relaxed);
    assert_eq!(requests, 4, "three pages of 1000 and one empty page");

    let err = client
        .data_by_offset("no-such-task")
        .next()
        .await
        .unwrap()
        .unwrap_err();
    match err.api() {
        Some(api) if api.reason == Reason::NotFound => {
            assert!(api.message.contains("no-such-task"), "{err}");
            assert!(api.message.contains("Client::tasks"), "{err}");
        }
        _ => panic!("{err:?}"),
    }
    assert!(!err.to_string().contains("resume"), "{err}");
}
