//! `claw fulfillment ...`: OpenClaw fulfillment (龙虾) through the clawkit facade: orders,
//! inventory (ATS), labels, tracking, returns, webhook subscriptions, and `listen`, a webhook
//! receiver that prints each verified, de-duplicated event.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Subcommand;
use clawkit::client::Optionally;
use clawkit::fulfillment::types::{
    CancelReason, CreateLabelRequest, CreateReturnRequest, LabelFormat, OrderStatus, Parcel,
    ReturnLine, ReturnReason, ReturnStatus, SalesChannel, WebhookEventType,
};
use clawkit::fulfillment::webhook::{Event, Receiver};
use clawkit::fulfillment::{Client, InventoryFilter, OrderFilter, ReturnFilter};
use clawkit::runtime::webhook::Deliveries;
use clawkit_sandbox::Vendor;
use futures::{StreamExt, TryStreamExt};
use serde::Serialize;
use serde_json::{Value, json};

use crate::args::one_of;
use crate::output::{json_out, table};
use crate::{Failure, Globals, session};

/// `claw fulfillment`.
#[derive(Debug, Subcommand)]
pub enum FulfillmentCommand {
    /// Orders: list (default), get, cancel.
    Orders {
        #[command(subcommand)]
        command: Option<OrdersCommand>,
    },
    /// Inventory (ATS = on hand - reserved - safety stock): get, list, reserve, release.
    Inventory {
        #[command(subcommand)]
        command: InventoryCommand,
    },
    /// Shipping labels: create (and download with --out).
    Labels {
        #[command(subcommand)]
        command: LabelsCommand,
    },
    /// A parcel's tracking by tracking number (or by order with --order).
    Tracking {
        /// The tracking number (or the order number with --order).
        number: String,
        /// NUMBER is an order number.
        #[arg(long)]
        order: bool,
    },
    /// Returns: list (default), get, create.
    Returns {
        #[command(subcommand)]
        command: Option<ReturnsCommand>,
    },
    /// Webhook subscriptions: create, list, delete.
    Webhooks {
        #[command(subcommand)]
        command: WebhooksCommand,
    },
    /// Receives webhooks on 127.0.0.1:PORT (any path) and prints each verified, de-duplicated
    /// event; answers at once. Secrets: --secret (repeat during a rotation), else
    /// OPENCLAW_FULFILLMENT_CLIENT_SECRET (or the sandbox's with --sandbox).
    Listen {
        #[arg(long)]
        port: u16,
        /// A client secret deliveries may be signed with (repeat for several).
        #[arg(long = "secret")]
        secrets: Vec<String>,
        /// Stop after this many events (default: run until Ctrl-C).
        #[arg(long)]
        count: Option<usize>,
    },
}

