//! The DevOps sandbox end to end, over HTTP: auth and token expiry, refresh rotation, RBAC,
//! rate limits and their headers, malformed requests and the fault answers. The resources are in
//! `devops_resources.rs`, the jobs and webhooks in `devops_jobs.rs`.

mod devops_client;
mod support;

use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::Response;
use clawkit_sandbox::devops::{Config, Devops, DevopsTier};
use clawkit_sandbox::vendor::{Api, ErrorFault};
use clawkit_sandbox::{Sandbox, Vendor};
use devops_client::{Client, Reading, is_request_id};
use serde_json::{Value, json};

/// How the banner describes the role users, beside the client secret.
const ROLE_USERS: &str = "POST /auth/token client_secret (also the password grant's password of the users admin|product_manager|architect|developer|tester|devops|viewer)";

/// The status, the `Retry-After` header and the JSON body of an answer made in-process.
async fn parts(response: Response) -> (StatusCode, Option<String>, Value) {
    let status = response.status();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap_or_default();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, retry_after, body)
}

#[tokio::test]
async fn a_token_opens_the_api_until_it_expires() {
    let sb = Sandbox::builder()
        .configure(|c: &mut Config| c.token_ttl = Duration::from_secs(1))
        .start()
        .await
        .unwrap();
    let api = Client::of(&sb);
    let tokens = api.login(None).await;
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 1);
    assert_eq!(tokens["scope"], "read write admin");
    assert!(tokens["issued_at"].as_str().unwrap().ends_with('Z'));
    let token = tokens["access_token"].as_str().unwrap();
    assert!(token.starts_with("eyJ"));
    assert_eq!(token.split('.').count(), 3);

    let answer = api.get("/users/usr_abc123def456", token).await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.body,
        json!({
            "id": "usr_abc123def456", "username": "zhangsan", "email": "zhangsan@example.com",
            "fullName": "张三", "role": "developer", "status": "active",
            "avatar": "https://cdn.example.com/avatars/usr_abc123def456.jpg",
            "department": "研发中心", "createdAt": "2026-01-15T08:30:00Z",
            "lastLoginAt": "2026-03-14T09:15:00Z"
        })
    );
    assert!(answer.has_rate_headers());

    let missing = api.call("GET", "/users", None, None).await;
    assert_eq!(
        (missing.status, missing.error_code()),
        (401, "UNAUTHORIZED")
    );
    assert_eq!(missing.body["error"]["details"]["reason"], "missing_token");
    assert!(is_request_id(&missing.body["error"]["requestId"]));
    assert!(missing.has_rate_headers());
    let forged = api
        .get("/users", "eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl")
        .await;
    assert_eq!(forged.body["error"]["details"]["reason"], "invalid_token");

    tokio::time::sleep(Duration::from_millis(2_100)).await;
    let expired = api.get("/users", token).await;
    assert_eq!(
        (expired.status, expired.error_code()),
        (401, "UNAUTHORIZED")
    );
    assert_eq!(expired.body["error"]["details"]["reason"], "token_expired");
    assert!(expired.has_rate_headers());

    let wrong = api
        .call("POST", "/auth/token", None, Some(json!({"grant_type": "client_credentials", "client_id": "sandbox", "client_secret": "nope"})))
        .await;
    assert_eq!((wrong.status, wrong.error_code()), (401, "UNAUTHORIZED"));
    let incomplete = api
        .call("POST", "/auth/token", None, Some(json!({"grant_type": "password", "client_id": "sandbox", "client_secret": "sandbox-secret"})))
        .await;
    assert_eq!(
        (incomplete.status, incomplete.error_code()),
        (422, "VALIDATION_ERROR")
    );
    let fields: Vec<&str> = incomplete.body["error"]["details"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["username", "password"]);
    // The client is checked before what the grant needs.
    let stranger = api
        .call(
            "POST",
            "/auth/token",
            None,
            Some(json!({"grant_type": "password", "client_id": "your_client_id", "client_secret": "x"})),
        )
        .await;
    assert_eq!(stranger.status, 401);
    assert_eq!(
        stranger.body["error"]["details"]["reason"],
        "invalid_client"
    );
    assert_eq!(
        sb.vendor::<Devops>()
            .stats
            .token_grants
            .load(Ordering::Relaxed),
        1
    );
}

