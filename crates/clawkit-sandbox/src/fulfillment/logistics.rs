//! Parcels and their structured tracking (物流回传): nodes, customs clearance and last-mile
//! failures, advancing one node per logistics step after the label is created.
//!
//! The route of an outbound parcel: `info_received` (label) → `picked_up` (the order is
//! `shipped`, its stock leaves the warehouse) → `in_transit` → at the destination's customs when
//! the recipient's country is not the warehouse's: `customs_clearance` (`in_progress`) →
//! `in_transit` (`cleared`) → `out_for_delivery` → `delivered` (the order is `delivered`).
//!
//! Deterministic failures, read from the order number (case-insensitive, `-` or `_`) and the
//! recipient; the order then becomes `exception`:
//! - `CUSTOMS-HOLD` in the order number: customs `held` (documents requested); the parcel stays
//!   at customs.
//! - `CUSTOMS-REJECT`: customs `rejected`, then `returned_to_sender`.
//! - `FAIL-<REASON>`, `<REASON>` a `DeliveryFailureReason` (`FAIL-RECIPIENT-UNAVAILABLE`,
//!   `FAIL-REFUSED`, `FAIL-DUTIES-UNPAID`, `FAIL-PACKAGE-LOST`, ...): the last-mile attempt
//!   fails with that reason (`delivery_failed`; `exception` for a lost or damaged parcel).
//! - Recipient postal code `00000`: the last-mile attempt fails with `address_incorrect`.

use std::sync::Arc;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::Fulfillment;
use super::clock::rfc3339;
use super::error::{ApiError, answer, without_nulls};
use super::inventory::Move;
use super::orders::order_no;
use super::state::Inner;
use super::webhooks::EventType;

/// `DeliveryFailureReason`, with the courier's wording.
const FAILURES: [(&str, &str); 8] = [
    ("address_incorrect", "Address incorrect or incomplete"),
    (
        "recipient_unavailable",
        "No one available to sign, notice left",
    ),
    ("refused", "Recipient refused the parcel"),
    ("duties_unpaid", "Import duties not paid by the recipient"),
    ("restricted_area", "Courier does not serve this area"),
    ("package_damaged", "Parcel damaged in transit"),
    ("package_lost", "Parcel lost in transit"),
    ("other", "Delivery failed, see the carrier's notes"),
];

/// One step of a parcel's route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Step {
    PickedUp,
    Departed,
    CustomsArrived,
    CustomsCleared,
    CustomsHeld,
    CustomsRejected,
    ReturnedToSender,
    OutForDelivery,
    Delivered,
    Failed(&'static str),
}

/// The route of a parcel of order `order_no` to `country`/`postal_code` from a warehouse in
/// `origin`.
pub(super) fn route(order_no: &str, country: &str, postal_code: &str, origin: &str) -> Vec<Step> {
    let marker = order_no.to_ascii_uppercase().replace('_', "-");
    let mut steps = vec![Step::PickedUp, Step::Departed];
    if !country.eq_ignore_ascii_case(origin) {
        steps.push(Step::CustomsArrived);
        if marker.contains("CUSTOMS-REJECT") {
            steps.extend([Step::CustomsRejected, Step::ReturnedToSender]);
            return steps;
        }
        if marker.contains("CUSTOMS-HOLD") {
            steps.push(Step::CustomsHeld);
            return steps;
        }
        steps.push(Step::CustomsCleared);
    }
    steps.push(Step::OutForDelivery);
    let failure = FAILURES
        .iter()
        .map(|(reason, _)| *reason)
        .find(|reason| {
            marker.contains(&format!(
                "FAIL-{}",
                reason.to_ascii_uppercase().replace('_', "-")
            ))
        })
        .or_else(|| (postal_code.trim() == "00000").then_some("address_incorrect"));
    steps.push(failure.map_or(Step::Delivered, Step::Failed));
    steps
}

