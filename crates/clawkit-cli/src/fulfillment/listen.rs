//! `claw fulfillment listen`: a webhook receiver that prints each verified, de-duplicated event.

use std::sync::Arc;
use std::time::Duration;

use clawkit::client::Service;
use clawkit::fulfillment::Client;
use clawkit::fulfillment::webhook::{Event, Receiver};
use clawkit::runtime::webhook::Deliveries;
use serde_json::{Value, json};

use crate::failure::Failure;
use crate::session::{Embedded, Globals};

/// One line per event: its type, id and what it is about; the whole event with `--json`.
fn describe(event: &Event) -> (String, Value) {
    let (kind, about, whole) = match event {
        Event::OrderCreated(e) => ("order.created", e.data.order_no.clone(), json!(e.data)),
        Event::LogisticsUpdated(e) => (
            "logistics.updated",
            format!("{} {}", e.data.tracking_number, e.data.status),
            json!(e.data),
        ),
        Event::ReturnReceived(e) => ("return.received", e.data.rma_no.clone(), json!(e.data)),
        Event::InventoryChanged(e) => (
            "inventory.changed",
            format!(
                "{}@{} ats {} -> {}",
                e.data.inventory.sku,
                e.data.inventory.warehouse_code,
                e.data.previous_ats,
                e.data.inventory.ats
            ),
            json!(e.data),
        ),
        _ => ("event", String::new(), Value::Null),
    };
    (
        format!("{kind} {} {about}", event.id()),
        json!({"event_id": event.id(), "event_type": kind, "data": whole}),
    )
}

pub(super) async fn listen(
    globals: &Globals,
    port: u16,
    mut secrets: Vec<String>,
    count: Option<usize>,
) -> Result<(), Failure> {
    // With --sandbox, a sandbox to send events from, and its secret.
    let sandbox = if globals.sandbox {
        let sandbox = Embedded::start().await?;
        eprintln!(
            "claw: embedded sandbox at {}",
            sandbox.base_url_of(Client::NAME)?
        );
        secrets.extend(
            sandbox
                .credentials_of(Client::NAME)?
                .into_iter()
                .filter(|(env, _)| *env == "CLIENT_SECRET")
                .map(|(_, v)| v),
        );
        Some(sandbox)
    } else {
        None
    };
    if secrets.is_empty()
        && let Ok(secret) = std::env::var(format!("{}_CLIENT_SECRET", Client::ENV_PREFIX))
    {
        secrets.push(secret);
    }
    let Some((first, rest)) = secrets.split_first() else {
        return Err(Failure::Usage(
            "listen needs a client secret: --secret, OPENCLAW_FULFILLMENT_CLIENT_SECRET, or --sandbox"
                .into(),
        ));
    };
    let receiver = rest
        .iter()
        .fold(Receiver::new(first.clone()), |r, s| r.also(s.clone()));
    // Every `listen` on the same state store takes each delivery in once (--state, CLAWKIT_STATE
    // or the user's SQLite file; this process only with --sandbox).
    let state = globals
        .state_for(globals.sandbox)
        .map(|url| url.to_url_string())
        .or_else(|| {
            std::env::var(clawkit::runtime::config::STATE_ENV)
                .ok()
                .filter(|v| !v.trim().is_empty())
        });
    let receiver = match state {
        Some(url) => receiver
            .state(&url)
            .map_err(|e| Failure::Usage(e.to_string()))?,
        None => receiver.store(Arc::new(Deliveries::new(
            Duration::from_secs(24 * 3600),
            100_000,
        ))),
    };
    let mut receiver = receiver.serve(1024);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|e| Failure::cannot_listen(port, e))?;
    let router = receiver.router;
    // Stopped gracefully: a delivery being answered when the last event arrives gets its answer.
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await;
    });
    eprintln!("claw: receiving webhooks on http://127.0.0.1:{port}/ (Ctrl-C stops)");
    let mut seen = 0usize;
    loop {
        tokio::select! {
            delivery = receiver.events.recv() => {
                let Some(delivery) = delivery else { break };
                let (line, whole) = describe(&delivery.event);
                if globals.json {
                    println!("{}", serde_json::to_string(&whole).unwrap_or_default());
                } else {
                    println!("{line}");
                }
                seen += 1;
                if count.is_some_and(|n| seen >= n) {
                    break;
                }
            }
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    let _ = stop.send(());
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), server).await;
    drop(sandbox);
    Ok(())
}
