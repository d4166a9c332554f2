//! A department's page on another origin embeds the widget with one script tag, preset to
//! its department and a category; a report filed through it reaches the pipeline and the
//! host page hears about it.

use std::time::{Duration, Instant};

use fantoccini::Locator;
use lianxin_e2e::{Browser, Server};

/// Serves one HTML page, embedding the widget from `lianxin`, on `listener`.
fn serve_host_page(listener: tokio::net::TcpListener, lianxin: String) {
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else { return };
            let html = format!(
                r#"<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>交通运输局</title></head><body>
<h1>哈尔滨市公共交通和出租汽车服务中心</h1><p id="got"></p>
<script src="{lianxin}/embed.js" data-department="bus_taxi_centre" data-category="bus_route" data-lang="en"></script>
<script>document.addEventListener('lianxin:submitted', function (e) {{ document.getElementById('got').textContent = e.detail.tracking_no; }});</script>
</body></html>"#
            );
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request).await;
            let answer = format!("HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{html}", html.len());
            let _ = stream.write_all(answer.as_bytes()).await;
        }
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_filed_through_embed_js_on_another_origin_reaches_the_pipeline_and_the_host_hears() -> anyhow::Result<()> {
    let host = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let host_origin = format!("http://{}", host.local_addr()?);
    let server = Server::start_with(|config| config.security.allowed_origins = vec![host_origin.clone()]).await?;
    serve_host_page(host, server.url.clone());
    let browser = Browser::start("zh-CN").await?;

    browser.client.goto(&host_origin).await?;
    let frame = browser.wait_for("iframe").await?;
    frame.clone().enter_frame().await?;
    browser.wait_for("#category-search").await?;
    let offered = browser.option_values("#category").await?;
    assert!(offered.contains(&"bus_route".to_owned()) && offered.contains(&"taxi_overcharge".to_owned()), "{offered:?}");
    assert!(!offered.contains(&"manhole_cover".to_owned()), "only the department's categories: {offered:?}");
    assert_eq!(browser.value_of("#category").await?, "bus_route", "preset category");
    browser.wait_for_text("label[for=description]", "Describe the problem").await?;
    browser.type_into("#field-route", "343").await?;
    browser.type_into("#description", "Please run route 343 every 10 minutes in the evening").await?;
    browser.send_report().await?;
    let tracking_no = browser.text_of("#tracking-no").await?;
    browser.client.clone().enter_parent_frame().await?;

    let heard = browser.wait_for_text("#got", &tracking_no).await?;
    let height: f64 = browser.client.find(Locator::Css("iframe")).await?.css_value("height").await?.trim_end_matches("px").parse()?;
    assert_eq!(heard, tracking_no);
    assert!(height > 200.0, "the iframe follows the widget's height ({height}px)");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !server.pipeline_lines().iter().any(|line| line["tracking_no"] == tracking_no.as_str()) {
        assert!(Instant::now() < deadline, "never reached the pipeline");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Once the department resolves it, the resident answers from inside the embedded widget.
    server.resolve(&tracking_no, "Route 343 now runs every 10 minutes after 18:00").await?;
    browser.wait_for("iframe").await?.enter_frame().await?;
    browser.click("#follow-up-link").await?;
    browser.wait_for_text("#current-status", "waits for your answer").await?;
    browser.wait_for("#answer-form").await?;
    browser.close().await?;
    Ok(())
}
