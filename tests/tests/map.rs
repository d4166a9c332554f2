//! The map, as a resident uses it in the browser, against a tile server the test starts
//! (tiles it draws itself, with `z/x/y` printed on them): "choose on the map" opens it,
//! the resident taps, moves the pin with the arrow keys, drags it — with tiles drawn in
//! WGS 84 and in GCJ-02 — and the report reaches the pipeline at the WGS 84 position the
//! pixels stand for. The test finds a place on screen from the tiles themselves (where the
//! browser drew tile z/x/y, and Web Mercator within it), so it does not trust the map
//! script: on GCJ-02 tiles St. Sophia Cathedral is drawn where its GCJ-02 position falls,
//! and tapping there must forward its WGS 84 position (the server's conversion, checked
//! against published reference points). Without tiles there is no map button, and the CSP
//! allows images from exactly the configured tile hosts.

use std::f64::consts::PI;
use std::time::{Duration, Instant};

use fantoccini::key::Key;
use lianxin_e2e::tiles::TileServer;
use lianxin_e2e::{Browser, Server};
use lianxin_server::boundaries::{gcj02_to_wgs84, wgs84_to_gcj02};
use lianxin_server::config::{MapCoordinates, MapSettings};
use lianxin_server::geo::distance_m;
use serde_json::{Value, json};

/// St. Sophia Cathedral, in Daoli (WGS 84): what the resident places the pin on.
const ST_SOPHIA: (f64, f64) = (45.76809, 126.62152);
/// A point about 100 m from it, where the map opens (the city centre, or the GPS fix).
const NEARBY: (f64, f64) = (45.7690, 126.6200);
const ZOOM: u8 = 16;

fn world(zoom: u8) -> f64 {
    256.0 * 2f64.powi(i32::from(zoom))
}

/// Web Mercator pixel coordinates of a position at `zoom`, as Leaflet projects it.
fn project((lat, lon): (f64, f64), zoom: u8) -> (f64, f64) {
    let phi = lat.to_radians();
    let x = (lon + 180.0) / 360.0 * world(zoom);
    let y = (1.0 - (phi.tan() + 1.0 / phi.cos()).ln() / PI) / 2.0 * world(zoom);
    (x, y)
}

fn unproject((x, y): (f64, f64), zoom: u8) -> (f64, f64) {
    let lon = x / world(zoom) * 360.0 - 180.0;
    let lat = (PI * (1.0 - 2.0 * y / world(zoom))).sinh().atan().to_degrees();
    (lat, lon)
}

fn moved(at: (f64, f64), (dx, dy): (f64, f64)) -> (f64, f64) {
    let (x, y) = project(at, ZOOM);
    unproject((x + dx, y + dy), ZOOM)
}

async fn start(tiles: &TileServer, coordinates: MapCoordinates) -> anyhow::Result<Server> {
    let template = tiles.template();
    Server::start_with(move |config| {
        config.map = MapSettings {
            tiles: template,
            subdomains: vec!["a".into(), "b".into()],
            attribution: "Lianxin test tiles".into(),
            coordinates,
            center: Some([NEARBY.0, NEARBY.1]),
            zoom: ZOOM,
            ..MapSettings::default()
        };
    })
    .await
}

/// Waits until the map shows the pin and at least one tile has loaded.
async fn wait_for_map(browser: &Browser, tiles: &TileServer) -> anyhow::Result<()> {
    browser.wait_for(".map-pin").await?;
    browser.wait_for("img.leaflet-tile-loaded").await?;
    anyhow::ensure!(!tiles.requested().is_empty(), "the map asked the tile server for nothing");
    Ok(())
}

