//! clawkit-sandbox: a local, stateful server of the clawkit vendors' APIs, with fault injection.
//!
//! Each vendor lives under its own prefix (`/coreclaw`, `/bazhuayu`, ...), so the specs' paths never
//! collide, and `GET /_sandbox/health` answers 200. Start one in-process on a random port:
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use clawkit_sandbox::{Sandbox, Vendor};
//!
//! let sandbox = Sandbox::builder().seed(7).start().await?;
//! let base = sandbox.base_url(Vendor::Coreclaw); // http://127.0.0.1:PORT/coreclaw
//! // ... point a client at `base` with the api-key `sandbox-key` ...
//! sandbox.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! Each vendor's module implements [`vendor::Serve`] once (its name, its typed settings, its
//! flags) and serves one or more [`vendor::Api`]s: public and protected routes, the credential
//! check and its own error bodies. What their servers share is written once in [`kit`]: token
//! issuing, rate limits, webhook delivery, the clock, request reading and page cuts. The vendors
//! are listed once, in `registry.rs`; nothing else outside their folders names one.
//!
//! Settings are per vendor, by type: `Sandbox::builder().configure(|c: &mut devops::Config| ..)`.
//! Faults (429, 4290, 503, latency, a reset mid-body, truncated JSON, a slow body) are set from the
//! builder or at run time with `POST /_sandbox/faults`; see [`faults`].

#![deny(missing_docs)]

pub mod faults;
pub mod kit;
mod registry;
mod sandbox;
pub mod vendor;

pub mod bazhuayu;
pub mod botswin;
pub mod coreclaw;
pub mod devops;
pub mod fulfillment;

pub use faults::{FaultKind, FaultRule};
pub use registry::{Flags, Vendor};
pub use sandbox::{Mounted, Sandbox, SandboxBuilder, Shared};
