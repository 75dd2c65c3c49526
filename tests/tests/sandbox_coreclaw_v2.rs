//! CoreClaw's v2 API in the sandbox, with plain HTTP, over the same state as v1. Every JSON
//! response is checked against the merged v2 spec (or v1's, for v1 calls).

use std::time::{Duration, Instant};

use clawkit_sandbox::coreclaw::API_KEY as CORECLAW_API_KEY;
use clawkit_sandbox::{Sandbox, Vendor};
use clawkit_tests::http::Api;
use serde_json::{Value, json};

const AMAZON: &str = "01KNXSHE0Y7DZKF1N8B1EMFX35";
const LOAD: &str = "01KSBXLOADGEN0000000000001";

async fn sandbox() -> Sandbox {
    Sandbox::builder()
        .configure(|c: &mut clawkit_sandbox::coreclaw::Config| {
            c.run_duration = Duration::from_millis(300)
        })
        .start()
        .await
        .expect("the sandbox starts")
}

fn v1(sandbox: &Sandbox) -> Api {
    Api::new(
        "coreclaw",
        &sandbox.base_url(Vendor::Coreclaw),
        &[("api-key", CORECLAW_API_KEY)],
    )
}

fn v2(sandbox: &Sandbox) -> Api {
    let bearer = format!("Bearer {CORECLAW_API_KEY}");
    Api::new(
        "coreclaw-v2",
        &sandbox.base_url(Vendor::Coreclaw),
        &[("authorization", &bearer)],
    )
}

