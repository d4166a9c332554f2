//! The way back to the resident, over HTTP against the real server and its real store
//! (SQLite, and PostgreSQL in the second pass): the pipeline resolves, the resident answers
//! with the follow-up secret, "not solved" reopens and at the second handling goes to
//! supervision, overdue reports go to supervision once, silence closes a resolution, and
//! the pipeline receives each follow-up message exactly once.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{TestApp, manhole_report, spawn_app_in, spawn_app_with};

const TOKEN: &str = "pipeline-token-for-tests";

async fn event(app: &TestApp, event: Value) -> reqwest::Response {
    app.client.post(app.url("/api/v1/pipeline/events")).bearer_auth(TOKEN).json(&event).send().await.unwrap()
}

async fn answer(app: &TestApp, tracking_no: &str, answer: Value) -> reqwest::Response {
    app.client.post(app.url(&format!("/api/v1/reports/{tracking_no}/answer"))).header("Accept-Language", "en").json(&answer).send().await.unwrap()
}

async fn status(app: &TestApp, tracking_no: &str) -> Value {
    app.client.get(app.url(&format!("/api/v1/reports/{tracking_no}"))).send().await.unwrap().json().await.unwrap()
}

/// The follow-up messages in the pipeline file, by kind.
fn messages(app: &TestApp, kind: &str) -> Vec<Value> {
    app.pipeline_lines().into_iter().filter(|line| line["message"] == kind).collect()
}

