//! Orders: created from a sales channel, routed to a warehouse, cancelled before shipment.
//!
//! Routing (分单): a new order first takes over an active reservation made for its `order_no`
//! (the reservation becomes `consumed`); otherwise it is allocated to the first warehouse that
//! can hold every line (the forced `warehouse_code`, else warehouses in the recipient's country
//! first, then the others in seed order), its stock reserved: status `allocated`. An order no
//! warehouse can serve yet (unknown SKU, not enough ATS, unknown forced warehouse) stays
//! `created` and is allocated, oldest first, as soon as stock comes back (adjustment, release,
//! cancellation, restocked return).
//!
//! `list_orders` and `get_order` are the order queries of the 10 QPS limit.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::Fulfillment;
use super::clock::{Stamp, date_code, rfc3339};
use super::error::{ApiError, answer, without_nulls};
use super::input::{Qty, Query, in_window, json_body, non_empty, page, present};
use super::inventory::{Move, per_sku};
use super::state::Inner;
use super::webhooks::EventType;
use crate::kit::pages::Cursor;

/// `SalesChannel`.
pub(super) const CHANNELS: [&str; 7] = [
    "amazon",
    "shopee",
    "temu",
    "lazada",
    "shopify",
    "independent_site",
    "other",
];

/// `OrderStatus`.
pub(super) const STATUSES: [&str; 7] = [
    "created",
    "allocated",
    "label_created",
    "shipped",
    "delivered",
    "exception",
    "cancelled",
];

/// `CancelReason`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum CancelReason {
    CustomerRequest,
    OutOfStock,
    AddressIssue,
    FraudSuspected,
    ChannelCancelled,
    Other,
}

impl CancelReason {
    fn as_str(self) -> &'static str {
        match self {
            Self::CustomerRequest => "customer_request",
            Self::OutOfStock => "out_of_stock",
            Self::AddressIssue => "address_issue",
            Self::FraudSuspected => "fraud_suspected",
            Self::ChannelCancelled => "channel_cancelled",
            Self::Other => "other",
        }
    }
}

/// A `SalesChannel` value of a body.
#[derive(Debug, Clone, Copy)]
pub(super) struct Channel(pub(super) &'static str);

impl<'de> Deserialize<'de> for Channel {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        CHANNELS
            .iter()
            .find(|c| **c == text)
            .map(|c| Channel(c))
            .ok_or_else(|| de::Error::unknown_variant(&text, &CHANNELS))
    }
}

/// An ISO 3166-1 alpha-2 code: exactly two characters.
fn country<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    let code = String::deserialize(deserializer)?;
    if code.chars().count() != 2 {
        return Err(de::Error::custom(format!(
            "{code:?} is not a two-letter country code"
        )));
    }
    Ok(code)
}

/// An e-mail address, if given: something `@` something.
fn email<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    let text = String::deserialize(deserializer)?;
    match text.split_once('@') {
        Some((user, domain)) if !user.is_empty() && !domain.is_empty() => Ok(Some(text)),
        _ => Err(de::Error::custom(format!(
            "{text:?} is not an e-mail address"
        ))),
    }
}

/// `Address`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Address {
    pub(super) name: String,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub(super) phone: Option<String>,
    #[serde(
        default,
        deserialize_with = "email",
        skip_serializing_if = "Option::is_none"
    )]
    pub(super) email: Option<String>,
    #[serde(deserialize_with = "country")]
    pub(super) country_code: String,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub(super) state: Option<String>,
    pub(super) city: String,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub(super) district: Option<String>,
    pub(super) postal_code: String,
    pub(super) address_line1: String,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub(super) address_line2: Option<String>,
}

/// `OrderLine`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct OrderLine {
    pub(super) sku: String,
    pub(super) quantity: Qty,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub(super) unit_price: Option<String>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub(super) title: Option<String>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub(super) channel_item_id: Option<String>,
}

/// `CreateOrderRequest`.
#[derive(Debug, Clone, Deserialize)]
pub(super) struct CreateOrderRequest {
    pub(super) order_no: String,
    pub(super) channel: Channel,
    pub(super) store_id: String,
    #[serde(default, deserialize_with = "present")]
    pub(super) marketplace: Option<String>,
    pub(super) ordered_at: Stamp,
    pub(super) currency: String,
    #[serde(default, deserialize_with = "present")]
    pub(super) total_amount: Option<String>,
    pub(super) recipient: Address,
    #[serde(deserialize_with = "non_empty")]
    pub(super) lines: Vec<OrderLine>,
    #[serde(default, deserialize_with = "present")]
    pub(super) warehouse_code: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[allow(dead_code)]
    pub(super) remark: Option<String>,
}

