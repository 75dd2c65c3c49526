//! Shipping labels (面单生成): the request body, the label and its `ShippingLabel` body, the
//! tracking numbers a carrier gives, the signed, expiring download link (not in the spec, not
//! signed by the client: `GET /openclaw-fulfillment/files/labels/{label_id}.{pdf|zpl}?expires=<unix
//! s>&token=<hex>`, 7 days on the server clock) and the files: a one-page 100x150 mm PDF with the
//! tracking number as text, or ZPL for thermal printers.

use openclaw_fulfillment_api::types::{self, LabelFormat};
use serde::Deserialize;

use crate::fulfillment::clock::time;
use crate::fulfillment::read::{Num, Qty, present};
use crate::fulfillment::signing::hmac_hex;
use crate::kit::ids::mix;

/// How long a label link works.
pub(crate) const LINK_TTL_MS: i64 = 7 * 24 * 3600 * 1000;

/// `Parcel` of a label request.
#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct ParcelSize {
    weight_g: Qty,
    #[serde(default, deserialize_with = "present")]
    length_cm: Option<Num>,
    #[serde(default, deserialize_with = "present")]
    width_cm: Option<Num>,
    #[serde(default, deserialize_with = "present")]
    height_cm: Option<Num>,
}

/// `CustomsItem`.
#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct CustomsItem {
    #[serde(default, deserialize_with = "present")]
    sku: Option<String>,
    description_en: String,
    #[serde(default, deserialize_with = "present")]
    description_cn: Option<String>,
    hs_code: String,
    quantity: Qty,
    declared_value: String,
    currency: String,
    #[serde(default, deserialize_with = "present")]
    origin_country: Option<String>,
}

/// `CreateLabelRequest`.
#[derive(Debug, Deserialize)]
pub(crate) struct CreateLabelRequest {
    pub(crate) carrier: String,
    pub(crate) service_code: String,
    #[serde(default, deserialize_with = "present")]
    pub(crate) label_format: Option<LabelFormat>,
    #[allow(dead_code)]
    parcel: ParcelSize,
    #[serde(default, deserialize_with = "present")]
    #[allow(dead_code)]
    customs_items: Option<Vec<CustomsItem>>,
}

/// A created label: its id (`lbl_…`), the order it ships, the carrier's code, its tracking
/// number and its file format.
#[derive(Debug, Clone)]
pub(crate) struct Label {
    id: String,
    order_no: String,
    carrier: String,
    tracking: String,
    format: LabelFormat,
}

impl Label {
    /// The label `id` of order `order_no`, by `carrier` with `tracking`, as a `format` file.
    pub(crate) fn new(
        id: String,
        order_no: String,
        carrier: String,
        tracking: String,
        format: LabelFormat,
    ) -> Self {
        Label {
            id,
            order_no,
            carrier,
            tracking,
            format,
        }
    }

    /// The file name of its download: `{label_id}.{pdf|zpl}`.
    pub(crate) fn file(&self) -> String {
        format!("{}.{}", self.id, self.format)
    }

    /// The `ShippingLabel` body of it, created at `now` for `service_code`, downloaded from `url`
    /// until `expires` (Unix ms).
    pub(crate) fn wire(
        &self,
        service_code: &str,
        url: String,
        expires: i64,
        now: i64,
    ) -> types::ShippingLabel {
        types::ShippingLabel {
            carrier: self.carrier.clone(),
            created_at: time(now),
            label_format: self.format,
            label_id: self.id.clone(),
            label_url: url,
            label_url_expires_at: Some(time(expires)),
            order_no: self.order_no.clone(),
            service_code: service_code.to_string(),
            tracking_number: self.tracking.clone(),
        }
    }

    /// The file's content type and bytes.
    pub(crate) fn content(&self) -> (&'static str, Vec<u8>) {
        match self.format {
            LabelFormat::Zpl => ("text/plain; charset=utf-8", zpl(self).into_bytes()),
            LabelFormat::Pdf => ("application/pdf", pdf(self)),
        }
    }
}

