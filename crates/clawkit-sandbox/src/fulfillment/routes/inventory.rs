//! Stock: rows listed and summed per SKU, adjustments, and reservations held all lines or none
//! (409 `insufficient_ats`), lapsing at `expires_at` (24 hours at most; a later one is cut to 24
//! hours) or released, their stock given back.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use openclaw_fulfillment_api::types::{self, ReservationStatus};

use crate::fulfillment::error::{ApiError, answer};
use crate::fulfillment::model::stock::{
    AdjustmentRequest, MAX_HOLD_MS, Reservation, ReservationRequest, Stock, pairs, sku_inventory,
};
use crate::fulfillment::read::{Listing, Query, json_body, segment};
use crate::fulfillment::state::Fulfillment;

/// `GET /v2.1/inventory`: one page of rows, oldest update first.
pub(crate) async fn list(
    State(f): State<Arc<Fulfillment>>,
    uri: Uri,
) -> Result<Response, ApiError> {
    let query = Query::parse(uri.query())?;
    let warehouse = query.text("warehouse_code");
    let sku = query.text("sku");
    let listing = Listing::read(&query)?;
    let page = f.with(|inner, _| {
        let rows = inner
            .stock
            .iter()
            .filter(|((s, w), _)| warehouse.is_none_or(|x| x == w) && sku.is_none_or(|x| x == s))
            .map(|((s, w), row)| (row.updated(), format!("{s}\n{w}"), row.level(s, w)));
        listing.page(rows)
    });
    Ok(answer(StatusCode::OK, &types::InventoryPage::from(page)))
}

/// `GET /v2.1/inventory/skus/{sku}`: totals over the (selected) warehouses and their rows.
pub(crate) async fn get(
    State(f): State<Arc<Fulfillment>>,
    sku: Result<Path<String>, PathRejection>,
    uri: Uri,
) -> Result<Response, ApiError> {
    let sku = segment(sku, "SKU")?;
    // This operation documents no 400: a query it cannot read selects no warehouse.
    let query = Query::parse(uri.query()).map_err(|_| ApiError::not_found("warehouse", "?"))?;
    let warehouse = query.text("warehouse_code").map(str::to_string);
    f.with(|inner, _| {
        let rows: Vec<(&str, &Stock)> = inner
            .stock
            .iter()
            .filter(|((s, w), _)| *s == sku && warehouse.as_ref().is_none_or(|x| x == w))
            .map(|((_, w), row)| (w.as_str(), row))
            .collect();
        if rows.is_empty() {
            return Err(match &warehouse {
                Some(w) if inner.knows_sku(&sku) => {
                    ApiError::not_found("stock of SKU", &format!("{sku} in warehouse {w}"))
                }
                _ => ApiError::not_found("SKU", &sku),
            });
        }
        Ok(answer(StatusCode::OK, &sku_inventory(&sku, &rows)))
    })
}

/// `POST /v2.1/inventory/adjustments`: 201 `InventoryAdjustment`. A SKU new to a known warehouse
/// gets a row (a first stocktake); an unknown warehouse is 404; a change that would leave
/// `on_hand` or `safety_stock` below 0 is 400 naming `quantity`.
pub(crate) async fn adjust(
    State(f): State<Arc<Fulfillment>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: AdjustmentRequest = json_body(&body)?;
    let id = f.short_id("adj_");
    f.with(|inner, now| {
        let (sku, warehouse) = request.row();
        if inner.warehouse(warehouse).is_none() {
            return Err(ApiError::not_found("warehouse", warehouse));
        }
        let key = (sku.to_string(), warehouse.to_string());
        let on_hand = inner.stock.get(&key).map_or(0, Stock::on_hand);
        let change = request.change(on_hand)?;
        let level = inner.change_stock(sku, warehouse, now, change);
        inner.allocate_waiting(now);
        let body = request.wire(id, now, level);
        Ok(answer(StatusCode::CREATED, &body))
    })
}

/// `POST /v2.1/inventory/reservations`: 201 `Reservation`, every line held or none (409
/// `insufficient_ats`); 404 for an unknown warehouse or SKU; 400 naming `expires_at` when it is
/// not in the future.
pub(crate) async fn reserve(
    State(f): State<Arc<Fulfillment>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: ReservationRequest = json_body(&body)?;
    let id = f.short_id("rsv_");
    let reservation = f.with(|inner, now| {
        let warehouse = &request.warehouse_code;
        if inner.warehouse(warehouse).is_none() {
            return Err(ApiError::not_found("warehouse", warehouse));
        }
        if let Some(unknown) = request.lines.iter().find(|l| !inner.knows_sku(&l.sku)) {
            return Err(ApiError::not_found("SKU", &unknown.sku));
        }
        let expires = match request.expires_at {
            None => now + MAX_HOLD_MS,
            Some(at) if at.ms() <= now => {
                return Err(ApiError::invalid(
                    "expires_at",
                    format!("{} is not in the future", at.text()),
                ));
            }
            Some(at) => at.ms().min(now + MAX_HOLD_MS),
        };
        let lines = pairs(&request.lines);
        inner
            .hold(warehouse, &lines, now)
            .map_err(|short| short.error(warehouse))?;
        let reservation = Reservation {
            id: id.clone(),
            warehouse: warehouse.clone(),
            order_no: request.order_no.clone(),
            status: ReservationStatus::Active,
            lines,
            expires,
            created: now,
            updated: now,
        };
        inner.reservations.insert(id.clone(), reservation.clone());
        Ok(reservation)
    })?;
    // Lapse on time, so that `inventory.changed` goes out without waiting for a request.
    f.wake_at(reservation.expires);
    Ok(answer(StatusCode::CREATED, &reservation.body()))
}

/// `POST /v2.1/inventory/reservations/{reservation_id}/release`: 200 `Reservation` (status
/// `released`, stock given back); 409 unless it is active.
pub(crate) async fn release(
    State(f): State<Arc<Fulfillment>>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let id = segment(id, "reservation")?;
    f.with(|inner, now| {
        let Some(r) = inner.reservations.get_mut(&id) else {
            return Err(ApiError::not_found("reservation", &id));
        };
        if r.status != ReservationStatus::Active {
            return Err(ApiError::conflict(
                "conflict",
                format!("Reservation {id} is {}, not active", r.status),
            ));
        }
        r.status = ReservationStatus::Released;
        r.updated = now;
        let (warehouse, lines, body) = (r.warehouse.clone(), r.lines.clone(), r.body());
        inner.unhold(&warehouse, &lines, now);
        inner.allocate_waiting(now);
        Ok(answer(StatusCode::OK, &body))
    })
}
