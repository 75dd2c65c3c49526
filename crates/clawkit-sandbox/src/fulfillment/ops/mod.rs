//! What changes the state: the operations over the resources (`state::Inner`) that span
//! entities (stock holds, allocation, parcels, returns), webhook delivery of the events they
//! queue, and `Fulfillment::with`, the one way a change is made (`changes`).

pub(crate) mod allocation;
pub(crate) mod changes;
pub(crate) mod delivery;
pub(crate) mod returns;
pub(crate) mod shipping;
pub(crate) mod stock;