/// Waits until the pipeline file holds `count` messages of `kind` (or fails after 10 s).
async fn wait_for_messages(app: &TestApp, kind: &str, count: usize) -> Vec<Value> {
    for _ in 0..200 {
        let found = messages(app, kind);
        if found.len() >= count {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the pipeline never got {count} {kind} messages: {:?}", app.pipeline_lines());
}

/// Files a report and waits until the pipeline has it; returns the receipt.
async fn file_report(app: &TestApp, key: &str) -> Value {
    let receipt: Value = app.post_report(Some(key), &manhole_report(), vec![]).await.json().await.unwrap();
    app.wait_for_pipeline(1).await;
    receipt
}

fn not_solved(receipt: &Value, answer_id: &str, comment: &str) -> Value {
    json!({ "secret": receipt["follow_up_secret"], "answer_id": answer_id, "solved": false, "rating": "dissatisfied", "reasons": ["not_fixed"], "comment": comment })
}

#[tokio::test]
async fn unsolved_twice_reopens_each_time_and_goes_to_supervision_once() {
    let app = spawn_app_with(|config| config.pipeline_token = TOKEN.into()).await;
    let receipt = file_report(&app, "loop").await;
    let (id, tracking) = (receipt["id"].as_str().unwrap(), receipt["tracking_no"].as_str().unwrap());
    assert_eq!(receipt["follow_up_secret"].as_str().unwrap().len(), 32);
    assert_eq!(receipt["follow_up_url"], format!("/r/{tracking}?k={}", receipt["follow_up_secret"].as_str().unwrap()));
    let forwarded = &app.pipeline_lines()[0];
    assert!(forwarded["due_at"].is_string(), "the pipeline learns the due time: {forwarded}");

    // Before any resolution there is nothing to answer.
    assert_eq!(answer(&app, tracking, not_solved(&receipt, "a0", "still open")).await.status(), 409);
    assert_eq!(event(&app, json!({ "report_id": id, "status": "resolved", "message": "已更换井盖" })).await.status(), 200);
    let waiting = status(&app, tracking).await;
    assert_eq!(waiting["status"], "resolved");
    assert!(waiting["answer_until"].is_string() && waiting["due_at"].is_null(), "{waiting}");

    // A wrong secret and a missing comment change nothing.
    let mut wrong = not_solved(&receipt, "a1", "still missing");
    wrong["secret"] = json!("0".repeat(32));
    assert_eq!(answer(&app, tracking, wrong).await.status(), 403);
    let refused = answer(&app, tracking, not_solved(&receipt, "a1", "  ")).await;
    assert_eq!(refused.status(), 422);
    let problem: Value = refused.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "comment", "{problem}");
    assert_eq!(status(&app, tracking).await["status"], "resolved");

    // "Not solved": reopened, the pipeline told once, the same answer sent again is a repeat.
    let first = answer(&app, tracking, not_solved(&receipt, "a1", "井盖还是没有盖上")).await;
    assert_eq!(first.status(), 200);
    assert_eq!(first.json::<Value>().await.unwrap(), json!({ "recorded": true, "status": "reopened" }));
    let again = answer(&app, tracking, not_solved(&receipt, "a1", "井盖还是没有盖上")).await;
    assert_eq!(again.json::<Value>().await.unwrap()["recorded"], false, "the phone's retry changes nothing");
    assert_eq!(answer(&app, tracking, not_solved(&receipt, "a2", "再说一次")).await.status(), 409, "one answer per resolution");
    let reopened = wait_for_messages(&app, "reopened", 1).await;
    assert_eq!(reopened[0]["id"], format!("{id}.reopened.1"));
    assert_eq!(reopened[0]["answer"]["comment"], "井盖还是没有盖上");
    assert_eq!(reopened[0]["answer"]["rating"], "dissatisfied");
    assert_eq!(reopened[0]["handlings"], 1);
    let after_first = status(&app, tracking).await;
    assert_eq!((after_first["status"].as_str(), after_first["handlings"].as_u64()), (Some("reopened"), Some(1)));
    assert!(after_first["due_at"].is_string(), "a reopening starts the time limit again");
    assert!(after_first["supervision"].is_null());

    // The department works on it again and resolves it; still not solved: supervision.
    assert_eq!(event(&app, json!({ "report_id": id, "status": "in_progress", "message": "已重新派单" })).await.status(), 200);
    assert_eq!(event(&app, json!({ "report_id": id, "status": "resolved", "message": "已再次更换" })).await.status(), 200);
    assert_eq!(answer(&app, tracking, not_solved(&receipt, "a3", "第二次还是没修好")).await.status(), 200);
    let escalated = wait_for_messages(&app, "escalated", 1).await;
    wait_for_messages(&app, "reopened", 2).await;
    assert_eq!(escalated[0]["escalation"]["reason"], "unsolved_twice");
    assert_eq!(escalated[0]["escalation"]["supervisor"], "business_environment");
    let supervised = status(&app, tracking).await;
    assert_eq!(supervised["supervision"]["reason"], "unsolved_twice", "{supervised}");
    assert_eq!(supervised["handlings"], 2);
    let steps: Vec<&str> = supervised["timeline"].as_array().unwrap().iter().map(|step| step["step"].as_str().unwrap()).collect();
    assert_eq!(steps, ["received", "forwarded", "resolved", "reopened", "in_progress", "resolved", "reopened", "supervised"]);

    // A scan later changes nothing more; every message went out exactly once.
    app.state.follow_up.scan_once().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(messages(&app, "escalated").len(), 1);
    assert_eq!(messages(&app, "reopened").len(), 2);
}

#[tokio::test]
async fn a_satisfied_resident_closes_the_report_and_the_rate_shows_on_metrics() {
    let app = spawn_app_with(|config| config.pipeline_token = TOKEN.into()).await;
    let receipt = file_report(&app, "happy").await;
    let (id, tracking) = (receipt["id"].as_str().unwrap(), receipt["tracking_no"].as_str().unwrap());
    assert_eq!(event(&app, json!({ "report_id": id, "status": "resolved", "message": "已修复" })).await.status(), 200);
    let solved = json!({ "secret": receipt["follow_up_secret"], "answer_id": "ok-1", "solved": true, "rating": "very_satisfied", "reasons": ["quick", "courteous"] });
    assert_eq!(answer(&app, tracking, solved.clone()).await.status(), 200);
    let closed = status(&app, tracking).await;
    assert_eq!(closed["status"], "closed");
    assert_eq!(closed["timeline"].as_array().unwrap().last().unwrap()["answer"]["rating"], "very_satisfied");
    let rated = wait_for_messages(&app, "rated", 1).await;
    assert_eq!((rated[0]["answer"]["solved"].as_bool(), rated[0]["answer"]["reasons"].clone()), (Some(true), json!(["quick", "courteous"])));
    // Rating twice, and events after the end, are refused.
    let mut twice = solved;
    twice["answer_id"] = json!("ok-2");
    assert_eq!(answer(&app, tracking, twice).await.status(), 409);
    assert_eq!(event(&app, json!({ "report_id": id, "status": "in_progress" })).await.status(), 409);

    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("lianxin_satisfaction_rate{department=\"urban_management\",category=\"manhole_cover\"} 1.0000"), "{metrics}");
    assert!(metrics.contains("lianxin_reopen_rate{department=\"urban_management\",category=\"manhole_cover\"} 0.0000"), "{metrics}");
}

