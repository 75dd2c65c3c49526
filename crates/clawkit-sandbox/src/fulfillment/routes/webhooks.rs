//! Webhook subscriptions: registered (400 naming `url` for a receiver URL it cannot take; the
//! same URL with an event it already has is 409; a disabled subscription of the URL is
//! replaced), listed oldest first, deleted (its deliveries under way stop).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use openclaw_fulfillment_api::types;

use crate::fulfillment::error::{ApiError, answer};
use crate::fulfillment::model::webhooks::{CreateWebhookRequest, Subscription, refuse_url};
use crate::fulfillment::read::{json_body, segment};
use crate::fulfillment::state::Fulfillment;
use crate::kit::delivery::Failures;

/// `POST /v2.1/webhooks`: 201 `Webhook`; 400 naming `url`; 409 when the URL already has one of
/// the events (a disabled subscription of the URL is replaced).
pub(crate) async fn create(
    State(f): State<Arc<Fulfillment>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: CreateWebhookRequest = json_body(&body)?;
    if let Some(why) = refuse_url(&request.url) {
        return Err(ApiError::invalid("url", why));
    }
    let unique = request.unique_events();
    let id = f.short_id("wh_");
    f.with(|inner, now| {
        if let Some(taken) = inner.webhooks.iter().find(|w| {
            w.active && w.url == request.url && w.events.iter().any(|e| unique.contains(e))
        }) {
            return Err(ApiError::conflict(
                "conflict",
                format!(
                    "{} already receives some of these events as {}",
                    request.url, taken.id
                ),
            ));
        }
        inner.webhooks.retain(|w| w.active || w.url != request.url);
        let subscription = Subscription {
            id,
            url: request.url.clone(),
            events: unique,
            active: true,
            created: now,
            failures: Failures::default(),
        };
        let body = subscription.wire();
        inner.webhooks.push(subscription);
        Ok(answer(StatusCode::CREATED, &body))
    })
}

/// `GET /v2.1/webhooks`: `{"items": [...]}`, oldest first.
pub(crate) async fn list(State(f): State<Arc<Fulfillment>>) -> Response {
    let items = f.with(|inner, _| inner.webhooks.iter().map(Subscription::wire).collect());
    answer(StatusCode::OK, &types::WebhookList { items })
}

/// `DELETE /v2.1/webhooks/{webhook_id}`: 204; its deliveries under way stop.
pub(crate) async fn delete(
    State(f): State<Arc<Fulfillment>>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let id = segment(path, "webhook")?;
    f.with(|inner, _| {
        let before = inner.webhooks.len();
        inner.webhooks.retain(|w| w.id != id);
        if inner.webhooks.len() == before {
            return Err(ApiError::not_found("webhook", &id));
        }
        Ok(StatusCode::NO_CONTENT.into_response())
    })
}
