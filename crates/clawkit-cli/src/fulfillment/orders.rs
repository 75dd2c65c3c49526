//! `claw fulfillment orders ...` and `claw fulfillment returns ...`.

use clap::Subcommand;
use clawkit::client::Optionally;
use clawkit::fulfillment::types::{
    CancelReason, CreateReturnRequest, OrderStatus, ReturnLine, ReturnReason, ReturnStatus,
    SalesChannel,
};
use clawkit::fulfillment::{Client, OrderFilter, ReturnFilter};
use futures::{StreamExt, TryStreamExt};

use crate::args::one_of;
use crate::failure::Failure;
use crate::output;
use crate::session::Globals;

use super::stock::{parse_line, text};

#[derive(Debug, Subcommand)]
pub(super) enum OrdersCommand {
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
pub(super) enum ReturnsCommand {
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

fn parse_time(v: &str) -> Result<chrono::DateTime<chrono::FixedOffset>, String> {
    chrono::DateTime::parse_from_rfc3339(v).map_err(|e| {
        format!("expected RFC 3339 with an offset, e.g. 2024-06-15T08:30:00+08:00 ({e})")
    })
}
pub(super) async fn orders(
    client: &Client,
    globals: &Globals,
    command: OrdersCommand,
) -> Result<(), Failure> {
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
            output::rows(
                globals.json,
                &orders,
                &[
                    "ORDER",
                    "CHANNEL",
                    "STATUS",
                    "WAREHOUSE",
                    "TRACKING",
                    "UPDATED",
                ],
                orders
                    .iter()
                    .map(|o| {
                        vec![
                            o.order_no.clone(),
                            text(&o.channel),
                            text(&o.status),
                            o.warehouse_code.clone().unwrap_or_default(),
                            o.tracking_number.clone().unwrap_or_default(),
                            o.updated_at.to_rfc3339(),
                        ]
                    })
                    .collect(),
            );
        }
        OrdersCommand::Get { order_no } => output::one(&client.order(&order_no).await?),
        OrdersCommand::Cancel {
            order_no,
            reason,
            note,
        } => {
            let cancel = clawkit::fulfillment::types::CancelOrderRequest { reason, note };
            output::one(&client.cancel_order(&order_no, &cancel).await?)
        }
    }
    Ok(())
}

pub(super) async fn returns(
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
            output::rows(
                globals.json,
                &items,
                &["RMA", "ORDER", "STATUS", "WAREHOUSE"],
                items
                    .iter()
                    .map(|r| {
                        vec![
                            r.rma_no.clone(),
                            r.order_no.clone(),
                            text(&r.status),
                            r.warehouse_code.clone(),
                        ]
                    })
                    .collect(),
            );
        }
        ReturnsCommand::Get { rma_no } => output::one(&client.get_return(&rma_no).await?),
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
            output::one(&client.create_return(&request).await?);
        }
    }
    Ok(())
}
