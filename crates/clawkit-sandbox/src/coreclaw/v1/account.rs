//! v1's account info: the balance, the traffic left and when it expires.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use coreclaw_api::types;

use super::envelope::ok;
use super::request::{fields, finish};
use crate::coreclaw::error::ApiError;
use crate::coreclaw::runs::usd;
use crate::coreclaw::state::CoreClaw;

/// Account info takes no parameters: an empty body or `{}` (the spec closes the object).
pub(super) async fn account(
    State(cc): State<Arc<CoreClaw>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let mut body = fields(&body)?;
    if let Some(key) = body.map().keys().next().cloned() {
        body.problem(key, "unknown field; send {} or no body", "invalid_value");
    }
    finish(body)?;
    let inner = cc.lock();
    let account = &inner.account;
    Ok(ok(types::AccountInfoData {
        balance: usd(account.balance_micros),
        traffic: types::AccountInfoDataTraffic::Integer(account.traffic),
        traffic_expiration_at: Some(account.traffic_expiration_at),
        traffic_expires_at: None,
    }))
}