/// A tracking number of `carrier`: its code's letters (`4PX`), 13 digits, `CN`.
pub(crate) fn tracking_number(carrier: &str, seed: u64, serial: u64) -> String {
    let mut prefix: String = carrier
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(4)
        .collect::<String>()
        .to_ascii_uppercase();
    if prefix.is_empty() {
        prefix = "OC".into();
    }
    let digits = mix(seed ^ mix(serial)) % 10_000_000_000_000;
    format!("{prefix}{digits:013}CN")
}

/// The token of a label link to `file` until `expires` (Unix s), keyed with `key`.
pub(crate) fn link_token(key: &str, file: &str, expires: i64) -> String {
    let mut token = hmac_hex(key, &format!("{file}\n{expires}"));
    token.truncate(32);
    token
}

/// Text fit for a PDF string in Helvetica: printable ASCII, `\`, `(` and `)` escaped.
fn pdf_text(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\\' | '(' | ')' => format!("\\{c}"),
            ' '..='~' => c.to_string(),
            _ => "?".to_string(),
        })
        .collect()
}

/// A one-page 100x150 mm PDF with the label's carrier, tracking number and order number.
fn pdf(label: &Label) -> Vec<u8> {
    let lines = [
        "OpenClaw sandbox shipping label".to_string(),
        format!("Carrier: {}", label.carrier),
        format!("Tracking: {}", label.tracking),
        format!("Order: {}", label.order_no),
        format!("Label: {}", label.id),
    ];
    let mut content = String::from("BT /F1 12 Tf 20 390 Td 20 TL\n");
    for line in &lines {
        content.push_str(&format!("({}) Tj T*\n", pdf_text(line)));
    }
    content.push_str("ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 283 425] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>".to_string(),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
        format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len()),
    ];
    let mut out = String::from("%PDF-1.4\n");
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.push_str(&format!("{} 0 obj\n{object}\nendobj\n", i + 1));
    }
    let xref = out.len();
    out.push_str(&format!(
        "xref\n0 {}\n0000000000 65535 f \n",
        objects.len() + 1
    ));
    for offset in offsets {
        out.push_str(&format!("{offset:010} 00000 n \n"));
    }
    out.push_str(&format!(
        "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    ));
    out.into_bytes()
}

/// The label as ZPL II.
fn zpl(label: &Label) -> String {
    let clean = |s: &str| s.replace(['^', '~'], " ");
    format!(
        "^XA\n^CF0,40\n^FO40,40^FD{}^FS\n^BY3\n^FO40,110^BCN,120,Y,N,N^FD{}^FS\n^CF0,30\n^FO40,290^FDOrder {}^FS\n^XZ\n",
        clean(&label.carrier.to_ascii_uppercase()),
        clean(&label.tracking),
        clean(&label.order_no)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label() -> Label {
        Label {
            id: "lbl_01K000000000".into(),
            order_no: "#1001 (A)\\é".into(),
            carrier: "4px".into(),
            tracking: "4PX3001286439901CN".into(),
            format: LabelFormat::Pdf,
        }
    }

    #[test]
    fn the_pdf_is_well_formed_with_the_tracking_number() {
        let bytes = pdf(&label());
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.starts_with("%PDF-1.4\n"));
        assert!(text.ends_with("%%EOF\n"));
        assert!(text.contains("(Tracking: 4PX3001286439901CN)"));
        assert!(text.contains("(Order: #1001 \\(A\\)\\\\?)"));
        // Every xref offset points at its object.
        let xref = text.find("xref\n").unwrap();
        for (i, line) in text[xref..].lines().skip(3).take(5).enumerate() {
            let offset: usize = line[..10].parse().unwrap();
            assert!(text[offset..].starts_with(&format!("{} 0 obj", i + 1)));
        }
        let startxref: usize = text
            .rsplit("startxref\n")
            .next()
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(startxref, xref);
    }

    #[test]
    fn zpl_and_tracking_numbers() {
        assert!(zpl(&label()).starts_with("^XA"));
        assert!(zpl(&label()).contains("^FD4PX3001286439901CN^FS"));
        let n = tracking_number("4px", 42, 7);
        assert!(
            n.starts_with("4PX") && n.ends_with("CN") && n.len() == 18,
            "{n}"
        );
        assert_eq!(n, tracking_number("4px", 42, 7));
        assert!(tracking_number("无忧", 1, 1).starts_with("OC"));
    }
}
