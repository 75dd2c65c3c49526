//! A local WebSocket endpoint in front of a remote one that ends the remote session when it is no
//! longer wanted: when the handle is dropped (a job that panics or returns early), when no frame
//! has passed for a while (a job that hangs), or when the local client goes away without closing.
//!
//! Metered WebSocket services (cloud browsers billed per minute) keep a session, and its bill,
//! running until their own idle timeout when a client dies without a Close frame, or when the task
//! that owns the socket outlives the job that used it. A [`Relay`] owns the remote socket itself:
//! the local client (a CDP library, say) connects to [`Relay::local_url`], every frame is passed
//! through in both directions, and the remote side always gets a proper Close frame.
//!
//! ```no_run
//! # async fn run() -> Result<(), clawkit_runtime::relay::RelayError> {
//! use std::time::Duration;
//! use clawkit_runtime::relay::{Relay, RelayOptions};
//! use secrecy::SecretString;
//!
//! let remote = SecretString::from("wss://browser.example.com/?token=secret");
//! let relay = Relay::open(&remote, RelayOptions::default().idle(Duration::from_secs(60))).await?;
//! // Give this URL to the client; it carries no secret.
//! println!("{}", relay.local_url());
//! // ... the job ...
//! let ended = relay.close().await; // or just drop it
//! println!("{ended:?}");
//! # Ok(()) }
//! ```

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use secrecy::{ExposeSecret, SecretString};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};
use tokio::time::{Instant, sleep_until, timeout};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Remote = WebSocketStream<MaybeTlsStream<TcpStream>>;
type Local = WebSocketStream<TcpStream>;

/// How a [`Relay`] behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelayOptions {
    /// End the remote session when no data frame (text or binary) has passed in either direction
    /// for this long, including before the local client connects. `None`: never.
    pub idle: Option<Duration>,
    /// How long to wait for the remote side to answer our Close frame before dropping the socket.
    pub close_grace: Duration,
    /// How long the remote handshake may take.
    pub connect_timeout: Duration,
}

impl Default for RelayOptions {
    /// Idle after 2 minutes, 2 s for the Close answer, 30 s to connect.
    fn default() -> Self {
        Self {
            idle: Some(Duration::from_secs(120)),
            close_grace: Duration::from_secs(2),
            connect_timeout: Duration::from_secs(30),
        }
    }
}

impl RelayOptions {
    /// The same with another idle limit (`Duration::ZERO` is taken as "never").
    pub fn idle(mut self, idle: Duration) -> Self {
        self.idle = (!idle.is_zero()).then_some(idle);
        self
    }

    /// The same without an idle limit.
    pub fn never_idle(mut self) -> Self {
        self.idle = None;
        self
    }
}

/// Why a relay ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EndCause {
    /// [`Relay::close`] was called.
    Closed,
    /// The [`Relay`] was dropped while the session was open.
    Dropped,
    /// No data frame passed for [`RelayOptions::idle`].
    Idle,
    /// The local client sent a Close frame (it was passed on).
    LocalClosed,
    /// The local client's socket ended without a Close frame; the remote side was closed for it.
    LocalGone,
    /// The remote side sent a Close frame ([`Ended::remote_close`] holds it).
    RemoteClosed,
    /// The remote socket failed or ended without a Close frame.
    RemoteLost(String),
}

/// A Close frame as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Close {
    /// The close code (1000 normal, 1001 going away, 1008 policy, ...).
    pub code: u16,
    /// The reason text (services put a machine-readable reason here).
    pub reason: String,
}

/// How a relay ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ended {
    /// What ended it.
    pub cause: EndCause,
    /// The remote side's Close frame: its own when it ended the session, or its answer to ours.
    pub remote_close: Option<Close>,
    /// Whether a Close frame was sent to the remote side (so it knows the client closed).
    pub closed_remote: bool,
    /// Text and binary frames passed through, both directions.
    pub frames: u64,
}

