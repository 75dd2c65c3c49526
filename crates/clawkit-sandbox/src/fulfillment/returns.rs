//! Returns (RMA, 退货入库): created for a `shipped` or `delivered` order, then moving one state
//! per logistics step: `requested` → `approved` → `in_transit` (a return parcel with its own
//! tracking, followed by `get_tracking`) → `received` (`return.received`; the goods go back on
//! hand, with `inventory.changed`, unless the reason is `damaged` or `defective`, which are
//! quarantined) → `refunded` (the returned lines at their unit price).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use super::Fulfillment;
use super::clock::{date_code, rfc3339};
use super::error::{ApiError, answer, without_nulls};
use super::input::{Query, in_window, json_body, non_empty, page, present};
use super::inventory::{Move, SkuQty, lines_json, pairs, per_sku};
use super::labels::tracking_number;
use super::logistics::{Node, Trip};
use super::orders::allocate_waiting;
use super::state::Inner;
use super::webhooks::EventType;
use crate::kit::pages::Cursor;

/// `ReturnStatus`.
const STATUSES: [&str; 6] = [
    "requested",
    "approved",
    "in_transit",
    "received",
    "refunded",
    "rejected",
];

/// `ReturnReason`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum ReturnReason {
    Damaged,
    Defective,
    WrongItem,
    NotAsDescribed,
    NoLongerNeeded,
    Other,
}

impl ReturnReason {
    fn as_str(self) -> &'static str {
        match self {
            Self::Damaged => "damaged",
            Self::Defective => "defective",
            Self::WrongItem => "wrong_item",
            Self::NotAsDescribed => "not_as_described",
            Self::NoLongerNeeded => "no_longer_needed",
            Self::Other => "other",
        }
    }
}

/// `CreateReturnRequest`.
#[derive(Debug, Deserialize)]
struct CreateReturnRequest {
    order_no: String,
    reason: ReturnReason,
    #[serde(default, deserialize_with = "present")]
    reason_note: Option<String>,
    #[serde(deserialize_with = "non_empty")]
    lines: Vec<SkuQty>,
    #[serde(default, deserialize_with = "present")]
    warehouse_code: Option<String>,
    #[serde(default, deserialize_with = "present")]
    return_carrier: Option<String>,
    #[serde(default, deserialize_with = "present")]
    return_tracking_number: Option<String>,
}

/// A return.
#[derive(Debug, Clone)]
pub(super) struct Return {
    pub(super) rma: String,
    pub(super) order_no: String,
    pub(super) status: &'static str,
    pub(super) reason: &'static str,
    pub(super) reason_note: Option<String>,
    pub(super) lines: Vec<(String, i64)>,
    pub(super) warehouse: String,
    pub(super) carrier: Option<String>,
    pub(super) tracking: Option<String>,
    pub(super) refund: Option<String>,
    pub(super) currency: String,
    pub(super) received: Option<i64>,
    pub(super) created: i64,
    pub(super) updated: i64,
}

impl Return {
    /// The `Return` body.
    pub(super) fn json(&self) -> Value {
        let lines = lines_json(&self.lines);
        let body = json!({
            "rma_no": self.rma, "order_no": self.order_no, "status": self.status,
            "reason": self.reason, "reason_note": self.reason_note, "lines": lines,
            "warehouse_code": self.warehouse, "return_carrier": self.carrier,
            "return_tracking_number": self.tracking, "refund_amount": self.refund,
            "currency": self.currency, "received_at": self.received.map(rfc3339),
            "created_at": rfc3339(self.created), "updated_at": rfc3339(self.updated),
        });
        without_nulls(body, &["reason_note"])
    }
}

/// A decimal string in hundredths (`"12.99"` is 1299), if it is one.
fn hundredths(amount: &str) -> Option<i64> {
    let (whole, fraction) = amount.trim().split_once('.').unwrap_or((amount.trim(), ""));
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let mut fraction: String = fraction.chars().take(2).collect();
    if !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    while fraction.len() < 2 {
        fraction.push('0');
    }
    whole.checked_mul(100)?.checked_add(fraction.parse().ok()?)
}

