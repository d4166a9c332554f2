//! A resident files a report in the real widget, in headless Chromium at a phone's size,
//! against the real server: choose the category, describe, attach a photo, send, read the
//! tracking number; the same report is then in the city's pipeline.

use std::time::{Duration, Instant};

use lianxin_e2e::{Browser, Server, photo_file};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resident_files_a_report_with_a_photo_and_gets_a_tracking_number_that_reaches_the_pipeline() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let browser = Browser::start("zh-CN").await?;
    let photos = tempfile::tempdir()?;
    let photo = photo_file(photos.path(), 1200, 900)?;

    browser.open_widget(&server.url).await?;
    browser.choose("#category", "manhole_cover").await?;
    browser.choose("#district", "nangang").await?;
    browser.type_into("#address", "西大直街 92 号门前").await?;
    browser.type_into("#description", "人行道上的井盖丢了，晚上看不见，很危险").await?;
    browser.attach("#photo", &photo).await?;
    browser.send_report().await?;
    let tracking_no = browser.text_of("#tracking-no").await?;
    browser.close().await?;

    assert!(tracking_no.len() == 9 && tracking_no.as_bytes()[4] == b'-', "tracking number {tracking_no:?}");
    let deadline = Instant::now() + Duration::from_secs(10);
    let line = loop {
        if let Some(line) = server.pipeline_lines().into_iter().find(|line| line["tracking_no"] == tracking_no.as_str()) {
            break line;
        }
        assert!(Instant::now() < deadline, "report {tracking_no} never reached the pipeline");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(line["report"]["category"], "manhole_cover");
    assert_eq!(line["report"]["description"], "人行道上的井盖丢了，晚上看不见，很危险");
    assert_eq!(line["district"], "nangang");
    assert_eq!(line["photos"].as_array().map(Vec::len), Some(1), "the photo travelled with the report");
    assert_eq!(server.pipeline_lines().len(), 1);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_description_is_flagged_before_anything_is_sent() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let browser = Browser::start("en").await?;

    browser.open_widget(&format!("{}/?lang=en", server.url)).await?;
    browser.choose("#category", "manhole_cover").await?;
    browser.choose("#district", "daoli").await?;
    browser.click("button[type=submit]").await?;
    let message = browser.text_of("#description-error").await?;
    browser.close().await?;

    assert_eq!(message, "This is required");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(server.pipeline_lines().is_empty());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_that_cannot_run_the_widget_is_told_to_call_12345() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let browser = Browser::start("en").await?;
    // An old webview without WebAssembly, as far as the page can tell.
    browser.cdp("Page.addScriptToEvaluateOnNewDocument", serde_json::json!({ "source": "delete window.WebAssembly;" })).await?;
    browser.client.goto(&server.url).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let text = browser.text_of("#boot-fallback").await?;
    // The server-rendered first screen is hidden too: its list would lead nowhere here.
    let form_shown = match browser.client.find(fantoccini::Locator::Css("#category")).await {
        Ok(list) => list.is_displayed().await?,
        Err(_) => false,
    };
    browser.close().await?;
    assert!(text.contains("12345") && text.contains("call"), "{text}");
    assert!(!form_shown, "no form that cannot be sent");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webview_whose_streaming_compilation_fails_still_runs_the_widget() -> anyhow::Result<()> {
    let server = Server::start().await?;
    for (webview, broken) in [
        ("streaming compilation that always fails", "WebAssembly.instantiateStreaming = function () { return Promise.reject(new TypeError('Incorrect response MIME type')); };"),
        ("no streaming compilation at all", "delete WebAssembly.instantiateStreaming;"),
    ] {
        let browser = Browser::start("en").await?;
        browser.cdp("Page.addScriptToEvaluateOnNewDocument", serde_json::json!({ "source": broken })).await?;
        browser.open_widget(&format!("{}/?lang=en", server.url)).await.map_err(|error| anyhow::anyhow!("{webview}: {error}"))?;
        browser.choose("#category", "manhole_cover").await?;
        browser.close().await?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_the_server_refuses_shows_the_servers_message_and_keeps_the_form() -> anyhow::Result<()> {
    // The server takes one photo per report; the category allows two on the phone.
    let server = Server::start_with(|config| config.limits.photos = 1).await?;
    let browser = Browser::start("en").await?;
    let dir = tempfile::tempdir()?;
    browser.open_widget(&format!("{}/?lang=en", server.url)).await?;
    browser.choose("#category", "road_damage").await?;
    browser.choose("#district", "daoli").await?;
    browser.type_into("#description", "Two potholes next to each other").await?;
    for size in [(640, 480), (480, 640)] {
        let before = browser.client.find_all(fantoccini::Locator::Css(".photo img")).await?.len();
        browser.attach("#photo", &photo_file(dir.path(), size.0, size.1)?).await?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while browser.client.find_all(fantoccini::Locator::Css(".photo img")).await?.len() == before {
            assert!(Instant::now() < deadline, "the photo was not prepared");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    browser.send_report().await?;
    let alert = browser.wait_for_text(".form-alert", "up to 1 photo").await?;
    let description = browser.value_of("#description").await?;
    browser.close().await?;
    assert!(alert.contains("You can add up to 1 photo"), "the server's own words reach the resident: {alert}");
    assert_eq!(description, "Two potholes next to each other", "nothing typed is lost");
    assert!(server.pipeline_lines().is_empty());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_widget_stopped_by_a_bug_tells_the_resident_to_reload_or_call_12345_and_keeps_the_draft() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let browser = Browser::start("en").await?;
    browser.open_widget(&format!("{}/?lang=en", server.url)).await?;
    browser.choose("#category", "manhole_cover").await?;
    browser.type_into("#description", "Cover missing at the bus stop").await?;
    // The widget's release build panics with the `unreachable` instruction: the page sees a
    // WebAssembly.RuntimeError, uncaught when the trap was in an event handler or a timer,
    // an unhandled rejection when it was in a promise callback. Raised here in the page's
    // main world (through DevTools), as the widget's own code would raise it.
    let raise = |expression: &str| browser.cdp("Runtime.evaluate", serde_json::json!({ "expression": expression }));
    for trap in ["setTimeout(function () { throw new WebAssembly.RuntimeError('unreachable'); }, 0)", "Promise.reject(new WebAssembly.RuntimeError('unreachable'))"] {
        raise(trap).await?;
        let text = browser.text_of("#widget-stopped").await?;
        assert!(text.contains("reload") && text.contains("12345"), "{trap}: {text}");
        browser.client.refresh().await?;
        browser.wait_for("#description").await?;
        assert_eq!(browser.value_of("#description").await?, "Cover missing at the bus stop", "the reload kept the draft");
    }
    // An ordinary script error elsewhere on the page is not the widget stopping.
    raise("setTimeout(function () { throw new TypeError('a host page bug'); }, 0); Promise.reject(new Error('another'))").await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let shown = browser.client.find(fantoccini::Locator::Css("#widget-stopped")).await.is_ok();
    browser.close().await?;
    assert!(!shown, "a non-wasm error does not claim the widget stopped");
    Ok(())
}
