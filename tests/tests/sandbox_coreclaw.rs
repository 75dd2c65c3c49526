//! The CoreClaw sandbox with plain HTTP (reqwest), the way the guide's curl examples call it.
//! Every JSON response is checked against the merged CoreClaw spec (`clawkit_tests::contract`).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clawkit_sandbox::coreclaw::API_KEY as CORECLAW_API_KEY;
use clawkit_sandbox::{FaultKind, FaultRule, Sandbox, Vendor};
use clawkit_tests::http::{Api, Reply};
use serde_json::{Value, json};

const AMAZON: &str = "01KNXSHE0Y7DZKF1N8B1EMFX35";
const LOAD: &str = "01KSBXLOADGEN0000000000001";
const RUN_MS: u64 = 300;

async fn sandbox() -> Sandbox {
    Sandbox::builder()
        .configure(|c: &mut clawkit_sandbox::coreclaw::Config| {
            c.run_duration = Duration::from_millis(RUN_MS)
        })
        .start()
        .await
        .expect("the sandbox starts")
}

fn api(sandbox: &Sandbox) -> Api {
    Api::new(
        "coreclaw",
        &sandbox.base_url(Vendor::Coreclaw),
        &[("api-key", CORECLAW_API_KEY)],
    )
}

/// The guide's start-run body for a Worker, with its custom input.
fn start_body(slug: &str, version: &str, custom: Value) -> Value {
    json!({
        "scraper_slug": slug,
        "version": version,
        "is_async": true,
        "input": {"parameters": {
            "system": {"cpus": 0.125, "memory": 512, "execute_limit_time_seconds": 1800,
                       "max_total_charge": 0, "max_total_traffic": 0, "proxy_region": "US"},
            "custom": custom
        }}
    })
}

async fn start(api: &Api, slug: &str, version: &str, custom: Value) -> String {
    let reply = api
        .post("/api/v1/scraper/run", start_body(slug, version, custom))
        .await;
    assert_eq!(reply.code(), 0, "{}", reply.body);
    reply.data()["run_slug"]
        .as_str()
        .expect("a run slug")
        .to_string()
}

