//! The OpenClaw DevOps facade against the in-process sandbox: JWT sessions, RBAC errors, paged
//! streams, the four waits under every fault kind, and signed webhooks.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use clawkit::devops::types::{
    self, AgentType, Environment, Role, TaskStatus, TaskType, WebhookEventType,
};
use clawkit::devops::webhook::{EventKind, Receiver};
use clawkit::devops::{Client, Flow, NewProject, NewTask, NewUser, Reason, Tier, UserFilter};
use clawkit::runtime::wait::Polling;
use clawkit::{ErrorKind, RetryPolicy};
use clawkit_sandbox::devops::DevopsTier;
use clawkit_sandbox::{FaultKind, FaultRule, Sandbox, Vendor};
use futures::{StreamExt, TryStreamExt};

fn builder(sb: &Sandbox) -> clawkit::devops::ClientBuilder {
    Client::builder()
        .client_credentials("sandbox", "sandbox-secret")
        .base_url(sb.base_url(Vendor::OpenclawDevops))
        .retry(RetryPolicy::fast())
        .polling(Polling::fast())
        .tier(Tier::Enterprise)
}

fn client(sb: &Sandbox) -> Client {
    builder(sb).build().unwrap()
}

fn as_user(sb: &Sandbox, role: &str) -> Client {
    builder(sb).user(role, "sandbox-secret").build().unwrap()
}

async fn sandbox() -> Sandbox {
    Sandbox::builder()
        .configure(|c: &mut clawkit_sandbox::devops::Config| {
            c.job_time = Duration::from_millis(600)
        })
        .configure(|c: &mut clawkit_sandbox::devops::Config| {
            c.tiers
                .insert("sandbox".to_string(), DevopsTier::Enterprise);
        })
        .start()
        .await
        .unwrap()
}

fn tokens(sb: &Sandbox) -> u64 {
    let s = &sb.vendor::<clawkit_sandbox::devops::Devops>().stats;
    s.token_grants.load(Ordering::Relaxed) + s.refreshes.load(Ordering::Relaxed)
}

