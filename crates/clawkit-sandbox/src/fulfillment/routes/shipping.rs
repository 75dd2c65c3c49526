//! Shipping: labels (面单生成) and tracking (物流回传). `create_label` on an `allocated` order
//! assigns a tracking number, moves the order to `label_created`, starts its parcel (it moves
//! one node per logistics step, 5 s by default) and answers a signed, expiring download link
//! served here (`routes::files`).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use openclaw_fulfillment_api::types::LabelFormat;

use crate::fulfillment::error::{ApiError, answer};
use crate::fulfillment::model::labels::{
    CreateLabelRequest, LINK_TTL_MS, Label, link_token, tracking_number,
};
use crate::fulfillment::read::{json_body, order_no, segment};
use crate::fulfillment::state::{Fulfillment, NAME};

/// `POST /v2.1/orders/{order_no}/labels`: 201 `ShippingLabel`; 409 `invalid_order_state` unless
/// the order is `allocated`.
pub(crate) async fn create(
    State(f): State<Arc<Fulfillment>>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let no = order_no(path)?;
    if !f.with(|inner, _| inner.orders.contains_key(&no)) {
        return Err(ApiError::order_not_found(&no));
    }
    let request: CreateLabelRequest = json_body(&body)?;
    let format = request.label_format.unwrap_or(LabelFormat::Pdf);
    let id = f.short_id("lbl_");
    let (label, now) = f.with(|inner, now| {
        let tracking = tracking_number(&request.carrier, f.config.seed, inner.next_serial());
        inner.label_order(&no, &request.carrier, &tracking, now)?;
        let carrier = request.carrier.clone();
        let label = Label::new(id.clone(), no.clone(), carrier, tracking.clone(), format);
        inner.labels.insert(id.clone(), label.clone());
        Ok(((label, tracking), now))
    })?;
    let (label, tracking) = label;
    f.follow_parcel(tracking);
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("127.0.0.1");
    let scheme = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .filter(|p| *p == "https")
        .unwrap_or("http");
    let expires = now + LINK_TTL_MS;
    let file = label.file();
    let token = link_token(&f.link_key, &file, expires / 1000);
    let url = format!(
        "{scheme}://{host}/{NAME}/files/labels/{file}?expires={}&token={token}",
        expires / 1000
    );
    let body = label.wire(&request.service_code, url, expires, now);
    Ok(answer(StatusCode::CREATED, &body))
}

/// `GET /v2.1/orders/{order_no}/tracking`: 404 before a label exists.
pub(crate) async fn by_order(
    State(f): State<Arc<Fulfillment>>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let no = order_no(path)?;
    f.with(|inner, _| {
        let Some(order) = inner.orders.get(&no) else {
            return Err(ApiError::order_not_found(&no));
        };
        order
            .tracking
            .as_deref()
            .and_then(|t| inner.tracking(t))
            .map(|body| answer(StatusCode::OK, &body))
            .ok_or_else(|| ApiError::not_found("tracking (no label yet) of order", &no))
    })
}

/// `GET /v2.1/tracking/{tracking_number}`.
pub(crate) async fn by_number(
    State(f): State<Arc<Fulfillment>>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let tracking = segment(path, "tracking number")?;
    f.with(|inner, _| {
        inner
            .tracking(&tracking)
            .map(|body| answer(StatusCode::OK, &body))
            .ok_or_else(|| ApiError::not_found("tracking number", &tracking))
    })
}