async fn wait_final(api: &Api, run: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let detail = api
            .post("/api/v1/run/detail", json!({"run_slug": run}))
            .await;
        let status = detail.data()["status"].as_i64().unwrap_or(0);
        if (3..=4).contains(&status) {
            return detail.data().clone();
        }
        assert!(
            Instant::now() < deadline,
            "run {run} did not finish: {}",
            detail.body
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn assert_invalid(reply: &Reply, field: &str) {
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert_eq!(reply.code(), 4000, "{}", reply.body);
    assert!(
        reply.message().contains(field),
        "message should name `{field}`: {}",
        reply.message()
    );
}

#[tokio::test]
async fn the_guide_workflow_end_to_end() {
    let sb = sandbox().await;
    let api = api(&sb);

    // 1. search the store (no key needed)
    let plain = Api::new("coreclaw", &sb.base_url(Vendor::Coreclaw), &[]);
    let found = plain.get("/api/store?search=amazon&limit=5").await;
    assert_eq!(found.data()["scraper"][0]["slug"], AMAZON);

    // 2. read the live schema and build the input from it
    let detail = plain.get(&format!("/api/scraper?slug={AMAZON}")).await;
    let version = detail.data()["version"].as_str().unwrap().to_string();
    assert_eq!(version, "v1.0.1");
    let props = detail.data()["parameters"]["custom"]["properties"]
        .as_array()
        .unwrap();
    assert_eq!(props[0]["name"], "urls");
    assert_eq!(props[0]["required"], true);
    assert_eq!(detail.data()["parameters"]["system"]["memory"], 512);

    let before = api.post("/api/v1/account/info", json!({})).await;
    let balance_before: f64 = before.data()["balance"].as_str().unwrap().parse().unwrap();

    // 3. start, 4. poll until done
    let urls: Vec<Value> = (0..3)
        .map(|i| json!({"url": format!("https://www.amazon.com/dp/B0CHHSF{i:03}")}))
        .collect();
    let run = start(&api, AMAZON, &version, json!({ "urls": urls })).await;
    let first = api
        .post("/api/v1/run/detail", json!({"run_slug": run}))
        .await;
    assert!(
        matches!(first.data()["status"].as_i64(), Some(1 | 2)),
        "{}",
        first.body
    );
    let done = wait_final(&api, &run).await;
    assert_eq!(done["status"], 3);
    assert_eq!(done["results"], 3);
    assert_eq!(done["scraper_slug"], AMAZON);
    assert!(done["finished_at"].as_i64().unwrap() >= done["started_at"].as_i64().unwrap());

    // 5. history has it
    let history = api
        .post(
            "/api/v1/run/list",
            json!({"page_index": 1, "page_size": 10, "status": 3, "scraper_slug": AMAZON}),
        )
        .await;
    assert!(
        history.data()["list"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["slug"] == run.as_str())
    );

    // 6. results page
    let page = api
        .post(
            "/api/v1/run/result/list",
            json!({"run_slug": run, "page_index": 1, "page_size": 20}),
        )
        .await;
    assert_eq!(page.data()["count"], 3);
    assert_eq!(page.data()["list"].as_array().unwrap().len(), 3);
    assert_eq!(page.data()["headers"][0]["key"], "url");
    assert_eq!(
        page.data()["list"][2]["url"],
        "https://www.amazon.com/dp/B0CHHSF002"
    );

    // 7. export as CSV and download it
    let export = api
        .post(
            "/api/v1/run/result/export",
            json!({"run_slug": run, "format": "csv", "filter_keys": []}),
        )
        .await;
    let url = export.data()["download_url"].as_str().unwrap();
    let csv = reqwest::get(url).await.unwrap().text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 4, "{csv}");
    assert!(lines[0].starts_with("url,asin,title,price"));

    // 8. the account was charged the run's usage
    let after = api.post("/api/v1/account/info", json!({})).await;
    let balance_after: f64 = after.data()["balance"].as_str().unwrap().parse().unwrap();
    let usage: f64 = done["usage"].as_str().unwrap().parse().unwrap();
    assert!(usage > 0.0);
    assert!(
        (balance_before - usage - balance_after).abs() < 1e-9,
        "{balance_before} - {usage} != {balance_after}"
    );
    assert!(after.data()["traffic"].as_i64() < before.data()["traffic"].as_i64());
}

#[tokio::test]
async fn auth_store_and_detail_errors() {
    let sb = sandbox().await;
    let base = sb.base_url(Vendor::Coreclaw);
    for headers in [vec![], vec![("api-key", "wrong")]] {
        let unauthed = Api::new("coreclaw", &base, &headers);
        for path in [
            "/api/v1/account/info",
            "/api/v1/run/list",
            "/api/v1/scraper/run",
            "/api/v1/run/detail",
        ] {
            let r = unauthed.post(path, json!({})).await;
            assert_eq!((r.status, r.code()), (401, 20001), "{path}: {}", r.body);
        }
    }
    let api = api(&sb);
    assert_invalid(&api.get("/api/store?search=&limit=5").await, "search");
    assert_invalid(&api.get("/api/store?limit=5").await, "search");
    assert_invalid(&api.get("/api/store?search=x&limit=0").await, "limit");
    let missing = api.get("/api/scraper?slug=01NOSUCHWORKER").await;
    assert_eq!((missing.status, missing.code()), (404, 50001));
    // account info answers GET as well as POST
    assert_eq!(api.get("/api/v1/account/info").await.code(), 0);
    assert_invalid(
        &api.post("/api/v1/account/info", json!({"x": 1})).await,
        "x",
    );
}

#[tokio::test]
async fn start_run_validates_like_the_real_service() {
    let sb = sandbox().await;
    let api = api(&sb);
    let good = start_body(
        AMAZON,
        "v1.0.1",
        json!({"urls": [{"url": "https://www.amazon.com/dp/B0CHHSFMRL"}]}),
    );

    let mut wrong_version = good.clone();
    wrong_version["version"] = json!("v1.0.0");
    assert_invalid(
        &api.post("/api/v1/scraper/run", wrong_version).await,
        "version",
    );

    let mut no_version = good.clone();
    no_version.as_object_mut().unwrap().remove("version");
    assert_invalid(
        &api.post("/api/v1/scraper/run", no_version).await,
        "version",
    );

    let mut no_async = good.clone();
    no_async.as_object_mut().unwrap().remove("is_async");
    assert_invalid(&api.post("/api/v1/scraper/run", no_async).await, "is_async");

    let mut unknown = good.clone();
    unknown["input"]["parameters"]["custom"]["startURLs"] = json!([]);
    let r = api.post("/api/v1/scraper/run", unknown).await;
    assert_invalid(&r, "custom.startURLs");
    assert!(r.message().contains("known: urls"), "{}", r.message());

    let mut wrong_type = good.clone();
    wrong_type["input"]["parameters"]["custom"]["urls"] =
        json!("https://www.amazon.com/dp/B0CHHSFMRL");
    let r = api.post("/api/v1/scraper/run", wrong_type).await;
    assert_invalid(&r, "custom.urls: expected array, got string");

    let mut missing = good.clone();
    missing["input"]["parameters"]["custom"] = json!({});
    assert_invalid(
        &api.post("/api/v1/scraper/run", missing).await,
        "custom.urls: required",
    );

    let mut memory = good.clone();
    memory["input"]["parameters"]["system"]["memory"] = json!(768);
    assert_invalid(
        &api.post("/api/v1/scraper/run", memory).await,
        "system.memory",
    );

    let mut not_json = api
        .http
        .post(format!("{}/api/v1/scraper/run", api.base))
        .body("{\"scraper_slug\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), 400);
    let body: Value = not_json.json().await.unwrap();
    assert_eq!(body["code"], 4000);
    not_json = api
        .http
        .post(format!("{}/api/v1/scraper/run", api.base))
        .body("[]")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), 400);

    let mut unknown_worker = good.clone();
    unknown_worker["scraper_slug"] = json!("01NOSUCHWORKER0000000000000");
    let r = api.post("/api/v1/scraper/run", unknown_worker).await;
    assert_eq!((r.status, r.code()), (404, 50001));

    // a run slug where a Worker slug belongs fails validation
    let mut run_as_worker = good.clone();
    run_as_worker["scraper_slug"] = json!("01KSFDS8XWTJME33C08XMCR6B9");
    assert_invalid(
        &api.post("/api/v1/scraper/run", run_as_worker).await,
        "scraper_slug",
    );

    // the good request passes
    assert_eq!(api.post("/api/v1/scraper/run", good).await.code(), 0);
}

