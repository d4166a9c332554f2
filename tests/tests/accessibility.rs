//! Every screen of the widget (start, errors, review, receipt with status, waiting to send),
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
        browser.text_of("#tracking-no").await?;
        browser.click("#check-status").await?;
        browser.text_of("#current-status").await?;
        browser.screenshot(&format!("{lang}-4-receipt")).await?;
        found.extend(browser.accessibility_violations().await?.into_iter().map(|violation| format!("{lang} receipt: {violation}")));

        // No network: the report waits on the phone.
        browser.click("#new-report").await?;
        browser.choose("#category", "street_light").await?;
        browser.choose("#district", "nangang").await?;
        browser.type_into("#description", "路灯不亮 / street light out").await?;
        browser.cdp("Network.enable", serde_json::json!({})).await?;
        browser.cdp("Network.emulateNetworkConditions", serde_json::json!({ "offline": true, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1 })).await?;
        browser.send_report().await?;
        browser.wait_for("#waiting").await?;
        browser.screenshot(&format!("{lang}-5-waiting")).await?;
        found.extend(browser.accessibility_violations().await?.into_iter().map(|violation| format!("{lang} waiting: {violation}")));
        browser.cdp("Network.emulateNetworkConditions", serde_json::json!({ "offline": false, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1 })).await?;
    }
    browser.close().await?;
    assert!(found.is_empty(), "accessibility violations:\n{}", found.join("\n"));
    Ok(())
}
