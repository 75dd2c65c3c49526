//! Returns (RMA, 退货入库), their request body and their `Return` body. A return moves one state
//! per logistics step: `requested` → `approved` → `in_transit` (a return parcel with its own
//! tracking) → `received` (the goods go back on hand unless the reason is `damaged` or
//! `defective`, which are quarantined) → `refunded` (the returned lines at their unit price).

use openclaw_fulfillment_api::types::{self, ReturnReason};
use serde::Deserialize;

use super::stock::{SkuQty, lines};
use crate::fulfillment::clock::time;
use crate::fulfillment::read::{non_empty, present};

/// `ReturnStatus`, as the wire names it.
pub(crate) const STATUSES: [&str; 6] = [
    "requested",
    "approved",
    "in_transit",
    "received",
    "refunded",
    "rejected",
];

/// `CreateReturnRequest`.
#[derive(Debug, Deserialize)]
pub(crate) struct CreateReturnRequest {
    pub(crate) order_no: String,
    pub(crate) reason: ReturnReason,
    #[serde(default, deserialize_with = "present")]
    pub(crate) reason_note: Option<String>,
    #[serde(deserialize_with = "non_empty")]
    pub(crate) lines: Vec<SkuQty>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) warehouse_code: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) return_carrier: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) return_tracking_number: Option<String>,
}

/// A return: its RMA number (`RMA` + date + serial) and the order it comes from; its state, its
/// reason and the buyer's words; the warehouse it goes back to, the carrier and tracking number
/// of its parcel and when the warehouse received it; its lines (SKU, quantity); the refund (a
/// decimal string) in the order's currency; when it was created and last changed (Unix ms).
#[derive(Debug, Clone)]
pub(crate) struct Return {
    pub(crate) rma: String,
    pub(crate) order_no: String,
    pub(crate) status: types::ReturnStatus,
    pub(crate) reason: types::ReturnReason,
    pub(crate) reason_note: Option<String>,
    pub(crate) warehouse: String,
    pub(crate) carrier: Option<String>,
    pub(crate) tracking: Option<String>,
    pub(crate) received: Option<i64>,
    pub(crate) lines: Vec<(String, i64)>,
    pub(crate) refund: Option<String>,
    pub(crate) currency: String,
    pub(crate) created: i64,
    pub(crate) updated: i64,
}

impl Return {
    /// Whether its goods go back on hand when received (damaged or defective ones are
    /// quarantined).
    pub(crate) fn restocks(&self) -> bool {
        !matches!(self.reason, ReturnReason::Damaged | ReturnReason::Defective)
    }

    /// The `Return` body.
    pub(crate) fn wire(&self) -> types::Return {
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
pub(crate) fn hundredths(amount: &str) -> Option<i64> {
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
pub(crate) fn amount(hundredths: i64) -> String {
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
