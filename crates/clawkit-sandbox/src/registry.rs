//! The vendors the sandbox serves, listed once: a vendor is added with its folder and one line
//! here (its [`Vendor`] variant and the state that implements [`crate::vendor::Serve`]).

use crate::{bazhuayu, botswin, coreclaw, devops, fulfillment, vendor};

vendor::registry! {
    /// CoreClaw, under `/coreclaw` (API v1 and v2).
    Coreclaw = coreclaw::CoreClaw,
    /// Bazhuayu DataAPI, under `/bazhuayu`.
    Bazhuayu = bazhuayu::Bazhuayu,
    /// OpenClaw DevOps v2, under `/openclaw-devops`.
    OpenclawDevops = devops::Devops,
    /// OpenClaw fulfillment, under `/openclaw-fulfillment`.
    OpenclawFulfillment = fulfillment::Fulfillment,
    /// bots.win, under `/botswin`.
    Botswin = botswin::Botswin,
}
