//! Orders: created from a sales channel and routed (`ops::allocation`), listed, read, cancelled
//! before shipment.
//!
//! `list_orders` and `get_order` are the order queries of the seed's limit (订单查询≤10QPS): at
//! most `order_qps` (10) per app in any one-second window (the kit's `Windows`); beyond it 429
//! `rate_limited` with `Retry-After` in whole seconds. Other operations are not limited.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use openclaw_fulfillment_api::types::{self, OrderStatus, SalesChannel};

use crate::fulfillment::error::{ApiError, answer};
use crate::fulfillment::model::orders::{
    CHANNELS, CancelOrderRequest, CreateOrderRequest, STATUSES,
};
use crate::fulfillment::model::webhooks::Event;
use crate::fulfillment::read::{Listing, Query, json_body, order_no};
use crate::fulfillment::signing::CLIENT_ID_HEADER;
use crate::fulfillment::state::Fulfillment;
use crate::kit::limits::retry_after_secs;

impl Fulfillment {
    /// Counts one order query of the signing app: 429 beyond the limit.
    fn order_query(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        let app = headers
            .get(CLIENT_ID_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        self.order_query_at(app, Instant::now())
    }

    /// Counts one order query of `app` at `now`.
    fn order_query_at(&self, app: &str, now: Instant) -> Result<(), ApiError> {
        let qps = self.config.order_qps.max(1);
        self.window.admit(app, qps as usize, now).map_err(|wait| {
            self.stats.rate_limited.fetch_add(1, Ordering::Relaxed);
            ApiError::rate_limited(
                format!("Order query limit of {qps} QPS exceeded"),
                retry_after_secs(wait),
            )
        })
    }
}

/// `POST /v2.1/orders`: 201 `Order`; 409 `order_exists` for a known `order_no`; queues
/// `order.created`.
pub(crate) async fn create(
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
        let order = inner.insert_order(request, now);
        let response = answer(StatusCode::CREATED, &order);
        inner.emit(Event::OrderCreated(Box::new(order)), now);
        Ok(response)
    })
}

/// `GET /v2.1/orders`: one page, oldest update first.
pub(crate) async fn list(
    State(f): State<Arc<Fulfillment>>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, ApiError> {
    f.order_query(&headers)?;
    let query = Query::parse(uri.query())?;
    let status: Option<OrderStatus> = query.choice("status", &STATUSES)?;
    let channel: Option<SalesChannel> = query.choice("channel", &CHANNELS)?;
    let listing = Listing::read(&query)?;
    let page = f.with(|inner, _| {
        let rows = inner
            .orders
            .values()
            .filter(|o| {
                status.is_none_or(|s| o.status == s)
                    && channel.is_none_or(|c| o.request.channel == c)
            })
            .map(|o| (o.updated, o.id.clone(), o.wire()));
        listing.page(rows)
    });
    Ok(answer(StatusCode::OK, &types::OrderPage::from(page)))
}

/// `GET /v2.1/orders/{order_no}`.
pub(crate) async fn get(
    State(f): State<Arc<Fulfillment>>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    f.order_query(&headers)?;
    let no = order_no(path)?;
    f.with(|inner, _| match inner.orders.get(&no) {
        Some(order) => Ok(answer(StatusCode::OK, &order.wire())),
        None => Err(ApiError::order_not_found(&no)),
    })
}

/// `POST /v2.1/orders/{order_no}/cancel`: 200 `Order` (status `cancelled`, its stock given
/// back, its parcel, if labelled, never picked up); 409 `invalid_order_state` once shipped.
pub(crate) async fn cancel(
    State(f): State<Arc<Fulfillment>>,
    path: Result<Path<String>, PathRejection>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let no = order_no(path)?;
    if !f.with(|inner, _| inner.orders.contains_key(&no)) {
        return Err(ApiError::order_not_found(&no));
    }
    let request: CancelOrderRequest = json_body(&body)?;
    let cancelled = f.with(|inner, now| inner.cancel_order(&no, request.reason, now));
    match cancelled {
        None => Err(ApiError::order_not_found(&no)),
        Some(Ok(order)) => Ok(answer(StatusCode::OK, &order)),
        Some(Err(status)) => Err(ApiError::conflict(
            "invalid_order_state",
            format!("Order {no} is {status}; only orders not yet shipped can be cancelled"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::fulfillment::state::Config;

    #[test]
    fn ten_per_second_then_wait() {
        let f = Fulfillment::new(Config::default(), |_, _, _| ());
        let start = Instant::now();
        let wait = |at: Instant, app: &str| f.order_query_at(app, at).map_err(|e| e.retry_after);
        for i in 0..10 {
            assert_eq!(wait(start + Duration::from_millis(i * 10), "app"), Ok(()));
        }
        assert_eq!(
            wait(start + Duration::from_millis(500), "app"),
            Err(Some(1))
        );
        assert_eq!(wait(start, "other"), Ok(()));
        assert_eq!(wait(start + Duration::from_millis(1000), "app"), Ok(()));
    }
}
