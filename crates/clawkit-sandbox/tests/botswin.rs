//! The bots.win sandbox end to end, in-process on a free port: the seed's examples, the bearer
//! check, the history's range, the User Data containers, and WebSocket browser sessions (every
//! handshake refusal, billing per started minute on a fast clock, the CDP answer and echo, and
//! each of the six disconnect reasons as the history records them).

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::DateTime;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{WebSocketStream, client_async, connect_async};

use clawkit_sandbox::botswin::{self, Botswin, Reason};
use clawkit_sandbox::kit::clock::unix_millis;
use clawkit_sandbox::{FaultKind, FaultRule, Sandbox, SandboxBuilder, Vendor};
use support::{Http, PATIENCE, eventually};

/// A REST client of one sandbox's `/botswin`, with the sandbox token unless told otherwise.
struct Rest {
    base: String,
    http: reqwest::Client,
    api: Http,
}

impl Rest {
    fn of(sb: &Sandbox) -> Self {
        let base = sb.base_url(Vendor::Botswin);
        Self {
            api: Http::new(&base),
            http: reqwest::Client::new(),
            base,
        }
    }

    /// The status and JSON body of `method path` with `auth` as the `Authorization` header
    /// (`None`: without one).
    async fn call_as(&self, method: &str, path: &str, auth: Option<&str>) -> (u16, Value) {
        let api = match auth {
            Some(auth) => self.api.clone().with_header("authorization", auth),
            None => self.api.clone(),
        };
        let answer = api.send(method, path, None).await;
        (answer.status, answer.body)
    }

    async fn call(&self, method: &str, path: &str) -> (u16, Value) {
        self.call_as(method, path, Some("Bearer sandbox-token"))
            .await
    }

