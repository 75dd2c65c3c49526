//! The DevOps model, at the bottom of the folder: each resource's entity, how it changes over
//! time, and its answers as the spec's generated types (`openclaw_devops_api::types`). Nothing
//! here knows the state, the routes or a request.

pub(crate) mod agents;
pub(crate) mod builds;
pub(crate) mod deployments;
pub(crate) mod ids;
pub(crate) mod projects;
pub(crate) mod test_runs;
pub(crate) mod users;
pub(crate) mod webhooks;
pub(crate) mod wire;
