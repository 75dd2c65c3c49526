//! Seed data: what every fulfillment sandbox starts with: three warehouses, their stock, the
//! orders the spec's examples and test vectors name (plus generated ones), their parcels, two
//! returns and one reservation. Seeded orders are placed, labelled and moved on by the same
//! operations as the API's; seeded orders and parcels are history: they do not move on by
//! themselves.

use openclaw_fulfillment_api::types::{
    self, CancelReason, OrderStatus, ReservationStatus, ReturnReason, ReturnStatus, SalesChannel,
};

use super::clock::{Stamp, cst, time};
use super::model::labels::tracking_number;
use super::model::orders::{CreateOrderRequest, ordered_at};
use super::model::returns::Return;
use super::model::stock::{Move, Reservation, Warehouse};
use super::read::count;
use super::state::{Config, Inner};
use crate::kit::ids::mix;

/// Hours between two nodes of a seeded parcel.
const NODE_HOURS: i64 = 10;

/// Stock at start: (warehouse, SKU, on hand, safety stock, in transit).
const STOCK: [(&str, &str, i64, i64, i64); 13] = [
    ("CN-SZ-01", "PHC-20W-USBC-WH", 120, 10, 0),
    ("CN-SZ-01", "PHC-20W-USBC-BK", 80, 5, 0),
    ("CN-SZ-01", "CBL-USBC-1M-BK", 5000, 100, 0),
    ("CN-SZ-01", "EBD-TWS-PRO-WH", 300, 20, 0),
    ("CN-SZ-01", "HGN-LED-STRIP-5M", 450, 30, 0),
    ("CN-SZ-01", "GDN-HOSE 15M/GR", 60, 0, 0),
    ("CN-SZ-01", "PWB-10K-MAG-BL", 0, 0, 500),
    ("CN-SZ-01", "LMT-NFC-TAG-25", 5, 0, 0),
    ("US-LAX-01", "PHC-20W-USBC-WH", 40, 5, 200),
    ("US-LAX-01", "CBL-USBC-1M-BK", 800, 50, 0),
    ("US-LAX-01", "EBD-TWS-PRO-WH", 25, 5, 0),
    ("DE-FRA-01", "PHC-20W-USBC-WH", 15, 3, 0),
    ("DE-FRA-01", "HGN-LED-STRIP-5M", 70, 10, 0),
];

