//! The way back, as a resident lives it in the browser: file a report in the widget; the
//! city's pipeline (here: the test, reading the pipeline file and posting events over HTTP
//! with its token, as a pipeline does) resolves it; the resident opens the private
//! follow-up link from the receipt and answers. "Not solved" twice ends in supervision;
//! "solved" closes it; an answer made offline is sent once when the network is back;
//! "my reports" finds the reports filed from this phone; an overdue report shows its
//! supervision.

use std::time::{Duration, Instant};

use lianxin_e2e::{Browser, Server};
use serde_json::{Value, json};

const TOKEN: &str = "e2e-pipeline-token";

async fn start_server(adjust: impl FnOnce(&mut lianxin_server::config::Config)) -> anyhow::Result<Server> {
    Server::start_with(|config| {
        config.pipeline_token = TOKEN.into();
        adjust(config);
    })
    .await
}

/// The pipeline posts an event about report `id`.
async fn pipeline_event(server: &Server, event: Value) -> anyhow::Result<()> {
    let response = reqwest::Client::new().post(format!("{}/api/v1/pipeline/events", server.url)).bearer_auth(TOKEN).json(&event).send().await?;
    anyhow::ensure!(response.status() == 200, "the event was refused: {}", response.text().await?);
    Ok(())
}

/// Waits until the pipeline file holds `count` lines matching `matches`, and returns them.
async fn wait_for_lines(server: &Server, count: usize, matches: impl Fn(&Value) -> bool) -> anyhow::Result<Vec<Value>> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let lines: Vec<Value> = server.pipeline_lines().into_iter().filter(|line| matches(line)).collect();
        if lines.len() >= count {
            return Ok(lines);
        }
        anyhow::ensure!(Instant::now() < deadline, "the pipeline got {} of {count} expected lines: {:?}", lines.len(), server.pipeline_lines());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Files a manhole report in the widget; returns (tracking number, report id).
async fn file_report(browser: &Browser, server: &Server) -> anyhow::Result<(String, String)> {
    browser.open_widget(&server.url).await?;
    browser.choose("#category", "manhole_cover").await?;
    browser.choose("#district", "daoli").await?;
    browser.type_into("#description", "中央大街井盖缺失，夜里很危险").await?;
    browser.send_report().await?;
    let tracking_no = browser.text_of("#tracking-no").await?;
    let line = wait_for_lines(server, 1, |line| line["tracking_no"] == tracking_no.as_str() && line.get("message").is_none()).await?;
    Ok((tracking_no, line[0]["id"].as_str().unwrap_or_default().to_owned()))
}

