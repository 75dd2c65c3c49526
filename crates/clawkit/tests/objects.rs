//! Object storage destinations (feature `object-store`): CoreClaw exports streamed to an object
//! (resumed through broken downloads, byte-identical) and Bazhuayu's export pipeline writing one
//! part per batch, exactly once across a crash. Against `file://` always; against a real
//! S3-compatible server with `contract/s3.sh cargo test -p clawkit --test objects -- --ignored`
//! (moto from PyPI; CI runs it).

use std::time::Duration;

use clawkit::RetryPolicy;
use clawkit::bazhuayu::ObjectSink;
use clawkit::coreclaw::ExportFormat;
use clawkit::objects::Objects;
use clawkit_sandbox::{FaultKind, FaultRule, Sandbox, Vendor};
use serde_json::{Map, Value};

const LOAD: &str = "01KSBXLOADGEN0000000000001";
const SMALL: &str = "337fd7d7-aded-4081-9104-2b551161ccc8"; // 2,500 rows

async fn coreclaw_export_to(prefix: &str) {
    let sb = Sandbox::builder()
        .configure(|c: &mut clawkit_sandbox::coreclaw::Config| {
            c.run_duration = Duration::from_millis(20)
        })
        .start()
        .await
        .unwrap();
    let client = clawkit::coreclaw::Client::builder()
        .api_key("sandbox-key")
        .base_url(sb.base_url(Vendor::Coreclaw))
        .retry(RetryPolicy::fast())
        .build()
        .unwrap();
    let load = client.worker(LOAD).await.unwrap();
    let (run, _) = client
        .call(&load, load.input().set("count", 170_000).build().unwrap())
        .await
        .unwrap();
    let mut whole = Vec::new();
    run.export(ExportFormat::Csv, &mut whole).await.unwrap();
    assert!(whole.len() > 6 * 1024 * 1024, "more than one part");
    sb.add_fault(
        FaultRule::new(FaultKind::ResetMidBody)
            .vendor(Vendor::Coreclaw)
            .route("/_sandbox/exports/*")
            .limit(2),
    );
    let url = format!("{prefix}run.csv");
    let written = run.export_to(ExportFormat::Csv, &url).await.unwrap();
    assert_eq!(written, whole.len() as u64);
    assert_eq!(sb.faults()[0].hits, 2);
    let stored = Objects::open(prefix).unwrap().get("run.csv").await.unwrap();
    assert!(stored[..] == whole[..], "the object is byte-identical");

    // The items as JSON Lines, read ahead through result pages that fail now and then.
    sb.clear_faults();
    sb.add_fault(
        FaultRule::new(FaultKind::Code4290)
            .vendor(Vendor::Coreclaw)
            .route("/api/v1/run/result/list")
            .every(5),
    );
    let url = format!("{prefix}items.jsonl");
    assert_eq!(run.items_to(&url).await.unwrap(), 170_000);
    let stored = Objects::open(prefix)
        .unwrap()
        .get("items.jsonl")
        .await
        .unwrap();
    let mut next = 0u64;
    for line in stored.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let item: Map<String, Value> = serde_json::from_slice(line).unwrap();
        assert_eq!(item["index"], next, "in order, exactly once");
        next += 1;
    }
    assert_eq!(next, 170_000);
    assert!(sb.faults()[0].hits > 0);

    // A destination that is not one is named, before anything is exported.
    let e = run
        .export_to(ExportFormat::Csv, "s3://bucket-without-key")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("s3://BUCKET/KEY"), "{e}");
}

async fn bazhuayu_parts(prefix: &str) {
    let sb = Sandbox::builder().start().await.unwrap();
    let client = clawkit::bazhuayu::Client::builder()
        .credentials("sandbox", "sandbox")
        .base_url(sb.base_url(Vendor::Bazhuayu))
        .retry(RetryPolicy::fast())
        .build()
        .unwrap();
    {
        // Two batches, then a crash after the third part was written but before its mark.
        let mut sink = ObjectSink::open(prefix).await.unwrap();
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
                Err::<(), Box<dyn std::error::Error + Send + Sync>>("crash after writing".into())
            })
            .await;
        assert!(crashed.is_err());
    }
    // A new process: the parts already there are read; the re-delivered batch is recognised.
    let mut sink = ObjectSink::open(prefix).await.unwrap();
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
    let objects = Objects::open(prefix).unwrap();
    let names = objects.names().await.unwrap();
    assert_eq!(names.len(), 7, "2,500 rows in parts of 400: {names:?}");
    assert!(names[0].starts_with("part-00000001-") && names[6].starts_with("part-00000007-"));
    let mut rows = Vec::new();
    for name in &names {
        let bytes = objects.get(name).await.unwrap();
        for line in bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            let row: Map<String, Value> = serde_json::from_slice(line).unwrap();
            rows.push(row["序号"].as_str().unwrap().parse::<u64>().unwrap());
        }
    }
    assert_eq!(
        rows,
        (0..2_500).collect::<Vec<_>>(),
        "every row once, in order"
    );
}

#[tokio::test]
async fn file_destinations() {
    let dir = std::env::temp_dir().join(format!("clawkit-objects-test-{}", std::process::id()));
    let prefix = format!("file://{}/", dir.display());
    coreclaw_export_to(&format!("{prefix}coreclaw/")).await;
    bazhuayu_parts(&format!("{prefix}bazhuayu/")).await;
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `contract/s3.sh` sets `CLAWKIT_TEST_BUCKET` and the `AWS_*` environment.
#[tokio::test]
#[ignore = "needs an S3-compatible server: contract/s3.sh cargo test -p clawkit --test objects -- --ignored"]
async fn s3_destinations() {
    let bucket =
        std::env::var("CLAWKIT_TEST_BUCKET").expect("CLAWKIT_TEST_BUCKET (contract/s3.sh)");
    let prefix = format!("s3://{bucket}/objects-test-{}/", std::process::id());
    coreclaw_export_to(&format!("{prefix}coreclaw/")).await;
    bazhuayu_parts(&format!("{prefix}bazhuayu/")).await;
}