/// An order in the pool.
#[derive(Debug, Clone)]
pub(super) struct Order {
    /// OpenClaw's id, `OC` + date + serial.
    pub(super) id: String,
    /// As pushed by the channel.
    pub(super) request: CreateOrderRequest,
    /// One of [`STATUSES`].
    pub(super) status: &'static str,
    /// Where it is allocated.
    pub(super) warehouse: Option<String>,
    /// Carrier of its label.
    pub(super) carrier: Option<String>,
    /// Tracking number of its label.
    pub(super) tracking: Option<String>,
    /// Why it was cancelled.
    pub(super) cancel_reason: Option<&'static str>,
    /// Unix ms the carrier took it.
    pub(super) shipped: Option<i64>,
    /// Unix ms it was signed for.
    pub(super) delivered: Option<i64>,
    /// Unix ms.
    pub(super) created: i64,
    /// Unix ms.
    pub(super) updated: i64,
}

impl Order {
    /// (SKU, quantity) of its lines.
    pub(super) fn holds(&self) -> Vec<(String, i64)> {
        self.request
            .lines
            .iter()
            .map(|l| (l.sku.clone(), l.quantity.0))
            .collect()
    }

    /// The `Order` body.
    pub(super) fn json(&self) -> Value {
        let r = &self.request;
        let body = json!({
            "order_id": self.id, "order_no": r.order_no, "channel": r.channel.0,
            "store_id": r.store_id, "marketplace": r.marketplace, "status": self.status,
            "ordered_at": r.ordered_at.text(), "currency": r.currency,
            "total_amount": r.total_amount, "recipient": r.recipient, "lines": r.lines,
            "warehouse_code": self.warehouse, "carrier": self.carrier,
            "tracking_number": self.tracking, "cancel_reason": self.cancel_reason,
            "shipped_at": self.shipped.map(rfc3339), "delivered_at": self.delivered.map(rfc3339),
            "created_at": rfc3339(self.created), "updated_at": rfc3339(self.updated),
        });
        let optional = [
            "marketplace",
            "total_amount",
            "cancel_reason",
            "shipped_at",
            "delivered_at",
        ];
        without_nulls(body, &optional)
    }
}

/// The order number of a path, or 404 when the segment cannot be decoded.
pub(super) fn order_no(path: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    path.map(|Path(no)| no)
        .map_err(|_| ApiError::order_not_found("(undecodable)"))
}

/// Takes over the active reservation made for `order_no`, if it covers the order (what it
/// lacks must fit the warehouse's ATS): the warehouse, or `None`.
fn consume_reservation(inner: &mut Inner, order_no: &str, now: i64) -> Option<String> {
    let lines = inner.orders.get(order_no)?.holds();
    let r = inner
        .reservations
        .values()
        .find(|r| r.status == "active" && r.order_no.as_deref() == Some(order_no))?;
    let (id, warehouse, held) = (r.id.clone(), r.warehouse.clone(), per_sku(&r.lines));
    let credit = |sku: &str| {
        held.iter()
            .find(|(_, s, _)| s == sku)
            .map_or(0, |(_, _, q)| *q)
    };
    let wanted = per_sku(&lines);
    let extra: Vec<(String, i64)> = wanted
        .iter()
        .map(|(_, sku, qty)| (sku.clone(), qty.saturating_sub(credit(sku)).max(0)))
        .filter(|(_, q)| *q > 0)
        .collect();
    if inner.shortage(&warehouse, &extra).is_some() {
        return None;
    }
    let ordered = |sku: &str| {
        wanted
            .iter()
            .find(|(_, s, _)| s == sku)
            .map_or(0, |(_, _, q)| *q)
    };
    let skus = held
        .iter()
        .map(|(_, s, _)| s)
        .chain(wanted.iter().map(|(_, s, _)| s));
    let mut seen: Vec<String> = Vec::new();
    for sku in skus {
        if seen.contains(sku) {
            continue;
        }
        seen.push(sku.clone());
        let delta = ordered(sku) - credit(sku);
        if delta != 0 {
            inner.change_stock(sku, &warehouse, now, Move::Hold(delta));
        }
    }
    if let Some(r) = inner.reservations.get_mut(&id) {
        r.status = "consumed";
        r.updated = now;
    }
    Some(warehouse)
}

/// Routes the `created` order `order_no` and reserves its stock; whether it is now allocated.
pub(super) fn allocate(inner: &mut Inner, order_no: &str, now: i64) -> bool {
    let Some(order) = inner.orders.get(order_no) else {
        return false;
    };
    if order.status != "created" {
        return false;
    }
    let lines = order.holds();
    let country = order.request.recipient.country_code.clone();
    let candidates: Vec<String> = match &order.request.warehouse_code {
        Some(forced) => vec![forced.clone()],
        None => {
            let (mut near, far): (Vec<_>, Vec<_>) = inner
                .warehouses
                .iter()
                .partition(|w| w.country.eq_ignore_ascii_case(&country));
            near.extend(far);
            near.into_iter().map(|w| w.code.to_string()).collect()
        }
    };
    let chosen = consume_reservation(inner, order_no, now).or_else(|| {
        candidates
            .into_iter()
            .find(|code| inner.warehouse(code).is_some() && inner.hold(code, &lines, now).is_ok())
    });
    let Some(warehouse) = chosen else {
        return false;
    };
    if let Some(order) = inner.orders.get_mut(order_no) {
        order.warehouse = Some(warehouse);
        order.status = "allocated";
        order.updated = now;
    }
    true
}

