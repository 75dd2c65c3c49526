//! Shipping labels (面单生成): `create_label` on an `allocated` order assigns a tracking number,
//! moves the order to `label_created`, starts its parcel and answers a signed, expiring download
//! link served here (not in the spec, not signed by the client):
//! `GET /openclaw-fulfillment/files/labels/{label_id}.{pdf|zpl}?expires=<unix s>&token=<hex>`,
//! a one-page 100x150 mm PDF with the tracking number as text, or ZPL for thermal printers. The
//! link works 7 days (server clock); a wrong token or an expired link is 403.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::Fulfillment;
use super::clock::rfc3339;
use super::error::{ApiError, answer};
use super::input::{Num, Qty, Query, json_body, present};
use super::logistics::{Node, Trip, follow, route};
use super::orders::order_no;
use super::signing::hmac_hex;
use super::state::Inner;
use crate::kit::ids::mix;
use crate::kit::tokens::same;

/// How long a label link works.
const LINK_TTL_MS: i64 = 7 * 24 * 3600 * 1000;

/// `LabelFormat`.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
enum LabelFormat {
    #[default]
    Pdf,
    Zpl,
}

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
struct CreateLabelRequest {
    carrier: String,
    service_code: String,
    #[serde(default, deserialize_with = "present")]
    label_format: Option<LabelFormat>,
    #[allow(dead_code)]
    parcel: ParcelSize,
    #[serde(default, deserialize_with = "present")]
    #[allow(dead_code)]
    customs_items: Option<Vec<CustomsItem>>,
}

/// A created label.
#[derive(Debug, Clone)]
pub(super) struct Label {
    id: String,
    order_no: String,
    carrier: String,
    tracking: String,
    /// `pdf` or `zpl`.
    format: &'static str,
}

/// A tracking number of `carrier`: its code's letters (`4PX`), 13 digits, `CN`.
pub(super) fn tracking_number(carrier: &str, seed: u64, serial: u64) -> String {
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

impl Fulfillment {
    /// The token of a label link.
    fn link_token(&self, file: &str, expires: i64) -> String {
        let mut token = hmac_hex(&self.link_key, &format!("{file}\n{expires}"));
        token.truncate(32);
        token
    }
}

/// Labels the `allocated` order `no`: its parcel starts (`info_received` at its warehouse) and
/// the order becomes `label_created` with `carrier` and `tracking`; 409 `invalid_order_state`
/// for an order in another status.
pub(super) fn label_order(
    inner: &mut Inner,
    no: &str,
    carrier: &str,
    tracking: &str,
    now: i64,
) -> Result<(), ApiError> {
    let Some(order) = inner.orders.get(no) else {
        return Err(ApiError::order_not_found(no));
    };
    if order.status != "allocated" {
        return Err(ApiError::conflict(
            "invalid_order_state",
            format!(
                "Order {no} is {}; a label needs an allocated order",
                order.status
            ),
        ));
    }
    let warehouse = order.warehouse.clone().unwrap_or_default();
    let recipient = order.request.recipient.clone();
    let origin = inner
        .warehouse(&warehouse)
        .map_or(("CN", "Shenzhen"), |w| (w.country, w.city));
    let trip = Trip {
        tracking,
        carrier,
        order_no: no,
        origin,
        destination: (&recipient.country_code, &recipient.city),
        route: route(
            no,
            &recipient.country_code,
            &recipient.postal_code,
            origin.0,
        ),
    };
    let first = Node::new(
        now,
        "info_received",
        "IR",
        "电子信息已收到 Shipment information received",
        origin,
    );
    inner.open_parcel(trip, first);
    if let Some(order) = inner.orders.get_mut(no) {
        order.status = "label_created";
        order.carrier = Some(carrier.to_string());
        order.tracking = Some(tracking.to_string());
        order.updated = now;
    }
    Ok(())
}

/// `POST /v2.1/orders/{order_no}/labels`: 201 `ShippingLabel`; 409 `invalid_order_state` unless
/// the order is `allocated`.
pub(super) async fn create(
    State(f): State<Arc<Fulfillment>>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let no = order_no(path)?;
    if !f.with(|inner, _| inner.orders.contains_key(&no)) {
        return Err(ApiError::order_not_found(&no));
    }
    let request: CreateLabelRequest = json_body(&body)?;
    let format = match request.label_format.unwrap_or_default() {
        LabelFormat::Pdf => "pdf",
        LabelFormat::Zpl => "zpl",
    };
    let id = f.short_id("lbl_");
    let label = f.with(|inner, now| {
        let tracking = tracking_number(&request.carrier, f.config.seed, inner.next_serial());
        label_order(inner, &no, &request.carrier, &tracking, now)?;
        let label = Label {
            id: id.clone(),
            order_no: no.clone(),
            carrier: request.carrier.clone(),
            tracking,
            format,
        };
        inner.labels.insert(id.clone(), label.clone());
        Ok((label, now))
    })?;
    let (label, now) = label;
    follow(&f, label.tracking.clone());
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("127.0.0.1");
    let scheme = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .filter(|p| *p == "https")
        .unwrap_or("http");
    let expires = now + LINK_TTL_MS;
    let file = format!("{}.{}", label.id, label.format);
    let token = f.link_token(&file, expires / 1000);
    let url = format!(
        "{scheme}://{host}{}/files/labels/{file}?expires={}&token={token}",
        super::prefix(),
        expires / 1000
    );
    Ok(answer(
        StatusCode::CREATED,
        json!({
            "label_id": label.id,
            "order_no": label.order_no,
            "carrier": label.carrier,
            "service_code": request.service_code,
            "tracking_number": label.tracking,
            "label_format": label.format,
            "label_url": url,
            "label_url_expires_at": rfc3339(expires),
            "created_at": rfc3339(now),
        }),
    ))
}

/// `GET /files/labels/{label_id}.{pdf|zpl}?expires=&token=`: the label file.
pub(super) async fn download(
    State(f): State<Arc<Fulfillment>>,
    path: Result<Path<String>, PathRejection>,
    uri: Uri,
) -> Result<Response, ApiError> {
    let Ok(Path(file)) = path else {
        return Err(ApiError::not_found("label", "(undecodable)"));
    };
    let query = Query::parse(uri.query()).unwrap_or_default();
    let expires: i64 = query
        .text("expires")
        .and_then(|e| e.parse().ok())
        .unwrap_or(0);
    let token = query.text("token").unwrap_or_default();
    let forbidden = |why: &str| {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "permission_denied",
            format!("Label link {why}"),
        )
    };
    if !same(token, &f.link_token(&file, expires)) {
        return Err(forbidden("signature invalid"));
    }
    if expires * 1000 < f.clock.now_ms() {
        return Err(forbidden("expired; create the label again for a new link"));
    }
    let (id, ext) = file.rsplit_once('.').unwrap_or((&file, ""));
    let label = f.with(|inner, _| inner.labels.get(id).cloned());
    let Some(label) = label.filter(|l| l.format == ext) else {
        return Err(ApiError::not_found("label", &file));
    };
    let (content_type, bytes) = match label.format {
        "zpl" => ("text/plain; charset=utf-8", zpl(&label).into_bytes()),
        _ => ("application/pdf", pdf(&label)),
    };
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{file}\""),
            ),
        ],
        bytes,
    )
        .into_response())
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
            format: "pdf",
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
