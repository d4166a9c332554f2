//! The map, as a resident uses it in the browser, against a tile server the test starts
//! (tiles it draws itself, with `z/x/y` printed on them): "choose on the map" opens it,
//! the resident taps, moves the pin with the arrow keys, drags it — with tiles drawn in
//! WGS 84 and in GCJ-02 — and the report reaches the pipeline at the WGS 84 position the
//! pixels stand for, computed here independently (Web Mercator; the server's GCJ-02
//! conversion, itself checked against published reference points). Without tiles there is
//! no map button, and the CSP allows images from exactly the configured tile hosts.

use std::f64::consts::PI;
use std::time::{Duration, Instant};

use fantoccini::key::Key;
use lianxin_e2e::tiles::TileServer;
use lianxin_e2e::{Browser, Server};
use lianxin_server::boundaries::gcj02_to_wgs84;
use lianxin_server::config::{MapCoordinates, MapSettings};
use lianxin_server::geo::distance_m;
use serde_json::{Value, json};

/// Central Street, in Daoli (WGS 84).
const CENTRAL_STREET: (f64, f64) = (45.7731, 126.6176);
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
            center: Some([CENTRAL_STREET.0, CENTRAL_STREET.1]),
            zoom: ZOOM,
            ..MapSettings::default()
        };
    })
    .await
}

/// The map's box as Leaflet measures it: the padding box's left and top in the viewport,
/// and its width and height.
async fn map_box(browser: &Browser) -> anyhow::Result<(f64, f64, f64, f64)> {
    let found = browser
        .client
        .execute(
            "const map = document.getElementById('map'); map.scrollIntoView({block: 'center'}); const r = map.getBoundingClientRect(); \
             return [r.left + map.clientLeft, r.top + map.clientTop, map.clientWidth, map.clientHeight];",
            vec![],
        )
        .await?;
    let numbers: Vec<f64> = serde_json::from_value(found)?;
    Ok((numbers[0], numbers[1], numbers[2], numbers[3]))
}

/// Waits until the map shows the pin and at least one tile has loaded.
async fn wait_for_map(browser: &Browser, tiles: &TileServer) -> anyhow::Result<()> {
    browser.wait_for(".map-pin").await?;
    browser.wait_for("img.leaflet-tile-loaded").await?;
    anyhow::ensure!(!tiles.requested().is_empty(), "the map asked the tile server for nothing");
    Ok(())
}

