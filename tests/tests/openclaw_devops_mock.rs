//! The generated OpenClaw DevOps v2 client against httpmock, with the seed's own examples
//! (seeds/openclaw-devops-api-v2.zh.txt).

use clawkit_runtime::Runtime;
use clawkit_tests::runtime_with_header;
use httpmock::{Method::GET, Method::POST, MockServer};
use openclaw_devops_api::Client;
use openclaw_devops_api::mock::MockServerExt;
use openclaw_devops_api::types;
use serde_json::json;

const JWT: &str = "Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9...";

fn authed(server: &MockServer) -> Client {
    Client::new(
        &server.base_url(),
        runtime_with_header("authorization", JWT),
    )
}

fn rate_limit_headers(then: httpmock::Then) -> httpmock::Then {
    then.header("content-type", "application/json")
        .header("X-RateLimit-Limit", "300")
        .header("X-RateLimit-Remaining", "287")
        .header("X-RateLimit-Reset", "1710411600")
}

#[tokio::test]
async fn client_credentials_token() {
    let server = MockServer::start_async().await;
    let request = json!({
        "grant_type": "client_credentials",
        "client_id": "your_client_id",
        "client_secret": "your_client_secret"
    });
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/auth/token")
                .header("content-type", "application/json")
                .json_body(request.clone());
            rate_limit_headers(then.status(200)).json_body(json!({
                "access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9...",
                "token_type": "Bearer",
                "expires_in": 3600,
                "refresh_token": "dGhpcyBpcyBhIHJlZnJlc2ggdG9rZW4...",
                "scope": "read write admin",
                "issued_at": "2026-03-14T10:30:00Z"
            }));
        })
        .await;
    let body: types::TokenRequest = serde_json::from_value(request.clone()).unwrap();
    let token = Client::new(&server.base_url(), Runtime::default())
        .create_token()
        .body(body)
        .send()
        .await
        .unwrap();
    mock.assert_async().await;
    assert_eq!(token.expires_in, 3600);
    assert_eq!(token.headers().get("x-ratelimit-remaining").unwrap(), "287");
}

#[tokio::test]
async fn list_users_with_pagination() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/users")
                .header("authorization", JWT)
                .query_param("page", "1")
                .query_param("pageSize", "20")
                .query_param("role", "developer");
            rate_limit_headers(then.status(200)).json_body(json!({
                "data": [{
                    "id": "usr_abc123def456", "username": "zhangsan", "email": "zhangsan@example.com",
                    "fullName": "张三", "role": "developer", "status": "active",
                    "avatar": "https://cdn.example.com/avatars/usr_abc123def456.jpg",
                    "department": "研发中心", "createdAt": "2026-01-15T08:30:00Z",
                    "lastLoginAt": "2026-03-14T09:15:00Z"
                }],
                "pagination": {"page": 1, "pageSize": 20, "totalItems": 156, "totalPages": 8,
                               "hasNextPage": true, "hasPrevPage": false}
            }));
        })
        .await;
    let users = authed(&server)
        .list_users()
        .page(std::num::NonZeroU64::new(1).unwrap())
        .page_size(std::num::NonZeroU64::new(20).unwrap())
        .role(types::Role::Developer)
        .send()
        .await
        .unwrap();
    mock.assert_async().await;
    assert_eq!(users.data[0].full_name, "张三");
    assert_eq!(users.pagination.total_items, 156);
    assert!(users.pagination.has_next_page);
}

#[tokio::test]
async fn create_user_is_201_with_the_seed_body() {
    let server = MockServer::start_async().await;
    let request = json!({
        "username": "wangwu", "email": "wangwu@example.com", "password": "SecurePass123!",
        "fullName": "王五", "role": "tester", "department": "质量保障部"
    });
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/users")
                .header("authorization", JWT)
                .json_body(request.clone());
            rate_limit_headers(then.status(201)).json_body(json!({
                "id": "usr_new789xyz456", "username": "wangwu", "email": "wangwu@example.com",
                "fullName": "王五", "role": "tester", "status": "pending_verification",
                "department": "质量保障部", "createdAt": "2026-03-14T10:45:00Z",
                "verificationEmailSent": true
            }));
        })
        .await;
    let body: types::CreateUserRequest = serde_json::from_value(request.clone()).unwrap();
    let user = authed(&server)
        .create_user()
        .body(body)
        .send()
        .await
        .unwrap();
    mock.assert_async().await;
    assert_eq!(user.status().as_u16(), 201);
    assert_eq!(user.status, types::UserStatus::PendingVerification);
}