/// Allocates the orders still `created`, oldest first, as far as stock allows.
pub(super) fn allocate_waiting(inner: &mut Inner, now: i64) {
    let mut waiting: Vec<(i64, String, String)> = inner
        .orders
        .values()
        .filter(|o| o.status == "created")
        .map(|o| (o.created, o.id.clone(), o.request.order_no.clone()))
        .collect();
    waiting.sort();
    for (_, _, no) in waiting {
        allocate(inner, &no, now);
    }
}

/// Puts a new order in the pool and routes it (no event); its `Order` body.
pub(super) fn insert(inner: &mut Inner, request: CreateOrderRequest, now: i64) -> Value {
    let id = format!("OC{}{:06}", date_code(now), inner.next_serial());
    let no = request.order_no.clone();
    let order = Order {
        id,
        request,
        status: "created",
        warehouse: None,
        carrier: None,
        tracking: None,
        cancel_reason: None,
        shipped: None,
        delivered: None,
        created: now,
        updated: now,
    };
    inner.orders.insert(no.clone(), order);
    allocate(inner, &no, now);
    inner.orders.get(&no).map(Order::json).unwrap_or_default()
}

/// `POST /v2.1/orders`: 201 `Order`; 409 `order_exists` for a known `order_no`; queues
/// `order.created`.
pub(super) async fn create(
    State(f): State<Arc<Fulfillment>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: CreateOrderRequest = json_body(&body)?;
    f.with(|inner, now| {
        if inner.orders.contains_key(&request.order_no) {
            return Err(ApiError::conflict(
                "order_exists",
                format!("Order {} already exists", request.order_no),
            ));
        }
        let order = insert(inner, request, now);
        inner.emit(EventType::OrderCreated, now, order.clone());
        Ok(answer(StatusCode::CREATED, order))
    })
}

/// `GET /v2.1/orders`: one page, oldest update first.
pub(super) async fn list(
    State(f): State<Arc<Fulfillment>>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, ApiError> {
    f.order_query(&headers)?;
    let query = Query::parse(uri.query())?;
    let status = query.choice("status", &STATUSES)?;
    let channel = query.choice("channel", &CHANNELS)?;
    let window = query.window()?;
    let after = query.cursor()?;
    let limit = query.limit()?;
    let rows = f.with(|inner, _| {
        inner
            .orders
            .values()
            .filter(|o| {
                status.is_none_or(|s| o.status == s)
                    && channel.is_none_or(|c| o.request.channel.0 == c)
                    && in_window(o.updated, window)
            })
            .map(|o| {
                let at = Cursor {
                    at: o.updated,
                    key: o.id.clone(),
                };
                (at, o.json())
            })
            .collect::<Vec<_>>()
    });
    Ok(answer(StatusCode::OK, page(rows, after.as_ref(), limit)))
}

/// `GET /v2.1/orders/{order_no}`.
pub(super) async fn get(
    State(f): State<Arc<Fulfillment>>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    f.order_query(&headers)?;
    let no = order_no(path)?;
    f.with(|inner, _| match inner.orders.get(&no) {
        Some(order) => Ok(answer(StatusCode::OK, order.json())),
        None => Err(ApiError::order_not_found(&no)),
    })
}

/// `CancelOrderRequest`.
#[derive(Debug, Deserialize)]
struct CancelOrderRequest {
    reason: CancelReason,
    #[serde(default, deserialize_with = "present")]
    #[allow(dead_code)]
    note: Option<String>,
}

/// `POST /v2.1/orders/{order_no}/cancel`: 200 `Order` (status `cancelled`, its stock given
/// back, its parcel, if labelled, never picked up); 409 `invalid_order_state` once shipped.
pub(super) async fn cancel(
    State(f): State<Arc<Fulfillment>>,
    path: Result<Path<String>, PathRejection>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let no = order_no(path)?;
    if !f.with(|inner, _| inner.orders.contains_key(&no)) {
        return Err(ApiError::order_not_found(&no));
    }
    let request: CancelOrderRequest = json_body(&body)?;
    f.with(|inner, now| {
        let Some(order) = inner.orders.get_mut(&no) else {
            return Err(ApiError::order_not_found(&no));
        };
        if !matches!(order.status, "created" | "allocated" | "label_created") {
            return Err(ApiError::conflict(
                "invalid_order_state",
                format!(
                    "Order {no} is {}; only orders not yet shipped can be cancelled",
                    order.status
                ),
            ));
        }
        let held = order
            .warehouse
            .clone()
            .filter(|_| order.status != "created");
        order.status = "cancelled";
        order.cancel_reason = Some(request.reason.as_str());
        order.updated = now;
        let lines = order.holds();
        if let Some(warehouse) = held {
            inner.unhold(&warehouse, &lines, now);
            allocate_waiting(inner, now);
        }
        let body = inner.orders.get(&no).map(Order::json).unwrap_or_default();
        Ok(answer(StatusCode::OK, body))
    })
}
