//! Returns over the pool: opening one for a `shipped` or `delivered` order (no more of a SKU
//! than was shipped and not yet returned), and moving it one state on: `requested` → `approved`
//! → `in_transit` (a return parcel with its own tracking) → `received` (`return.received`; the
//! goods go back on hand, with `inventory.changed`, unless quarantined) → `refunded`.

use openclaw_fulfillment_api::types::{LogisticsStatus, OrderStatus, ReturnStatus};

use crate::fulfillment::clock::date_code;
use crate::fulfillment::error::ApiError;
use crate::fulfillment::model::labels::tracking_number;
use crate::fulfillment::model::parcels::{Node, Trip};
use crate::fulfillment::model::returns::{CreateReturnRequest, Return, amount, hundredths};
use crate::fulfillment::model::stock::{Move, pairs, per_sku};
use crate::fulfillment::model::webhooks::Event;
use crate::fulfillment::state::Inner;

impl Inner {
    /// Opens the return `request` asks for at `now`: 404 for an unknown order or warehouse; 409
    /// `invalid_order_state` unless the order is shipped or delivered, `conflict` for quantities
    /// above what was shipped and not yet returned.
    pub(crate) fn open_return(
        &mut self,
        request: &CreateReturnRequest,
        now: i64,
    ) -> Result<Return, ApiError> {
        let no = &request.order_no;
        let Some(order) = self.orders.get(no) else {
            return Err(ApiError::order_not_found(no));
        };
        if let Some(code) = &request.warehouse_code
            && self.warehouse(code).is_none()
        {
            return Err(ApiError::not_found("warehouse", code));
        }
        if !matches!(order.status, OrderStatus::Shipped | OrderStatus::Delivered) {
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
            let back: i64 = self
                .returns
                .values()
                .filter(|r| r.order_no == *no && r.status != ReturnStatus::Rejected)
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
        let country = order.request.recipient.country_code.to_string();
        let warehouse = request
            .warehouse_code
            .clone()
            .or_else(|| {
                self.warehouses
                    .iter()
                    .find(|w| w.country.eq_ignore_ascii_case(&country))
                    .map(|w| w.code.to_string())
            })
            .or_else(|| order.warehouse.clone())
            .unwrap_or_default();
        let currency = order.request.currency.clone();
        let rma = format!("RMA{}{:06}", date_code(now), self.next_serial());
        let opened = Return {
            rma: rma.clone(),
            order_no: no.clone(),
            status: ReturnStatus::Requested,
            reason: request.reason,
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
        self.returns.insert(rma, opened.clone());
        Ok(opened)
    }

    /// Moves return `rma` one state on at `now` (`seed` draws tracking numbers); false once it
    /// is final.
    pub(crate) fn advance_return(&mut self, rma: &str, now: i64, seed: u64) -> bool {
        let Some(r) = self.returns.get(rma).cloned() else {
            return false;
        };
        let Some(order) = self.orders.get(&r.order_no).cloned() else {
            return false;
        };
        let home = self.place_of(&r.warehouse);
        let recipient = &order.request.recipient;
        let buyer = (recipient.country_code.as_str(), recipient.city.as_str());
        let mut updated = r.clone();
        updated.updated = now;
        match r.status {
            ReturnStatus::Requested => updated.status = ReturnStatus::Approved,
            ReturnStatus::Approved => {
                updated.status = ReturnStatus::InTransit;
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
                    origin: buyer,
                    destination: home,
                    route: Vec::new(),
                };
                let picked_up = format!("Return parcel of {rma} picked up");
                let first = Node::new(now, LogisticsStatus::PickedUp, "PU", picked_up, buyer);
                self.open_parcel(trip, first);
                updated.carrier = Some(carrier);
                updated.tracking = Some(tracking);
            }
            ReturnStatus::InTransit => {
                updated.status = ReturnStatus::Received;
                updated.received = Some(now);
                if let Some(tracking) = &r.tracking {
                    let received = format!("Return parcel received at {}", r.warehouse);
                    let node = Node::new(now, LogisticsStatus::Delivered, "DL", received, home);
                    self.record(tracking, node);
                }
                if r.restocks() {
                    for (_, sku, qty) in per_sku(&r.lines) {
                        self.change_stock(&sku, &r.warehouse, now, Move::Restock(qty));
                    }
                }
                self.emit(Event::ReturnReceived(updated.wire()), now);
            }
            ReturnStatus::Received => {
                updated.status = ReturnStatus::Refunded;
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
                updated.refund = Some(amount(total));
            }
            ReturnStatus::Refunded | ReturnStatus::Rejected => return false,
        }
        let more = updated.status != ReturnStatus::Refunded;
        let restocked = updated.status == ReturnStatus::Received;
        self.returns.insert(rma.to_string(), updated);
        if restocked {
            self.allocate_waiting(now);
        }
        more
    }
}
