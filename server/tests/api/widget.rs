//! The widget's files: precompressed twins served as they are, hashed assets cached for a
//! year, `index.html` revalidated, deep links answered with `index.html`.

use crate::helpers::spawn_app_with;

#[tokio::test]
async fn precompressed_assets_are_served_with_their_encoding_and_hashed_ones_are_cached_for_a_year() {
    let widget = tempfile::tempdir().unwrap();
    std::fs::write(widget.path().join("index.html"), "<!doctype html><title>12345</title>").unwrap();
    std::fs::write(widget.path().join("index.html.br"), b"brotli index").unwrap();
    let wasm = "lianxin-app-0123456789abcdef_bg.wasm";
    std::fs::write(widget.path().join(wasm), b"\0asm plain").unwrap();
    std::fs::write(widget.path().join(format!("{wasm}.br")), b"brotli bytes").unwrap();
    std::fs::write(widget.path().join(format!("{wasm}.gz")), b"gzip bytes").unwrap();
    let dir = widget.path().to_owned();
    let app = spawn_app_with(move |config| config.widget_dir = dir).await;
    let client = reqwest::Client::builder().no_gzip().no_brotli().build().unwrap();

    let brotli = client.get(app.url(&format!("/{wasm}"))).header("Accept-Encoding", "gzip, br").send().await.unwrap();
    assert_eq!(brotli.headers()["content-encoding"], "br");
    assert_eq!(brotli.headers()["cache-control"], "public, max-age=31536000, immutable");
    assert_eq!(brotli.bytes().await.unwrap().as_ref(), b"brotli bytes");
    let gzip = client.get(app.url(&format!("/{wasm}"))).header("Accept-Encoding", "gzip").send().await.unwrap();
    assert_eq!(gzip.headers()["content-encoding"], "gzip");
    let plain = client.get(app.url(&format!("/{wasm}"))).send().await.unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    assert_eq!(plain.bytes().await.unwrap().as_ref(), b"\0asm plain");

    let index = client.get(app.url("/reports/ABCD2345")).header("Accept-Encoding", "br").send().await.unwrap();
    assert_eq!(index.status(), 200, "a deep link gets the widget");
    assert_eq!(index.headers()["cache-control"], "no-cache");
}
