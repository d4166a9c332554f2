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

/// The widget's page as the server sends it: the first screen rendered in, in the language
/// the widget will start in, narrowed and preset as the URL asks; a deep link and a build
/// without the marker get the file as it is.
#[tokio::test]
async fn the_page_carries_the_category_list_in_the_residents_language_before_the_widget_starts() {
    let widget = tempfile::tempdir().unwrap();
    std::fs::write(widget.path().join("index.html"), "<!doctype html><html lang=\"zh-CN\"><title>12345</title><body><!-- first-screen --><div id=\"boot-fallback\"></div></body></html>").unwrap();
    let dir = widget.path().to_owned();
    let app = spawn_app_with(move |config| config.widget_dir = dir).await;
    let client = reqwest::Client::builder().no_gzip().no_brotli().build().unwrap();
    let page = |path: &'static str, lang: &'static str| {
        let request = client.get(app.url(path)).header("Accept-Language", lang);
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 200);
            assert_eq!(response.headers()["cache-control"], "no-cache");
            let vary: Vec<&str> = response.headers().get_all("vary").iter().filter_map(|value| value.to_str().ok()).collect();
            assert!(vary.iter().any(|value| value.to_ascii_lowercase().contains("accept-language")), "a cache keeps one page per language: {vary:?}");
            response.text().await.unwrap()
        }
    };

    let chinese = page("/", "zh-CN,zh;q=0.9").await;
    assert!(chinese.starts_with("<!doctype html><html lang=\"zh-CN\">"), "{chinese}");
    assert!(chinese.contains("<main id=\"first-screen\" class=\"lianxin\">") && chinese.contains("<label for=\"category\">问题类别</label>"), "{chinese}");
    assert!(chinese.contains("<option value=\"manhole_cover\">") && chinese.contains("井盖") && chinese.contains("<optgroup label="), "{chinese}");
    assert!(chinese.ends_with("</select></div></main><div id=\"boot-fallback\"></div></body></html>"), "the rest of the page follows: {chinese}");

    let russian = page("/", "ru-RU,ru;q=0.9").await;
    assert!(russian.contains("<html lang=\"ru\">") && russian.contains("Что случилось?") && russian.contains("Такси"), "{russian}");
    let asked = page("/index.html?lang=en", "ru").await;
    assert!(asked.contains("<html lang=\"en\">") && asked.contains("What is the problem?"), "?lang= wins: {asked}");

    // A department's page offers its own categories, the preset one chosen.
    let department = page("/?department=bus_taxi_centre&category=bus_route", "en").await;
    assert!(department.contains("<option value=\"bus_route\" selected>") && department.contains("value=\"taxi_overcharge\""), "{department}");
    assert!(!department.contains("value=\"manhole_cover\""), "only the department's categories: {department}");
    let unknown = page("/?department=nobody&category=nothing", "en").await;
    assert!(unknown.contains("value=\"manhole_cover\"") && !unknown.contains(" selected>"), "an unknown preset offers everything, chooses nothing: {unknown}");

    // A phone's first request, which accepts brotli: the same page, compressed once at start.
    let compressed = client.get(app.url("/")).header("Accept-Language", "ru").header("Accept-Encoding", "gzip, br").send().await.unwrap();
    assert_eq!(compressed.headers()["content-encoding"], "br");
    let mut decoded = Vec::new();
    brotli::BrotliDecompress(&mut compressed.bytes().await.unwrap().as_ref(), &mut decoded).unwrap();
    assert_eq!(String::from_utf8(decoded).unwrap(), russian);

    let deep = client.get(app.url("/reports/ABCD2345")).send().await.unwrap().text().await.unwrap();
    assert!(deep.contains("<!-- first-screen -->") && !deep.contains("first-screen\""), "a deep link gets the file: {deep}");

    // A widget build without the marker is served as it is.
    let plain = tempfile::tempdir().unwrap();
    std::fs::write(plain.path().join("index.html"), "<!doctype html><title>12345</title>").unwrap();
    let dir = plain.path().to_owned();
    let app = spawn_app_with(move |config| config.widget_dir = dir).await;
    assert_eq!(app.client.get(app.url("/")).send().await.unwrap().text().await.unwrap(), "<!doctype html><title>12345</title>");
}
