//! What the OpenClaw fulfillment tests share: a client that signs every request the way the
//! vendor's scheme says (with the sandbox's public signing functions), the error code of an
//! answer, a valid order body and the ATS of a stock row.

#![allow(dead_code)] // each test file uses a part of it

use clawkit_sandbox::fulfillment::signing::{canonical, hmac_hex};
use clawkit_sandbox::fulfillment::{CLIENT_ID, CLIENT_SECRET};
use clawkit_sandbox::kit::clock::{in_offset, unix_millis};
use clawkit_sandbox::kit::ids::random_u64;
use clawkit_sandbox::{Sandbox, SandboxBuilder, Vendor};
use serde_json::{Value, json};

use crate::support::{Answer, eventually};

/// `ms` as the vendor writes times: RFC 3339 in `+08:00`, whole seconds.
pub fn rfc3339(ms: i64) -> String {
    in_offset(ms, 8 * 3600)
}

/// The vendor's error code of an answer.
pub trait Coded {
    /// The `code` of the `Error` body (empty if none).
    fn code(&self) -> &str;
    /// Asserts the status and the error code; shows the body otherwise.
    fn expect_code(&self, status: u16, code: &str) -> &Self;
}

impl Coded for Answer {
    fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or_default()
    }

    fn expect_code(&self, status: u16, code: &str) -> &Self {
        assert_eq!((self.status, self.code()), (status, code), "{}", self.body);
        self
    }
}

/// A signing client of one sandbox's `/openclaw-fulfillment`.
pub struct Client {
    /// The vendor's base URL.
    pub base: String,
    /// The HTTP client.
    pub http: reqwest::Client,
    /// The access token sent as `Authorization: Bearer`, if any.
    pub token: Option<String>,
    /// Seconds added to the local clock when signing.
    pub skew: i64,
}

impl Client {
    /// A client that has logged in.
    pub async fn of(sb: &Sandbox) -> Self {
        let mut client = Self::anonymous(sb);
        client.login().await;
        client
    }

    /// A client without a token.
    pub fn anonymous(sb: &Sandbox) -> Self {
        Self {
            base: sb.base_url(Vendor::OpenclawFulfillment),
            http: reqwest::Client::new(),
            token: None,
            skew: 0,
        }
    }

    /// Asks for a token with the app's credentials and keeps it; the `AccessToken` body.
    pub async fn login(&mut self) -> Value {
        let body = json!({"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET});
        let answer = self.send("POST", "/v2.1/auth/token", Some(body)).await;
        answer.expect(200);
        self.token = answer.body["access_token"].as_str().map(str::to_string);
        answer.body
    }

    /// The request, signed now (local clock plus `skew`) with a fresh nonce.
    pub fn request(&self, method: &str, path: &str, body: &[u8]) -> reqwest::RequestBuilder {
        let at = rfc3339(unix_millis() + self.skew * 1000);
        let nonce = format!("{:016x}{:016x}", random_u64(), random_u64());
        self.signed(method, path, body, &at, &nonce)
    }

    /// The request with the given signing time and nonce.
    pub fn signed(
        &self,
        method: &str,
        path: &str,
        body: &[u8],
        at: &str,
        nonce: &str,
    ) -> reqwest::RequestBuilder {
        let url = reqwest::Url::parse(&format!("{}{path}", self.base)).unwrap();
        let mut target = url
            .path()
            .trim_start_matches("/openclaw-fulfillment")
            .to_string();
        if let Some(q) = url.query().filter(|q| !q.is_empty()) {
            target = format!("{target}?{q}");
        }
        let signature = hmac_hex(
            CLIENT_SECRET,
            &canonical([method, &target, at, nonce], body),
        );
        let mut request = self
            .http
            .request(method.parse().unwrap(), url)
            .header("X-OpenClaw-Client-Id", CLIENT_ID)
            .header("X-OpenClaw-Timestamp", at)
            .header("X-OpenClaw-Nonce", nonce)
            .header("X-OpenClaw-Signature", signature)
            .body(body.to_vec());
        if !body.is_empty() {
            request = request.header("content-type", "application/json");
        }
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        request
    }

    /// `method` `path`, signed, with an optional JSON body.
    pub async fn send(&self, method: &str, path: &str, body: Option<Value>) -> Answer {
        let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        run(self.request(method, path, &bytes)).await
    }

    /// `GET path`, signed.
    pub async fn get(&self, path: &str) -> Answer {
        self.send("GET", path, None).await
    }

    /// `POST path`, signed, with a JSON body.
    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.send("POST", path, Some(body)).await
    }

    /// Polls `path` until it answers 200 with a body `done` accepts; that body.
    pub async fn wait_for(&self, path: &str, done: impl Fn(&Value) -> bool) -> Value {
        eventually(path, || async {
            let answer = self.get(path).await;
            (answer.status == 200 && done(&answer.body)).then_some(answer.body)
        })
        .await
    }
}

/// Sends a request as built.
pub async fn run(request: reqwest::RequestBuilder) -> Answer {
    let (http, request) = request.build_split();
    run_request(&http, request.unwrap()).await
}

/// Sends a built request.
pub async fn run_request(http: &reqwest::Client, request: reqwest::Request) -> Answer {
    Answer::read(http.execute(request).await.unwrap()).await
}

/// A sandbox set up by `configure`, serving.
pub async fn sandbox(configure: impl FnOnce(SandboxBuilder) -> SandboxBuilder) -> Sandbox {
    configure(Sandbox::builder())
        .start()
        .await
        .expect("the sandbox starts")
}

/// A valid `CreateOrderRequest`.
pub fn order(no: &str, sku: &str, quantity: i64, country: &str) -> Value {
    json!({
        "order_no": no,
        "channel": "shopify",
        "store_id": "shopify-us-main",
        "ordered_at": "2024-06-14T17:30:00-07:00",
        "currency": "USD",
        "recipient": {
            "name": "Jane Doe", "country_code": country, "city": "San Francisco",
            "postal_code": "94105", "address_line1": "500 Howard St"
        },
        "lines": [{"sku": sku, "quantity": quantity, "unit_price": "12.99"}]
    })
}

/// The ATS of `sku_path` (percent-encoded) in `warehouse`.
pub async fn ats(api: &Client, sku_path: &str, warehouse: &str) -> i64 {
    let answer = api
        .get(&format!(
            "/v2.1/inventory/skus/{sku_path}?warehouse_code={warehouse}"
        ))
        .await;
    answer.expect(200);
    answer.body["ats"].as_i64().unwrap()
}
