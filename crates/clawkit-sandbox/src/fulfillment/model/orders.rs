//! Orders as a sales channel pushes them (`CreateOrderRequest`, read field by field with the
//! vendor's messages into the generated `Address` and `OrderLine`) and as the pool holds them,
//! with their `Order` body.

use openclaw_fulfillment_api::types::{self, CancelReason, OrderStatus, SalesChannel};
use serde::Deserialize;
use serde::de::{self, Deserializer};

use crate::fulfillment::clock::{Stamp, time};
use crate::fulfillment::read::{Qty, non_empty, present};
use crate::kit::clock::date_time;

/// `SalesChannel`, as the wire names it.
pub(crate) const CHANNELS: [&str; 7] = [
    "amazon",
    "shopee",
    "temu",
    "lazada",
    "shopify",
    "independent_site",
    "other",
];

/// `OrderStatus`, as the wire names it.
pub(crate) const STATUSES: [&str; 7] = [
    "created",
    "allocated",
    "label_created",
    "shipped",
    "delivered",
    "exception",
    "cancelled",
];

/// A `SalesChannel` value of a body.
fn channel<'de, D: Deserializer<'de>>(deserializer: D) -> Result<SalesChannel, D::Error> {
    let text = String::deserialize(deserializer)?;
    text.parse()
        .map_err(|_| de::Error::unknown_variant(&text, &CHANNELS))
}

/// An ISO 3166-1 alpha-2 code: exactly two characters.
fn country<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<types::AddressCountryCode, D::Error> {
    let code = String::deserialize(deserializer)?;
    code.parse()
        .map_err(|_| de::Error::custom(format!("{code:?} is not a two-letter country code")))
}

/// An e-mail address, if given: something `@` something.
fn email<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    let text = String::deserialize(deserializer)?;
    match text.split_once('@') {
        Some((user, domain)) if !user.is_empty() && !domain.is_empty() => Ok(Some(text)),
        _ => Err(de::Error::custom(format!(
            "{text:?} is not an e-mail address"
        ))),
    }
}

/// A quantity of a line: an integer of at least 1.
fn quantity<'de, D: Deserializer<'de>>(deserializer: D) -> Result<std::num::NonZeroU64, D::Error> {
    Qty::deserialize(deserializer).map(Qty::count)
}

/// How the generated `Address` is read: optional fields absent or of their type, the country
/// two characters, the e-mail address one.
#[derive(Deserialize)]
#[serde(remote = "types::Address")]
struct AddressReader {
    name: String,
    #[serde(default, deserialize_with = "present")]
    phone: Option<String>,
    #[serde(default, deserialize_with = "email")]
    email: Option<String>,
    #[serde(deserialize_with = "country")]
    country_code: types::AddressCountryCode,
    #[serde(default, deserialize_with = "present")]
    state: Option<String>,
    city: String,
    #[serde(default, deserialize_with = "present")]
    district: Option<String>,
    postal_code: String,
    address_line1: String,
    #[serde(default, deserialize_with = "present")]
    address_line2: Option<String>,
}

/// How the generated `OrderLine` is read: a quantity of at least 1, optional fields absent or
/// of their type.
#[derive(Deserialize)]
#[serde(remote = "types::OrderLine")]
struct OrderLineReader {
    sku: String,
    #[serde(deserialize_with = "quantity")]
    quantity: std::num::NonZeroU64,
    #[serde(default, deserialize_with = "present")]
    unit_price: Option<String>,
    #[serde(default, deserialize_with = "present")]
    title: Option<String>,
    #[serde(default, deserialize_with = "present")]
    channel_item_id: Option<String>,
}

/// One `OrderLine` of a body.
#[derive(Deserialize)]
#[serde(transparent)]
struct Line(#[serde(with = "OrderLineReader")] types::OrderLine);

/// The order's lines: at least one.
fn order_lines<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<types::OrderLine>, D::Error> {
    let lines: Vec<Line> = non_empty(deserializer)?;
    Ok(lines.into_iter().map(|Line(line)| line).collect())
}

/// `CreateOrderRequest`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct CreateOrderRequest {
    pub(crate) order_no: String,
    #[serde(deserialize_with = "channel")]
    pub(crate) channel: SalesChannel,
    pub(crate) store_id: String,
    #[serde(default, deserialize_with = "present")]
    pub(crate) marketplace: Option<String>,
    pub(crate) ordered_at: Stamp,
    pub(crate) currency: String,
    #[serde(default, deserialize_with = "present")]
    pub(crate) total_amount: Option<String>,
    #[serde(with = "AddressReader")]
    pub(crate) recipient: types::Address,
    #[serde(deserialize_with = "order_lines")]
    pub(crate) lines: Vec<types::OrderLine>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) warehouse_code: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[allow(dead_code)]
    pub(crate) remark: Option<String>,
}

/// `CancelOrderRequest`.
#[derive(Debug, Deserialize)]
pub(crate) struct CancelOrderRequest {
    pub(crate) reason: CancelReason,
    #[serde(default, deserialize_with = "present")]
    #[allow(dead_code)]
    pub(crate) note: Option<String>,
}

