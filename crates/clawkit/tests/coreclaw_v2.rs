//! The CoreClaw facade over API v2 against the sandbox: the same vocabulary as v1, the v2-only
//! methods, and one state shared with v1.

use std::time::Duration;

use clawkit::RetryPolicy;
use clawkit::coreclaw::{
    ApiVersion, Client, Error, ExportFormat, Flow, NewTask, Reason, RunStatus, Schedule,
    TaskUpdate, WaitOptions,
};
use clawkit_sandbox::{Sandbox, Vendor};
use futures::TryStreamExt;
use serde_json::{Map, Value, json};

const AMAZON: &str = "01KNXSHE0Y7DZKF1N8B1EMFX35";
const LOAD: &str = "01KSBXLOADGEN0000000000001";

async fn sandbox() -> Sandbox {
    Sandbox::builder()
        .configure(|c: &mut clawkit_sandbox::coreclaw::Config| {
            c.run_duration = Duration::from_millis(200)
        })
        .start()
        .await
        .unwrap()
}

fn client(sb: &Sandbox, api: ApiVersion) -> Client {
    Client::builder()
        .api_key("sandbox-key")
        .base_url(sb.base_url(Vendor::Coreclaw))
        .retry(RetryPolicy::fast())
        .api(api)
        .wait(WaitOptions {
            initial_interval: Duration::from_millis(20),
            max_interval: Duration::from_millis(100),
            aborting_grace: Duration::from_millis(150),
            ..WaitOptions::default()
        })
        .build()
        .unwrap()
}

#[tokio::test]
async fn the_guide_flow_through_v2_and_one_state_with_v1() {
    let sb = sandbox().await;
    let (v1, v2) = (client(&sb, ApiVersion::V1), client(&sb, ApiVersion::V2));
    assert_eq!(v2.api_version(), ApiVersion::V2);

    let found = v2.search("amazon", 5).await.unwrap();
    assert!(found.iter().any(|w| w.slug == AMAZON), "{found:?}");
    // v2's Worker carries its own JSON Schema, and validation uses it.
    let worker = v2.worker(AMAZON).await.unwrap();
    assert!(worker.input_schema.is_some());
    assert_eq!(worker.json_schema().as_value()["required"], json!(["urls"]));
    let bad = worker.input().set("urls", json!([{"link": "x"}])).build();
    assert!(
        matches!(bad, Err(Error::Flow(Flow::InvalidInput(_)))),
        "{bad:?}"
    );
    let input = worker
        .input()
        .set(
            "urls",
            json!([{"url": "https://www.amazon.com/dp/B0CHHSFMRL"}]),
        )
        .build()
        .unwrap();
    let run = v2.start(&worker, input).await.unwrap();
    let record = run.wait().await.unwrap();
    assert!(record.is_success(), "{record:?}");
    let items: Vec<Map<String, Value>> = run.items().try_collect().await.unwrap();
    assert_eq!(items.len(), 1);
    let mut csv = Vec::new();
    run.export(ExportFormat::Csv, &mut csv).await.unwrap();
    assert_eq!(String::from_utf8(csv).unwrap().lines().count(), 2);

    // The same run through v1, and v1's runs through v2.
    assert_eq!(
        v1.run(run.slug()).detail().await.unwrap().status,
        RunStatus::Succeeded
    );
    let history: Vec<_> = v2
        .runs(None, Some(RunStatus::Succeeded))
        .try_collect()
        .await
        .unwrap();
    assert!(
        history.len() >= 3,
        "the seeded v1 history is there too: {}",
        history.len()
    );
    assert_eq!(v2.last_run(None).await.unwrap().slug(), run.slug());
    assert_eq!(v2.last_run(Some(AMAZON)).await.unwrap().slug(), run.slug());

    // A synchronous run answers with its first results; 250 items stream in pages of 100.
    let load = v2.worker(LOAD).await.unwrap();
    let sync = v2
        .run_sync(&load, load.input().set("count", 250).build().unwrap())
        .await
        .unwrap();
    assert_eq!((sync.items.len(), sync.total), (100, 250));
    let all: Vec<Map<String, Value>> = sync.run.items().try_collect().await.unwrap();
    assert_eq!(all.len(), 250);
    assert!(
        all.iter()
            .enumerate()
            .all(|(i, item)| item["index"] == json!(i))
    );

    // Abort through v2, seen through v1 as aborting and then failed.
    let long = v2
        .start(&load, load.input().set("count", 50).build().unwrap())
        .await
        .unwrap();
    long.abort().await.unwrap();
    let ended = v1.run(long.slug()).wait().await.unwrap();
    assert_eq!(ended.status, RunStatus::Failed);
    let log = long.log().await.unwrap();
    assert!(
        log.entries.iter().any(|e| e.content.contains("Aborting")),
        "{log:?}"
    );

    let account = v2.account().await.unwrap();
    assert!(account.traffic_bytes.is_none() && account.balance_expires_at.is_some());
    let regions = v2.proxy_regions(Some("zh")).await.unwrap();
    assert!(regions.iter().any(|r| r.code == "US" && r.name == "美国"));
    let missing = v2.run("NOPE").detail().await;
    assert!(
        matches!(&missing, Err(e) if e.reason() == Some(Reason::RunNotFound)),
        "{missing:?}"
    );
}

