//! The route handlers, one file per area of the spec (its tags), over the state and its
//! operations; the signature check and the token calls are routes too.

pub(crate) mod files;
pub(crate) mod inventory;
pub(crate) mod orders;
pub(crate) mod returns;
pub(crate) mod shipping;
pub(crate) mod signature;
pub(crate) mod tokens;
pub(crate) mod webhooks;