    /// `GET path`, which must answer 200.
    async fn get(&self, path: &str) -> Value {
        let (status, body) = self.call("GET", path).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    /// The history with the query `query` (`""` for all).
    async fn history(&self, query: &str) -> Value {
        self.get(&format!("/api/history{query}")).await
    }

    /// The session with the highest id.
    async fn last_session(&self) -> Value {
        let history = self.history("").await;
        let sessions = history["sessions"].as_array().unwrap();
        sessions
            .iter()
            .max_by_key(|s| s["id"].as_u64())
            .cloned()
            .unwrap()
    }

    /// The remaining quota units.
    async fn remaining(&self) -> f64 {
        self.get("/api/quota").await["remainingQuota"]
            .as_f64()
            .unwrap()
    }
}

async fn start(builder: SandboxBuilder) -> (Sandbox, Rest) {
    let sb = builder.start().await.unwrap();
    let rest = Rest::of(&sb);
    (sb, rest)
}

/// The last session once it has ended.
async fn ended_session(rest: &Rest) -> Value {
    eventually("the session's end", || async {
        let session = rest.last_session().await;
        (!session["endedAt"].is_null()).then_some(session)
    })
    .await
}

/// Unix ms of an RFC 3339 time in a body.
fn ms(time: &Value) -> i64 {
    DateTime::parse_from_rfc3339(time.as_str().unwrap())
        .unwrap()
        .timestamp_millis()
}

type Client = WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>;

/// Opens a browser session at `url` (the sandbox's endpoint plus `extra` query parameters).
async fn open(sb: &Sandbox, extra: &str) -> Client {
    let url = format!("{}{extra}", botswin::ws_url(&sb.base_url(Vendor::Botswin)));
    let (ws, response) = connect_async(url).await.unwrap();
    assert_eq!(response.status().as_u16(), 101);
    ws
}

/// The HTTP status and JSON body a handshake at `url` was refused with.
async fn refused(url: &str) -> (u16, Value) {
    match connect_async(url).await {
        Ok(_) => panic!("{url} was accepted"),
        Err(tungstenite::Error::Http(response)) => {
            let body = response.body().as_deref().unwrap_or_default();
            let body = serde_json::from_slice(body).unwrap_or(Value::Null);
            (response.status().as_u16(), body)
        }
        Err(other) => panic!("{url}: {other}"),
    }
}

/// Sends `text` and reads the answer.
async fn round_trip<S: AsyncRead + AsyncWrite + Unpin>(
    ws: &mut WebSocketStream<S>,
    text: &str,
) -> Message {
    ws.send(Message::text(text)).await.unwrap();
    tokio::time::timeout(PATIENCE, ws.next())
        .await
        .expect("an answer in time")
        .expect("an open socket")
        .expect("a frame")
}

/// Reads until the server's Close frame: its code and reason (`None` if the socket ended
/// without one).
async fn close_of<S: AsyncRead + AsyncWrite + Unpin>(
    ws: &mut WebSocketStream<S>,
) -> Option<(u16, String)> {
    let read = async {
        while let Some(frame) = ws.next().await {
            match frame {
                Ok(Message::Close(frame)) => {
                    return frame.map(|f| (u16::from(f.code), f.reason.to_string()));
                }
                Ok(_) => continue,
                Err(_) => return None,
            }
        }
        None
    };
    tokio::time::timeout(PATIENCE, read)
        .await
        .expect("a Close frame in time")
}

/// The sandbox's bots.win state (to look at after a shutdown).
fn state(sb: &Sandbox) -> Arc<Botswin> {
    sb.vendor_state::<Botswin>()
}

// ---------------------------------------------------------------------------------------------
// REST

#[tokio::test]
async fn quota_is_the_seeds_example_with_totals() {
    let (sb, rest) = start(Sandbox::builder()).await;
    let quota = rest.get("/api/quota").await;
    assert_eq!(
        quota,
        json!({
            "remainingQuota": 7650,
            "pricing": {
                "baseRate": 1,
                "multiplier": 1.0,
                "effectiveRate": 1.0,
                "breakdown": {
                    "base": 1.0,
                    "maxSessions": 1,
                    "sessionMultiplier": 1.0,
                    "userDataMax": 5,
                    "userDataPremium": 0,
                    "hasLiveURLAccess": false,
                    "liveURLPremium": 0
                }
            },
            "totalQuota": 10000,
            "usedQuota": 2350,
            "usagePercentage": 23.5
        })
    );
    // Written as the seed writes it.
    let text = reqwest::Client::new()
        .get(format!("{}/api/quota", sb.base_url(Vendor::Botswin)))
        .bearer_auth("sandbox-token")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains(r#""remainingQuota":7650,"pricing":{"baseRate":1,"multiplier":1.0,"effectiveRate":1.0,"breakdown":{"base":1.0,"maxSessions":1,"sessionMultiplier":1.0,"userDataMax":5,"userDataPremium":0,"hasLiveURLAccess":false,"liveURLPremium":0}}"#),
        "{text}"
    );
}

#[tokio::test]
async fn the_builder_sets_quota_and_max_sessions() {
    let (_sb, rest) = start(
        Sandbox::builder()
            .configure(|c: &mut botswin::Config| c.quota = 20_000.5)
            .configure(|c: &mut botswin::Config| c.max_sessions = 3),
    )
    .await;
    let quota = rest.get("/api/quota").await;
    assert_eq!(quota["remainingQuota"], 20_000.5);
    assert_eq!(quota["totalQuota"], 20_000.5);
    assert_eq!(quota["usedQuota"], 0);
    assert_eq!(quota["usagePercentage"], 0);
    assert_eq!(quota["pricing"]["breakdown"]["maxSessions"], 3);
    // The history stays the seed's.
    assert_eq!(rest.get("/api/usage").await["totalMinutes"], 2350);
    // Invalid values are ignored.
    let (_sb, rest) = start(
        Sandbox::builder()
            .configure(|c: &mut botswin::Config| c.quota = f64::NAN)
            .configure(|c: &mut botswin::Config| c.quota = -1.0)
            .configure(|c: &mut botswin::Config| c.time_scale = 0.0)
            .configure(|c: &mut botswin::Config| c.time_scale = f64::INFINITY),
    )
    .await;
    assert_eq!(rest.remaining().await, 7650.0);
}

#[tokio::test]
async fn usage_and_history_are_the_seeds() {
    let (_sb, rest) = start(Sandbox::builder()).await;
    assert_eq!(
        rest.get("/api/usage").await,
        json!({"totalSessions": 142, "totalMinutes": 2350, "activeSessions": 0})
    );
    let history = rest.history("").await;
    let sessions = history["sessions"].as_array().unwrap();
    assert_eq!(history["total"], 142);
    assert_eq!(sessions.len(), 142);
    assert_eq!(
        sessions[0],
        json!({
            "id": 1,
            "startedAt": "2025-01-15T10:30:00Z",
            "endedAt": "2025-01-15T10:33:25Z",
            "durationMinutes": 3,
            "quotaConsumed": 3,
            "disconnectReason": "client_closed"
        })
    );
    let minutes: u64 = sessions
        .iter()
        .map(|s| s["durationMinutes"].as_u64().unwrap())
        .sum();
    assert_eq!(minutes, 2350);
    for pair in sessions.windows(2) {
        assert!(ms(&pair[0]["startedAt"]) < ms(&pair[1]["startedAt"]));
        assert_eq!(pair[1]["id"], pair[0]["id"].as_u64().unwrap() + 1);
    }
    for reason in Reason::ALL {
        assert!(
            sessions
                .iter()
                .any(|s| s["disconnectReason"] == reason.as_str()),
            "{reason:?}"
        );
    }
    let last = sessions.last().unwrap();
    assert!(ms(&last["endedAt"]) <= unix_millis() - 3_600_000);
    for s in sessions {
        assert_eq!(s["quotaConsumed"], s["durationMinutes"]);
    }
}

#[tokio::test]
async fn every_endpoint_wants_the_bearer_token() {
    let (_sb, rest) = start(Sandbox::builder()).await;
    let unauthorized =
        json!({"error": "unauthorized", "message": "Invalid or missing bearer token"});
    for (method, path) in [
        ("GET", "/api/quota"),
        ("GET", "/api/usage"),
        ("GET", "/api/history"),
        ("GET", "/api/user-data"),
        ("POST", "/api/user-data"),
        ("DELETE", "/api/user-data/udd_abc123xyz789defg"),
    ] {
        for auth in [
            None,
            Some("Bearer wrong"),
            Some("sandbox-token"),
            Some("Basic sandbox-token"),
        ] {
            let (status, body) = rest.call_as(method, path, auth).await;
            assert_eq!(
                (status, &body),
                (401, &unauthorized),
                "{method} {path} {auth:?}"
            );
        }
    }
    for auth in ["bearer sandbox-token", "BEARER sandbox-token"] {
        assert_eq!(rest.call_as("GET", "/api/quota", Some(auth)).await.0, 200);
    }
    // Nothing was deleted by the refused calls.
    assert_eq!(rest.get("/api/user-data").await["total"], 1);
}

#[tokio::test]
async fn unknown_paths_wrong_methods_and_faults() {
    let (sb, rest) = start(Sandbox::builder()).await;
    let (status, body) = rest.call("GET", "/api/nowhere").await;
    assert_eq!((status, body["error"].as_str()), (404, Some("not_found")));
    assert_eq!(rest.call("PUT", "/api/quota").await.0, 405);
    // A body and a content type on a GET are ignored; unknown query parameters too.
    let response = reqwest::Client::new()
        .get(format!(
            "{}/api/usage?verbose=1",
            sb.base_url(Vendor::Botswin)
        ))
        .bearer_auth("sandbox-token")
        .header("content-type", "application/json")
        .body("{\"x\": 1}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);

    let rule = |kind| {
        FaultRule::new(kind)
            .vendor(Vendor::Botswin)
            .route("/api/quota")
            .limit(1)
    };
    sb.add_fault(rule(FaultKind::Http503));
    let (status, body) = rest.call("GET", "/api/quota").await;
    assert_eq!((status, body["error"].as_str()), (503, Some("unavailable")));
    sb.add_fault(rule(FaultKind::Code4290));
    let (status, body) = rest.call("GET", "/api/quota").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (429, Some("rate_limited"))
    );
    assert_eq!(rest.call("GET", "/api/quota").await.0, 200);
    let stats = rest.get("/_sandbox/stats").await;
    assert!(stats["requests"].as_u64().unwrap() >= 2, "{stats}");
}

#[tokio::test]
async fn the_history_range_is_inclusive_and_checked() {
    let (_sb, rest) = start(Sandbox::builder()).await;
    let ids = |history: &Value| -> Vec<u64> {
        let sessions = history["sessions"].as_array().unwrap();
        assert_eq!(history["total"], sessions.len());
        sessions.iter().map(|s| s["id"].as_u64().unwrap()).collect()
    };
    // start == end: the session that started at that instant.
    let exact = "?start=2025-01-15T10:30:00Z&end=2025-01-15T10:30:00Z";
    let history = rest.history(exact).await;
    assert_eq!(ids(&history), [1]);
    assert_eq!(history["total"], 1);
    // The same instant with an offset, a fraction, percent-encoded or with a raw `+`.
    for query in [
        "?start=2025-01-15T18:30:00%2B08:00&end=2025-01-15T05:30:00-05:00",
        "?start=2025-01-15T10:30:00.000Z&end=2025-01-15T10:30:00.000000Z",
        "?start=2025-01-15T18:30:00+08:00&end=2025-01-15T18:30:00+08:00",
    ] {
        assert_eq!(ids(&rest.history(query).await), [1], "{query}");
    }
    // A bound a hair after a start leaves that session out.
    assert_eq!(
        ids(&rest
            .history("?start=2025-01-15T10:30:00.0001Z&end=2025-01-15T10:31:00Z")
            .await),
        Vec::<u64>::new()
    );
    // Both bounds inclusive, on sessions 2 and 4.
    let all = rest.history("").await;
    let started = |i: usize| {
        all["sessions"][i]["startedAt"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (second, fourth) = (started(1), started(3));
    let query = format!("?start={second}&end={fourth}");
    assert_eq!(ids(&rest.history(&query).await), [2, 3, 4]);
    assert_eq!(ids(&rest.history(&format!("?end={second}")).await), [1, 2]);
    assert_eq!(
        rest.history(&format!("?start={second}&page=9")).await["total"],
        141
    );
    // An inverted range, and bounds that cannot be read.
    let (status, body) = rest
        .call(
            "GET",
            "/api/history?start=2025-01-16T00:00:00Z&end=2025-01-15T00:00:00Z",
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({
            "error": "invalid_range",
            "message": "start (2025-01-16T00:00:00Z) is after end (2025-01-15T00:00:00Z)"
        })
    );
    for (query, field, value) in [
        ("start=yesterday", "start", "yesterday"),
        ("end=2025-01-15", "end", "2025-01-15"),
        (
            "start=2025-01-15T00:00:00Z&end=1736899200",
            "end",
            "1736899200",
        ),
        ("start=2025-01-15T10:30:00", "start", "2025-01-15T10:30:00"),
        ("start=", "start", ""),
    ] {
        let (status, body) = rest.call("GET", &format!("/api/history?{query}")).await;
        assert_eq!(status, 400, "{query}");
        assert_eq!(body["error"], "invalid_parameter", "{query}");
        assert_eq!(
            body["message"],
            format!(
                "{field}: expected an ISO 8601 date-time such as 2025-01-15T10:30:00Z, got {value:?}"
            ),
            "{query}"
        );
    }
}

#[tokio::test]
async fn user_data_containers_up_to_five() {
    let (_sb, rest) = start(Sandbox::builder()).await;
    assert_eq!(
        rest.get("/api/user-data").await,
        json!({
            "items": [{
                "id": "udd_abc123xyz789defg",
                "createdAt": "2025-01-15T10:30:00Z",
                "lastUsedAt": "2025-01-15T12:45:00Z",
                "isLocked": false
            }],
            "total": 1,
            "quota": {"used": 1, "max": 5, "canCreate": true}
        })
    );
    let before = unix_millis();
    let mut created = Vec::new();
    for _ in 0..4 {
        let (status, body) = rest.call("POST", "/api/user-data").await;
        assert_eq!(status, 201, "{body}");
        let id = body["id"].as_str().unwrap().to_string();
        assert_eq!(id.len(), 20, "{id}");
        assert!(id.starts_with("udd_"));
        assert!(
            id[4..]
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        );
        assert_eq!(body.as_object().unwrap().len(), 2);
        assert!((ms(&body["createdAt"]) - before).abs() < 60_000);
        created.push(id);
    }
    let list = rest.get("/api/user-data").await;
    assert_eq!(list["total"], 5);
    assert_eq!(
        list["quota"],
        json!({"used": 5, "max": 5, "canCreate": false})
    );
    assert_eq!(list["items"][4]["id"], created[3].as_str());
    assert_eq!(list["items"][4]["lastUsedAt"], Value::Null);
    assert_eq!(list["items"][4]["isLocked"], false);
    let (status, body) = rest.call("POST", "/api/user-data").await;
    assert_eq!(
        (status, body),
        (
            403,
            json!({"error": "user_data_quota_exceeded", "message": "User data limit reached (5/5)"})
        )
    );
    // A deletion frees a slot.
    let (status, body) = rest
        .call("DELETE", &format!("/api/user-data/{}", created[1]))
        .await;
    assert_eq!((status, body), (200, json!({"success": true})));
    let (status, body) = rest
        .call("DELETE", &format!("/api/user-data/{}", created[1]))
        .await;
    assert_eq!(
        (status, body),
        (
            404,
            json!({"error": "not_found", "message": format!("User data {} not found", created[1])})
        )
    );
    assert_eq!(rest.get("/api/user-data").await["quota"]["canCreate"], true);
    let (status, body) = rest.call("POST", "/api/user-data").await;
    assert_eq!(status, 201);
    assert!(!created.contains(&body["id"].as_str().unwrap().to_string()));
}

#[tokio::test]
async fn times_follow_the_scaled_clock() {
    let (_sb, rest) =
        start(Sandbox::builder().configure(|c: &mut botswin::Config| c.time_scale = 60_000.0))
            .await;
    tokio::time::sleep(Duration::from_millis(30)).await;
    let (status, body) = rest.call("POST", "/api/user-data").await;
    assert_eq!(status, 201);
    // 30 real ms are at least 30 sandbox minutes.
    let ahead = ms(&body["createdAt"]) - unix_millis();
    assert!(ahead > 20 * 60_000, "{ahead}");
    let text = body["createdAt"].as_str().unwrap();
    assert!(
        text.ends_with('Z') && (text.len() == 20 || text.len() == 24),
        "{text}"
    );
}

// ---------------------------------------------------------------------------------------------
// WebSocket sessions

#[tokio::test]
async fn every_handshake_refusal() {
    let (sb, rest) = start(Sandbox::builder()).await;
    let root = format!("ws://{}/botswin", sb.addr());
    for url in [
        root.clone(),
        format!("{root}?token=wrong"),
        format!("{root}/?token="),
    ] {
        let (status, body) = refused(&url).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("unauthorized")),
            "{url}"
        );
    }
    let (status, body) = refused(&format!(
        "{}&user_data_id=udd_nope",
        botswin::ws_url(&sb.base_url(Vendor::Botswin))
    ))
    .await;
    assert_eq!(
        (status, body),
        (
            404,
            json!({"error": "not_found", "message": "User data udd_nope not found"})
        )
    );
    // A plain GET, otherwise valid, at both forms of the root.
    for url in [
        format!("{}?token=sandbox-token", sb.base_url(Vendor::Botswin)),
        format!(
            "{}/?token=sandbox-token&device_type=mac",
            sb.base_url(Vendor::Botswin)
        ),
    ] {
        let response = reqwest::get(&url).await.unwrap();
        assert_eq!(response.status().as_u16(), 426, "{url}");
        assert_eq!(response.headers()["upgrade"].to_str().unwrap(), "websocket");
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            body,
            json!({"error": "upgrade_required", "message": "connect with a WebSocket client"})
        );
    }
    // One live session (of at most 1), holding the example container.
    let mut ws = open(
        &sb,
        "&user_data_id=udd_abc123xyz789defg&--proxy-server=http://x:1",
    )
    .await;
    let (status, body) = refused(&format!(
        "{}&user_data_id=udd_abc123xyz789defg",
        botswin::ws_url(&sb.base_url(Vendor::Botswin))
    ))
    .await;
    assert_eq!(
        (status, body),
        (
            423,
            json!({"error": "user_data_locked", "message": "User data udd_abc123xyz789defg is in use by an active session"})
        )
    );
    let (status, body) = refused(&botswin::ws_url(&sb.base_url(Vendor::Botswin))).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (429, Some("too_many_sessions"))
    );
    assert!(
        body["message"].as_str().unwrap().contains("maxSessions 1"),
        "{body}"
    );
    // The plain GET is checked after the session limit.
    let url = format!("{}?token=sandbox-token", sb.base_url(Vendor::Botswin));
    assert_eq!(reqwest::get(&url).await.unwrap().status().as_u16(), 429);
    ws.close(None).await.unwrap();
    ended_session(&rest).await;
    assert!(
        sb.vendor::<botswin::Botswin>()
            .stats
            .handshakes_refused
            .load(std::sync::atomic::Ordering::Relaxed)
            >= 9
    );

    // No quota for a first minute.
    let (sb, _rest) =
        start(Sandbox::builder().configure(|c: &mut botswin::Config| c.quota = 0.5)).await;
    let (status, body) = refused(&botswin::ws_url(&sb.base_url(Vendor::Botswin))).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (402, Some("insufficient_balance"))
    );
    // The balance comes before the upgrade headers.
    let url = format!("{}?token=sandbox-token", sb.base_url(Vendor::Botswin));
    assert_eq!(reqwest::get(&url).await.unwrap().status().as_u16(), 402);
}

