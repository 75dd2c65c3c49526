//! Returns (售后): requested for an order's lines, received into a warehouse (退货入库).

use chrono::{DateTime, FixedOffset};
use clawkit_runtime::{Paged, Safety};

use super::types::{CreateReturnRequest, Return, ReturnStatus};
use super::{Client, Error, cursor_stream, fetched};

/// Which returns [`Client::returns`] lists (all of them by default).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReturnFilter {
    status: Option<ReturnStatus>,
    order_no: Option<String>,
    updated_from: Option<DateTime<FixedOffset>>,
    updated_to: Option<DateTime<FixedOffset>>,
}

impl ReturnFilter {
    /// Every return.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only returns in `status`.
    pub fn status(mut self, status: ReturnStatus) -> Self {
        self.status = Some(status);
        self
    }

    /// Only the returns of the order `order_no`.
    pub fn order(mut self, order_no: impl Into<String>) -> Self {
        self.order_no = Some(order_no.into());
        self
    }

    /// Only returns updated at or after `at`.
    pub fn updated_from(mut self, at: DateTime<FixedOffset>) -> Self {
        self.updated_from = Some(at);
        self
    }

    /// Only returns updated before `at` (exclusive).
    pub fn updated_to(mut self, at: DateTime<FixedOffset>) -> Self {
        self.updated_to = Some(at);
        self
    }
}

impl Client {
    /// Opens a return (RMA) for lines of a shipped order.
    pub async fn create_return(&self, request: &CreateReturnRequest) -> Result<Return, Error> {
        self.send("create return", Safety::Creates, || {
            self.api().create_return().body(request.clone()).send()
        })
        .await
    }

    /// The return `rma_no`.
    pub async fn get_return(&self, rma_no: &str) -> Result<Return, Error> {
        self.send("get return", Safety::Idempotent, || {
            self.api().get_return().rma_no(rma_no).send()
        })
        .await
    }

    /// Every return the filter selects, as a cursor stream.
    pub fn returns(&self, filter: ReturnFilter) -> Paged<Return, Error, Option<String>> {
        cursor_stream(self, move |client, cursor, limit| {
            let filter = filter.clone();
            async move {
                let page = client
                    .send("list returns", Safety::Idempotent, || {
                        let mut call = client.api().list_returns().limit(limit);
                        if let Some(cursor) = &cursor {
                            call = call.cursor(cursor.clone());
                        }
                        if let Some(status) = filter.status {
                            call = call.status(status);
                        }
                        if let Some(order_no) = &filter.order_no {
                            call = call.order_no(order_no.clone());
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
}