#[tokio::test]
async fn the_pipeline_plans_transfers_moves_the_due_time_and_merges_and_bad_events_change_nothing() {
    let app = spawn_app_with(|config| config.pipeline_token = TOKEN.into()).await;
    let receipt = file_report(&app, "plan").await;
    let other: Value = app.post_report(Some("other"), &manhole_report(), vec![]).await.json().await.unwrap();
    let (id, tracking) = (receipt["id"].as_str().unwrap(), receipt["tracking_no"].as_str().unwrap());

    let planned = json!({ "report_id": id, "status": "planned", "planned_for": "2027-04", "message": "冰雪融化后四月维修 / Repair in April, after the thaw" });
    assert_eq!(event(&app, json!({ "report_id": id, "status": "planned", "message": "soon" })).await.status(), 422, "a plan needs its date");
    assert_eq!(event(&app, planned.clone()).await.status(), 200);
    assert_eq!(event(&app, planned).await.json::<Value>().await.unwrap()["recorded"], false, "a repeated plan is a repeat");
    assert_eq!(event(&app, json!({ "report_id": id, "status": "transferred", "department": "no_such_office" })).await.status(), 422);
    assert_eq!(event(&app, json!({ "report_id": id, "status": "transferred", "department": "housing" })).await.status(), 200);
    assert_eq!(event(&app, json!({ "report_id": id, "status": "due_changed", "due_at": "2027-05-01T00:00:00Z" })).await.status(), 422, "a new due time needs its reason");
    assert_eq!(event(&app, json!({ "report_id": id, "status": "due_changed", "due_at": "2027-05-01T00:00:00Z", "message": "等待天气转暖" })).await.status(), 200);
    assert_eq!(event(&app, json!({ "report_id": "no-such-report", "status": "in_progress" })).await.status(), 404);

    let shown = status(&app, tracking).await;
    assert_eq!((shown["status"].as_str(), shown["department"].as_str(), shown["due_at"].as_str()), (Some("in_progress"), Some("housing"), Some("2027-05-01T00:00:00.000Z")));
    let plan = shown["timeline"].as_array().unwrap().iter().find(|step| step["step"] == "planned").unwrap();
    assert_eq!(plan["planned_for"], "2027-04");

    // Merged into the other report: final, and the resident is pointed at it.
    assert_eq!(event(&app, json!({ "report_id": id, "status": "duplicate", "duplicate_of": id })).await.status(), 422, "not a duplicate of itself");
    assert_eq!(event(&app, json!({ "report_id": id, "status": "duplicate", "duplicate_of": other["tracking_no"] })).await.status(), 200);
    let merged = status(&app, tracking).await;
    assert_eq!((merged["status"].as_str(), merged["duplicate_of"].as_str()), (Some("duplicate"), other["tracking_no"].as_str()));
    assert_eq!(event(&app, json!({ "report_id": id, "status": "resolved" })).await.status(), 409, "nothing happens to a merged report");
}

#[tokio::test]
async fn an_event_moving_a_report_backwards_is_refused_and_changes_nothing() {
    let app = spawn_app_with(|config| config.pipeline_token = TOKEN.into()).await;
    let receipt = file_report(&app, "back").await;
    let (id, tracking) = (receipt["id"].as_str().unwrap(), receipt["tracking_no"].as_str().unwrap());
    assert_eq!(event(&app, json!({ "report_id": id, "status": "resolved", "message": "done" })).await.status(), 200);
    let before = status(&app, tracking).await;
    let refused = event(&app, json!({ "report_id": id, "status": "accepted" })).await;
    assert_eq!(refused.status(), 409);
    assert_eq!(refused.json::<Value>().await.unwrap()["type"], "urn:lianxin:problem:moves-backwards");
    assert_eq!(status(&app, tracking).await, before);
}

