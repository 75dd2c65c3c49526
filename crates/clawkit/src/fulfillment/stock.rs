//! Inventory as available-to-sell (ATS = on hand - reserved - safety stock), adjustments, and
//! reservations through [`Hold`], which never leaves stock held by mistake.

use std::num::NonZeroU64;

use chrono::{DateTime, FixedOffset};
use clawkit_runtime::Paged;

use crate::client::Optionally;
use openclaw_fulfillment_api::types::{
    CreateOrderRequest, InventoryAdjustment, InventoryAdjustmentRequest, InventoryLevel, Order,
    Reservation, ReservationLine, ReservationRequest, SkuInventory,
};

use super::client::{Client, cursor_stream, fetched, filter_setters};
use super::error::Error;

/// Which stock rows [`Client::inventory_levels`] lists (every SKU in every warehouse by default).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InventoryFilter {
    warehouse: Option<String>,
    sku: Option<String>,
    updated_from: Option<DateTime<FixedOffset>>,
    updated_to: Option<DateTime<FixedOffset>>,
}

impl InventoryFilter {
    /// Everything (no filter).
    pub fn new() -> Self {
        Self::default()
    }

    filter_setters! {
        /// Only this warehouse.
        warehouse: impl Into<String>,
        /// Only this SKU.
        sku: impl Into<String>,
        /// Only rows updated at or after this time.
        updated_from: DateTime<FixedOffset>,
        /// Only rows updated before this time (exclusive).
        updated_to: DateTime<FixedOffset>,
    }
}

impl Client {
    /// A SKU's stock summed over every warehouse, or over `warehouse` only, with each
    /// warehouse's row.
    pub async fn inventory(
        &self,
        sku: &str,
        warehouse: Option<&str>,
    ) -> Result<SkuInventory, Error> {
        self.read("get inventory", |api| {
            let mut call = api.get_inventory().sku(sku);
            call = call.optionally(warehouse, |c, code| c.warehouse_code(code));
            call.send()
        })
        .await
    }

    /// Every stock row (SKU by warehouse) the filter selects, as a cursor stream.
    pub fn inventory_levels(
        &self,
        filter: InventoryFilter,
    ) -> Paged<InventoryLevel, Error, Option<String>> {
        cursor_stream(self, move |client, cursor, limit| {
            let filter = filter.clone();
            async move {
                let page = client
                    .read("list inventory", |api| {
                        let mut call = api.list_inventory().limit(limit);
                        call = call.optionally(cursor.clone(), |c, cursor| c.cursor(cursor));
                        call = call
                            .optionally(filter.warehouse.clone(), |c, code| c.warehouse_code(code));
                        call = call.optionally(filter.sku.clone(), |c, sku| c.sku(sku));
                        call = call.optionally(filter.updated_from, |c, at| c.updated_from(at));
                        call = call.optionally(filter.updated_to, |c, at| c.updated_to(at));
                        call.send()
                    })
                    .await?;
                fetched(page.items, page.has_more, page.next_cursor)
            }
        })
    }

    /// Changes on-hand or safety stock (a stocktake, damage, a new buffer). Not retried unless
    /// the failure proves nothing was done: a delta applied twice would be wrong.
    pub async fn adjust_inventory(
        &self,
        adjustment: &InventoryAdjustmentRequest,
    ) -> Result<InventoryAdjustment, Error> {
        self.write("adjust inventory", |api| {
            api.adjust_inventory().body(adjustment.clone()).send()
        })
        .await
    }