#[tokio::test]
async fn worker_tasks_through_the_facade() {
    let sb = sandbox().await;
    let (v1, v2) = (client(&sb, ApiVersion::V1), client(&sb, ApiVersion::V2));
    // Tasks are v2-only, so they work from a client whose vocabulary is v1's too.
    let worker = v1.worker(LOAD).await.unwrap();
    let input = worker.input().set("count", 7).build().unwrap();
    let slug = v1
        .create_task(
            &worker,
            &input,
            &NewTask {
                title: "Nightly load".into(),
                description: Some("seven items".into()),
                schedule: Some(Schedule::Weekly {
                    weekday: 3,
                    time: "02:30".into(),
                }),
            },
        )
        .await
        .unwrap();
    let task = v2.task(&slug).await.unwrap();
    assert_eq!(task.title, "Nightly load");
    assert_eq!(
        task.schedule,
        Some(Schedule::Weekly {
            weekday: 3,
            time: "02:30".into()
        })
    );
    let listed: Vec<_> = v2
        .tasks(Some(LOAD), Some("nightly"))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    v2.update_task(
        &slug,
        &TaskUpdate {
            title: Some("Nightly".into()),
            unschedule: true,
            ..TaskUpdate::default()
        },
    )
    .await
    .unwrap();
    let task = v2.task(&slug).await.unwrap();
    assert_eq!((task.title.as_str(), task.schedule), ("Nightly", None));
    v2.set_task_input(&slug, &worker.input().set("count", 9).build().unwrap())
        .await
        .unwrap();
    let (saved, _) = v2.task_input(&slug).await.unwrap();
    assert_eq!(saved["parameters"]["custom"]["count"], 9);
    let run = v2.start_task(&slug, None).await.unwrap();
    assert_eq!(run.wait().await.unwrap().results, 9);
    // v1's task/run runs it too.
    let again = v1
        .run_task(&slug, "https://example.com/hook")
        .await
        .unwrap();
    assert_eq!(again.wait().await.unwrap().results, 9);
    v2.delete_task(&slug).await.unwrap();
    assert_eq!(
        v2.task(&slug).await.err().and_then(|e| e.reason()),
        Some(Reason::TaskNotFound)
    );
    let bad = v2
        .update_task(
            &slug,
            &TaskUpdate {
                title: Some(String::new()),
                ..TaskUpdate::default()
            },
        )
        .await;
    assert!(
        matches!(
            bad,
            Err(ref e) if matches!(e.reason(), Some(Reason::InvalidParams | Reason::TaskNotFound))
        ),
        "{bad:?}"
    );
}
