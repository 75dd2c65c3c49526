//! Labelling an order and moving its parcel: each node queues `logistics.updated`, and what a
//! step means for the order follows it (picked up: `shipped`, its stock leaves the warehouse;
//! delivered: `delivered`; held, rejected or failed: `exception`).

use openclaw_fulfillment_api::types::{self, LogisticsStatus, OrderStatus};

use crate::fulfillment::error::ApiError;
use crate::fulfillment::model::parcels::{Node, Parcel, Step, Trip, route};
use crate::fulfillment::model::stock::Move;
use crate::fulfillment::model::webhooks::Event;
use crate::fulfillment::state::Inner;

impl Inner {
    /// Labels the `allocated` order `no`: its parcel starts (`info_received` at its warehouse)
    /// and the order becomes `label_created` with `carrier` and `tracking`; 409
    /// `invalid_order_state` for an order in another status.
    pub(crate) fn label_order(
        &mut self,
        no: &str,
        carrier: &str,
        tracking: &str,
        now: i64,
    ) -> Result<(), ApiError> {
        let Some(order) = self.orders.get(no) else {
            return Err(ApiError::order_not_found(no));
        };
        if order.status != OrderStatus::Allocated {
            return Err(ApiError::conflict(
                "invalid_order_state",
                format!(
                    "Order {no} is {}; a label needs an allocated order",
                    order.status
                ),
            ));
        }
        let warehouse = order.warehouse.clone().unwrap_or_default();
        let recipient = order.request.recipient.clone();
        let origin = self.place_of(&warehouse);
        let trip = Trip {
            tracking,
            carrier,
            order_no: no,
            origin,
            destination: (&recipient.country_code, &recipient.city),
            route: route(
                no,
                &recipient.country_code,
                &recipient.postal_code,
                origin.0,
            ),
        };
        let first = Node::new(
            now,
            LogisticsStatus::InfoReceived,
            "IR",
            "电子信息已收到 Shipment information received",
            origin,
        );
        self.open_parcel(trip, first);
        if let Some(order) = self.orders.get_mut(no) {
            order.status = OrderStatus::LabelCreated;
            order.carrier = Some(carrier.to_string());
            order.tracking = Some(tracking.to_string());
            order.updated = now;
        }
        Ok(())
    }

    /// Starts following a parcel whose first node is `first`; queues `logistics.updated`.
    pub(crate) fn open_parcel(&mut self, trip: Trip<'_>, first: Node) {
        let tracking = trip.tracking.to_string();
        self.parcels.insert(tracking.clone(), Parcel::new(trip));
        self.record(&tracking, first);
    }

    /// Adds `node` to the parcel `tracking`; queues `logistics.updated` with it.
    pub(crate) fn record(&mut self, tracking: &str, node: Node) {
        let Some(parcel) = self.parcels.get_mut(tracking) else {
            return;
        };
        let at = node.at();
        let data = parcel.record(node);
        self.emit(Event::LogisticsUpdated(data), at);
    }

    /// Moves the parcel `tracking` one step on at `at`, with what that does to its order; false
    /// once it has no step left (or its order was cancelled before pick-up).
    pub(crate) fn advance(&mut self, tracking: &str, at: i64) -> bool {
        let Some(parcel) = self.parcels.get_mut(tracking) else {
            return false;
        };
        let order_no = parcel.order_no.clone().unwrap_or_default();
        if self
            .orders
            .get(&order_no)
            .is_some_and(|o| o.status == OrderStatus::Cancelled)
        {
            return false;
        }
        if parcel.route.is_empty() {
            return false;
        }
        let step = parcel.route.remove(0);
        let more = !parcel.route.is_empty();
        let (from, to) = (parcel.origin.clone(), parcel.destination.clone());
        let node = step.node(at, (&from.0, &from.1), (&to.0, &to.1));
        self.record(tracking, node);
        self.order_follows(&order_no, step, at);
        more
    }

    /// What a parcel's step does to its order.
    fn order_follows(&mut self, order_no: &str, step: Step, at: i64) {
        let Some(status) = step.order_status() else {
            return;
        };
        let Some(order) = self.orders.get_mut(order_no) else {
            return;
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

    /// The `Tracking` of parcel `tracking`, with all its nodes.
    pub(crate) fn tracking(&self, tracking: &str) -> Option<types::Tracking> {
        self.parcels.get(tracking).map(|p| p.wire(0))
    }
}