#[tokio::test]
async fn a_refresh_token_works_once() {
    let sb = Sandbox::builder().start().await.unwrap();
    let api = Client::of(&sb);
    let first = api.login(Some("devops")).await;
    assert_eq!(first["scope"], "read write");
    let refresh = json!({"refresh_token": first["refresh_token"]});
    let second = api
        .call("POST", "/auth/refresh", None, Some(refresh.clone()))
        .await;
    assert_eq!(second.status, 200, "{}", second.body);
    assert_ne!(second.body["refresh_token"], first["refresh_token"]);
    assert_ne!(second.body["access_token"], first["access_token"]);
    assert!(second.has_rate_headers());
    let again = api.call("POST", "/auth/refresh", None, Some(refresh)).await;
    assert_eq!((again.status, again.error_code()), (401, "UNAUTHORIZED"));
    assert_eq!(
        again.body["error"]["details"]["reason"],
        "refresh_token_reused"
    );
    let unknown = api
        .call(
            "POST",
            "/auth/refresh",
            None,
            Some(json!({"refresh_token": "nope"})),
        )
        .await;
    assert_eq!(unknown.status, 401);
    let stats = &sb.vendor::<Devops>().stats;
    assert_eq!(stats.refreshes.load(Ordering::Relaxed), 1);
    assert_eq!(stats.refresh_reuse.load(Ordering::Relaxed), 1);
    // The new tokens work, as the same user.
    let token = second.body["access_token"].as_str().unwrap();
    let answer = api
        .post(
            "/deployments",
            token,
            json!({"applicationId": "app_x", "environment": "dev", "version": "1.0.0"}),
        )
        .await;
    assert_eq!(answer.status, 202, "{}", answer.body);
    assert_eq!(answer.body["createdBy"], "usr_role_devops");
    let next = api
        .call(
            "POST",
            "/auth/refresh",
            None,
            Some(json!({"refresh_token": second.body["refresh_token"]})),
        )
        .await;
    assert_eq!(next.status, 200);
}

#[tokio::test]
async fn roles_limit_what_each_user_may_write() {
    let sb = Sandbox::builder().start().await.unwrap();
    let api = Client::of(&sb);
    let viewer = api.token(Some("viewer")).await;
    let tester = api.token(Some("tester")).await;
    let developer = api.token(Some("developer")).await;
    let devops = api.token(Some("devops")).await;

    let project = json!({"name": "新项目", "key": "NEW", "ownerId": "usr_abc123def456"});
    let refused = api.post("/projects", &viewer, project.clone()).await;
    assert_eq!((refused.status, refused.error_code()), (403, "FORBIDDEN"));
    assert_eq!(
        refused.body["error"]["details"],
        json!({"requiredRoles": ["admin", "product_manager"], "currentRole": "viewer"})
    );
    assert!(is_request_id(&refused.body["error"]["requestId"]));
    assert!(refused.has_rate_headers());

    let deployment =
        json!({"applicationId": "app_ecom_backend", "environment": "staging", "version": "1.5.0"});
    let refused = api.post("/deployments", &tester, deployment.clone()).await;
    assert_eq!(refused.status, 403);
    assert_eq!(refused.body["error"]["details"]["currentRole"], "tester");
    assert_eq!(
        api.post("/deployments", &devops, deployment).await.status,
        202
    );

    let user = json!({"username": "wangwu", "email": "wangwu@example.com", "password": "SecurePass123!", "fullName": "王五"});
    let refused = api.post("/users", &developer, user).await;
    assert_eq!(refused.status, 403);
    assert_eq!(
        refused.body["error"]["details"],
        json!({"requiredRole": "admin", "currentRole": "developer"})
    );
    // Everyone reads; the viewer cannot activate agents, the developer can trigger pipelines.
    assert_eq!(
        api.get("/projects/prj_ecom2026031401", &viewer)
            .await
            .status,
        200
    );
    let agent = json!({"taskId": "task_ecom001", "input": {}});
    assert_eq!(
        api.post("/agents/qa/activate", &viewer, agent.clone())
            .await
            .status,
        403
    );
    assert_eq!(
        api.post("/agents/qa/activate", &tester, agent).await.status,
        202
    );
    assert_eq!(
        api.post("/pipelines/pipe_ecom_main/trigger", &developer, json!({}))
            .await
            .status,
        202
    );
    assert_eq!(
        api.post("/pipelines/pipe_ecom_main/trigger", &tester, json!({}))
            .await
            .status,
        403
    );
    let pm = api.token(Some("lisi")).await;
    assert_eq!(api.post("/projects", &pm, project).await.status, 201);
}

