//! CoreClaw under `/coreclaw`: two APIs over one state. v1 ([`v1`], true to specs/coreclaw, the
//! guide and CoreClaw's docs) takes the `api-key` header and answers `{code, message, data}`; v2
//! ([`v2`], true to specs/coreclaw-v2, under `/api/v2`) takes a Bearer token (or `?token=`) and
//! answers `{code, message, request_id}`. Where a spec and the guide disagree the sandbox answers
//! as the spec says and also accepts the documented alternative (`page` beside `page_index`, GET
//! beside POST for account info).
//!
//! The folder is layered, each file importing only from the layers below it:
//! - the model: [`worker`] (a Worker, its input and its items), [`runs`] (a run and the
//!   account), [`task`], [`export`] (the files), [`validate`] (a start, checked), `error.rs` (the
//!   operations' error in CoreClaw's codes) and the seed data in [`catalog`];
//! - the state (`state.rs`: settings, the one `CoreClaw` both APIs share) and what both APIs do
//!   to it (`ops.rs`, `launch.rs`, `billing.rs`, `logs.rs`, `webhook.rs`);
//! - the two APIs on top, each its routes, its request reading and its envelope.
//!
//! Answers are built from the generated `coreclaw-api` and `coreclaw-v2-api` types, so the
//! sandbox and the client cannot disagree silently.

mod billing;
pub mod catalog;
mod error;
pub mod export;
mod launch;
mod logs;
mod ops;
pub mod runs;
mod state;
mod task;
mod v1;
mod v2;
pub mod validate;
mod webhook;
pub mod worker;

use std::sync::Arc;

use crate::vendor::{self, Common, Serve, Serving, Settings};

pub use error::ApiError;
pub use state::{API_KEY, Config, CoreClaw, Inner};
pub use task::Task;
pub use v1::envelope::ok;

/// CoreClaw's command-line flags.
#[derive(Debug, Clone, clap::Args)]
#[group(skip)]
pub struct Flags {
    /// Seconds a CoreClaw run takes from start to its final status.
    #[arg(long, default_value_t = 3.0)]
    pub run_seconds: f64,
    /// CoreClaw account balance at start, in USD.
    #[arg(long, default_value_t = 100.0)]
    pub balance: f64,
}

/// CoreClaw serves v1 (everything outside `/api/v2`) and v2 over one state.
impl Serve for CoreClaw {
    type Config = Config;
    const NAME: &'static str = "coreclaw";

    /// v1 and v2 over one state.
    fn start(config: Config, common: &Common) -> Serving<Self> {
        let base_url = format!("{}/{}", common.root, Self::NAME);
        let state = CoreClaw::new(Config { base_url, ..config });
        Serving {
            apis: vec![
                Arc::new(v1::V1::new(state.clone())),
                Arc::new(v2::V2::new(state.clone())),
            ],
            state,
        }
    }
}

impl Settings for Config {
    type Flags = Flags;

    fn seed(&mut self) -> Option<&mut u64> {
        Some(&mut self.seed)
    }

    fn apply(&mut self, flags: Flags) -> Result<(), String> {
        self.run_duration = vendor::seconds("--run-seconds", flags.run_seconds)?;
        self.initial_balance(flags.balance);
        Ok(())
    }
}