#[tokio::test]
async fn the_seeds_examples_exist_and_read_back() {
    let sb = sandbox().await;
    let c = client(&sb);
    let zhangsan = c.user("usr_abc123def456").await.unwrap();
    assert_eq!(
        (zhangsan.username.as_str(), zhangsan.role),
        ("zhangsan", Role::Developer)
    );
    let project = c.project("prj_ecom2026031401").await.unwrap();
    assert_eq!(project.key, "ECOM");
    assert_eq!(c.task("task_ecom001").await.unwrap().key, "ECOM-1");
    let result = c.activation("act_prod2026031401").result().await.unwrap();
    assert_eq!(result.status, "completed");
    let build = c.build("build_20260314_120501").get().await.unwrap();
    assert_eq!(build.pipeline_id, "pipe_ecom_main");
    // A missing user is NOT_FOUND with the seed's details and a request id.
    let e = c.user("usr_invalid123").await.unwrap_err();
    let api = e.api().unwrap();
    assert_eq!((api.status, api.reason), (404, Reason::NotFound));
    assert!(
        api.request_id.as_deref().unwrap_or("").starts_with("req_"),
        "{api:?}"
    );
    assert_eq!(e.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn a_thousand_users_in_eleven_requests() {
    let sb = Sandbox::builder()
        .configure(|c: &mut clawkit_sandbox::devops::Config| c.users = 1000)
        .start()
        .await
        .unwrap();
    let c = client(&sb);
    c.user("usr_abc123def456").await.unwrap(); // the token first
    let before = sb
        .vendor::<clawkit_sandbox::devops::Devops>()
        .stats
        .requests
        .load(Ordering::Relaxed);
    let users: Vec<_> = c.users(UserFilter::new()).try_collect().await.unwrap();
    let requests = sb
        .vendor::<clawkit_sandbox::devops::Devops>()
        .stats
        .requests
        .load(Ordering::Relaxed)
        - before;
    assert_eq!(users.len(), 1000);
    let mut ids: Vec<_> = users.iter().map(|u| u.id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 1000, "no user twice");
    assert_eq!(
        requests, 11,
        "1,000 users at pageSize 100, and the empty page past the total read ahead with them"
    );
}

#[tokio::test]
async fn a_token_expiring_mid_stream_loses_nothing() {
    let sb = Sandbox::builder()
        .configure(|c: &mut clawkit_sandbox::devops::Config| c.users = 1000)
        .configure(|c: &mut clawkit_sandbox::devops::Config| c.token_ttl = Duration::from_secs(1))
        .configure(|c: &mut clawkit_sandbox::devops::Config| {
            c.tiers
                .insert("sandbox".to_string(), DevopsTier::Enterprise);
        })
        .start()
        .await
        .unwrap();
    let c = builder(&sb).prefetch(0).build().unwrap();
    let mut pages = c.users(UserFilter::new()).page_size(50).pages();
    let mut ids = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.unwrap();
        ids.extend(page.items.into_iter().map(|u| u.id));
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    let reference: Vec<_> = client(&sb)
        .users(UserFilter::new())
        .map_ok(|u| u.id)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids, reference, "every user once, in order");
    assert!(tokens(&sb) >= 3, "the token was renewed during the stream");
    assert_eq!(
        sb.vendor::<clawkit_sandbox::devops::Devops>()
            .stats
            .refresh_reuse
            .load(Ordering::Relaxed),
        0
    );
}

#[tokio::test]
async fn sixteen_callers_after_expiry_share_one_renewal() {
    let sb = Sandbox::builder()
        .configure(|c: &mut clawkit_sandbox::devops::Config| c.token_ttl = Duration::from_secs(1))
        .configure(|c: &mut clawkit_sandbox::devops::Config| {
            c.tiers
                .insert("sandbox".to_string(), DevopsTier::Enterprise);
        })
        .start()
        .await
        .unwrap();
    let c = client(&sb);
    c.user("usr_abc123def456").await.unwrap();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let before = tokens(&sb);
    let calls = (0..16).map(|_| {
        let c = c.clone();
        tokio::spawn(async move { c.user("usr_abc123def456").await })
    });
    for call in futures::future::join_all(calls).await {
        call.unwrap().unwrap();
    }
    assert_eq!(tokens(&sb) - before, 1, "one renewal for 16 callers");
    assert_eq!(
        sb.vendor::<clawkit_sandbox::devops::Devops>()
            .stats
            .refresh_reuse
            .load(Ordering::Relaxed),
        0
    );
}

#[tokio::test]
async fn each_role_is_refused_what_it_may_not_do() {
    let sb = sandbox().await;
    let viewer = as_user(&sb, "viewer");
    viewer.user("usr_abc123def456").await.unwrap(); // reading is allowed
    let e = viewer
        .create_project(NewProject::new("看板", "VIEW", "usr_abc123def456"))
        .await
        .unwrap_err();
    assert_eq!(e.reason(), Some(Reason::Forbidden), "{e}");
    assert_eq!(e.kind(), ErrorKind::Auth);
    assert!(e.api().unwrap().request_id.is_some());

    let tester = as_user(&sb, "tester");
    let deploy = types::CreateDeploymentRequest {
        application_id: "app_ecom_backend".into(),
        environment: "staging".into(),
        version: "1.5.0".into(),
        strategy: None,
        approvals: vec![],
    };
    let e = tester.deploy(deploy.clone()).await.unwrap_err();
    assert_eq!(e.reason(), Some(Reason::Forbidden), "{e}");

    let developer = as_user(&sb, "developer");
    let e = developer
        .create_user(NewUser::new(
            "newdev",
            "newdev@example.com",
            "SecurePass123!",
            "新人",
        ))
        .await
        .unwrap_err();
    assert_eq!(e.reason(), Some(Reason::Forbidden), "{e}");

    let devops = as_user(&sb, "devops");
    let (_, started) = devops.deploy(deploy).await.unwrap();
    assert_eq!(started.environment, "staging");
}

#[tokio::test]
async fn validation_errors_name_their_fields_and_duplicates_conflict() {
    let sb = sandbox().await;
    let c = client(&sb);
    let e = c
        .create_user(NewUser::new(
            "wangwu2",
            "not-an-email",
            "SecurePass123!",
            "王五",
        ))
        .await
        .unwrap_err();
    let api = e.api().unwrap();
    assert_eq!((api.status, api.reason), (422, Reason::ValidationError));
    assert!(api.field("email").is_some(), "{api:?}");
    // Caught before sending: the spec's password rule.
    let e = c
        .create_user(NewUser::new("wangwu3", "w3@example.com", "short", "王五"))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("password"), "{e}");
    let created = c
        .create_user(
            NewUser::new("wangwu", "wangwu@example.com", "SecurePass123!", "王五")
                .role(Role::Tester),
        )
        .await
        .unwrap();
    assert_eq!(created.status, types::UserStatus::PendingVerification);
    let e = c
        .create_user(NewUser::new(
            "wangwu",
            "other@example.com",
            "SecurePass123!",
            "王五",
        ))
        .await
        .unwrap_err();
    assert_eq!(e.reason(), Some(Reason::Conflict), "{e}");
    // A bad project key never leaves the client.
    let e = c
        .create_project(NewProject::new("x", "ecom", "usr_abc123def456"))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("key"), "{e}");
}

