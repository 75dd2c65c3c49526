//! bots.win flows against the sandbox (in-process, random port): every endpoint, the preflight,
//! history ranges at the edges, every disconnect reason produced and decoded, a locked container,
//! and sessions that end when their handle is dropped.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use clawkit::botswin::{
    Client, DisconnectReason, Error, Flow, HistoryQuery, Reason, SessionOptions, SessionRecord,
};
use clawkit::runtime::relay::EndCause;
use clawkit::{ErrorKind, RetryPolicy};
use clawkit_sandbox::{Sandbox, Vendor};
use futures::{SinkExt, StreamExt, TryStreamExt};
use secrecy::ExposeSecret;
use tokio_tungstenite::tungstenite::Message;

async fn sandbox(
    configure: impl FnOnce(clawkit_sandbox::SandboxBuilder) -> clawkit_sandbox::SandboxBuilder,
) -> (Sandbox, Client) {
    let sandbox = configure(Sandbox::builder()).start().await.unwrap();
    let client = Client::builder()
        .token("sandbox-token")
        .base_url(sandbox.base_url(Vendor::Botswin))
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    (sandbox, client)
}

async fn history(client: &Client) -> Vec<SessionRecord> {
    client
        .history(HistoryQuery::new())
        .try_collect()
        .await
        .unwrap()
}

