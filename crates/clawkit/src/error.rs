//! The one error shape every vendor shares, and the top-level [`Error`].
//!
//! A vendor's error is [`ServiceError<Reason>`](ServiceError): the service's error answer
//! ([`ApiError`]: status, reason, the code and message as sent, request id, `Retry-After`, field
//! problems and the body), a transport or decoding failure, a setting or argument refused before
//! anything was sent, or one of the vendor's own flow failures. Each vendor only chooses its
//! vocabulary: the list of its codes (a `reasons!` list), what each means to a program (its
//! [`Verdict`]), how its error answers read, and what its flows can fail at.

use std::fmt;
use std::time::Duration;

use clawkit_runtime::{Classify, ConfigError, ErrorKind, TransportError, Verdict};
use serde::Deserialize;
use serde_json::Value;

use crate::client::Service;

/// One field an error answer names: what is wrong with it, in the service's words, and the
/// service's machine code for it when it sends one (`min_length`, ...).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct FieldProblem {
    /// The field, e.g. `email`.
    pub field: String,
    /// What is wrong (`message`, or `reason` as some services spell it).
    #[serde(alias = "reason")]
    pub message: String,
    /// The service's code for it (empty when it sends none).
    #[serde(default)]
    pub code: String,
}

/// Where a vendor's error body keeps its fields, as JSON pointers (`/error/code`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ErrorBody<'a> {
    /// The code: a string, or a number.
    pub(crate) code: &'a str,
    /// The message: the first of these that is there.
    pub(crate) message: &'a [&'a str],
    /// The request id, if the body has one.
    pub(crate) request_id: Option<&'a str>,
    /// The list of field problems (`{field, message or reason, code}`), if the body has one.
    pub(crate) fields: Option<&'a str>,
}

/// An error answer of a service, the same shape for every vendor: `R` is the vendor's list of
/// what its codes mean (its `Reason`), and a code the list does not know is kept as sent.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ApiError<R> {
    /// HTTP status.
    pub status: u16,
    /// What `code` means (`Unlisted` for a code the vendor's list does not know).
    pub reason: R,
    /// The error code as sent.
    pub code: String,
    /// The human-readable message as sent (empty when there was none).
    pub message: String,
    /// The request id to quote to the vendor's support, when the answer gave one.
    pub request_id: Option<String>,
    /// `Retry-After`, when the answer asked for a wait.
    pub retry_after: Option<Duration>,
    /// The fields the answer names (a validation error's field list).
    pub fields: Vec<FieldProblem>,
    /// The error body as sent.
    pub body: Value,
}

impl<R: Reasons> ApiError<R> {
    /// An error answer of status `status` with `code` and `message`; its reason is the code's (or
    /// the status's) in the vendor's list.
    pub fn new(status: u16, code: impl Into<String>, message: impl Into<String>) -> Self {
        let code = code.into();
        ApiError {
            status,
            reason: R::of(status, &code),
            code,
            message: message.into(),
            request_id: None,
            retry_after: None,
            fields: Vec::new(),
            body: Value::Null,
        }
    }

    /// The error of an answer (its status and `Retry-After`: a wait of 0 asks for none) with
    /// `code` and `message` read from `body`, which is kept.
    pub fn answered(
        head: &clawkit_runtime::reply::Head,
        code: impl Into<String>,
        message: impl Into<String>,
        body: Value,
    ) -> Self {
        ApiError {
            retry_after: head.retry_after().filter(|d| !d.is_zero()),
            body,
            ..Self::new(head.status, code, message)
        }
    }
}

impl<R: Reasons> ApiError<R> {
    /// The error in `body`, an answer with head `head`, whose fields are where `at` says; `None`
    /// when the body has no code there.
    pub(crate) fn read(
        head: &clawkit_runtime::reply::Head,
        body: Value,
        at: ErrorBody<'_>,
    ) -> Option<Self> {
        let code = match body.pointer(at.code)? {
            Value::String(code) => code.clone(),
            Value::Number(code) => code.to_string(),
            _ => return None,
        };
        let text = |pointer: &str| body.pointer(pointer).and_then(Value::as_str);
        let message = at.message.iter().find_map(|p| text(p)).unwrap_or_default();
        let request_id = at.request_id.and_then(text).map(str::to_string);
        let fields = at
            .fields
            .and_then(|p| body.pointer(p))
            .and_then(|f| Vec::<FieldProblem>::deserialize(f).ok())
            .unwrap_or_default();
        let message = message.to_string();
        Some(
            Self::answered(head, code, message, body)
                .with_request_id(request_id)
                .with_fields(fields),
        )
    }
}

impl<R> ApiError<R> {
    /// The same error with the request id the answer gave.
    pub fn with_request_id(mut self, request_id: Option<String>) -> Self {
        self.request_id = request_id;
        self
    }

    /// The same error with the fields the answer names.
    pub fn with_fields(mut self, fields: Vec<FieldProblem>) -> Self {
        self.fields = fields;
        self
    }

