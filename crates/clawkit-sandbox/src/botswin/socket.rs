//! A live session's socket: billing per started minute, the idle timeout, the frames, and how
//! the session ends.
//!
//! - Billing: the first minute is billed at the handshake; at each minute boundary after the start
//!   (on the sandbox clock) the next one is, or, when the remaining quota cannot pay it, the
//!   session ends there with `insufficient_balance`.
//! - Data: any frame from the client (text, binary, ping, pong) and any frame the server sends.
//!   A text frame holding a JSON object with an `id` is answered `{"id": <same>, "result": {}}` (a
//!   minimal CDP answer); other text and binary frames are echoed; pings get pongs.
//! - 5 sandbox minutes without data either way end the session with `socket_timeout`.
//! - The client's Close frame ends it with `client_closed` (answered with a Close); a socket that
//!   ends without one with `client_disconnected`; an I/O error, or any other read error, with
//!   `tcp_error`; [`Botswin::close_sessions`] with `server_closed`.
//!
//! When the server ends a session it sends a Close frame whose reason text is the disconnect
//! reason, with code 1008 (policy) for `insufficient_balance` and `socket_timeout` and 1001
//! (going away) for `server_closed`. Every end is recorded before the closing handshake, so a
//! client that saw the Close frame finds the session in the history.
//!
//! A timer sleeps for the real time until the next event (a minute boundary or the idle
//! deadline); when it wakes late, every event due by then is handled in sandbox-time order (an
//! idle deadline before a boundary at the same instant).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite;

use super::model::MINUTE_MS;
use super::model::Reason;
use super::state::Botswin;

/// A session admitted: what its socket task needs.
#[derive(Debug)]
pub(super) struct Admission {
    /// The session's id.
    pub(super) id: u64,
    /// Its start, Unix ms (sandbox clock).
    pub(super) started_ms: i64,
    /// Tells it to end with `server_closed`.
    pub(super) closer: watch::Receiver<()>,
    /// Ends the session if nothing else did by the time it is dropped.
    pub(super) guard: Guard,
}

/// Held by a session's socket task from the handshake on: dropped (the task ended, or the upgrade
/// failed so the task never ran) it ends a session still live as `client_disconnected` and
/// counts the task out.
#[derive(Debug)]
pub(super) struct Guard {
    pub(super) botswin: Arc<Botswin>,
    pub(super) id: u64,
}

impl Drop for Guard {
    fn drop(&mut self) {
        let now = self.botswin.clock.now_ms();
        self.botswin.end(self.id, now, Reason::ClientDisconnected);
        self.botswin.tasks.fetch_sub(1, Ordering::SeqCst);
        self.botswin.changes.send_replace(());
    }
}

/// No data either way for this long (sandbox time) ends a session with `socket_timeout`.
pub(super) const IDLE_MS: i64 = 5 * MINUTE_MS;

/// Close code 1001, going away: the server shuts down.
pub(super) const GOING_AWAY: u16 = 1001;

/// Close code 1008, policy violation: out of quota, or idle too long.
pub(super) const POLICY: u16 = 1008;

/// How long (real time) the server waits for its closing handshake to complete.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// Where a session stands in sandbox time: its minutes and its idle deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Meter {
    /// Start, Unix ms.
    started_ms: i64,
    /// Minutes billed.
    billed: u32,
    /// The last data either way, Unix ms.
    last_data_ms: i64,
}

/// An event whose time has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Due {
    /// The minute starting at this instant is to be billed.
    Bill(i64),
    /// The socket was idle too long at this instant.
    Timeout(i64),
}

impl Meter {
    /// A session started at `started_ms` with its first minute billed.
    pub(super) fn new(started_ms: i64) -> Self {
        Self {
            started_ms,
            billed: 1,
            last_data_ms: started_ms,
        }
    }

    /// When the next unbilled minute starts.
    pub(super) fn next_minute(&self) -> i64 {
        self.started_ms + i64::from(self.billed) * MINUTE_MS
    }

    /// When the socket times out unless data flows.
    pub(super) fn idle_deadline(&self) -> i64 {
        self.last_data_ms + IDLE_MS
    }

    /// The earlier of the two.
    pub(super) fn next_event(&self) -> i64 {
        self.next_minute().min(self.idle_deadline())
    }

    /// The earliest event due at `now_ms`: a timeout before a boundary at the same instant (a
    /// session that ends at a boundary does not start that minute).
    pub(super) fn due(&self, now_ms: i64) -> Option<Due> {
        let (minute, idle) = (self.next_minute(), self.idle_deadline());
        if idle <= now_ms && idle <= minute {
            Some(Due::Timeout(idle))
        } else if minute <= now_ms {
            Some(Due::Bill(minute))
        } else {
            None
        }
    }