#[tokio::test]
async fn an_overdue_report_goes_to_supervision_once_across_restarts_and_concurrent_scans() {
    // One hour of a time limit lasts 100 ms: the manhole category's 24 hours pass in 2.4 s.
    let fast = |config: &mut lianxin_server::config::Config| {
        config.pipeline_token = TOKEN.into();
        config.follow_up.hour_ms = 100;
        config.follow_up.scan_secs = 1;
    };
    let app = spawn_app_with(fast).await;
    let receipt = file_report(&app, "late").await;
    let (id, tracking) = (receipt["id"].as_str().unwrap().to_owned(), receipt["tracking_no"].as_str().unwrap().to_owned());
    assert_eq!(event(&app, json!({ "report_id": id, "status": "in_progress" })).await.status(), 200);
    // Stopped before the due time, started again after it: the scan catches up at start.
    let data_dir = app.shut_down().await;
    tokio::time::sleep(Duration::from_millis(2600)).await;
    let app = spawn_app_in(data_dir, fast).await;
    // Scans running side by side (as on several servers sharing one database) change it once.
    let (first, second) = tokio::join!(app.state.follow_up.scan_once(), app.state.follow_up.scan_once());
    assert!(first.unwrap() + second.unwrap() <= 1);
    let escalated = wait_for_messages(&app, "escalated", 1).await;
    assert_eq!(escalated[0]["escalation"]["reason"], "overdue");
    assert!(escalated[0]["escalation"]["due_at"].is_string());
    let shown = status(&app, &tracking).await;
    assert_eq!(shown["supervision"]["reason"], "overdue", "{shown}");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(messages(&app, "escalated").len(), 1, "escalated exactly once");
    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("lianxin_overdue_reports{department=\"urban_management\",category=\"manhole_cover\"} 1"), "{metrics}");
}

#[tokio::test]
async fn no_answer_within_the_window_counts_as_accepted_and_the_page_says_so() {
    let app = spawn_app_with(|config| {
        config.pipeline_token = TOKEN.into();
        config.follow_up.hour_ms = 10;
        config.follow_up.answer_window_hours = 50;
        config.follow_up.scan_secs = 1;
    })
    .await;
    let receipt = file_report(&app, "quiet").await;
    let (id, tracking) = (receipt["id"].as_str().unwrap(), receipt["tracking_no"].as_str().unwrap());
    assert_eq!(event(&app, json!({ "report_id": id, "status": "resolved", "message": "已修复" })).await.status(), 200);
    let rated = wait_for_messages(&app, "rated", 1).await;
    assert!(rated[0]["answer"]["solved"].is_null(), "no answer: {}", rated[0]);
    let closed = status(&app, tracking).await;
    assert_eq!(closed["status"], "closed");
    let page = app.client.get(app.url(&format!("/r/{tracking}?lang=en"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("No answer came in time, so the resolution counted as accepted"), "{page}");
    assert!(!page.contains("Thank you"), "never thanked for a fix nobody confirmed");
}

#[tokio::test]
async fn the_progress_page_shows_the_answer_form_only_to_the_filer_and_takes_a_plain_form() {
    let app = spawn_app_with(|config| config.pipeline_token = TOKEN.into()).await;
    let receipt = file_report(&app, "page").await;
    let (id, tracking) = (receipt["id"].as_str().unwrap(), receipt["tracking_no"].as_str().unwrap());
    let secret = receipt["follow_up_secret"].as_str().unwrap();
    assert_eq!(event(&app, json!({ "report_id": id, "status": "resolved", "message": "已修复 <script>alert(1)</script>" })).await.status(), 200);

    let public = app.client.get(app.url(&format!("/r/{tracking}?lang=ru"))).send().await.unwrap();
    assert_eq!(public.headers()["referrer-policy"], "no-referrer");
    let public = public.text().await.unwrap();
    assert!(public.contains("<html lang=\"ru\">") && public.contains("Ответить может только автор"), "{public}");
    assert!(public.contains("С иностранного номера: +86 451 12345."), "a tourist is told the full hotline number: {public}");
    assert!(!public.contains("answer-form"));
    assert!(public.contains("&lt;script&gt;") && !public.contains("<script>alert"), "the department's words are escaped");

    let private = app.client.get(app.url(&format!("/r/{tracking}?k={secret}&lang=zh-CN"))).send().await.unwrap().text().await.unwrap();
    assert!(private.contains("id=\"answer-form\"") && private.contains("问题解决了吗？") && private.contains("非常满意"), "{private}");

    let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let form = |secret: &str| format!("k={secret}&answer_id=form-1&solved=no&rating=very_dissatisfied&reasons=not_fixed&reasons=slow&comment=%E8%BF%98%E6%98%AF%E5%9D%8F%E7%9A%84");
    let refused = no_redirects.post(app.url(&format!("/r/{tracking}?lang=en"))).header("content-type", "application/x-www-form-urlencoded").body(form(&"f".repeat(32))).send().await.unwrap();
    assert_eq!(refused.status(), 403);
    assert!(refused.text().await.unwrap().contains("answer-error"));
    let sent = no_redirects.post(app.url(&format!("/r/{tracking}?lang=en"))).header("content-type", "application/x-www-form-urlencoded").body(form(secret)).send().await.unwrap();
    assert_eq!(sent.status(), 303);
    let page = app.client.get(app.url(sent.headers()["location"].to_str().unwrap())).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("You said it is not solved: the report went back to the department."), "{page}");
    assert!(page.contains("Not solved · Very dissatisfied"));
    let reopened = wait_for_messages(&app, "reopened", 1).await;
    assert_eq!(reopened[0]["answer"]["reasons"], json!(["not_fixed", "slow"]));

    let mine = app.client.get(app.url(&format!("/r/mine?lang=en&r={tracking}.{secret},NOPE-NOPE.x"))).send().await.unwrap().text().await.unwrap();
    assert!(mine.contains(tracking) && mine.contains("Sent back to the department") && !mine.contains("NOPE-NOPE"), "{mine}");
    assert_eq!(app.client.get(app.url("/r/ABCD-EFGH")).send().await.unwrap().status(), 404);
}

#[tokio::test]
async fn a_webhook_pipeline_gets_each_follow_up_message_once_under_its_own_key() {
    let receiver = crate::receiver::Receiver::start("hook-secret", vec![]).await;
    let app = spawn_app_with(|config| {
        config.pipeline = receiver.url.clone();
        config.pipeline_secret = "hook-secret".into();
        config.pipeline_token = TOKEN.into();
    })
    .await;
    let receipt: Value = app.post_report(Some("hook"), &manhole_report(), vec![]).await.json().await.unwrap();
    let id = receipt["id"].as_str().unwrap();
    receiver.wait_for_tickets(1, Duration::from_secs(10)).await;
    assert_eq!(event(&app, json!({ "report_id": id, "status": "resolved", "message": "已修复" })).await.status(), 200);
    assert_eq!(answer(&app, receipt["tracking_no"].as_str().unwrap(), not_solved(&receipt, "h1", "没有修好")).await.status(), 200);
    let tickets = receiver.wait_for_tickets(2, Duration::from_secs(10)).await;
    let reopened = &tickets[&format!("{id}.reopened.1")];
    assert_eq!((reopened["message"].as_str(), reopened["report_id"].as_str(), reopened["ticket_id"].is_string()), (Some("reopened"), Some(id), true), "{reopened}");
    assert!(receiver.attempts().iter().all(|attempt| attempt.signature_ok), "signed like reports");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.accepted_per_key().values().copied().collect::<Vec<_>>(), [1, 1], "one ticket each, no new ticket for the reopening");
}