/// Where on the screen the tiles draw a position (in the tiles' own coordinates): from the
/// screen box of one loaded tile, whose z/x/y its address names, and Web Mercator within it.
async fn screen_of(browser: &Browser, at: (f64, f64)) -> anyhow::Result<(f64, f64)> {
    let found = browser
        .client
        .execute(
            "document.getElementById('map').scrollIntoView({block: 'center'}); \
             const tile = document.querySelector('img.leaflet-tile-loaded'); const r = tile.getBoundingClientRect(); \
             return [tile.src, r.left, r.top];",
            vec![],
        )
        .await?;
    let (src, left, top): (String, f64, f64) = serde_json::from_value(found)?;
    let numbers: Vec<f64> = src.trim_end_matches(".png").rsplit('/').take(3).filter_map(|part| part.parse().ok()).collect();
    let [y, x, z] = numbers[..] else { anyhow::bail!("a tile address without z/x/y: {src}") };
    anyhow::ensure!(z == f64::from(ZOOM), "tiles of zoom {z}, not {ZOOM}");
    let (px, py) = project(at, ZOOM);
    Ok((left + px - x * 256.0, top + py - y * 256.0))
}

/// Where the pin's tip stands on the screen.
async fn pin_tip(browser: &Browser) -> anyhow::Result<(f64, f64)> {
    let found = browser
        .client
        .execute(
            "document.getElementById('map').scrollIntoView({block: 'center'}); const r = document.querySelector('.map-pin').getBoundingClientRect(); return [r.left + r.width / 2, r.bottom];",
            vec![],
        )
        .await?;
    Ok(serde_json::from_value(found)?)
}

async fn click_at(browser: &Browser, x: f64, y: f64) -> anyhow::Result<()> {
    for kind in ["mousePressed", "mouseReleased"] {
        browser.cdp("Input.dispatchMouseEvent", json!({ "type": kind, "x": x, "y": y, "button": "left", "buttons": 1, "clickCount": 1 })).await?;
    }
    Ok(())
}

async fn tap_at(browser: &Browser, x: f64, y: f64) -> anyhow::Result<()> {
    browser.cdp("Emulation.setTouchEmulationEnabled", json!({ "enabled": true, "maxTouchPoints": 1 })).await?;
    browser.cdp("Input.dispatchTouchEvent", json!({ "type": "touchStart", "touchPoints": [{ "x": x, "y": y }] })).await?;
    browser.cdp("Input.dispatchTouchEvent", json!({ "type": "touchEnd", "touchPoints": [] })).await?;
    Ok(())
}

/// Drags the pin by `(dx, dy)` pixels with the mouse, in small steps as a hand does.
async fn drag_pin(browser: &Browser, (dx, dy): (f64, f64)) -> anyhow::Result<()> {
    let found = browser.client.execute("const r = document.querySelector('.map-pin').getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2];", vec![]).await?;
    let start: Vec<f64> = serde_json::from_value(found)?;
    let (x, y) = (start[0], start[1]);
    browser.cdp("Input.dispatchMouseEvent", json!({ "type": "mousePressed", "x": x, "y": y, "button": "left", "buttons": 1, "clickCount": 1 })).await?;
    for step in 1..=10 {
        let share = f64::from(step) / 10.0;
        browser.cdp("Input.dispatchMouseEvent", json!({ "type": "mouseMoved", "x": x + dx * share, "y": y + dy * share, "button": "left", "buttons": 1 })).await?;
    }
    browser.cdp("Input.dispatchMouseEvent", json!({ "type": "mouseReleased", "x": x + dx, "y": y + dy, "button": "left", "buttons": 1, "clickCount": 1 })).await?;
    Ok(())
}

/// Presses `key` `times` times on the pin (which takes the focus, as after a Tab).
async fn keys_on_pin(browser: &Browser, key: Key, times: usize) -> anyhow::Result<()> {
    let pin = browser.wait_for(".map-pin").await?;
    let key: char = key.into();
    pin.send_keys(&key.to_string().repeat(times)).await?;
    Ok(())
}