#[tokio::test]
async fn a_free_account_that_bursts_is_rate_limited_with_headers() {
    let sb = Sandbox::builder()
        .configure(|c: &mut Config| {
            c.tiers.insert("sandbox".to_string(), DevopsTier::Free);
        })
        .start()
        .await
        .unwrap();
    let api = Client::of(&sb);
    let token = api.token(None).await;
    let first = api.get("/builds/build_20260314_120501", &token).await;
    assert_eq!(first.status, 200);
    assert_eq!(first.number("x-ratelimit-limit"), Some(60));
    // 60 less the token request and this one (plus what refilled meanwhile, 1 a second).
    let remaining = first.number("x-ratelimit-remaining").unwrap();
    assert!((57..=59).contains(&remaining), "{remaining}");
    assert_eq!(first.number("retry-after"), Some(0));
    let reset = first.number("x-ratelimit-reset").unwrap();
    let now = clawkit_sandbox::kit::clock::unix_now();
    assert!((now..=now + 5).contains(&reset), "{reset} vs {now}");
    let mut limited = None;
    for _ in 0..70 {
        let answer = api.get("/builds/build_20260314_120501", &token).await;
        assert!(answer.has_rate_headers());
        if answer.status == 429 {
            limited = Some(answer);
            break;
        }
    }
    let limited = limited.expect("a 429 within 70 requests");
    assert_eq!(limited.error_code(), "RATE_LIMITED");
    assert_eq!(limited.body["error"]["details"]["window"], "minute");
    assert_eq!(limited.body["error"]["details"]["limit"], 60);
    assert!(limited.number("retry-after").unwrap() >= 1);
    assert_eq!(limited.number("x-ratelimit-remaining"), Some(0));
    assert_eq!(
        limited.body["error"]["details"]["retryAfter"].as_i64(),
        limited.number("retry-after")
    );
    assert!(
        sb.vendor::<Devops>()
            .stats
            .rate_limited_minute
            .load(Ordering::Relaxed)
            >= 1
    );
    // Other accounts are not affected (the default tier is Pro).
    let devops = api.token(Some("devops")).await;
    let other = api.get("/builds/build_20260314_120501", &devops).await;
    assert_eq!(
        (other.status, other.number("x-ratelimit-limit")),
        (200, Some(300))
    );
    assert!(sb.vendor::<Devops>().stats.max_concurrency("sandbox") >= 1);
}

