//! Minutes billed for a browser job that panics after 10 s, with and without the session guard.
//!
//! `cargo bench -p clawkit --bench botswin_guard`
//!
//! Against the sandbox with its clock 60 times faster (one real second is one billed minute).
//! In both cases the CDP connection is owned by a spawned handler task, as chromiumoxide's
//! `Handler` is, so the socket outlives the job that panics:
//! - **without the guard** the handler holds a direct connection (`Client::browser_url`): the
//!   session runs until the server's 5-minute idle timeout (`socket_timeout`);
//! - **with the guard** it connects to `Session::ws_url`; the job holds the `Session`, which is
//!   dropped as the panic unwinds and ends the session at once (`client_closed`).
//!
//! Runs `RUNS` jobs of each kind side by side on one sandbox and prints the minutes billed.

use std::time::{Duration, Instant};

use clawkit::botswin::{Client, DisconnectReason, HistoryQuery, SessionOptions};
use clawkit_sandbox::{Sandbox, Vendor};
use futures::{SinkExt, StreamExt, TryStreamExt};
use secrecy::ExposeSecret;
use tokio_tungstenite::tungstenite::Message;

const RUNS: usize = 3;
const SCALE: f64 = 60.0;
/// The job's 10 s of work, in real time at this scale.
const WORK: Duration = Duration::from_micros((10.0 / SCALE * 1_000_000.0) as u64);

/// A CDP handler task that owns the socket: it sends one command and then reads until the
/// connection ends, like a library's background handler.
fn spawn_handler(url: String) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let Ok((mut ws, _)) = tokio_tungstenite::connect_async(&url).await else {
            return;
        };
        let _ = ws
            .send(Message::text(r#"{"id":1,"method":"Page.navigate"}"#))
            .await;
        while let Some(Ok(_)) = ws.next().await {}
    })
}

async fn job(client: Client, guarded: bool) -> Instant {
    let started = Instant::now();
    let run = tokio::spawn(async move {
        if guarded {
            let session = client
                .open_session(SessionOptions::new().idle(Duration::ZERO))
                .await
                .expect("session");
            spawn_handler(session.ws_url());
            tokio::time::sleep(WORK).await;
            let _keep = session;
            panic!("the job failed after 10 s");
        } else {
            let url = client
                .browser_url(&SessionOptions::new())
                .expect("url")
                .expose_secret()
                .to_string();
            spawn_handler(url);
            tokio::time::sleep(WORK).await;
            panic!("the job failed after 10 s");
        }
    });
    let _ = run.await;
    started
}

#[tokio::main]
async fn main() {
    // The jobs' panics are the point of the benchmark: keep them out of the output.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let expected = info
            .payload()
            .downcast_ref::<&str>()
            .is_some_and(|m| m.starts_with("the job failed"));
        if !expected {
            default_hook(info);
        }
    }));
    let sandbox = Sandbox::builder()
        .configure(|c: &mut clawkit_sandbox::botswin::Config| c.time_scale = SCALE)
        .configure(|c: &mut clawkit_sandbox::botswin::Config| c.max_sessions = 2 * RUNS as u32)
        .start()
        .await
        .expect("sandbox");
    let client = Client::builder()
        .token("sandbox-token")
        .base_url(sandbox.base_url(Vendor::Botswin))
        .build()
        .expect("client");
    let before: i64 = client
        .history(HistoryQuery::new())
        .try_collect::<Vec<_>>()
        .await
        .expect("history")
        .last()
        .map_or(0, |s| s.id);
    let began = Instant::now();
    let mut jobs = Vec::new();
    for _ in 0..RUNS {
        jobs.push(tokio::spawn(job(client.clone(), true)));
        jobs.push(tokio::spawn(job(client.clone(), false)));
    }
    for j in jobs {
        let _ = j.await;
    }
    // Wait until every session has ended (the unguarded ones at the server's timeout).
    let sessions = loop {
        let all: Vec<_> = client
            .history(HistoryQuery::new())
            .try_collect::<Vec<_>>()
            .await
            .expect("history");
        let ours: Vec<_> = all.into_iter().filter(|s| s.id > before).collect();
        if ours.len() == 2 * RUNS && ours.iter().all(|s| !s.is_active()) {
            break ours;
        }
        assert!(
            began.elapsed() < Duration::from_secs(120),
            "sessions did not end"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let billed = |reason: DisconnectReason| -> Vec<i64> {
        sessions
            .iter()
            .filter(|s| s.disconnect_reason.as_ref() == Some(&reason))
            .map(|s| s.duration_minutes)
            .collect()
    };
    let guarded = billed(DisconnectReason::ClientClosed);
    let unguarded = billed(DisconnectReason::SocketTimeout);
    let mean = |v: &[i64]| v.iter().sum::<i64>() as f64 / v.len().max(1) as f64;
    println!(
        "botswin session guard: a job that panics after 10 s ({RUNS} runs each, sandbox clock x{SCALE})"
    );
    println!(
        "  with the guard (Session dropped on panic): {guarded:?} minutes billed, reason client_closed"
    );
    println!(
        "  without it (handler keeps the socket):     {unguarded:?} minutes billed, reason socket_timeout"
    );
    println!(
        "  ratio: {:.1} vs {:.1} minutes = {:.1}x fewer billed minutes with the guard",
        mean(&guarded),
        mean(&unguarded),
        mean(&unguarded) / mean(&guarded).max(f64::MIN_POSITIVE)
    );
    assert_eq!(
        guarded.len(),
        RUNS,
        "every guarded session ended client_closed: {sessions:?}"
    );
    assert_eq!(
        unguarded.len(),
        RUNS,
        "every unguarded session timed out: {sessions:?}"
    );
}
