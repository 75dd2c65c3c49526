//! The fulfillment model: the entities, the request bodies they are made from and their answer
//! bodies (the generated `openclaw-fulfillment-api` types), with the rules that need nothing but
//! the entity itself. Nothing here knows the state that holds them.

pub(crate) mod labels;
pub(crate) mod orders;
pub(crate) mod parcels;
pub(crate) mod returns;
pub(crate) mod stock;
pub(crate) mod tokens;
pub(crate) mod webhooks;