#[tokio::test]
async fn balance_too_low_is_30001() {
    let sb = Sandbox::builder()
        .configure(|c: &mut clawkit_sandbox::coreclaw::Config| c.initial_balance(0.0))
        .start()
        .await
        .unwrap();
    let api = api(&sb);
    let r = api
        .post(
            "/api/v1/scraper/run",
            start_body(
                AMAZON,
                "v1.0.1",
                json!({"urls": [{"url": "https://www.amazon.com/dp/X"}]}),
            ),
        )
        .await;
    assert_eq!((r.status, r.code()), (400, 30001), "{}", r.body);
}

#[tokio::test]
async fn sync_runs_wait_and_failures_and_aborts_are_final() {
    let sb = sandbox().await;
    let api = api(&sb);
    let mut sync = start_body(LOAD, "v1.0.0", json!({"count": 25}));
    sync["is_async"] = json!(false);
    let started = Instant::now();
    let r = api.post("/api/v1/scraper/run", sync).await;
    assert!(started.elapsed() >= Duration::from_millis(RUN_MS / 2));
    assert_eq!(r.data()["status"], 3, "{}", r.body);
    assert_eq!(r.data()["results"], 25);

    let plain = start(
        &api,
        LOAD,
        "v1.0.0",
        json!({"count": 10, "payload_bytes": 4}),
    )
    .await;
    assert_eq!(wait_final(&api, &plain).await["status"], 3);
    let mut marker = start_body(
        "01KSBXPAGETEXT000000000001",
        "v1.0.1",
        json!({"url": "https://example.com/sandbox:fail"}),
    );
    marker["is_async"] = json!(true);
    let failed = api.post("/api/v1/scraper/run", marker).await;
    let failed = failed.data()["run_slug"].as_str().unwrap().to_string();
    let detail = wait_final(&api, &failed).await;
    assert_eq!(detail["status"], 4);
    assert!(detail["err_msg"].as_str().unwrap().contains("sandbox:fail"));

    // abort: a run in progress reports 5 (aborting, not final) while it stops, asking again
    // changes nothing, then it ends as 4 saying it was aborted; aborting an ended run is 70002;
    // unknown runs are 70001
    let long = Sandbox::builder()
        .configure(|c: &mut clawkit_sandbox::coreclaw::Config| {
            c.run_duration = Duration::from_secs(60)
        })
        .start()
        .await
        .unwrap();
    let long_api = self::api(&long);
    let run = start(&long_api, LOAD, "v1.0.0", json!({"count": 100})).await;
    assert_eq!(
        long_api
            .post("/api/v1/scraper/abort", json!({"run_slug": run}))
            .await
            .code(),
        0
    );
    let aborted = long_api
        .post("/api/v1/run/detail", json!({"run_slug": run}))
        .await;
    assert_eq!(aborted.data()["status"], 5);
    assert_eq!(aborted.data()["finished_at"], 0);
    let again = long_api
        .post("/api/v1/scraper/abort", json!({"run_slug": run}))
        .await;
    assert_eq!(again.code(), 0);
    let ended = wait_final(&long_api, &run).await;
    assert_eq!(ended["status"], 4);
    assert_eq!(ended["err_msg"], "Run aborted by the user.");
    assert!(ended["finished_at"].as_i64().unwrap() > 0);
    let again = long_api
        .post("/api/v1/scraper/abort", json!({"run_slug": run}))
        .await;
    assert_eq!((again.status, again.code()), (409, 70002));
    for path in [
        "/api/v1/run/detail",
        "/api/v1/run/last/log",
        "/api/v1/scraper/abort",
    ] {
        let r = long_api
            .post(path, json!({"run_slug": "01KNOSUCHRUN00000000000000"}))
            .await;
        assert_eq!((r.status, r.code()), (404, 70001), "{path}");
    }
    let r = long_api
        .post(
            "/api/v1/run/result/list",
            json!({"run_slug": "01KNOSUCHRUN00000000000000", "page_index": 1, "page_size": 10}),
        )
        .await;
    assert_eq!(r.code(), 70001);
}