/// An order in the pool.
#[derive(Debug, Clone)]
pub(crate) struct Order {
    /// OpenClaw's id, `OC` + date + serial.
    pub(crate) id: String,
    /// As pushed by the channel.
    pub(crate) request: CreateOrderRequest,
    /// Where it is in its life.
    pub(crate) status: types::OrderStatus,
    /// Where it is allocated, and the carrier and tracking number of its label.
    pub(crate) warehouse: Option<String>,
    pub(crate) carrier: Option<String>,
    pub(crate) tracking: Option<String>,
    /// Why it was cancelled.
    pub(crate) cancel_reason: Option<types::CancelReason>,
    /// Unix ms: when the carrier took it and when it was signed for, once they happened; when it
    /// was created and last changed.
    pub(crate) shipped: Option<i64>,
    pub(crate) delivered: Option<i64>,
    pub(crate) created: i64,
    pub(crate) updated: i64,
}

impl Order {
    /// A new order `id` of `request`, `created` at `now`, not routed yet.
    pub(crate) fn new(id: String, request: CreateOrderRequest, now: i64) -> Self {
        Order {
            id,
            request,
            status: OrderStatus::Created,
            warehouse: None,
            carrier: None,
            tracking: None,
            cancel_reason: None,
            shipped: None,
            delivered: None,
            created: now,
            updated: now,
        }
    }

    /// (SKU, quantity) of its lines.
    pub(crate) fn holds(&self) -> Vec<(String, i64)> {
        self.request
            .lines
            .iter()
            .map(|l| {
                let quantity = i64::try_from(l.quantity.get()).unwrap_or(i64::MAX);
                (l.sku.clone(), quantity)
            })
            .collect()
    }

    /// Whether it is past being cancelled: shipped, delivered, in exception or cancelled.
    pub(crate) fn shipped_or_closed(&self) -> bool {
        !matches!(
            self.status,
            OrderStatus::Created | OrderStatus::Allocated | OrderStatus::LabelCreated
        )
    }

    /// The `Order` body.
    pub(crate) fn wire(&self) -> types::Order {
        let r = &self.request;
        let at = |ms: Option<i64>| ms.map(time);
        types::Order {
            cancel_reason: self.cancel_reason,
            carrier: self.carrier.clone(),
            channel: r.channel,
            created_at: time(self.created),
            currency: r.currency.clone(),
            delivered_at: at(self.delivered),
            lines: r.lines.clone(),
            marketplace: r.marketplace.clone(),
            order_id: self.id.clone(),
            order_no: r.order_no.clone(),
            ordered_at: r.ordered_at.0,
            recipient: r.recipient.clone(),
            shipped_at: at(self.shipped),
            status: self.status,
            store_id: r.store_id.clone(),
            total_amount: r.total_amount.clone(),
            tracking_number: self.tracking.clone(),
            updated_at: time(self.updated),
            warehouse_code: self.warehouse.clone(),
        }
    }
}

/// When an order was placed, as a client would send it: `ms` in the offset `offset_secs`.
pub(crate) fn ordered_at(ms: i64, offset_secs: i32) -> Stamp {
    Stamp(date_time(ms, offset_secs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fulfillment::read::json_body;

    #[test]
    fn orders_read_with_the_vendors_messages_into_the_generated_types() {
        let body = |recipient: &str, lines: &str| {
            format!(
                r##"{{"order_no": "#1", "channel": "temu", "store_id": "s", "currency": "USD",
                "ordered_at": "2024-06-14T17:30:00-07:00", "recipient": {recipient},
                "lines": {lines}}}"##
            )
        };
        let to = r#"{"name": "J", "country_code": "US", "city": "SF", "postal_code": "1",
            "address_line1": "x", "email": "j@x.org"}"#;
        let line = r#"[{"sku": "A", "quantity": 2.0, "title": "t"}]"#;
        let order: CreateOrderRequest = json_body(body(to, line).as_bytes()).unwrap();
        assert_eq!(order.channel, SalesChannel::Temu);
        assert_eq!(order.recipient.country_code.as_str(), "US");
        assert_eq!(order.lines[0].quantity.get(), 2);
        assert_eq!(order.ordered_at, ordered_at(1_718_411_400_000, -7 * 3600));
        let problem = |recipient: &str, lines: &str| {
            let e = json_body::<CreateOrderRequest>(body(recipient, lines).as_bytes()).unwrap_err();
            e.details[0].clone()
        };
        let usa = to.replace("\"US\"", "\"USA\"");
        assert_eq!(
            problem(&usa, line),
            (
                "recipient.country_code".into(),
                "\"USA\" is not a two-letter country code".into()
            )
        );
        let no_mail = to.replace("j@x.org", "nobody");
        assert_eq!(problem(&no_mail, line).0, "recipient.email");
        let null_phone = to.replace("\"city\"", "\"phone\": null, \"city\"");
        assert_eq!(problem(&null_phone, line).0, "recipient.phone");
        let zero = r#"[{"sku": "A", "quantity": 0}]"#;
        assert_eq!(
            problem(to, zero),
            (
                "lines[0].quantity".into(),
                "0 is below the minimum of 1".into()
            )
        );
        assert_eq!(problem(to, "[]").0, "lines");
        assert_eq!(problem(to, r#"[{"quantity": 1}]"#).0, "lines[0].sku");
        let bad_channel = body(to, line).replace("temu", "ebay");
        let e = json_body::<CreateOrderRequest>(bad_channel.as_bytes()).unwrap_err();
        assert_eq!(e.details[0].0, "channel");
        assert!(e.details[0].1.contains("unknown variant `ebay`"));
    }
}
