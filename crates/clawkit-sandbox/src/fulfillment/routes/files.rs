//! The label files behind the signed links `create_label` answers (not in the spec, not signed
//! by the client): `GET /files/labels/{label_id}.{pdf|zpl}?expires=<unix s>&token=<hex>`. A wrong
//! token or an expired link is 403.

use std::sync::Arc;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{Uri, header};
use axum::response::{IntoResponse, Response};

use crate::fulfillment::error::ApiError;
use crate::fulfillment::model::labels::link_token;
use crate::fulfillment::read::{Query, segment};
use crate::fulfillment::state::Fulfillment;
use crate::kit::tokens::same;

/// `GET /files/labels/{label_id}.{pdf|zpl}?expires=&token=`: the label file.
pub(crate) async fn download(
    State(f): State<Arc<Fulfillment>>,
    path: Result<Path<String>, PathRejection>,
    uri: Uri,
) -> Result<Response, ApiError> {
    let file = segment(path, "label")?;
    let query = Query::parse(uri.query()).unwrap_or_default();
    let expires: i64 = query
        .text("expires")
        .and_then(|e| e.parse().ok())
        .unwrap_or(0);
    let token = query.text("token").unwrap_or_default();
    let forbidden = |why: &str| ApiError::forbidden(format!("Label link {why}"));
    if !same(token, &link_token(&f.link_key, &file, expires)) {
        return Err(forbidden("signature invalid"));
    }
    if expires.saturating_mul(1000) < f.clock.now_ms() {
        return Err(forbidden("expired; create the label again for a new link"));
    }
    let id = file.rsplit_once('.').map_or(file.as_str(), |(id, _)| id);
    let label = f.with(|inner, _| inner.labels.get(id).cloned());
    let Some(label) = label.filter(|l| l.file() == file) else {
        return Err(ApiError::not_found("label", &file));
    };
    let (content_type, bytes) = label.content();
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