#[tokio::test]
async fn a_neighbour_supports_an_open_report_once_and_only_public_words_are_shown() {
    let app = spawn_app_with(|config| config.pipeline_token = TOKEN.into()).await;
    let mut located = manhole_report();
    located["location"]["lat"] = json!(45.7731);
    located["location"]["lon"] = json!(126.6176);
    let private: Value = app.post_report(Some("private"), &located, vec![]).await.json().await.unwrap();
    let mut public_report = located.clone();
    public_report["public"] = json!(true);
    public_report["description"] = json!("公开：井盖缺失在路口东侧");
    let public: Value = app.post_report(Some("public"), &public_report, vec![]).await.json().await.unwrap();
    app.wait_for_pipeline(2).await;

    let page = app.client.get(app.url("/r/nearby?lang=zh-CN&category=manhole_cover&lat=45.7732&lon=126.6177")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(private["tracking_no"].as_str().unwrap()) && page.contains(public["tracking_no"].as_str().unwrap()), "{page}");
    assert!(page.contains("公开：井盖缺失在路口东侧"), "a public report's words are shown");
    assert!(!page.contains("中央大街与西十二道街路口井盖缺失"), "a private report's words are not");
    assert!(page.contains("这也是我的问题"));

    let tracking = private["tracking_no"].as_str().unwrap();
    let support = |device: &str| {
        let body = json!({ "device_id": device, "comment": "我家门口也是" });
        app.client.post(app.url(&format!("/api/v1/reports/{tracking}/support"))).json(&body).send()
    };
    let first: Value = support("phone-1").await.unwrap().json().await.unwrap();
    assert_eq!(first, json!({ "recorded": true, "supporters": 1 }));
    let again: Value = support("phone-1").await.unwrap().json().await.unwrap();
    assert_eq!(again, json!({ "recorded": false, "supporters": 1 }), "once per phone");
    let other: Value = support("phone-2").await.unwrap().json().await.unwrap();
    assert_eq!(other["supporters"], 2);
    let supported = wait_for_messages(&app, "supported", 2).await;
    assert_eq!(supported[1]["support"]["supporters"], 2);
    assert_eq!(supported[1]["support"]["comment"], "我家门口也是");
    assert_eq!(app.pipeline_lines().iter().filter(|line| line.get("message").is_none()).count(), 2, "support is no new ticket");
    assert_eq!(status(&app, tracking).await["supporters"], 2);

    // A resolved report gathers no more support.
    assert_eq!(event(&app, json!({ "report_id": private["id"], "status": "resolved", "message": "已修复" })).await.status(), 200);
    assert_eq!(support("phone-3").await.unwrap().status(), 409);
}