/// The newest session once it has ended (polls the history: the sandbox records the end a moment
/// after the socket closes).
async fn last_ended(client: &Client, after: i64) -> SessionRecord {
    for _ in 0..200 {
        let sessions = history(client).await;
        if let Some(s) = sessions
            .iter()
            .rev()
            .find(|s| s.id > after && !s.is_active())
        {
            return s.clone();
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("no session after {after} ended");
}

async fn newest_id(client: &Client) -> i64 {
    history(client).await.last().map_or(0, |s| s.id)
}

/// A CDP client on the session's local URL: one message there and back.
async fn cdp(
    url: &str,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    ws.send(Message::text(r#"{"id":1,"method":"Browser.getVersion"}"#))
        .await
        .unwrap();
    let answer = ws.next().await.unwrap().unwrap();
    assert!(
        answer.to_text().unwrap().contains(r#""id":1"#),
        "{answer:?}"
    );
    ws
}

#[tokio::test]
async fn every_endpoint_with_the_seed_examples() {
    let (_sandbox, client) = sandbox(|b| b).await;
    let quota = client.quota().await.unwrap();
    assert_eq!(quota.remaining_quota, 7650.0);
    assert_eq!(quota.pricing.effective_rate, 1.0);
    assert_eq!(quota.pricing.breakdown.user_data_max, 5);
    let usage = client.usage().await.unwrap();
    assert_eq!(
        (
            usage.total_sessions,
            usage.total_minutes,
            usage.active_sessions
        ),
        (142, 2350, 0)
    );

    let sessions = history(&client).await;
    assert_eq!(sessions.len(), 142);
    let first = &sessions[0];
    assert_eq!(first.id, 1);
    assert_eq!(
        first.started_at,
        "2025-01-15T10:30:00Z".parse::<DateTime<Utc>>().unwrap()
    );
    assert_eq!(first.duration_minutes, 3);
    assert_eq!(
        first.disconnect_reason,
        Some(DisconnectReason::ClientClosed)
    );

    let list = client.user_data().await.unwrap();
    assert_eq!(list.items[0].id, "udd_abc123xyz789defg");
    assert_eq!(
        (list.quota.used, list.quota.max, list.quota.can_create),
        (1, 5, true)
    );
    let created = client.create_user_data().await.unwrap();
    assert!(created.id.starts_with("udd_"));
    assert_eq!(client.user_data().await.unwrap().total, 2);
    client.delete_user_data(&created.id).await.unwrap();
    assert_eq!(client.user_data().await.unwrap().total, 1);
    let gone = client.delete_user_data(&created.id).await.unwrap_err();
    assert_eq!(gone.reason(), Some(Reason::NotFound));
    assert_eq!(gone.kind(), ErrorKind::NotFound);
    let bad = client.delete_user_data("a/b").await.unwrap_err();
    assert!(
        matches!(bad, Error::InvalidArgument(ref m) if m.starts_with("id:")),
        "{bad}"
    );

    // Container quota: 5 at most, a slot freed by a delete.
    for _ in 0..4 {
        client.create_user_data().await.unwrap();
    }
    let full = client.create_user_data().await.unwrap_err();
    assert_eq!(full.reason(), Some(Reason::UserDataQuotaExceeded), "{full}");
    assert!(!client.user_data().await.unwrap().quota.can_create);

    let wrong = Client::builder()
        .token("not-the-token")
        .base_url(_sandbox.base_url(Vendor::Botswin))
        .build()
        .unwrap();
    let refused = wrong.quota().await.unwrap_err();
    assert_eq!(refused.reason(), Some(Reason::Unauthorized));
    assert_eq!(refused.kind(), ErrorKind::Auth);
    assert!(!refused.to_string().contains("not-the-token"));
}

#[tokio::test]
async fn the_preflight_refuses_a_job_the_quota_cannot_pay() {
    let (_sandbox, client) =
        sandbox(|b| b.configure(|c: &mut clawkit_sandbox::botswin::Config| c.quota = 5.0)).await;
    let ok = client.ensure_quota(5).await.unwrap();
    assert_eq!((ok.units, ok.remaining_after()), (5.0, Some(0.0)));
    match client.ensure_quota(10).await.unwrap_err() {
        Error::Flow(Flow::InsufficientQuota {
            minutes,
            needed,
            remaining,
            rate,
        }) => {
            assert_eq!((minutes, needed, remaining, rate), (10, 10.0, 5.0, 1.0));
        }
        other => panic!("expected InsufficientQuota, got {other}"),
    }
    let zero = client.ensure_quota(0).await.unwrap_err();
    assert!(zero.to_string().contains("minutes"), "{zero}");
    assert_eq!(
        client.estimate(3).await.unwrap().affordable_minutes,
        Some(5)
    );
}

#[tokio::test]
async fn history_ranges_at_the_edges() {
    let (_sandbox, client) = sandbox(|b| b).await;
    let all = history(&client).await;
    let ids = |v: &[SessionRecord]| v.iter().map(|s| s.id).collect::<Vec<_>>();

    // Windowed over the whole span (3-day windows): the same sessions, once each, in order.
    let since = all[0].started_at;
    let until = all.last().unwrap().started_at;
    let windowed: Vec<_> = client
        .history(
            HistoryQuery::new()
                .since(since)
                .until(until)
                .window(Duration::from_secs(3 * 86_400)),
        )
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids(&windowed), ids(&all));

    // A window boundary exactly on a session's start: delivered once, by the later window.
    let pivot = &all[10];
    let window = (pivot.started_at - since).to_std().unwrap();
    let split: Vec<_> = client
        .history(HistoryQuery::new().since(since).until(until).window(window))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids(&split), ids(&all));

    // Bounds are inclusive: since == until == a session's start gives that session.
    let one: Vec<_> = client
        .history(
            HistoryQuery::new()
                .since(pivot.started_at)
                .until(pivot.started_at),
        )
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids(&one), vec![pivot.id]);
    // One millisecond later: not it.
    let later = pivot.started_at + TimeDelta::milliseconds(1);
    let none: Vec<_> = client
        .history(HistoryQuery::new().since(later).until(later))
        .try_collect()
        .await
        .unwrap();
    assert!(none.iter().all(|s| s.id != pivot.id));

    // Mistakes are named before anything is sent.
    let inverted = client
        .history(HistoryQuery::new().since(until).until(since))
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert!(
        inverted
            .to_string()
            .contains("since: expected an instant before until"),
        "{inverted}"
    );
    let zero = client
        .history(HistoryQuery::new().since(since).window(Duration::ZERO))
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert!(zero.to_string().contains("window"), "{zero}");

    // The last week: only sessions that started in it.
    let week: Vec<_> = client
        .history(HistoryQuery::last(Duration::from_secs(7 * 86_400)))
        .try_collect()
        .await
        .unwrap();
    let cutoff = Utc::now() - TimeDelta::days(7) - TimeDelta::minutes(1);
    assert!(week.iter().all(|s| s.started_at >= cutoff));
}

#[tokio::test]
async fn a_dropped_session_ends_at_once_and_bills_one_minute() {
    // One real second is one sandbox minute.
    let (_sandbox, client) =
        sandbox(|b| b.configure(|c: &mut clawkit_sandbox::botswin::Config| c.time_scale = 60.0))
            .await;
    let before = newest_id(&client).await;
    let session = client.open_session(SessionOptions::new()).await.unwrap();
    assert!(session.ws_url().starts_with("ws://127.0.0.1:"));
    let _cdp = cdp(&session.ws_url()).await;
    assert_eq!(client.usage().await.unwrap().active_sessions, 1);
    let job = tokio::spawn(async move {
        let _session = session;
        panic!("the job failed");
    });
    assert!(job.await.unwrap_err().is_panic());
    let ended = last_ended(&client, before).await;
    assert_eq!(
        ended.disconnect_reason,
        Some(DisconnectReason::ClientClosed)
    );
    assert_eq!(ended.duration_minutes, 1);
    assert_eq!(ended.quota_consumed, 1.0);
    assert_eq!(client.usage().await.unwrap().active_sessions, 0);
    assert_eq!(client.quota().await.unwrap().remaining_quota, 7649.0);
}

#[tokio::test]
async fn the_idle_guard_ends_a_session_nobody_uses() {
    let (_sandbox, client) =
        sandbox(|b| b.configure(|c: &mut clawkit_sandbox::botswin::Config| c.time_scale = 60.0))
            .await;
    let before = newest_id(&client).await;
    let session = client
        .open_session(SessionOptions::new().idle(Duration::from_millis(200)))
        .await
        .unwrap();
    let _cdp = cdp(&session.ws_url()).await;
    let end = tokio::time::timeout(Duration::from_secs(10), session.ended())
        .await
        .unwrap();
    assert_eq!(end.cause, EndCause::Idle);
    assert_eq!(end.reason, DisconnectReason::ClientClosed);
    let ended = last_ended(&client, before).await;
    assert_eq!(
        ended.disconnect_reason,
        Some(DisconnectReason::ClientClosed)
    );
    assert_eq!(ended.duration_minutes, 1);
}

#[tokio::test]
async fn the_quota_running_out_ends_a_session_with_insufficient_balance() {
    // One sandbox minute is 10 ms; 2 units pay 2 minutes.
    let (_sandbox, client) = sandbox(|b| {
        b.configure(|c: &mut clawkit_sandbox::botswin::Config| c.time_scale = 6000.0)
            .configure(|c: &mut clawkit_sandbox::botswin::Config| c.quota = 2.0)
    })
    .await;
    let before = newest_id(&client).await;
    let session = client
        .open_session(SessionOptions::new().idle(Duration::ZERO))
        .await
        .unwrap();
    let mut cdp = cdp(&session.ws_url()).await;
    let end = tokio::time::timeout(Duration::from_secs(10), session.ended())
        .await
        .unwrap();
    assert_eq!(end.reason, DisconnectReason::InsufficientBalance);
    // The CDP client is told why, too.
    let mut close_reason = None;
    while let Some(Ok(m)) = cdp.next().await {
        if let Message::Close(Some(f)) = m {
            close_reason = Some(f.reason.to_string());
        }
    }
    assert_eq!(close_reason.as_deref(), Some("insufficient_balance"));
    let ended = last_ended(&client, before).await;
    assert_eq!(
        ended.disconnect_reason,
        Some(DisconnectReason::InsufficientBalance)
    );
    assert_eq!((ended.duration_minutes, ended.quota_consumed), (2, 2.0));
    assert_eq!(client.quota().await.unwrap().remaining_quota, 0.0);
    // Now nothing can start: refused at the handshake, typed.
    let refused = client
        .open_session(SessionOptions::new())
        .await
        .unwrap_err();
    assert_eq!(
        refused.reason(),
        Some(Reason::InsufficientBalance),
        "{refused}"
    );
    assert_eq!(refused.api().unwrap().status, 402);
}

#[tokio::test]
async fn every_disconnect_reason_is_produced_and_decoded() {
    // 5 sandbox minutes of silence pass in 50 ms.
    let (sandbox, client) = sandbox(|b| {
        b.configure(|c: &mut clawkit_sandbox::botswin::Config| c.time_scale = 6000.0)
            .configure(|c: &mut clawkit_sandbox::botswin::Config| c.max_sessions = 4)
    })
    .await;
    let direct = client.browser_url(&SessionOptions::new()).unwrap();
    let direct = direct.expose_secret().to_string();
    let before = newest_id(&client).await;

    // client_closed: a Close frame.
    let (mut ws, _) = tokio_tungstenite::connect_async(&direct).await.unwrap();
    ws.close(None).await.unwrap();
    let r1 = last_ended(&client, before).await;

    // client_disconnected: the socket ends without a Close frame.
    let (ws, _) = tokio_tungstenite::connect_async(&direct).await.unwrap();
    drop(ws);
    let r2 = last_ended(&client, r1.id).await;

    // tcp_error: the connection is reset (SO_LINGER 0).
    let addr = sandbox.addr();
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.set_zero_linger().unwrap();
    let (ws, _) = tokio_tungstenite::client_async(&direct, stream)
        .await
        .unwrap();
    drop(ws);
    let r3 = last_ended(&client, r2.id).await;

    // socket_timeout: no data for 5 minutes (no idle guard on this side).
    let session = client
        .open_session(SessionOptions::new().idle(Duration::ZERO))
        .await
        .unwrap();
    let end = tokio::time::timeout(Duration::from_secs(10), session.ended())
        .await
        .unwrap();
    assert_eq!(end.reason, DisconnectReason::SocketTimeout);
    let r4 = last_ended(&client, r3.id).await;

    // server_closed: the server ends the session (on a sandbox at real time, so the session is
    // still open when it is told to).
    let (live, live_client) = self::sandbox(|b| b).await;
    let before_live = newest_id(&live_client).await;
    let session = live_client
        .open_session(SessionOptions::new().idle(Duration::ZERO))
        .await
        .unwrap();
    let _cdp = cdp(&session.ws_url()).await;
    assert_eq!(
        live.vendor::<clawkit_sandbox::botswin::Botswin>()
            .close_sessions(std::time::Duration::from_secs(2))
            .await,
        1
    );
    let end = tokio::time::timeout(Duration::from_secs(10), session.ended())
        .await
        .unwrap();
    assert_eq!(end.reason, DisconnectReason::ServerClosed);
    let r5 = last_ended(&live_client, before_live).await;

    let reasons: Vec<_> = [r1, r2, r3, r4, r5]
        .into_iter()
        .map(|r| r.disconnect_reason.unwrap())
        .collect();
    assert_eq!(
        reasons,
        [
            DisconnectReason::ClientClosed,
            DisconnectReason::ClientDisconnected,
            DisconnectReason::TcpError,
            DisconnectReason::SocketTimeout,
            DisconnectReason::ServerClosed,
        ]
    );
    // insufficient_balance has its own test; all six appear in the seeded history too.
    let seeded: std::collections::HashSet<_> = history(&client)
        .await
        .into_iter()
        .filter_map(|s| s.disconnect_reason)
        .collect();
    assert_eq!(seeded.len(), 6, "{seeded:?}");
}

#[tokio::test]
async fn a_locked_container_and_a_temporary_one() {
    let (_sandbox, client) =
        sandbox(|b| b.configure(|c: &mut clawkit_sandbox::botswin::Config| c.max_sessions = 2))
            .await;
    let container = client.temporary_user_data().await.unwrap();
    let id = container.id().to_string();
    let session = client
        .open_session(SessionOptions::new().user_data(&id))
        .await
        .unwrap();
    let _cdp = cdp(&session.ws_url()).await;
    let listed = client.user_data().await.unwrap();
    let item = listed.items.iter().find(|c| c.id == id).unwrap();
    assert!(item.is_locked);
    assert!(item.last_used_at.is_some());

    let locked = client.delete_user_data(&id).await.unwrap_err();
    assert_eq!(locked.reason(), Some(Reason::UserDataLocked), "{locked}");
    assert_eq!(locked.api().unwrap().status, 423);
    let twice = client
        .open_session(SessionOptions::new().user_data(&id))
        .await
        .unwrap_err();
    assert_eq!(twice.reason(), Some(Reason::UserDataLocked), "{twice}");
    let unknown = client
        .open_session(SessionOptions::new().user_data("udd_nosuchcontainer00"))
        .await
        .unwrap_err();
    assert_eq!(unknown.reason(), Some(Reason::NotFound), "{unknown}");

    // Both go out of scope: the session ends, then the container is deleted once unlocked.
    drop(container);
    drop(session);
    for _ in 0..200 {
        if client
            .user_data()
            .await
            .unwrap()
            .items
            .iter()
            .all(|c| c.id != id)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(
        client
            .user_data()
            .await
            .unwrap()
            .items
            .iter()
            .all(|c| c.id != id)
    );

    // A kept one stays.
    let kept = client.temporary_user_data().await.unwrap().keep();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        client
            .user_data()
            .await
            .unwrap()
            .items
            .iter()
            .any(|c| c.id == kept)
    );
}

#[tokio::test]
async fn handshake_refusals_are_typed() {
    let (sandbox, client) = sandbox(|b| b).await;
    let first = client.open_session(SessionOptions::new()).await.unwrap();
    let second = client
        .open_session(SessionOptions::new())
        .await
        .unwrap_err();
    assert_eq!(second.reason(), Some(Reason::TooManySessions), "{second}");
    assert_eq!(second.api().unwrap().status, 429);
    drop(first);

    let wrong = Client::builder()
        .token("wrong")
        .base_url(sandbox.base_url(Vendor::Botswin))
        .build()
        .unwrap();
    let refused = wrong.open_session(SessionOptions::new()).await.unwrap_err();
    assert_eq!(refused.reason(), Some(Reason::Unauthorized), "{refused}");
    assert!(!refused.to_string().contains("wrong"), "{refused}");

    let bad = client
        .open_session(SessionOptions::new().param("token", "x"))
        .await
        .unwrap_err();
    assert!(matches!(bad, Error::InvalidArgument(_)), "{bad}");
}
