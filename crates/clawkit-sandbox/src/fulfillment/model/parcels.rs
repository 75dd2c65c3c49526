//! Parcels and their structured tracking (物流回传): the route a parcel takes, its nodes, customs
//! clearance and last-mile failures, and the `Tracking` body.
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

use openclaw_fulfillment_api::types::{
    self, CustomsStatus, DeliveryFailureReason as Failure, LogisticsStatus as Status, OrderStatus,
};

use crate::fulfillment::clock::time;
use crate::fulfillment::read::count;

/// `DeliveryFailureReason`, with the courier's wording and its event code.
const FAILURES: [(Failure, &str, &str); 8] = [
    (
        Failure::AddressIncorrect,
        "Address incorrect or incomplete",
        "DF01",
    ),
    (
        Failure::RecipientUnavailable,
        "No one available to sign, notice left",
        "DF02",
    ),
    (Failure::Refused, "Recipient refused the parcel", "DF03"),
    (
        Failure::DutiesUnpaid,
        "Import duties not paid by the recipient",
        "DF04",
    ),
    (
        Failure::RestrictedArea,
        "Courier does not serve this area",
        "DF05",
    ),
    (Failure::PackageDamaged, "Parcel damaged in transit", "DF06"),
    (Failure::PackageLost, "Parcel lost in transit", "DF07"),
    (
        Failure::Other,
        "Delivery failed, see the carrier's notes",
        "DF09",
    ),
];

/// The courier's wording and the event code of `reason`.
fn failure(reason: Failure) -> (&'static str, &'static str) {
    FAILURES
        .iter()
        .find(|(r, _, _)| *r == reason)
        .map_or(("", "DF09"), |(_, detail, code)| (*detail, *code))
}

/// One step of a parcel's route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    PickedUp,
    Departed,
    CustomsArrived,
    CustomsCleared,
    CustomsHeld,
    CustomsRejected,
    ReturnedToSender,
    OutForDelivery,
    Delivered,
    Failed(Failure),
}

/// The route of a parcel of order `order_no` to `country`/`postal_code` from a warehouse in
/// `origin`.
pub(crate) fn route(order_no: &str, country: &str, postal_code: &str, origin: &str) -> Vec<Step> {
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
        .map(|(reason, _, _)| *reason)
        .find(|reason| {
            let name = reason.to_string().to_ascii_uppercase().replace('_', "-");
            marker.contains(&format!("FAIL-{name}"))
        })
        .or_else(|| (postal_code.trim() == "00000").then_some(Failure::AddressIncorrect));
    steps.push(failure.map_or(Step::Delivered, Step::Failed));
    steps
}

impl Step {
    /// The node the step records at `at`, `here` being where the parcel left from and `there`
    /// where it goes (each (country, city)).
    pub(crate) fn node(self, at: i64, here: (&str, &str), there: (&str, &str)) -> Node {
        let customs = |status, event, code, text| Node {
            customs: Some(status),
            ..Node::new(at, event, code, text, there)
        };
        match self {
            Step::PickedUp => {
                Node::new(at, Status::PickedUp, "PU", "已揽收 Parcel picked up", here)
            }
            Step::Departed => Node::new(
                at,
                Status::InTransit,
                "DP",
                "已离开始发地 Departed origin facility, line-haul to destination",
                here,
            ),
            Step::CustomsArrived => customs(
                CustomsStatus::InProgress,
                Status::CustomsClearance,
                "CC01",
                "Arrived at customs, clearance in progress",
            ),
            Step::CustomsCleared => customs(
                CustomsStatus::Cleared,
                Status::InTransit,
                "CC09",
                "Customs cleared",
            ),
            Step::CustomsHeld => customs(
                CustomsStatus::Held,
                Status::CustomsClearance,
                "CC05",
                "Held by customs, documents requested",
            ),
            Step::CustomsRejected => customs(
                CustomsStatus::Rejected,
                Status::CustomsClearance,
                "CC07",
                "Refused entry by customs",
            ),
            Step::ReturnedToSender => Node::new(
                at,
                Status::ReturnedToSender,
                "RT",
                "Returned to sender",
                there,
            ),
            Step::OutForDelivery => {
                Node::new(at, Status::OutForDelivery, "OD", "Out for delivery", there)
            }
            Step::Delivered => {
                Node::new(at, Status::Delivered, "DL", "Delivered, signed for", there)
            }
            Step::Failed(reason) => {
                let status = if matches!(reason, Failure::PackageLost | Failure::PackageDamaged) {
                    Status::Exception
                } else {
                    Status::DeliveryFailed
                };
                let text = format!(
                    "Delivery attempt failed: {}",
                    reason.to_string().replace('_', " ")
                );
                Node {
                    failure: Some(reason),
                    ..Node::new(at, status, failure(reason).1, text, there)
                }
            }
        }
    }

    /// What the step makes of the parcel's order, if anything.
    pub(crate) fn order_status(self) -> Option<OrderStatus> {
        match self {
            Step::PickedUp => Some(OrderStatus::Shipped),
            Step::Delivered => Some(OrderStatus::Delivered),
            Step::CustomsHeld | Step::CustomsRejected | Step::Failed(_) => {
                Some(OrderStatus::Exception)
            }
            _ => None,
        }
    }
}

/// One tracking node.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    at: i64,
    status: Status,
    code: &'static str,
    description: String,
    country: String,
    city: String,
    customs: Option<CustomsStatus>,
    failure: Option<Failure>,
}

