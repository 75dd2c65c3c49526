//! Returns (RMA, 退货入库): created for a `shipped` or `delivered` order, then moving one state
//! per logistics step on their own (`ops::returns`), listed and read.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use openclaw_fulfillment_api::types::{self, ReturnStatus};

use crate::fulfillment::error::{ApiError, answer};
use crate::fulfillment::model::returns::{CreateReturnRequest, STATUSES};
use crate::fulfillment::read::{Listing, Query, json_body, segment};
use crate::fulfillment::state::Fulfillment;

/// `POST /v2.1/returns`: 201 `Return` (`requested`); 404 for an unknown order or warehouse; 409
/// `invalid_order_state` unless the order is shipped or delivered, `conflict` for quantities
/// above what was shipped and not yet returned.
pub(crate) async fn create(
    State(f): State<Arc<Fulfillment>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: CreateReturnRequest = json_body(&body)?;
    let opened = f.with(|inner, now| inner.open_return(&request, now))?;
    f.follow_return(opened.rma.clone());
    Ok(answer(StatusCode::CREATED, &opened.wire()))
}

/// `GET /v2.1/returns`: one page, oldest update first.
pub(crate) async fn list(
    State(f): State<Arc<Fulfillment>>,
    uri: Uri,
) -> Result<Response, ApiError> {
    let query = Query::parse(uri.query())?;
    let status: Option<ReturnStatus> = query.choice("status", &STATUSES)?;
    let order_no = query.text("order_no");
    let listing = Listing::read(&query)?;
    let page = f.with(|inner, _| {
        let rows = inner
            .returns
            .values()
            .filter(|r| {
                status.is_none_or(|s| r.status == s) && order_no.is_none_or(|o| r.order_no == o)
            })
            .map(|r| (r.updated, r.rma.clone(), r.wire()));
        listing.page(rows)
    });
    Ok(answer(StatusCode::OK, &types::ReturnPage::from(page)))
}

/// `GET /v2.1/returns/{rma_no}`.
pub(crate) async fn get(
    State(f): State<Arc<Fulfillment>>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let rma = segment(path, "return")?;
    f.with(|inner, _| match inner.returns.get(&rma) {
        Some(r) => Ok(answer(StatusCode::OK, &r.wire())),
        None => Err(ApiError::not_found("return", &rma)),
    })
}
