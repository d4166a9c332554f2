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

#[tokio::test]
async fn the_catalog_without_search_words_and_the_words_apart_together_find_what_the_whole_one_finds() {
    let app = spawn_app().await;
    let get = |path: &'static str| {
        let client = app.client.clone();
        let url = app.url(path);
        async move {
            let response = client.get(url).send().await.unwrap();
            assert_eq!(response.status(), 200, "{path}");
            let etag = response.headers()["etag"].to_str().unwrap().to_owned();
            let bytes = response.bytes().await.unwrap();
            (serde_json::from_slice::<lianxin_contract::Catalog>(&bytes).ok(), serde_json::from_slice::<Value>(&bytes).unwrap(), bytes.len(), etag)
        }
    };
    let (whole, _, whole_bytes, _) = get("/api/v1/catalog?lang=en").await;
    let (slim, slim_json, slim_bytes, slim_etag) = get("/api/v1/catalog?lang=en&keywords=apart").await;
    let (_, words_json, _, words_etag) = get("/api/v1/catalog/keywords").await;
    let (whole, mut slim) = (whole.unwrap(), slim.unwrap());

    assert!(slim_json["categories"].as_array().unwrap().iter().all(|category| category.get("keywords").is_none()), "no search words travel with it");
    assert!(slim_bytes * 4 < whole_bytes * 3, "{slim_bytes} of {whole_bytes} bytes");
    assert_eq!(slim.categories.len(), whole.categories.len());
    // The words apart: every category's, in all three languages, its names in all three too.
    let words: lianxin_contract::catalog::SearchWords = serde_json::from_value(words_json).unwrap();
    let taxi = &words.iter().find(|words| words.code == "taxi_overcharge").unwrap().keywords;
    assert!(taxi.zh.iter().any(|word| word.contains("出租")) && taxi.ru.iter().any(|word| word.contains("такси")), "{taxi:?}");
    slim.add_search_words(&words);
    for (joined, full) in slim.categories.iter().zip(&whole.categories) {
        assert!(full.keywords.all().all(|word| joined.keywords.all().any(|kept| kept == word)), "{}: every search word of the whole catalog", full.code);
    }

    // Both revalidate with their own ETags.
    for (path, etag) in [("/api/v1/catalog?lang=en&keywords=apart", slim_etag), ("/api/v1/catalog/keywords", words_etag)] {
        let again = app.client.get(app.url(path)).header("If-None-Match", &etag).send().await.unwrap();
        assert_eq!(again.status(), 304, "{path}");
    }
    // A place the server does not know is refused in words, not ignored.
    let refused = app.client.get(app.url("/api/v1/catalog?lang=en&keywords=elsewhere")).send().await.unwrap();
    assert_eq!(refused.status(), 422);
    let problem: Value = refused.json().await.unwrap();
    assert!(problem["errors"][0]["detail"].as_str().is_some_and(|detail| detail.contains("expected `apart`")), "{problem}");
}
