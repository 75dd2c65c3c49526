//! `claw fulfillment ...`: OpenClaw fulfillment (龙虾) through the clawkit facade: orders,
//! inventory (ATS), labels, tracking, returns, webhook subscriptions, and `listen`, a webhook
//! receiver that prints each verified, de-duplicated event.

mod listen;
mod orders;
mod stock;

use std::path::PathBuf;

use clap::Subcommand;
use clawkit::ErrorKind;
use clawkit::fulfillment::types::{CreateLabelRequest, LabelFormat, Parcel, WebhookEventType};
use clawkit::fulfillment::{Client, Reason};

use crate::args::one_of;
use crate::failure::{Failure, Hints};
use crate::output;
use crate::session::{self, Globals};

use orders::{OrdersCommand, ReturnsCommand};
use stock::{InventoryCommand, text};

/// `claw fulfillment`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: FulfillmentCommand,
}

#[derive(Debug, Subcommand)]
enum FulfillmentCommand {
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
enum LabelsCommand {
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
enum WebhooksCommand {
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

/// What only the fulfillment commands know about its failures.
impl Hints for Client {
    type Reason = Reason;
    const CREDENTIALS: &'static str = " (the app's client_id and client_secret from 开发者中心)";
    const BY_KIND: &'static [(ErrorKind, &'static str)] = &[
        (
            ErrorKind::Auth,
            "set OPENCLAW_FULFILLMENT_CLIENT_ID and OPENCLAW_FULFILLMENT_CLIENT_SECRET (invalid_signature means a wrong secret), or pass --sandbox",
        ),
        (
            ErrorKind::NotFound,
            "list what exists with `claw fulfillment orders`, `inventory list`, `returns` or `webhooks list` (order numbers with # or & are encoded for you)",
        ),
    ];
}

pub async fn run(globals: &Globals, Args { command }: Args) -> Result<(), Failure> {
    if let FulfillmentCommand::Listen {
        port,
        secrets,
        count,
    } = command
    {
        return listen::listen(globals, port, secrets, count).await;
    }
    let session =
        session::start::<Client>(globals, clawkit::fulfillment::ClientBuilder::from_config).await?;
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
            orders::orders(client, globals, command.unwrap_or(every)).await
        }
        FulfillmentCommand::Inventory { command } => {
            stock::inventory(client, globals, command).await
        }
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
            output::one(&label);
            Ok(())
        }
        FulfillmentCommand::Tracking { number, order } => {
            let tracking = if order {
                client.order_tracking(&number).await?
            } else {
                client.tracking(&number).await?
            };
            output::one(&tracking);
            Ok(())
        }
        FulfillmentCommand::Returns { command } => {
            let every = ReturnsCommand::List {
                status: None,
                order: None,
            };
            orders::returns(client, globals, command.unwrap_or(every)).await
        }
        FulfillmentCommand::Webhooks { command } => match command {
            WebhooksCommand::Create { url, events } => {
                output::one(&client.create_webhook(&url, &events).await?);
                Ok(())
            }
            WebhooksCommand::List => {
                let hooks = client.webhooks().await?;
                output::rows(
                    globals.json,
                    &hooks,
                    &["ID", "URL", "EVENTS", "STATUS"],
                    hooks
                        .iter()
                        .map(|w| {
                            let events: Vec<String> = w.events.iter().map(text).collect();
                            vec![
                                w.webhook_id.clone(),
                                w.url.clone(),
                                events.join(","),
                                text(&w.status),
                            ]
                        })
                        .collect(),
                );
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
