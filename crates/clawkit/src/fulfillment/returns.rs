//! Returns (售后): requested for an order's lines, received into a warehouse (退货入库).

use chrono::{DateTime, FixedOffset};
use clawkit_runtime::Paged;

use crate::client::Optionally;
use openclaw_fulfillment_api::types::{CreateReturnRequest, Return, ReturnStatus};

use super::client::{Client, cursor_stream, fetched, filter_setters};
use super::error::Error;

/// Which returns [`Client::returns`] lists (all of them by default).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReturnFilter {
    status: Option<ReturnStatus>,
    order: Option<String>,
    updated_from: Option<DateTime<FixedOffset>>,
    updated_to: Option<DateTime<FixedOffset>>,
}

impl ReturnFilter {
    /// Everything (no filter).
    pub fn new() -> Self {
        Self::default()
    }

    filter_setters! {
        /// Only returns in this status.
        status: ReturnStatus,
        /// Only the returns of this order number.
        order: impl Into<String>,
        /// Only returns updated at or after this time.
        updated_from: DateTime<FixedOffset>,
        /// Only returns updated before this time (exclusive).
        updated_to: DateTime<FixedOffset>,
    }
}

impl Client {
    /// Opens a return (RMA) for lines of a shipped order.
    pub async fn create_return(&self, request: &CreateReturnRequest) -> Result<Return, Error> {
        self.write("create return", |api| {
            api.create_return().body(request.clone()).send()
        })
        .await
    }

    /// The return `rma_no`.
    pub async fn get_return(&self, rma_no: &str) -> Result<Return, Error> {
        self.read("get return", |api| api.get_return().rma_no(rma_no).send())
            .await
    }

    /// Every return the filter selects, as a cursor stream.
    pub fn returns(&self, filter: ReturnFilter) -> Paged<Return, Error, Option<String>> {
        cursor_stream(self, move |client, cursor, limit| {
            let filter = filter.clone();
            async move {
                let page = client
                    .read("list returns", |api| {
                        let mut call = api.list_returns().limit(limit);
                        call = call.optionally(cursor.clone(), |c, cursor| c.cursor(cursor));
                        call = call.optionally(filter.status, |c, status| c.status(status));
                        call = call
                            .optionally(filter.order.clone(), |c, order_no| c.order_no(order_no));
                        call = call.optionally(filter.updated_from, |c, at| c.updated_from(at));
                        call = call.optionally(filter.updated_to, |c, at| c.updated_to(at));
                        call.send()
                    })
                    .await?;
                fetched(page.items, page.has_more, page.next_cursor)
            }
        })
    }
}