/// A relay that could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RelayError {
    /// The remote side answered the handshake with an HTTP error instead of switching protocols.
    #[error("the WebSocket handshake was refused with HTTP {status}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// The answer's body (the service's error, usually JSON).
        body: Vec<u8>,
    },
    /// The remote endpoint could not be reached or spoke no WebSocket (the message names no URL:
    /// it may hold a token).
    #[error("cannot open the WebSocket: {0}")]
    Connect(String),
    /// The handshake took longer than [`RelayOptions::connect_timeout`].
    #[error("the WebSocket handshake took longer than {0:?}")]
    Timeout(Duration),
    /// No local port could be bound.
    #[error("cannot listen on 127.0.0.1: {0}")]
    Listen(#[source] std::io::Error),
}

enum Stop {
    Close,
}

/// A running relay: the remote session is open until this is closed or dropped, or ends by itself.
#[must_use = "dropping a Relay ends its session"]
pub struct Relay {
    local: SocketAddr,
    stop: Option<oneshot::Sender<Stop>>,
    ended: watch::Receiver<Option<Ended>>,
}

impl fmt::Debug for Relay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Relay")
            .field("local", &self.local)
            .field("ended", &*self.ended.borrow())
            .finish_non_exhaustive()
    }
}

impl Relay {
    /// Opens the remote WebSocket (`ws://` or `wss://`; the URL is secret because services put the
    /// token in it), then listens on 127.0.0.1 for one local client. Must be called inside a Tokio
    /// runtime: the relay runs on a task of its own.
    pub async fn open(remote: &SecretString, options: RelayOptions) -> Result<Relay, RelayError> {
        let connect = tokio_tungstenite::connect_async(remote.expose_secret());
        let remote = match timeout(options.connect_timeout, connect).await {
            Err(_) => return Err(RelayError::Timeout(options.connect_timeout)),
            Ok(Err(WsError::Http(answer))) => {
                return Err(RelayError::Refused {
                    status: answer.status().as_u16(),
                    body: answer.body().clone().unwrap_or_default(),
                });
            }
            Ok(Err(e)) => return Err(RelayError::Connect(describe(&e))),
            Ok(Ok((socket, _))) => socket,
        };
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(RelayError::Listen)?;
        let local = listener.local_addr().map_err(RelayError::Listen)?;
        let (stop_tx, stop_rx) = oneshot::channel();
        let (ended_tx, ended_rx) = watch::channel(None);
        tokio::spawn(async move {
            let ended = run(remote, listener, stop_rx, options).await;
            tracing::debug!(?ended, "relay ended");
            let _ = ended_tx.send(Some(ended));
        });
        Ok(Relay {
            local,
            stop: Some(stop_tx),
            ended: ended_rx,
        })
    }

    /// The URL the local client connects to (`ws://127.0.0.1:PORT/`); it holds no secret.
    pub fn local_url(&self) -> String {
        format!("ws://{}/", self.local)
    }

    /// The local address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// How the relay ended, if it has.
    pub fn try_ended(&self) -> Option<Ended> {
        self.ended.borrow().clone()
    }

    /// Waits until the relay ends by itself (the remote side closed, the client left, idle).
    pub async fn ended(&self) -> Ended {
        let mut ended = self.ended.clone();
        wait_ended(&mut ended).await
    }

    /// Ends the session: a Close frame to the remote side (and to the local client), and waits
    /// until that is done.
    pub async fn close(mut self) -> Ended {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(Stop::Close);
        }
        let mut ended = self.ended.clone();
        wait_ended(&mut ended).await
    }
}

async fn wait_ended(ended: &mut watch::Receiver<Option<Ended>>) -> Ended {
    loop {
        if let Some(e) = ended.borrow_and_update().clone() {
            return e;
        }
        if ended.changed().await.is_err() {
            // The task is gone without a word: its runtime shut down.
            return ended.borrow().clone().unwrap_or(Ended {
                cause: EndCause::RemoteLost("the relay's runtime stopped".into()),
                remote_close: None,
                closed_remote: false,
                frames: 0,
            });
        }
    }
}

