//! The CoreClaw facade against the in-process sandbox: every flow, every error code, every fault.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use clawkit::RetryPolicy;
use clawkit::coreclaw::{
    Client, Error, ExportFormat, Flow, Reason, RunStatus, WaitOptions, webhook,
};
use clawkit_sandbox::{FaultKind, FaultRule, Sandbox, Vendor};
use futures::{StreamExt, TryStreamExt};
use serde::Deserialize;
use serde_json::{Map, Value, json};

/// What an error answer's code means, if the call failed with one.
fn reason<T>(result: Result<T, Error>) -> Option<Reason> {
    result.err().and_then(|e| e.reason())
}

const AMAZON: &str = "01KNXSHE0Y7DZKF1N8B1EMFX35";
const LOAD: &str = "01KSBXLOADGEN0000000000001";

async fn sandbox(run_ms: u64) -> Sandbox {
    Sandbox::builder()
        .configure(|c: &mut clawkit_sandbox::coreclaw::Config| {
            c.run_duration = Duration::from_millis(run_ms)
        })
        .start()
        .await
        .unwrap()
}

fn fast_wait() -> WaitOptions {
    WaitOptions {
        initial_interval: Duration::from_millis(20),
        factor: 1.5,
        max_interval: Duration::from_millis(100),
        timeout: Duration::from_secs(20),
        not_found_grace: Duration::from_secs(2),
        forward_logs: true,
        aborting_grace: Duration::from_millis(150),
    }
}

fn client(sb: &Sandbox) -> Client {
    Client::builder()
        .api_key("sandbox-key")
        .base_url(sb.base_url(Vendor::Coreclaw))
        .retry(RetryPolicy::fast())
        .wait(fast_wait())
        .build()
        .unwrap()
}

fn url(i: usize) -> Value {
    json!({"url": format!("https://www.amazon.com/dp/B0CHHSF{i:03}")})
}

#[derive(Debug, Deserialize, PartialEq)]
struct LoadItem {
    index: u64,
    name: String,
    value: f64,
}

#[tokio::test]
async fn the_guide_workflow_in_a_few_lines() {
    let sb = sandbox(200).await;
    let client = client(&sb);
    let found = client.search("amazon", 5).await.unwrap();
    assert_eq!(found[0].slug, AMAZON);

    let worker = client.worker(AMAZON).await.unwrap();
    assert_eq!(worker.version, "v1.0.1");
    let before = client.account().await.unwrap();

    let input = worker
        .input()
        .set("urls", (0..3).map(url).collect::<Vec<_>>())
        .build()
        .unwrap();
    let (run, record) = client.call(&worker, input).await.unwrap();
    assert_eq!(record.status, RunStatus::Succeeded);
    assert_eq!(record.results, 3);
    assert_eq!(record.worker_slug.as_deref(), Some(AMAZON));

    let items: Vec<Map<String, Value>> = run.items().try_collect().await.unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(items[1]["url"], "https://www.amazon.com/dp/B0CHHSF001");

    let mut csv = Vec::new();
    let written = run.export(ExportFormat::Csv, &mut csv).await.unwrap();
    assert_eq!(written as usize, csv.len());
    let text = String::from_utf8(csv).unwrap();
    assert_eq!(text.lines().count(), 4);
    assert!(text.starts_with("url,asin,title"));
    let mut json_file = Vec::new();
    run.export_keys(ExportFormat::Json, &["asin"], &mut json_file)
        .await
        .unwrap();
    let parsed: Vec<Value> = serde_json::from_slice(&json_file).unwrap();
    assert_eq!(parsed[0].as_object().unwrap().len(), 1);

    let after = client.account().await.unwrap();
    assert_eq!(
        before.balance - record.usage,
        after.balance,
        "exact decimal arithmetic"
    );
    assert!(after.traffic_bytes.unwrap() < before.traffic_bytes.unwrap());
    assert!(after.traffic_expires_at.is_some());

    let mine: Vec<_> = client
        .runs(Some(AMAZON), Some(RunStatus::Succeeded))
        .try_collect()
        .await
        .unwrap();
    assert!(mine.iter().any(|r| r.slug == run.slug()));
    assert!(mine.iter().all(|r| r.status == RunStatus::Succeeded));
}

