//! Warehouses, stock per SKU and warehouse (`on_hand`, `reserved`, `safety_stock`, `in_transit`)
//! and its available-to-sell number `ats = max(0, on_hand - reserved - safety_stock)`, in-transit
//! stock not counted; the moves that change a row, reservations, and the request bodies of
//! adjustments and reservations.

use openclaw_fulfillment_api::types::{self, AdjustmentType, InventoryChangeReason};
use serde::Deserialize;

use crate::fulfillment::clock::{Stamp, time};
use crate::fulfillment::error::ApiError;
use crate::fulfillment::read::{Int, Qty, count, non_empty, present};

/// The longest (and default) reservation: 24 hours.
pub(crate) const MAX_HOLD_MS: i64 = 24 * 3600 * 1000;

/// A warehouse.
#[derive(Debug, Clone)]
pub(crate) struct Warehouse {
    /// `CN-SZ-01`.
    pub(crate) code: &'static str,
    /// ISO 3166-1 alpha-2.
    pub(crate) country: &'static str,
    /// City, for tracking nodes.
    pub(crate) city: &'static str,
}

/// One SKU-warehouse row: `on_hand` is physical stock, `reserved` is held for orders and
/// reservations, `safety` is never offered for sale, `in_transit` is inbound and not sellable
/// yet, `updated` is the last change (Unix ms). It changes only by a [`Move`].
#[derive(Debug, Clone, Default)]
pub(crate) struct Stock {
    on_hand: i64,
    reserved: i64,
    safety: i64,
    in_transit: i64,
    updated: i64,
}

/// A change of one stock row, and the `InventoryChangeReason` it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Move {
    /// Hold this many more (`reservation`), or fewer when negative (`release`).
    Hold(i64),
    /// This many leave the warehouse, held before (`shipment`).
    Ship(i64),
    /// This many come back on hand (`return`).
    Restock(i64),
    /// On hand is counted at this (`adjustment`).
    Count(i64),
    /// Safety stock is set to this (`adjustment`).
    Safety(i64),
    /// The row as seeded: on hand, safety stock, in transit (`adjustment`).
    Seed(i64, i64, i64),
}

impl Move {
    /// The `InventoryChangeReason`.
    pub(crate) fn reason(self) -> InventoryChangeReason {
        match self {
            Move::Hold(n) if n < 0 => InventoryChangeReason::Release,
            Move::Hold(_) => InventoryChangeReason::Reservation,
            Move::Ship(_) => InventoryChangeReason::Shipment,
            Move::Restock(_) => InventoryChangeReason::Return,
            Move::Count(_) | Move::Safety(_) | Move::Seed(..) => InventoryChangeReason::Adjustment,
        }
    }
}