/// Names a WebSocket error without echoing anything that may hold the URL.
fn describe(e: &WsError) -> String {
    match e {
        WsError::Io(io) => format!("I/O error: {io}"),
        WsError::Tls(tls) => format!("TLS error: {tls}"),
        WsError::Url(_) => "the URL is not a ws:// or wss:// URL this build can open".into(),
        WsError::Protocol(p) => format!("protocol error: {p}"),
        WsError::ConnectionClosed | WsError::AlreadyClosed => "the connection closed".into(),
        other => other.to_string(),
    }
}

fn frame(close: Option<CloseFrame>) -> Option<Close> {
    close.map(|f| Close {
        code: u16::from(f.code),
        reason: f.reason.to_string(),
    })
}

struct Pump {
    remote: Remote,
    local: Option<Local>,
    frames: u64,
    last: Instant,
}

async fn run(
    remote: Remote,
    listener: TcpListener,
    mut stop: oneshot::Receiver<Stop>,
    options: RelayOptions,
) -> Ended {
    let mut pump = Pump {
        remote,
        local: None,
        frames: 0,
        last: Instant::now(),
    };
    let cause = loop {
        let deadline = options.idle.map(|idle| pump.last + idle);
        let idle = async move {
            match deadline {
                Some(deadline) => sleep_until(deadline).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            asked = &mut stop => {
                break match asked {
                    Ok(Stop::Close) => EndCause::Closed,
                    Err(_) => EndCause::Dropped,
                };
            }
            () = idle => break EndCause::Idle,
            accepted = listener.accept(), if pump.local.is_none() => {
                if let Ok((stream, _)) = accepted {
                    // A client that fails its handshake is simply not connected; wait for another.
                    if let Ok(Ok(socket)) = timeout(options.connect_timeout, tokio_tungstenite::accept_async(stream)).await {
                        pump.local = Some(socket);
                    }
                }
            }
            from_local = next_local(&mut pump.local) => match from_local {
                Some(Ok(Message::Close(close))) => {
                    let _ = pump.remote.send(Message::Close(close)).await;
                    let answer = drain_close(&mut pump.remote, options.close_grace).await;
                    return Ended { cause: EndCause::LocalClosed, remote_close: answer, closed_remote: true, frames: pump.frames };
                }
                Some(Ok(message)) => {
                    if is_data(&message) {
                        pump.frames += 1;
                        pump.last = Instant::now();
                    }
                    if let Err(e) = pump.remote.send(message).await {
                        close_local(&mut pump.local, CloseCode::Error, "remote lost").await;
                        return Ended { cause: EndCause::RemoteLost(describe(&e)), remote_close: None, closed_remote: false, frames: pump.frames };
                    }
                }
                None | Some(Err(_)) => break EndCause::LocalGone,
            },
            from_remote = pump.remote.next() => match from_remote {
                Some(Ok(Message::Close(close))) => {
                    let close = frame(close);
                    let to_local = close.as_ref().map(|c| CloseFrame { code: CloseCode::from(c.code), reason: c.reason.clone().into() });
                    if let Some(local) = pump.local.as_mut() {
                        let _ = local.close(to_local).await;
                    }
                    // Let tungstenite answer the Close and end the socket.
                    let _ = drain_close(&mut pump.remote, options.close_grace).await;
                    return Ended { cause: EndCause::RemoteClosed, remote_close: close, closed_remote: false, frames: pump.frames };
                }
                Some(Ok(message)) => {
                    if is_data(&message) {
                        pump.frames += 1;
                        pump.last = Instant::now();
                    }
                    if let Some(local) = pump.local.as_mut()
                        && local.send(message).await.is_err()
                    {
                        break EndCause::LocalGone;
                    }
                }
                Some(Err(e)) => {
                    close_local(&mut pump.local, CloseCode::Error, "remote lost").await;
                    return Ended { cause: EndCause::RemoteLost(describe(&e)), remote_close: None, closed_remote: false, frames: pump.frames };
                }
                None => {
                    close_local(&mut pump.local, CloseCode::Error, "remote lost").await;
                    return Ended { cause: EndCause::RemoteLost("the socket ended without a Close frame".into()), remote_close: None, closed_remote: false, frames: pump.frames };
                }
            },
        }
    };
    // We end it: a normal Close to the remote side, and to the local client.
    let reason = match cause {
        EndCause::Idle => "idle",
        EndCause::LocalGone => "client gone",
        _ => "",
    };
    let sent = pump
        .remote
        .send(Message::Close(Some(CloseFrame {
            code: CloseCode::Normal,
            reason: reason.into(),
        })))
        .await
        .is_ok();
    let answer = if sent {
        drain_close(&mut pump.remote, options.close_grace).await
    } else {
        None
    };
    close_local(&mut pump.local, CloseCode::Away, reason).await;
    Ended {
        cause,
        remote_close: answer,
        closed_remote: sent,
        frames: pump.frames,
    }
}

async fn next_local(local: &mut Option<Local>) -> Option<Result<Message, WsError>> {
    match local {
        Some(socket) => socket.next().await,
        None => std::future::pending().await,
    }
}

fn is_data(message: &Message) -> bool {
    matches!(message, Message::Text(_) | Message::Binary(_))
}

/// Reads until the remote side's Close frame (or the end of the socket), at most `grace`.
async fn drain_close(remote: &mut Remote, grace: Duration) -> Option<Close> {
    let read = async {
        while let Some(message) = remote.next().await {
            match message {
                Ok(Message::Close(close)) => return frame(close),
                Ok(_) => continue,
                Err(_) => return None,
            }
        }
        None
    };
    timeout(grace, read).await.ok().flatten()
}

async fn close_local(local: &mut Option<Local>, code: CloseCode, reason: &str) {
    if let Some(socket) = local.as_mut() {
        let _ = timeout(
            Duration::from_secs(1),
            socket.close(Some(CloseFrame {
                code,
                reason: reason.to_string().into(),
            })),
        )
        .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A remote that echoes data frames and records the Close frame it receives.
    async fn echo_server() -> (String, tokio::sync::mpsc::UnboundedReceiver<Option<Close>>) {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let url = format!("ws://{}/?token=secret", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let tx = tx.clone();
                tokio::spawn(async move {
                    let mut ws = tokio_tungstenite::accept_async(stream).await.unwrap();
                    while let Some(message) = ws.next().await {
                        match message {
                            Ok(Message::Close(close)) => {
                                let _ = tx.send(frame(close));
                                break;
                            }
                            Ok(Message::Text(t)) if t.as_str() == "bye" => {
                                let _ = ws
                                    .send(Message::Close(Some(CloseFrame {
                                        code: CloseCode::Policy,
                                        reason: "insufficient_balance".into(),
                                    })))
                                    .await;
                            }
                            Ok(m) if is_data(&m) => {
                                let _ = ws.send(m).await;
                            }
                            Ok(_) => {}
                            Err(_) => {
                                let _ = tx.send(None);
                                break;
                            }
                        }
                    }
                });
            }
        });
        (url, rx)
    }

    async fn local_client(relay: &Relay) -> Local {
        let stream = TcpStream::connect(relay.local_addr()).await.unwrap();
        tokio_tungstenite::client_async(relay.local_url(), stream)
            .await
            .unwrap()
            .0
    }

    #[tokio::test]
    async fn frames_pass_both_ways_and_close_reaches_the_remote() {
        let (url, mut closes) = echo_server().await;
        let relay = Relay::open(&SecretString::from(url), RelayOptions::default())
            .await
            .unwrap();
        assert!(!relay.local_url().contains("secret"));
        assert!(!format!("{relay:?}").contains("secret"));
        let mut client = local_client(&relay).await;
        client.send(Message::text("hello")).await.unwrap();
        assert_eq!(
            client.next().await.unwrap().unwrap(),
            Message::text("hello")
        );
        let ended = relay.close().await;
        assert_eq!(ended.cause, EndCause::Closed);
        assert!(ended.closed_remote);
        assert_eq!(ended.frames, 2);
        let got = closes.recv().await.unwrap().unwrap();
        assert_eq!(got.code, 1000);
    }

    #[tokio::test]
    async fn dropping_the_relay_closes_the_remote_session() {
        let (url, mut closes) = echo_server().await;
        let relay = Relay::open(&SecretString::from(url), RelayOptions::default())
            .await
            .unwrap();
        let _client = local_client(&relay).await;
        let job = tokio::spawn(async move {
            let _relay = relay;
            panic!("the job failed");
        });
        assert!(job.await.is_err());
        let got = timeout(Duration::from_secs(5), closes.recv())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(got.code, 1000, "a normal Close, not a dropped socket");
    }

    #[tokio::test]
    async fn an_idle_session_is_closed() {
        let (url, mut closes) = echo_server().await;
        let relay = Relay::open(
            &SecretString::from(url),
            RelayOptions::default().idle(Duration::from_millis(200)),
        )
        .await
        .unwrap();
        let mut client = local_client(&relay).await;
        client.send(Message::text("one")).await.unwrap();
        let _ = client.next().await;
        let ended = timeout(Duration::from_secs(10), relay.ended())
            .await
            .unwrap();
        assert_eq!(ended.cause, EndCause::Idle);
        assert_eq!(
            closes.recv().await.unwrap().unwrap().reason,
            "idle",
            "the remote side is told why"
        );
        // The local client sees the end too.
        let mut saw_close = false;
        while let Some(Ok(m)) = client.next().await {
            saw_close |= matches!(m, Message::Close(_));
        }
        assert!(saw_close);
    }

    #[tokio::test]
    async fn a_client_that_vanishes_still_closes_the_remote_session() {
        let (url, mut closes) = echo_server().await;
        let relay = Relay::open(
            &SecretString::from(url),
            RelayOptions::default().never_idle(),
        )
        .await
        .unwrap();
        let client = local_client(&relay).await;
        drop(client); // no Close frame
        let ended = timeout(Duration::from_secs(10), relay.ended())
            .await
            .unwrap();
        assert_eq!(ended.cause, EndCause::LocalGone);
        assert_eq!(closes.recv().await.unwrap().unwrap().code, 1000);
    }

    #[tokio::test]
    async fn the_remote_close_frame_is_kept_and_passed_on() {
        let (url, _closes) = echo_server().await;
        let relay = Relay::open(&SecretString::from(url), RelayOptions::default())
            .await
            .unwrap();
        let mut client = local_client(&relay).await;
        client.send(Message::text("bye")).await.unwrap();
        let ended = timeout(Duration::from_secs(10), relay.ended())
            .await
            .unwrap();
        assert_eq!(ended.cause, EndCause::RemoteClosed);
        let close = ended.remote_close.unwrap();
        assert_eq!(
            (close.code, close.reason.as_str()),
            (1008, "insufficient_balance")
        );
        match client.next().await {
            Some(Ok(Message::Close(Some(f)))) => {
                assert_eq!(f.reason.as_str(), "insufficient_balance")
            }
            other => panic!("expected the Close frame, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_refused_handshake_keeps_status_and_body() {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf).await;
            let body = r#"{"error":"insufficient_balance"}"#;
            let answer = format!(
                "HTTP/1.1 402 Payment Required\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            );
            s.write_all(answer.as_bytes()).await.unwrap();
        });
        let url = SecretString::from(format!("ws://{addr}/?token=secret"));
        match Relay::open(&url, RelayOptions::default()).await {
            Err(RelayError::Refused { status, body }) => {
                assert_eq!(status, 402);
                assert_eq!(body, br#"{"error":"insufficient_balance"}"#);
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        let unreachable = SecretString::from("ws://127.0.0.1:1/?token=secret");
        let e = Relay::open(&unreachable, RelayOptions::default())
            .await
            .unwrap_err();
        assert!(!e.to_string().contains("secret"), "{e}");
    }
}