#[test]
fn the_seed_password_rules_are_enforced_by_the_types() {
    let short = json!({"username": "wangwu", "email": "w@example.com", "password": "short",
                       "fullName": "王五"});
    assert!(serde_json::from_value::<types::CreateUserRequest>(short).is_err());
    let bad_name = json!({"username": "a b", "email": "w@example.com", "password": "SecurePass123!",
                          "fullName": "王五"});
    assert!(serde_json::from_value::<types::CreateUserRequest>(bad_name).is_err());
}

#[tokio::test]
async fn activate_agent_is_202() {
    let server = MockServer::start_async().await;
    let request = json!({
        "taskId": "task_ecom001",
        "input": {"requirement": "实现用户中心模块,支持手机号登录、邮箱登录、第三方登录",
                  "context": "电商后台管理系统 v1.0"},
        "config": {"model": "claude-sonnet-4", "temperature": 0.7, "outputFormat": "markdown"},
        "notifyOnComplete": true
    });
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/agents/product/activate")
                .header("authorization", JWT)
                .json_body(request.clone());
            rate_limit_headers(then.status(202)).json_body(json!({
                "activationId": "act_prod2026031401", "agentType": "product",
                "taskId": "task_ecom001", "status": "processing",
                "estimatedCompletionTime": "2026-03-14T12:00:00Z",
                "progressUrl": "/agents/activations/act_prod2026031401/progress"
            }));
        })
        .await;
    let body: types::ActivateAgentRequest = serde_json::from_value(request.clone()).unwrap();
    let activation = authed(&server)
        .activate_agent()
        .agent_type(types::AgentType::Product)
        .body(body)
        .send()
        .await
        .unwrap();
    mock.assert_async().await;
    assert_eq!(activation.activation_id, "act_prod2026031401");
}

#[tokio::test]
async fn trigger_pipeline_then_read_the_build() {
    let server = MockServer::start_async().await;
    let trigger = server.trigger_pipeline(|when, then| {
        when.pipeline_id("pipe_ecom_main");
        then.accepted(
            &serde_json::from_value(json!({
                "buildId": "build_20260314_120501", "pipelineId": "pipe_ecom_main",
                "status": "queued", "queuePosition": 2, "triggeredBy": "usr_abc123def456",
                "triggeredAt": "2026-03-14T12:05:01Z", "estimatedStartTime": "2026-03-14T12:07:00Z"
            }))
            .unwrap(),
        );
    });
    let build = server
        .mock_async(|when, then| {
            when.method(GET).path("/builds/build_20260314_120501");
            rate_limit_headers(then.status(200)).json_body(json!({
                "buildId": "build_20260314_120501", "pipelineId": "pipe_ecom_main",
                "status": "running", "currentStage": "test", "progress": 60,
                "stages": [
                    {"name": "checkout", "status": "success", "duration": 15,
                     "startedAt": "2026-03-14T12:07:00Z", "finishedAt": "2026-03-14T12:07:15Z"},
                    {"name": "test", "status": "running", "progress": 45, "startedAt": "2026-03-14T12:10:15Z"},
                    {"name": "deploy", "status": "pending"}
                ],
                "artifacts": [{"name": "app.jar", "size": 45678912,
                               "url": "https://artifacts.example.com/build_20260314_120501/app.jar"}],
                "logs": {"console": "https://logs.example.com/build_20260314_120501/console",
                         "testReport": "https://logs.example.com/build_20260314_120501/test-report"}
            }));
        })
        .await;
    let client = authed(&server);
    let queued = client
        .trigger_pipeline()
        .pipeline_id("pipe_ecom_main")
        .body(types::TriggerPipelineRequest::builder())
        .send()
        .await
        .unwrap();
    let detail = client
        .get_build()
        .build_id(&queued.build_id)
        .send()
        .await
        .unwrap();
    trigger.assert();
    build.assert_async().await;
    assert_eq!(detail.stages.len(), 3);
    assert_eq!(detail.artifacts[0].size, Some(45678912));
}

#[tokio::test]
async fn not_found_decodes_the_error_envelope() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/users/usr_invalid123");
            rate_limit_headers(then.status(404)).json_body(json!({
                "error": {
                    "code": "NOT_FOUND", "message": "用户不存在",
                    "details": {"resource": "user", "id": "usr_invalid123"},
                    "requestId": "req_abc123def456", "timestamp": "2026-03-14T12:30:00Z"
                }
            }));
        })
        .await;
    match authed(&server)
        .get_user()
        .user_id("usr_invalid123")
        .send()
        .await
        .unwrap_err()
    {
        openclaw_devops_api::Error::ErrorResponse(e) => {
            assert_eq!(e.error.code, types::ErrorCode::NotFound);
            assert_eq!(e.error.request_id, "req_abc123def456");
        }
        other => panic!("expected the error envelope, got {other:?}"),
    }
}
