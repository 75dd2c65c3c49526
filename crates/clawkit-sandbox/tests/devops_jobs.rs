//! The DevOps sandbox's jobs end to end, over HTTP: agent activations, builds, deployments and
//! test runs reaching their final states, and webhook deliveries, signed and retried.

mod devops_client;
mod support;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use clawkit_sandbox::Sandbox;
use clawkit_sandbox::devops::{Config, Devops};
use devops_client::Client;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use support::Inbox;

#[tokio::test]
async fn jobs_run_to_their_final_state() {
    let sb = Sandbox::builder()
        .configure(|c: &mut Config| c.job_time = Duration::from_millis(800))
        .start()
        .await
        .unwrap();
    let api = Client::of(&sb);
    let devops = api.token(Some("devops")).await;
    let limit = Duration::from_secs(5);

    // A build: queued, running through its stages, success.
    let queued = api
        .post(
            "/pipelines/pipe_ecom_main/trigger",
            &devops,
            json!({"branch": "main", "environment": "staging"}),
        )
        .await;
    assert_eq!(queued.status, 202, "{}", queued.body);
    assert_eq!(queued.body["status"], "queued");
    assert_eq!(queued.body["triggeredBy"], "usr_role_devops");
    assert!(queued.body["queuePosition"].as_u64().unwrap() >= 1);
    let id = queued.body["buildId"].as_str().unwrap();
    assert!(id.starts_with("build_"));
    let mut saw_unfinished = false;
    let done = api
        .wait_for(&format!("/builds/{id}"), &devops, limit, |b| {
            if b["status"] == "running" || b["status"] == "queued" {
                saw_unfinished = true;
            }
            b["status"] == "success"
        })
        .await;
    assert!(saw_unfinished, "the build was seen before it finished");
    assert_eq!(done["progress"], 100);
    assert!(
        done["stages"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["status"] == "success")
    );
    assert_eq!(done["artifacts"][0]["name"], "app.jar");

    let flaky = api
        .post("/pipelines/pipe_ecom_flaky/trigger", &devops, json!({}))
        .await;
    let id = flaky.body["buildId"].as_str().unwrap();
    let failed = api
        .wait_for(&format!("/builds/{id}"), &devops, limit, |b| {
            b["status"] != "queued" && b["status"] != "running"
        })
        .await;
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["stages"][2]["status"], "failed");
    let skipped = api
        .post(
            "/pipelines/pipe_ecom_flaky/trigger",
            &devops,
            json!({"skipTests": true}),
        )
        .await;
    let id = skipped.body["buildId"].as_str().unwrap();
    let passed = api
        .wait_for(&format!("/builds/{id}"), &devops, limit, |b| {
            b["status"] == "success"
        })
        .await;
    assert_eq!(passed["stages"][2]["status"], "skipped");

    // Deployments: production needs approvals; `-bad` fails; a rollback rolls back.
    let no_approvals = api
        .post(
            "/deployments",
            &devops,
            json!({"applicationId": "app_ecom_backend", "environment": "prod", "version": "1.5.0"}),
        )
        .await;
    assert_eq!(no_approvals.status, 422);
    assert_eq!(
        no_approvals.body["error"]["details"]["fields"][0]["field"],
        "approvals"
    );
    let prod = api
        .post("/deployments", &devops, json!({"applicationId": "app_ecom_backend", "environment": "prod", "version": "1.5.0", "strategy": "canary", "approvals": ["usr_abc123def456"]}))
        .await;
    assert_eq!(prod.status, 202);
    assert_eq!(prod.body["status"], "pending_approval");
    assert_eq!(prod.body["previousVersion"], "1.4.0");
    let id = prod.body["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("dep_"));
    let early = api
        .post(
            &format!("/deployments/{id}/rollback"),
            &devops,
            json!({"reason": "太早"}),
        )
        .await;
    assert_eq!(early.status, 409);
    let succeeded = api
        .wait_for(&format!("/deployments/{id}"), &devops, limit, |d| {
            d["status"] == "succeeded"
        })
        .await;
    assert_eq!(succeeded["progress"], 100);
    let no_reason = api
        .post(&format!("/deployments/{id}/rollback"), &devops, json!({}))
        .await;
    assert_eq!(
        (
            no_reason.status,
            no_reason.body["error"]["details"]["fields"][0]["field"].as_str()
        ),
        (422, Some("reason"))
    );
    let rollback = api
        .post(
            &format!("/deployments/{id}/rollback"),
            &devops,
            json!({"reason": "支付错误率升高"}),
        )
        .await;
    assert_eq!(rollback.status, 202, "{}", rollback.body);
    assert_eq!(rollback.body["rollbackOf"], id.as_str());
    assert_eq!(rollback.body["version"], "1.4.0");
    assert_eq!(rollback.body["previousVersion"], "1.5.0");
    assert_eq!(rollback.body["status"], "queued");
    let rid = rollback.body["id"].as_str().unwrap();
    api.wait_for(&format!("/deployments/{rid}"), &devops, limit, |d| {
        d["status"] == "succeeded"
    })
    .await;
    let original = api.get(&format!("/deployments/{id}"), &devops).await;
    assert_eq!(original.body["status"], "rolled_back");
    let bad = api.post("/deployments", &devops, json!({"applicationId": "app_ecom_backend", "environment": "staging", "version": "2.0.0-bad"})).await;
    assert_eq!(bad.body["status"], "queued");
    let id = bad.body["id"].as_str().unwrap();
    api.wait_for(&format!("/deployments/{id}"), &devops, limit, |d| {
        d["status"] == "failed"
    })
    .await;

    // Test runs: the login suite fails with two failures, the smoke suite passes.
    let tester = api.token(Some("tester")).await;
    let run = api
        .post(
            "/tests/suites/suite_ecom_login_e2e/run",
            &tester,
            json!({"environment": "staging", "browsers": ["chromium", "firefox"], "parallel": 4}),
        )
        .await;
    assert_eq!(run.status, 202, "{}", run.body);
    assert_eq!(run.body["status"], "queued");
    let id = run.body["runId"].as_str().unwrap();
    let finished = api
        .wait_for(&format!("/tests/runs/{id}"), &tester, limit, |r| {
            r["status"] == "failed"
        })
        .await;
    assert!(finished["finishedAt"].is_string());
    let report = api.get(&format!("/tests/runs/{id}/report"), &tester).await;
    assert_eq!(report.body["summary"]["failed"], 2);
    assert_eq!(report.body["failures"].as_array().unwrap().len(), 2);
    let smoke = api
        .post("/tests/suites/suite_ecom_smoke/run", &tester, json!({}))
        .await;
    let id = smoke.body["runId"].as_str().unwrap();
    api.wait_for(&format!("/tests/runs/{id}"), &tester, limit, |r| {
        r["status"] == "passed"
    })
    .await;
    let bad_parallel = api
        .post(
            "/tests/suites/suite_ecom_smoke/run",
            &tester,
            json!({"parallel": 0}),
        )
        .await;
    assert_eq!(bad_parallel.status, 422);

    // An agent: processing (its result says so), then completed with the PRD.
    let activation = api
        .post("/agents/product/activate", &devops, json!({"taskId": "task_ecom001", "input": {"requirement": "实现订单模块,支持下单、退款", "context": "电商"}, "config": {"model": "claude-opus-4"}}))
        .await;
    assert_eq!(activation.status, 202, "{}", activation.body);
    assert_eq!(activation.body["status"], "processing");
    let id = activation.body["activationId"].as_str().unwrap();
    assert!(id.starts_with("act_prod"));
    assert_eq!(
        activation.body["progressUrl"],
        format!("/agents/activations/{id}/progress")
    );
    let early = api
        .get(&format!("/agents/activations/{id}/result"), &devops)
        .await;
    assert_eq!(
        (early.status, early.body["status"].as_str()),
        (200, Some("processing"))
    );
    let progress = api
        .wait_for(
            &format!("/agents/activations/{id}/progress"),
            &devops,
            limit,
            |p| p["status"] == "completed",
        )
        .await;
    assert_eq!(progress["steps"].as_array().unwrap().len(), 6);
    let result = api
        .get(&format!("/agents/activations/{id}/result"), &devops)
        .await;
    assert!(
        result.body["output"]["prdDocument"]
            .as_str()
            .unwrap()
            .starts_with("# 订单模块 PRD")
    );
    assert_eq!(result.body["metrics"]["model"], "claude-opus-4");
}