/// The position shown at a point of the map box, given the position at its centre: how
/// Leaflet maps pixels (its pixel origin is rounded to whole pixels).
fn at_point(centre: (f64, f64), (width, height): (f64, f64), (px, py): (f64, f64)) -> (f64, f64) {
    let (cx, cy) = project(centre, ZOOM);
    let origin = ((cx - width / 2.0).round(), (cy - height / 2.0).round());
    unproject((origin.0 + px, origin.1 + py), ZOOM)
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

    let browser = Browser::start("zh-CN").await?;
    browser.open_widget(&server.url).await?;
    browser.choose("#category", "manhole_cover").await?;
    browser.click("#choose-on-map").await?;
    wait_for_map(&browser, &tiles).await?;
    let (left, top, width, height) = map_box(&browser).await?;

    // A tap (with the mouse) 40 px right of and 30 px below the middle, then the pin three
    // steps right and two up with the arrow keys (10 px a step).
    let point = (width / 2.0 + 40.0, height / 2.0 + 30.0);
    click_at(&browser, left + point.0, top + point.1).await?;
    let tapped = at_point(CENTRAL_STREET, (width, height), point);
    browser.wait_for_text("#location-status", "已在地图上选定位置").await?;
    keys_on_pin(&browser, Key::Right, 3).await?;
    keys_on_pin(&browser, Key::Up, 2).await?;
    let expected = moved(tapped, (30.0, -20.0));
    // The pin's district comes from the server's lookup.
    let deadline = Instant::now() + Duration::from_secs(10);
    while browser.value_of("#district").await? != "daoli" {
        anyhow::ensure!(Instant::now() < deadline, "the district was not filled in from the pin");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    browser.screenshot("map-wgs84").await?;
    let violations = browser.accessibility_violations().await?;
    assert!(violations.is_empty(), "the open map is accessible: {violations:?}");

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
    browser.cdp("Emulation.setGeolocationOverride", json!({ "latitude": CENTRAL_STREET.0, "longitude": CENTRAL_STREET.1, "accuracy": 800 })).await?;
    browser.open_widget(&server.url).await?;
    browser.choose("#category", "manhole_cover").await?;
    browser.click("#use-location").await?;
    browser.wait_for_text("#location-status", "Location found").await?;
    // GPS 800 m off: the resident places the pin on the map, which opens on the fix.
    browser.click("#choose-on-map").await?;
    wait_for_map(&browser, &tiles).await?;

    // The map script's own conversion against published reference points (eviltransform's
    // Shanghai and Shenzhen).
    let published = browser.client.execute("return [lianxinMap.wgsToGcj(31.1774276, 121.5272106), lianxinMap.wgsToGcj(22.543847, 113.912316)]", vec![]).await?;
    let published: Vec<[f64; 2]> = serde_json::from_value(published)?;
    for (got, expected) in published.iter().zip([[31.17530398364597, 121.531541859215], [22.540796131694766, 113.9171764808363]]) {
        assert!((got[0] - expected[0]).abs() < 1e-7 && (got[1] - expected[1]).abs() < 1e-7, "GCJ-02 in the browser: {got:?}, published {expected:?}");
    }

    let centre = lianxin_server::boundaries::wgs84_to_gcj02(CENTRAL_STREET.0, CENTRAL_STREET.1);
    let (left, top, width, height) = map_box(&browser).await?;
    let point = (width / 2.0 - 50.0, height / 2.0 + 40.0);
    tap_at(&browser, left + point.0, top + point.1).await?;
    let tapped = at_point(centre, (width, height), point);
    browser.wait_for_text("#location-status", "Place chosen on the map").await?;
    keys_on_pin(&browser, Key::Left, 2).await?;
    drag_pin(&browser, (60.0, -45.0)).await?;
    let shown = moved(tapped, (-20.0 + 60.0, -45.0));
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
    assert!(browser.client.find(fantoccini::Locator::Css("#choose-on-map")).await.is_err(), "no map button without tiles");
    browser.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_gps_refused_the_place_a_photo_was_taken_is_offered_and_used_only_when_taken() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let dir = tempfile::tempdir()?;
    // St. Sophia Cathedral, Daoli.
    let photo = lianxin_e2e::photo_taken_at(dir.path(), 45.76809, 126.62152)?;
    let browser = Browser::start("zh-CN").await?;
    browser.open_widget(&server.url).await?;
    browser.cdp("Browser.setPermission", json!({ "permission": { "name": "geolocation" }, "setting": "denied" })).await?;
    browser.choose("#category", "manhole_cover").await?;
    browser.click("#use-location").await?;
    browser.wait_for_text("#location-status", "无法获取您的位置").await?;
    browser.attach("#photo", &photo).await?;
    browser.wait_for(".photo img").await?;
    browser.click("#use-photo-place").await?;
    browser.wait_for_text("#location-status", "已使用照片的拍摄地点").await?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while browser.value_of("#district").await? != "daoli" {
        anyhow::ensure!(Instant::now() < deadline, "the district was not filled in from the photo's place");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let line = send_and_forwarded(&browser, &server, "索菲亚教堂旁井盖缺失").await?;
    assert_near(&line, (45.76809, 126.62152));
    assert!(line["report"]["location"].get("accuracy_m").is_none(), "the photo said nothing of its accuracy: {}", line["report"]["location"]);
    browser.close().await?;

    // Not taken: a photo's place is never sent on its own.
    let browser = Browser::start("zh-CN").await?;
    browser.open_widget(&server.url).await?;
    browser.choose("#category", "manhole_cover").await?;
    browser.choose("#district", "daoli").await?;
    browser.type_into("#address", "透笼街 索菲亚教堂").await?;
    browser.attach("#photo", &photo).await?;
    browser.wait_for("#use-photo-place").await?;
    let line = send_and_forwarded(&browser, &server, "索菲亚教堂旁井盖缺失（不使用照片位置）").await?;
    assert!(line["report"]["location"].get("lat").is_none(), "{}", line["report"]["location"]);
    browser.close().await
}
