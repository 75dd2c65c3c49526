//! The route handlers, one file per area of the spec (its tags), over the state and its
//! operations; the signature check and the token calls are routes too.

pub(in crate::fulfillment) mod files;
pub(in crate::fulfillment) mod inventory;
pub(in crate::fulfillment) mod orders;
pub(in crate::fulfillment) mod returns;
pub(in crate::fulfillment) mod shipping;
pub(in crate::fulfillment) mod signature;
pub(in crate::fulfillment) mod tokens;
pub(in crate::fulfillment) mod webhooks;