#[tokio::test]
async fn webhooks_are_delivered_signed_and_retried() {
    let sb = Sandbox::builder()
        .configure(|c: &mut Config| c.webhook_backoff = Duration::from_millis(100))
        .start()
        .await
        .unwrap();
    let api = Client::of(&sb);
    let devops = api.token(Some("devops")).await;
    // Refuses the first attempt, acknowledges the others.
    let inbox = Inbox::answering(Arc::new(|n| if n == 0 { (500, "") } else { (200, "") })).await;
    let url = inbox.url.clone();
    let bad = api
        .post(
            "/webhooks",
            &devops,
            json!({"url": "ftp://x.org", "events": ["build.done"]}),
        )
        .await;
    assert_eq!(bad.status, 422);
    let fields: Vec<&str> = bad.body["error"]["details"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["url", "events[0]"]);
    let hook = api
        .post(
            "/webhooks",
            &devops,
            json!({"url": url, "events": ["project.created"], "secret": "whsec_test"}),
        )
        .await;
    assert_eq!(hook.status, 201, "{}", hook.body);
    assert_eq!(hook.body["active"], true);
    assert!(hook.body.get("secret").is_none());
    let silent = api
        .post(
            "/webhooks",
            &devops,
            json!({"url": url, "events": ["project.created"], "active": false}),
        )
        .await;
    assert_eq!(silent.status, 201);

    let admin = api.token(None).await;
    let project = api
        .post(
            "/projects",
            &admin,
            json!({"name": "通知中心", "key": "NOTIFY", "ownerId": "usr_abc123def456"}),
        )
        .await;
    assert_eq!(project.status, 201);
    let start = Instant::now();
    inbox.wait_for(2).await;
    assert!(start.elapsed() < Duration::from_secs(5), "no retry arrived");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let got = inbox.received();
    assert_eq!(
        got.len(),
        2,
        "one refused attempt, one acknowledged, nothing from the inactive hook"
    );
    for received in &got {
        let header = |name: &str| received.header(name).unwrap_or_default().to_string();
        let timestamp = header("x-openclaw-timestamp");
        let mut mac = Hmac::<Sha256>::new_from_slice(b"whsec_test").unwrap();
        mac.update(format!("{timestamp}.").as_bytes());
        mac.update(&received.body);
        let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
        assert_eq!(header("x-openclaw-signature"), expected);
        assert_eq!(header("content-type"), "application/json");
        let event: Value = received.json();
        assert_eq!(event["event"], "project.created");
        assert_eq!(event["data"]["key"], "NOTIFY");
        assert_eq!(
            event["id"].as_str(),
            Some(header("x-openclaw-event-id").as_str())
        );
        assert!(event["id"].as_str().unwrap().starts_with("evt_"));
    }
    assert_eq!(got[0].body, got[1].body, "the same body on every attempt");
    let stats = &sb.vendor::<Devops>().stats;
    assert_eq!(stats.webhooks.webhook_attempts.load(Ordering::Relaxed), 2);
    assert_eq!(stats.webhooks.webhook_delivered.load(Ordering::Relaxed), 1);

    let id = hook.body["id"].as_str().unwrap();
    assert_eq!(
        api.call("DELETE", &format!("/webhooks/{id}"), Some(&admin), None)
            .await
            .status,
        204
    );
    assert_eq!(
        api.call("DELETE", &format!("/webhooks/{id}"), Some(&admin), None)
            .await
            .status,
        404
    );
    let tester = api.token(Some("tester")).await;
    assert_eq!(
        api.call("DELETE", "/webhooks/wh_20260314_0001", Some(&tester), None)
            .await
            .status,
        403
    );
}
