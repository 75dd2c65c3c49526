//! The hooks against a local server: auth, a refused token renewed once and replayed, a failed
//! grant surfacing as the token endpoint's own answer, signing over the exact bytes on every
//! attempt, pacing from headers and learning the clock.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use futures::future::BoxFuture;
use secrecy::{ExposeSecret, SecretString};

use super::*;

#[derive(Default)]
struct Server {
    grants: AtomicUsize,
    refuse_grants: std::sync::atomic::AtomicBool,
    /// The token number the data route accepts (older ones get 401).
    valid: AtomicUsize,
}

async fn serve(state: Arc<Server>) -> String {
    let token_state = state.clone();
    let data_state = state.clone();
    let app = Router::new()
        .route(
            "/token",
            post(move || {
                let s = token_state.clone();
                async move {
                    if s.refuse_grants.load(Ordering::SeqCst) {
                        return (StatusCode::BAD_REQUEST, r#"{"error":"invalid_grant"}"#)
                            .into_response();
                    }
                    let n = s.grants.fetch_add(1, Ordering::SeqCst);
                    s.valid.store(n, Ordering::SeqCst);
                    format!("t{n}").into_response()
                }
            }),
        )
        .route(
            "/data",
            get(move |headers: HeaderMap| {
                let s = data_state.clone();
                async move {
                    let want = format!("Bearer t{}", s.valid.load(Ordering::SeqCst));
                    if headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(&want) {
                        (StatusCode::OK, "ok").into_response()
                    } else {
                        (StatusCode::UNAUTHORIZED, "expired").into_response()
                    }
                }
            }),
        )
        .route(
            "/echo",
            post(|headers: HeaderMap, body: axum::body::Bytes| async move {
                let sig = headers
                    .get("x-sig")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                let mut response =
                    format!("{sig}|{}", String::from_utf8_lossy(&body)).into_response();
                response.headers_mut().insert(
                    "date",
                    httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(600))
                        .parse()
                        .unwrap(),
                );
                response
            }),
        )
        .route(
            "/skewed",
            get(|headers: HeaderMap| async move {
                // The server's clock is 600 s ahead; it refuses a signing time more than 300 s off.
                let server = SystemTime::now() + Duration::from_secs(600);
                let signed: u64 = headers
                    .get("x-sig")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.split(' ').nth(3))
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0);
                let server_secs = server
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_secs();
                let status = if signed.abs_diff(server_secs) > 300 {
                    StatusCode::UNAUTHORIZED
                } else {
                    StatusCode::OK
                };
                (status, [("date", httpdate::fmt_http_date(server))], "")
            }),
        )
        .route(
            "/limited",
            get(|| async {
                let reset = SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_secs()
                    + 2;
                (
                    [
                        ("x-ratelimit-limit", "10".to_string()),
                        ("x-ratelimit-remaining", "0".to_string()),
                        ("x-ratelimit-reset", reset.to_string()),
                    ],
                    "ok",
                )
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

/// A grant that POSTs /token and reads the token from the body.
struct PlainGrant {
    http: reqwest::Client,
    url: String,
}

impl Grant for PlainGrant {
    fn obtain<'a>(
        &'a self,
        _refresh: Option<&'a SecretString>,
    ) -> BoxFuture<'a, Result<Token, GrantError>> {
        Box::pin(async move {
            let response = self
                .http
                .post(&self.url)
                .send()
                .await
                .map_err(GrantError::Transport)?;
            if !response.status().is_success() {
                return Err(GrantError::Refused(response));
            }
            let text = response.text().await.map_err(GrantError::Transport)?;
            Ok(Token {
                access: SecretString::from(text),
                refresh: None,
                lifetime: None,
            })
        })
    }
}

async fn get_data(
    rt: &Runtime,
    http: &reqwest::Client,
    base: &str,
) -> Result<reqwest::Response, progenitor_client::Error<()>> {
    let mut request = http.get(format!("{base}/data")).build().unwrap();
    rt.prepare::<()>(&mut request, "get_data").await?;
    Ok(rt.execute(http, request, "get_data").await.unwrap())
}

#[tokio::test]
async fn a_refused_token_is_renewed_once_and_the_request_replayed() {
    let server = Arc::new(Server::default());
    let base = serve(server.clone()).await;
    let http = reqwest::Client::new();
    let source = TokenSource::new(PlainGrant {
        http: http.clone(),
        url: format!("{base}/token"),
    });
    let rt = Runtime::builder().auth(Auth::Token(source)).build();
    assert_eq!(get_data(&rt, &http, &base).await.unwrap().status(), 200);
    assert_eq!(server.grants.load(Ordering::SeqCst), 1);
    // the server moves on to a new token: the old one is refused, renewed, replayed
    server.valid.store(99, Ordering::SeqCst);
    let response = get_data(&rt, &http, &base).await.unwrap();
    assert_eq!(response.status(), 200, "replayed with a new token");
    assert_eq!(server.grants.load(Ordering::SeqCst), 2, "one renewal");
    assert_eq!(get_data(&rt, &http, &base).await.unwrap().status(), 200);
    assert_eq!(
        server.grants.load(Ordering::SeqCst),
        2,
        "the new token is kept"
    );

    // a grant that fails comes back as the token endpoint's own answer
    server.valid.store(99, Ordering::SeqCst);
    server.refuse_grants.store(true, Ordering::SeqCst);
    let response = get_data(&rt, &http, &base).await.unwrap();
    assert_eq!(
        response.status(),
        401,
        "the renewal failed: the refusal stands"
    );
    match get_data(&rt, &http, &base).await {
        Err(progenitor_client::Error::UnexpectedResponse(r)) => {
            assert_eq!(r.status(), 400);
            assert_eq!(r.text().await.unwrap(), r#"{"error":"invalid_grant"}"#);
        }
        other => panic!("{:?}", other.map(|r| r.status())),
    }
}

/// Signs with the body bytes and a per-attempt counter and timestamp.
struct TestSigner(Arc<AtomicUsize>);

impl Signer for TestSigner {
    fn sign(&self, request: &mut reqwest::Request, now: SystemTime) -> Result<(), SignError> {
        let body = sign::body_bytes(request).ok_or_else(|| SignError("streaming body".into()))?;
        let n = self.0.fetch_add(1, Ordering::SeqCst);
        let secs = now
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(|e| SignError(e.to_string()))?
            .as_secs();
        let value = format!(
            "{} {} {n} {secs} {}",
            request.method(),
            request.url().path(),
            String::from_utf8_lossy(body)
        );
        request.headers_mut().insert(
            "x-sig",
            value.parse().map_err(|_| SignError("header".into()))?,
        );
        Ok(())
    }
}

#[tokio::test]
async fn the_signer_sees_the_exact_bytes_on_every_attempt_and_the_clock_learns_the_skew() {
    let base = serve(Arc::new(Server::default())).await;
    let http = reqwest::Client::new();
    let count = Arc::new(AtomicUsize::new(0));
    let rt = Runtime::builder().signer(TestSigner(count.clone())).build();
    let body = r#"{"order_no":"A#1 &/2"}"#;
    for attempt in 0..2 {
        let mut request = http
            .post(format!("{base}/echo"))
            .body(body)
            .build()
            .unwrap();
        rt.prepare::<()>(&mut request, "echo").await.unwrap();
        let text = rt
            .execute(&http, request, "echo")
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let (sig, echoed) = text.split_once('|').unwrap();
        assert_eq!(echoed, body);
        assert!(sig.starts_with(&format!("POST /echo {attempt} ")), "{sig}");
        assert!(sig.ends_with(body), "{sig}");
        if attempt == 1 {
            // the second signature used the skew learned from the first answer's Date (+600 s)
            let secs: u64 = sig.split(' ').nth(3).unwrap().parse().unwrap();
            let local = SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs();
            assert!(secs >= local + 590, "{secs} vs {local}");
        }
    }
    assert!(
        (598_000..=601_000).contains(&rt.clock().skew_ms()),
        "{}",
        rt.clock().skew_ms()
    );
}

#[tokio::test]
async fn a_refusal_from_a_skewed_server_is_signed_again_once_with_its_time() {
    let base = serve(Arc::new(Server::default())).await;
    let http = reqwest::Client::new();
    let count = Arc::new(AtomicUsize::new(0));
    let rt = Runtime::builder().signer(TestSigner(count.clone())).build();
    let mut request = http.get(format!("{base}/skewed")).build().unwrap();
    rt.prepare::<()>(&mut request, "skewed").await.unwrap();
    let response = rt.execute(&http, request, "skewed").await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        count.load(Ordering::SeqCst),
        2,
        "signed once more, not more"
    );
    // learned: the next request is right the first time
    let mut request = http.get(format!("{base}/skewed")).build().unwrap();
    rt.prepare::<()>(&mut request, "skewed").await.unwrap();
    let response = rt.execute(&http, request, "skewed").await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(count.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn operation_limits_hold_only_the_operations_they_name() {
    let rt = Runtime::builder()
        .limit_operations(&["list_orders"], Duration::from_millis(200), 1)
        .build();
    let http = reqwest::Client::new();
    let started = std::time::Instant::now();
    for _ in 0..5 {
        let mut request = http.get("http://127.0.0.1/other").build().unwrap();
        rt.prepare::<()>(&mut request, "get_inventory")
            .await
            .unwrap();
    }
    assert!(started.elapsed() < Duration::from_millis(150));
    for _ in 0..3 {
        let mut request = http.get("http://127.0.0.1/orders").build().unwrap();
        rt.prepare::<()>(&mut request, "list_orders").await.unwrap();
    }
    // three calls at one per 200 ms: the 2nd and 3rd wait
    assert!(
        started.elapsed() >= Duration::from_millis(390),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn an_exhausted_budget_holds_the_next_request_until_the_reset() {
    let base = serve(Arc::new(Server::default())).await;
    let http = reqwest::Client::new();
    let rt = Runtime::builder()
        .pace_by(RateLimitHeaders::x_ratelimit())
        .build();
    let mut request = http.get(format!("{base}/limited")).build().unwrap();
    rt.prepare::<()>(&mut request, "limited").await.unwrap();
    rt.execute(&http, request, "limited").await.unwrap();
    let started = std::time::Instant::now();
    let mut request = http.get(format!("{base}/limited")).build().unwrap();
    rt.prepare::<()>(&mut request, "limited").await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "waited for the reset"
    );
    assert!(started.elapsed() <= Duration::from_secs(3));
}

#[tokio::test]
async fn api_keys_and_timeouts_are_applied_and_secrets_hidden() {
    let key = SecretString::from("k-secret".to_string());
    let rt = Runtime::builder()
        .auth(Auth::api_key("api-key", &key).unwrap())
        .timeout(Duration::from_secs(30))
        .build();
    let long = rt.with_timeout(Duration::from_secs(330));
    let mut request =
        reqwest::Request::new(reqwest::Method::POST, "http://127.0.0.1/x".parse().unwrap());
    long.prepare::<()>(&mut request, "x").await.unwrap();
    assert_eq!(request.timeout(), Some(&Duration::from_secs(330)));
    assert!(request.headers()["api-key"].is_sensitive());
    assert_eq!(request.headers()["api-key"], key.expose_secret());
    assert!(!format!("{rt:?}").contains("k-secret"));
    assert!(Auth::api_key("api-key", &SecretString::from("bad\nkey".to_string())).is_err());
    assert!(Auth::api_key("api-key", &SecretString::from(" ".to_string())).is_err());
    let bearer = Auth::bearer(&SecretString::from("tok".to_string())).unwrap();
    assert!(!format!("{bearer:?}").contains("tok"));
}