async fn v2_final(api: &Api, run: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let reply = api.get(&format!("/api/v2/worker-runs/{run}")).await;
        assert_eq!(reply.code(), 0, "{}", reply.body);
        let status = reply.data()["status"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if status == "succeeded" || status == "failed" {
            return reply.data().clone();
        }
        assert!(
            Instant::now() < deadline,
            "run {run} did not end: {}",
            reply.body
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_run_started_through_v1_is_the_same_run_through_v2() {
    let sandbox = sandbox().await;
    let (v1, v2) = (v1(&sandbox), v2(&sandbox));
    let started = v1
        .post(
            "/api/v1/scraper/run",
            json!({"scraper_slug": LOAD, "version": "v1.0.0", "is_async": true,
                   "input": {"parameters": {"system": {"cpus": 0.125, "memory": 512},
                                            "custom": {"count": 25}}}}),
        )
        .await;
    assert_eq!(started.code(), 0, "{}", started.body);
    let run = started.data()["run_slug"].as_str().unwrap().to_string();

    // The newest run, through both of v2's "last" routes and the run list.
    let last = v2.get("/api/v2/worker-runs/last").await;
    assert_eq!(last.data()["slug"], json!(run));
    let path = v2.get("/api/v2/workers").await.data()["scraper"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["slug"] == json!(LOAD))
        .map(|w| w["path"].as_str().unwrap().to_string())
        .unwrap();
    assert!(path.starts_with("coreclaw~"), "{path}");
    let by_path = v2.get(&format!("/api/v2/workers/{path}/runs/last")).await;
    assert_eq!(by_path.data()["slug"], json!(run));
    let listed = v2
        .get(&format!("/api/v2/worker-runs?worker_id={LOAD}&limit=1"))
        .await;
    assert_eq!(listed.data()["list"][0]["slug"], json!(run));

    let done = v2_final(&v2, &run).await;
    assert_eq!(done["status"], "succeeded");
    assert_eq!(done["results"], 25);
    // Results through v2 (offset/limit) equal v1's page.
    let page = v2
        .get(&format!(
            "/api/v2/worker-runs/{run}/result?offset=20&limit=10"
        ))
        .await;
    assert_eq!(page.data()["count"], 25);
    assert_eq!(page.data()["list"].as_array().unwrap().len(), 5);
    let v1_page = v1
        .post(
            "/api/v1/run/result/list",
            json!({"run_slug": run, "page_index": 3, "page_size": 10}),
        )
        .await;
    assert_eq!(page.data()["list"], v1_page.data()["list"]);

    // A v2 export in JSON Lines holds every result once.
    let link = v2
        .get(&format!(
            "/api/v2/worker-runs/{run}/result/export?format=JSONL&filter_keys=index"
        ))
        .await;
    let url = link.data()["download_url"].as_str().unwrap().to_string();
    let text = reqwest::get(&url).await.unwrap().text().await.unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 25);
    assert_eq!(lines[24], json!({"index": 24}));
    let xlsx = v2
        .get(&format!(
            "/api/v2/worker-runs/{run}/result/export?format=xlsx"
        ))
        .await;
    assert_eq!((xlsx.status, xlsx.code()), (400, 11000));
    assert!(xlsx.message().contains("format"), "{}", xlsx.message());

    // Rerun through v2, abort through v2, and v1 sees it aborting, then failed.
    let again = v2
        .post(
            &format!("/api/v2/worker-runs/{run}/rerun"),
            json!({"is_async": true}),
        )
        .await;
    let again = again.data()["run_slug"].as_str().unwrap().to_string();
    assert_ne!(again, run);
    let aborted = v2.post("/api/v2/worker-runs/last/abort", json!({})).await;
    assert_eq!(aborted.code(), 0, "{}", aborted.body);
    let detail = v1
        .post("/api/v1/run/detail", json!({"run_slug": again}))
        .await;
    assert_eq!(detail.data()["status"], 5);
    assert_eq!(v2_final(&v2, &again).await["status"], "failed");
    let late = v2
        .post(&format!("/api/v2/worker-runs/{again}/abort"), json!({}))
        .await;
    assert_eq!((late.status, late.code()), (400, 70002));
    let log = v2.get(&format!("/api/v2/worker-runs/{again}/log")).await;
    assert!(
        log.data()["list"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l.as_str().unwrap().contains("Aborting"))
    );

    let missing = v2.get("/api/v2/worker-runs/NOPE").await;
    assert_eq!((missing.status, missing.code()), (404, 70001));
}

#[tokio::test]
async fn v2_takes_a_bearer_token_or_a_token_parameter_and_nothing_else() {
    let sandbox = sandbox().await;
    let base = sandbox.base_url(Vendor::Coreclaw);
    let http = reqwest::Client::new();
    let account = format!("{base}/api/v2/users/account");
    let none = http.get(&account).send().await.unwrap();
    assert_eq!(none.status(), 401);
    assert_eq!(none.json::<Value>().await.unwrap()["code"], 12001);
    let wrong = http.get(&account).bearer_auth("nope").send().await.unwrap();
    assert_eq!(wrong.json::<Value>().await.unwrap()["code"], 12002);
    let query = http
        .get(format!("{account}?token={CORECLAW_API_KEY}"))
        .send()
        .await
        .unwrap();
    assert_eq!(query.status(), 200);
    let body: Value = query.json().await.unwrap();
    assert!(
        body["data"]["balance"].as_str().unwrap().contains('.'),
        "{body}"
    );
    // v1's header is not v2's credential.
    let v1_key = http
        .get(&account)
        .header("api-key", CORECLAW_API_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(v1_key.status(), 401);
}

#[tokio::test]
async fn worker_tasks_are_saved_checked_run_and_deleted_and_v1_runs_them_too() {
    let sandbox = sandbox().await;
    let (v1, v2) = (v1(&sandbox), v2(&sandbox));
    let urls = json!([{"url": "https://www.amazon.com/dp/B0CHHSFMRL"}]);
    let bad = v2
        .post(
            "/api/v2/worker-tasks",
            json!({"worker_id": AMAZON, "title": "bad", "input": {"urls": "not a list"}}),
        )
        .await;
    assert_eq!((bad.status, bad.code()), (400, 11000));
    assert!(bad.message().contains("urls"), "{}", bad.message());
    let unknown = v2
        .post(
            "/api/v2/worker-tasks",
            json!({"worker_id": "nobody~nothing", "title": "t", "input": {}}),
        )
        .await;
    assert_eq!((unknown.status, unknown.code()), (404, 50001));

    let created = v2
        .post(
            "/api/v2/worker-tasks",
            json!({"worker_id": AMAZON, "title": "Daily phone", "input": {"urls": urls},
                   "schedule_enabled": 1, "schedule_type": 1, "schedule_time": "09:30"}),
        )
        .await;
    assert_eq!(created.code(), 0, "{}", created.body);
    let task = created.data()["slug"].as_str().unwrap().to_string();
    let read = v2.get(&format!("/api/v2/worker-tasks/{task}")).await;
    assert_eq!(read.data()["schedule_time"], "09:30");
    assert_eq!(read.data()["worker_slug"], AMAZON);
    let renamed = v2
        .put(
            &format!("/api/v2/worker-tasks/{task}"),
            json!({"title": "Daily", "schedule_time": "25:00"}),
        )
        .await;
    assert_eq!(renamed.code(), 11000, "{}", renamed.body);
    assert!(renamed.message().contains("schedule_time"));
    v2.put(
        &format!("/api/v2/worker-tasks/{task}"),
        json!({"title": "Daily"}),
    )
    .await;
    let two = json!({"urls": [urls[0].clone(), {"url": "https://www.amazon.com/dp/B09G9FPHY6"}]});
    let put = v2
        .put(
            &format!("/api/v2/worker-tasks/{task}/input"),
            json!({"input": two}),
        )
        .await;
    assert_eq!(put.code(), 0, "{}", put.body);
    let input = v2.get(&format!("/api/v2/worker-tasks/{task}/input")).await;
    assert_eq!(input.data()["input"], two);
    let listed = v2.get("/api/v2/worker-tasks?keyword=daily").await;
    assert_eq!(listed.data()["count"], 1);
    assert_eq!(listed.data()["list"][0]["title"], "Daily");

    // Run synchronously through v2: the answer carries the end and one page of results.
    let sync = v2
        .post(
            &format!("/api/v2/worker-tasks/{task}/runs"),
            json!({"is_async": false, "limit": 1, "offset": 1}),
        )
        .await;
    assert_eq!(sync.data()["status"], "succeeded", "{}", sync.body);
    assert_eq!(sync.data()["count"], 2);
    assert_eq!(sync.data()["list"].as_array().unwrap().len(), 1);
    // v1 runs the same saved task.
    let by_v1 = v1
        .post(
            "/api/v1/task/run",
            json!({"task_slug": task, "callback_url": "https://example.com/hook"}),
        )
        .await;
    assert_eq!(by_v1.code(), 0, "{}", by_v1.body);

    let gone = v2.delete(&format!("/api/v2/worker-tasks/{task}")).await;
    assert_eq!(gone.code(), 0);
    let again = v2.get(&format!("/api/v2/worker-tasks/{task}")).await;
    assert_eq!((again.status, again.code()), (404, 60001));
}

#[tokio::test]
async fn sync_runs_and_input_schemas() {
    let sandbox = sandbox().await;
    let (v1, v2) = (v1(&sandbox), v2(&sandbox));
    let schema = v2
        .get(&format!("/api/v2/workers/{AMAZON}/input-schema"))
        .await;
    let schema = &schema.data()["input_schema"];
    assert_eq!(schema["required"], json!(["urls"]));
    assert_eq!(
        schema["properties"]["urls"]["items"]["required"],
        json!(["url"])
    );
    let detail = v2.get(&format!("/api/v2/workers/{AMAZON}")).await;
    assert_eq!(&detail.data()["parameters"]["custom"], schema);

    let sync = v2
        .post(
            &format!("/api/v2/workers/{LOAD}/runs"),
            json!({"input": {"parameters": {"custom": {"count": 30}}}, "is_async": false,
                   "limit": 5, "offset": 10, "version": "latest"}),
        )
        .await;
    assert_eq!(sync.data()["status"], "succeeded", "{}", sync.body);
    assert_eq!(sync.data()["count"], 30);
    assert_eq!(sync.data()["list"][0]["index"], 10);
    let refused = v2
        .post(
            &format!("/api/v2/workers/{LOAD}/runs"),
            json!({"input": {"count": 30}, "limit": 101}),
        )
        .await;
    assert_eq!((refused.status, refused.code()), (400, 11000));
    assert!(refused.message().contains("limit"), "{}", refused.message());

    // v1's synchronous answer: the end and the first results.
    let v1_sync = v1
        .post(
            "/api/v1/scraper/run",
            json!({"scraper_slug": LOAD, "version": "v1.0.0", "is_async": false,
                   "input": {"parameters": {"system": {"cpus": 0.125, "memory": 512},
                                            "custom": {"count": 130}}}}),
        )
        .await;
    assert_eq!(v1_sync.data()["status"], 3, "{}", v1_sync.body);
    assert_eq!(v1_sync.data()["count"], 130);
    assert_eq!(v1_sync.data()["list"].as_array().unwrap().len(), 100);
}