    /// Holds `lines` (SKU, quantity) in `warehouse` for the order `order_no`, all or none: a line
    /// above its ATS is refused with 409 `insufficient_ats` and nothing is held, so stock is
    /// never oversold. Then [`Hold::place`] the order (which takes the held stock over),
    /// [`Hold::release`] it, or drop the hold, which releases it in the background.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sandbox = clawkit_sandbox::Sandbox::builder().start().await?;
    /// # let base_url = sandbox.base_url(clawkit_sandbox::Vendor::OpenclawFulfillment);
    /// use clawkit::fulfillment::{Client, Reason, types::CreateOrderRequest};
    ///
    /// let client = Client::builder()
    ///     .app("sandbox-client", "cs_sandbox_5f2b9c7e4d1a")
    ///     .base_url(&base_url)
    ///     .build()?;
    /// let sku = "PHC-20W-USBC-WH";
    /// let ats = |client: Client| async move {
    ///     let row = client.inventory(sku, Some("US-LAX-01")).await?;
    ///     Ok::<_, clawkit::fulfillment::Error>(row.ats)
    /// };
    /// let before = ats(client.clone()).await?;
    ///
    /// // More than is available to sell: refused, nothing held.
    /// let refused = client
    ///     .reserve("US-LAX-01", None, &[(sku, before as u64 + 1)])
    ///     .await
    ///     .unwrap_err();
    /// assert_eq!(refused.reason(), Some(Reason::InsufficientAts));
    ///
    /// // Two held for a checkout, then the order takes them over.
    /// let hold = client.reserve("US-LAX-01", Some("#DOC-1"), &[(sku, 2)]).await?;
    /// assert_eq!(ats(client.clone()).await?, before - 2);
    /// let order: CreateOrderRequest = serde_json::from_value(serde_json::json!({
    ///     "order_no": "#DOC-1", "channel": "shopify", "store_id": "shopify-us-main",
    ///     "ordered_at": "2024-06-15T08:30:00+08:00", "currency": "USD",
    ///     "recipient": {"name": "Jane Doe", "country_code": "US", "city": "San Francisco",
    ///                   "postal_code": "94105", "address_line1": "500 Howard St"},
    ///     "lines": [{"sku": sku, "quantity": 2, "unit_price": "12.99"}]
    /// }))?;
    /// let placed = hold.place(order).await?;
    /// assert_eq!(placed.order_no, "#DOC-1");
    /// assert_eq!(ats(client.clone()).await?, before - 2); // held once, not twice
    /// # Ok(())
    /// # }
    /// ```
    pub async fn reserve(
        &self,
        warehouse: &str,
        order_no: Option<&str>,
        lines: &[(&str, u64)],
    ) -> Result<Hold, Error> {
        let lines = lines
            .iter()
            .enumerate()
            .map(|(i, (sku, quantity))| {
                Ok(ReservationLine {
                    sku: sku.to_string(),
                    quantity: NonZeroU64::new(*quantity).ok_or_else(|| {
                        Error::InvalidArgument(format!(
                            "lines[{i}].quantity: expected at least 1 for SKU {sku:?}, got 0"
                        ))
                    })?,
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        if lines.is_empty() {
            return Err(Error::InvalidArgument(
                "lines: expected at least one SKU to reserve".into(),
            ));
        }
        let request = ReservationRequest {
            warehouse_code: warehouse.to_string(),
            order_no: order_no.map(str::to_string),
            lines,
            expires_at: None,
        };
        let reservation = self
            .write("reserve inventory", |api| {
                api.reserve_inventory().body(request.clone()).send()
            })
            .await?;
        Ok(Hold {
            client: self.clone(),
            reservation,
            settled: false,
        })
    }

    /// Gives a reservation's stock back to ATS (409 when it is no longer active).
    pub async fn release_reservation(&self, reservation_id: &str) -> Result<Reservation, Error> {
        self.read("release reservation", |api| {
            api.release_inventory_reservation()
                .reservation_id(reservation_id)
                .send()
        })
        .await
    }
}

/// Stock held by [`Client::reserve`]. Settle it with [`Hold::place`] or [`Hold::release`]; a
/// hold dropped unsettled (an error, a panic, a cancelled checkout) is released in the background
/// on the current tokio runtime, and in any case lapses at its `expires_at`.
#[must_use = "a hold is released when dropped; place the order or release it"]
#[derive(Debug)]
pub struct Hold {
    client: Client,
    reservation: Reservation,
    settled: bool,
}

impl Hold {
    /// The reservation as the service holds it.
    pub fn reservation(&self) -> &Reservation {
        &self.reservation
    }

    /// Places the order the stock was held for: the order takes the held stock over (the
    /// reservation becomes `consumed`). The order's `order_no` and warehouse are set from the
    /// hold when the hold names them. If the order is refused, the hold is released.
    pub async fn place(mut self, mut order: CreateOrderRequest) -> Result<Order, Error> {
        if let Some(order_no) = &self.reservation.order_no {
            order.order_no = order_no.clone();
        }
        order.warehouse_code = Some(self.reservation.warehouse_code.clone());
        let placed = self.client.create_order(&order).await;
        if placed.is_ok() {
            self.settled = true;
        }
        placed
    }

    /// Gives the stock back now.
    pub async fn release(mut self) -> Result<Reservation, Error> {
        self.settled = true;
        self.client
            .release_reservation(&self.reservation.reservation_id)
            .await
    }

    /// Keeps the stock held until its `expires_at` without placing an order here (another
    /// process will), and drops the guard.
    pub fn keep(mut self) -> Reservation {
        self.settled = true;
        self.reservation.clone()
    }
}

impl Drop for Hold {
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        let client = self.client.clone();
        let id = self.reservation.reservation_id.clone();
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                handle.spawn(async move {
                    if let Err(e) = client.release_reservation(&id).await {
                        tracing::warn!(reservation = %id, error = %e, "could not release a dropped hold");
                    }
                });
            }
            Err(_) => tracing::warn!(
                reservation = %id,
                "a hold was dropped outside a tokio runtime; it lapses at its expires_at"
            ),
        }
    }
}
