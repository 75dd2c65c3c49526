//! Shipping labels: created for an order with a carrier service, downloaded from the signed,
//! expiring `label_url` (a plain GET: the link is its own credential, no API signature).

use tokio::io::AsyncWrite;

use super::client::Client;
use super::error::Error;
use openclaw_fulfillment_api::types::{CreateLabelRequest, ShippingLabel};

impl Client {
    /// Creates the shipping label of an order (面单生成): the order gets its tracking number and
    /// moves to `label_created`. Not retried unless nothing was done (a second label would be a
    /// second parcel).
    pub async fn create_label(
        &self,
        order_no: &str,
        label: &CreateLabelRequest,
    ) -> Result<ShippingLabel, Error> {
        self.write("create label", |api| {
            api.create_label()
                .order_no(order_no)
                .body(label.clone())
                .send()
        })
        .await
    }

    /// Streams a label's file (PDF or ZPL, as created) to `out`; returns the bytes written. The
    /// link expires (`label_url_expires_at`): create the label again for a fresh one.
    pub async fn download_label<W: AsyncWrite + Unpin>(
        &self,
        label: &ShippingLabel,
        out: &mut W,
    ) -> Result<u64, Error> {
        let written =
            clawkit_runtime::download::download(&self.inner.files, &label.label_url, out).await?;
        Ok(written)
    }
}
