//! The rate-limit middlewares in front of every route, which put the four rate-limit headers on
//! every answer: the public routes' (`/auth/*`: the account is the body's `username` or
//! `client_id`, a refresh token's owner, else `anonymous`) and the protected ones' (the token's
//! `name`). A 401 of the credential check is counted and labelled against the `anonymous`
//! account ([`Devops::refuse`]).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::devops::auth::ANONYMOUS;
use crate::devops::error::ApiError;
use crate::devops::state::Devops;
use crate::vendor::read_body;

/// The largest body the auth middleware reads to find the account (the routes' own limit).
const BODY_LIMIT: usize = 2 * 1024 * 1024;

impl Devops {
    /// 401 `UNAUTHORIZED` with `reason`, counted against the `anonymous` account's limits (429
    /// when they are spent).
    pub(crate) fn refuse(&self, reason: &'static str) -> Response {
        match self.admit(ANONYMOUS) {
            Err(refused) => refused.response(),
            Ok(admission) => {
                self.stats.requests.fetch_add(1, Ordering::Relaxed);
                admission
                    .quota
                    .on(ApiError::unauthorized(reason).into_response())
            }
        }
    }
}

/// Runs `request` as one of `account`'s (or answers 429) and labels the answer.
async fn limited(devops: &Devops, account: &str, request: Request, next: Next) -> Response {
    match devops.admit(account) {
        Err(refused) => refused.response(),
        Ok(admission) => {
            devops.stats.requests.fetch_add(1, Ordering::Relaxed);
            let response = next.run(request).await;
            let quota = admission.quota;
            drop(admission);
            quota.on(response)
        }
    }
}

/// The middleware of the public routes (`/auth/*`): the account is read from the body.
pub(crate) async fn public(
    State(devops): State<Arc<Devops>>,
    request: Request,
    next: Next,
) -> Response {
    let Some((request, bytes)) = read_body(request, BODY_LIMIT).await else {
        let quota = match devops.admit(ANONYMOUS) {
            Ok(admission) => admission.quota,
            Err(refused) => return refused.response(),
        };
        return quota.on(ApiError::body("请求体过大或无法读取").into_response());
    };
    let account = devops.account_of_auth_body(&bytes);
    limited(&devops, &account, request, next).await
}

/// The middleware of the protected routes, inside [`crate::vendor::require`]: the account is the
/// token's, and the handlers find the [`crate::devops::rbac::Caller`] in the request's
/// extensions.
pub(crate) async fn protected(
    State(devops): State<Arc<Devops>>,
    mut request: Request,
    next: Next,
) -> Response {
    let caller = match devops.verify(request.headers()) {
        Ok(caller) => caller,
        // `authorize` let it in a moment ago; it expired in between.
        Err(reason) => return devops.refuse(reason),
    };
    let account = caller.account.clone();
    request.extensions_mut().insert(caller);
    limited(&devops, &account, request, next).await
}