    /// Data went either way at `now_ms`.
    pub(super) fn data(&mut self, now_ms: i64) {
        self.last_data_ms = self.last_data_ms.max(now_ms);
    }
}

/// How and when (Unix ms, sandbox clock) a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Ending {
    reason: Reason,
    at_ms: i64,
}

/// Handles every event due by `now_ms`: bills the minutes that started, or says how the session
/// ended.
fn catch_up(botswin: &Botswin, id: u64, meter: &mut Meter, now_ms: i64) -> Option<Ending> {
    while let Some(due) = meter.due(now_ms) {
        match due {
            Due::Timeout(at_ms) => {
                return Some(Ending {
                    reason: Reason::SocketTimeout,
                    at_ms,
                });
            }
            Due::Bill(at_ms) => {
                if !botswin.bill(id) {
                    return Some(Ending {
                        reason: Reason::InsufficientBalance,
                        at_ms,
                    });
                }
                meter.billed += 1;
            }
        }
    }
    None
}

/// The server's answer to a client frame: `{"id": <same>, "result": {}}` to a JSON object with
/// an `id`, the frame itself to other text and binary frames, nothing to pings and pongs.
pub(super) fn answer(message: Message) -> Option<Message> {
    match message {
        Message::Text(text) => {
            let id = serde_json::from_str::<Value>(text.as_str())
                .ok()
                .and_then(|v| v.as_object().and_then(|o| o.get("id").cloned()));
            match id {
                Some(id) => Some(Message::text(json!({"id": id, "result": {}}).to_string())),
                None => Some(Message::Text(text)),
            }
        }
        Message::Binary(bytes) => Some(Message::Binary(bytes)),
        Message::Ping(_) | Message::Pong(_) | Message::Close(_) => None,
    }
}

/// The reason a socket error ends a session with: `client_disconnected` for a socket that ended
/// without a Close frame (tungstenite's reset without closing handshake, or a closed
/// connection), `tcp_error` for an I/O error or anything else.
pub(super) fn reason_of(error: axum::Error) -> Reason {
    use tungstenite::error::{Error, ProtocolError};
    match error.into_inner().downcast::<Error>() {
        Ok(error) => match *error {
            Error::Protocol(ProtocolError::ResetWithoutClosingHandshake)
            | Error::ConnectionClosed
            | Error::AlreadyClosed => Reason::ClientDisconnected,
            _ => Reason::TcpError,
        },
        Err(_) => Reason::TcpError,
    }
}

/// The Close frame the server ends a session with, if the server ends it.
pub(super) fn close_frame(reason: Reason) -> Option<CloseFrame> {
    let code = match reason {
        Reason::ServerClosed => GOING_AWAY,
        Reason::InsufficientBalance | Reason::SocketTimeout => POLICY,
        Reason::ClientClosed | Reason::ClientDisconnected | Reason::TcpError => return None,
    };
    Some(CloseFrame {
        code,
        reason: Utf8Bytes::from_static(reason.as_str()),
    })
}

/// Sends `reply`, still ending the session on time while the send waits (a client that does not
/// read blocks it): on the sandbox's close signal, or when a minute cannot be paid or the socket
/// has been idle too long meanwhile.
async fn deliver(
    ws: &mut WebSocket,
    reply: Message,
    botswin: &Botswin,
    id: u64,
    meter: &mut Meter,
    closer: &mut watch::Receiver<()>,
) -> Result<(), Ending> {
    let clock = botswin.clock;
    let send = ws.send(reply);
    tokio::pin!(send);
    loop {
        let wait = clock.real_until(meter.next_event());
        tokio::select! {
            biased;
            _ = closer.changed() => {
                return Err(Ending { reason: Reason::ServerClosed, at_ms: clock.now_ms() });
            }
            sent = &mut send => {
                return sent.map_err(|error| Ending {
                    reason: reason_of(error),
                    at_ms: clock.now_ms(),
                });
            }
            () = tokio::time::sleep(wait) => {
                if let Some(ending) = catch_up(botswin, id, meter, clock.now_ms()) {
                    return Err(ending);
                }
            }
        }
    }
}