#[tokio::test]
async fn history_filters_and_pages() {
    let sb = sandbox().await;
    let api = api(&sb);
    for _ in 0..12 {
        start(&api, LOAD, "v1.0.0", json!({"count": 1})).await;
    }
    let all = api
        .post(
            "/api/v1/run/list",
            json!({"page_index": 1, "page_size": 50}),
        )
        .await;
    let count = all.data()["count"].as_i64().unwrap();
    assert_eq!(
        count, 16,
        "12 new runs and the 4 seeded from CoreClaw's docs"
    );
    let mut seen = Vec::new();
    for page in 1..=2 {
        // `page` is the docs' name for `page_index`
        let r = api
            .post("/api/v1/run/list", json!({"page": page, "page_size": 10}))
            .await;
        seen.extend(
            r.data()["list"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x["slug"].clone()),
        );
    }
    seen.sort_by_key(|v| v.to_string());
    seen.dedup();
    assert_eq!(seen.len() as i64, count, "pages of 10 cover every run once");
    let loads = api
        .post(
            "/api/v1/run/list",
            json!({"page_index": 1, "page_size": 20, "scraper_slug": LOAD}),
        )
        .await;
    assert_eq!(loads.data()["count"], 13);
    let failed = api
        .post(
            "/api/v1/run/list",
            json!({"page_index": 1, "page_size": 20, "status": 4}),
        )
        .await;
    assert_eq!(
        failed.data()["list"][0]["slug"],
        "01KKGH9VYJ6YRDZBJKPEX2JPXC"
    );
    assert_invalid(
        &api.post(
            "/api/v1/run/list",
            json!({"page_index": 0, "page_size": 10}),
        )
        .await,
        "page_index",
    );
    assert_invalid(
        &api.post(
            "/api/v1/run/list",
            json!({"page_index": 1, "page_size": 10, "status": 9}),
        )
        .await,
        "status",
    );
}