#[tokio::test]
async fn a_supporters_photo_goes_to_the_department_without_its_metadata_once_and_leaves_with_the_report() {
    let app = spawn_app_with(|config| {
        config.pipeline_token = TOKEN.into();
        config.privacy.retention_days = 30;
    })
    .await;
    let receipt = file_report(&app, "with-photo").await;
    let (id, tracking) = (receipt["id"].as_str().unwrap(), receipt["tracking_no"].as_str().unwrap());
    // A phone photo with an EXIF block (APP1) naming where it was taken.
    let plain = crate::helpers::jpeg(320, 240);
    let mut photo = plain[..2].to_vec();
    let exif = b"Exif\0\0II*\0\x08\0\0\0\0\0GPS-45.76809-126.62152";
    photo.extend_from_slice(&[0xFF, 0xE1]);
    photo.extend_from_slice(&((exif.len() + 2) as u16).to_be_bytes());
    photo.extend_from_slice(exif);
    photo.extend_from_slice(&plain[2..]);
    let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let send = |device: &str, photo: Vec<u8>| {
        let form = reqwest::multipart::Form::new()
            .text("device_id", device.to_owned())
            .text("comment", "我家楼下也是这样")
            .part("media", reqwest::multipart::Part::bytes(photo).file_name("IMG_0001.jpg").mime_str("image/jpeg").unwrap());
        no_redirects.post(app.url(&format!("/r/{tracking}/support?lang=en"))).multipart(form).send()
    };
    let sent = send("phone-photo", photo).await.unwrap();
    assert_eq!(sent.status(), 303, "on to the report's page");

    let supported = wait_for_messages(&app, "supported", 1).await;
    let photo = &supported[0]["support"]["photo"];
    let sha = photo["sha256"].as_str().unwrap().to_owned();
    assert_eq!((photo["width"].as_u64(), photo["height"].as_u64()), (Some(320), Some(240)));
    let url = photo["url"].as_str().expect("a signed link for the department");
    let path = &url[url.find("/api/").unwrap()..];
    let served = app.client.get(app.url(path)).send().await.unwrap();
    assert_eq!(served.status(), 200);
    let bytes = served.bytes().await.unwrap();
    assert!(bytes.starts_with(&[0xFF, 0xD8]) && !bytes.windows(4).any(|window| window == b"Exif"), "a JPEG without its metadata");
    // Never shown to other residents.
    let page = app.client.get(app.url(&format!("/r/{tracking}?lang=en"))).send().await.unwrap().text().await.unwrap();
    assert!(!page.contains(&sha), "the supporter's photo is not on the public page");

    // The same phone again, with another photo: nothing new, and that photo is not kept.
    let again = send("phone-photo", crate::helpers::jpeg(200, 150)).await.unwrap();
    assert_eq!(again.status(), 303);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(wait_for_messages(&app, "supported", 1).await.len(), 1, "once per phone");
    assert_eq!(crate::helpers::stored_photos(&app), 1, "the repeat's photo was removed, the first supporter's kept");
    assert!(app.state.photos.store().exists(&sha).await.unwrap());

    // Not a photo: refused with the resident's words, nothing recorded.
    let broken = send("phone-broken", b"not a photo at all".to_vec()).await.unwrap();
    assert_eq!(broken.status(), 415);

    // The retention purge takes the supporter's photo with the report's personal data.
    let day = 86_400_000;
    app.state.store.record_status(id, lianxin_contract::report::Status::Resolved, lianxin_server::ids::now_ms() - 31 * day, None).await.unwrap();
    let purged = lianxin_server::retention::purge_once(&app.state.store, &app.state.photos, &app.state.config.privacy).await.unwrap();
    assert_eq!(purged.reports, 1);
    assert!(!app.state.photos.store().exists(&sha).await.unwrap(), "the supporter's photo is gone with the report's personal data");
}
