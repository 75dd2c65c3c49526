//! Routing (分单) and the reservations' lifetime.
//!
//! A new order first takes over an active reservation made for its `order_no` (the reservation
//! becomes `consumed`); otherwise it is allocated to the first warehouse that can hold every line
//! (the forced `warehouse_code`, else warehouses in the recipient's country first, then the
//! others in seed order), its stock reserved: status `allocated`. An order no warehouse can serve
//! yet (unknown SKU, not enough ATS, unknown forced warehouse) stays `created` and is allocated,
//! oldest first, as soon as stock comes back (adjustment, release, cancellation, restocked
//! return, lapsed reservation). Reservations lapse at their `expires_at` and give their stock
//! back.

use openclaw_fulfillment_api::types::{self, OrderStatus, ReservationStatus};

use crate::fulfillment::clock::date_code;
use crate::fulfillment::model::orders::{CreateOrderRequest, Order};
use crate::fulfillment::model::stock::{Move, per_sku};
use crate::fulfillment::state::Inner;

impl Inner {
    /// Takes over the active reservation made for `order_no`, if it covers the order (what it
    /// lacks must fit the warehouse's ATS): the warehouse, or `None`.
    fn consume_reservation(&mut self, order_no: &str, now: i64) -> Option<String> {
        let lines = self.orders.get(order_no)?.holds();
        let r = self.reservations.values().find(|r| {
            r.status == ReservationStatus::Active && r.order_no.as_deref() == Some(order_no)
        })?;
        let (id, warehouse, held) = (r.id.clone(), r.warehouse.clone(), per_sku(&r.lines));
        let quantity = |lines: &[(usize, String, i64)], sku: &str| {
            lines
                .iter()
                .find(|(_, s, _)| s == sku)
                .map_or(0, |(_, _, q)| *q)
        };
        let wanted = per_sku(&lines);
        let extra: Vec<(String, i64)> = wanted
            .iter()
            .map(|(_, sku, qty)| (sku.clone(), qty.saturating_sub(quantity(&held, sku)).max(0)))
            .filter(|(_, q)| *q > 0)
            .collect();
        if self.shortage(&warehouse, &extra).is_some() {
            return None;
        }
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
            let delta = quantity(&wanted, sku) - quantity(&held, sku);
            if delta != 0 {
                self.change_stock(sku, &warehouse, now, Move::Hold(delta));
            }
        }
        if let Some(r) = self.reservations.get_mut(&id) {
            r.status = ReservationStatus::Consumed;
            r.updated = now;
        }
        Some(warehouse)
    }

    /// Routes the `created` order `order_no` and reserves its stock; whether it is now
    /// allocated.
    pub(crate) fn allocate(&mut self, order_no: &str, now: i64) -> bool {
        let Some(order) = self.orders.get(order_no) else {
            return false;
        };
        if order.status != OrderStatus::Created {
            return false;
        }
        let lines = order.holds();
        let country = order.request.recipient.country_code.to_string();
        let candidates: Vec<String> = match &order.request.warehouse_code {
            Some(forced) => vec![forced.clone()],
            None => {
                let (mut near, far): (Vec<_>, Vec<_>) = self
                    .warehouses
                    .iter()
                    .partition(|w| w.country.eq_ignore_ascii_case(&country));
                near.extend(far);
                near.into_iter().map(|w| w.code.to_string()).collect()
            }
        };
        let chosen = self.consume_reservation(order_no, now).or_else(|| {
            candidates
                .into_iter()
                .find(|code| self.warehouse(code).is_some() && self.hold(code, &lines, now).is_ok())
        });
        let Some(warehouse) = chosen else {
            return false;
        };
        if let Some(order) = self.orders.get_mut(order_no) {
            order.warehouse = Some(warehouse);
            order.status = OrderStatus::Allocated;
            order.updated = now;
        }
        true
    }

    /// Allocates the orders still `created`, oldest first, as far as stock allows.
    pub(crate) fn allocate_waiting(&mut self, now: i64) {
        let mut waiting: Vec<(i64, String, String)> = self
            .orders
            .values()
            .filter(|o| o.status == OrderStatus::Created)
            .map(|o| (o.created, o.id.clone(), o.request.order_no.clone()))
            .collect();
        waiting.sort();
        for (_, _, no) in waiting {
            self.allocate(&no, now);
        }
    }

    /// Puts a new order in the pool and routes it (no event); its `Order` body.
    pub(crate) fn insert_order(&mut self, request: CreateOrderRequest, now: i64) -> types::Order {
        let id = format!("OC{}{:06}", date_code(now), self.next_serial());
        let no = request.order_no.clone();
        self.orders.insert(no.clone(), Order::new(id, request, now));
        self.allocate(&no, now);
        let order = &self.orders[&no];
        order.wire()
    }

    /// Lets every active reservation past its `expires_at` lapse, giving its stock back.
    pub(crate) fn expire_reservations(&mut self, now: i64) {
        let due: Vec<String> = self
            .reservations
            .values()
            .filter(|r| r.status == ReservationStatus::Active && r.expires <= now)
            .map(|r| r.id.clone())
            .collect();
        for id in &due {
            let Some(r) = self.reservations.get_mut(id) else {
                continue;
            };
            r.status = ReservationStatus::Expired;
            r.updated = now;
            let (warehouse, lines) = (r.warehouse.clone(), r.lines.clone());
            self.unhold(&warehouse, &lines, now);
        }
        if !due.is_empty() {
            self.allocate_waiting(now);
        }
    }

    /// Cancels the order `no` if it is not shipped yet: its stock is given back (and waiting
    /// orders allocated), its parcel, if labelled, never picked up. Its `Order` body, or the
    /// status it is in.
    pub(crate) fn cancel_order(
        &mut self,
        no: &str,
        reason: types::CancelReason,
        now: i64,
    ) -> Option<Result<types::Order, OrderStatus>> {
        let order = self.orders.get_mut(no)?;
        if order.shipped_or_closed() {
            return Some(Err(order.status));
        }
        let held = order
            .warehouse
            .clone()
            .filter(|_| order.status != OrderStatus::Created);
        order.status = OrderStatus::Cancelled;
        order.cancel_reason = Some(reason);
        order.updated = now;
        let lines = order.holds();
        if let Some(warehouse) = held {
            self.unhold(&warehouse, &lines, now);
            self.allocate_waiting(now);
        }
        self.orders.get(no).map(|o| Ok(o.wire()))
    }
}