    /// The same error with a `Retry-After`.
    pub fn with_retry_after(mut self, retry_after: Option<Duration>) -> Self {
        self.retry_after = retry_after;
        self
    }

    /// What the answer says is wrong with field `name`, if it names it.
    pub fn field(&self, name: &str) -> Option<&FieldProblem> {
        self.fields.iter().find(|f| f.field == name)
    }
}

impl<R: Vocabulary> fmt::Display for ApiError<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        R::describe(self, <R::Service as Service>::TITLE, f)
    }
}

/// A vendor's list of what its error codes mean, made by a `reasons!` list: the reason of a code (or
/// of a status the list names), the verdict a program acts on, how an error answer reads, and
/// what the vendor's own flows can fail at.
pub trait Reasons: Copy + Eq + std::hash::Hash + fmt::Debug + Send + Sync + 'static {
    /// What the vendor's own flows (waits, exports, sessions, webhooks) can fail at.
    type Flow: std::error::Error + Classify + Send + Sync + 'static;
    /// The reason of an error answer with this status and code (`Unlisted` when the list names
    /// neither).
    fn of(status: u16, code: &str) -> Self;
    /// What an error answer means to a program: its kind, whether to try again.
    fn verdict(api: &ApiError<Self>) -> Verdict;
    /// How an error answer reads, `service` being the vendor's title.
    fn describe(api: &ApiError<Self>, service: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result;
}

/// A vendor's reasons, tied to its client (whose [`Service`] says the vendor's name).
pub trait Vocabulary: Reasons {
    /// The vendor's client.
    type Service: Service;
}

/// An error of a vendor's client, the same shape for every vendor: `R` is the vendor's
/// vocabulary (its `Reason`). Secrets never appear in it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError<R: Vocabulary> {
    /// The service answered with its error (after the retries that were safe).
    #[error("{0}")]
    Api(Box<ApiError<R>>),
    /// No usable answer: the connection failed, the answer broke off or ended early, or an HTTP
    /// answer came without the service's error body.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// An answer that is not the documented shape: `path` names the field, `message` says why.
    #[error("cannot decode the response at `{path}`: {message}")]
    Decode {
        /// The field, e.g. `data.list[3].price`.
        path: String,
        /// What was wrong with it.
        message: String,
    },
    /// The client is set up wrong (credentials not given, a bad base URL).
    #[error("configuration error: {0}")]
    Config(#[from] ConfigError),
    /// An argument was refused before anything was sent; the message starts with its name.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// One of the vendor's own flows failed (a wait gave up, an export's sink failed, ...).
    #[error(transparent)]
    Flow(R::Flow),
}

impl<R: Vocabulary> ServiceError<R> {
    /// What kind of failure this is, the same for every vendor.
    pub fn kind(&self) -> ErrorKind {
        Classify::verdict(self).kind
    }

    /// Whether the same request may succeed later.
    pub fn is_retryable(&self) -> bool {
        Classify::verdict(self).transient
    }

    /// Whether the request certainly did nothing (never sent, or refused by a rate limit), so
    /// repeating even a request that creates something cannot do it twice.
    pub fn nothing_was_done(&self) -> bool {
        Classify::verdict(self).not_processed
    }

    /// The service's error, if this is one.
    pub fn api(&self) -> Option<&ApiError<R>> {
        match self {
            ServiceError::Api(e) => Some(e),
            _ => None,
        }
    }

    /// What the service's error code means, if this is an error answer.
    pub fn reason(&self) -> Option<R> {
        self.api().map(|e| e.reason)
    }

    /// The vendor's own flow failure, if this is one.
    pub fn flow(&self) -> Option<&R::Flow> {
        match self {
            ServiceError::Flow(f) => Some(f),
            _ => None,
        }
    }
}

impl<R: Vocabulary> Classify for ServiceError<R> {
    fn verdict(&self) -> Verdict {
        match self {
            ServiceError::Api(e) => R::verdict(e),
            ServiceError::Transport(t) => t.verdict(),
            ServiceError::Flow(f) => f.verdict(),
            ServiceError::Decode { .. } => Verdict::of(ErrorKind::Transport).final_(),
            ServiceError::Config(_) => Verdict::of(ErrorKind::Config).final_(),
            ServiceError::InvalidArgument(_) => Verdict::of(ErrorKind::InvalidInput).final_(),
        }
    }
}

impl<R: Vocabulary> From<ApiError<R>> for ServiceError<R> {
    fn from(e: ApiError<R>) -> Self {
        ServiceError::Api(Box::new(e))
    }
}

/// A body of the wrong shape is the vendor's `Decode`.
impl<R: Vocabulary> From<clawkit_runtime::DecodeError> for ServiceError<R> {
    fn from(e: clawkit_runtime::DecodeError) -> Self {
        ServiceError::Decode {
            path: e.path,
            message: e.message,
        }
    }
}