/// Sends the report and returns the pipeline's copy of it.
async fn send_and_forwarded(browser: &Browser, server: &Server, description: &str) -> anyhow::Result<Value> {
    browser.type_into("#description", description).await?;
    browser.send_report().await?;
    let tracking_no = browser.text_of("#tracking-no").await?;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(line) = server.pipeline_lines().into_iter().find(|line| line["tracking_no"] == tracking_no.as_str()) {
            return Ok(line);
        }
        anyhow::ensure!(Instant::now() < deadline, "report {tracking_no} never reached the pipeline");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn assert_near(line: &Value, expected: (f64, f64)) {
    let location = &line["report"]["location"];
    let got = (location["lat"].as_f64().unwrap_or_default(), location["lon"].as_f64().unwrap_or_default());
    let off = distance_m(got.0, got.1, expected.0, expected.1);
    assert!(off < 5.0, "the pipeline got {got:?}, {off:.1} m from the expected {expected:?}: {location}");
}

async fn wait_until_shown(browser: &Browser, css: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !browser.wait_for(css).await?.is_displayed().await? {
        anyhow::ensure!(Instant::now() < deadline, "{css} was never shown");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

async fn csp(server: &Server) -> anyhow::Result<String> {
    let response = reqwest::get(format!("{}/", server.url)).await?;
    Ok(response.headers().get("content-security-policy").and_then(|value| value.to_str().ok()).unwrap_or_default().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resident_taps_the_map_and_nudges_the_pin_with_the_keys_on_wgs84_tiles() -> anyhow::Result<()> {
    let tiles = TileServer::start().await?;
    let server = start(&tiles, MapCoordinates::Wgs84).await?;
    let policy = csp(&server).await?;
    let hosts = format!("img-src 'self' blob: data: http://a.tiles.localhost:{port} http://b.tiles.localhost:{port};", port = tiles.port);
    assert!(policy.contains(&hosts), "images from exactly the tile hosts: {policy}");

    // Two neighbours already reported a missing cover by the cathedral: the map marks their
    // 100 m cell with the count, at the cell's centre, not where either of them stood.
    let cell = lianxin_server::geo::snap_to_grid(ST_SOPHIA.0, ST_SOPHIA.1, 100.0);
    for (lat, lon) in [(cell.0 + 0.0001, cell.1 - 0.0002), (cell.0 - 0.0002, cell.1 + 0.0003)] {
        server.file_report(&json!({ "category": "manhole_cover", "kind": "complaint", "description": "索菲亚教堂旁井盖缺失", "location": { "lat": lat, "lon": lon, "accuracy_m": 10.0 } })).await?;
    }

    let browser = Browser::start("zh-CN").await?;
    browser.open_widget(&server.url).await?;
    browser.choose("#category", "manhole_cover").await?;
    browser.click("#choose-on-map").await?;
    wait_for_map(&browser, &tiles).await?;
    // No GPS: the map opens on the city centre, the pin on it.
    let (opened, centre) = (pin_tip(&browser).await?, screen_of(&browser, NEARBY).await?);
    assert!((opened.0 - centre.0).abs() < 2.0 && (opened.1 - centre.1).abs() < 2.0, "the pin at {opened:?}, the centre drawn at {centre:?}");
    let marker = browser.wait_for(".map-nearby span").await?;
    assert_eq!(marker.text().await?, "2");
    assert_eq!(marker.attr("aria-label").await?.as_deref(), Some("此处已有 2 条尚未办结的同类诉求"));
    let shown = browser
        .client
        .execute(
            "const r = document.querySelector('.map-nearby').getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2, document.querySelectorAll('.map-nearby[tabindex]').length]",
            vec![],
        )
        .await?;
    let drawn = screen_of(&browser, cell).await?;
    let (x, y) = (shown[0].as_f64().unwrap_or_default(), shown[1].as_f64().unwrap_or_default());
    assert!((x - drawn.0).abs() < 2.0 && (y - drawn.1).abs() < 2.0, "the marker at ({x}, {y}), the cell's centre drawn at {drawn:?}");
    assert_eq!(shown[2].as_u64(), Some(0), "markers never take the keyboard focus from the pin");

    // A tap (with the mouse) on the cathedral as the tiles draw it, then the pin three steps
    // right and two up with the arrow keys (10 px a step).
    let (x, y) = screen_of(&browser, ST_SOPHIA).await?;
    click_at(&browser, x, y).await?;
    browser.wait_for_text("#location-status", "已在地图上选定位置").await?;
    keys_on_pin(&browser, Key::Right, 3).await?;
    keys_on_pin(&browser, Key::Up, 2).await?;
    let expected = moved(ST_SOPHIA, (30.0, -20.0));
    // The pin's district comes from the server's lookup.
    let deadline = Instant::now() + Duration::from_secs(10);
    while browser.value_of("#district").await? != "daoli" {
        anyhow::ensure!(Instant::now() < deadline, "the district was not filled in from the pin");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    browser.screenshot("map-wgs84").await?;
    let violations = browser.accessibility_violations().await?;
    assert!(violations.is_empty(), "the open map is accessible: {violations:?}");
    // The narrowest phones: the map fits 320 px with twice the text size, nothing scrolls sideways.
    browser.client.set_window_size(320, 700).await?;
    browser.client.execute("document.documentElement.style.fontSize = '200%'", vec![]).await?;
    let overflow = browser.client.execute("return document.documentElement.scrollWidth - document.documentElement.clientWidth", vec![]).await?;
    assert_eq!(overflow.as_i64(), Some(0), "the open map overflows a 320 px screen at 200 % text");
    browser.screenshot("map-320px-200-percent").await?;
    browser.client.execute("document.documentElement.style.fontSize = ''", vec![]).await?;
    browser.client.set_window_size(390, 844).await?;

    let line = send_and_forwarded(&browser, &server, "中央大街井盖缺失（在地图上标注）").await?;
    assert_near(&line, expected);
    let accuracy = line["report"]["location"]["accuracy_m"].as_f64().unwrap_or_default();
    assert!((10.0..=25.0).contains(&accuracy), "about ten pixels at zoom 16 in Harbin: {accuracy} m");
    browser.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_gcj02_tiles_a_tap_keys_and_a_drag_still_forward_wgs84() -> anyhow::Result<()> {
    let tiles = TileServer::start().await?;
    let server = start(&tiles, MapCoordinates::Gcj02).await?;
    let browser = Browser::start("en").await?;
    browser.cdp("Browser.grantPermissions", json!({ "permissions": ["geolocation"] })).await?;
    browser.cdp("Emulation.setGeolocationOverride", json!({ "latitude": NEARBY.0, "longitude": NEARBY.1, "accuracy": 800 })).await?;
    browser.open_widget(&server.url).await?;
    browser.choose("#category", "manhole_cover").await?;
    browser.click("#use-location").await?;
    browser.wait_for_text("#location-status", "Location found").await?;
    // GPS 800 m vague: the resident places the pin on the map, which opens on the fix — drawn
    // by GCJ-02 tiles where the fix's GCJ-02 position falls.
    browser.click("#choose-on-map").await?;
    wait_for_map(&browser, &tiles).await?;
    let (opened, fix) = (pin_tip(&browser).await?, screen_of(&browser, wgs84_to_gcj02(NEARBY.0, NEARBY.1)).await?);
    assert!((opened.0 - fix.0).abs() < 2.0 && (opened.1 - fix.1).abs() < 2.0, "the pin at {opened:?}, the fix drawn at {fix:?}");

    // The map script's own conversion against published reference points (eviltransform's
    // Shanghai and Shenzhen).
    let published = browser.client.execute("return [lianxinMap.wgsToGcj(31.1774276, 121.5272106), lianxinMap.wgsToGcj(22.543847, 113.912316)]", vec![]).await?;
    let published: Vec<[f64; 2]> = serde_json::from_value(published)?;
    for (got, expected) in published.iter().zip([[31.17530398364597, 121.531541859215], [22.540796131694766, 113.9171764808363]]) {
        assert!((got[0] - expected[0]).abs() < 1e-7 && (got[1] - expected[1]).abs() < 1e-7, "GCJ-02 in the browser: {got:?}, published {expected:?}");
    }

    // A tap (touch) on the cathedral as the GCJ-02 tiles draw it, two steps left with the
    // keys, then a drag.
    let drawn = wgs84_to_gcj02(ST_SOPHIA.0, ST_SOPHIA.1);
    let (x, y) = screen_of(&browser, drawn).await?;
    tap_at(&browser, x, y).await?;
    browser.wait_for_text("#location-status", "Place chosen on the map").await?;
    keys_on_pin(&browser, Key::Left, 2).await?;
    drag_pin(&browser, (60.0, -45.0)).await?;
    let shown = moved(drawn, (-20.0 + 60.0, -45.0));
    browser.screenshot("map-gcj02").await?;

    let line = send_and_forwarded(&browser, &server, "Manhole cover missing on Central Street (placed on the map)").await?;
    assert_near(&line, gcj02_to_wgs84(shown.0, shown.1));
    browser.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_tiles_there_is_no_map_and_images_stay_self_only() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let policy = csp(&server).await?;
    assert!(policy.contains("img-src 'self' blob: data:;"), "{policy}");
    let answer = reqwest::get(format!("{}/api/v1/map", server.url)).await?;
    assert_eq!(answer.status(), 404);
    let browser = Browser::start("ru").await?;
    browser.open_widget(&server.url).await?;
    browser.choose("#category", "manhole_cover").await?;
    browser.wait_for("#use-location").await?;
    let button = browser.wait_for("#choose-on-map").await?;
    assert!(!button.is_displayed().await?, "no map button without tiles");
    browser.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_gps_refused_the_place_a_photo_was_taken_is_offered_and_used_only_when_taken() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let dir = tempfile::tempdir()?;
    let photo = lianxin_e2e::photo_taken_at(dir.path(), ST_SOPHIA.0, ST_SOPHIA.1)?;
    let browser = Browser::start("zh-CN").await?;
    browser.open_widget(&server.url).await?;
    browser.cdp("Browser.setPermission", json!({ "permission": { "name": "geolocation" }, "setting": "denied" })).await?;
    browser.choose("#category", "manhole_cover").await?;
    browser.click("#use-location").await?;
    browser.wait_for_text("#location-status", "无法获取您的位置").await?;
    let offer = browser.wait_for("#use-photo-place").await?;
    assert!(!offer.is_displayed().await?, "nothing offered before a photo says where it was taken");
    browser.attach("#photo", &photo).await?;
    wait_until_shown(&browser, "#use-photo-place").await?;
    browser.click("#use-photo-place").await?;
    browser.wait_for_text("#location-status", "已使用照片的拍摄地点").await?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while browser.value_of("#district").await? != "daoli" {
        anyhow::ensure!(Instant::now() < deadline, "the district was not filled in from the photo's place");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let line = send_and_forwarded(&browser, &server, "索菲亚教堂旁井盖缺失").await?;
    assert_near(&line, ST_SOPHIA);
    assert!(line["report"]["location"].get("accuracy_m").is_none(), "the photo said nothing of its accuracy: {}", line["report"]["location"]);
    browser.close().await?;

    // Not taken: a photo's place is never sent on its own.
    let browser = Browser::start("zh-CN").await?;
    browser.open_widget(&server.url).await?;
    browser.choose("#category", "manhole_cover").await?;
    browser.choose("#district", "daoli").await?;
    browser.type_into("#address", "透笼街 索菲亚教堂").await?;
    browser.attach("#photo", &photo).await?;
    wait_until_shown(&browser, "#use-photo-place").await?;
    let line = send_and_forwarded(&browser, &server, "索菲亚教堂旁井盖缺失（不使用照片位置）").await?;
    assert!(line["report"]["location"].get("lat").is_none(), "{}", line["report"]["location"]);
    browser.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gps_fix_far_from_where_the_photo_was_taken_offers_the_photos_place_and_a_close_one_does_not() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let dir = tempfile::tempdir()?;
    let photo = lianxin_e2e::photo_taken_at(dir.path(), ST_SOPHIA.0, ST_SOPHIA.1)?;
    // The resident files from home, 2.5 km away at Harbin railway station, after taking the
    // photo at the cathedral: the fix is good but far from the problem.
    let browser = Browser::start("zh-CN").await?;
    browser.open_widget(&server.url).await?;
    browser.cdp("Browser.grantPermissions", json!({ "permissions": ["geolocation"] })).await?;
    browser.cdp("Emulation.setGeolocationOverride", json!({ "latitude": 45.7603, "longitude": 126.6313, "accuracy": 15 })).await?;
    browser.choose("#category", "manhole_cover").await?;
    browser.click("#use-location").await?;
    browser.wait_for_text("#location-status", "已定位").await?;
    browser.attach("#photo", &photo).await?;
    wait_until_shown(&browser, "#use-photo-place").await?;
    browser.click("#use-photo-place").await?;
    browser.wait_for_text("#location-status", "已使用照片的拍摄地点").await?;
    let line = send_and_forwarded(&browser, &server, "在火车站附近提交：教堂旁井盖缺失").await?;
    assert_near(&line, ST_SOPHIA);
    browser.close().await?;

    // Standing at the spot (a fix 30 m from where the photo was taken): nothing is offered.
    let browser = Browser::start("zh-CN").await?;
    browser.open_widget(&server.url).await?;
    browser.cdp("Browser.grantPermissions", json!({ "permissions": ["geolocation"] })).await?;
    let close = moved(ST_SOPHIA, (20.0, 0.0));
    browser.cdp("Emulation.setGeolocationOverride", json!({ "latitude": close.0, "longitude": close.1, "accuracy": 15 })).await?;
    browser.choose("#category", "manhole_cover").await?;
    browser.click("#use-location").await?;
    browser.wait_for_text("#location-status", "已定位").await?;
    browser.attach("#photo", &photo).await?;
    browser.wait_for(".photo img").await?;
    assert!(!browser.wait_for("#use-photo-place").await?.is_displayed().await?, "the fix agrees with the photo: nothing to offer");
    browser.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_touch_screen_a_finger_drags_the_pin_and_two_fingers_spread_zoom_in() -> anyhow::Result<()> {
    let tiles = TileServer::start().await?;
    let server = start(&tiles, MapCoordinates::Wgs84).await?;
    let browser = Browser::start("zh-CN").await?;
    // A touch screen from the start, so the map script loads with touch gestures on.
    browser.cdp("Emulation.setTouchEmulationEnabled", json!({ "enabled": true, "maxTouchPoints": 5 })).await?;
    browser.open_widget(&server.url).await?;
    browser.choose("#category", "manhole_cover").await?;
    browser.click("#choose-on-map").await?;
    wait_for_map(&browser, &tiles).await?;
    let deeper = |paths: Vec<String>| paths.iter().any(|path| !path.starts_with(&format!("/{ZOOM}/")));
    assert!(!deeper(tiles.requested()), "only zoom {ZOOM} before the pinch");

    // One finger drags the pin 40 px right and 30 px down, in small steps as a hand does.
    let before = pin_tip(&browser).await?;
    let found = browser.client.execute("const r = document.querySelector('.map-pin').getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2];", vec![]).await?;
    let grip: Vec<f64> = serde_json::from_value(found)?;
    browser.cdp("Input.dispatchTouchEvent", json!({ "type": "touchStart", "touchPoints": [{ "x": grip[0], "y": grip[1] }] })).await?;
    for step in 1..=10 {
        let share = f64::from(step) / 10.0;
        browser.cdp("Input.dispatchTouchEvent", json!({ "type": "touchMove", "touchPoints": [{ "x": grip[0] + 40.0 * share, "y": grip[1] + 30.0 * share }] })).await?;
    }
    browser.cdp("Input.dispatchTouchEvent", json!({ "type": "touchEnd", "touchPoints": [] })).await?;
    browser.wait_for_text("#location-status", "已在地图上选定位置").await?;
    let after = pin_tip(&browser).await?;
    assert!((after.0 - before.0 - 40.0).abs() < 2.0 && (after.1 - before.1 - 30.0).abs() < 2.0, "the pin went from {before:?} to {after:?}");

    // Two fingers put down above the pin and spread apart, as touch events on the map.
    let pinch = "
        const map = document.querySelector('#map'), box = map.getBoundingClientRect();
        const x = box.left + box.width / 2, y = box.top + box.height / 2 - 80;
        const fingers = apart => [0, 1].map(id => new Touch({ identifier: id, target: map, clientX: x + (id ? apart : -apart), clientY: y }));
        const send = (type, touches) => map.dispatchEvent(new TouchEvent(type, { touches, targetTouches: touches, changedTouches: touches, bubbles: true, cancelable: true }));
        send('touchstart', fingers(20));
        for (let step = 1; step <= 10; step++) send('touchmove', fingers(20 + 8 * step));
        send('touchend', []);
    ";
    browser.client.execute(pinch, vec![]).await?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !deeper(tiles.requested()) {
        anyhow::ensure!(Instant::now() < deadline, "the pinch did not zoom the map in: {:?}", tiles.requested());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    browser.close().await
}
