//! The widget as a resident uses it on a phone: finding the category in any language,
//! photos prepared in the browser, location granted or refused, switching language
//! mid-form, and checking progress after sending.

use std::time::{Duration, Instant};

use anyhow::Context;
use lianxin_e2e::{Browser, Server, camera_photo};
use serde_json::{Value, json};

async fn pipeline_line(server: &Server, tracking_no: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(line) = server.pipeline_lines().into_iter().find(|line| line["tracking_no"] == tracking_no) {
            return line;
        }
        assert!(Instant::now() < deadline, "report {tracking_no} never reached the pipeline");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_12_megapixel_photo_arrives_upright_small_and_without_metadata() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let browser = Browser::start("zh-CN").await?;
    let dir = tempfile::tempdir()?;
    let photo = camera_photo(dir.path(), 4000, 3000)?;
    let original = std::fs::metadata(&photo)?.len();

    browser.open_widget(&server.url).await?;
    browser.choose("#category", "road_damage").await?;
    browser.choose("#district", "daowai").await?;
    browser.type_into("#description", "人行道塌陷，有一个大坑").await?;
    browser.attach("#photo", &photo).await?;
    browser.wait_for(".photo img").await?;
    let shown_size = browser.text_of(".photo-size").await?;
    browser.send_report().await?;
    let tracking_no = browser.text_of("#tracking-no").await?;
    browser.close().await?;

    let line = pipeline_line(&server, &tracking_no).await;
    let photo = &line["photos"][0];
    assert_eq!((photo["width"].as_u64(), photo["height"].as_u64()), (Some(1200), Some(1600)), "downscaled to 1600 px and turned upright");
    let sha256 = photo["sha256"].as_str().unwrap();
    let stored = server.state.photos.store().get(sha256, lianxin_server::photo_store::Variant::Full).await?.expect("the photo is stored");
    assert!(!stored.windows(4).any(|window| window == b"Exif"));
    let upright = image::load_from_memory(&stored)?.to_rgb8();
    assert!(upright.get_pixel(600, 100)[0] > 180 && upright.get_pixel(600, 100)[2] < 90, "the left (red) half is on top");
    assert!(upright.get_pixel(600, 1500)[2] > 180 && upright.get_pixel(600, 1500)[0] < 90, "the right (blue) half is below");
    let metrics = reqwest_metrics(&server).await?;
    let uploaded: u64 = metrics.lines().find_map(|line| line.strip_prefix("lianxin_photo_bytes_in_total ")).unwrap().parse()?;
    assert!(uploaded < 500 * 1024, "a {original}-byte photo travelled as {uploaded} bytes");
    assert!(original > 1024 * 1024, "the test photo weighs like a phone photo ({original} bytes)");
    assert!(shown_size.ends_with("KB"), "the size is shown: {shown_size}");
    Ok(())
}