/// A paging mistake is refused before sending.
impl<R: Vocabulary> From<clawkit_runtime::PagingError> for ServiceError<R> {
    fn from(e: clawkit_runtime::PagingError) -> Self {
        ServiceError::InvalidArgument(e.to_string())
    }
}

/// A request the generated client or a hook refused before sending.
impl<R: Vocabulary> From<clawkit_runtime::reply::InvalidRequest> for ServiceError<R> {
    fn from(e: clawkit_runtime::reply::InvalidRequest) -> Self {
        ServiceError::InvalidArgument(e.0)
    }
}

/// Any clawkit error, of any vendor, without naming one: what kind of failure it is, whether
/// trying again may help, which vendor it came from, and the vendor's own error
/// ([`Error::downcast_ref`]) for what only that vendor says.
///
/// ```
/// use clawkit::{ErrorKind, Error};
///
/// fn report(e: &Error) -> String {
///     match (e.service(), e.kind()) {
///         (_, ErrorKind::RateLimit) => "slow down".into(),
///         (Some(service), kind) => format!("{service} failed ({kind}): {e}"),
///         (None, kind) => format!("{kind}: {e}"),
///     }
/// }
/// # let _ = report;
/// ```
pub struct Error {
    inner: Box<dyn Erased>,
}

/// What [`Error`] keeps of a vendor's error.
trait Erased: std::error::Error + Send + Sync + 'static {
    fn verdict(&self) -> Verdict;
    fn service(&self) -> Option<(&'static str, &'static str)>;
    fn config(&self) -> Option<&ConfigError>;
    fn as_any(&self) -> &dyn std::any::Any;
}

impl<R: Vocabulary> Erased for ServiceError<R> {
    fn verdict(&self) -> Verdict {
        Classify::verdict(self)
    }
    fn service(&self) -> Option<(&'static str, &'static str)> {
        Some((
            <R::Service as Service>::NAME,
            <R::Service as Service>::TITLE,
        ))
    }
    fn config(&self) -> Option<&ConfigError> {
        match self {
            ServiceError::Config(c) => Some(c),
            _ => None,
        }
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl Erased for ConfigError {
    fn verdict(&self) -> Verdict {
        Verdict::of(ErrorKind::Config).final_()
    }
    fn service(&self) -> Option<(&'static str, &'static str)> {
        None
    }
    fn config(&self) -> Option<&ConfigError> {
        Some(self)
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// A webhook delivery refused: not proven to come from the sender (kind `Auth`), or not an event.
impl Erased for clawkit_runtime::webhook::WebhookError {
    fn verdict(&self) -> Verdict {
        Verdict::of(ErrorKind::Auth).final_()
    }
    fn service(&self) -> Option<(&'static str, &'static str)> {
        None
    }
    fn config(&self) -> Option<&ConfigError> {
        None
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl Error {
    /// What kind of failure this is, the same for every vendor.
    pub fn kind(&self) -> ErrorKind {
        self.inner.verdict().kind
    }

    /// Whether the same request may succeed later.
    pub fn is_retryable(&self) -> bool {
        self.inner.verdict().transient
    }

    /// Whether the request certainly did nothing, so repeating it cannot do it twice.
    pub fn nothing_was_done(&self) -> bool {
        self.inner.verdict().not_processed
    }

    /// The vendor it came from, as its [`Service::NAME`] says (`None` for settings refused
    /// before any vendor's client existed).
    pub fn service(&self) -> Option<&'static str> {
        self.inner.service().map(|(name, _)| name)
    }

    /// The vendor's name as messages give it ([`Service::TITLE`]).
    pub fn service_title(&self) -> Option<&'static str> {
        self.inner.service().map(|(_, title)| title)
    }

    /// The settings error, if the client was set up wrong.
    pub fn config(&self) -> Option<&ConfigError> {
        self.inner.config()
    }

    /// The vendor's own error, if it is a `T` (e.g. `clawkit::coreclaw::Error`).
    pub fn downcast_ref<T: std::error::Error + 'static>(&self) -> Option<&T> {
        self.inner.as_any().downcast_ref::<T>()
    }
}

impl Classify for Error {
    fn verdict(&self) -> Verdict {
        self.inner.verdict()
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.inner, f)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner.source()
    }
}

impl<R: Vocabulary> From<ServiceError<R>> for Error {
    fn from(e: ServiceError<R>) -> Self {
        Error { inner: Box::new(e) }
    }
}

/// Settings that cannot be used (before any vendor client exists).
impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Self {
        Error { inner: Box::new(e) }
    }
}

/// A webhook delivery refused (signature, timestamp or body): see [`crate::webhook`].
impl From<clawkit_runtime::webhook::WebhookError> for Error {
    fn from(e: clawkit_runtime::webhook::WebhookError) -> Self {
        Error { inner: Box::new(e) }
    }
}