#[derive(Debug, Subcommand)]
pub enum OrdersCommand {
    List {
        #[arg(long, value_parser = one_of::<OrderStatus>("created, allocated, label_created, shipped, delivered, exception, cancelled"))]
        status: Option<OrderStatus>,
        #[arg(long, value_parser = one_of::<SalesChannel>("amazon, shopee, temu, lazada, shopify, independent_site, other"))]
        channel: Option<SalesChannel>,
        /// Only orders updated at or after this time (RFC 3339 with offset).
        #[arg(long, value_parser = parse_time)]
        updated_from: Option<chrono::DateTime<chrono::FixedOffset>>,
        /// Only orders updated before this time (RFC 3339 with offset).
        #[arg(long, value_parser = parse_time)]
        updated_to: Option<chrono::DateTime<chrono::FixedOffset>>,
        /// At most this many orders.
        #[arg(long)]
        limit: Option<usize>,
    },
    Get {
        order_no: String,
    },
    Cancel {
        order_no: String,
        #[arg(long, value_parser = one_of::<CancelReason>("customer_request, out_of_stock, address_issue, fraud_suspected, channel_cancelled, other"), default_value = "customer_request")]
        reason: CancelReason,
        #[arg(long)]
        note: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum InventoryCommand {
    /// One SKU's stock over every warehouse (or --warehouse).
    Get {
        sku: String,
        #[arg(long)]
        warehouse: Option<String>,
    },
    /// Every stock row (SKU by warehouse).
    List {
        #[arg(long)]
        warehouse: Option<String>,
    },
    /// Holds stock (all lines or none); prints the reservation to settle later.
    Reserve {
        #[arg(long)]
        warehouse: String,
        /// SKU=QUANTITY (repeat).
        #[arg(long = "line", required = true, value_parser = parse_line)]
        lines: Vec<(String, u64)>,
        #[arg(long)]
        order: Option<String>,
    },
    /// Gives a reservation's stock back.
    Release { reservation: String },
}

#[derive(Debug, Subcommand)]
pub enum LabelsCommand {
    Create {
        order_no: String,
        #[arg(long)]
        carrier: String,
        #[arg(long)]
        service: String,
        #[arg(long)]
        weight_g: u64,
        #[arg(long, value_parser = one_of::<LabelFormat>("pdf, zpl"), default_value = "pdf")]
        format: LabelFormat,
        /// Download the label file here (e.g. label.pdf).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ReturnsCommand {
    List {
        #[arg(long, value_parser = one_of::<ReturnStatus>("requested, approved, in_transit, received, refunded, rejected"))]
        status: Option<ReturnStatus>,
        #[arg(long)]
        order: Option<String>,
    },
    Get {
        rma_no: String,
    },
    Create {
        order_no: String,
        #[arg(long, value_parser = one_of::<ReturnReason>("damaged, defective, wrong_item, not_as_described, no_longer_needed, other"))]
        reason: ReturnReason,
        /// SKU=QUANTITY (repeat).
        #[arg(long = "line", required = true, value_parser = parse_line)]
        lines: Vec<(String, u64)>,
    },
}

#[derive(Debug, Subcommand)]
pub enum WebhooksCommand {
    Create {
        #[arg(long)]
        url: String,
        /// An event (repeat): order.created, logistics.updated, return.received,
        /// inventory.changed.
        #[arg(long = "event", required = true, value_parser = one_of::<WebhookEventType>("order.created, logistics.updated, return.received, inventory.changed"))]
        events: Vec<WebhookEventType>,
    },
    List,
    Delete {
        webhook: String,
    },
}

fn parse_time(v: &str) -> Result<chrono::DateTime<chrono::FixedOffset>, String> {
    chrono::DateTime::parse_from_rfc3339(v).map_err(|e| {
        format!("expected RFC 3339 with an offset, e.g. 2024-06-15T08:30:00+08:00 ({e})")
    })
}
fn parse_line(v: &str) -> Result<(String, u64), String> {
    let (sku, quantity) = v
        .rsplit_once('=')
        .ok_or_else(|| format!("expected SKU=QUANTITY, got {v:?}"))?;
    match quantity.parse::<u64>() {
        Ok(n) if n > 0 && !sku.is_empty() => Ok((sku.to_string(), n)),
        _ => Err(format!(
            "expected SKU=QUANTITY with a quantity of 1 or more, got {v:?}"
        )),
    }
}

/// Pretty JSON of one resource (nested, so JSON either way).
fn print_one<T: Serialize>(value: &T) {
    json_out(&serde_json::to_value(value).unwrap_or(Value::Null));
}

/// Rows as a table, or as a JSON array with `--json`.
fn print_rows<T: Serialize>(
    globals: &Globals,
    items: &[T],
    headers: &[&str],
    row: impl Fn(&T) -> Vec<String>,
) {
    if globals.json {
        json_out(&serde_json::to_value(items).unwrap_or(Value::Null));
    } else {
        table(headers, &items.iter().map(row).collect::<Vec<_>>());
    }
}

fn text(v: &impl ToString) -> String {
    v.to_string()
}

pub async fn run(globals: &Globals, command: FulfillmentCommand) -> Result<(), Failure> {
    if let FulfillmentCommand::Listen {
        port,
        secrets,
        count,
    } = command
    {
        return listen(globals, port, secrets, count).await;
    }
    let session = session::start::<Client>(
        globals,
        Vendor::OpenclawFulfillment,
        clawkit::fulfillment::ClientBuilder::from_config,
    )
    .await?;
    let client = &session.client;
    match command {
        FulfillmentCommand::Orders { command } => {
            let every = OrdersCommand::List {
                status: None,
                channel: None,
                updated_from: None,
                updated_to: None,
                limit: None,
            };
            orders(client, globals, command.unwrap_or(every)).await
        }
        FulfillmentCommand::Inventory { command } => inventory(client, globals, command).await,
        FulfillmentCommand::Labels {
            command:
                LabelsCommand::Create {
                    order_no,
                    carrier,
                    service,
                    weight_g,
                    format,
                    out,
                },
        } => {
            let request = CreateLabelRequest {
                carrier,
                service_code: service,
                label_format: Some(format),
                parcel: Parcel {
                    weight_g: std::num::NonZeroU64::new(weight_g).ok_or_else(|| {
                        Failure::Usage("--weight-g: expected 1 gram or more".into())
                    })?,
                    length_cm: None,
                    width_cm: None,
                    height_cm: None,
                },
                customs_items: Vec::new(),
            };
            let label = client.create_label(&order_no, &request).await?;
            if let Some(path) = out {
                let mut file = tokio::fs::File::create(&path)
                    .await
                    .map_err(|e| Failure::io(format!("cannot create {}", path.display()), e))?;
                let bytes = client.download_label(&label, &mut file).await?;
                eprintln!(
                    "claw: label {} ({bytes} bytes) written to {}",
                    label.tracking_number,
                    path.display()
                );
            }
            print_one(&label);
            Ok(())
        }
        FulfillmentCommand::Tracking { number, order } => {
            let tracking = if order {
                client.order_tracking(&number).await?
            } else {
                client.tracking(&number).await?
            };
            print_one(&tracking);
            Ok(())
        }
        FulfillmentCommand::Returns { command } => {
            let every = ReturnsCommand::List {
                status: None,
                order: None,
            };
            returns(client, globals, command.unwrap_or(every)).await
        }
        FulfillmentCommand::Webhooks { command } => match command {
            WebhooksCommand::Create { url, events } => {
                print_one(&client.create_webhook(&url, &events).await?);
                Ok(())
            }
            WebhooksCommand::List => {
                let hooks = client.webhooks().await?;
                print_rows(globals, &hooks, &["ID", "URL", "EVENTS", "STATUS"], |w| {
                    let events: Vec<String> = w.events.iter().map(text).collect();
                    vec![
                        w.webhook_id.clone(),
                        w.url.clone(),
                        events.join(","),
                        text(&w.status),
                    ]
                });
                Ok(())
            }
            WebhooksCommand::Delete { webhook } => {
                client.delete_webhook(&webhook).await?;
                eprintln!("claw: webhook {webhook} deleted");
                Ok(())
            }
        },
        FulfillmentCommand::Listen { .. } => Ok(()),
    }
}

async fn orders(client: &Client, globals: &Globals, command: OrdersCommand) -> Result<(), Failure> {
    match command {
        OrdersCommand::List {
            status,
            channel,
            updated_from,
            updated_to,
            limit,
        } => {
            let mut filter = OrderFilter::new();
            filter = filter.optionally(status, |c, s| c.status(s));
            filter = filter.optionally(channel, |f, c| f.channel(c));
            filter = filter.optionally(updated_from, |c, t| c.updated_from(t));
            filter = filter.optionally(updated_to, |c, t| c.updated_to(t));
            let stream = client.orders(filter);
            let orders: Vec<_> = match limit {
                Some(n) => stream.take(n).try_collect().await?,
                None => stream.try_collect().await?,
            };
            print_rows(
                globals,
                &orders,
                &[
                    "ORDER",
                    "CHANNEL",
                    "STATUS",
                    "WAREHOUSE",
                    "TRACKING",
                    "UPDATED",
                ],
                |o| {
                    vec![
                        o.order_no.clone(),
                        text(&o.channel),
                        text(&o.status),
                        o.warehouse_code.clone().unwrap_or_default(),
                        o.tracking_number.clone().unwrap_or_default(),
                        o.updated_at.to_rfc3339(),
                    ]
                },
            );
        }
        OrdersCommand::Get { order_no } => print_one(&client.order(&order_no).await?),
        OrdersCommand::Cancel {
            order_no,
            reason,
            note,
        } => {
            let cancel = clawkit::fulfillment::types::CancelOrderRequest { reason, note };
            print_one(&client.cancel_order(&order_no, &cancel).await?)
        }
    }
    Ok(())
}

async fn inventory(
    client: &Client,
    globals: &Globals,
    command: InventoryCommand,
) -> Result<(), Failure> {
    match command {
        InventoryCommand::Get { sku, warehouse } => {
            print_one(&client.inventory(&sku, warehouse.as_deref()).await?)
        }
        InventoryCommand::List { warehouse } => {
            let mut filter = InventoryFilter::new();
            filter = filter.optionally(warehouse, |c, w| c.warehouse(w));
            let rows: Vec<_> = client.inventory_levels(filter).try_collect().await?;
            print_rows(
                globals,
                &rows,
                &["SKU", "WAREHOUSE", "ON HAND", "RESERVED", "SAFETY", "ATS"],
                |r| {
                    vec![
                        r.sku.clone(),
                        r.warehouse_code.clone(),
                        text(&r.on_hand),
                        text(&r.reserved),
                        text(&r.safety_stock),
                        text(&r.ats),
                    ]
                },
            );
        }
        InventoryCommand::Reserve {
            warehouse,
            lines,
            order,
        } => {
            let lines: Vec<(&str, u64)> = lines.iter().map(|(s, q)| (s.as_str(), *q)).collect();
            let hold = client.reserve(&warehouse, order.as_deref(), &lines).await?;
            // Kept: the command ends here, the stock stays held until released or expired.
            print_one(&hold.keep());
        }
        InventoryCommand::Release { reservation } => {
            print_one(&client.release_reservation(&reservation).await?)
        }
    }
    Ok(())
}

async fn returns(
    client: &Client,
    globals: &Globals,
    command: ReturnsCommand,
) -> Result<(), Failure> {
    match command {
        ReturnsCommand::List { status, order } => {
            let mut filter = ReturnFilter::new();
            filter = filter.optionally(status, |c, s| c.status(s));
            filter = filter.optionally(order, |c, o| c.order(o));
            let items: Vec<_> = client.returns(filter).try_collect().await?;
            print_rows(
                globals,
                &items,
                &["RMA", "ORDER", "STATUS", "WAREHOUSE"],
                |r| {
                    vec![
                        r.rma_no.clone(),
                        r.order_no.clone(),
                        text(&r.status),
                        r.warehouse_code.clone(),
                    ]
                },
            );
        }
        ReturnsCommand::Get { rma_no } => print_one(&client.get_return(&rma_no).await?),
        ReturnsCommand::Create {
            order_no,
            reason,
            lines,
        } => {
            let request = CreateReturnRequest {
                order_no,
                reason,
                reason_note: None,
                lines: lines
                    .into_iter()
                    .filter_map(|(sku, q)| {
                        std::num::NonZeroU64::new(q).map(|quantity| ReturnLine { sku, quantity })
                    })
                    .collect(),
                return_carrier: None,
                return_tracking_number: None,
                warehouse_code: None,
            };
            print_one(&client.create_return(&request).await?);
        }
    }
    Ok(())
}

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

async fn listen(
    globals: &Globals,
    port: u16,
    mut secrets: Vec<String>,
    count: Option<usize>,
) -> Result<(), Failure> {
    // With --sandbox, a sandbox to send events from, and its secret.
    let sandbox = if globals.sandbox {
        let sandbox = clawkit_sandbox::Sandbox::builder()
            .start()
            .await
            .map_err(|e| Failure::io("cannot start the embedded sandbox", e))?;
        eprintln!(
            "claw: embedded sandbox at {}",
            sandbox.base_url(Vendor::OpenclawFulfillment)
        );
        secrets.extend(
            sandbox
                .credentials(Vendor::OpenclawFulfillment)
                .into_iter()
                .filter(|(env, _)| *env == "CLIENT_SECRET")
                .map(|(_, v)| v),
        );
        Some(sandbox)
    } else {
        None
    };
    if secrets.is_empty()
        && let Ok(secret) = std::env::var("OPENCLAW_FULFILLMENT_CLIENT_SECRET")
    {
        secrets.push(secret);
    }
    let Some((first, rest)) = secrets.split_first() else {
        return Err(Failure::Usage(
            "listen needs a client secret: --secret, OPENCLAW_FULFILLMENT_CLIENT_SECRET, or --sandbox"
                .into(),
        ));
    };
    let store = Arc::new(Deliveries::new(Duration::from_secs(24 * 3600), 100_000));
    let mut receiver = rest
        .iter()
        .fold(Receiver::new(first.clone()), |r, s| r.also(s.clone()))
        .store(store)
        .serve(1024);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|e| Failure::cannot_listen(port, e))?;
    let router = receiver.router;
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
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
    drop(sandbox);
    Ok(())
}