#[tokio::test]
async fn malformed_bodies_and_unknown_things_answer_the_envelope() {
    let sb = Sandbox::builder().start().await.unwrap();
    let api = Client::of(&sb);
    let token = api.token(None).await;
    let response = reqwest::Client::new()
        .post(format!("{}/projects", api.base()))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    assert!(response.headers().contains_key("x-ratelimit-limit"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "INVALID_REQUEST");
    let token_body = reqwest::Client::new()
        .post(format!("{}/auth/token", api.base()))
        .body("grant_type=password")
        .send()
        .await
        .unwrap();
    assert_eq!(token_body.status().as_u16(), 400);
    for (path, resource) in [
        ("/builds/build_nope", "build"),
        ("/deployments/dep_nope", "deployment"),
        ("/tests/runs/run_nope", "run"),
        ("/agents/activations/act_nope/progress", "activation"),
    ] {
        let answer = api.get(path, &token).await;
        assert_eq!(
            (answer.status, answer.error_code()),
            (404, "NOT_FOUND"),
            "{path}"
        );
        assert_eq!(answer.body["error"]["details"]["resource"], resource);
    }
    let trigger = api
        .post("/pipelines/pipe_nope/trigger", &token, json!({}))
        .await;
    assert_eq!(trigger.status, 404);
    let agent = api
        .post(
            "/agents/wizard/activate",
            &token,
            json!({"taskId": "task_ecom001", "input": {}}),
        )
        .await;
    assert_eq!(
        (
            agent.status,
            agent.body["error"]["details"]["parameter"].as_str()
        ),
        (400, Some("agentType"))
    );
    let no_task = api
        .post(
            "/agents/product/activate",
            &token,
            json!({"taskId": "task_nope", "input": {}}),
        )
        .await;
    assert_eq!(
        (
            no_task.status,
            no_task.body["error"]["details"]["resource"].as_str()
        ),
        (404, Some("task"))
    );
    // An id that is not UTF-8 names nothing.
    let garbled = api.get("/users/%FF", &token).await;
    assert_eq!((garbled.status, garbled.error_code()), (404, "NOT_FOUND"));
    assert_eq!(garbled.body["error"]["details"]["resource"], "user");
    // A path no route matches stays a bare 404.
    assert_eq!(api.get("/nowhere", &token).await.status, 404);
}

#[tokio::test]
async fn fault_answers_are_the_specs_envelopes_with_headers() {
    let devops = Devops::new(Config::default());
    let (status, retry, body) = parts(devops.fault_response(ErrorFault::Http429 {
        retry_after_secs: 7,
    }))
    .await;
    assert_eq!((status.as_u16(), retry.as_deref()), (429, Some("7")));
    assert_eq!(body["error"]["code"], "RATE_LIMITED");
    assert_eq!(
        body["error"]["details"],
        json!({"limit": 300, "window": "minute", "retryAfter": 7})
    );
    assert!(is_request_id(&body["error"]["requestId"]));
    let response = devops.fault_response(ErrorFault::Http503);
    for header in [
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
        "retry-after",
    ] {
        assert!(response.headers().contains_key(header), "{header}");
    }
    let (status, retry, body) = parts(response).await;
    assert_eq!((status.as_u16(), retry.as_deref()), (503, Some("1")));
    assert_eq!(body["error"]["code"], "SERVICE_UNAVAILABLE");
    let (status, _, body) = parts(devops.fault_response(ErrorFault::Code4290)).await;
    assert_eq!(
        (status.as_u16(), body["error"]["code"].as_str()),
        (429, Some("RATE_LIMITED"))
    );
    let sb = Sandbox::builder().start().await.unwrap();
    assert!(sb.banner().contains(&format!(
        "  OpenclawDevops POST /auth/token client_credentials client_id: sandbox   (OPENCLAW_DEVOPS_CLIENT_ID)\n  OpenclawDevops {}: sandbox-secret   (OPENCLAW_DEVOPS_CLIENT_SECRET)\n",
        ROLE_USERS
    )));
    assert!(!sb.banner().contains("openclaw-devops  (not served yet)"));
    assert_eq!(
        sb.credentials(Vendor::OpenclawDevops),
        [
            ("CLIENT_ID", "sandbox".to_string()),
            ("CLIENT_SECRET", "sandbox-secret".to_string())
        ]
    );
    assert_eq!(
        devops
            .credentials()
            .iter()
            .map(|c| (c.env, c.value.as_str()))
            .collect::<Vec<_>>(),
        [
            ("CLIENT_ID", "sandbox"),
            ("CLIENT_SECRET", "sandbox-secret")
        ]
    );
}
