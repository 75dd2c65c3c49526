//! OpenClaw fulfillment (龙虾) API v2.1: orders from the sales channels, inventory as
//! available-to-sell (ATS), shipping labels, logistics tracking, returns and signed webhooks.
//!
//! - **Every request is signed** ([`signing`]): HMAC-SHA256 over method, target, timestamp,
//!   nonce and body hash, made by the runtime's request hook over the exact bytes sent, again on
//!   every retry. The server's clock is learned from its `Date` header, and a request refused
//!   with `timestamp_out_of_range` is signed again with it once.
//! - **Tokens**: the app's client credentials exchanged for a 2-hour access token, fetched lazily,
//!   renewed with the single-use refresh token before it expires; a 401 renews once and replays.
//! - **Order queries** (`list_orders`, `get_order`) are spaced to 9.7 a second on the client,
//!   under the service's 10, so the production limit is not hit; a 429 is still obeyed
//!   (`Retry-After`) and retried.
//! - **Times** are `chrono::DateTime<FixedOffset>` everywhere: a time without an offset cannot be
//!   sent. **Identifiers** (order numbers such as `#1001&A`, SKUs) are percent-encoded by the
//!   client, every reserved byte of them.
//! - **Lists** are cursor streams ([`Paged`](crate::Paged)): every item once, resumable.
//! - **Stock** ([`Hold`]): reserve, then turn the hold into the order or release it; a hold
//!   dropped without either is released, so stock is never left held by a failed checkout.
//! - **Webhooks** ([`webhook`]): signatures against several secrets, a timestamp tolerance,
//!   de-duplication by `X-OpenClaw-Request-ID`, and a ready axum receiver (feature
//!   `webhook-server`) that acknowledges at once and queues the event for your handler.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let sandbox = clawkit_sandbox::Sandbox::builder().start().await?;
//! # let base_url = sandbox.base_url(clawkit_sandbox::Vendor::OpenclawFulfillment);
//! use clawkit::fulfillment::{Client, OrderFilter, types::OrderStatus};
//! use futures::TryStreamExt;
//!
//! let client = Client::builder()
//!     .app("sandbox-client", "cs_sandbox_5f2b9c7e4d1a")
//!     .base_url(&base_url)
//!     .build()?;
//! let since = chrono::DateTime::parse_from_rfc3339("2024-01-01T00:00:00+08:00")?;
//! let orders: Vec<_> = client
//!     .orders(OrderFilter::new().updated_from(since))
//!     .try_collect()
//!     .await?;
//! let order = client.order(&orders[0].order_no).await?;
//! assert_eq!(order.order_no, orders[0].order_no);
//! # Ok(())
//! # }
//! ```

mod client;
pub mod error;
mod labels;
mod orders;
mod returns;
pub mod signing;
mod stock;
mod token;
pub mod webhook;

pub use client::{Client, ClientBuilder, DEFAULT_BASE_URL, ORDER_QUERIES, Options};
pub use error::{ApiError, Error, Flow, Reason};
pub use openclaw_fulfillment_api::types;
pub use orders::OrderFilter;
pub use returns::ReturnFilter;
pub use stock::{Hold, InventoryFilter};