/// Serves the session `admission` on `ws` until it ends, then records the end and closes.
pub(super) async fn run(botswin: Arc<Botswin>, admission: Admission, mut ws: WebSocket) {
    let Admission {
        id,
        started_ms,
        mut closer,
        guard,
    } = admission;
    let clock = botswin.clock;
    let mut meter = Meter::new(started_ms);
    let ending = loop {
        if let Some(ending) = catch_up(&botswin, id, &mut meter, clock.now_ms()) {
            break ending;
        }
        let wait = clock.real_until(meter.next_event());
        tokio::select! {
            biased;
            _ = closer.changed() => {
                break Ending { reason: Reason::ServerClosed, at_ms: clock.now_ms() };
            }
            frame = ws.recv() => {
                let now = clock.now_ms();
                if let Some(ending) = catch_up(&botswin, id, &mut meter, now) {
                    break ending;
                }
                let message = match frame {
                    None => break Ending { reason: Reason::ClientDisconnected, at_ms: now },
                    Some(Err(error)) => break Ending { reason: reason_of(error), at_ms: now },
                    Some(Ok(Message::Close(_))) => {
                        break Ending { reason: Reason::ClientClosed, at_ms: now };
                    }
                    Some(Ok(message)) => message,
                };
                meter.data(now);
                if let Some(reply) = answer(message) {
                    let sent = deliver(&mut ws, reply, &botswin, id, &mut meter, &mut closer);
                    if let Err(ending) = sent.await {
                        break ending;
                    }
                    meter.data(clock.now_ms());
                }
            }
            () = tokio::time::sleep(wait) => {}
        }
    };
    botswin.end(id, ending.at_ms, ending.reason);
    let closing = async {
        if let Some(frame) = close_frame(ending.reason) {
            // The client answers with its Close frame; what it sent before is read and dropped.
            if ws.send(Message::Close(Some(frame))).await.is_ok() {
                while let Some(Ok(_)) = ws.recv().await {}
            }
        } else if ending.reason == Reason::ClientClosed {
            // Sends the Close frame tungstenite queued in answer to the client's.
            let _ = futures::SinkExt::close(&mut ws).await;
        }
    };
    let _ = tokio::time::timeout(CLOSE_GRACE, closing).await;
    drop(ws);
    drop(guard);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minutes_are_due_at_each_boundary_and_the_timeout_first_on_a_tie() {
        let mut m = Meter::new(0);
        assert_eq!(m.due(MINUTE_MS - 1), None);
        assert_eq!(m.due(MINUTE_MS), Some(Due::Bill(MINUTE_MS)));
        m.billed = 5;
        // No data since the start: the idle deadline (5:00) ties with minute 6's start.
        assert_eq!(m.next_event(), IDLE_MS);
        assert_eq!(m.due(IDLE_MS), Some(Due::Timeout(IDLE_MS)));
        m.data(IDLE_MS - 1);
        assert_eq!(m.due(IDLE_MS), Some(Due::Bill(IDLE_MS)));
        // Data never moves the deadline back.
        m.data(10);
        assert_eq!(m.idle_deadline(), IDLE_MS - 1 + IDLE_MS);
    }

    #[test]
    fn a_late_wake_bills_every_started_minute_then_ends_when_the_quota_is_out() {
        let b = Botswin::new(crate::botswin::state::Config {
            quota: 3.0,
            ..Default::default()
        });
        let admission = b.admit(None, true).unwrap().unwrap();
        let mut m = Meter::new(admission.started_ms);
        let late = admission.started_ms + 4 * MINUTE_MS + 30_000;
        let ending = catch_up(&b, admission.id, &mut m, late);
        // Minutes 2 and 3 billed, minute 4 could not be: the session ends at its start.
        assert_eq!(
            ending,
            Some(Ending {
                reason: Reason::InsufficientBalance,
                at_ms: admission.started_ms + 3 * MINUTE_MS
            })
        );
        assert_eq!(m.billed, 3);
        assert_eq!(b.lock().remaining, 0.0);
    }

    #[test]
    fn cdp_calls_are_answered_and_other_frames_echoed() {
        let reply = answer(Message::text(
            r#"{"id": 7, "method": "Browser.getVersion"}"#,
        ));
        let Some(Message::Text(text)) = reply else {
            panic!("{reply:?}")
        };
        let body: Value = serde_json::from_str(text.as_str()).unwrap();
        assert_eq!(body, json!({"id": 7, "result": {}}));
        assert_eq!(
            answer(Message::text("[1, 2]")),
            Some(Message::text("[1, 2]"))
        );
        assert_eq!(
            answer(Message::binary(vec![1u8, 2])),
            Some(Message::binary(vec![1u8, 2]))
        );
        assert_eq!(answer(Message::Ping(vec![1u8].into())), None);
    }

    #[test]
    fn the_server_closes_with_the_reason_as_text() {
        let frame = close_frame(Reason::SocketTimeout).unwrap();
        assert_eq!(
            (frame.code, frame.reason.as_str()),
            (1008, "socket_timeout")
        );
        let frame = close_frame(Reason::ServerClosed).unwrap();
        assert_eq!((frame.code, frame.reason.as_str()), (1001, "server_closed"));
        assert_eq!(close_frame(Reason::ClientClosed), None);
    }
}