impl Inner {
    /// Moves return `rma` one state on at `now` (`seed` draws tracking numbers); false once it
    /// is final.
    pub(super) fn advance_return(&mut self, rma: &str, now: i64, seed: u64) -> bool {
        let Some(r) = self.returns.get(rma).cloned() else {
            return false;
        };
        let Some(order) = self.orders.get(&r.order_no).cloned() else {
            return false;
        };
        let warehouse = self.warehouse(&r.warehouse).cloned();
        let (wh_country, wh_city) = warehouse
            .as_ref()
            .map_or(("CN", "Shenzhen"), |w| (w.country, w.city));
        let recipient = &order.request.recipient;
        let mut updated = r.clone();
        updated.updated = now;
        match r.status {
            "requested" => updated.status = "approved",
            "approved" => {
                updated.status = "in_transit";
                let carrier = r.carrier.clone().unwrap_or_else(|| "local_post".into());
                let serial = self.next_serial();
                let tracking = r
                    .tracking
                    .clone()
                    .unwrap_or_else(|| tracking_number(&carrier, seed, serial));
                let trip = Trip {
                    tracking: &tracking,
                    carrier: &carrier,
                    order_no: &r.order_no,
                    origin: (&recipient.country_code, &recipient.city),
                    destination: (wh_country, wh_city),
                    route: Vec::new(),
                };
                let first = Node::new(
                    now,
                    "picked_up",
                    "PU",
                    format!("Return parcel of {rma} picked up"),
                    (&recipient.country_code, &recipient.city),
                );
                self.open_parcel(trip, first);
                updated.carrier = Some(carrier);
                updated.tracking = Some(tracking);
            }
            "in_transit" => {
                updated.status = "received";
                updated.received = Some(now);
                if let Some(tracking) = &r.tracking {
                    let node = Node::new(
                        now,
                        "delivered",
                        "DL",
                        format!("Return parcel received at {}", r.warehouse),
                        (wh_country, wh_city),
                    );
                    self.record(tracking, node);
                }
                if !matches!(r.reason, "damaged" | "defective") {
                    for (_, sku, qty) in per_sku(&r.lines) {
                        self.change_stock(&sku, &r.warehouse, now, Move::Restock(qty));
                    }
                }
                self.emit(EventType::ReturnReceived, now, updated.json());
            }
            "received" => {
                updated.status = "refunded";
                let price = |sku: &str| {
                    order
                        .request
                        .lines
                        .iter()
                        .find(|l| l.sku == sku)
                        .and_then(|l| l.unit_price.as_deref())
                        .and_then(hundredths)
                        .unwrap_or(0)
                };
                let total: i64 = r
                    .lines
                    .iter()
                    .map(|(sku, qty)| price(sku).saturating_mul(*qty))
                    .fold(0, i64::saturating_add);
                updated.refund = Some(format!("{}.{:02}", total / 100, total % 100));
            }
            _ => return false,
        }
        let more = updated.status != "refunded";
        let restocked = updated.status == "received";
        self.returns.insert(rma.to_string(), updated);
        if restocked {
            allocate_waiting(self, now);
        }
        more
    }
}

