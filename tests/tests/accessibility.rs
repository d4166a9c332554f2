//! Every screen of the widget (start, errors, review, receipt, waiting to send) and the
//! follow-up pages (progress with the answer form, my reports),
//! in all three languages, passes axe-core's WCAG 2 A/AA rules
//! with no serious or critical violation; a screenshot of each is kept under
//! `target/e2e-screenshots` for a human look.

use lianxin_e2e::{Browser, Server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_screen_in_every_language_has_no_serious_accessibility_violation() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let browser = Browser::start("zh-CN").await?;
    // The checker itself must see a real violation: an image without a text alternative.
    browser.open_widget(&server.url).await?;
    browser.client.execute("const img = document.createElement('img'); img.src = '/robots.txt'; document.body.appendChild(img);", Vec::new()).await?;
    let planted = browser.accessibility_violations().await?;
    assert!(planted.iter().any(|violation| violation.starts_with("image-alt")), "axe missed a planted violation: {planted:?}");

    let mut found = Vec::new();
    for lang in ["zh-CN", "en", "ru"] {
        browser.open_widget(&format!("{}/?lang={lang}", server.url)).await?;
        browser.screenshot(&format!("{lang}-1-start")).await?;
        found.extend(browser.accessibility_violations().await?.into_iter().map(|violation| format!("{lang} start: {violation}")));

        browser.choose("#category", "taxi_overcharge").await?;
        browser.click("button[type=submit]").await?;
        browser.text_of("#field-plate-error").await?;
        browser.screenshot(&format!("{lang}-2-errors")).await?;
        found.extend(browser.accessibility_violations().await?.into_iter().map(|violation| format!("{lang} errors: {violation}")));

        browser.choose("#category", "manhole_cover").await?;
        browser.choose("#district", "daoli").await?;
        browser.type_into("#description", "井盖缺失 / missing cover").await?;
        browser.click("button[type=submit]").await?;
        browser.wait_for("#review").await?;
        browser.screenshot(&format!("{lang}-3-review")).await?;
        found.extend(browser.accessibility_violations().await?.into_iter().map(|violation| format!("{lang} review: {violation}")));
        browser.click("#send-report").await?;
        let tracking_no = browser.text_of("#tracking-no").await?;
        browser.screenshot(&format!("{lang}-4-receipt")).await?;
        found.extend(browser.accessibility_violations().await?.into_iter().map(|violation| format!("{lang} receipt: {violation}")));
        // The private follow-up page, waiting for the resident's answer.
        server.resolve(&tracking_no, "已修复 / fixed").await?;
        browser.click("#follow-up-link").await?;
        browser.wait_for("#answer-form").await?;
        browser.screenshot(&format!("{lang}-5-follow-up")).await?;
        found.extend(browser.accessibility_violations().await?.into_iter().map(|violation| format!("{lang} follow-up page: {violation}")));
        browser.open_widget(&format!("{}/?lang={lang}", server.url)).await?;
        browser.click("#my-reports").await?;
        browser.wait_for("#mine").await?;
        found.extend(browser.accessibility_violations().await?.into_iter().map(|violation| format!("{lang} my reports: {violation}")));
        browser.open_widget(&format!("{}/?lang={lang}", server.url)).await?;

        // No network: the report waits on the phone.
        browser.choose("#category", "street_light").await?;
        browser.choose("#district", "nangang").await?;
        browser.type_into("#description", "路灯不亮 / street light out").await?;
        browser.cdp("Network.enable", serde_json::json!({})).await?;
        browser.cdp("Network.emulateNetworkConditions", serde_json::json!({ "offline": true, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1 })).await?;
        browser.send_report().await?;
        browser.wait_for("#waiting").await?;
        browser.screenshot(&format!("{lang}-6-waiting")).await?;
        found.extend(browser.accessibility_violations().await?.into_iter().map(|violation| format!("{lang} waiting: {violation}")));
        browser.cdp("Network.emulateNetworkConditions", serde_json::json!({ "offline": false, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1 })).await?;
    }
    browser.close().await?;
    assert!(found.is_empty(), "accessibility violations:\n{}", found.join("\n"));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_form_fits_at_200_percent_zoom_has_44_pixel_targets_and_follows_dark_mode() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let browser = Browser::start("ru").await?;
    browser.open_widget(&format!("{}/?lang=ru", server.url)).await?;
    browser.choose("#category", "taxi_overcharge").await?;

    // Every control a finger must hit is at least 44 CSS pixels tall (WCAG 2.5.5).
    let small: Vec<String> = serde_json::from_value(
        browser
            .client
            .execute(
                "return [...document.querySelectorAll('button, select, input:not([type=checkbox]), textarea')]
            .filter(e => e.offsetParent !== null && e.getBoundingClientRect().height < 44)
            .map(e => (e.id || e.className || e.tagName) + ' ' + e.getBoundingClientRect().height)",
                vec![],
            )
            .await?,
    )?;
    assert!(small.is_empty(), "controls under 44 px: {small:?}");

    // Text at 200 % on a phone: the form reflows to a 320 CSS px wide viewport (WCAG 1.4.10)
    // with the font doubled, and nothing needs horizontal scrolling.
    browser.cdp("Emulation.setDeviceMetricsOverride", serde_json::json!({ "width": 320, "height": 640, "deviceScaleFactor": 2, "mobile": false })).await?;
    browser.client.execute("document.documentElement.style.fontSize = '200%'", vec![]).await?;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let overflow = browser.client.execute("return document.documentElement.scrollWidth - document.documentElement.clientWidth", vec![]).await?;
    // What overflows, for the failure message: elements wider than the viewport, or whose
    // content (an unbreakable text run) is wider than they are.
    let wide = browser
        .client
        .execute(
            "const w = document.documentElement.clientWidth; return [document.body, ...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > w + 1 || (e.scrollWidth > e.clientWidth + 1 && e.clientWidth > 0 && getComputedStyle(e).overflowX === 'visible'))
            .slice(0, 6).map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' + (e.textContent || '').slice(0, 30))",
            vec![],
        )
        .await?;
    browser.screenshot("ru-zoom-200").await?;
    assert_eq!(overflow.as_i64(), Some(0), "horizontal scrolling with 200 % text at 320 px; too wide: {wide}");
    browser.cdp("Emulation.clearDeviceMetricsOverride", serde_json::json!({})).await?;
    browser.client.execute("document.documentElement.style.fontSize = ''", vec![]).await?;

    // Dark mode: the page follows the phone's setting.
    let background = "return getComputedStyle(document.documentElement).backgroundColor";
    let light = browser.client.execute(background, vec![]).await?;
    browser.cdp("Emulation.setEmulatedMedia", serde_json::json!({ "features": [{ "name": "prefers-color-scheme", "value": "dark" }] })).await?;
    let dark = browser.client.execute(background, vec![]).await?;
    browser.screenshot("ru-dark").await?;
    assert_ne!(light, dark, "dark mode changes the background");
    let dark_violations = browser.accessibility_violations().await?;
    browser.close().await?;
    assert!(dark_violations.is_empty(), "dark mode: {dark_violations:?}");
    Ok(())
}
