//! Every decoder the facade feeds network bytes to, fed arbitrary and truncated bytes: envelopes,
//! Worker schemas, webhooks, offsets, token responses. No panic, only typed errors.

use std::sync::{Arc, Mutex, OnceLock};

use clawkit::RetryPolicy;
use clawkit::{bazhuayu, coreclaw};
use proptest::prelude::*;
use serde_json::{Value, json};

/// A server that answers every request with the status and body set last.
struct Echo {
    url: String,
    answer: Arc<Mutex<(u16, Vec<u8>)>>,
    runtime: tokio::runtime::Runtime,
}

fn echo() -> &'static Echo {
    static ECHO: OnceLock<Echo> = OnceLock::new();
    ECHO.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let answer = Arc::new(Mutex::new((200u16, Vec::new())));
        let shared = answer.clone();
        let url = runtime.block_on(async move {
            let app = axum::Router::new().fallback(move || {
                let shared = shared.clone();
                async move {
                    let (status, body) = shared.lock().unwrap().clone();
                    (
                        axum::http::StatusCode::from_u16(status)
                            .unwrap_or(axum::http::StatusCode::OK),
                        [("content-type", "application/json")],
                        body,
                    )
                }
            });
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = format!("http://{}", listener.local_addr().unwrap());
            tokio::spawn(async move { axum::serve(listener, app).await });
            url
        });
        Echo {
            url,
            answer,
            runtime,
        }
    })
}

fn respond(status: u16, body: &[u8]) {
    *echo().answer.lock().unwrap() = (status, body.to_vec());
}

fn coreclaw_client() -> coreclaw::Client {
    coreclaw::Client::builder()
        .api_key("k")
        .base_url(&echo().url)
        .retry(RetryPolicy::none())
        .build()
        .unwrap()
}

fn bazhuayu_client() -> bazhuayu::Client {
    bazhuayu::Client::builder()
        .credentials("u", "p")
        .base_url(&echo().url)
        .retry(RetryPolicy::none())
        .build()
        .unwrap()
}

/// Bodies worth trying: arbitrary bytes, JSON-ish values, and cuts of real answers.
fn bodies() -> impl Strategy<Value = Vec<u8>> {
    let real = prop_oneof![
        Just(json!({"code": 0, "message": "success", "data": {"run_slug": "01K"}})),
        Just(json!({"code": 0, "data": {"version": "v1", "parameters": {"system": {"cpus": 0.1, "execute_limit_time_seconds": 1}, "custom": {"properties": [{"name": "a", "type": "weird"}]}}}})),
        Just(json!({"code": 4290, "message": "slow", "data": null})),
        Just(json!({"access_token": "a", "token_type": "bearer", "expires_in": 5, "refresh_token": "r"})),
        Just(json!({"data": {"offset": 4, "total": 9, "restTotal": 5, "dataList": [{"a": "b"}]}, "error": "success", "error_Description": "ok"})),
        Just(json!({"data": [{"taskGroupId": 1, "taskGroupName": "g"}], "error": "success", "error_Description": "ok"})),
    ]
    .prop_map(|v| serde_json::to_vec(&v).unwrap());
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..200),
        (real.clone(), any::<prop::sample::Index>())
            .prop_map(|(b, i)| b[..i.index(b.len() + 1)].to_vec()),
        real,
        "[\\[\\]{}\":,0-9a-z ]{0,60}".prop_map(String::into_bytes),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 120, ..ProptestConfig::default() })]

    #[test]
    fn coreclaw_decoders_never_panic(status in prop_oneof![Just(200u16), Just(400), Just(429), Just(500), Just(503)], body in bodies()) {
        respond(status, &body);
        let client = coreclaw_client();
        echo().runtime.block_on(async {
            let _ = client.worker("x").await;
            let _ = client.account().await;
            let _ = client.run("x").detail().await;
            let _ = client.search("x", 1).await;
            let run = client.run("x");
            let mut items = run.items();
            while let Some(item) = futures::StreamExt::next(&mut items).await {
                if item.is_err() { break; }
            }
        });
        let _ = coreclaw::webhook::parse(&body);
    }

    #[test]
    fn bazhuayu_decoders_never_panic(status in prop_oneof![Just(200u16), Just(400), Just(401), Just(429), Just(503)], body in bodies()) {
        respond(status, &body);
        let client = bazhuayu_client();
        echo().runtime.block_on(async {
            let _ = client.task_groups().await;
            let mut pages = client.data_by_offset("t").pages();
            for _ in 0..3 {
                match futures::StreamExt::next(&mut pages).await {
                    Some(Ok(_)) => {}
                    _ => break,
                }
            }
        });
    }

    #[test]
    fn worker_schemas_from_any_detail_never_panic(props in prop::collection::vec((any::<String>(), any::<String>(), any::<Option<bool>>(), prop::option::of(any::<i64>())), 0..5)) {
        let properties: Vec<Value> = props
            .iter()
            .map(|(n, t, r, d)| json!({"name": n, "type": t, "required": r, "default": d, "minimum": d}))
            .collect();
        let detail = json!({"version": "v", "parameters": {"system": {"cpus": 1.0, "execute_limit_time_seconds": 1}, "custom": {"properties": properties}}});
        if let Ok(data) = serde_json::from_value(detail) {
            let worker = coreclaw::Worker::from_detail("s", data);
            let _ = worker.json_schema();
            let _ = worker.input().set_all(worker.example_input()).build();
        }
    }
}
