//! The generated Bazhuayu DataAPI client against httpmock, with the seed's own examples
//! (seeds/bazhuayu-dataapi.zh.txt, paths from reference/bazhuayu-paths.md).

use bazhuayu_api::Client;
use bazhuayu_api::mock::MockServerExt;
use bazhuayu_api::types;
use clawkit_runtime::Runtime;
use clawkit_tests::runtime_with_header;
use httpmock::{Method::GET, Method::POST, MockServer};
use serde_json::json;

const TASK: &str = "337fd7d7-aded-4081-9104-2b551161ccc8";

fn authed(server: &MockServer) -> Client {
    // Seed 1.4.1: "Authorization: bearer {access_token}", with a space.
    Client::new(
        &server.base_url(),
        runtime_with_header("authorization", "bearer ABCD1234"),
    )
}

fn rows() -> serde_json::Value {
    json!([
        {"词条": "深圳视界", "简介": "领先的信息化解决方案提供商,致力于企业级数据整合,网页数据采集,整理,分析和挖掘。"},
        {"词条": "八爪鱼", "简介": "它彻底改变了我对爬虫和采集器的认识,让网页数据采集变得前所未有的简单。"},
        {"词条": "数多多", "简介": "致力于打造大数据共享与交易平台。"},
        {"词条": "微图", "简介": "一款简单易用的数据分析及可视化工具,支持自然语言分析及文本挖掘。"}
    ])
}

#[tokio::test]
async fn password_grant_is_a_form_post() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/token")
                .header("content-type", "application/x-www-form-urlencoded")
                .form_urlencoded_tuple("username", "bazhuayu")
                .form_urlencoded_tuple("password", "secret")
                .form_urlencoded_tuple("grant_type", "password")
                .form_urlencoded_tuple_missing("refresh_token");
            then.status(200)
                .header("content-type", "application/json")
                .json_body(json!({
                    "access_token": "ABCD1234", "token_type": "bearer",
                    "expires_in": 86399, "refresh_token": "refresh_token"
                }));
        })
        .await;
    let body = types::TokenRequest {
        grant_type: types::TokenRequestGrantType::Password,
        username: Some("bazhuayu".into()),
        password: Some("secret".into()),
        refresh_token: None,
    };
    let token = Client::new(&server.base_url(), Runtime::default())
        .create_token()
        .body(body)
        .send()
        .await
        .unwrap();
    mock.assert_async().await;
    assert_eq!(token.access_token, "ABCD1234");
    assert_eq!(token.expires_in, 86399);
}

#[tokio::test]
async fn refresh_grant_and_its_oauth_error() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/token")
                .form_urlencoded_tuple("refresh_token", "refresh_token")
                .form_urlencoded_tuple("grant_type", "refresh_token")
                .form_urlencoded_tuple_missing("password");
            then.status(400)
                .json_body(json!({"error": "invalid_grant"}));
        })
        .await;
    let body = types::TokenRequest {
        grant_type: types::TokenRequestGrantType::RefreshToken,
        username: None,
        password: None,
        refresh_token: Some("refresh_token".into()),
    };
    let err = Client::new(&server.base_url(), Runtime::default())
        .create_token()
        .body(body)
        .send()
        .await
        .unwrap_err();
    mock.assert_async().await;
    match err {
        bazhuayu_api::Error::ErrorResponse(e) => assert_eq!(e.error, "invalid_grant"),
        other => panic!("expected the OAuth error body, got {other:?}"),
    }
}

#[tokio::test]
async fn task_groups_and_tasks() {
    let server = MockServer::start_async().await;
    let groups = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/TaskGroup")
                .header("authorization", "bearer ABCD1234");
            then.status(200).json_body(json!({
                "data": [
                    {"taskGroupId": 1, "taskGroupName": "示例组1"},
                    {"taskGroupId": 2, "taskGroupName": "示例组2"}
                ],
                "error": "success", "error_Description": "操作成功"
            }));
        })
        .await;
    let tasks = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/Task").query_param("taskGroupId", "1");
            then.status(200).json_body(json!({
                "data": [
                    {"taskId": TASK, "taskName": "示例任务1", "creationUserId": "5d1e4b3c-645c-44ab-ac0e-bfa9ad600ece"},
                    {"taskId": "4adf489b-f883-43fa-b958-0cfde945ddb7", "taskName": "示例任务2", "creationUserId": "5d1e4b3c-645c-44ab-ac0e-bfa9ad600ece"}
                ],
                "error": "success", "error_Description": "操作成功"
            }));
        })
        .await;
    let client = authed(&server);
    let g = client.list_task_groups().send().await.unwrap();
    assert_eq!(g.data[1].task_group_name, "示例组2");
    let t = client
        .list_tasks()
        .task_group_id(g.data[0].task_group_id)
        .send()
        .await
        .unwrap();
    assert_eq!(t.data[0].task_id, TASK);
    groups.assert_async().await;
    tasks.assert_async().await;
}

#[tokio::test]
async fn data_by_offset_returns_an_opaque_next_offset() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/alldata/GetDataOfTaskByOffset")
                .header("authorization", "bearer ABCD1234")
                .query_param("taskId", TASK)
                .query_param("offset", "0")
                .query_param("size", "4");
            then.status(200).json_body(json!({
                "data": {"offset": 4, "total": 100000, "restTotal": 99996, "dataList": rows()},
                "error": "success", "error_Description": "操作成功"
            }));
        })
        .await;
    let page = authed(&server)
        .get_data_by_offset()
        .task_id(TASK)
        .offset(0)
        .size(std::num::NonZeroU32::new(4).unwrap())
        .send()
        .await
        .unwrap();
    mock.assert_async().await;
    assert_eq!(page.data.offset, 4);
    assert_eq!(page.data.rest_total, 99996);
    assert_eq!(page.data.data_list[1].get("词条"), Some(&json!("八爪鱼")));
}

#[tokio::test]
async fn export_batch_then_mark_exported() {
    let server = MockServer::start_async().await;
    let top = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/notexportdata/gettop")
                .query_param("taskId", TASK)
                .query_param("size", "1000");
            then.status(200).json_body(json!({
                "data": {"total": 100000, "currentTotal": 4, "dataList": rows()},
                "error": "success", "error_Description": "操作成功"
            }));
        })
        .await;
    // The typed mock generated from the spec.
    let update = server.mark_data_exported(|when, then| {
        when.task_id(TASK);
        then.ok(&serde_json::from_value(
            json!({"error": "success", "error_Description": "操作成功"}),
        )
        .unwrap());
    });
    let client = authed(&server);
    let batch = client
        .export_data_batch()
        .task_id(TASK)
        .size(std::num::NonZeroU32::new(1000).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(batch.data.current_total, 4);
    assert_eq!(batch.data.data_list.len(), 4);
    let marked = client
        .mark_data_exported()
        .task_id(TASK)
        .send()
        .await
        .unwrap();
    assert_eq!(marked.error, "success");
    top.assert_async().await;
    update.assert();
}

#[tokio::test]
async fn an_expired_token_is_a_typed_401() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/api/TaskGroup");
            then.status(401).json_body(json!({
                "data": null, "error": "unauthorized",
                "error_Description": "access_token无效 ,原因是token过期或者非法,此时需要重新获取token。"
            }));
        })
        .await;
    match authed(&server).list_task_groups().send().await.unwrap_err() {
        bazhuayu_api::Error::ErrorResponse(e) => {
            assert_eq!(e.status().as_u16(), 401);
            assert_eq!(e.error, "unauthorized");
        }
        other => panic!("expected the error envelope, got {other:?}"),
    }
}