/// One tracking node.
#[derive(Debug, Clone)]
pub(super) struct Node {
    at: i64,
    status: &'static str,
    code: &'static str,
    description: String,
    country: String,
    city: String,
    customs: Option<&'static str>,
    failure: Option<&'static str>,
}

impl Node {
    /// A node without customs or failure data.
    pub(super) fn new(
        at: i64,
        status: &'static str,
        code: &'static str,
        description: impl Into<String>,
        (country, city): (&str, &str),
    ) -> Self {
        Self {
            at,
            status,
            code,
            description: description.into(),
            country: country.to_string(),
            city: city.to_string(),
            customs: None,
            failure: None,
        }
    }

    /// The `TrackingEvent` body.
    fn json(&self) -> Value {
        let body = json!({
            "occurred_at": rfc3339(self.at), "status": self.status, "code": self.code,
            "description": self.description, "country_code": self.country, "city": self.city,
            "customs_status": self.customs, "failure_reason": self.failure,
        });
        without_nulls(body, &["customs_status", "failure_reason"])
    }
}

/// A parcel: an order's outbound parcel, or a return parcel.
#[derive(Debug, Clone)]
pub(super) struct Parcel {
    tracking: String,
    carrier: String,
    order_no: Option<String>,
    status: &'static str,
    /// (status, country, at, note).
    customs: Option<(&'static str, String, i64, Option<&'static str>)>,
    /// (reason, attempts, detail, at).
    failure: Option<(&'static str, u32, &'static str, i64)>,
    events: Vec<Node>,
    updated: i64,
    /// The steps still to come (empty for a return parcel, which its return moves on).
    route: Vec<Step>,
    /// Where it left from: (country, city).
    origin: (String, String),
    /// Where it goes: (country, city).
    destination: (String, String),
}

impl Parcel {
    /// The `Tracking` body, with all nodes or only `new_nodes` (a `logistics.updated` event).
    fn json(&self, new_nodes: Option<&[Node]>) -> Value {
        let events: Vec<Value> = new_nodes
            .unwrap_or(&self.events)
            .iter()
            .map(Node::json)
            .collect();
        let customs = self.customs.as_ref().map(|(status, country, at, note)| {
            let clearance = json!({
                "status": status, "country_code": country, "updated_at": rfc3339(*at), "note": note,
            });
            without_nulls(clearance, &["note"])
        });
        let failure = self.failure.map(|(reason, attempts, detail, at)| {
            json!({
                "reason": reason, "attempts": attempts, "detail": detail,
                "occurred_at": rfc3339(at),
            })
        });
        let body = json!({
            "tracking_number": self.tracking, "carrier": self.carrier, "order_no": self.order_no,
            "status": self.status, "customs": customs, "delivery_failure": failure,
            "events": events, "updated_at": rfc3339(self.updated),
        });
        without_nulls(body, &["customs", "delivery_failure"])
    }
}

/// Where a parcel starts and ends: the first node and what it travels.
pub(super) struct Trip<'a> {
    /// Tracking number.
    pub(super) tracking: &'a str,
    /// Carrier code.
    pub(super) carrier: &'a str,
    /// The order it belongs to.
    pub(super) order_no: &'a str,
    /// (country, city) it leaves from.
    pub(super) origin: (&'a str, &'a str),
    /// (country, city) it goes to.
    pub(super) destination: (&'a str, &'a str),
    /// Its steps after the first node.
    pub(super) route: Vec<Step>,
}

impl Inner {
    /// Starts following a parcel whose first node is `first`; queues `logistics.updated`.
    pub(super) fn open_parcel(&mut self, trip: Trip<'_>, first: Node) {
        let parcel = Parcel {
            tracking: trip.tracking.to_string(),
            carrier: trip.carrier.to_string(),
            order_no: Some(trip.order_no.to_string()),
            status: first.status,
            customs: None,
            failure: None,
            events: Vec::new(),
            updated: first.at,
            route: trip.route,
            origin: (trip.origin.0.to_string(), trip.origin.1.to_string()),
            destination: (
                trip.destination.0.to_string(),
                trip.destination.1.to_string(),
            ),
        };
        self.parcels.insert(trip.tracking.to_string(), parcel);
        self.record(trip.tracking, first);
    }