async fn reqwest_metrics(server: &Server) -> anyhow::Result<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = server.url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await?;
    stream.write_all(format!("GET /metrics HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes()).await?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await?;
    Ok(answer)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typing_taxi_in_any_language_finds_the_taxi_categories() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let browser = Browser::start("ru").await?;
    browser.open_widget(&format!("{}/?lang=ru", server.url)).await?;
    // The search words (and the other languages' names) come apart from the catalog, when
    // the search box is first used: until then the phone has not downloaded them.
    let catalogs = "return performance.getEntriesByType('resource').map(e => e.name).filter(n => n.includes('/api/v1/catalog')).map(n => n.slice(n.indexOf('/api/')))";
    browser.wait_for("#category-search").await?;
    assert_eq!(browser.client.execute(catalogs, vec![]).await?, json!(["/api/v1/catalog?lang=ru&keywords=apart"]));
    for query in ["такси", "出租", "taxi"] {
        let search = browser.wait_for("#category-search").await?;
        search.clear().await?;
        search.send_keys(query).await?;
        // The list follows the words as they arrive.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        let mut values = browser.option_values("#category").await?;
        while !values.contains(&"taxi_refusal".to_owned()) && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
            values = browser.option_values("#category").await?;
        }
        assert!(values.contains(&"taxi_overcharge".to_owned()) && values.contains(&"taxi_refusal".to_owned()), "{query}: {values:?}");
        assert!(!values.contains(&"manhole_cover".to_owned()), "{query}: {values:?}");
        // A whole sentence with the plural Russian needs for the count, not "2 категорий".
        let found = browser.text_of("#category-count").await?;
        let n = values.iter().filter(|value| !value.is_empty()).count();
        let expected = match (n % 10, n % 100) {
            (1, last) if last != 11 => format!("Найдена {n} категория"),
            (2..=4, last) if !(12..=14).contains(&last) => format!("Найдено {n} категории"),
            _ => format!("Найдено {n} категорий"),
        };
        assert_eq!(found, expected, "{query}: {values:?}");
    }
    // Russian words as people type them, inflected, find their category too.
    for (query, category) in [("люки", "manhole_cover"), ("таксиста", "taxi_overcharge"), ("потеряла", "lost_in_taxi"), ("открытые люки", "manhole_cover")] {
        let search = browser.wait_for("#category-search").await?;
        search.clear().await?;
        search.send_keys(query).await?;
        tokio::time::sleep(Duration::from_millis(200)).await;
        let values = browser.option_values("#category").await?;
        assert!(values.contains(&category.to_owned()), "{query} finds {category}: {values:?}");
    }
    // After a switch to Chinese, the Russian word still finds the category: the words that
    // came stay with the catalog in its new language, and are not fetched again.
    browser.click("button[lang=zh-CN]").await?;
    browser.wait_for_text("label[for=category-search]", "搜索").await?;
    let search = browser.wait_for("#category-search").await?;
    search.clear().await?;
    search.send_keys("такси").await?;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let values = browser.option_values("#category").await?;
    assert!(values.contains(&"taxi_overcharge".to_owned()), "такси in Chinese: {values:?}");
    assert_eq!(
        browser.client.execute(catalogs, vec![]).await?,
        json!(["/api/v1/catalog?lang=ru&keywords=apart", "/api/v1/catalog/keywords", "/api/v1/catalog?lang=zh-CN&keywords=apart"]),
        "the search words came once, however many searches"
    );
    browser.close().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switching_language_mid_form_keeps_what_was_typed() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let browser = Browser::start("zh-CN").await?;
    browser.open_widget(&server.url).await?;
    browser.choose("#category", "street_light").await?;
    browser.type_into("#description", "路灯一直不亮").await?;
    browser.type_into("#field-pole_number", "HL-0421").await?;
    // The phone downloaded the catalog once, in Chinese only: the page's preload was the
    // very request the widget made.
    let catalogs = "return performance.getEntriesByType('resource').map(e => e.name).filter(n => n.includes('/api/v1/catalog')).map(n => n.slice(n.indexOf('/api/')))";
    // No search words either: this resident chose from the list.
    assert_eq!(browser.client.execute(catalogs, vec![]).await?, json!(["/api/v1/catalog?lang=zh-CN&keywords=apart"]));

    browser.click("button[lang=en]").await?;
    browser.wait_for_text("label[for=description]", "Describe the problem").await?;
    browser.click("button[lang=ru]").await?;
    browser.wait_for_text("label[for=description]", "Опишите проблему").await?;
    assert_eq!(browser.client.title().await?, "Горячая линия 12345", "the page title follows the language");
    // The catalog's own texts came in Russian too: the category, its field.
    browser.wait_for_text("label[for=field-pole_number]", "Номер на столбе").await?;
    let chosen = browser.client.execute("const s = document.querySelector('#category'); return s.options[s.selectedIndex].text", vec![]).await?;
    assert!(chosen.as_str().is_some_and(|text| text.contains("Не горит или повреждён фонарь")), "the chosen category in Russian: {chosen}");

    assert_eq!(browser.value_of("#description").await?, "路灯一直不亮");
    assert_eq!(browser.value_of("#field-pole_number").await?, "HL-0421");
    assert_eq!(browser.value_of("#category").await?, "street_light");
    browser.close().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_geolocation_leaves_a_clear_path_by_address() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let browser = Browser::start("en").await?;
    browser.open_widget(&format!("{}/?lang=en", server.url)).await?;
    browser.cdp("Browser.setPermission", json!({ "permission": { "name": "geolocation" }, "setting": "denied" })).await?;
    browser.choose("#category", "manhole_cover").await?;
    browser.click("#use-location").await?;
    browser.wait_for_text("#location-status", "Your location is not available").await?;
    browser.choose("#district", "songbei").await?;
    browser.type_into("#address", "Songbei, Century Avenue 1").await?;
    browser.type_into("#description", "Open manhole on the pavement").await?;
    browser.send_report().await?;
    let tracking_no = browser.text_of("#tracking-no").await?;
    browser.close().await?;
    let line = pipeline_line(&server, &tracking_no).await;
    assert_eq!(line["district"], "songbei");
    assert_eq!(line["report"]["location"]["address"], "Songbei, Century Avenue 1");
    assert!(line["report"]["location"].get("lat").is_none());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_granted_position_travels_with_the_report_and_neighbours_reports_are_counted() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let browser = Browser::start("zh-CN").await?;
    browser.cdp("Browser.grantPermissions", json!({ "permissions": ["geolocation"] })).await?;
    browser.cdp("Emulation.setGeolocationOverride", json!({ "latitude": 45.7731, "longitude": 126.6176, "accuracy": 12 })).await?;

    let mut first_tracking = String::new();
    // The count is shown from two open reports on (one would point at one resident).
    for round in 0..3 {
        browser.open_widget(&server.url).await?;
        browser.choose("#category", "manhole_cover").await?;
        browser.click("#use-location").await?;
        browser.wait_for_text("#location-status", "已定位，精度约 12 米").await?;
        if round == 2 {
            browser.wait_for_text("#nearby", "附近已有 2 条尚未办结的同类诉求").await?;
        }
        browser.choose("#district", "daoli").await?;
        browser.type_into("#description", "中央大街井盖缺失").await?;
        browser.send_report().await?;
        let tracking_no = browser.text_of("#tracking-no").await?;
        if round == 0 {
            first_tracking = tracking_no;
        }
    }
    let line = pipeline_line(&server, &first_tracking).await;
    assert_eq!(line["report"]["location"]["lat"], 45.7731);
    assert_eq!(line["report"]["location"]["accuracy_m"], 12.0);

    browser.click("#follow-up-link").await?;
    let status = browser.text_of("#current-status").await?;
    browser.close().await?;
    assert!(["当前状态：已受理", "当前状态：已转交承办部门"].contains(&status.as_str()), "{status}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unsent_report_survives_a_reload_and_is_forgotten_once_sent() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let browser = Browser::start("zh-CN").await?;
    browser.open_widget(&server.url).await?;
    browser.choose("#category", "heating_too_cold").await?;
    browser.type_into("#field-indoor_temperature", "14").await?;
    browser.type_into("#description", "暖气不热，屋里只有14度").await?;
    browser.choose("#district", "xiangfang").await?;
    let dir = tempfile::tempdir()?;
    browser.attach("#photo", &camera_photo(dir.path(), 1200, 900)?).await?;
    browser.wait_for(".photo img").await?;
    tokio::time::sleep(Duration::from_millis(300)).await;

    browser.client.refresh().await?;
    browser.wait_for("#field-indoor_temperature").await?;
    browser.wait_for(".photo img").await?;

    assert_eq!(browser.value_of("#category").await?, "heating_too_cold");
    assert_eq!(browser.value_of("#field-indoor_temperature").await?, "14");
    assert_eq!(browser.value_of("#description").await?, "暖气不热，屋里只有14度");
    assert_eq!(browser.value_of("#district").await?, "xiangfang");

    browser.type_into("#contact-phone", "13904512345").await?;
    browser.click("#contact-consent").await?;
    browser.send_report().await?;
    let tracking_no = browser.text_of("#tracking-no").await?;
    browser.client.refresh().await?;
    browser.wait_for("#description").await?;
    assert_eq!(browser.value_of("#description").await?, "", "the sent report's draft is gone");
    browser.choose("#category", "heating_too_cold").await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(browser.client.find_all(fantoccini::Locator::Css(".photo img")).await?.is_empty(), "and so are its photos");
    browser.close().await?;
    let line = pipeline_line(&server, &tracking_no).await;
    assert_eq!(line["report"]["fields"]["indoor_temperature"], 14.0);
    assert_eq!(line["photos"].as_array().map(Vec::len), Some(1), "the photo kept with the draft was sent");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_sent_offline_waits_on_the_phone_and_is_stored_once_when_back_online() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let browser = Browser::start("en").await?;
    browser.open_widget(&format!("{}/?lang=en", server.url)).await?;
    browser.choose("#category", "street_light").await?;
    browser.choose("#district", "pingfang").await?;
    browser.type_into("#description", "Street light out since Monday").await?;
    let offline = json!({ "offline": true, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1 });
    browser.cdp("Network.enable", json!({})).await?;
    browser.cdp("Network.emulateNetworkConditions", offline).await?;

    browser.send_report().await?;
    browser.wait_for_text("#waiting", "saved on this phone").await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(server.pipeline_lines().is_empty(), "nothing reached the server while offline");

    let online = json!({ "offline": false, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1 });
    browser.cdp("Network.emulateNetworkConditions", online).await?;
    let tracking_no = browser.text_of(".sent-tracking-no").await?;
    browser.client.refresh().await?;
    browser.wait_for("#category-search").await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    browser.close().await?;

    let line = pipeline_line(&server, &tracking_no).await;
    assert_eq!(line["report"]["description"], "Street light out since Monday");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(server.pipeline_lines().len(), 1, "stored and forwarded once");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_slow_network_the_upload_shows_its_progress() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let browser = Browser::start("zh-CN").await?;
    let dir = tempfile::tempdir()?;
    let photo = camera_photo(dir.path(), 3000, 2000)?;
    browser.open_widget(&server.url).await?;
    browser.choose("#category", "road_damage").await?;
    browser.choose("#district", "hulan").await?;
    browser.type_into("#description", "路面塌陷").await?;
    browser.attach("#photo", &photo).await?;
    browser.wait_for(".photo img").await?;
    browser.cdp("Network.enable", json!({})).await?;
    browser.cdp("Network.emulateNetworkConditions", json!({ "offline": false, "latency": 50, "downloadThroughput": 200_000, "uploadThroughput": 40_000 })).await?;

    browser.send_report().await?;
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        // Read the bar in one script call: it disappears when the upload ends, and a
        // WebDriver element found a moment earlier would then be stale.
        let value = browser.client.execute("const bar = document.getElementById('upload-progress'); return bar ? bar.value : null;", Vec::new()).await?;
        match value.as_f64() {
            Some(value) => seen.push(value),
            None if !seen.is_empty() => break,
            None => {}
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let tracking_no = browser.text_of("#tracking-no").await?;
    browser.close().await?;
    assert!(seen.iter().any(|value| *value > 0.0 && *value < 100.0), "the bar moved between 0 and 100: {seen:?}");
    pipeline_line(&server, &tracking_no).await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_review_screen_shows_what_will_be_sent_and_change_keeps_the_input() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let browser = Browser::start("ru").await?;
    let dir = tempfile::tempdir()?;
    let photo = camera_photo(dir.path(), 800, 600)?;
    browser.open_widget(&format!("{}/?lang=ru", server.url)).await?;
    browser.choose("#category", "road_damage").await?;
    browser.choose("#district", "nangang").await?;
    browser.type_into("#description", "Яма на тротуаре у остановки").await?;
    // The camera button opens the back camera directly on phones.
    let camera = browser.wait_for("#photo-camera").await?;
    assert_eq!(camera.attr("capture").await?.as_deref(), Some("environment"));
    assert_eq!(browser.text_of("label[for=photo-camera]").await?, "📷 Сфотографировать");
    browser.attach("#photo-camera", &photo).await?;
    browser.wait_for(".photo img").await?;

    browser.click("button[type=submit]").await?;
    let review = browser.text_of("#review").await?;
    assert!(review.contains("Проверьте обращение"), "the review speaks Russian: {review}");
    assert!(review.contains("Яма на тротуаре у остановки"), "the description is shown: {review}");
    assert!(review.contains("Наньган"), "the district is named in Russian: {review}");
    assert!(review.contains("Анонимно"), "an anonymous report says so: {review}");
    assert_eq!(browser.client.find_all(fantoccini::Locator::Css("#review .photo img")).await?.len(), 1, "the photo is shown");
    assert!(server.pipeline_lines().is_empty(), "nothing is sent before the resident confirms");

    browser.click("#edit-report").await?;
    assert_eq!(browser.value_of("#description").await?, "Яма на тротуаре у остановки", "Change returns to the filled form");
    browser.type_into("#description", " — глубокая").await?;
    browser.send_report().await?;
    let tracking_no = browser.text_of("#tracking-no").await?;
    browser.close().await?;
    let line = pipeline_line(&server, &tracking_no).await;
    assert_eq!(line["report"]["description"], "Яма на тротуаре у остановки — глубокая");
    assert_eq!(line["photos"].as_array().map(Vec::len), Some(1));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_the_server_asks_to_send_later_waits_on_the_phone_instead_of_failing() -> anyhow::Result<()> {
    // One report per minute from this address: the second is answered 429 "try later".
    let server = Server::start_with(|config| config.security.reports_per_minute = 1).await?;
    let browser = Browser::start("en").await?;
    browser.open_widget(&format!("{}/?lang=en", server.url)).await?;
    for (index, district) in ["daoli", "nangang"].into_iter().enumerate() {
        browser.choose("#category", "street_light").await?;
        browser.choose("#district", district).await?;
        browser.type_into("#description", &format!("Street light {index} out")).await?;
        browser.send_report().await?;
        if index == 0 {
            browser.text_of("#tracking-no").await?;
            browser.click("#new-report").await?;
        }
    }
    browser.wait_for_text("#waiting", "saved on this phone").await?;
    let queued = browser
        .client
        .execute_async(
            "const done = arguments[0]; const open = indexedDB.open('lianxin');
             open.onsuccess = () => { const all = open.result.transaction('pending').objectStore('pending').getAll();
                 all.onsuccess = () => done(all.result.filter(r => r.report).length); };",
            vec![],
        )
        .await?;
    browser.close().await?;
    assert_eq!(queued.as_u64(), Some(1), "the refused-for-now report waits in IndexedDB");
    assert!(server.pipeline_lines().iter().all(|line| line["report"]["description"] != "Street light 1 out"), "the second report did not reach the server");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_temperature_typed_with_a_decimal_comma_is_taken_and_one_out_of_range_is_explained() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let browser = Browser::start("ru").await?;
    browser.open_widget(&format!("{}/?lang=ru", server.url)).await?;
    browser.choose("#category", "heating_too_cold").await?;
    browser.type_into("#field-indoor_temperature", "45,5").await?;
    browser.type_into("#description", "Батареи едва тёплые").await?;
    browser.choose("#district", "xiangfang").await?;
    browser.type_into("#contact-phone", "+79141234567").await?;
    browser.click("#contact-consent").await?;
    browser.click("button[type=submit]").await?;
    let message = browser.wait_for_text("#field-indoor_temperature-error", "Введите значение от -30 до 40").await?;
    assert!(!message.contains('e') && !message.contains("40.0"), "the range reads as people write it: {message:?}");

    browser.wait_for("#field-indoor_temperature").await?.clear().await?;
    browser.type_into("#field-indoor_temperature", "16,5").await?;
    browser.send_report().await?;
    let tracking_no = browser.text_of("#tracking-no").await?;
    browser.close().await?;
    let line = pipeline_line(&server, &tracking_no).await;
    assert_eq!(line["report"]["fields"]["indoor_temperature"], 16.5);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_review_reads_as_russian_writes_it_and_a_tourist_is_told_the_full_hotline_number() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let browser = Browser::start("ru").await?;
    browser.open_widget(&format!("{}/?lang=ru", server.url)).await?;
    // A tourist on a foreign SIM: the short number may not connect, the full one does.
    browser.wait_for_text("#hotline-abroad", "+86 451 12345").await?;
    browser.choose("#category", "unpaid_wages").await?;
    browser.type_into("#field-employer", "ООО «Северный двор»").await?;
    browser.type_into("#field-workers", "22").await?;
    browser.type_into("#description", "Не платят зарплату три месяца").await?;
    browser.type_into("#contact-phone", "+79141234567").await?;
    browser.click("#contact-consent").await?;
    browser.click("button[type=submit]").await?;
    let review = browser.text_of("#review").await?;
    assert!(review.contains("22 человека"), "the unit takes the form 22 needs: {review}");
    for label in ["Категория", "Описание", "Контакты"] {
        assert!(review.contains(label), "the review's own short label {label}: {review}");
    }
    for prompt in ["Что случилось?", "Опишите проблему", "необязательно"] {
        assert!(!review.contains(prompt), "no form prompt as a heading ({prompt}): {review}");
    }
    browser.screenshot("review-ru-units").await?;
    // In Chinese the line is not shown: residents' phones reach 12345.
    browser.click("#edit-report").await?;
    browser.click("button[lang=zh-CN]").await?;
    browser.wait_for_text("label[for=description]", "问题描述").await?;
    assert_eq!(browser.wait_for("#hotline-abroad").await?.text().await?, "");
    browser.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_time_of_a_taxi_ride_is_reviewed_as_english_writes_dates() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let browser = Browser::start("en").await?;
    browser.open_widget(&format!("{}/?lang=en", server.url)).await?;
    browser.choose("#category", "taxi_overcharge").await?;
    browser.type_into("#field-plate", "黑A12345").await?;
    // The phone's own date and time picker fills the field; here the page does what it does.
    browser.client.execute("const input = document.getElementById('field-ride_time'); input.value = '2026-11-25T21:30'; input.dispatchEvent(new Event('input', { bubbles: true }));", vec![]).await?;
    browser.type_into("#field-pickup", "Central Street").await?;
    browser.type_into("#field-dropoff", "Harbin railway station").await?;
    browser.type_into("#field-fare_paid", "86").await?;
    browser.type_into("#description", "The driver refused to use the meter").await?;
    browser.type_into("#contact-phone", "+79141234567").await?;
    browser.click("#contact-consent").await?;
    browser.click("button[type=submit]").await?;
    let review = browser.text_of("#review").await?;
    assert!(review.contains("25 Nov 2026, 21:30"), "the ride's time as English writes it: {review}");
    assert!(!review.contains("2026-11-25T21:30"), "never the raw value: {review}");
    browser.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_question_with_several_answers_is_a_group_of_checkboxes_and_travels_as_a_list() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let browser = Browser::start("en").await?;
    browser.open_widget(&format!("{}/?lang=en", server.url)).await?;
    browser.choose("#category", "restaurant_fumes").await?;
    browser.type_into("#field-business_name", "Old Harbin BBQ").await?;
    let group = browser.wait_for("#field-time_of_day[role=group]").await?;
    let named_by = group.attr("aria-labelledby").await?.unwrap_or_default();
    assert!(browser.text_of(&format!("#{named_by}")).await?.contains("When does it happen"), "the question names the group");
    browser.click("#field-time_of_day-evening").await?;
    browser.click("#field-time_of_day-night").await?;
    browser.click("#field-time_of_day-morning").await?;
    browser.click("#field-time_of_day-morning").await?;
    let violations = browser.accessibility_violations().await?;
    assert!(violations.is_empty(), "the checkbox group is accessible: {violations:?}");
    browser.choose("#district", "daoli").await?;
    browser.type_into("#address", "Central Street 12").await?;
    browser.type_into("#description", "Barbecue smoke comes into our flat every evening").await?;
    browser.click("button[type=submit]").await?;
    let review = browser.text_of("#review").await?;
    assert!(review.contains("Evening, Late at night"), "both answers, by name: {review}");
    browser.click("#send-report").await?;
    let tracking_no = browser.text_of("#tracking-no").await?;
    browser.close().await?;
    let line = pipeline_line(&server, &tracking_no).await;
    assert_eq!(line["report"]["fields"]["time_of_day"], json!(["evening", "night"]));
    Ok(())
}

/// On a slow phone network the category list is on the page before the widget has
/// started (the server renders it in): the resident chooses on it with the keyboard, and
/// the widget, once started, opens that category's form with the list still focused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_slow_network_the_resident_chooses_before_the_widget_has_started_and_keeps_the_choice() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let browser = Browser::start("en").await?;
    browser.cdp("Network.enable", json!({})).await?;
    browser.cdp("Network.setCacheDisabled", json!({ "cacheDisabled": true })).await?;
    // About 20 KB/s: the page arrives within a second, the widget's WebAssembly takes
    // seven or more.
    browser.cdp("Network.emulateNetworkConditions", json!({ "offline": false, "latency": 40, "downloadThroughput": 20_000, "uploadThroughput": 20_000 })).await?;
    browser.cdp("Page.navigate", json!({ "url": server.url })).await?;

    let list = browser.wait_for("#first-screen #category").await?;
    assert_eq!(browser.text_of("#first-screen label[for=category]").await?, "What is the problem?");
    let violations = browser.accessibility_violations().await?;
    assert!(violations.is_empty(), "the first screen: {violations:?}");
    // Down the list by keyboard to the taxi category, as a resident without a mouse would
    // (the keys go to the focused list). The presses go in one command: one round trip per
    // press could outlast the download on a slow test machine.
    let presses = browser
        .client
        .execute("const list = document.querySelector('#first-screen #category'); return [...list.options].findIndex(o => o.value === 'taxi_overcharge') - list.selectedIndex;", vec![])
        .await?
        .as_u64()
        .context("the taxi category is below the current choice")?;
    list.send_keys(&"\u{E015}".repeat(presses as usize)).await?;
    assert_eq!(list.prop("value").await?.unwrap_or_default(), "taxi_overcharge");
    assert!(browser.client.find(fantoccini::Locator::Css("#category-search")).await.is_err(), "the choice was made before the widget started");

    browser.cdp("Network.emulateNetworkConditions", json!({ "offline": false, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1 })).await?;
    browser.wait_for("#category-search").await?;
    assert!(browser.client.find(fantoccini::Locator::Css("#first-screen")).await.is_err(), "the widget replaced the first screen");
    assert_eq!(browser.value_of("#category").await?, "taxi_overcharge");
    browser.wait_for("#field-plate").await?;
    let focused = browser.client.execute("return document.activeElement ? document.activeElement.id : ''", vec![]).await?;
    assert_eq!(focused, json!("category"), "the keyboard stays where the resident was");
    browser.close().await?;
    Ok(())
}
