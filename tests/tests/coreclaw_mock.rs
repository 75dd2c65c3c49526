//! The generated CoreClaw client against httpmock, with the guide's own examples
//! (seeds/coreclaw-api-guide.zh.txt): method, path, headers and body of each request are checked,
//! then the guide's example response is decoded.

use clawkit_runtime::Runtime;
use clawkit_tests::runtime_with_header;
use coreclaw_api::Client;
use coreclaw_api::enums::{RunStatus, StatusCode};
use coreclaw_api::mock::MockServerExt;
use coreclaw_api::types;
use httpmock::{Method::GET, Method::POST, MockServer};
use serde_json::json;

fn client(server: &MockServer) -> Client {
    Client::new(
        &server.base_url(),
        runtime_with_header("api-key", "YOUR_API_KEY"),
    )
}

#[tokio::test]
async fn account_info_quick_test() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/v1/account/info")
                .header("api-key", "YOUR_API_KEY")
                .header("content-type", "application/json")
                .json_body(json!({}));
            then.status(200)
                .header("content-type", "application/json")
                .json_body(json!({
                    "code": 0, "message": "success",
                    "data": {"balance": "10.00", "traffic": "1000"}
                }));
        })
        .await;
    let response = client(&server)
        .get_account_info()
        .body(serde_json::from_value::<types::GetAccountInfoBody>(json!({})).unwrap())
        .send()
        .await
        .expect("the guide's response decodes");
    mock.assert_async().await;
    let data = &response.data;
    assert_eq!(data.balance, "10.00");
    // The guide shows traffic as a string; the vendor spec as an integer: both decode.
    assert_eq!(data.traffic.to_string(), "1000");
    assert_eq!(data.traffic_expiration_at, None);
}

#[tokio::test]
async fn store_search_needs_no_key_and_decodes_the_guide_example() {
    let server = MockServer::start_async().await;
    // The generated, typed mock: method and path come from the spec.
    let mock = server.search_store(|when, then| {
        when.search(&"amazon".parse().unwrap())
            .limit(std::num::NonZeroU64::new(5));
        // The guide's response, verbatim: no `message`.
        then.ok(&serde_json::from_value(json!({
            "code": 0,
            "data": {"scraper": [{
                "slug": "01KNXSHE0Y7DZKF1N8B1EMFX35",
                "title": "Amazon Global Product By URL",
                "description": "Extract product data from Amazon URLs"
            }]}
        }))
        .unwrap());
    });
    let plain = Client::new(&server.base_url(), Runtime::default());
    let response = plain
        .search_store()
        .search("amazon")
        .limit(std::num::NonZeroU64::new(5).unwrap())
        .send()
        .await
        .unwrap();
    mock.assert_async().await;
    assert_eq!(response.data.scraper[0].slug, "01KNXSHE0Y7DZKF1N8B1EMFX35");
}

#[tokio::test]
async fn worker_detail_accepts_memory_and_memory_bytes() {
    let server = MockServer::start_async().await;
    for (i, memory_field) in ["memory", "memory_bytes"].into_iter().enumerate() {
        let slug = format!("01KNXSHE0Y7DZKF1N8B1EMFX3{i}");
        let mut system = json!({"cpus": 0.125, "execute_limit_time_seconds": 1800});
        system[memory_field] = json!(512);
        server
            .mock_async(|when, then| {
                when.method(GET)
                    .path("/api/scraper")
                    .query_param("slug", &slug);
                // The guide's Worker detail: no `message`, no `readme`, no max_total_*.
                then.status(200).json_body(json!({
                    "code": 0,
                    "data": {
                        "version": "v1.0.1",
                        "parameters": {
                            "system": system,
                            "custom": {"properties": [
                                {"name": "urls", "type": "array", "title": "URLs", "required": true}
                            ]}
                        }
                    }
                }));
            })
            .await;
        let detail = client(&server)
            .get_scraper()
            .slug(&slug)
            .send()
            .await
            .unwrap();
        let system = &detail.data.parameters.system;
        assert_eq!(
            system.memory.or(system.memory_bytes),
            Some(512),
            "{memory_field}"
        );
        let custom = &detail.data.parameters.custom;
        assert_eq!(custom.properties[0].name, "urls");
        assert_eq!(custom.properties[0].required, Some(true));
    }
}