/// Answers on the follow-up page open in the browser.
async fn answer(browser: &Browser, solved: bool, rating: &str, comment: &str) -> anyhow::Result<()> {
    browser.click(if solved { "#solved-yes" } else { "#solved-no" }).await?;
    browser.click(&format!("#rating-{rating}")).await?;
    if !solved {
        browser.click("#reason-not_fixed").await?;
    }
    if !comment.is_empty() {
        browser.type_into("#comment", comment).await?;
    }
    browser.click("#send-answer").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_solved_twice_goes_to_supervision_and_the_pipeline_hears_each_step_once() -> anyhow::Result<()> {
    let server = start_server(|_| {}).await?;
    let browser = Browser::start("zh-CN").await?;
    let (tracking_no, id) = file_report(&browser, &server).await?;

    pipeline_event(&server, json!({ "report_id": id, "status": "resolved", "message": "井盖已更换" })).await?;
    browser.click("#follow-up-link").await?;
    browser.wait_for_text("#current-status", "等待您确认问题是否解决").await?;
    browser.wait_for_text("#timeline", "井盖已更换").await?;
    answer(&browser, false, "dissatisfied", "井盖还是没有盖上，只放了一个路障").await?;
    browser.wait_for_text("#current-status", "您反映问题没有解决，诉求已重新交承办部门办理").await?;
    let reopened = wait_for_lines(&server, 1, |line| line["message"] == "reopened").await?;
    assert_eq!(reopened[0]["answer"]["comment"], "井盖还是没有盖上，只放了一个路障");
    assert_eq!(reopened[0]["answer"]["reasons"], json!(["not_fixed"]));

    // The department handles it again, and resolves it again; still not solved.
    pipeline_event(&server, json!({ "report_id": id, "status": "planned", "planned_for": "2027-04", "message": "冰雪融化后四月重新铺设" })).await?;
    pipeline_event(&server, json!({ "report_id": id, "status": "resolved", "message": "已重新铺设" })).await?;
    browser.client.refresh().await?;
    browser.wait_for_text("#timeline", "冰雪融化后四月重新铺设").await?;
    answer(&browser, false, "very_dissatisfied", "第二次还是没修好").await?;
    let supervision = browser.wait_for_text("#supervision", "两次办理后问题仍未解决").await?;
    assert!(supervision.contains("市营商环境建设监督局"), "{supervision}");
    assert_eq!(browser.text_of("#handlings").await?, "已重新交办 2 次");
    browser.screenshot("loop-supervised").await?;

    let escalated = wait_for_lines(&server, 1, |line| line["message"] == "escalated").await?;
    assert_eq!(escalated[0]["escalation"]["reason"], "unsolved_twice");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let count = |kind: &str| server.pipeline_lines().iter().filter(|line| line["message"] == kind).count();
    assert_eq!((count("reopened"), count("escalated")), (2, 1), "each step reached the pipeline once");
    assert_eq!(server.pipeline_lines().iter().filter(|line| line["tracking_no"] == tracking_no.as_str() && line.get("message").is_none()).count(), 1, "never a new ticket");
    browser.close().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_satisfied_resident_closes_the_report_in_english() -> anyhow::Result<()> {
    let server = start_server(|_| {}).await?;
    let browser = Browser::start("en").await?;
    let (_, id) = file_report(&browser, &server).await?;
    pipeline_event(&server, json!({ "report_id": id, "status": "resolved", "message": "The cover was replaced." })).await?;
    browser.click("#follow-up-link").await?;
    browser.wait_for_text("#current-status", "waits for your answer").await?;
    answer(&browser, true, "very_satisfied", "").await?;
    browser.wait_for_text("#current-status", "You confirmed it is solved").await?;
    browser.wait_for_text("#timeline", "Solved · Very satisfied").await?;
    let rated = wait_for_lines(&server, 1, |line| line["message"] == "rated").await?;
    assert_eq!((rated[0]["answer"]["solved"].as_bool(), rated[0]["answer"]["rating"].as_str()), (Some(true), Some("very_satisfied")));
    browser.close().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_made_offline_waits_on_the_phone_and_goes_once() -> anyhow::Result<()> {
    let server = start_server(|_| {}).await?;
    let browser = Browser::start("ru").await?;
    let (_, id) = file_report(&browser, &server).await?;
    pipeline_event(&server, json!({ "report_id": id, "status": "resolved", "message": "Крышку люка заменили" })).await?;
    browser.click("#follow-up-link").await?;
    browser.wait_for("#answer-form").await?;
    browser.cdp("Network.enable", json!({})).await?;
    browser.cdp("Network.emulateNetworkConditions", json!({ "offline": true, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1 })).await?;
    answer(&browser, false, "dissatisfied", "Люк всё ещё открыт").await?;
    browser.wait_for_text("#answer-queued", "Сохранено на телефоне").await?;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(server.pipeline_lines().iter().filter(|line| line["message"] == "reopened").count(), 0, "nothing went while offline");
    browser.cdp("Network.emulateNetworkConditions", json!({ "offline": false, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1 })).await?;
    browser.wait_for_text("#current-status", "Вы сообщили, что проблема не решена").await?;
    wait_for_lines(&server, 1, |line| line["message"] == "reopened").await?;
    // The page's periodic retry finds nothing more to send: once.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(server.pipeline_lines().iter().filter(|line| line["message"] == "reopened").count(), 1);
    browser.close().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn my_reports_lists_what_this_phone_filed_and_marks_what_waits_for_an_answer() -> anyhow::Result<()> {
    let server = start_server(|_| {}).await?;
    let browser = Browser::start("zh-CN").await?;
    let (first, id) = file_report(&browser, &server).await?;
    let (second, _) = file_report(&browser, &server).await?;
    pipeline_event(&server, json!({ "report_id": id, "status": "resolved", "message": "已修复" })).await?;
    browser.open_widget(&server.url).await?;
    browser.click("#my-reports").await?;
    let list = browser.text_of("#mine").await?;
    assert!(list.contains(&first) && list.contains(&second), "{list}");
    let waiting = browser.text_of("#mine li.waiting").await?;
    assert!(waiting.contains(&first) && waiting.contains("等待您评价"), "{waiting}");
    browser.click("#mine li.waiting a").await?;
    browser.wait_for("#answer-form").await?;
    browser.close().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_past_its_time_limit_shows_its_supervision() -> anyhow::Result<()> {
    // One hour of a time limit lasts 50 ms: the manhole category's 24 hours pass in 1.2 s.
    let server = start_server(|config| {
        config.follow_up.hour_ms = 50;
        config.follow_up.scan_secs = 1;
    })
    .await?;
    let browser = Browser::start("en").await?;
    file_report(&browser, &server).await?;
    wait_for_lines(&server, 1, |line| line["message"] == "escalated").await?;
    browser.click("#follow-up-link").await?;
    browser.wait_for_text("#supervision", "Not resolved by the reply date").await?;
    browser.close().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_neighbour_finds_the_same_problem_nearby_and_supports_it_instead_of_filing_again() -> anyhow::Result<()> {
    let server = start_server(|_| {}).await?;
    let here = json!({ "latitude": 45.7731, "longitude": 126.6176, "accuracy": 12 });
    // Two residents file first: one report private (the default), one public.
    let mut filed = Vec::new();
    for (description, public) in [("路口井盖缺失，我家就在旁边", false), ("中央大街井盖缺失，晚上看不见", true)] {
        let browser = Browser::start("zh-CN").await?;
        browser.cdp("Browser.grantPermissions", json!({ "permissions": ["geolocation"] })).await?;
        browser.cdp("Emulation.setGeolocationOverride", here.clone()).await?;
        browser.open_widget(&server.url).await?;
        browser.choose("#category", "manhole_cover").await?;
        browser.click("#use-location").await?;
        browser.wait_for_text("#location-status", "已定位").await?;
        browser.choose("#district", "daoli").await?;
        browser.type_into("#description", description).await?;
        if public {
            browser.click("#public").await?;
        }
        browser.send_report().await?;
        filed.push(browser.text_of("#tracking-no").await?);
        browser.close().await?;
    }
    wait_for_lines(&server, 2, |line| line.get("message").is_none()).await?;

    // A third resident, on another phone, is offered both before filing.
    let browser = Browser::start("zh-CN").await?;
    browser.cdp("Browser.grantPermissions", json!({ "permissions": ["geolocation"] })).await?;
    browser.cdp("Emulation.setGeolocationOverride", here).await?;
    browser.open_widget(&server.url).await?;
    browser.choose("#category", "manhole_cover").await?;
    browser.click("#use-location").await?;
    browser.wait_for_text("#nearby", "附近已有 2 条尚未办结的同类诉求").await?;
    browser.click("#nearby-link").await?;
    let list = browser.text_of("#nearby-list").await?;
    assert!(list.contains("中央大街井盖缺失，晚上看不见"), "the public report's words: {list}");
    assert!(!list.contains("我家就在旁边"), "never a private report's words: {list}");
    browser.screenshot("nearby-list").await?;
    assert!(browser.accessibility_violations().await?.is_empty(), "the nearby page is accessible");
    browser.type_into(&format!("#comment-{}", filed[0]), "我每天也经过这里").await?;
    // With a photo of it for the department, taken by this phone's camera (EXIF and all).
    let dir = tempfile::tempdir()?;
    let photo = lianxin_e2e::camera_photo(dir.path(), 800, 600)?;
    browser.attach(&format!("#photo-{}", filed[0]), &photo).await?;
    // Offline, a photo cannot wait on the phone: the page says so and keeps the form.
    let offline = |on: bool| json!({ "offline": on, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1 });
    browser.cdp("Network.emulateNetworkConditions", offline(true)).await?;
    browser.click(&format!("#support-{}", filed[0])).await?;
    browser.wait_for_text(&format!("#nearby-{} .offline", filed[0]), "照片需要联网才能发送").await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(server.pipeline_lines().iter().all(|line| line["message"] != "supported"), "nothing sent while offline");
    browser.cdp("Network.emulateNetworkConditions", offline(false)).await?;
    browser.click(&format!("#support-{}", filed[0])).await?;
    browser.wait_for_text("#timeline", "又有居民反映同一问题").await?;
    let supported = wait_for_lines(&server, 1, |line| line["message"] == "supported").await?;
    assert_eq!((supported[0]["tracking_no"].as_str(), supported[0]["support"]["supporters"].as_u64()), (Some(filed[0].as_str()), Some(1)));
    assert_eq!(supported[0]["support"]["comment"], "我每天也经过这里");
    let sent_photo = &supported[0]["support"]["photo"];
    assert_eq!((sent_photo["width"].as_u64(), sent_photo["height"].as_u64()), (Some(600), Some(800)), "upright, as the camera meant it: {sent_photo}");
    assert!(sent_photo["url"].as_str().is_some_and(|url| url.contains("/api/v1/photos/")), "a signed link for the department: {sent_photo}");
    // The supported report joined this phone's "my reports".
    browser.open_widget(&server.url).await?;
    browser.click("#my-reports").await?;
    browser.wait_for_text("#mine", &filed[0]).await?;
    browser.close().await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(server.pipeline_lines().iter().filter(|line| line.get("message").is_none()).count(), 2, "one ticket per report, none for the support");
    Ok(())
}
