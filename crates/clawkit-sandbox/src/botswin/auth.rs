//! The bots.win credential: one user token, the REST calls' bearer token and the browser
//! endpoint's `token` parameter.

use axum::http::HeaderMap;

use crate::kit::tokens::{bearer, same};

/// The user token the sandbox accepts: the REST bearer token and the browser endpoint's `token`.
pub const TOKEN: &str = "sandbox-token";

/// Whether `headers` carry `Authorization: Bearer <TOKEN>` (the scheme in any case, spaces around
/// the token allowed).
pub(super) fn accepts(headers: &HeaderMap) -> bool {
    bearer(headers).is_ok_and(|token| same(token, TOKEN))
}
