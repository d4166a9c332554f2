//! Serves the built widget (Trunk's `dist/`): hashed assets as files, and `index.html` for
//! every other path so deep links into the widget work. `cargo xtask build-widget` writes a
//! brotli (`.br`) and gzip (`.gz`) twin beside each asset at maximum compression; those are
//! served as they are to browsers that accept them, so a phone gets the smallest bytes and
//! the server compresses nothing per request. Hashed assets never change under their name
//! and are cached for a year; `index.html` is revalidated every time.

use std::path::Path;

use axum::http::{HeaderValue, Request, header};
use axum::middleware::Next;
use axum::response::Response;
use tower_http::services::{ServeDir, ServeFile};

/// The static file service for the widget directory.
pub fn service(widget_dir: &Path) -> ServeDir<ServeFile> {
    if !widget_dir.join("index.html").exists() {
        tracing::warn!(dir = %widget_dir.display(), "the widget is not built here; run `cargo xtask run` to build it");
    }
    ServeDir::new(widget_dir).precompressed_br().precompressed_gzip().fallback(ServeFile::new(widget_dir.join("index.html")).precompressed_br().precompressed_gzip())
}

/// Whether a file name carries Trunk's content hash (`name-<16 hex>.ext` or `_bg.wasm`).
fn is_hashed(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or_default();
    let stem = name.split('.').next().unwrap_or_default().trim_end_matches("_bg");
    stem.rsplit_once('-').is_some_and(|(_, hash)| hash.len() == 16 && hash.bytes().all(|byte| byte.is_ascii_hexdigit()))
}

/// Sets the widget's caching: a year for hashed assets, revalidation for everything else.
pub async fn cache_control(request: Request<axum::body::Body>, next: Next) -> Response {
    let hashed = is_hashed(request.uri().path());
    let mut response = next.run(request).await;
    if response.status().is_success() && !response.headers().contains_key(header::CACHE_CONTROL) {
        let value = if hashed { "public, max-age=31536000, immutable" } else { "no-cache" };
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    }
    response
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_trunk_hashed_names_count_as_immutable() {
        assert!(super::is_hashed("/lianxin-app-1b6b2d6682a4b602_bg.wasm"));
        assert!(super::is_hashed("/lianxin-app-1b6b2d6682a4b602.js"));
        assert!(super::is_hashed("/main-cf8c43643f2ca846.css"));
        assert!(!super::is_hashed("/index.html"));
        assert!(!super::is_hashed("/embed.js"));
        assert!(!super::is_hashed("/"));
    }
}
