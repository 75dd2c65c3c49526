//! What changes the state: the operations over the resources (`state::Inner`) that span
//! entities (stock holds, allocation, parcels, returns), webhook delivery of the events they
//! queue, and `Fulfillment::with`, the one way a change is made (`changes`).

pub(in crate::fulfillment) mod allocation;
pub(in crate::fulfillment) mod changes;
pub(in crate::fulfillment) mod delivery;
pub(in crate::fulfillment) mod returns;
pub(in crate::fulfillment) mod shipping;
pub(in crate::fulfillment) mod stock;