#[tokio::test]
async fn client_closed_after_cdp_calls_and_echoes() {
    let (sb, rest) = start(Sandbox::builder()).await;
    let mut ws = open(&sb, "&device_type=mac").await;
    // Live: counted, with its first minute billed.
    assert_eq!(
        rest.get("/api/usage").await,
        json!({"totalSessions": 143, "totalMinutes": 2351, "activeSessions": 1})
    );
    assert_eq!(rest.remaining().await, 7649.0);
    assert_eq!(sb.vendor::<botswin::Botswin>().live_sessions(), 1);
    let live = rest.last_session().await;
    assert_eq!(live["id"], 143);
    assert_eq!(live["endedAt"], Value::Null);
    assert_eq!(live["disconnectReason"], Value::Null);
    assert_eq!(live["durationMinutes"], 1);
    assert_eq!(live["quotaConsumed"], 1);
    assert!((ms(&live["startedAt"]) - unix_millis()).abs() < 60_000);
    // A CDP call gets an answer with its id; other frames come back.
    let reply = round_trip(&mut ws, r#"{"id": 1, "method": "Browser.getVersion"}"#).await;
    let reply: Value = serde_json::from_str(reply.to_text().unwrap()).unwrap();
    assert_eq!(reply, json!({"id": 1, "result": {}}));
    assert_eq!(round_trip(&mut ws, "hello").await, Message::text("hello"));
    ws.send(Message::binary(vec![0u8, 1, 2])).await.unwrap();
    assert_eq!(
        ws.next().await.unwrap().unwrap(),
        Message::binary(vec![0u8, 1, 2])
    );
    ws.send(Message::Ping(vec![9u8].into())).await.unwrap();
    assert_eq!(
        ws.next().await.unwrap().unwrap(),
        Message::Pong(vec![9u8].into())
    );
    // The client closes: the server answers with a Close, and has recorded the end by then.
    ws.close(None).await.unwrap();
    assert!(matches!(
        ws.next().await,
        Some(Ok(Message::Close(_))) | None
    ));
    let session = rest.last_session().await;
    assert_eq!(session["disconnectReason"], "client_closed");
    assert_eq!(session["durationMinutes"], 1);
    assert_eq!(session["quotaConsumed"], 1);
    assert!(ms(&session["endedAt"]) >= ms(&session["startedAt"]));
    assert_eq!(
        rest.get("/api/usage").await,
        json!({"totalSessions": 143, "totalMinutes": 2351, "activeSessions": 0})
    );
    assert_eq!(sb.vendor::<botswin::Botswin>().live_sessions(), 0);
    // It is in a range like any other.
    let start = session["startedAt"].as_str().unwrap();
    let history = rest.history(&format!("?start={start}&end={start}")).await;
    assert_eq!(history["sessions"], json!([session]));
    // The slot is free again.
    let mut ws = open(&sb, "").await;
    ws.close(None).await.unwrap();
}

#[tokio::test]
async fn client_disconnected_without_a_close_frame() {
    let (sb, rest) = start(Sandbox::builder()).await;
    let mut ws = open(&sb, "").await;
    // The session runs (a round trip), then the socket just ends: a FIN, no Close frame.
    assert_eq!(round_trip(&mut ws, "x").await, Message::text("x"));
    drop(ws);
    let session = ended_session(&rest).await;
    assert_eq!(session["disconnectReason"], "client_disconnected");
    assert_eq!(session["durationMinutes"], 1);
}

#[tokio::test]
async fn tcp_error_on_a_reset_connection() {
    let (sb, rest) = start(Sandbox::builder()).await;
    let stream = TcpStream::connect(sb.addr()).await.unwrap();
    stream.set_zero_linger().unwrap();
    let (mut ws, _) = client_async(botswin::ws_url(&sb.base_url(Vendor::Botswin)), stream)
        .await
        .unwrap();
    assert_eq!(round_trip(&mut ws, "x").await, Message::text("x"));
    // SO_LINGER 0: the drop resets the connection (ECONNRESET on the server's side).
    drop(ws);
    let session = ended_session(&rest).await;
    assert_eq!(session["disconnectReason"], "tcp_error");
}

#[tokio::test]
async fn socket_timeout_after_five_idle_minutes() {
    // 1 sandbox minute = 100 real ms.
    let (sb, rest) =
        start(Sandbox::builder().configure(|c: &mut botswin::Config| c.time_scale = 600.0)).await;
    let mut ws = open(&sb, "").await;
    assert_eq!(
        close_of(&mut ws).await,
        Some((1008, "socket_timeout".to_string()))
    );
    let session = ended_session(&rest).await;
    assert_eq!(session["disconnectReason"], "socket_timeout");
    // Minutes 1..=5 started; the session ended as minute 6 would have.
    assert_eq!(session["durationMinutes"], 5);
    assert_eq!(session["quotaConsumed"], 5);
    assert_eq!(
        ms(&session["endedAt"]) - ms(&session["startedAt"]),
        5 * 60_000
    );
    assert_eq!(rest.remaining().await, 7645.0);
}

#[tokio::test]
async fn data_keeps_a_session_alive_and_every_started_minute_is_billed() {
    // 1 sandbox minute = 500 real ms: the idle timeout is 2.5 real seconds away.
    let (sb, rest) =
        start(Sandbox::builder().configure(|c: &mut botswin::Config| c.time_scale = 120.0)).await;
    let mut ws = open(&sb, "").await;
    let started = Instant::now();
    // Pings (data) every sandbox minute, for 8 sandbox minutes.
    while started.elapsed() < Duration::from_secs(4) {
        ws.send(Message::Ping(vec![1u8].into())).await.unwrap();
        let pong = tokio::time::timeout(PATIENCE, ws.next()).await.unwrap();
        assert!(matches!(pong, Some(Ok(Message::Pong(_)))), "{pong:?}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let live = rest.last_session().await;
    assert_eq!(live["endedAt"], Value::Null, "{live}");
    let billed = live["durationMinutes"].as_u64().unwrap();
    assert!(billed >= 8, "{live}");
    ws.close(None).await.unwrap();
    let session = ended_session(&rest).await;
    assert_eq!(session["disconnectReason"], "client_closed");
    // Every started minute, and only those.
    let length = ms(&session["endedAt"]) - ms(&session["startedAt"]);
    let minutes = session["durationMinutes"].as_i64().unwrap();
    assert_eq!(minutes, length / 60_000 + 1, "{session}");
    assert_eq!(session["quotaConsumed"], minutes);
    assert_eq!(rest.remaining().await, 7650.0 - minutes as f64);
    assert_eq!(rest.get("/api/usage").await["totalMinutes"], 2350 + minutes);
}

#[tokio::test]
async fn insufficient_balance_ends_the_session_at_the_unpaid_minute() {
    // 2.5 units: minute 1 at the start, minute 2 at +1:00, none left for minute 3 at +2:00.
    let (sb, rest) = start(
        Sandbox::builder()
            .configure(|c: &mut botswin::Config| c.quota = 2.5)
            .configure(|c: &mut botswin::Config| c.time_scale = 600.0),
    )
    .await;
    let mut ws = open(&sb, "").await;
    assert_eq!(
        close_of(&mut ws).await,
        Some((1008, "insufficient_balance".to_string()))
    );
    let session = ended_session(&rest).await;
    assert_eq!(session["disconnectReason"], "insufficient_balance");
    assert_eq!(session["durationMinutes"], 2);
    assert_eq!(session["quotaConsumed"], 2);
    assert_eq!(
        ms(&session["endedAt"]) - ms(&session["startedAt"]),
        2 * 60_000
    );
    let quota = rest.get("/api/quota").await;
    assert_eq!(quota["remainingQuota"], 0.5);
    assert_eq!(quota["usedQuota"], 9999.5);
    assert_eq!(quota["totalQuota"], 10_000);
    // Not enough for another session.
    let (status, body) = refused(&botswin::ws_url(&sb.base_url(Vendor::Botswin))).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (402, Some("insufficient_balance"))
    );
}

#[tokio::test]
async fn server_closed_by_botswin_close_sessions_and_new_sessions_after() {
    let (sb, rest) =
        start(Sandbox::builder().configure(|c: &mut botswin::Config| c.max_sessions = 2)).await;
    let mut a = open(&sb, "").await;
    let mut b = open(&sb, "").await;
    assert_eq!(sb.vendor::<botswin::Botswin>().live_sessions(), 2);
    let readers = [
        tokio::spawn(async move { close_of(&mut a).await }),
        tokio::spawn(async move { close_of(&mut b).await }),
    ];
    assert_eq!(
        sb.vendor::<botswin::Botswin>()
            .close_sessions(std::time::Duration::from_secs(2))
            .await,
        2
    );
    // Recorded by the time it returns.
    let history = rest.history("").await;
    let last_two = &history["sessions"].as_array().unwrap()[142..];
    assert_eq!(last_two.len(), 2);
    for session in last_two {
        assert_eq!(session["disconnectReason"], "server_closed");
        assert_eq!(session["durationMinutes"], 1);
    }
    for reader in readers {
        assert_eq!(
            reader.await.unwrap(),
            Some((1001, "server_closed".to_string()))
        );
    }
    assert_eq!(rest.get("/api/usage").await["activeSessions"], 0);
    // The server goes on.
    let mut ws = open(&sb, "").await;
    assert_eq!(
        round_trip(&mut ws, "still here").await,
        Message::text("still here")
    );
    assert_eq!(sb.vendor::<botswin::Botswin>().live_sessions(), 1);
}

#[tokio::test]
async fn server_closed_by_shutdown() {
    let (sb, rest) = start(Sandbox::builder()).await;
    let mut ws = open(&sb, "&user_data_id=udd_abc123xyz789defg").await;
    let reader = tokio::spawn(async move { close_of(&mut ws).await });
    let botswin = state(&sb);
    let began = Instant::now();
    sb.shutdown().await;
    assert!(began.elapsed() < Duration::from_secs(3));
    assert_eq!(
        reader.await.unwrap(),
        Some((1001, "server_closed".to_string()))
    );
    let (reason, ended_ms) = botswin.last_end().expect("the session ended");
    assert_eq!(reason, Reason::ServerClosed);
    let (locked, last_used_ms) = botswin.container_use("udd_abc123xyz789defg").unwrap();
    assert!(!locked);
    assert_eq!(last_used_ms, Some(ended_ms));
    // The server is gone.
    assert!(
        rest.http
            .get(format!("{}/api/quota", rest.base))
            .send()
            .await
            .is_err()
    );
}

#[tokio::test]
async fn server_closed_when_the_sandbox_is_dropped() {
    let (sb, _rest) = start(Sandbox::builder()).await;
    let mut ws = open(&sb, "").await;
    let botswin = state(&sb);
    drop(sb);
    assert_eq!(
        close_of(&mut ws).await,
        Some((1001, "server_closed".to_string()))
    );
    let reason = eventually("the end's record", || async {
        botswin.last_end().map(|(reason, _)| reason)
    })
    .await;
    assert_eq!(reason, Reason::ServerClosed);
}

#[tokio::test]
async fn a_container_in_use_is_locked_until_the_session_ends() {
    let (sb, rest) =
        start(Sandbox::builder().configure(|c: &mut botswin::Config| c.max_sessions = 2)).await;
    let mut ws = open(&sb, "&user_data_id=udd_abc123xyz789defg").await;
    let session = rest.last_session().await;
    let item = &rest.get("/api/user-data").await["items"][0];
    assert_eq!(item["isLocked"], true);
    assert_eq!(item["lastUsedAt"], session["startedAt"]);
    let (status, body) = rest
        .call("DELETE", "/api/user-data/udd_abc123xyz789defg")
        .await;
    assert_eq!(
        (status, body),
        (
            423,
            json!({"error": "user_data_locked", "message": "User data udd_abc123xyz789defg is in use by an active session"})
        )
    );
    // Another session may run, but not with that container.
    let (status, _) = refused(&format!(
        "{}&user_data_id=udd_abc123xyz789defg",
        botswin::ws_url(&sb.base_url(Vendor::Botswin))
    ))
    .await;
    assert_eq!(status, 423);
    ws.close(None).await.unwrap();
    let session = ended_session(&rest).await;
    let item = &rest.get("/api/user-data").await["items"][0];
    assert_eq!(item["isLocked"], false);
    assert_eq!(item["lastUsedAt"], session["endedAt"]);
    let (status, body) = rest
        .call("DELETE", "/api/user-data/udd_abc123xyz789defg")
        .await;
    assert_eq!((status, body), (200, json!({"success": true})));
    assert_eq!(rest.get("/api/user-data").await["total"], 0);
}

#[tokio::test]
async fn the_banner_and_credentials_name_botswin() {
    let sb = Sandbox::builder().start().await.unwrap();
    let banner = sb.banner();
    let ws = format!("ws://{}/botswin?token=sandbox-token", sb.addr());
    assert_eq!(botswin::ws_url(&sb.base_url(Vendor::Botswin)), ws);
    for line in [
        format!(
            "  Botswin                {}\n",
            sb.base_url(Vendor::Botswin)
        ),
        "  Botswin    header Authorization: Bearer: sandbox-token   (BOTSWIN_TOKEN)\n".into(),
        format!("  Botswin    browser sessions: {ws}\n"),
    ] {
        assert!(banner.contains(&line), "{line} in {banner}");
    }
    assert!(!banner.contains("not served yet"));
    assert_eq!(
        sb.credentials(Vendor::Botswin),
        [("TOKEN", "sandbox-token".to_string())]
    );
}

#[tokio::test]
async fn a_client_that_does_not_read_is_still_closed_on_time() {
    use std::sync::atomic::{AtomicUsize, Ordering};

    let (sb, rest) = start(Sandbox::builder()).await;
    let ws = open(&sb, "").await;
    // Echoes pile up unread until the server's sends block.
    let sent = Arc::new(AtomicUsize::new(0));
    let counter = sent.clone();
    let sender = tokio::spawn(async move {
        let mut ws = ws;
        for _ in 0..48 {
            if ws.send(Message::binary(vec![7u8; 1 << 20])).await.is_err() {
                break;
            }
            counter.fetch_add(1, Ordering::SeqCst);
        }
        ws
    });
    let mut last = usize::MAX;
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = sent.load(Ordering::SeqCst);
        if now == last || sender.is_finished() {
            break;
        }
        last = now;
    }
    let began = Instant::now();
    assert_eq!(
        sb.vendor::<botswin::Botswin>()
            .close_sessions(std::time::Duration::from_secs(2))
            .await,
        1
    );
    assert!(began.elapsed() < Duration::from_secs(2));
    assert_eq!(sb.vendor::<botswin::Botswin>().live_sessions(), 0);
    let session = rest.last_session().await;
    assert_eq!(session["disconnectReason"], "server_closed");
    // The server gives up its closing handshake and drops the socket.
    let _ = tokio::time::timeout(PATIENCE, sender).await;
}
