//! The one call path every vendor uses: a generated call made afresh on every attempt (so the
//! runtime's hooks authorize, sign and limit each one), the answer read, the vendor's error found
//! wherever it was sent (a documented error body, an undocumented body, or in-band in a success
//! body's envelope), classified, and retried as the operation's [`Safety`] allows.
//!
//! A vendor's client implements [`Calls`] once: its generated client and runtime, the error body
//! its operations document, and [`Calls::refusal`], how a JSON body holding its error becomes its
//! [`ApiError`]. Vendors whose success bodies are envelopes with an in-band error (Bazhuayu's
//! `error` other than `success`, CoreClaw's `code` other than 0) say so with [`Reply`].

use std::future::Future;

use clawkit_runtime::reply::{self, Answer, Head, Sent};
use clawkit_runtime::{Runtime, Safety, TransportError, TransportKind};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{ApiError, ServiceError, Vocabulary};

/// The success bodies of a vendor without an envelope: each is its own data.
pub(crate) enum Plain {}

/// A success body of a generated client, read with the envelope `K` of its vendor: the data it
/// holds, or the vendor's error sent in-band with a success status.
pub(crate) trait Reply<K>: DeserializeOwned {
    /// What the call returns.
    type Data;
    /// The data, or the envelope's error fields as JSON (for [`Calls::refusal`]).
    fn open(self) -> Result<Self::Data, Value>;
}

impl<T: DeserializeOwned> Reply<Plain> for T {
    type Data = T;
    fn open(self) -> Result<T, Value> {
        Ok(self)
    }
}

/// A vendor client that calls a generated client through a runtime; see the module docs.
pub(crate) trait Calls {
    /// The vendor's vocabulary (its errors are `ServiceError<Self::Reason>`).
    type Reason: Vocabulary;
    /// The generated client.
    type Api;
    /// The error body its operations document.
    type Body: DeserializeOwned + Serialize;
    /// How its success bodies are read: [`Plain`], or the vendor's envelope.
    type Envelope;

    /// The runtime whose retry policy the calls follow.
    fn runtime(&self) -> &Runtime;

    /// The generated client.
    fn api(&self) -> &Self::Api;

    /// The vendor's error in a JSON body of an answer with head `head`, if the body holds one.
    fn refusal(head: &Head, body: Value) -> Option<ApiError<Self::Reason>>;

    /// One call: every attempt is made afresh by `request`, retried as `safety` allows; `what`
    /// names it in the logs.
    async fn call<'a, R, F, Fut>(
        &'a self,
        what: &str,
        safety: Safety,
        request: F,
    ) -> Result<R::Data, ServiceError<Self::Reason>>
    where
        R: Reply<Self::Envelope>,
        F: Fn(&'a Self::Api) -> Fut,
        Fut: Future<Output = Sent<R, Self::Body>> + 'a,
    {
        let api = self.api();
        let attempt = || async { open::<Self, R>(request(api).await).await };
        self.runtime().call(what, safety, attempt).await
    }
}

/// What one attempt returned, as data or the vendor's error.
async fn open<C, R>(sent: Sent<R, C::Body>) -> Result<R::Data, ServiceError<C::Reason>>
where
    C: Calls + ?Sized,
    R: Reply<C::Envelope>,
{
    match reply::answer::<_, _, ServiceError<C::Reason>>(sent).await? {
        Answer::Ok(head, reply) => reply.open().map_err(|fields| refused::<C>(&head, fields)),
        Answer::Documented(head, body) => Err(match serde_json::to_value(&body) {
            Ok(body) => refused::<C>(&head, body),
            Err(e) => {
                TransportError::new(TransportKind::Status, Some(head.status), e.to_string()).into()
            }
        }),
        Answer::Undocumented(head, bytes) => Err(undocumented::<C, R>(&head, &bytes)),
    }
}

/// The error of a body that is not what the spec documents for its status: the vendor's error
/// when the body holds one, else what the runtime makes of it (truncated, not JSON, a field of
/// the wrong shape).
pub(crate) fn undocumented<C, R>(head: &Head, bytes: &[u8]) -> ServiceError<C::Reason>
where
    C: Calls + ?Sized,
    R: DeserializeOwned,
{
    let found = serde_json::from_slice::<Value>(bytes)
        .ok()
        .and_then(|body| C::refusal(head, body));
    match found {
        Some(api) => api.into(),
        None => reply::undocumented::<R, _>(head, bytes),
    }
}

/// The vendor's error in a body that should hold one; a body without it is a transport error
/// with the body's `message` (or its text).
fn refused<C: Calls + ?Sized>(head: &Head, body: Value) -> ServiceError<C::Reason> {
    let message = match body.get("message").and_then(Value::as_str) {
        Some(message) => message.to_string(),
        None => clawkit_runtime::error::snippet(body.to_string().as_bytes()),
    };
    match C::refusal(head, body) {
        Some(api) => api.into(),
        None => TransportError::new(TransportKind::Status, Some(head.status), message).into(),
    }
}

/// A vendor's client declared once: `impl Service` with its identity (name, title, environment
/// prefix), its own settings and the function that builds it, its errors speaking `reason`
/// (`impl Vocabulary`), and its `Debug`, which shows its `inner.base_url`, never its
/// credentials.
///
/// `service!(Client: "name", "Title", "PREFIX", Options, Reason, build);`
macro_rules! service {
    ($client:ident: $name:literal, $title:literal, $env:literal, $options:ty, $reason:ty, $build:path) => {
        impl $crate::client::Service for $client {
            const NAME: &'static str = $name;
            const TITLE: &'static str = $title;
            const ENV_PREFIX: &'static str = $env;
            type Error = $crate::error::ServiceError<$reason>;
            type Options = $options;

            fn build(
                config: clawkit_runtime::ClientConfig,
                options: $options,
            ) -> Result<Self, Self::Error> {
                $build(config, options)
            }
        }

        impl $crate::error::Vocabulary for $reason {
            type Service = $client;
        }

        impl std::fmt::Debug for $client {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                $crate::client::debug_client(f, &self.inner.base_url)
            }
        }
    };
}
pub(crate) use service;

/// `impl Calls` for a vendor client whose generated client and runtime are the fields `api` and
/// `runtime` of `self` (or of `self.inner`): its reasons, generated client, documented error body,
/// envelope and the function that finds its error in a body.
///
/// `calls!(Client.inner: Reason, generated::Client, types::Error, Plain, refusal);`
macro_rules! calls {
    ($client:ident $(. $inner:ident)?: $reason:ty, $api:ty, $body:ty, $envelope:ty, $refusal:path) => {
        impl $crate::call::Calls for $client {
            type Reason = $reason;
            type Api = $api;
            type Body = $body;
            type Envelope = $envelope;

            fn runtime(&self) -> &clawkit_runtime::Runtime {
                &self$(.$inner)?.runtime
            }

            fn api(&self) -> &$api {
                &self$(.$inner)?.api
            }

            fn refusal(
                head: &clawkit_runtime::reply::Head,
                body: serde_json::Value,
            ) -> Option<$crate::error::ApiError<$reason>> {
                $refusal(head, body)
            }
        }
    };
}
pub(crate) use calls;