    /// Adds `node` to the parcel `tracking`; queues `logistics.updated` with it.
    pub(super) fn record(&mut self, tracking: &str, node: Node) {
        let Some(parcel) = self.parcels.get_mut(tracking) else {
            return;
        };
        parcel.status = node.status;
        parcel.updated = node.at;
        if let Some(status) = node.customs {
            let note = (status == "held").then_some("Additional documents requested by customs");
            parcel.customs = Some((status, node.country.clone(), node.at, note));
        }
        if let Some(reason) = node.failure {
            let attempts = parcel.failure.map_or(1, |f| f.1 + 1);
            let detail = FAILURES
                .iter()
                .find(|(r, _)| *r == reason)
                .map_or("", |(_, d)| *d);
            parcel.failure = Some((reason, attempts, detail, node.at));
        }
        parcel.events.push(node.clone());
        let data = parcel.json(Some(std::slice::from_ref(&node)));
        self.emit(EventType::LogisticsUpdated, node.at, data);
    }

    /// Moves the parcel `tracking` one step on at `at`, with what that does to its order; false
    /// once it has no step left (or its order was cancelled before pick-up).
    pub(super) fn advance(&mut self, tracking: &str, at: i64) -> bool {
        let Some(parcel) = self.parcels.get_mut(tracking) else {
            return false;
        };
        let order_no = parcel.order_no.clone().unwrap_or_default();
        if self
            .orders
            .get(&order_no)
            .is_some_and(|o| o.status == "cancelled")
        {
            return false;
        }
        if parcel.route.is_empty() {
            return false;
        }
        let step = parcel.route.remove(0);
        let more = !parcel.route.is_empty();
        let origin = (parcel.origin.0.clone(), parcel.origin.1.clone());
        let dest = (parcel.destination.0.clone(), parcel.destination.1.clone());
        let here = (origin.0.as_str(), origin.1.as_str());
        let there = (dest.0.as_str(), dest.1.as_str());
        let node = match step {
            Step::PickedUp => Node::new(at, "picked_up", "PU", "已揽收 Parcel picked up", here),
            Step::Departed => Node::new(
                at,
                "in_transit",
                "DP",
                "已离开始发地 Departed origin facility, line-haul to destination",
                here,
            ),
            Step::CustomsArrived => Node {
                customs: Some("in_progress"),
                ..Node::new(
                    at,
                    "customs_clearance",
                    "CC01",
                    "Arrived at customs, clearance in progress",
                    there,
                )
            },
            Step::CustomsCleared => Node {
                customs: Some("cleared"),
                ..Node::new(at, "in_transit", "CC09", "Customs cleared", there)
            },
            Step::CustomsHeld => Node {
                customs: Some("held"),
                ..Node::new(
                    at,
                    "customs_clearance",
                    "CC05",
                    "Held by customs, documents requested",
                    there,
                )
            },
            Step::CustomsRejected => Node {
                customs: Some("rejected"),
                ..Node::new(
                    at,
                    "customs_clearance",
                    "CC07",
                    "Refused entry by customs",
                    there,
                )
            },
            Step::ReturnedToSender => {
                Node::new(at, "returned_to_sender", "RT", "Returned to sender", there)
            }
            Step::OutForDelivery => {
                Node::new(at, "out_for_delivery", "OD", "Out for delivery", there)
            }
            Step::Delivered => Node::new(at, "delivered", "DL", "Delivered, signed for", there),
            Step::Failed(reason) => {
                let status = if matches!(reason, "package_lost" | "package_damaged") {
                    "exception"
                } else {
                    "delivery_failed"
                };
                let code = match reason {
                    "address_incorrect" => "DF01",
                    "recipient_unavailable" => "DF02",
                    "refused" => "DF03",
                    "duties_unpaid" => "DF04",
                    "restricted_area" => "DF05",
                    "package_damaged" => "DF06",
                    "package_lost" => "DF07",
                    _ => "DF09",
                };
                let text = format!("Delivery attempt failed: {}", reason.replace('_', " "));
                Node {
                    failure: Some(reason),
                    ..Node::new(at, status, code, text, there)
                }
            }
        };
        self.record(tracking, node);
        self.order_follows(&order_no, step, at);
        more
    }

