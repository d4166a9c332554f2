//! `GET /api/v1/catalog`.

use serde_json::Value;

use crate::helpers::spawn_app;

#[tokio::test]
async fn catalog_is_served_with_an_etag_and_revalidates_with_304() {
    let app = spawn_app().await;
    let response = app.client.get(app.url("/api/v1/catalog")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let catalog: Value = response.json().await.unwrap();
    assert!(catalog["categories"].as_array().unwrap().iter().any(|category| category["code"] == "manhole_cover"));
    assert_eq!(catalog["districts"].as_array().unwrap().len(), 18);

    let again = app.client.get(app.url("/api/v1/catalog")).header("If-None-Match", &etag).send().await.unwrap();
    assert_eq!(again.status(), 304);
}

#[tokio::test]
async fn catalog_in_one_language_carries_only_that_language() {
    let app = spawn_app().await;
    let catalog: Value = app.client.get(app.url("/api/v1/catalog?lang=ru")).send().await.unwrap().json().await.unwrap();
    let manhole = catalog["categories"].as_array().unwrap().iter().find(|category| category["code"] == "manhole_cover").unwrap();
    assert_eq!(manhole["name"]["ru"], "Открытый или сломанный люк");
    assert_eq!(manhole["name"]["zh-CN"], "");
    assert_eq!(manhole["name"]["en"], "");
}

#[tokio::test]
async fn catalog_travels_compressed_when_the_client_accepts_it() {
    let app = spawn_app().await;
    let plain = app.client.get(app.url("/api/v1/catalog")).send().await.unwrap().bytes().await.unwrap();
    for encoding in ["br", "gzip"] {
        let response = app.client.get(app.url("/api/v1/catalog")).header("Accept-Encoding", encoding).send().await.unwrap();
        assert_eq!(response.headers()["content-encoding"], encoding);
        let compressed = response.bytes().await.unwrap();
        assert!(compressed.len() * 3 < plain.len(), "{encoding}: {} of {} bytes", compressed.len(), plain.len());
        if encoding == "br" {
            // Brotli'd once at start at the highest level: the catalog whole, and within a
            // few percent of the smallest brotli makes (a per-request level is ~25 % larger).
            let mut decoded = Vec::new();
            brotli::BrotliDecompress(&mut compressed.as_ref(), &mut decoded).unwrap();
            assert_eq!(decoded, plain.as_ref());
            assert!(compressed.len() <= lianxin_server::http::precompressed::brotli(&plain).len() + 64, "{} bytes", compressed.len());
        }
    }
}
