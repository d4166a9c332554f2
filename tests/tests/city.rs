//! The city's public page (`/city`) as anyone opens it: plain HTML with SVG charts, in
//! three languages, passing axe-core's WCAG 2 A/AA rules; a screenshot of each is kept.

use lianxin_e2e::{Browser, Server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_public_page_shows_the_figures_in_three_languages_and_is_accessible() -> anyhow::Result<()> {
    // A minimum count of one, so the one report filed here shows in the figures.
    let server = Server::start_with(|config| config.public.min_count = 1).await?;
    let browser = Browser::start("zh-CN").await?;
    browser.open_widget(&server.url).await?;
    browser.choose("#category", "manhole_cover").await?;
    browser.choose("#district", "daoli").await?;
    browser.type_into("#description", "中央大街井盖缺失").await?;
    browser.send_report().await?;
    browser.text_of("#tracking-no").await?;

    let mut found = Vec::new();
    for (lang, category, district) in [("zh-CN", "井盖缺失或破损", "道里区"), ("en", "Missing or broken manhole cover", "Daoli"), ("ru", "люк", "Даоли")] {
        browser.client.goto(&format!("{}/city?lang={lang}", server.url)).await?;
        browser.wait_for_text("#categories", category).await?;
        browser.wait_for_text("#districts", district).await?;
        browser.wait_for("svg.bars").await?;
        browser.screenshot(&format!("city-{lang}")).await?;
        found.extend(browser.accessibility_violations().await?.into_iter().map(|violation| format!("{lang}: {violation}")));
    }
    browser.close().await?;
    assert!(found.is_empty(), "accessibility violations:\n{}", found.join("\n"));
    Ok(())
}
