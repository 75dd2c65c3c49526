//! The DevOps routes, on top of the folder: one file per area of the spec's tags, each handler
//! reading its request, checking the caller's role and answering from the state. `gate` holds
//! the rate-limit middlewares every route is behind.

pub(crate) mod agents;
pub(crate) mod auth;
pub(crate) mod builds;
pub(crate) mod deployments;
pub(crate) mod gate;
pub(crate) mod projects;
pub(crate) mod tasks;
pub(crate) mod test_runs;
pub(crate) mod users;
pub(crate) mod webhooks;