/// A quantity of stock as the spec types it: not negative.
fn units(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

impl Stock {
    /// Available to sell.
    pub(crate) fn ats(&self) -> i64 {
        self.on_hand
            .saturating_sub(self.reserved)
            .saturating_sub(self.safety)
            .max(0)
    }

    /// Physical stock.
    pub(crate) fn on_hand(&self) -> i64 {
        self.on_hand
    }

    /// When it last changed, Unix ms.
    pub(crate) fn updated(&self) -> i64 {
        self.updated
    }

    /// Applies `change` at `now` (no quantity goes below 0); the ATS before it.
    pub(crate) fn apply(&mut self, change: Move, now: i64) -> i64 {
        let previous = self.ats();
        match change {
            Move::Hold(n) => self.reserved = self.reserved.saturating_add(n).max(0),
            Move::Ship(n) => {
                self.on_hand = self.on_hand.saturating_sub(n).max(0);
                self.reserved = self.reserved.saturating_sub(n).max(0);
            }
            Move::Restock(n) => self.on_hand = self.on_hand.saturating_add(n),
            Move::Count(n) => self.on_hand = n,
            Move::Safety(n) => self.safety = n,
            Move::Seed(on_hand, safety, in_transit) => {
                (self.on_hand, self.safety, self.in_transit) = (on_hand, safety, in_transit);
            }
        }
        self.updated = now;
        previous
    }

    /// The `InventoryLevel` of this row.
    pub(crate) fn level(&self, sku: &str, warehouse: &str) -> types::InventoryLevel {
        types::InventoryLevel {
            ats: units(self.ats()),
            in_transit: units(self.in_transit),
            on_hand: units(self.on_hand),
            reserved: units(self.reserved),
            safety_stock: units(self.safety),
            sku: sku.to_string(),
            updated_at: time(self.updated),
            warehouse_code: warehouse.to_string(),
        }
    }
}

/// The `SkuInventory` of `sku` over the rows of its warehouses (at least one): each total the
/// sum of the rows'.
pub(crate) fn sku_inventory(sku: &str, rows: &[(&str, &Stock)]) -> types::SkuInventory {
    let sum = |field: fn(&Stock) -> i64| rows.iter().map(|(_, r)| field(r).max(0)).sum::<i64>();
    let updated = rows.iter().map(|(_, r)| r.updated).max().unwrap_or(0);
    types::SkuInventory {
        ats: units(sum(Stock::ats)),
        in_transit: units(sum(|r| r.in_transit)),
        on_hand: units(sum(|r| r.on_hand)),
        reserved: units(sum(|r| r.reserved)),
        safety_stock: units(sum(|r| r.safety)),
        sku: sku.to_string(),
        updated_at: time(updated),
        warehouses: rows.iter().map(|(w, r)| r.level(sku, w)).collect(),
    }
}

/// Quantities per SKU, each SKU once (first line's position kept): `(line index, sku, qty)`.
pub(crate) fn per_sku(lines: &[(String, i64)]) -> Vec<(usize, String, i64)> {
    let mut out: Vec<(usize, String, i64)> = Vec::new();
    for (i, (sku, qty)) in lines.iter().enumerate() {
        match out.iter_mut().find(|(_, s, _)| s == sku) {
            Some(entry) => entry.2 = entry.2.saturating_add(*qty),
            None => out.push((i, sku.clone(), *qty)),
        }
    }
    out
}

/// Why stock could not be held: the first short line (its index and SKU), the quantity asked
/// and the ATS there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Short {
    line: usize,
    sku: String,
    wanted: i64,
    ats: i64,
}

impl Short {
    /// Line `line` of `sku` asking for `wanted` where `ats` is available to sell, if it is short.
    pub(crate) fn of(line: usize, sku: String, wanted: i64, ats: i64) -> Option<Short> {
        (wanted > ats).then_some(Short {
            line,
            sku,
            wanted,
            ats,
        })
    }

    /// 409 `insufficient_ats` naming the line.
    pub(crate) fn error(&self, warehouse: &str) -> ApiError {
        ApiError::conflict(
            "insufficient_ats",
            format!(
                "SKU {} has {} available to sell in {warehouse}, {} requested",
                self.sku, self.ats, self.wanted
            ),
        )
        .detail(
            format!("lines[{}].quantity", self.line),
            format!("requested {}, ats {}", self.wanted, self.ats),
        )
    }
}

/// A stock reservation.
#[derive(Debug, Clone)]
pub(crate) struct Reservation {
    /// `rsv_…`.
    pub(crate) id: String,
    /// Where the stock is held.
    pub(crate) warehouse: String,
    /// The order it is for.
    pub(crate) order_no: Option<String>,
    /// Active, consumed by its order, released or expired.
    pub(crate) status: types::ReservationStatus,
    /// (SKU, quantity).
    pub(crate) lines: Vec<(String, i64)>,
    /// Unix ms.
    pub(crate) expires: i64,
    /// Unix ms.
    pub(crate) created: i64,
    /// Unix ms.
    pub(crate) updated: i64,
}

