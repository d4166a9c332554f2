//! Serves the built widget (Trunk's `dist/`): hashed assets as files, and `index.html` for
//! every other path so deep links into the widget work.

use std::path::Path;

use tower_http::services::{ServeDir, ServeFile};

/// The static file service for the widget directory.
pub fn service(widget_dir: &Path) -> ServeDir<ServeFile> {
    if !widget_dir.join("index.html").exists() {
        tracing::warn!(dir = %widget_dir.display(), "the widget is not built here; run `cargo xtask run` to build it");
    }
    ServeDir::new(widget_dir).fallback(ServeFile::new(widget_dir.join("index.html")))
}
