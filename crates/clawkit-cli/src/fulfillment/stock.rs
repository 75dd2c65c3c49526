//! `claw fulfillment inventory ...`: stock as available-to-sell, reservations.

use clap::Subcommand;
use clawkit::client::Optionally;
use clawkit::fulfillment::{Client, InventoryFilter};
use futures::TryStreamExt;

use crate::failure::Failure;
use crate::output;
use crate::session::Globals;

#[derive(Debug, Subcommand)]
pub(super) enum InventoryCommand {
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

pub(super) fn parse_line(v: &str) -> Result<(String, u64), String> {
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

/// A value as text, for a table cell.
pub(super) fn text(v: &impl ToString) -> String {
    v.to_string()
}

pub(super) async fn inventory(
    client: &Client,
    globals: &Globals,
    command: InventoryCommand,
) -> Result<(), Failure> {
    match command {
        InventoryCommand::Get { sku, warehouse } => {
            output::one(&client.inventory(&sku, warehouse.as_deref()).await?)
        }
        InventoryCommand::List { warehouse } => {
            let mut filter = InventoryFilter::new();
            filter = filter.optionally(warehouse, |c, w| c.warehouse(w));
            let rows: Vec<_> = client.inventory_levels(filter).try_collect().await?;
            output::rows(
                globals.json,
                &rows,
                &["SKU", "WAREHOUSE", "ON HAND", "RESERVED", "SAFETY", "ATS"],
                rows.iter()
                    .map(|r| {
                        vec![
                            r.sku.clone(),
                            r.warehouse_code.clone(),
                            text(&r.on_hand),
                            text(&r.reserved),
                            text(&r.safety_stock),
                            text(&r.ats),
                        ]
                    })
                    .collect(),
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
            output::one(&hold.keep());
        }
        InventoryCommand::Release { reservation } => {
            output::one(&client.release_reservation(&reservation).await?)
        }
    }
    Ok(())
}
