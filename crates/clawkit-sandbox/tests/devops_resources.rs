//! The DevOps sandbox's resources end to end, over HTTP: users (validation, uniqueness, soft and
//! hard deletes, the list's paging, filters, search and sorting), projects and their tasks (the
//! task state machine), and the seed's objects as the spec's examples show them.

mod devops_client;
mod support;

use clawkit_sandbox::Sandbox;
use clawkit_sandbox::devops::Config;
use devops_client::{Client, Reading};
use serde_json::json;

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
        .configure(|c: &mut Config| c.users = 1_000)
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