/// `POST /v2.1/returns`: 201 `Return` (`requested`); 404 for an unknown order or warehouse; 409
/// `invalid_order_state` unless the order is shipped or delivered, `conflict` for quantities
/// above what was shipped and not yet returned.
pub(super) async fn create(
    State(f): State<Arc<Fulfillment>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: CreateReturnRequest = json_body(&body)?;
    let created = f.with(|inner, now| {
        let no = &request.order_no;
        let Some(order) = inner.orders.get(no) else {
            return Err(ApiError::order_not_found(no));
        };
        if let Some(code) = &request.warehouse_code
            && inner.warehouse(code).is_none()
        {
            return Err(ApiError::not_found("warehouse", code));
        }
        if !matches!(order.status, "shipped" | "delivered") {
            return Err(ApiError::conflict(
                "invalid_order_state",
                format!(
                    "Order {no} is {}; only shipped or delivered orders can be returned",
                    order.status
                ),
            ));
        }
        let shipped = per_sku(&order.holds());
        let lines = pairs(&request.lines);
        for (line, sku, qty) in per_sku(&lines) {
            let sent = shipped
                .iter()
                .find(|(_, s, _)| *s == sku)
                .map_or(0, |(_, _, q)| *q);
            let back: i64 = inner
                .returns
                .values()
                .filter(|r| r.order_no == *no && r.status != "rejected")
                .flat_map(|r| r.lines.iter())
                .filter(|(s, _)| *s == sku)
                .map(|(_, q)| *q)
                .sum();
            if qty > sent - back {
                return Err(ApiError::conflict(
                    "conflict",
                    format!("Order {no} shipped {sent} of {sku}, {back} already returned"),
                )
                .detail(
                    format!("lines[{line}].quantity"),
                    format!("requested {qty}, returnable {}", (sent - back).max(0)),
                ));
            }
        }
        let country = order.request.recipient.country_code.clone();
        let warehouse = request
            .warehouse_code
            .clone()
            .or_else(|| {
                inner
                    .warehouses
                    .iter()
                    .find(|w| w.country.eq_ignore_ascii_case(&country))
                    .map(|w| w.code.to_string())
            })
            .or_else(|| order.warehouse.clone())
            .unwrap_or_default();
        let currency = order.request.currency.clone();
        let rma = format!("RMA{}{:06}", date_code(now), inner.next_serial());
        let r = Return {
            rma: rma.clone(),
            order_no: no.clone(),
            status: "requested",
            reason: request.reason.as_str(),
            reason_note: request.reason_note.clone(),
            lines,
            warehouse,
            carrier: request.return_carrier.clone(),
            tracking: request.return_tracking_number.clone(),
            refund: None,
            currency,
            received: None,
            created: now,
            updated: now,
        };
        let body = r.json();
        inner.returns.insert(rma.clone(), r);
        Ok((rma, body))
    })?;
    let (rma, body) = created;
    let later = f.clone();
    tokio::spawn(async move {
        let step = later.config.logistics_step;
        let seed = later.config.seed;
        loop {
            tokio::time::sleep(step).await;
            if !later.with(|inner, now| inner.advance_return(&rma, now, seed)) {
                break;
            }
        }
    });
    Ok(answer(StatusCode::CREATED, body))
}

/// `GET /v2.1/returns`: one page, oldest update first.
pub(super) async fn list(
    State(f): State<Arc<Fulfillment>>,
    uri: Uri,
) -> Result<Response, ApiError> {
    let query = Query::parse(uri.query())?;
    let status = query.choice("status", &STATUSES)?;
    let order_no = query.text("order_no");
    let window = query.window()?;
    let after = query.cursor()?;
    let limit = query.limit()?;
    let rows = f.with(|inner, _| {
        inner
            .returns
            .values()
            .filter(|r| {
                status.is_none_or(|s| r.status == s)
                    && order_no.is_none_or(|o| r.order_no == o)
                    && in_window(r.updated, window)
            })
            .map(|r| {
                let at = Cursor {
                    at: r.updated,
                    key: r.rma.clone(),
                };
                (at, r.json())
            })
            .collect::<Vec<_>>()
    });
    Ok(answer(StatusCode::OK, page(rows, after.as_ref(), limit)))
}

/// `GET /v2.1/returns/{rma_no}`.
pub(super) async fn get(
    State(f): State<Arc<Fulfillment>>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let Ok(Path(rma)) = path else {
        return Err(ApiError::not_found("return", "(undecodable)"));
    };
    f.with(|inner, _| match inner.returns.get(&rma) {
        Some(r) => Ok(answer(StatusCode::OK, r.json())),
        None => Err(ApiError::not_found("return", &rma)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_amounts_in_hundredths() {
        let cases = [
            ("12.99", Some(1299)),
            ("12.9", Some(1290)),
            ("12", Some(1200)),
            (".5", Some(50)),
            ("1.999", Some(199)),
            ("abc", None),
            ("1.x", None),
        ];
        for (text, expected) in cases {
            assert_eq!(hundredths(text), expected, "{text}");
        }
    }
}
