//! Returns (RMA, 退货入库), their request body and their `Return` body. A return moves one state
//! per logistics step: `requested` → `approved` → `in_transit` (a return parcel with its own
//! tracking) → `received` (the goods go back on hand unless the reason is `damaged` or
//! `defective`, which are quarantined) → `refunded` (the returned lines at their unit price).

use openclaw_fulfillment_api::types::{self, ReturnReason, ReturnStatus};
use serde::Deserialize;

use super::stock::{SkuQty, lines};
use crate::fulfillment::clock::time;
use crate::fulfillment::read::{non_empty, present};

/// `ReturnStatus`, as the wire names it.
pub(in crate::fulfillment) const STATUSES: [&str; 6] = [
    "requested",
    "approved",
    "in_transit",
    "received",
    "refunded",
    "rejected",
];

/// `CreateReturnRequest`.
#[derive(Debug, Deserialize)]
pub(in crate::fulfillment) struct CreateReturnRequest {
    /// The order returned from.
    pub(in crate::fulfillment) order_no: String,
    /// Why.
    pub(in crate::fulfillment) reason: ReturnReason,
    /// The buyer's words.
    #[serde(default, deserialize_with = "present")]
    pub(in crate::fulfillment) reason_note: Option<String>,
    /// What comes back.
    #[serde(deserialize_with = "non_empty")]
    pub(in crate::fulfillment) lines: Vec<SkuQty>,
    /// Where it goes back to.
    #[serde(default, deserialize_with = "present")]
    pub(in crate::fulfillment) warehouse_code: Option<String>,
    /// The carrier of the return parcel, if the buyer chose one.
    #[serde(default, deserialize_with = "present")]
    pub(in crate::fulfillment) return_carrier: Option<String>,
    /// Its tracking number, if known.
    #[serde(default, deserialize_with = "present")]
    pub(in crate::fulfillment) return_tracking_number: Option<String>,
}

/// A return.
#[derive(Debug, Clone)]
pub(in crate::fulfillment) struct Return {
    /// `RMA` + date + serial.
    pub(in crate::fulfillment) rma: String,
    /// The order returned from.
    pub(in crate::fulfillment) order_no: String,
    /// Where it is in its life.
    pub(in crate::fulfillment) status: ReturnStatus,
    /// Why.
    pub(in crate::fulfillment) reason: ReturnReason,
    /// The buyer's words.
    pub(in crate::fulfillment) reason_note: Option<String>,
    /// (SKU, quantity).
    pub(in crate::fulfillment) lines: Vec<(String, i64)>,
    /// Where it goes back to.
    pub(in crate::fulfillment) warehouse: String,
    /// The carrier of the return parcel.
    pub(in crate::fulfillment) carrier: Option<String>,
    /// Its tracking number.
    pub(in crate::fulfillment) tracking: Option<String>,
    /// The refund, a decimal string.
    pub(in crate::fulfillment) refund: Option<String>,
    /// The order's currency.
    pub(in crate::fulfillment) currency: String,
    /// Unix ms the warehouse received it.
    pub(in crate::fulfillment) received: Option<i64>,
    /// Unix ms.
    pub(in crate::fulfillment) created: i64,
    /// Unix ms.
    pub(in crate::fulfillment) updated: i64,
}

impl Return {
    /// Whether its goods go back on hand when received (damaged or defective ones are
    /// quarantined).
    pub(in crate::fulfillment) fn restocks(&self) -> bool {
        !matches!(self.reason, ReturnReason::Damaged | ReturnReason::Defective)
    }

    /// The `Return` body.
    pub(in crate::fulfillment) fn wire(&self) -> types::Return {
        types::Return {
            created_at: time(self.created),
            currency: self.currency.clone(),
            lines: lines(&self.lines, |sku, quantity| types::ReturnLine {
                quantity,
                sku,
            }),
            order_no: self.order_no.clone(),
            reason: self.reason,
            reason_note: self.reason_note.clone(),
            received_at: self.received.map(time),
            refund_amount: self.refund.clone(),
            return_carrier: self.carrier.clone(),
            return_tracking_number: self.tracking.clone(),
            rma_no: self.rma.clone(),
            status: self.status,
            updated_at: time(self.updated),
            warehouse_code: self.warehouse.clone(),
        }
    }
}

/// A decimal string in hundredths (`"12.99"` is 1299), if it is one.
pub(in crate::fulfillment) fn hundredths(amount: &str) -> Option<i64> {
    let (whole, fraction) = amount.trim().split_once('.').unwrap_or((amount.trim(), ""));
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let mut fraction: String = fraction.chars().take(2).collect();
    if !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    while fraction.len() < 2 {
        fraction.push('0');
    }
    whole.checked_mul(100)?.checked_add(fraction.parse().ok()?)
}

/// `hundredths` as a decimal string with two places (`1299` is `"12.99"`).
pub(in crate::fulfillment) fn amount(hundredths: i64) -> String {
    format!("{}.{:02}", hundredths / 100, hundredths % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_amounts_in_hundredths() {
        let cases = [
            ("12.99", Some(1299)),
            ("12.9", Some(1290)),
            ("12", Some(1200)),
            (".5", Some(50)),
            ("1.999", Some(199)),
            ("abc", None),
            ("1.x", None),
        ];
        for (text, expected) in cases {
            assert_eq!(hundredths(text), expected, "{text}");
        }
        assert_eq!(amount(1500), "15.00");
    }
}