#[tokio::test]
async fn tasks_follow_the_status_machine() {
    let sb = sandbox().await;
    let c = client(&sb);
    let task = c
        .create_task(
            "prj_ecom2026031401",
            NewTask::new(TaskType::Bug, "登录页报错").label("frontend"),
        )
        .await
        .unwrap();
    assert_eq!(task.status, TaskStatus::Todo);
    let e = c
        .move_task(&task.id, TaskStatus::Done, None)
        .await
        .unwrap_err();
    assert_eq!(e.reason(), Some(Reason::Conflict), "{e}");
    for status in [
        TaskStatus::InProgress,
        TaskStatus::Review,
        TaskStatus::Testing,
        TaskStatus::Done,
    ] {
        assert_eq!(
            c.move_task(&task.id, status, Some("ok"))
                .await
                .unwrap()
                .status,
            status
        );
    }
    let listed: Vec<_> = c
        .tasks("prj_ecom2026031401", Default::default())
        .map_ok(|t| t.id)
        .try_collect()
        .await
        .unwrap();
    assert!(listed.contains(&task.id));
}

/// Runs the four waits to their ends.
async fn every_wait(c: &Client) {
    let mut input = serde_json::Map::new();
    input.insert("requirement".into(), "实现用户中心模块".into());
    let (activation, _) = c
        .activate_agent(
            AgentType::Product,
            types::ActivateAgentRequest {
                task_id: "task_ecom001".into(),
                input,
                config: Default::default(),
                notify_on_complete: true,
            },
        )
        .await
        .unwrap();
    let steps = Arc::new(Mutex::new(Vec::new()));
    let seen = steps.clone();
    let result = activation
        .wait()
        .on_progress(move |p| seen.lock().unwrap().push(p.progress))
        .await
        .unwrap();
    assert_eq!(result.status, "completed");
    assert!(steps.lock().unwrap().len() >= 2, "progress was reported");

    let build = c
        .trigger_pipeline("pipe_ecom_main", Default::default())
        .await
        .unwrap();
    let stages: Vec<_> = build
        .wait()
        .stream()
        .map(|b| b.unwrap().status)
        .collect()
        .await;
    assert_eq!(
        stages.last().map(String::as_str),
        Some("success"),
        "{stages:?}"
    );

    let (deployment, _) = c
        .deploy(types::CreateDeploymentRequest {
            application_id: "app_ecom_backend".into(),
            environment: Environment::Prod.to_string(),
            version: "1.5.0".into(),
            strategy: Some(types::DeploymentStrategy::Canary),
            approvals: vec!["usr_abc123def456".into()],
        })
        .await
        .unwrap();
    assert_eq!(deployment.wait().await.unwrap().status, "succeeded");

    let run = c
        .run_test_suite("suite_ecom_smoke", Default::default())
        .await
        .unwrap();
    let report = run.wait().await.unwrap();
    assert_eq!(report.status, "passed");
}

#[tokio::test]
async fn every_wait_ends_under_every_fault_kind() {
    let sb = sandbox().await;
    let c = client(&sb);
    every_wait(&c).await;
    let kinds = [
        FaultKind::Http429 {
            retry_after_secs: 1,
        },
        FaultKind::Http503,
        FaultKind::ResetMidBody,
        FaultKind::TruncatedJson,
        FaultKind::SlowBody {
            chunk_delay_ms: 5,
            chunk_size: 64,
        },
        FaultKind::Latency { ms: 100 },
    ];
    for kind in kinds {
        sb.clear_faults();
        for route in [
            "/agents/activations/*",
            "/builds/*",
            "/deployments/*",
            "/tests/runs/*",
        ] {
            let mut rule = FaultRule::new(kind.clone());
            rule.vendor = Some(Vendor::OpenclawDevops);
            rule.route = Some(route.into());
            rule.every = Some(2);
            rule.limit = Some(2);
            sb.add_fault(rule);
        }
        every_wait(&c).await;
        let hits: u64 = sb.faults().iter().map(|r| r.hits).sum();
        assert!(hits >= 4, "{kind:?}: the faults were hit ({hits})");
    }
}