impl Reservation {
    /// The `Reservation` body. Its `order_no` is nullable: a reservation for no order says
    /// `null` (the generated type would leave the field out).
    pub(crate) fn body(&self) -> serde_json::Value {
        let wire = types::Reservation {
            created_at: time(self.created),
            expires_at: time(self.expires),
            lines: lines(&self.lines, |sku, quantity| types::ReservationLine {
                quantity,
                sku,
            }),
            order_no: self.order_no.clone(),
            reservation_id: self.id.clone(),
            status: self.status,
            updated_at: time(self.updated),
            warehouse_code: self.warehouse.clone(),
        };
        let mut body = serde_json::to_value(wire).unwrap_or_default();
        if let Some(map) = body.as_object_mut() {
            map.entry("order_no").or_insert(serde_json::Value::Null);
        }
        body
    }
}

/// `(sku, quantity)` pairs as the spec's lines (`ReservationLine`, `ReturnLine`), each made by
/// `line`.
pub(crate) fn lines<T>(
    pairs: &[(String, i64)],
    line: impl Fn(String, std::num::NonZeroU64) -> T,
) -> Vec<T> {
    pairs
        .iter()
        .map(|(sku, qty)| line(sku.clone(), count(*qty)))
        .collect()
}

/// `ReservationLine` (and `ReturnLine`) of a request.
#[derive(Debug, Deserialize)]
pub(crate) struct SkuQty {
    pub(crate) sku: String,
    pub(crate) quantity: Qty,
}

/// `(sku, quantity)` pairs of request lines.
pub(crate) fn pairs(lines: &[SkuQty]) -> Vec<(String, i64)> {
    lines
        .iter()
        .map(|l| (l.sku.clone(), l.quantity.0))
        .collect()
}

/// `ReservationRequest`.
#[derive(Debug, Deserialize)]
pub(crate) struct ReservationRequest {
    pub(crate) warehouse_code: String,
    #[serde(default, deserialize_with = "present")]
    pub(crate) order_no: Option<String>,
    #[serde(deserialize_with = "non_empty")]
    pub(crate) lines: Vec<SkuQty>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) expires_at: Option<Stamp>,
}

/// `InventoryAdjustmentRequest`.
#[derive(Debug, Deserialize)]
pub(crate) struct AdjustmentRequest {
    sku: String,
    warehouse_code: String,
    adjustment_type: AdjustmentType,
    quantity: Int,
    reason: String,
    #[serde(default, deserialize_with = "present")]
    reference_no: Option<String>,
}

impl AdjustmentRequest {
    /// The row it adjusts: (SKU, warehouse).
    pub(crate) fn row(&self) -> (&str, &str) {
        (&self.sku, &self.warehouse_code)
    }

    /// The move that applies it to a row with `on_hand`, or the 400 naming `quantity` when it
    /// would leave `on_hand` or `safety_stock` below 0.
    pub(crate) fn change(&self, on_hand: i64) -> Result<Move, ApiError> {
        let Int(quantity) = self.quantity;
        let (after, what) = match self.adjustment_type {
            AdjustmentType::OnHandDelta => (on_hand.saturating_add(quantity), "on_hand"),
            AdjustmentType::OnHandSet => (quantity, "on_hand"),
            AdjustmentType::SafetyStockSet => (quantity, "safety_stock"),
        };
        if after < 0 {
            return Err(ApiError::invalid(
                "quantity",
                format!("{what} would be {after}; it cannot go below 0"),
            ));
        }
        Ok(match self.adjustment_type {
            AdjustmentType::SafetyStockSet => Move::Safety(after),
            _ => Move::Count(after),
        })
    }

    /// The `InventoryAdjustment` body of it, recorded as `id` at `now`, with the row after it.
    pub(crate) fn wire(
        &self,
        id: String,
        now: i64,
        inventory: types::InventoryLevel,
    ) -> types::InventoryAdjustment {
        types::InventoryAdjustment {
            adjustment_id: id,
            adjustment_type: self.adjustment_type,
            created_at: time(now),
            inventory,
            quantity: self.quantity.0,
            reason: self.reason.clone(),
            reference_no: self.reference_no.clone(),
            sku: self.sku.clone(),
            warehouse_code: self.warehouse_code.clone(),
        }
    }
}
