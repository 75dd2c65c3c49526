//! Orders (the order pool) and logistics tracking.

use chrono::{DateTime, FixedOffset};
use clawkit_runtime::{Paged, Safety};

use super::types::{
    CancelOrderRequest, CancelReason, CreateOrderRequest, Order, OrderStatus, SalesChannel,
    Tracking,
};
use super::{Client, Error, cursor_stream, fetched};

/// Which orders [`Client::orders`] lists (all of them by default).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrderFilter {
    status: Option<OrderStatus>,
    channel: Option<SalesChannel>,
    updated_from: Option<DateTime<FixedOffset>>,
    updated_to: Option<DateTime<FixedOffset>>,
}

impl OrderFilter {
    /// Every order.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only orders in `status`.
    pub fn status(mut self, status: OrderStatus) -> Self {
        self.status = Some(status);
        self
    }

    /// Only orders from `channel`.
    pub fn channel(mut self, channel: SalesChannel) -> Self {
        self.channel = Some(channel);
        self
    }

    /// Only orders updated at or after `at` (an incremental sync's start).
    pub fn updated_from(mut self, at: DateTime<FixedOffset>) -> Self {
        self.updated_from = Some(at);
        self
    }

    /// Only orders updated before `at` (exclusive, so consecutive windows neither overlap nor
    /// leave gaps).
    pub fn updated_to(mut self, at: DateTime<FixedOffset>) -> Self {
        self.updated_to = Some(at);
        self
    }
}

impl Client {
    /// Every order the filter selects, oldest update first, as a stream that reads page after
    /// page by cursor (each page an order query, within the 10 per second).
    pub fn orders(&self, filter: OrderFilter) -> Paged<Order, Error, Option<String>> {
        cursor_stream(self, move |client, cursor, limit| {
            let filter = filter.clone();
            async move {
                let page = client
                    .send("list orders", Safety::Idempotent, || {
                        let mut call = client.api().list_orders().limit(limit);
                        if let Some(cursor) = &cursor {
                            call = call.cursor(cursor.clone());
                        }
                        if let Some(status) = filter.status {
                            call = call.status(status);
                        }
                        if let Some(channel) = filter.channel {
                            call = call.channel(channel);
                        }
                        if let Some(at) = filter.updated_from {
                            call = call.updated_from(at);
                        }
                        if let Some(at) = filter.updated_to {
                            call = call.updated_to(at);
                        }
                        call.send()
                    })
                    .await?;
                fetched(page.items, page.has_more, page.next_cursor)
            }
        })
    }

    /// The order `order_no`, as the seller numbered it (`#1001&A` works as it is).
    pub async fn order(&self, order_no: &str) -> Result<Order, Error> {
        self.send("get order", Safety::Idempotent, || {
            self.api().get_order().order_no(order_no).send()
        })
        .await
    }

    /// Pushes an order into the order pool. Its `order_no` is unique per app, so a resent order
    /// answers 409 `order_exists` instead of duplicating; retried only when the failure proves
    /// nothing was done.
    pub async fn create_order(&self, order: &CreateOrderRequest) -> Result<Order, Error> {
        self.send("create order", Safety::Creates, || {
            self.api().create_order().body(order.clone()).send()
        })
        .await
    }

    /// Cancels an order that has not shipped (409 `invalid_order_state` otherwise); its reserved
    /// stock goes back to ATS.
    pub async fn cancel_order(
        &self,
        order_no: &str,
        reason: CancelReason,
        note: Option<&str>,
    ) -> Result<Order, Error> {
        let body = CancelOrderRequest {
            reason,
            note: note.map(str::to_string),
        };
        self.send("cancel order", Safety::Idempotent, || {
            self.api()
                .cancel_order()
                .order_no(order_no)
                .body(body.clone())
                .send()
        })
        .await
    }

    /// The tracking of an order's parcel: status, events (oldest first), customs clearance and
    /// structured last-mile failures.
    pub async fn order_tracking(&self, order_no: &str) -> Result<Tracking, Error> {
        self.send("get order tracking", Safety::Idempotent, || {
            self.api().get_order_tracking().order_no(order_no).send()
        })
        .await
    }

    /// The tracking of a parcel by its tracking number.
    pub async fn tracking(&self, tracking_number: &str) -> Result<Tracking, Error> {
        self.send("get tracking", Safety::Idempotent, || {
            self.api()
                .get_tracking()
                .tracking_number(tracking_number)
                .send()
        })
        .await
    }
}