#[tokio::test]
async fn results_page_and_export_honours_filter_keys() {
    let sb = sandbox().await;
    let api = api(&sb);
    let run = start(&api, LOAD, "v1.0.0", json!({"count": 2500})).await;
    wait_final(&api, &run).await;
    let mut seen = 0;
    for page in 1..=3 {
        let r = api
            .post(
                "/api/v1/run/result/list",
                json!({"run_slug": run, "page_index": page, "page_size": 1000}),
            )
            .await;
        let list = r.data()["list"].as_array().unwrap();
        assert_eq!(list[0]["index"], (page - 1) * 1000);
        seen += list.len();
    }
    assert_eq!(seen, 2500);
    assert_invalid(
        &api.post(
            "/api/v1/run/result/list",
            json!({"run_slug": run, "page_index": 1, "page_size": 1001}),
        )
        .await,
        "page_size",
    );

    let export = api
        .post(
            "/api/v1/run/result/export",
            json!({"run_slug": run, "format": "json", "filter_keys": ["index", "name"]}),
        )
        .await;
    let response = reqwest::get(export.data()["download_url"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(response.headers()["content-type"], "application/json");
    let items: Vec<Value> = response.json().await.unwrap();
    assert_eq!(items.len(), 2500);
    assert_eq!(items[2499], json!({"index": 2499, "name": "item-2499"}));

    let csv = api
        .post(
            "/api/v1/run/result/export",
            json!({"run_slug": run, "format": "csv", "filter_keys": ["name"]}),
        )
        .await;
    let text = reqwest::get(csv.data()["download_url"].as_str().unwrap())
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(text.lines().count(), 2501);
    assert_eq!(text.lines().next(), Some("name"));

    // The download URL answers as a file host: a strong ETag, ranges from any byte, 416 past the
    // end, and the whole file when If-Range names another version.
    let url = csv.data()["download_url"].as_str().unwrap().to_string();
    let http = reqwest::Client::new();
    let whole = http.get(&url).send().await.unwrap();
    assert_eq!(whole.headers()["accept-ranges"], "bytes");
    let etag = whole.headers()["etag"].to_str().unwrap().to_string();
    assert!(etag.starts_with('"') && !etag.starts_with("W/"), "{etag}");
    let len = text.len();
    for from in [1, 1000, len - 1] {
        let part = http
            .get(&url)
            .header("range", format!("bytes={from}-"))
            .header("if-range", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(part.status(), 206);
        assert_eq!(
            part.headers()["content-range"],
            format!("bytes {from}-{}/{len}", len - 1).as_str()
        );
        assert_eq!(part.text().await.unwrap(), text[from..]);
    }
    let past = http
        .get(&url)
        .header("range", format!("bytes={len}-"))
        .send()
        .await
        .unwrap();
    assert_eq!(past.status(), 416);
    assert_eq!(
        past.headers()["content-range"],
        format!("bytes */{len}").as_str()
    );
    let other = http
        .get(&url)
        .header("range", "bytes=10-")
        .header("if-range", "\"another-version\"")
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 200);
    assert_eq!(other.text().await.unwrap(), text);
    assert_invalid(
        &api.post(
            "/api/v1/run/result/export",
            json!({"run_slug": run, "format": "xml"}),
        )
        .await,
        "format",
    );
}

#[tokio::test]
async fn logs_rerun_and_task_run() {
    let sb = sandbox().await;
    let api = api(&sb);
    let log = api
        .post(
            "/api/v1/run/last/log",
            json!({"run_slug": "01KSFDS8XWTJME33C08XMCR6B9"}),
        )
        .await;
    assert_eq!(log.data()["result_count"], 20);
    assert!(log.data()["list"].as_array().unwrap().len() >= 3);
    let all = reqwest::get(log.data()["all_logs_url"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(all.status(), 200);
    assert!(all.text().await.unwrap().contains("Run succeeded"));

    assert_invalid(
        &api.post(
            "/api/v1/rerun",
            json!({"run_slug": "01KSFDS8XWTJME33C08XMCR6B9"}),
        )
        .await,
        "callback_url",
    );
    assert_invalid(
        &api.post(
            "/api/v1/task/run",
            json!({"task_slug": "01KK0G4W9W4JYTWEA55KMG5QKP"}),
        )
        .await,
        "callback_url",
    );
    let unknown = api
        .post("/api/v1/task/run", json!({"task_slug": "01KNOSUCHTASK0000000000000", "callback_url": "http://127.0.0.1:9/hook"}))
        .await;
    assert_eq!((unknown.status, unknown.code()), (404, 60001));
    let task = api
        .post("/api/v1/task/run", json!({"task_slug": "01KK0G4W9W4JYTWEA55KMG5QKP", "callback_url": "http://127.0.0.1:9/hook"}))
        .await;
    let task_run = task.data()["run_slug"].as_str().unwrap().to_string();
    assert_eq!(wait_final(&api, &task_run).await["results"], 2);
    let rerun = api
        .post(
            "/api/v1/rerun",
            json!({"run_slug": task_run, "callback_url": "http://127.0.0.1:9/hook"}),
        )
        .await;
    let again = rerun.data()["run_slug"].as_str().unwrap().to_string();
    assert_ne!(again, task_run);
    assert_eq!(wait_final(&api, &again).await["scraper_slug"], AMAZON);
}

#[tokio::test]
async fn the_completion_webhook_is_retried_until_200() {
    let calls = Arc::new(AtomicUsize::new(0));
    let received = Arc::new(std::sync::Mutex::new(Vec::<Value>::new()));
    let (c, r) = (calls.clone(), received.clone());
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |axum::Json(event): axum::Json<Value>| {
            let (c, r) = (c.clone(), r.clone());
            async move {
                r.lock().unwrap().push(event);
                // the first delivery fails: the sandbox must retry
                if c.fetch_add(1, Ordering::SeqCst) == 0 {
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    axum::http::StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let sb = sandbox().await;
    let api = api(&sb);
    let mut body = start_body(
        AMAZON,
        "v1.0.1",
        json!({"urls": [{"url": "https://www.amazon.com/dp/B0CHHSFMRL"}]}),
    );
    body["callback_url"] = json!(hook);
    let run = api.post("/api/v1/scraper/run", body).await.data()["run_slug"]
        .as_str()
        .unwrap()
        .to_string();
    wait_final(&api, &run).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while calls.load(Ordering::SeqCst) < 2 {
        assert!(Instant::now() < deadline, "the webhook was not retried");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(calls.load(Ordering::SeqCst), 2, "no delivery after the 200");
    let events = received.lock().unwrap().clone();
    assert_eq!(
        events[1],
        json!({"run_slug": run, "status": 3, "results": 1, "usage": "0.003"})
    );
    let log = api
        .post("/api/v1/run/last/log", json!({"run_slug": run}))
        .await;
    let text = log.body.to_string();
    assert!(
        text.contains("Completion webhook: 500") && text.contains("Completion webhook: 200"),
        "{text}"
    );
}

#[tokio::test]
async fn every_fault_kind() {
    let sb = sandbox().await;
    let api = api(&sb);
    let url = format!("{}/api/v1/account/info", sb.base_url(Vendor::Coreclaw));
    let call = || api.http.post(&url).json(&json!({})).send();

    sb.add_fault(
        FaultRule::new(FaultKind::Http429 {
            retry_after_secs: 2,
        })
        .vendor(Vendor::Coreclaw)
        .limit(1),
    );
    let r = call().await.unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "2");
    assert_eq!(r.json::<Value>().await.unwrap()["code"], 4290);
    assert_eq!(
        call().await.unwrap().status(),
        200,
        "limit 1: only one request is hit"
    );

    sb.clear_faults();
    sb.add_fault(
        FaultRule::new(FaultKind::Code4290)
            .route("/api/v1/account/info")
            .limit(1),
    );
    let r = call().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], 4290);

    sb.add_fault(FaultRule::new(FaultKind::Http503).limit(1));
    assert_eq!(call().await.unwrap().status(), 503);

    sb.add_fault(FaultRule::new(FaultKind::Latency { ms: 200 }).limit(1));
    let t = Instant::now();
    assert_eq!(call().await.unwrap().status(), 200);
    assert!(t.elapsed() >= Duration::from_millis(200));

    sb.add_fault(FaultRule::new(FaultKind::ResetMidBody).limit(1));
    let r = call().await.unwrap();
    assert!(r.bytes().await.is_err(), "the body must break off");

    sb.add_fault(FaultRule::new(FaultKind::TruncatedJson).limit(1));
    let r = call().await.unwrap();
    let text = r.text().await.unwrap();
    assert!(
        serde_json::from_str::<Value>(&text).is_err(),
        "truncated: {text}"
    );

    sb.add_fault(
        FaultRule::new(FaultKind::SlowBody {
            chunk_delay_ms: 20,
            chunk_size: 16,
        })
        .limit(1),
    );
    let t = Instant::now();
    let r = call().await.unwrap();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], 0, "a slow body is still whole");
    assert!(t.elapsed() >= Duration::from_millis(100));

    // every Nth, set at run time over HTTP, listed with counters, cleared with DELETE
    let control = reqwest::Client::new();
    let faults = format!("{}/_sandbox/faults", sb.url());
    let rule = json!({"vendor": "coreclaw", "route": "/api/store", "kind": {"type": "http503"}, "every": 2});
    assert_eq!(
        control
            .post(&faults)
            .json(&rule)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let store = format!("{}/api/store?search=amazon", sb.base_url(Vendor::Coreclaw));
    let statuses: Vec<u16> = futures_join(&control, &store, 4).await;
    assert_eq!(statuses, [200, 503, 200, 503]);
    let listed: Value = control
        .get(&faults)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let rules = listed["rules"].as_array().unwrap();
    assert_eq!(rules.last().unwrap()["hits"], 2);
    assert_eq!(control.delete(&faults).send().await.unwrap().status(), 204);
    assert_eq!(control.get(&store).send().await.unwrap().status(), 200);
    let bad = control
        .post(&faults)
        .json(&json!({"kind": {"type": "nope"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert_eq!(
        control
            .get(format!("{}/_sandbox/health", sb.url()))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

async fn futures_join(client: &reqwest::Client, url: &str, n: usize) -> Vec<u16> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(client.get(url).send().await.unwrap().status().as_u16());
    }
    out
}

#[tokio::test]
async fn the_same_seed_gives_the_same_sandbox() {
    let instant = |seed| {
        Sandbox::builder()
            .seed(seed)
            .configure(|c: &mut clawkit_sandbox::coreclaw::Config| c.run_duration = Duration::ZERO)
            .start()
    };
    let a = instant(9).await.unwrap();
    let b = instant(9).await.unwrap();
    let c = instant(10).await.unwrap();
    let mut slugs = Vec::new();
    for sb in [&a, &b, &c] {
        let api = api(sb);
        let run = start(&api, LOAD, "v1.0.0", json!({"count": 3})).await;
        let page = api
            .post(
                "/api/v1/run/result/list",
                json!({"run_slug": run, "page_index": 1, "page_size": 3}),
            )
            .await;
        slugs.push((run, page.data()["list"].clone()));
    }
    assert_eq!(slugs[0], slugs[1]);
    assert_ne!(slugs[0].0, slugs[2].0);
    a.shutdown().await;
    b.shutdown().await;
}