    /// What a parcel's step does to its order.
    fn order_follows(&mut self, order_no: &str, step: Step, at: i64) {
        let Some(order) = self.orders.get_mut(order_no) else {
            return;
        };
        let status = match step {
            Step::PickedUp => "shipped",
            Step::Delivered => "delivered",
            Step::CustomsHeld | Step::CustomsRejected | Step::Failed(_) => "exception",
            _ => return,
        };
        order.status = status;
        order.updated = at;
        match step {
            Step::PickedUp => {
                order.shipped = Some(at);
                let (warehouse, lines) = (order.warehouse.clone(), order.holds());
                if let Some(warehouse) = warehouse {
                    for (sku, qty) in lines {
                        self.change_stock(&sku, &warehouse, at, Move::Ship(qty));
                    }
                }
            }
            Step::Delivered => order.delivered = Some(at),
            _ => {}
        }
    }

    /// The `Tracking` of parcel `tracking`.
    fn tracking_json(&self, tracking: &str) -> Option<Value> {
        self.parcels.get(tracking).map(|p| p.json(None))
    }
}

/// Moves the parcel `tracking` on every logistics step until its route ends.
pub(super) fn follow(f: &Arc<Fulfillment>, tracking: String) {
    let f = f.clone();
    let step = f.config.logistics_step;
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(step).await;
            if !f.with(|inner, now| inner.advance(&tracking, now)) {
                break;
            }
        }
    });
}

/// `GET /v2.1/orders/{order_no}/tracking`: 404 before a label exists.
pub(super) async fn by_order(
    State(f): State<Arc<Fulfillment>>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let no = order_no(path)?;
    f.with(|inner, _| {
        let Some(order) = inner.orders.get(&no) else {
            return Err(ApiError::order_not_found(&no));
        };
        order
            .tracking
            .as_deref()
            .and_then(|t| inner.tracking_json(t))
            .map(|body| answer(StatusCode::OK, body))
            .ok_or_else(|| ApiError::not_found("tracking (no label yet) of order", &no))
    })
}

/// `GET /v2.1/tracking/{tracking_number}`.
pub(super) async fn by_number(
    State(f): State<Arc<Fulfillment>>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let Ok(Path(tracking)) = path else {
        return Err(ApiError::not_found("tracking number", "(undecodable)"));
    };
    f.with(|inner, _| {
        inner
            .tracking_json(&tracking)
            .map(|body| answer(StatusCode::OK, body))
            .ok_or_else(|| ApiError::not_found("tracking number", &tracking))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_follow_the_markers() {
        use Step::*;
        let ok = route("#1001", "US", "94105", "CN");
        assert_eq!(
            ok,
            [
                PickedUp,
                Departed,
                CustomsArrived,
                CustomsCleared,
                OutForDelivery,
                Delivered
            ]
        );
        assert_eq!(
            route("X", "CN", "518000", "CN"),
            [PickedUp, Departed, OutForDelivery, Delivered]
        );
        assert_eq!(
            route("#2001 customs-hold", "US", "1", "CN").last(),
            Some(&CustomsHeld)
        );
        assert_eq!(
            route("CUSTOMS_REJECT-9", "DE", "1", "CN").last(),
            Some(&ReturnedToSender)
        );
        assert_eq!(
            route("A-FAIL-RECIPIENT-UNAVAILABLE", "US", "1", "CN").last(),
            Some(&Failed("recipient_unavailable"))
        );
        assert_eq!(
            route("A", "US", "00000", "US").last(),
            Some(&Failed("address_incorrect"))
        );
    }
}
