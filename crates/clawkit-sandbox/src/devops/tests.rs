//! The DevOps sandbox end to end, over HTTP: auth and token expiry, refresh rotation, RBAC,
//! validation and conflicts, paging, the task state machine, rate limits and their headers, the
//! jobs (agents, builds, deployments, test runs) and signed, retried webhook deliveries.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use super::*;
use crate::vendor::testing::parts;
use crate::{Sandbox, Vendor};

/// One answer: status, headers, JSON body (`Null` when there is none).
struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

impl Answer {
    fn header(&self, name: &str) -> Option<i64> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
    }

    /// Asserts the four rate-limit headers are there.
    fn has_rate_headers(&self) -> bool {
        [
            "x-ratelimit-limit",
            "x-ratelimit-remaining",
            "x-ratelimit-reset",
            "retry-after",
        ]
        .iter()
        .all(|h| self.header(h).is_some())
    }

    fn error_code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or_default()
    }
}

/// A client of one sandbox's `/openclaw-devops`.
struct Client {
    base: String,
    http: reqwest::Client,
}

impl Client {
    fn of(sb: &Sandbox) -> Self {
        Self {
            base: sb.base_url(Vendor::OpenclawDevops),
            http: reqwest::Client::new(),
        }
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let mut request = self
            .http
            .request(method.parse().unwrap(), format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.unwrap_or_default();
        Answer {
            status,
            headers,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        }
    }

    async fn get(&self, path: &str, token: &str) -> Answer {
        self.call("GET", path, Some(token), None).await
    }

    async fn post(&self, path: &str, token: &str, body: Value) -> Answer {
        self.call("POST", path, Some(token), Some(body)).await
    }

    /// A token set of the client credentials (`None`) or of a user's password login.
    async fn login(&self, username: Option<&str>) -> Value {
        let body = match username {
            None => {
                json!({"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})
            }
            Some(u) => {
                json!({"grant_type": "password", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "username": u, "password": USER_PASSWORD})
            }
        };
        let answer = self.call("POST", "/auth/token", None, Some(body)).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        answer.body
    }

    async fn token(&self, username: Option<&str>) -> String {
        self.login(username).await["access_token"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Polls `path` until `done` says so (at most `limit`).
    async fn wait_for(
        &self,
        path: &str,
        token: &str,
        limit: Duration,
        mut done: impl FnMut(&Value) -> bool,
    ) -> Value {
        let start = Instant::now();
        loop {
            let answer = self.get(path, token).await;
            assert_eq!(answer.status, 200, "{}", answer.body);
            if done(&answer.body) {
                return answer.body;
            }
            assert!(
                start.elapsed() < limit,
                "{path} never got there: {}",
                answer.body
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

fn is_request_id(v: &Value) -> bool {
    v.as_str().is_some_and(|s| {
        s.len() == 16 && s.starts_with("req_") && s[4..].bytes().all(|c| c.is_ascii_hexdigit())
    })
}

#[tokio::test]
async fn a_token_opens_the_api_until_it_expires() {
    let sb = Sandbox::builder()
        .configure(|c: &mut crate::devops::Config| c.token_ttl = Duration::from_secs(1))
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
        sb.vendor::<crate::devops::Devops>()
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
    let stats = &sb.vendor::<crate::devops::Devops>().stats;
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
async fn users_are_validated_unique_and_deleted_softly_or_hard() {
    let sb = Sandbox::builder().start().await.unwrap();
    let api = Client::of(&sb);
    let admin = api.token(None).await;
    let bad = api
        .post(
            "/users",
            &admin,
            json!({"username": "ab", "email": "not-an-email", "password": "short", "role": "boss"}),
        )
        .await;
    assert_eq!((bad.status, bad.error_code()), (422, "VALIDATION_ERROR"));
    assert_eq!(bad.body["error"]["message"], "请求数据验证失败");
    let fields = &bad.body["error"]["details"]["fields"];
    let of = |field: &str| {
        fields
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["field"] == field)
            .map(|f| f["code"].as_str().unwrap().to_string())
    };
    assert_eq!(of("email").as_deref(), Some("invalid_format"));
    assert_eq!(of("password").as_deref(), Some("min_length"));
    assert_eq!(of("username").as_deref(), Some("min_length"));
    assert_eq!(of("fullName").as_deref(), Some("required"));
    assert_eq!(of("role").as_deref(), Some("invalid_value"));
    let weak = api
        .post("/users", &admin, json!({"username": "wangwu", "email": "wangwu@example.com", "password": "alllowercase1", "fullName": "王五"}))
        .await;
    assert_eq!(
        weak.body["error"]["details"]["fields"][0],
        json!({"field": "password", "message": "密码必须包含大小写字母和数字", "code": "invalid_format"})
    );

    let wangwu = json!({"username": "wangwu", "email": "wangwu@example.com", "password": "SecurePass123!", "fullName": "王五", "role": "tester", "department": "质量保障部"});
    let created = api.post("/users", &admin, wangwu.clone()).await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert!(created.has_rate_headers());
    assert_eq!(created.body["status"], "pending_verification");
    assert_eq!(created.body["verificationEmailSent"], true);
    assert_eq!(created.body["role"], "tester");
    let id = created.body["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("usr_") && id.len() == 16);

    let again = api.post("/users", &admin, wangwu).await;
    assert_eq!((again.status, again.error_code()), (409, "CONFLICT"));
    assert_eq!(again.body["error"]["details"]["field"], "username");
    let same_email = api
        .post("/users", &admin, json!({"username": "wangwu2", "email": "WANGWU@example.com", "password": "SecurePass123!", "fullName": "王五"}))
        .await;
    assert_eq!(same_email.status, 409);
    assert_eq!(same_email.body["error"]["details"]["field"], "email");

    // The new user logs in with its own password.
    let login = api
        .call("POST", "/auth/token", None, Some(json!({"grant_type": "password", "client_id": "sandbox", "client_secret": "sandbox-secret", "username": "wangwu", "password": "SecurePass123!"})))
        .await;
    assert_eq!(login.status, 200);
    assert_eq!(login.body["scope"], "read write");

    let put = api
        .call(
            "PUT",
            &format!("/users/{id}"),
            Some(&admin),
            Some(json!({"fullName": "王五丰", "role": "architect"})),
        )
        .await;
    assert_eq!(put.status, 200);
    assert_eq!(
        (put.body["fullName"].as_str(), put.body["role"].as_str()),
        (Some("王五丰"), Some("architect"))
    );
    let clash = api
        .call(
            "PUT",
            &format!("/users/{id}"),
            Some(&admin),
            Some(json!({"email": "zhangsan@example.com"})),
        )
        .await;
    assert_eq!(clash.status, 409);

    let deleted = api
        .call("DELETE", &format!("/users/{id}"), Some(&admin), None)
        .await;
    assert_eq!(deleted.status, 204);
    assert!(deleted.has_rate_headers());
    let gone = api.get(&format!("/users/{id}"), &admin).await;
    assert_eq!((gone.status, gone.error_code()), (404, "NOT_FOUND"));
    assert_eq!(
        gone.body["error"]["details"],
        json!({"resource": "user", "id": id})
    );
    // Soft-deleted: the name stays taken; a hard delete frees it.
    let zhangsan = api
        .call(
            "DELETE",
            "/users/usr_abc123def456?hard=true",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(zhangsan.status, 204);
    let reuse = api
        .post("/users", &admin, json!({"username": "zhangsan", "email": "zhangsan@example.com", "password": "SecurePass123!", "fullName": "张三"}))
        .await;
    assert_eq!(reuse.status, 201);
    let missing = api.get("/users/usr_invalid123", &admin).await;
    assert_eq!(missing.body["error"]["message"], "用户不存在");
}

#[tokio::test]
async fn the_user_list_pages_filters_searches_and_sorts() {
    let sb = Sandbox::builder()
        .configure(|c: &mut crate::devops::Config| c.users = 1_000)
        .start()
        .await
        .unwrap();
    let api = Client::of(&sb);
    let token = api.token(Some("viewer")).await;
    let page = api.get("/users", &token).await;
    assert_eq!(page.status, 200);
    assert_eq!(
        page.body["pagination"],
        json!({"page": 1, "pageSize": 20, "totalItems": 1000, "totalPages": 50, "hasNextPage": true, "hasPrevPage": false})
    );
    let created: Vec<&str> = page.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["createdAt"].as_str().unwrap())
        .collect();
    assert!(created.windows(2).all(|w| w[0] >= w[1]), "newest first");
    // Every user exactly once over all pages.
    let mut ids = Vec::new();
    for n in 1..=10 {
        let p = api
            .get(
                &format!("/users?page={n}&pageSize=100&sortBy=username&sortOrder=asc"),
                &token,
            )
            .await;
        ids.extend(
            p.body["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["id"].as_str().unwrap().to_string()),
        );
    }
    assert_eq!(ids.len(), 1_000);
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 1_000);

    let developers = api
        .get("/users?page=1&pageSize=20&role=developer", &token)
        .await;
    assert!(
        developers.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["role"] == "developer")
    );
    let found = api.get("/users?search=ZHANGSAN", &token).await;
    assert_eq!(found.body["data"][0]["id"], "usr_abc123def456");
    let chinese = api.get("/users?search=%E6%9D%8E%E5%9B%9B", &token).await;
    assert_eq!(chinese.body["data"][0]["username"], "lisi");
    let suspended = api
        .get("/users?status=suspended&pageSize=100", &token)
        .await;
    assert!(suspended.body["pagination"]["totalItems"].as_u64().unwrap() > 0);
    assert!(
        suspended.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["status"] == "suspended")
    );

    for (query, parameter) in [
        ("pageSize=101", "pageSize"),
        ("pageSize=0", "pageSize"),
        ("page=0", "page"),
        ("page=x", "page"),
        ("sortBy=password", "sortBy"),
        ("sortOrder=up", "sortOrder"),
        ("role=boss", "role"),
        ("status=pending_verification", "status"),
    ] {
        let bad = api.get(&format!("/users?{query}"), &token).await;
        assert_eq!(
            (bad.status, bad.error_code()),
            (400, "INVALID_REQUEST"),
            "{query}"
        );
        assert_eq!(
            bad.body["error"]["details"]["parameter"], parameter,
            "{query}"
        );
    }
    let beyond = api.get("/users?page=99999999999999999999999", &token).await;
    assert_eq!(beyond.status, 200);
    assert_eq!(beyond.body["data"], json!([]));
}

#[tokio::test]
async fn tasks_move_one_step_forward_or_back() {
    let sb = Sandbox::builder().start().await.unwrap();
    let api = Client::of(&sb);
    let developer = api.token(Some("developer")).await;
    let created = api
        .post("/projects/prj_ecom2026031401/tasks", &developer, json!({"type": "bug", "title": "修复登录超时", "storyPoints": 2.5, "labels": ["backend"]}))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["key"], "ECOM-2");
    assert_eq!(created.body["status"], "todo");
    assert_eq!(created.body["reporterId"], "usr_role_developer");
    assert_eq!(created.body["storyPoints"], 2.5);
    let id = created.body["id"].as_str().unwrap().to_string();
    let status = |to: &str| json!({"status": to, "comment": "流转"});
    let path = format!("/tasks/{id}/status");

    let jump = api
        .call("PUT", &path, Some(&developer), Some(status("done")))
        .await;
    assert_eq!((jump.status, jump.error_code()), (409, "CONFLICT"));
    assert_eq!(jump.body["error"]["details"]["from"], "todo");
    assert_eq!(jump.body["error"]["details"]["to"], "done");
    assert_eq!(
        jump.body["error"]["details"]["allowed"],
        json!(["in_progress"])
    );
    for to in [
        "in_progress",
        "review",
        "in_progress",
        "review",
        "testing",
        "done",
        "todo",
    ] {
        let moved = api
            .call("PUT", &path, Some(&developer), Some(status(to)))
            .await;
        assert_eq!(moved.status, 200, "{to}: {}", moved.body);
        assert_eq!(moved.body["status"], to);
    }
    let same = api
        .call("PUT", &path, Some(&developer), Some(status("todo")))
        .await;
    assert_eq!(same.status, 200);
    let unknown = api
        .call("PUT", &path, Some(&developer), Some(status("closed")))
        .await;
    assert_eq!(
        (unknown.status, unknown.error_code()),
        (422, "VALIDATION_ERROR")
    );
    let nowhere = api
        .call(
            "PUT",
            "/tasks/task_nope/status",
            Some(&developer),
            Some(status("todo")),
        )
        .await;
    assert_eq!(nowhere.status, 404);

    let list = api
        .get("/projects/prj_ecom2026031401/tasks?status=todo", &developer)
        .await;
    assert_eq!(list.body["pagination"]["totalItems"], 2);
    let project = api.get("/projects/prj_ecom2026031401", &developer).await;
    assert_eq!(project.body["stats"]["totalTasks"], 2);
    assert_eq!(project.body["stats"]["totalPRDs"], 1);
    assert_eq!(project.body["stats"]["totalDeployments"], 1);
}

#[tokio::test]
async fn projects_check_their_key_owner_and_members() {
    let sb = Sandbox::builder().start().await.unwrap();
    let api = Client::of(&sb);
    let pm = api.token(Some("product_manager")).await;
    let bad = api
        .post("/projects", &pm, json!({"name": "x", "key": "ecom", "ownerId": "usr_nobody", "members": ["usr_abc123def456", "usr_ghost"], "visibility": "secret"}))
        .await;
    assert_eq!(bad.status, 422);
    let fields: Vec<&str> = bad.body["error"]["details"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["visibility", "key", "ownerId", "members[1]"]);
    let duplicate = api
        .post(
            "/projects",
            &pm,
            json!({"name": "电商", "key": "ECOM", "ownerId": "usr_abc123def456"}),
        )
        .await;
    assert_eq!(
        (
            duplicate.status,
            duplicate.body["error"]["details"]["field"].as_str()
        ),
        (409, Some("key"))
    );
    let created = api
        .post("/projects", &pm, json!({"name": "支付中心", "key": "PAY2", "ownerId": "usr_role_product_manager", "members": ["usr_abc123def456"]}))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert!(created.body["id"].as_str().unwrap().starts_with("prj_pay2"));
    assert_eq!(created.body["visibility"], "private");
    let mine = api.get("/projects?role=owner", &pm).await;
    assert_eq!(mine.body["pagination"]["totalItems"], 1);
    assert_eq!(mine.body["data"][0]["key"], "PAY2");
    // A private project is not shown to a viewer who is not a member.
    let viewer = api.token(Some("viewer")).await;
    let seen = api.get("/projects", &viewer).await;
    assert_eq!(seen.body["pagination"]["totalItems"], 1);
    let id = created.body["id"].as_str().unwrap();
    assert_eq!(
        api.get(&format!("/projects/{id}"), &viewer).await.status,
        404
    );
    assert_eq!(api.get("/projects?role=boss", &viewer).await.status, 400);
}

#[tokio::test]
async fn a_free_account_that_bursts_is_rate_limited_with_headers() {
    let sb = Sandbox::builder()
        .configure(|c: &mut crate::devops::Config| {
            c.tiers.insert("sandbox".to_string(), DevopsTier::Free);
        })
        .start()
        .await
        .unwrap();
    let api = Client::of(&sb);
    let token = api.token(None).await;
    let first = api.get("/builds/build_20260314_120501", &token).await;
    assert_eq!(first.status, 200);
    assert_eq!(first.header("x-ratelimit-limit"), Some(60));
    // 60 less the token request and this one (plus what refilled meanwhile, 1 a second).
    let remaining = first.header("x-ratelimit-remaining").unwrap();
    assert!((57..=59).contains(&remaining), "{remaining}");
    assert_eq!(first.header("retry-after"), Some(0));
    let reset = first.header("x-ratelimit-reset").unwrap();
    let now = crate::kit::clock::unix_now();
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
    assert!(limited.header("retry-after").unwrap() >= 1);
    assert_eq!(limited.header("x-ratelimit-remaining"), Some(0));
    assert_eq!(
        limited.body["error"]["details"]["retryAfter"].as_i64(),
        limited.header("retry-after")
    );
    assert!(
        sb.vendor::<crate::devops::Devops>()
            .stats
            .rate_limited_minute
            .load(Ordering::Relaxed)
            >= 1
    );
    // Other accounts are not affected (the default tier is Pro).
    let devops = api.token(Some("devops")).await;
    let other = api.get("/builds/build_20260314_120501", &devops).await;
    assert_eq!(
        (other.status, other.header("x-ratelimit-limit")),
        (200, Some(300))
    );
    assert!(
        sb.vendor::<crate::devops::Devops>()
            .stats
            .max_concurrency("sandbox")
            >= 1
    );
}

#[tokio::test]
async fn malformed_bodies_and_unknown_things_answer_the_envelope() {
    let sb = Sandbox::builder().start().await.unwrap();
    let api = Client::of(&sb);
    let token = api.token(None).await;
    let response = reqwest::Client::new()
        .post(format!("{}/projects", api.base))
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
        .post(format!("{}/auth/token", api.base))
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
async fn the_seeds_objects_exist_finished() {
    let sb = Sandbox::builder().start().await.unwrap();
    let api = Client::of(&sb);
    let token = api.token(None).await;
    let result = api
        .get("/agents/activations/act_prod2026031401/result", &token)
        .await;
    assert_eq!(result.body["status"], "completed");
    assert_eq!(result.body["completedAt"], "2026-03-14T11:52:00Z");
    assert_eq!(
        result.body["metrics"],
        json!({"executionTime": 1847, "tokensUsed": 15234, "model": "claude-sonnet-4"})
    );
    let progress = api
        .get("/agents/activations/act_prod2026031401/progress", &token)
        .await;
    assert_eq!(progress.body["progress"], 100);
    assert_eq!(
        progress.body["intermediateResults"]["featureList"],
        json!(["手机号登录", "邮箱登录", "第三方登录"])
    );
    assert_eq!(
        progress.body["logs"][0],
        json!({"timestamp": "2026-03-14T11:35:00Z", "level": "info", "message": "开始需求分析"})
    );
    let build = api.get("/builds/build_20260314_120501", &token).await;
    assert_eq!(build.body["status"], "success");
    assert_eq!(
        build.body["stages"][1],
        json!({"name": "build", "status": "success", "duration": 180, "startedAt": "2026-03-14T12:07:15Z", "finishedAt": "2026-03-14T12:10:15Z"})
    );
    assert_eq!(build.body["artifacts"][0]["size"], 45_678_912);
    let deployment = api.get("/deployments/dep_20260314_130001", &token).await;
    assert_eq!(deployment.body["status"], "succeeded");
    assert_eq!(deployment.body["previousVersion"], "1.3.2");
    let report = api
        .get("/tests/runs/run_20260314_140000/report", &token)
        .await;
    assert_eq!(
        report.body["summary"],
        json!({"total": 48, "passed": 45, "failed": 2, "skipped": 1, "passRate": 93.75, "duration": 312})
    );
    assert_eq!(report.body["failures"][0]["browser"], "firefox");
    assert_eq!(report.body["finishedAt"], "2026-03-14T14:05:24Z");
    let hooks = api.get("/webhooks", &token).await;
    assert_eq!(hooks.body["data"][0]["id"], "wh_20260314_0001");
    assert!(hooks.body["data"][0].get("secret").is_none());
    let task = api.get("/tasks/task_ecom001", &token).await;
    assert_eq!(task.body["key"], "ECOM-1");
    let seed_list = api
        .get("/users?page=1&pageSize=20&role=developer", &token)
        .await;
    assert_eq!(seed_list.status, 200);
}

#[tokio::test]
async fn jobs_run_to_their_final_state() {
    let sb = Sandbox::builder()
        .configure(|c: &mut crate::devops::Config| c.job_time = Duration::from_millis(800))
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

/// What a webhook receiver got: headers and body of each attempt.
type Inbox = Arc<Mutex<Vec<(HeaderMap, Bytes)>>>;

/// A receiver that answers 500 to the first attempt and 200 after.
async fn receiver() -> (String, Inbox) {
    async fn receive(State(inbox): State<Inbox>, headers: HeaderMap, body: Bytes) -> StatusCode {
        let mut got = inbox.lock().unwrap();
        got.push((headers, body));
        if got.len() == 1 {
            StatusCode::INTERNAL_SERVER_ERROR
        } else {
            StatusCode::OK
        }
    }
    let inbox = Inbox::default();
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(receive))
        .with_state(inbox.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/hook"), inbox)
}

#[tokio::test]
async fn webhooks_are_delivered_signed_and_retried() {
    let sb = Sandbox::builder()
        .configure(|c: &mut crate::devops::Config| c.webhook_backoff = Duration::from_millis(100))
        .start()
        .await
        .unwrap();
    let api = Client::of(&sb);
    let devops = api.token(Some("devops")).await;
    let (url, inbox) = receiver().await;
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
    while inbox.lock().unwrap().len() < 2 {
        assert!(start.elapsed() < Duration::from_secs(5), "no retry arrived");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let got = inbox.lock().unwrap().clone();
    assert_eq!(
        got.len(),
        2,
        "one refused attempt, one acknowledged, nothing from the inactive hook"
    );
    let header = |h: &HeaderMap, name: &str| {
        h.get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    for (headers, body) in &got {
        let timestamp = header(headers, "x-openclaw-timestamp");
        let mut mac = Hmac::<Sha256>::new_from_slice(b"whsec_test").unwrap();
        mac.update(format!("{timestamp}.").as_bytes());
        mac.update(body);
        let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
        assert_eq!(header(headers, "x-openclaw-signature"), expected);
        assert_eq!(header(headers, "content-type"), "application/json");
        let event: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(event["event"], "project.created");
        assert_eq!(event["data"]["key"], "NOTIFY");
        assert_eq!(
            event["id"].as_str(),
            Some(header(headers, "x-openclaw-event-id").as_str())
        );
        assert!(event["id"].as_str().unwrap().starts_with("evt_"));
    }
    assert_eq!(got[0].1, got[1].1, "the same body on every attempt");
    let stats = &sb.vendor::<crate::devops::Devops>().stats;
    assert_eq!(stats.webhook_attempts.load(Ordering::Relaxed), 2);
    assert_eq!(stats.webhook_acknowledged.load(Ordering::Relaxed), 1);

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
        super::ROLE_USERS
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
