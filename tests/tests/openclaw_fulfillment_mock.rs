//! The generated OpenClaw fulfillment client against httpmock. The seed is an integration guide
//! without paths, so the request and response bodies are the spec's own examples (every path is
//! inferred); the signature headers follow the canonical string and test vector of the spec's
//! `info.description`.

use clawkit_runtime::sign::{SignError, Signer};
use clawkit_runtime::{Auth, Runtime};
use hmac::{Hmac, Mac};
use httpmock::{Method::POST, MockServer};
use openclaw_fulfillment_api::Client;
use openclaw_fulfillment_api::types;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use xtask::document::{self, Vendor};

const SECRET: &str = "cs_sandbox_5f2b9c7e4d1a";
const TIMESTAMP: &str = "2024-06-15T08:30:00+08:00";
const NONCE: &str = "7c9e6679-7425-40de-944b-e07fc1f90ae7";

/// `{METHOD}\n{REQUEST_TARGET}\n{TIMESTAMP}\n{NONCE}\n{BODY_SHA256}`, HMAC-SHA256 with the secret.
fn sign(method: &str, target: &str, body: &[u8]) -> String {
    let canonical = format!(
        "{method}\n{target}\n{TIMESTAMP}\n{NONCE}\n{}",
        hex::encode(Sha256::digest(body))
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(canonical.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The runtime's request hook adds the four signature headers (they are not method
/// parameters); here with the test vector's fixed timestamp and nonce.
struct VectorSigner;

impl Signer for VectorSigner {
    fn sign(
        &self,
        request: &mut reqwest::Request,
        _now: std::time::SystemTime,
    ) -> Result<(), SignError> {
        let body = clawkit_runtime::sign::body_bytes(request).unwrap_or_default();
        let target = match request.url().query() {
            Some(q) => format!("{}?{q}", request.url().path()),
            None => request.url().path().to_string(),
        };
        let signature = sign(request.method().as_str(), &target, body);
        let headers = request.headers_mut();
        headers.insert("x-openclaw-client-id", "oc_app_sandbox".parse().unwrap());
        headers.insert("x-openclaw-timestamp", TIMESTAMP.parse().unwrap());
        headers.insert("x-openclaw-nonce", NONCE.parse().unwrap());
        headers.insert("x-openclaw-signature", signature.parse().unwrap());
        Ok(())
    }
}

fn signed_runtime(bearer: Option<&str>) -> Runtime {
    let builder = Runtime::builder().signer(VectorSigner);
    match bearer {
        Some(token) => builder.auth(Auth::bearer(&token.to_string().into()).unwrap()),
        None => builder,
    }
    .build()
}

fn spec_example(pointer: &str) -> Value {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let prepared = document::load(&root, Vendor::find("openclaw-fulfillment").unwrap()).unwrap();
    prepared
        .document
        .pointer(pointer)
        .cloned()
        .expect("the spec has this example")
}

#[test]
fn the_spec_test_vector_reproduces() {
    let signature = sign(
        "POST",
        "/v2.1/orders/%231001/cancel",
        br#"{"reason":"customer_request"}"#,
    );
    assert_eq!(
        signature,
        "70bda7f8c5eeaa641a79206185815f86c694a7ee9a2e37570b6565a470fd3286"
    );
}

#[tokio::test]
async fn cancel_order_sends_signature_headers_and_an_encoded_order_number() {
    let server = MockServer::start_async().await;
    let body = br#"{"reason":"customer_request"}"#;
    let signature = sign("POST", "/v2.1/orders/%231001/cancel", body);
    let response = spec_example(
        "/paths/~1v2.1~1orders~1{order_no}~1cancel/post/responses/200/content/application~1json/example",
    );
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/v2.1/orders/%231001/cancel")
                .header("authorization", "Bearer oc_at_sandbox")
                .header("x-openclaw-client-id", "oc_app_sandbox")
                .header("x-openclaw-timestamp", TIMESTAMP)
                .header("x-openclaw-nonce", NONCE)
                .header("x-openclaw-signature", &signature)
                .header("content-type", "application/json")
                .json_body(json!({"reason": "customer_request"}));
            then.status(200).json_body(response.clone());
        })
        .await;
    let client = Client::new(&server.base_url(), signed_runtime(Some("oc_at_sandbox")));
    let order = client
        .cancel_order()
        .order_no("#1001")
        .body(serde_json::from_slice::<types::CancelOrderRequest>(body).unwrap())
        .send()
        .await
        .unwrap();
    mock.assert_async().await;
    assert_eq!(order.order_no, "#1001");
    assert_eq!(
        serde_json::to_value(order.status).unwrap(),
        json!("cancelled")
    );
}

#[tokio::test]
async fn a_bad_signature_is_a_typed_401() {
    let server = MockServer::start_async().await;
    let error =
        spec_example("/components/responses/Unauthorized/content/application~1json/example");
    server
        .mock_async(|when, then| {
            when.method(POST).path("/v2.1/auth/token");
            then.status(401).json_body(error.clone());
        })
        .await;
    let request = spec_example(
        "/paths/~1v2.1~1auth~1token/post/requestBody/content/application~1json/example",
    );
    let err = Client::new(&server.base_url(), signed_runtime(None))
        .create_access_token()
        .body(serde_json::from_value::<types::TokenRequest>(request).unwrap())
        .send()
        .await
        .unwrap_err();
    match err {
        openclaw_fulfillment_api::Error::ErrorResponse(e) => {
            assert_eq!(e.status().as_u16(), 401);
            assert_eq!(serde_json::to_value(&*e).unwrap()["code"], error["code"]);
        }
        other => panic!("expected the error body, got {other:?}"),
    }
}

#[test]
fn webhook_events_decode_from_the_spec_examples() {
    let event = |name: &str| {
        spec_example(&format!(
            "/paths/~1v2.1~1webhooks/post/callbacks/{name}/{{$request.body#~1url}}/post/requestBody/content/application~1json/example"
        ))
    };
    let order: types::OrderCreatedEvent = serde_json::from_value(event("order.created")).unwrap();
    assert_eq!(order.data.order_no, "#1001");
    let logistics: types::LogisticsUpdatedEvent =
        serde_json::from_value(event("logistics.updated")).unwrap();
    assert!(!logistics.event_id.is_empty());
    let returned: types::ReturnReceivedEvent =
        serde_json::from_value(event("return.received")).unwrap();
    assert!(!returned.event_id.is_empty());
    let stock: types::InventoryChangedEvent =
        serde_json::from_value(event("inventory.changed")).unwrap();
    assert!(!stock.event_id.is_empty());
}
