//! The widget in headless Chromium: time to a usable form on a cold cache under
//! Lighthouse's slow 4G (150 ms RTT, 1.6 Mbps down, 750 kbps up) and 4× CPU slowdown, set
//! through the DevTools protocol, beside the plain HTML form under the same conditions;
//! and the in-browser preparation of a 12-megapixel photo (bytes out, milliseconds).

use std::time::{Duration, Instant};

use anyhow::bail;
use lianxin_e2e::{Browser, Server, camera_photo};
use serde_json::json;

use crate::ceilings::BareServer;
use crate::report::{Report, median};

/// Sets slow 4G and 4× CPU on a fresh browser, then returns milliseconds from navigation
/// start until `ready_css` exists on the page at `url`.
async fn time_to(url: &str, ready_css: &str) -> anyhow::Result<f64> {
    let browser = Browser::start("zh-CN").await?;
    browser.cdp("Network.enable", json!({})).await?;
    browser.cdp("Network.setCacheDisabled", json!({ "cacheDisabled": true })).await?;
    browser.cdp("Network.emulateNetworkConditions", json!({ "offline": false, "latency": 150, "downloadThroughput": 1_600_000 / 8, "uploadThroughput": 750_000 / 8 })).await?;
    browser.cdp("Emulation.setCPUThrottlingRate", json!({ "rate": 4 })).await?;
    browser.client.goto(url).await?;
    let script = format!("return document.querySelector({ready_css:?}) ? performance.now() : null");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(ms) = browser.client.execute(&script, vec![]).await?.as_f64() {
            browser.close().await?;
            return Ok(ms);
        }
        if Instant::now() > deadline {
            bail!("{ready_css} never appeared at {url}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Runs the browser scenarios.
pub async fn run(report: &mut Report, quick: bool) -> anyhow::Result<()> {
    let runs = if quick { 3 } else { 7 };
    let server = Server::start().await?;
    let bare = BareServer::start().await?;
    let (mut widget, mut started, mut plain) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        // Usable: the category list, which the server renders into the page (the first
        // screen); started: the widget's own search box, once the WebAssembly runs.
        widget.push(time_to(&server.url, "#category").await?);
        started.push(time_to(&server.url, "#category-search").await?);
        plain.push(time_to(&format!("{}/plain", bare.url), "select[name=category]").await?);
    }
    let (widget_ms, started_ms, plain_ms) = (median(&mut widget), median(&mut started), median(&mut plain));
    report.add("widget", format!("time until the widget has started, slow 4G + 4× CPU, cold (median of {runs})"), started_ms, "ms").baseline("plain HTML form", plain_ms);
    report.add("widget", format!("time to a usable form, slow 4G + 4× CPU, cold (median of {runs})"), widget_ms, "ms").baseline("plain HTML form", plain_ms).target("≤ 2000 ms", widget_ms <= 2000.0);
    let ratio = widget_ms / plain_ms.max(1.0);
    report.add("widget", "time to a usable form: share of the plain form's", ratio, "").target("≤ 1.25", ratio <= 1.25);

    let dir = tempfile::tempdir()?;
    let photo = camera_photo(dir.path(), 4000, 3000)?;
    let original = std::fs::metadata(&photo)?.len();
    let (mut times, mut sizes) = (Vec::new(), Vec::new());
    for _ in 0..runs.min(5) {
        let browser = Browser::start("zh-CN").await?;
        browser.open_widget(&server.url).await?;
        browser.choose("#category", "road_damage").await?;
        let started = Instant::now();
        browser.attach("#photo", &photo).await?;
        browser.wait_for(".photo img").await?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        let shown = browser.text_of(".photo-size").await?;
        let kb: f64 = shown.trim_end_matches("KB").trim().parse().unwrap_or(0.0);
        sizes.push(kb * 1024.0);
        browser.close().await?;
    }
    report.add("widget", "12 MP photo prepared in the browser: time (no throttling)", median(&mut times), "ms");
    let size = median(&mut sizes);
    report.add("widget", "12 MP photo prepared in the browser: bytes sent", size, "B").baseline("camera file", original as f64).target("≤ 500 KB", size <= 500.0 * 1024.0);
    Ok(())
}
