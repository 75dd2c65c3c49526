//! Stock rows change only here: every change queues an `inventory.changed` event with the ATS
//! before it, and stock is held (`reserved`) all lines or none: a line above its row's ATS is a
//! [`Short`] and nothing is held.

use openclaw_fulfillment_api::types;

use crate::fulfillment::model::stock::{Move, Short, Stock, per_sku};
use crate::fulfillment::model::webhooks::Event;
use crate::fulfillment::state::Inner;

impl Inner {
    /// Changes the row (`sku`, `warehouse`) by `change`, creating it if needed, and queues
    /// `inventory.changed`; the row after the change.
    pub(crate) fn change_stock(
        &mut self,
        sku: &str,
        warehouse: &str,
        now: i64,
        change: Move,
    ) -> types::InventoryLevel {
        let row = self
            .stock
            .entry((sku.to_string(), warehouse.to_string()))
            .or_default();
        let previous = row.apply(change, now);
        let level = row.level(sku, warehouse);
        let data = types::InventoryChange {
            inventory: level.clone(),
            previous_ats: u64::try_from(previous).unwrap_or(0),
            reason: change.reason(),
        };
        self.emit(Event::InventoryChanged(data), now);
        level
    }

    /// Where `lines` would not fit the ATS of `warehouse`, if anywhere.
    pub(crate) fn shortage(&self, warehouse: &str, lines: &[(String, i64)]) -> Option<Short> {
        per_sku(lines).into_iter().find_map(|(line, sku, wanted)| {
            let key = (sku.clone(), warehouse.to_string());
            let ats = self.stock.get(&key).map_or(0, Stock::ats);
            Short::of(line, sku, wanted, ats)
        })
    }

    /// Holds `lines` in `warehouse`: every line or none.
    pub(crate) fn hold(
        &mut self,
        warehouse: &str,
        lines: &[(String, i64)],
        now: i64,
    ) -> Result<(), Short> {
        if let Some(short) = self.shortage(warehouse, lines) {
            return Err(short);
        }
        for (_, sku, qty) in per_sku(lines) {
            self.change_stock(&sku, warehouse, now, Move::Hold(qty));
        }
        Ok(())
    }

    /// Gives held `lines` back to `warehouse` (reason `release`).
    pub(crate) fn unhold(&mut self, warehouse: &str, lines: &[(String, i64)], now: i64) {
        for (_, sku, qty) in per_sku(lines) {
            self.change_stock(&sku, warehouse, now, Move::Hold(-qty));
        }
    }
}