/// How far a seeded order got.
#[derive(Debug, Clone, Copy)]
enum Stage {
    /// Waiting for stock (or allocated, if stock allowed).
    Routed,
    /// Labelled by `carrier`, then moved on `nodes` nodes (`usize::MAX`: to the end).
    Labelled(&'static str, usize),
    /// Cancelled by the customer after allocation.
    Cancelled,
}

/// A recipient: (name, country, state, city, postal code, street).
type To = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

const JANE: To = (
    "Jane Doe",
    "US",
    "CA",
    "San Francisco",
    "94105",
    "500 Howard St",
);
const NEW_YORK: To = ("Sam Lee", "US", "NY", "New York", "10001", "350 5th Ave");
const KUALA_LUMPUR: To = (
    "Aisyah Rahman",
    "MY",
    "WP",
    "Kuala Lumpur",
    "50450",
    "Jalan Ampang 12",
);
const BANGKOK: To = (
    "Somchai K.",
    "TH",
    "BKK",
    "Bangkok",
    "10110",
    "88 Sukhumvit Rd",
);
const BERLIN: To = (
    "Max Müller",
    "DE",
    "BE",
    "Berlin",
    "10115",
    "Invalidenstr. 117",
);
const SEATTLE: To = ("Chris Park", "US", "WA", "Seattle", "98101", "400 Pine St");
const LONDON: To = (
    "Olivia Brown",
    "GB",
    "LND",
    "London",
    "EC1A 1BB",
    "1 King St",
);
const TOKYO: To = (
    "Yuki Tanaka",
    "JP",
    "13",
    "Tokyo",
    "100-0005",
    "1-1 Marunouchi",
);
const PARIS: To = (
    "Léa Martin",
    "FR",
    "IDF",
    "Paris",
    "75001",
    "10 Rue de Rivoli",
);

/// The `Address` of a recipient, if its country is a two-letter code.
fn address(to: To) -> Option<types::Address> {
    let (name, country, state, city, postal, street) = to;
    Some(types::Address {
        address_line1: street.into(),
        address_line2: None,
        city: city.into(),
        country_code: country.parse().ok()?,
        district: None,
        email: None,
        name: name.into(),
        phone: None,
        postal_code: postal.into(),
        state: Some(state.into()),
    })
}

/// One seeded order.
struct Seeded {
    no: String,
    channel: SalesChannel,
    store: &'static str,
    ordered_at: Stamp,
    currency: &'static str,
    to: To,
    lines: Vec<(&'static str, i64, &'static str)>,
    warehouse: Option<&'static str>,
    created: i64,
    stage: Stage,
}

/// Creates `order` through the same routing, labelling and tracking as the API.
fn place(inner: &mut Inner, order: Seeded, config: &Config, tracking: Option<&str>) {
    let total: f64 = order
        .lines
        .iter()
        .map(|(_, qty, price)| price.parse::<f64>().unwrap_or(0.0) * *qty as f64)
        .sum();
    let lines = order
        .lines
        .iter()
        .map(|(sku, qty, price)| types::OrderLine {
            channel_item_id: None,
            quantity: count(*qty),
            sku: sku.to_string(),
            title: None,
            unit_price: Some(price.to_string()),
        });
    let Some(recipient) = address(order.to) else {
        return;
    };
    let request = CreateOrderRequest {
        order_no: order.no.clone(),
        channel: order.channel,
        store_id: order.store.into(),
        marketplace: Some(order.to.1.into()),
        ordered_at: order.ordered_at,
        currency: order.currency.into(),
        total_amount: Some(format!("{total:.2}")),
        recipient,
        lines: lines.collect(),
        warehouse_code: order.warehouse.map(str::to_string),
        remark: None,
    };
    let at = order.created;
    inner.insert_order(request, at);
    match order.stage {
        Stage::Routed => {}
        Stage::Cancelled => {
            let lines = inner
                .orders
                .get(&order.no)
                .map(|o| (o.warehouse.clone(), o.holds()));
            if let Some(o) = inner.orders.get_mut(&order.no) {
                o.status = OrderStatus::Cancelled;
                o.cancel_reason = Some(CancelReason::CustomerRequest);
                o.updated = at + 3_600_000;
            }
            if let Some((Some(warehouse), lines)) = lines {
                inner.unhold(&warehouse, &lines, at + 3_600_000);
            }
        }
        Stage::Labelled(carrier, nodes) => {
            let serial = inner.next_serial();
            let tracking = tracking.map_or_else(
                || tracking_number(carrier, config.seed, serial),
                str::to_string,
            );
            let labelled = at + 3_600_000;
            if inner
                .label_order(&order.no, carrier, &tracking, labelled)
                .is_err()
            {
                return;
            }
            for n in 0..nodes {
                let when = labelled + (n as i64 + 1) * NODE_HOURS * 3_600_000;
                if !inner.advance(&tracking, when) {
                    break;
                }
            }
        }
    }
}

/// The named orders: the spec's examples and the special characters of the seed.
fn named() -> Vec<(Seeded, Option<&'static str>)> {
    let order = |no: &str, channel, store, currency, to, lines, created, stage| Seeded {
        no: no.to_string(),
        channel,
        store,
        ordered_at: Stamp(time(created - 3_600_000)),
        currency,
        to,
        lines,
        warehouse: None,
        created,
        stage,
    };
    let cn = |mut s: Seeded| {
        s.warehouse = Some("CN-SZ-01");
        s
    };
    let charger = vec![("PHC-20W-USBC-WH", 2, "12.99")];
    let all = usize::MAX;
    vec![
        (
            Seeded {
                ordered_at: ordered_at(cst(2024, 6, 15, 8, 30), -7 * 3600),
                ..order(
                    "#1001",
                    SalesChannel::Shopify,
                    "shopify-us-main",
                    "USD",
                    JANE,
                    charger.clone(),
                    cst(2024, 6, 15, 8, 30),
                    Stage::Routed,
                )
            },
            None,
        ),
        (
            cn(order(
                "#1001&A",
                SalesChannel::Shopify,
                "shopify-us-main",
                "USD",
                JANE,
                vec![("PHC-20W-USBC-WH", 1, "12.99")],
                cst(2024, 6, 10, 9, 0),
                Stage::Labelled("4px", all),
            )),
            None,
        ),
        (
            cn(order(
                "#1003",
                SalesChannel::Amazon,
                "amazon-us-01",
                "USD",
                NEW_YORK,
                vec![("EBD-TWS-PRO-WH", 1, "39.90")],
                cst(2024, 6, 15, 9, 0),
                Stage::Labelled("4px", 3),
            )),
            Some("4PX3001286439901CN"),
        ),
        (
            cn(order(
                "#1004",
                SalesChannel::Shopee,
                "shopee-my-01",
                "MYR",
                KUALA_LUMPUR,
                vec![("CBL-USBC-1M-BK", 2, "15.00")],
                cst(2024, 6, 12, 14, 0),
                Stage::Labelled("yanwen", all),
            )),
            None,
        ),
        (
            cn(order(
                "TM 240615 0008",
                SalesChannel::Temu,
                "temu-us-01",
                "USD",
                SEATTLE,
                vec![("HGN-LED-STRIP-5M", 1, "9.99")],
                cst(2024, 6, 15, 10, 0),
                Stage::Labelled("wuyou", 0),
            )),
            None,
        ),
        (
            cn(order(
                "SO/2024/0615-7",
                SalesChannel::Lazada,
                "lazada-th-01",
                "THB",
                BANGKOK,
                vec![("PHC-20W-USBC-BK", 1, "390.00")],
                cst(2024, 6, 15, 11, 0),
                Stage::Labelled("yanwen", 2),
            )),
            None,
        ),
        (
            cn(order(
                "CUSTOMS-HOLD-1009",
                SalesChannel::Amazon,
                "amazon-de-01",
                "EUR",
                BERLIN,
                vec![("EBD-TWS-PRO-WH", 1, "36.90")],
                cst(2024, 6, 13, 16, 0),
                Stage::Labelled("4px", all),
            )),
            None,
        ),
        (
            cn(order(
                "FAIL-RECIPIENT-UNAVAILABLE-1010",
                SalesChannel::Shopify,
                "shopify-us-main",
                "USD",
                JANE,
                vec![("PHC-20W-USBC-WH", 1, "12.99")],
                cst(2024, 6, 13, 17, 0),
                Stage::Labelled("4px", all),
            )),
            None,
        ),
        (
            order(
                "#1011",
                SalesChannel::IndependentSite,
                "site-main",
                "USD",
                JANE,
                vec![("CBL-USBC-1M-BK", 3, "5.99")],
                cst(2024, 6, 15, 12, 0),
                Stage::Cancelled,
            ),
            None,
        ),
        (
            order(
                "#1012",
                SalesChannel::Temu,
                "temu-us-01",
                "USD",
                SEATTLE,
                vec![("PWB-10K-MAG-BL", 1, "19.99")],
                cst(2024, 6, 15, 13, 0),
                Stage::Routed,
            ),
            None,
        ),
        (
            cn(order(
                "A&B 1013/2",
                SalesChannel::Other,
                "wholesale-1",
                "EUR",
                PARIS,
                vec![("GDN-HOSE 15M/GR", 1, "24.50")],
                cst(2024, 6, 15, 14, 0),
                Stage::Routed,
            )),
            None,
        ),
    ]
}

/// Generated orders `SP-20240616-0001`..: mostly delivered, some on their way, some allocated.
fn generated(seed: u64, count: u64) -> Vec<Seeded> {
    let channels = [
        (SalesChannel::Shopee, "shopee-my-01"),
        (SalesChannel::Temu, "temu-us-01"),
        (SalesChannel::Amazon, "amazon-us-01"),
        (SalesChannel::Lazada, "lazada-th-01"),
        (SalesChannel::Shopify, "shopify-us-main"),
    ];
    let places = [
        JANE,
        NEW_YORK,
        KUALA_LUMPUR,
        BANGKOK,
        BERLIN,
        LONDON,
        TOKYO,
        PARIS,
    ];
    (1..=count)
        .map(|n| {
            let h = mix(seed ^ mix(n));
            let (channel, store) = channels[(h % 5) as usize];
            let to = places[(h >> 8) as usize % places.len()];
            let sku = if h >> 16 & 1 == 0 {
                "CBL-USBC-1M-BK"
            } else {
                "HGN-LED-STRIP-5M"
            };
            let created = cst(2024, 6, 16, 8, 0) + (n as i64) * 2 * 3_600_000;
            let stage = match h >> 24 & 15 {
                0..=10 => Stage::Labelled("4px", usize::MAX),
                11..=13 => Stage::Labelled("yanwen", 2),
                _ => Stage::Routed,
            };
            Seeded {
                no: format!("SP-20240616-{n:04}"),
                channel,
                store,
                ordered_at: Stamp(time(created - 1_800_000)),
                currency: "USD",
                to,
                lines: vec![(sku, 1 + (h >> 32) as i64 % 3, "5.99")],
                warehouse: Some("CN-SZ-01"),
                created,
                stage,
            }
        })
        .collect()
}

/// Fills `inner` with the seeded resources at server time `now`.
pub(crate) fn resources(inner: &mut Inner, config: &Config, now: i64) {
    inner.warehouses = vec![
        Warehouse {
            code: "CN-SZ-01",
            country: "CN",
            city: "Shenzhen",
        },
        Warehouse {
            code: "US-LAX-01",
            country: "US",
            city: "Los Angeles",
        },
        Warehouse {
            code: "DE-FRA-01",
            country: "DE",
            city: "Frankfurt",
        },
    ];
    let stocked = cst(2024, 6, 1, 9, 0);
    for (warehouse, sku, on_hand, safety, in_transit) in STOCK {
        inner.change_stock(
            sku,
            warehouse,
            stocked,
            Move::Seed(on_hand, safety, in_transit),
        );
    }
    inner.serial = 100;
    for (order, tracking) in named() {
        place(inner, order, config, tracking);
    }
    for order in generated(config.seed, 36) {
        place(inner, order, config, None);
    }
    seed_returns(inner);
    let lines = vec![("PHC-20W-USBC-WH".to_string(), 1)];
    if inner.hold("CN-SZ-01", &lines, now).is_ok() {
        let id = "rsv_01J0KB7Q2W9X".to_string();
        inner.reservations.insert(
            id.clone(),
            Reservation {
                id,
                warehouse: "CN-SZ-01".into(),
                order_no: Some("#1002".into()),
                status: ReservationStatus::Active,
                lines,
                expires: now + 24 * 3_600_000,
                created: now,
                updated: now,
            },
        );
    }
}

/// The spec's example return (refunded) and one received return.
fn seed_returns(inner: &mut Inner) {
    let refunded = Return {
        rma: "RMA20240624000045".into(),
        order_no: "#1001&A".into(),
        status: ReturnStatus::Refunded,
        reason: ReturnReason::Defective,
        reason_note: Some("Charger does not power on".into()),
        lines: vec![("PHC-20W-USBC-WH".into(), 1)],
        warehouse: "US-LAX-01".into(),
        carrier: Some("usps".into()),
        tracking: Some("9400111202555842761234".into()),
        refund: Some("12.99".into()),
        currency: "USD".into(),
        received: Some(cst(2024, 6, 29, 1, 12)),
        created: cst(2024, 6, 25, 2, 20),
        updated: cst(2024, 6, 30, 0, 0),
    };
    let received = Return {
        rma: "RMA20240621000046".into(),
        order_no: "#1004".into(),
        status: ReturnStatus::Received,
        reason: ReturnReason::NoLongerNeeded,
        reason_note: None,
        lines: vec![("CBL-USBC-1M-BK".into(), 1)],
        warehouse: "CN-SZ-01".into(),
        carrier: Some("yanwen".into()),
        tracking: None,
        refund: None,
        currency: "MYR".into(),
        received: Some(cst(2024, 6, 24, 15, 0)),
        created: cst(2024, 6, 21, 10, 0),
        updated: cst(2024, 6, 24, 15, 0),
    };
    for r in [refunded, received] {
        inner.returns.insert(r.rma.clone(), r);
    }
}
