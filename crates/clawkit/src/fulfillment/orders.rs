//! Orders (the order pool) and logistics tracking.

use chrono::{DateTime, FixedOffset};
use clawkit_runtime::Paged;

use crate::client::Optionally;
use openclaw_fulfillment_api::types::{
    CancelOrderRequest, CreateOrderRequest, Order, OrderStatus, SalesChannel, Tracking,
};

use super::client::{Client, cursor_stream, fetched, filter_setters};
use super::error::Error;

/// Which orders [`Client::orders`] lists (all of them by default).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrderFilter {
    status: Option<OrderStatus>,
    channel: Option<SalesChannel>,
    updated_from: Option<DateTime<FixedOffset>>,
    updated_to: Option<DateTime<FixedOffset>>,
}

impl OrderFilter {
    /// Everything (no filter).
    pub fn new() -> Self {
        Self::default()
    }

    filter_setters! {
        /// Only orders in this status.
        status: OrderStatus,
        /// Only orders from this sales channel.
        channel: SalesChannel,
        /// Only orders updated at or after this time (an incremental sync's start).
        updated_from: DateTime<FixedOffset>,
        /// Only orders updated before this time (exclusive, so consecutive windows neither
        /// overlap nor leave gaps).
        updated_to: DateTime<FixedOffset>,
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
                    .read("list orders", |api| {
                        let mut call = api.list_orders().limit(limit);
                        call = call.optionally(cursor.clone(), |c, cursor| c.cursor(cursor));
                        call = call.optionally(filter.status, |c, status| c.status(status));
                        call = call.optionally(filter.channel, |c, channel| c.channel(channel));
                        call = call.optionally(filter.updated_from, |c, at| c.updated_from(at));
                        call = call.optionally(filter.updated_to, |c, at| c.updated_to(at));
                        call.send()
                    })
                    .await?;
                fetched(page.items, page.has_more, page.next_cursor)
            }
        })
    }

    /// The order `order_no`, as the seller numbered it (`#1001&A` works as it is).
    pub async fn order(&self, order_no: &str) -> Result<Order, Error> {
        self.read("get order", |api| api.get_order().order_no(order_no).send())
            .await
    }

    /// Pushes an order into the order pool. Its `order_no` is unique per app, so a resent order
    /// answers 409 `order_exists` instead of duplicating; retried only when the failure proves
    /// nothing was done.
    pub async fn create_order(&self, order: &CreateOrderRequest) -> Result<Order, Error> {
        self.write("create order", |api| {
            api.create_order().body(order.clone()).send()
        })
        .await
    }

    /// Cancels an order that has not shipped (409 `invalid_order_state` otherwise); its reserved
    /// stock goes back to ATS.
    pub async fn cancel_order(
        &self,
        order_no: &str,
        cancel: &CancelOrderRequest,
    ) -> Result<Order, Error> {
        self.read("cancel order", |api| {
            api.cancel_order()
                .order_no(order_no)
                .body(cancel.clone())
                .send()
        })
        .await
    }

    /// The tracking of an order's parcel: status, events (oldest first), customs clearance and
    /// structured last-mile failures.
    pub async fn order_tracking(&self, order_no: &str) -> Result<Tracking, Error> {
        self.read("get order tracking", |api| {
            api.get_order_tracking().order_no(order_no).send()
        })
        .await
    }

    /// The tracking of a parcel by its tracking number.
    pub async fn tracking(&self, tracking_number: &str) -> Result<Tracking, Error> {
        self.read("get tracking", |api| {
            api.get_tracking().tracking_number(tracking_number).send()
        })
        .await
    }
}
