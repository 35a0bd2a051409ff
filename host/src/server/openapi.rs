//! `GET /openapi.json`: the application's OpenAPI document, read once at
//! start-up from `openapi.yaml` next to the manifest (when there is one)
//! and served as JSON.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use axum::response::{IntoResponse, Response};

/// The document as JSON text, or `None` when the application has none.
pub(super) fn load(manifest: &Path) -> anyhow::Result<Option<Arc<str>>> {
    let path = manifest
        .parent()
        .unwrap_or_else(|| Path::new("."))
        .join("openapi.yaml");
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| path.display().to_string()),
    };
    let document: serde_json::Value = serde_yaml_ng::from_str(&text)
        .with_context(|| format!("{} is not valid YAML", path.display()))?;
    Ok(Some(document.to_string().into()))
}

pub(super) async fn serve(document: Arc<str>) -> Response {
    (
        [(http::header::CONTENT_TYPE, "application/json")],
        document.to_string(),
    )
        .into_response()
}
