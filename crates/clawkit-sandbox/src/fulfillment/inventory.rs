//! Stock per SKU and warehouse (`on_hand`, `reserved`, `safety_stock`, `in_transit`) and its
//! available-to-sell number `ats = max(0, on_hand - reserved - safety_stock)`, in-transit stock not
//! counted; adjustments; reservations.
//!
//! Every change of a row queues an `inventory.changed` event with the ATS before it. Stock is
//! held (`reserved`) all lines or none under the one state lock: a line above its row's ATS is
//! 409 `insufficient_ats` and nothing is held. Reservations lapse at `expires_at` (24 hours at
//! most; a later one is cut to 24 hours) and give their stock back, as do released ones.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use super::Fulfillment;
use super::clock::{Stamp, rfc3339};
use super::error::{ApiError, answer, without_nulls};
use super::input::{Int, Qty, Query, in_window, json_body, non_empty, page, present};
use super::orders::allocate_waiting;
use super::state::Inner;
use super::webhooks::EventType;
use crate::kit::pages::Cursor;

/// The longest (and default) reservation: 24 hours.
const MAX_HOLD_MS: i64 = 24 * 3600 * 1000;

/// One SKU-warehouse row: `on_hand` is physical stock, `reserved` is held for orders and
/// reservations, `safety` is never offered for sale, `in_transit` is inbound and not sellable
/// yet, `updated` is the last change (Unix ms). It changes only by a [`Move`].
#[derive(Debug, Clone, Default)]
pub(super) struct Stock {
    on_hand: i64,
    reserved: i64,
    safety: i64,
    in_transit: i64,
    updated: i64,
}

/// A change of one stock row, and the `InventoryChangeReason` it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Move {
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
    fn reason(self) -> &'static str {
        match self {
            Move::Hold(n) if n < 0 => "release",
            Move::Hold(_) => "reservation",
            Move::Ship(_) => "shipment",
            Move::Restock(_) => "return",
            Move::Count(_) | Move::Safety(_) | Move::Seed(..) => "adjustment",
        }
    }

    /// Applies it to `row`; no quantity goes below 0.
    fn apply(self, row: &mut Stock) {
        match self {
            Move::Hold(n) => row.reserved = row.reserved.saturating_add(n).max(0),
            Move::Ship(n) => {
                row.on_hand = row.on_hand.saturating_sub(n).max(0);
                row.reserved = row.reserved.saturating_sub(n).max(0);
            }
            Move::Restock(n) => row.on_hand = row.on_hand.saturating_add(n),
            Move::Count(n) => row.on_hand = n,
            Move::Safety(n) => row.safety = n,
            Move::Seed(on_hand, safety, in_transit) => {
                (row.on_hand, row.safety, row.in_transit) = (on_hand, safety, in_transit);
            }
        }
    }
}

impl Stock {
    /// Available to sell.
    pub(super) fn ats(&self) -> i64 {
        self.on_hand
            .saturating_sub(self.reserved)
            .saturating_sub(self.safety)
            .max(0)
    }

    /// The `InventoryLevel` of this row.
    fn level(&self, sku: &str, warehouse: &str) -> Value {
        json!({
            "sku": sku,
            "warehouse_code": warehouse,
            "on_hand": self.on_hand.max(0),
            "reserved": self.reserved.max(0),
            "safety_stock": self.safety.max(0),
            "in_transit": self.in_transit.max(0),
            "ats": self.ats(),
            "updated_at": rfc3339(self.updated),
        })
    }
}

