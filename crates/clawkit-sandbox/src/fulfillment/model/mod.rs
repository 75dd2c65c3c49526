//! The fulfillment model: the entities, the request bodies they are made from and their answer
//! bodies (the generated `openclaw-fulfillment-api` types), with the rules that need nothing but
//! the entity itself. Nothing here knows the state that holds them.

pub(in crate::fulfillment) mod labels;
pub(in crate::fulfillment) mod orders;
pub(in crate::fulfillment) mod parcels;
pub(in crate::fulfillment) mod returns;
pub(in crate::fulfillment) mod stock;
pub(in crate::fulfillment) mod tokens;
pub(in crate::fulfillment) mod webhooks;