#[tokio::test]
async fn a_hand_guessed_input_never_leaves_the_machine() {
    let sb = sandbox(200).await;
    let client = client(&sb);
    let worker = client.worker(AMAZON).await.unwrap();
    let err = worker
        .input()
        .set("startURLs", [json!({"url": "https://example.com"})])
        .build()
        .unwrap_err();
    let Error::Flow(Flow::InvalidInput(problems)) = &err else {
        panic!("{err:?}")
    };
    let text = problems.to_string();
    assert!(
        text.contains("`startURLs`: unknown field; did you mean `urls`?"),
        "{text}"
    );
    assert!(text.contains("`urls`: required field is missing"), "{text}");
    // nothing was started
    let runs: Vec<_> = client.runs(Some(AMAZON), None).try_collect().await.unwrap();
    assert_eq!(runs.len(), 1, "only the guide's seeded run");

    // a hand-made Input that skips the builder still gets the service's 4000, typed
    let mut forged = worker.input().set("urls", [url(0)]).build().unwrap();
    forged.custom.insert("startURLs".into(), json!([]));
    match client.start(&worker, forged).await {
        Err(Error::Api(e)) if e.reason == Reason::InvalidParams => {
            assert!(e.message.contains("startURLs"), "{}", e.message)
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn sync_runs_callbacks_logs_reruns_and_tasks() {
    let sb = sandbox(200).await;
    let client = client(&sb);
    let load = client.worker(LOAD).await.unwrap();
    let sync = client
        .run_sync(&load, load.input().set("count", 420).build().unwrap())
        .await
        .unwrap();
    let (run, record) = (sync.run.clone(), sync.record.clone());
    assert_eq!((record.status, record.results), (RunStatus::Succeeded, 420));
    // The answer carried the first 100 results directly; the stream reads them all.
    assert_eq!((sync.items.len(), sync.total), (100, 420));
    assert_eq!(sync.items[99]["index"], 99);

    // the completion webhook, received and parsed
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: axum::body::Bytes| {
            let sink = sink.clone();
            async move {
                sink.lock().unwrap().push(webhook::parse(&body).unwrap());
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let hooked = client
        .start(&load, load.input().set("count", 5).build().unwrap())
        .callback_url(&hook)
        .await
        .unwrap();
    hooked.wait().await.unwrap();
    for _ in 0..100 {
        if !events.lock().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let event = events.lock().unwrap()[0].clone();
    assert_eq!(
        (event.run_slug.as_str(), event.status, event.results),
        (hooked.slug(), RunStatus::Succeeded, 5)
    );

    let log = run.log().await.unwrap();
    assert!(log.entries.len() >= 3);
    assert_eq!(log.result_count, 420);
    let mut full = Vec::new();
    run.full_log(&mut full).await.unwrap();
    assert!(String::from_utf8(full).unwrap().contains("Run succeeded"));

    let again = run.rerun(&hook).await.unwrap();
    assert_ne!(again.slug(), run.slug());
    assert_eq!(again.wait().await.unwrap().results, 420);
    let task = client
        .run_task("01KK0G4W9W4JYTWEA55KMG5QKP", &hook)
        .await
        .unwrap();
    assert_eq!(task.wait().await.unwrap().results, 2);
}

#[tokio::test]
async fn every_error_code_is_typed() {
    let sb = sandbox(200).await;
    let client = client(&sb);
    let wrong_key = Client::builder()
        .api_key("wrong")
        .base_url(sb.base_url(Vendor::Coreclaw))
        .retry(RetryPolicy::fast())
        .build()
        .unwrap();
    assert_eq!(
        reason(wrong_key.account().await),
        Some(Reason::InvalidApiKey)
    );
    assert_eq!(
        reason(client.worker("01NOSUCHWORKER").await),
        Some(Reason::WorkerNotFound)
    );
    assert_eq!(
        reason(client.run("01KNOSUCHRUN").detail().await),
        Some(Reason::RunNotFound)
    );
    assert_eq!(
        reason(
            client
                .run_task("01KNOSUCHTASK", "http://127.0.0.1:9/x")
                .await
        ),
        Some(Reason::TaskNotFound)
    );
    match client.run("01KSFDS8XWTJME33C08XMCR6B9").abort().await {
        Err(e) if e.reason() == Some(Reason::AbortFailed) => assert_eq!(e.code(), Some(70002)),
        other => panic!("{other:?}"),
    }
    match client.search("", 5).await {
        Err(Error::InvalidArgument(message)) => assert!(message.contains("search")),
        other => panic!("{other:?}"),
    }

    let poor = Sandbox::builder()
        .configure(|c: &mut clawkit_sandbox::coreclaw::Config| c.initial_balance(0.0))
        .start()
        .await
        .unwrap();
    let poor_client = self::client(&poor);
    let worker = poor_client.worker(AMAZON).await.unwrap();
    let input = worker.input().set("urls", [url(0)]).build().unwrap();
    assert_eq!(
        reason(poor_client.start(&worker, input).await),
        Some(Reason::InsufficientBalance)
    );

    // a wait that times out keeps the run slug, so the caller can resume
    let slow = sandbox(60_000).await;
    let slow_client = self::client(&slow);
    let load = slow_client.worker(LOAD).await.unwrap();
    let run = slow_client
        .start(&load, load.input().set("count", 10).build().unwrap())
        .await
        .unwrap();
    let err = run
        .wait_with(WaitOptions {
            timeout: Duration::from_millis(100),
            ..fast_wait()
        })
        .await
        .unwrap_err();
    assert_eq!(err.run_slug(), Some(run.slug()));
    assert!(matches!(err, Error::Flow(Flow::Timeout { .. })));
    let resumed = slow_client.run(err.run_slug().unwrap());
    resumed.abort().await.unwrap();
    // 5 is "aborting", not final: a short grace returns it as it is, a longer one sees it end.
    let stopping = resumed.wait().await.unwrap();
    assert_eq!(stopping.status, RunStatus::Aborting);
    assert!(stopping.is_aborting() && !stopping.is_final());
    let ended = resumed
        .wait_with(WaitOptions {
            aborting_grace: Duration::from_secs(10),
            ..fast_wait()
        })
        .await
        .unwrap();
    assert_eq!(ended.status, RunStatus::Failed);
    assert_eq!(ended.err_msg, "Run aborted by the user.");
}

#[tokio::test]
async fn configuration_errors_are_clear() {
    let no_key = Client::builder().build().unwrap_err();
    assert!(no_key.to_string().contains("CORECLAW_API_KEY"), "{no_key}");
    let bad_url = Client::builder()
        .api_key("k")
        .base_url("not a url")
        .build()
        .unwrap_err();
    assert!(bad_url.to_string().contains("not a URL"), "{bad_url}");
    let bad_key = Client::builder().api_key("k\ney").build().unwrap_err();
    assert!(matches!(bad_key, Error::Config(_)));
}

#[tokio::test]
async fn secrets_never_show() {
    let secret = "sk-very-secret-value";
    let builder = Client::builder()
        .api_key(secret)
        .base_url("http://127.0.0.1:9")
        .retry(RetryPolicy::none());
    let client = builder.clone().build().unwrap();
    let err = client.account().await.unwrap_err();
    for text in [
        format!("{builder:?}"),
        format!("{client:?}"),
        format!("{err:?}"),
        format!("{err}"),
    ] {
        assert!(!text.contains(secret), "secret leaked in: {text}");
    }
}

/// Reads (wait, pages) survive every fault kind; a start survives a rate limit without creating
/// a second run.
#[tokio::test]
async fn the_flow_completes_under_every_fault_kind() {
    let kinds = [
        FaultKind::Http429 {
            retry_after_secs: 0,
        },
        FaultKind::Code4290,
        FaultKind::Http503,
        FaultKind::Latency { ms: 30 },
        FaultKind::ResetMidBody,
        FaultKind::TruncatedJson,
        FaultKind::SlowBody {
            chunk_delay_ms: 1,
            chunk_size: 256,
        },
    ];
    for kind in kinds {
        let sb = sandbox(150).await;
        let client = client(&sb);
        let load = client.worker(LOAD).await.unwrap();
        sb.add_fault(
            FaultRule::new(kind.clone())
                .vendor(Vendor::Coreclaw)
                .route("/api/v1/run/*")
                .every(2),
        );
        let run = client
            .start(&load, load.input().set("count", 2_345).build().unwrap())
            .await
            .unwrap();
        let record = run
            .wait()
            .await
            .unwrap_or_else(|e| panic!("{kind:?}: wait failed: {e}"));
        assert_eq!(record.results, 2_345, "{kind:?}");
        let items: Vec<LoadItem> = run
            .items_as(500, 0)
            .try_collect()
            .await
            .unwrap_or_else(|e| panic!("{kind:?}: items failed: {e}"));
        assert!(
            items.iter().enumerate().all(|(i, it)| it.index == i as u64),
            "{kind:?}: order or gaps"
        );
        assert_eq!(items.len(), 2_345, "{kind:?}");
        assert!(sb.faults()[0].hits > 0, "{kind:?} never hit");
    }

    // starting a run: a rate limit is retried (nothing was done), exactly one run exists after
    let sb = sandbox(100).await;
    let client = client(&sb);
    let load = client.worker(LOAD).await.unwrap();
    let count = || async {
        client
            .runs(Some(LOAD), None)
            .try_collect::<Vec<_>>()
            .await
            .unwrap()
            .len()
    };
    let before = count().await;
    sb.add_fault(
        FaultRule::new(FaultKind::Code4290)
            .route("/api/v1/scraper/run")
            .limit(2),
    );
    client
        .start(&load, load.input().set("count", 1).build().unwrap())
        .await
        .unwrap();
    assert_eq!(
        count().await,
        before + 1,
        "a retried start created exactly one run"
    );

    // a broken connection after the request was sent is not retried: the error says so
    sb.add_fault(
        FaultRule::new(FaultKind::ResetMidBody)
            .route("/api/v1/scraper/run")
            .limit(1),
    );
    let err = client
        .start(&load, load.input().set("count", 1).build().unwrap())
        .await
        .unwrap_err();
    assert!(err.is_retryable() && !err.nothing_was_done(), "{err:?}");
    assert_eq!(
        count().await,
        before + 2,
        "the run was created; check history before starting again"
    );

    // a rate limit that never ends is a typed error after the retries
    sb.add_fault(
        FaultRule::new(FaultKind::Http429 {
            retry_after_secs: 0,
        })
        .route("/api/v1/account/info"),
    );
    assert_eq!(reason(client.account().await), Some(Reason::RateLimited));
}

#[tokio::test]
async fn a_hundred_thousand_items_exactly_once_through_resets() {
    let sb = sandbox(50).await;
    let client = client(&sb);
    let load = client.worker(LOAD).await.unwrap();
    let run = client
        .start(&load, load.input().set("count", 100_000).build().unwrap())
        .await
        .unwrap();
    run.wait().await.unwrap();
    sb.add_fault(
        FaultRule::new(FaultKind::ResetMidBody)
            .route("/api/v1/run/result/list")
            .every(7),
    );
    let mut next = 0u64;
    let mut stream = run.items_as::<LoadItem>(1000, 0);
    while let Some(item) = stream.next().await {
        let item = item.unwrap();
        assert_eq!(item.index, next, "no item lost or repeated");
        assert_eq!(item.name, format!("item-{next}"));
        next += 1;
    }
    assert_eq!(next, 100_000);
    assert!(sb.faults()[0].hits >= 10);

    // resuming from a position yields the rest, exactly
    let tail: Vec<LoadItem> = run.items_as(1000, 99_990).try_collect().await.unwrap();
    assert_eq!(
        tail.iter().map(|i| i.index).collect::<Vec<_>>(),
        (99_990..100_000).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn an_export_that_breaks_off_resumes_and_is_byte_identical() {
    let sb = sandbox(20).await;
    let client = client(&sb);
    let load = client.worker(LOAD).await.unwrap();
    let (run, _) = client
        .call(&load, load.input().set("count", 30_000).build().unwrap())
        .await
        .unwrap();
    for format in [ExportFormat::Csv, ExportFormat::Json] {
        let mut whole = Vec::new();
        run.export(format, &mut whole).await.unwrap();
        // Each of the first three downloads is cut halfway through its body.
        sb.clear_faults();
        sb.add_fault(
            FaultRule::new(FaultKind::ResetMidBody)
                .vendor(Vendor::Coreclaw)
                .route("/_sandbox/exports/*")
                .limit(3),
        );
        let mut resumed = Vec::new();
        let written = run.export(format, &mut resumed).await.unwrap();
        assert_eq!(sb.faults()[0].hits, 3, "{format:?}");
        assert_eq!(written, whole.len() as u64);
        assert!(resumed == whole, "{format:?}: not byte-identical");
        // Halves of halves: 1/2, 3/4, 7/8 were written before each cut, never written twice.
        assert!(whole.len() > 1_000_000, "{}", whole.len());
    }
}

#[tokio::test]
async fn decoding_into_the_wrong_type_names_the_item_and_field() {
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Wrong {
        index: String,
    }
    let sb = sandbox(20).await;
    let client = client(&sb);
    let load = client.worker(LOAD).await.unwrap();
    let (run, _) = client
        .call(&load, load.input().set("count", 3).build().unwrap())
        .await
        .unwrap();
    let first = run
        .items_as::<Wrong>(10, 0)
        .next()
        .await
        .unwrap()
        .unwrap_err();
    match first {
        Error::Decode { path, .. } => assert_eq!(path, "item 0: index"),
        other => panic!("{other:?}"),
    }
}

/// Streams ask for the largest page CoreClaw allows (1000), keep the Worker's field order, own
/// their client handle (they can be spawned), and a page size out of range is an
/// `InvalidArgument` naming the field.
#[tokio::test]
async fn streams_use_the_largest_page_keep_field_order_and_can_be_spawned() {
    let sb = sandbox(20).await;
    let client = client(&sb);
    let load = client.worker(LOAD).await.unwrap();
    let (run, _) = client
        .call(&load, load.input().set("count", 2_345).build().unwrap())
        .await
        .unwrap();
    // a rule that never fires, to count the result requests
    sb.add_fault(
        FaultRule::new(FaultKind::Latency { ms: 0 })
            .vendor(Vendor::Coreclaw)
            .route("/api/v1/run/result/list"),
    );
    let items = tokio::spawn(run.items().try_collect::<Vec<_>>())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(items.len(), 2_345);
    assert_eq!(
        sb.faults()[0].seen,
        4,
        "three pages of 1000 and one to confirm the end (not 25 of 100)"
    );
    let amazon = client.worker(AMAZON).await.unwrap();
    let (run_a, _) = client
        .call(
            &amazon,
            amazon.input().set("urls", [url(0)]).build().unwrap(),
        )
        .await
        .unwrap();
    let first = run_a.items().next().await.unwrap().unwrap();
    let keys: Vec<&str> = first.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "__coreclaw_data_id__",
            "url",
            "asin",
            "title",
            "price",
            "currency",
            "rating",
            "reviews",
            "in_stock"
        ],
        "the Worker's order, not sorted"
    );

    let err = run.items_from(0, 0).next().await.unwrap().unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err:?}");
    assert!(
        err.to_string()
            .contains("page_size: expected 1 to 1000, got 0"),
        "{err}"
    );
    assert_eq!(err.kind(), clawkit::ErrorKind::InvalidInput);
}