/// Quantities per SKU, each SKU once (first line's position kept): `(line index, sku, qty)`.
pub(super) fn per_sku(lines: &[(String, i64)]) -> Vec<(usize, String, i64)> {
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
pub(super) struct Short {
    line: usize,
    sku: String,
    wanted: i64,
    ats: i64,
}

impl Inner {
    /// Changes the row (`sku`, `warehouse`) by `change`, creating it if needed, and queues
    /// `inventory.changed`; the row after the change.
    pub(super) fn change_stock(
        &mut self,
        sku: &str,
        warehouse: &str,
        now: i64,
        change: Move,
    ) -> Value {
        let row = self
            .stock
            .entry((sku.to_string(), warehouse.to_string()))
            .or_default();
        let previous = row.ats();
        change.apply(row);
        row.updated = now;
        let level = row.level(sku, warehouse);
        let data = json!({"reason": change.reason(), "previous_ats": previous, "inventory": level});
        self.emit(EventType::InventoryChanged, now, data);
        level
    }

    /// Where `lines` would not fit the ATS of `warehouse`, if anywhere.
    pub(super) fn shortage(&self, warehouse: &str, lines: &[(String, i64)]) -> Option<Short> {
        per_sku(lines).into_iter().find_map(|(line, sku, wanted)| {
            let key = (sku.clone(), warehouse.to_string());
            let ats = self.stock.get(&key).map_or(0, Stock::ats);
            (wanted > ats).then_some(Short {
                line,
                sku,
                wanted,
                ats,
            })
        })
    }

    /// Holds `lines` in `warehouse`: every line or none.
    pub(super) fn hold(
        &mut self,
        warehouse: &str,
        lines: &[(String, i64)],
        now: i64,
    ) -> Result<(), Short> {
        if let Some(short) = self.shortage(warehouse, lines) {
            return Err(short);
        }
        for (_, sku, qty) in per_sku(lines) {
            self.change_stock(&sku, warehouse, now, Move::Hold(qty));
        }
        Ok(())
    }

    /// Gives held `lines` back to `warehouse` (reason `release`).
    pub(super) fn unhold(&mut self, warehouse: &str, lines: &[(String, i64)], now: i64) {
        for (_, sku, qty) in per_sku(lines) {
            self.change_stock(&sku, warehouse, now, Move::Hold(-qty));
        }
    }

    /// Whether any warehouse stocks `sku`.
    fn knows_sku(&self, sku: &str) -> bool {
        self.stock.keys().any(|(s, _)| s == sku)
    }
}

impl Short {
    /// 409 `insufficient_ats` naming the line.
    pub(super) fn error(&self, warehouse: &str) -> ApiError {
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
pub(super) struct Reservation {
    /// `rsv_…`.
    pub(super) id: String,
    /// Where the stock is held.
    pub(super) warehouse: String,
    /// The order it is for.
    pub(super) order_no: Option<String>,
    /// `active`, `consumed`, `released`, `expired`.
    pub(super) status: &'static str,
    /// (SKU, quantity).
    pub(super) lines: Vec<(String, i64)>,
    /// Unix ms.
    pub(super) expires: i64,
    /// Unix ms.
    pub(super) created: i64,
    /// Unix ms.
    pub(super) updated: i64,
}

/// `(sku, quantity)` pairs as the spec's `ReservationLine` / `ReturnLine` array.
pub(super) fn lines_json(lines: &[(String, i64)]) -> Value {
    lines
        .iter()
        .map(|(sku, qty)| json!({"sku": sku, "quantity": qty}))
        .collect()
}

impl Reservation {
    /// The `Reservation` body.
    pub(super) fn json(&self) -> Value {
        let lines = lines_json(&self.lines);
        json!({
            "reservation_id": self.id,
            "warehouse_code": self.warehouse,
            "order_no": self.order_no,
            "status": self.status,
            "lines": lines,
            "expires_at": rfc3339(self.expires),
            "created_at": rfc3339(self.created),
            "updated_at": rfc3339(self.updated),
        })
    }
}

/// Lets every active reservation past its `expires_at` lapse, giving its stock back.
pub(super) fn expire_reservations(inner: &mut Inner, now: i64) {
    let due: Vec<String> = inner
        .reservations
        .values()
        .filter(|r| r.status == "active" && r.expires <= now)
        .map(|r| r.id.clone())
        .collect();
    for id in &due {
        let Some(r) = inner.reservations.get_mut(id) else {
            continue;
        };
        r.status = "expired";
        r.updated = now;
        let (warehouse, lines) = (r.warehouse.clone(), r.lines.clone());
        inner.unhold(&warehouse, &lines, now);
    }
    if !due.is_empty() {
        allocate_waiting(inner, now);
    }
}

/// `GET /v2.1/inventory`: one page of rows, oldest update first.
pub(super) async fn list(
    State(f): State<Arc<Fulfillment>>,
    uri: Uri,
) -> Result<Response, ApiError> {
    let query = Query::parse(uri.query())?;
    let warehouse = query.text("warehouse_code");
    let sku = query.text("sku");
    let window = query.window()?;
    let after = query.cursor()?;
    let limit = query.limit()?;
    let rows = f.with(|inner, _| {
        inner
            .stock
            .iter()
            .filter(|((s, w), row)| {
                warehouse.is_none_or(|x| x == w)
                    && sku.is_none_or(|x| x == s)
                    && in_window(row.updated, window)
            })
            .map(|((s, w), row)| {
                let at = Cursor {
                    at: row.updated,
                    key: format!("{s}\n{w}"),
                };
                (at, row.level(s, w))
            })
            .collect::<Vec<_>>()
    });
    Ok(answer(StatusCode::OK, page(rows, after.as_ref(), limit)))
}

/// `GET /v2.1/inventory/skus/{sku}`: totals over the (selected) warehouses and their rows.
pub(super) async fn get(
    State(f): State<Arc<Fulfillment>>,
    sku: Result<Path<String>, PathRejection>,
    uri: Uri,
) -> Result<Response, ApiError> {
    let Ok(Path(sku)) = sku else {
        return Err(ApiError::not_found("SKU", "(undecodable)"));
    };
    // This operation documents no 400: a query it cannot read selects no warehouse.
    let query = Query::parse(uri.query()).map_err(|_| ApiError::not_found("warehouse", "?"))?;
    let warehouse = query.text("warehouse_code").map(str::to_string);
    f.with(|inner, _| {
        let rows: Vec<(&String, &Stock)> = inner
            .stock
            .iter()
            .filter(|((s, w), _)| *s == sku && warehouse.as_ref().is_none_or(|x| x == w))
            .map(|((_, w), row)| (w, row))
            .collect();
        if rows.is_empty() {
            return Err(match &warehouse {
                Some(w) if inner.knows_sku(&sku) => {
                    ApiError::not_found("stock of SKU", &format!("{sku} in warehouse {w}"))
                }
                _ => ApiError::not_found("SKU", &sku),
            });
        }
        let sum = |field: fn(&Stock) -> i64| rows.iter().map(|(_, r)| field(r)).sum::<i64>();
        let levels: Vec<Value> = rows.iter().map(|(w, r)| r.level(&sku, w)).collect();
        let updated = rows.iter().map(|(_, r)| r.updated).max().unwrap_or(0);
        Ok(answer(
            StatusCode::OK,
            json!({
                "sku": sku,
                "on_hand": sum(|r| r.on_hand.max(0)),
                "reserved": sum(|r| r.reserved.max(0)),
                "safety_stock": sum(|r| r.safety.max(0)),
                "in_transit": sum(|r| r.in_transit.max(0)),
                "ats": sum(Stock::ats),
                "warehouses": levels,
                "updated_at": rfc3339(updated),
            }),
        ))
    })
}

/// `AdjustmentType`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum AdjustmentType {
    OnHandDelta,
    OnHandSet,
    SafetyStockSet,
}

impl AdjustmentType {
    fn as_str(self) -> &'static str {
        match self {
            Self::OnHandDelta => "on_hand_delta",
            Self::OnHandSet => "on_hand_set",
            Self::SafetyStockSet => "safety_stock_set",
        }
    }
}

/// `InventoryAdjustmentRequest`.
#[derive(Debug, Deserialize)]
struct AdjustmentRequest {
    sku: String,
    warehouse_code: String,
    adjustment_type: AdjustmentType,
    quantity: Int,
    reason: String,
    #[serde(default, deserialize_with = "present")]
    reference_no: Option<String>,
}

/// `POST /v2.1/inventory/adjustments`: 201 `InventoryAdjustment`. A SKU new to a known warehouse
/// gets a row (a first stocktake); an unknown warehouse is 404; a change that would leave
/// `on_hand` or `safety_stock` below 0 is 400 naming `quantity`.
pub(super) async fn adjust(
    State(f): State<Arc<Fulfillment>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: AdjustmentRequest = json_body(&body)?;
    let id = f.short_id("adj_");
    f.with(|inner, now| {
        let (sku, warehouse) = (&request.sku, &request.warehouse_code);
        if inner.warehouse(warehouse).is_none() {
            return Err(ApiError::not_found("warehouse", warehouse));
        }
        let Int(quantity) = request.quantity;
        let key = (sku.clone(), warehouse.clone());
        let on_hand = inner.stock.get(&key).map_or(0, |r| r.on_hand);
        let kind = request.adjustment_type;
        let after = match kind {
            AdjustmentType::OnHandDelta => on_hand.saturating_add(quantity),
            _ => quantity,
        };
        if after < 0 {
            let what = match kind {
                AdjustmentType::SafetyStockSet => "safety_stock",
                _ => "on_hand",
            };
            return Err(ApiError::invalid(
                "quantity",
                format!("{what} would be {after}; it cannot go below 0"),
            ));
        }
        let change = match kind {
            AdjustmentType::SafetyStockSet => Move::Safety(after),
            _ => Move::Count(after),
        };
        let level = inner.change_stock(sku, warehouse, now, change);
        allocate_waiting(inner, now);
        let body = json!({
            "adjustment_id": id, "sku": sku, "warehouse_code": warehouse,
            "adjustment_type": kind.as_str(), "quantity": quantity, "reason": request.reason,
            "reference_no": request.reference_no, "created_at": rfc3339(now), "inventory": level,
        });
        Ok(answer(
            StatusCode::CREATED,
            without_nulls(body, &["reference_no"]),
        ))
    })
}

/// `ReservationLine`.
#[derive(Debug, Deserialize)]
pub(super) struct SkuQty {
    /// SKU.
    pub(super) sku: String,
    /// At least 1.
    pub(super) quantity: Qty,
}

/// `(sku, quantity)` pairs of request lines.
pub(super) fn pairs(lines: &[SkuQty]) -> Vec<(String, i64)> {
    lines
        .iter()
        .map(|l| (l.sku.clone(), l.quantity.0))
        .collect()
}

/// `ReservationRequest`.
#[derive(Debug, Deserialize)]
struct ReservationRequest {
    warehouse_code: String,
    #[serde(default, deserialize_with = "present")]
    order_no: Option<String>,
    #[serde(deserialize_with = "non_empty")]
    lines: Vec<SkuQty>,
    #[serde(default, deserialize_with = "present")]
    expires_at: Option<Stamp>,
}

/// `POST /v2.1/inventory/reservations`: 201 `Reservation`, every line held or none (409
/// `insufficient_ats`); 404 for an unknown warehouse or SKU; 400 naming `expires_at` when it is
/// not in the future.
pub(super) async fn reserve(
    State(f): State<Arc<Fulfillment>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: ReservationRequest = json_body(&body)?;
    let id = f.short_id("rsv_");
    let reservation = f.with(|inner, now| {
        let warehouse = &request.warehouse_code;
        if inner.warehouse(warehouse).is_none() {
            return Err(ApiError::not_found("warehouse", warehouse));
        }
        if let Some(unknown) = request.lines.iter().find(|l| !inner.knows_sku(&l.sku)) {
            return Err(ApiError::not_found("SKU", &unknown.sku));
        }
        let expires = match request.expires_at {
            None => now + MAX_HOLD_MS,
            Some(at) if at.ms() <= now => {
                return Err(ApiError::invalid(
                    "expires_at",
                    format!("{} is not in the future", at.text()),
                ));
            }
            Some(at) => at.ms().min(now + MAX_HOLD_MS),
        };
        let lines = pairs(&request.lines);
        inner
            .hold(warehouse, &lines, now)
            .map_err(|short| short.error(warehouse))?;
        let reservation = Reservation {
            id: id.clone(),
            warehouse: warehouse.clone(),
            order_no: request.order_no.clone(),
            status: "active",
            lines,
            expires,
            created: now,
            updated: now,
        };
        inner.reservations.insert(id.clone(), reservation.clone());
        Ok(reservation)
    })?;
    // Lapse on time, so that `inventory.changed` goes out without waiting for a request.
    let (expires, body) = (reservation.expires, reservation.json());
    let later = f.clone();
    tokio::spawn(async move {
        later.clock.sleep_until(expires).await;
        later.with(|_, _| ());
    });
    Ok(answer(StatusCode::CREATED, body))
}

/// `POST /v2.1/inventory/reservations/{reservation_id}/release`: 200 `Reservation` (status
/// `released`, stock given back); 409 unless it is active.
pub(super) async fn release(
    State(f): State<Arc<Fulfillment>>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let Ok(Path(id)) = id else {
        return Err(ApiError::not_found("reservation", "(undecodable)"));
    };
    f.with(|inner, now| {
        let Some(r) = inner.reservations.get_mut(&id) else {
            return Err(ApiError::not_found("reservation", &id));
        };
        if r.status != "active" {
            return Err(ApiError::conflict(
                "conflict",
                format!("Reservation {id} is {}, not active", r.status),
            ));
        }
        r.status = "released";
        r.updated = now;
        let (warehouse, lines, body) = (r.warehouse.clone(), r.lines.clone(), r.json());
        inner.unhold(&warehouse, &lines, now);
        allocate_waiting(inner, now);
        Ok(answer(StatusCode::OK, body))
    })
}