#[tokio::test]
async fn start_run_sends_the_guide_body() {
    let server = MockServer::start_async().await;
    let body = json!({
        "scraper_slug": "01KNXSHE0Y7DZKF1N8B1EMFX35",
        "version": "v1.0.1",
        "is_async": true,
        "input": {"parameters": {
            "system": {
                "cpus": 0.125, "memory": 512, "execute_limit_time_seconds": 1800,
                "max_total_charge": 0.0, "max_total_traffic": 0.0, "proxy_region": "US"
            },
            "custom": {"urls": [{"url": "https://www.amazon.com/dp/B0CHHSFMRL"}]}
        }}
    });
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/v1/scraper/run")
                .header("api-key", "YOUR_API_KEY")
                .header("content-type", "application/json")
                .json_body(body.clone());
            then.status(200).json_body(json!({
                "code": 0, "data": {"run_slug": "01KSFDS8XWTJME33C08XMCR6B9"}
            }));
        })
        .await;
    let request: types::StartScraperRunRequest = serde_json::from_value(body.clone()).unwrap();
    let response = client(&server)
        .start_run()
        .body(request)
        .send()
        .await
        .unwrap();
    mock.assert_async().await;
    assert_eq!(response.data.run_slug, "01KSFDS8XWTJME33C08XMCR6B9");
}

#[tokio::test]
async fn run_detail_decodes_status_and_both_worker_field_names() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/v1/run/detail")
                .header("api-key", "YOUR_API_KEY")
                .json_body(json!({"run_slug": "01KSFDS8XWTJME33C08XMCR6B9"}));
            then.status(200).json_body(json!({
                "code": 0, "message": "success",
                "data": {
                    "status": 5, "err_msg": "", "slug": "01KSFDS8XWTJME33C08XMCR6B9",
                    "actors_title": "Amazon Global Product By URL",
                    "actors_slug": "01KNXSHE0Y7DZKF1N8B1EMFX35",
                    "results": 20, "usage": "0.06", "started_at": 1773383784,
                    "finished_at": 1773383790, "duration": 6, "origin": "api",
                    "traffic": 23109, "version": "v1.0.1"
                }
            }));
        })
        .await;
    let detail = client(&server)
        .get_run()
        .body(types::RunSlugRequest {
            run_slug: "01KSFDS8XWTJME33C08XMCR6B9".into(),
        })
        .send()
        .await
        .unwrap();
    mock.assert_async().await;
    assert_eq!(detail.data.status, RunStatus::Aborting);
    assert_eq!(
        detail.data.actors_slug.as_deref(),
        Some("01KNXSHE0Y7DZKF1N8B1EMFX35")
    );
}

#[tokio::test]
async fn error_envelope_keeps_code_and_message() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/api/v1/account/info");
            then.status(400)
                .json_body(json!({"code": 20001, "message": "Invalid API key", "data": null}));
        })
        .await;
    let err = client(&server).get_account_info().send().await.unwrap_err();
    match err {
        coreclaw_api::Error::ErrorResponse(body) => {
            let code = body.code.expect("code present");
            assert_eq!(code, StatusCode::InvalidApiKey);
            assert_eq!(body.message, "Invalid API key");
        }
        other => panic!("expected the typed error envelope, got {other:?}"),
    }
}

#[test]
fn status_codes_keep_unknown_values() {
    assert_eq!(StatusCode::ALL.len(), 18);
    assert_eq!(StatusCode::from(4290), StatusCode::RateLimited);
    assert_eq!(StatusCode::from(99999), StatusCode::Unknown(99999));
    let status: RunStatus = serde_json::from_value(json!(9)).unwrap();
    assert_eq!(status, RunStatus::Unknown(9));
    assert_eq!(
        serde_json::to_value(RunStatus::Succeeded).unwrap(),
        json!(3)
    );
}

#[test]
fn completion_webhook_payload_decodes() {
    let event: types::RunCompletedEvent = serde_json::from_value(json!({
        "run_slug": "01KSFDS8XWTJME33C08XMCR6B9", "status": 3, "results": 20, "usage": "0.06"
    }))
    .unwrap();
    assert_eq!(event.status, RunStatus::Succeeded);
    assert_eq!(event.results, 20);
}