impl Node {
    /// A node without customs or failure data.
    pub(crate) fn new(
        at: i64,
        status: Status,
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

    /// When it happened, Unix ms.
    pub(crate) fn at(&self) -> i64 {
        self.at
    }

    /// The `TrackingEvent` body.
    fn wire(&self) -> types::TrackingEvent {
        types::TrackingEvent {
            city: Some(self.city.clone()),
            code: Some(self.code.to_string()),
            country_code: Some(self.country.clone()),
            customs_status: self.customs,
            description: self.description.clone(),
            failure_reason: self.failure,
            occurred_at: time(self.at),
            status: self.status,
        }
    }
}

/// Where a parcel starts and ends: the first node and what it travels.
pub(crate) struct Trip<'a> {
    /// Tracking number.
    pub(crate) tracking: &'a str,
    /// Carrier code.
    pub(crate) carrier: &'a str,
    /// The order it belongs to.
    pub(crate) order_no: &'a str,
    /// (country, city) it leaves from.
    pub(crate) origin: (&'a str, &'a str),
    /// (country, city) it goes to.
    pub(crate) destination: (&'a str, &'a str),
    /// Its steps after the first node.
    pub(crate) route: Vec<Step>,
}

/// A parcel: an order's outbound parcel, or a return parcel.
#[derive(Debug, Clone)]
pub(crate) struct Parcel {
    tracking: String,
    carrier: String,
    /// The order it belongs to.
    pub(crate) order_no: Option<String>,
    status: Status,
    /// (status, country, at, note).
    customs: Option<(CustomsStatus, String, i64, Option<&'static str>)>,
    /// (reason, attempts, at).
    failure: Option<(Failure, u64, i64)>,
    events: Vec<Node>,
    updated: i64,
    /// The steps still to come (empty for a return parcel, which its return moves on).
    pub(crate) route: Vec<Step>,
    /// Where it left from: (country, city).
    pub(crate) origin: (String, String),
    /// Where it goes: (country, city).
    pub(crate) destination: (String, String),
}

impl Parcel {
    /// A parcel on `trip` that has no node yet.
    pub(crate) fn new(trip: Trip<'_>) -> Self {
        let place = |(country, city): (&str, &str)| (country.to_string(), city.to_string());
        Parcel {
            tracking: trip.tracking.to_string(),
            carrier: trip.carrier.to_string(),
            order_no: Some(trip.order_no.to_string()),
            status: Status::InfoReceived,
            customs: None,
            failure: None,
            events: Vec::new(),
            updated: 0,
            route: trip.route,
            origin: place(trip.origin),
            destination: place(trip.destination),
        }
    }

    /// Adds `node`: the parcel's status, customs and failure follow it. The `Tracking` of a
    /// `logistics.updated` event: the parcel with only this node.
    pub(crate) fn record(&mut self, node: Node) -> types::Tracking {
        self.status = node.status;
        self.updated = node.at;
        if let Some(status) = node.customs {
            let note = (status == CustomsStatus::Held)
                .then_some("Additional documents requested by customs");
            self.customs = Some((status, node.country.clone(), node.at, note));
        }
        if let Some(reason) = node.failure {
            let attempts = self.failure.map_or(1, |f| f.1 + 1);
            self.failure = Some((reason, attempts, node.at));
        }
        self.events.push(node);
        self.wire(self.events.len() - 1)
    }

    /// The `Tracking` body, with its nodes from the `from`th.
    pub(crate) fn wire(&self, from: usize) -> types::Tracking {
        let customs =
            self.customs
                .as_ref()
                .map(|(status, country, at, note)| types::CustomsClearance {
                    country_code: country.clone(),
                    note: note.map(str::to_string),
                    status: *status,
                    updated_at: time(*at),
                });
        let delivery_failure = self
            .failure
            .map(|(reason, attempts, at)| types::DeliveryFailure {
                attempts: count(i64::try_from(attempts).unwrap_or(i64::MAX)),
                detail: Some(failure(reason).0.to_string()),
                occurred_at: time(at),
                reason,
            });
        types::Tracking {
            carrier: self.carrier.clone(),
            customs,
            delivery_failure,
            events: self.events.iter().skip(from).map(Node::wire).collect(),
            order_no: self.order_no.clone(),
            status: self.status,
            tracking_number: self.tracking.clone(),
            updated_at: time(self.updated),
        }
    }
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
            Some(&Failed(Failure::RecipientUnavailable))
        );
        assert_eq!(
            route("A", "US", "00000", "US").last(),
            Some(&Failed(Failure::AddressIncorrect))
        );
    }

    #[test]
    fn a_failed_attempt_is_counted_with_the_couriers_wording() {
        let trip = Trip {
            tracking: "T1",
            carrier: "4px",
            order_no: "#1",
            origin: ("CN", "Shenzhen"),
            destination: ("US", "Seattle"),
            route: Vec::new(),
        };
        let mut parcel = Parcel::new(trip);
        let failed = Step::Failed(Failure::Refused).node(5_000, ("CN", "x"), ("US", "y"));
        parcel.record(failed.clone());
        let event = parcel.record(failed);
        assert_eq!(event.events.len(), 1);
        assert_eq!(event.status, Status::DeliveryFailed);
        let failure = event.delivery_failure.unwrap();
        assert_eq!(failure.attempts.get(), 2);
        assert_eq!(
            failure.detail.as_deref(),
            Some("Recipient refused the parcel")
        );
        assert_eq!(event.events[0].code.as_deref(), Some("DF03"));
        assert_eq!(
            event.events[0].description,
            "Delivery attempt failed: refused"
        );
        assert_eq!(parcel.wire(0).events.len(), 2);
    }
}
