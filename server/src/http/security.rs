//! What every response carries to be safe on the open internet: `nosniff`, no referrer, a
//! strict Content-Security-Policy (the widget's one inline bootstrap script allowed by its
//! hash, framing only by the configured embedding origins), and CORS for those origins.

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::Arc;
use tower_http::cors::{AllowOrigin, CorsLayer};

/// Headers computed once at start-up.
#[derive(Clone, Debug)]
pub struct SecurityHeaders {
    csp: HeaderValue,
}

impl SecurityHeaders {
    /// Builds the policy for the widget in `widget_dir`, embeddable by `allowed_origins`,
    /// showing map tiles from `tile_origins` (and images from nowhere else).
    pub fn new(widget_dir: &Path, allowed_origins: &[String], tile_origins: &[String]) -> SecurityHeaders {
        let index = std::fs::read_to_string(widget_dir.join("index.html")).unwrap_or_default();
        let script_hashes: String = inline_scripts(&index).map(|script| format!(" 'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(Sha256::digest(script.as_bytes())))).collect();
        let ancestors: String = allowed_origins.iter().map(|origin| format!(" {origin}")).collect();
        let tiles: String = tile_origins.iter().map(|origin| format!(" {origin}")).collect();
        let csp = format!(
            "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{script_hashes}; style-src 'self'; img-src 'self' blob: data:{tiles}; \
             connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'{ancestors}"
        );
        SecurityHeaders { csp: HeaderValue::from_str(&csp).expect("the policy is ASCII") }
    }
}

/// The contents of `<script>` elements without a `src`, as the browser hashes them.
fn inline_scripts(html: &str) -> impl Iterator<Item = &str> {
    html.split("<script").skip(1).filter_map(|rest| {
        let (attributes, body) = rest.split_once('>')?;
        if attributes.contains("src=") {
            return None;
        }
        Some(body.split_once("</script>")?.0)
    })
}

/// Adds the security headers to every response.
pub async fn add_headers(State(headers): State<Arc<SecurityHeaders>>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let map = response.headers_mut();
    map.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    map.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    map.insert(header::CONTENT_SECURITY_POLICY, headers.csp.clone());
    map.insert(HeaderName::from_static("permissions-policy"), HeaderValue::from_static("camera=(self), geolocation=(self), microphone=()"));
    response
}

/// CORS for the embedding origins; `None` when there are none (same-origin use only).
pub fn cors(allowed_origins: &[String]) -> Option<CorsLayer> {
    let origins: Vec<HeaderValue> = allowed_origins.iter().filter_map(|origin| HeaderValue::from_str(origin).ok()).collect();
    if origins.is_empty() {
        return None;
    }
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([header::CONTENT_TYPE, header::ACCEPT_LANGUAGE, header::IF_NONE_MATCH, HeaderName::from_static("idempotency-key")])
            .expose_headers([header::ETAG, header::RETRY_AFTER])
            .max_age(std::time::Duration::from_secs(3600)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_inline_scripts_are_hashed() {
        let html = r#"<script type="module">import init from '/a.js';</script><script src="/b.js"></script>"#;
        assert_eq!(inline_scripts(html).collect::<Vec<_>>(), ["import init from '/a.js';"]);
    }
}
