//! The CoreClaw facade's whole flow, run through Prism (`contract/prism.sh` sets
//! `CLAWKIT_PRISM_CORECLAW` to a Prism proxy in front of the sandbox, started with `--errors`, so
//! any request or response that breaks the spec fails the call). Without the variable the same
//! flow runs against an in-process sandbox.

use std::time::Duration;

use clawkit::RetryPolicy;
use clawkit::coreclaw::{Client, ExportFormat, RunStatus, WaitOptions};
use clawkit_sandbox::{Sandbox, Vendor};
use futures::TryStreamExt;
use serde_json::json;

#[tokio::test]
async fn the_facade_flow_stays_inside_the_spec() {
    let (_sandbox, base) = match std::env::var("CLAWKIT_PRISM_CORECLAW") {
        Ok(url) => (None, url),
        Err(_) => {
            let sb = Sandbox::builder()
                .configure(|c: &mut clawkit_sandbox::coreclaw::Config| {
                    c.run_duration = Duration::from_millis(300)
                })
                .start()
                .await
                .unwrap();
            let base = sb.base_url(Vendor::Coreclaw);
            (Some(sb), base)
        }
    };
    let client = Client::builder()
        .api_key("sandbox-key")
        .base_url(base)
        .retry(RetryPolicy::none())
        .wait(WaitOptions {
            initial_interval: Duration::from_millis(100),
            timeout: Duration::from_secs(30),
            ..WaitOptions::default()
        })
        .build()
        .unwrap();
    assert!(!client.search("amazon", 3).await.unwrap().is_empty());
    let worker = client.worker("01KNXSHE0Y7DZKF1N8B1EMFX35").await.unwrap();
    let input = worker
        .input()
        .set(
            "urls",
            [json!({"url": "https://www.amazon.com/dp/B0CHHSFMRL"})],
        )
        .build()
        .unwrap();
    let (run, record) = client.call(&worker, input).await.unwrap();
    assert_eq!(record.status, RunStatus::Succeeded);
    let items: Vec<_> = run.items().try_collect().await.unwrap();
    assert_eq!(items.len(), 1);
    let mut csv = Vec::new();
    run.export(ExportFormat::Csv, &mut csv).await.unwrap();
    assert_eq!(String::from_utf8(csv).unwrap().lines().count(), 2);
    assert!(!run.log().await.unwrap().entries.is_empty());
    let history: Vec<_> = client
        .runs(None, Some(RunStatus::Succeeded))
        .try_collect()
        .await
        .unwrap();
    assert!(history.iter().any(|r| r.slug == run.slug()));
    client.account().await.unwrap();
    let load = client.worker("01KSBXLOADGEN0000000000001").await.unwrap();
    let long = client
        .start(&load, load.input().set("count", 5).build().unwrap())
        .await
        .unwrap();
    long.abort().await.unwrap();
    // it reports 5 (aborting) while it stops, then ends as 4; aborting it then is 70002 with the
    // documented envelope
    assert_eq!(long.wait().await.unwrap().status, RunStatus::Failed);
    assert!(long.abort().await.is_err());
    let again = run.rerun("http://127.0.0.1:9/hook").await.unwrap();
    assert_ne!(again.slug(), run.slug());
    let task = client
        .run_task("01KK0G4W9W4JYTWEA55KMG5QKP", "http://127.0.0.1:9/hook")
        .await
        .unwrap();
    assert!(!task.slug().is_empty());
}