#[tokio::test]
async fn a_wait_that_times_out_keeps_the_id() {
    let sb = Sandbox::builder()
        .configure(|c: &mut clawkit_sandbox::devops::Config| c.job_time = Duration::from_secs(30))
        .start()
        .await
        .unwrap();
    let c = client(&sb);
    let build = c
        .trigger_pipeline("pipe_ecom_main", Default::default())
        .await
        .unwrap();
    let e = build
        .wait()
        .timeout(Duration::from_millis(300))
        .await
        .unwrap_err();
    match e {
        clawkit::devops::Error::Flow(Flow::Timeout { id, what, .. }) => {
            assert_eq!((id.as_str(), what), (build.id.as_str(), "build"))
        }
        other => panic!("{other}"),
    }
}

#[tokio::test]
async fn webhooks_arrive_signed_retried_and_handled_once() {
    use axum::http::{HeaderMap, StatusCode};
    let sb = Sandbox::builder()
        .configure(|c: &mut clawkit_sandbox::devops::Config| {
            c.job_time = Duration::from_millis(300)
        })
        .configure(|c: &mut clawkit_sandbox::devops::Config| {
            c.webhook_backoff = Duration::from_millis(100)
        })
        .configure(|c: &mut clawkit_sandbox::devops::Config| {
            c.tiers
                .insert("sandbox".to_string(), DevopsTier::Enterprise);
        })
        .start()
        .await
        .unwrap();
    let c = client(&sb);
    // The receiver: the old and the new secret (a rotation), the first attempt answered 500.
    let receiver = Arc::new(Receiver::new("whsec_old").also("whsec_new"));
    type Seen = Vec<(HeaderMap, Vec<u8>, bool)>;
    let log: Arc<Mutex<Seen>> = Default::default();
    let attempts = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let app = {
        let (receiver, log, attempts) = (receiver.clone(), log.clone(), attempts.clone());
        axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
                let (receiver, log, attempts) = (receiver.clone(), log.clone(), attempts.clone());
                async move {
                    if attempts.fetch_add(1, Ordering::SeqCst) == 0 {
                        return StatusCode::INTERNAL_SERVER_ERROR;
                    }
                    match receiver.verify(&headers, &body) {
                        Ok(delivery) => {
                            log.lock()
                                .unwrap()
                                .push((headers, body.to_vec(), delivery.first_time));
                            StatusCode::OK
                        }
                        Err(_) => StatusCode::UNAUTHORIZED,
                    }
                }
            }),
        )
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let hook = c
        .create_webhook(&url, &[WebhookEventType::BuildCompleted], Some("whsec_new"))
        .await
        .unwrap();
    assert!(c.webhooks().await.unwrap().iter().any(|h| h.id == hook.id));
    let build = c
        .trigger_pipeline("pipe_ecom_main", Default::default())
        .await
        .unwrap();
    build.wait().await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while log.lock().unwrap().is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (headers, body, first) = log.lock().unwrap().first().cloned().expect("a delivery");
    assert!(first);
    assert!(attempts.load(Ordering::SeqCst) >= 2, "the 500 was retried");
    let delivery = Receiver::new("whsec_new").verify(&headers, &body).unwrap();
    assert_eq!(delivery.event.kind, EventKind::BuildCompleted);
    // The same delivery again is a duplicate; ten minutes later it is a replay.
    assert!(!receiver.verify(&headers, &body).unwrap().first_time);
    let later = SystemTime::now() + Duration::from_secs(600);
    assert!(receiver.verify_at(&headers, &body, later).is_err());
    // A receiver with neither secret refuses it.
    assert!(
        Receiver::new("whsec_other")
            .verify(&headers, &body)
            .is_err()
    );
    c.delete_webhook(&hook.id).await.unwrap();
}
