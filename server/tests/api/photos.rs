//! Photos are distrusted: only plain JPEG, PNG and WebP photos are stored, re-encoded
//! upright and without metadata; everything else is refused and nothing is stored.

use serde_json::Value;

use crate::helpers::{TestApp, jpeg, manhole_report, noise, spawn_app};

/// A JPEG, 200×100, left half red and right half blue, with an EXIF block saying
/// "orientation 6" (rotate 90° clockwise to display) and carrying a GPS tag.
fn jpeg_with_orientation_6_and_gps() -> Vec<u8> {
    let image = image::RgbImage::from_fn(200, 100, |x, _| if x < 100 { image::Rgb([255, 0, 0]) } else { image::Rgb([0, 0, 255]) });
    let mut plain = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut plain, 95).encode_image(&image).unwrap();
    let mut tiff = Vec::new();
    tiff.extend_from_slice(b"II\x2A\x00");
    tiff.extend_from_slice(&8u32.to_le_bytes());
    tiff.extend_from_slice(&2u16.to_le_bytes());
    // Orientation = 6.
    tiff.extend_from_slice(&[0x12, 0x01, 3, 0]);
    tiff.extend_from_slice(&1u32.to_le_bytes());
    tiff.extend_from_slice(&[6, 0, 0, 0]);
    // Pointer to the GPS IFD.
    tiff.extend_from_slice(&[0x25, 0x88, 4, 0]);
    tiff.extend_from_slice(&1u32.to_le_bytes());
    tiff.extend_from_slice(&38u32.to_le_bytes());
    tiff.extend_from_slice(&0u32.to_le_bytes());
    // GPS IFD: GPSLatitudeRef = "N".
    tiff.extend_from_slice(&1u16.to_le_bytes());
    tiff.extend_from_slice(&[0x01, 0x00, 2, 0]);
    tiff.extend_from_slice(&2u32.to_le_bytes());
    tiff.extend_from_slice(b"N\0\0\0");
    tiff.extend_from_slice(&0u32.to_le_bytes());
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let mut photo = plain[..2].to_vec();
    photo.extend_from_slice(&[0xFF, 0xE1]);
    photo.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
    photo.extend_from_slice(&app1);
    photo.extend_from_slice(&plain[2..]);
    photo
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// A PNG whose header claims 60000×60000 pixels (3.6 billion) over a few bytes of data:
/// decoded naively it would need gigabytes.
fn png_bomb() -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = |kind: &[u8], data: &[u8]| {
        png.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        png.extend_from_slice(&body);
        png.extend_from_slice(&crc32(&body).to_be_bytes());
    };
    let mut header = Vec::new();
    header.extend_from_slice(&60_000u32.to_be_bytes());
    header.extend_from_slice(&60_000u32.to_be_bytes());
    header.extend_from_slice(&[8, 0, 0, 0, 0]);
    chunk(b"IHDR", &header);
    chunk(b"IDAT", &[0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
    chunk(b"IEND", &[]);
    png
}

async fn refused(app: &TestApp, photo: Vec<u8>) -> (u16, Value) {
    let response = app.post_report(Some(&format!("k-{}", photo.len())), &manhole_report(), vec![photo]).await;
    (response.status().as_u16(), response.json().await.unwrap())
}

fn stored_photo_files(app: &TestApp) -> usize {
    crate::helpers::stored_photos(app)
}

#[tokio::test]
async fn jpeg_with_exif_orientation_and_gps_is_stored_upright_without_metadata() {
    let app = spawn_app().await;
    let original = jpeg_with_orientation_6_and_gps();
    assert!(original.windows(4).any(|window| window == b"Exif"));

    let response = app.post_report(Some("k"), &manhole_report(), vec![original]).await;

    assert_eq!(response.status(), 201);
    let line = &app.wait_for_pipeline(1).await[0];
    let sha256 = line["photos"][0]["sha256"].as_str().unwrap();
    assert_eq!((line["photos"][0]["width"].as_u64(), line["photos"][0]["height"].as_u64()), (Some(100), Some(200)), "rotated upright");
    let stored = app.state.photos.store().get(sha256, lianxin_server::photo_store::Variant::Full).await.unwrap().expect("the photo is stored");
    assert!(!stored.windows(4).any(|window| window == b"Exif"), "no EXIF left");
    let upright = image::load_from_memory(&stored).unwrap().to_rgb8();
    let top = upright.get_pixel(50, 20);
    let bottom = upright.get_pixel(50, 180);
    assert!(top[0] > 200 && top[2] < 60, "the left (red) half is now on top: {top:?}");
    assert!(bottom[2] > 200 && bottom[0] < 60, "the right (blue) half is now below: {bottom:?}");
}

#[tokio::test]
async fn a_thumbnail_is_made_from_the_stored_photo_when_first_asked_for_and_kept() {
    let app = spawn_app().await;
    let response = app.post_report(Some("thumb"), &manhole_report(), vec![jpeg_with_orientation_6_and_gps()]).await;
    assert_eq!(response.status(), 201);
    let photo = app.wait_for_pipeline(1).await[0]["photos"][0].clone();
    let sha256 = photo["sha256"].as_str().unwrap();
    let file = app.data_dir.path().join("photos").join(&sha256[..2]).join(format!("{sha256}.thumb.jpg"));
    assert!(!file.exists(), "intake made no thumbnail");

    let thumb_url = format!("{}&size=thumb", photo["url"].as_str().unwrap());
    let served = app.client.get(&thumb_url).send().await.unwrap();

    assert_eq!(served.status(), 200);
    assert_eq!(served.headers()["content-type"], "image/jpeg");
    let bytes = served.bytes().await.unwrap();
    let thumbnail = image::load_from_memory_with_format(&bytes, image::ImageFormat::Jpeg).unwrap().to_rgb8();
    assert!(thumbnail.width() <= 320 && thumbnail.height() <= 320, "{:?}", thumbnail.dimensions());
    assert_eq!(thumbnail.width() * 2, thumbnail.height(), "the upright photo's shape");
    let top = thumbnail.get_pixel(thumbnail.width() / 2, thumbnail.height() / 10);
    assert!(top[0] > 180 && top[2] < 80, "made from the upright photo: red on top, {top:?}");
    assert!(!bytes.windows(4).any(|window| window == b"Exif"));
    assert_eq!(std::fs::read(&file).unwrap(), bytes, "kept for the next time");
    let again = app.client.get(&thumb_url).send().await.unwrap();
    assert_eq!(again.bytes().await.unwrap(), bytes, "the kept one is served");
}

#[tokio::test]
async fn png_decompression_bomb_is_refused_before_decoding() {
    let app = spawn_app().await;
    let (status, problem) = refused(&app, png_bomb()).await;
    assert_eq!(status, 413);
    assert_eq!(problem["detail"], "这张照片像素太多（最多 4000 万像素），请换一张普通照片", "{problem}");
    assert_eq!(stored_photo_files(&app), 0);
}

#[tokio::test]
async fn truncated_jpeg_is_refused() {
    let app = spawn_app().await;
    let photo = jpeg(400, 300);
    let (status, problem) = refused(&app, photo[..photo.len() / 2].to_vec()).await;
    assert_eq!(status, 415);
    assert_eq!(problem["type"], "urn:lianxin:problem:unsupported-photo");
    assert_eq!(stored_photo_files(&app), 0);
}

#[tokio::test]
async fn zip_renamed_to_jpg_svg_and_heic_are_refused_with_a_message_that_helps() {
    let app = spawn_app().await;
    let zip = b"PK\x03\x04\x14\x00\x00\x00\x08\x00 not really a photo".to_vec();
    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#.to_vec();
    let mut heic = vec![0, 0, 0, 0x18];
    heic.extend_from_slice(b"ftypheic\0\0\0\0mif1heic");
    for photo in [zip, svg] {
        let (status, problem) = refused(&app, photo).await;
        assert_eq!(status, 415);
        assert_eq!(problem["detail"], "只接受 JPEG、PNG 或 WebP 照片");
    }
    let (status, problem) = refused(&app, heic).await;
    assert_eq!(status, 415);
    assert!(problem["detail"].as_str().unwrap().contains("HEIC"), "{problem}");
    assert_eq!(stored_photo_files(&app), 0);
}

#[tokio::test]
async fn jpeg_with_a_zip_appended_polyglot_is_refused() {
    let app = spawn_app().await;
    let mut polyglot = jpeg(120, 90);
    polyglot.extend_from_slice(b"PK\x03\x04\x14\x00\x00\x00\x08\x00payload.html<script>alert(1)</script>PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0");
    let (status, problem) = refused(&app, polyglot).await;
    assert_eq!(status, 415);
    assert_eq!(problem["type"], "urn:lianxin:problem:unsupported-photo");
    assert_eq!(stored_photo_files(&app), 0);
}

#[tokio::test]
async fn png_and_webp_photos_are_accepted_and_stored_as_jpeg() {
    let app = spawn_app().await;
    let image = image::RgbaImage::from_fn(64, 48, |x, y| image::Rgba([x as u8 * 4, y as u8 * 5, 80, 255]));
    let mut png = Vec::new();
    image::DynamicImage::ImageRgba8(image.clone()).write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png).unwrap();
    let mut webp = Vec::new();
    image::DynamicImage::ImageRgba8(image).write_to(&mut std::io::Cursor::new(&mut webp), image::ImageFormat::WebP).unwrap();

    let response = app.post_report(Some("k"), &manhole_report(), vec![png, webp]).await;

    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    let line = &app.wait_for_pipeline(1).await[0];
    assert_eq!(line["photos"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn large_photos_are_spooled_to_disk_while_uploading_and_no_spool_file_outlives_the_request() {
    let app = spawn_app().await;
    let big = noisy_jpeg(2400, 1800);
    assert!(big.len() > lianxin_server::intake::HELD_EACH, "the photo is too large to be held in memory ({} bytes)", big.len());
    let spool = app.data_dir.path().join("uploads");
    let leftovers = || std::fs::read_dir(&spool).map(|entries| entries.count()).unwrap_or(0);

    let accepted = app.post_report(Some("big"), &manhole_report(), vec![big.clone()]).await;
    assert_eq!(accepted.status(), 201);
    let line = &app.wait_for_pipeline(1).await[0];
    assert_eq!((line["photos"][0]["width"].as_u64(), line["photos"][0]["height"].as_u64()), (Some(2048), Some(1536)), "the spooled photo was read back whole");
    assert!(spool.exists(), "large uploads go through the spool directory");
    assert_eq!(leftovers(), 0, "the spool file of a stored report is gone");

    let mut invalid = manhole_report();
    invalid["category"] = Value::String("no_such_category".into());
    assert_eq!(app.post_report(Some("big-invalid"), &invalid, vec![big.clone()]).await.status(), 422);
    assert_eq!(app.post_report(Some("big-garbage"), &manhole_report(), vec![vec![0xAB; 600 * 1024]]).await.status(), 415);
    assert_eq!(leftovers(), 0, "refused reports leave no spool file");

    let retried = app.post_report(Some("big"), &manhole_report(), vec![big]).await;
    assert_eq!(retried.status(), 200, "a retry of a spooled report hashes the same");
}

#[tokio::test]
async fn a_photo_of_the_size_the_widget_sends_is_held_in_memory_and_never_touches_the_spool() {
    let app = spawn_app().await;
    let photo = noisy_jpeg(1600, 1200);
    let size = photo.len();
    assert!(size > lianxin_server::intake::SPOOL_AFTER && size <= lianxin_server::intake::HELD_EACH, "a widget-sized photo ({size} bytes)");

    let accepted = app.post_report(Some("widget-sized"), &manhole_report(), vec![photo]).await;

    assert_eq!(accepted.status(), 201, "{}", accepted.text().await.unwrap());
    let line = &app.wait_for_pipeline(1).await[0];
    assert_eq!((line["photos"][0]["width"].as_u64(), line["photos"][0]["height"].as_u64()), (Some(1600), Some(1200)), "the held photo was read whole");
    assert!(!app.data_dir.path().join("uploads").exists(), "no file was created for it");
}

/// A JPEG with noise in every pixel: about a megabyte per 1.5 million pixels at quality 80,
/// like a camera photo, unlike a smooth gradient.
fn noisy_jpeg(width: u32, height: u32) -> Vec<u8> {
    let mut seed = 0x2545_f491_u32;
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        let noise = (noise(&mut seed) % 64) as u8;
        image::Rgb([(x % 192) as u8 + noise, (y % 192) as u8 + noise / 2, 96 + noise])
    });
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 80).encode_image(&image).unwrap();
    bytes
}

/// A 16-bit RGBA PNG of one colour: small on the wire, 8 bytes a pixel once decoded.
fn png_16_bit(width: u32, height: u32) -> Vec<u8> {
    let image = image::ImageBuffer::<image::Rgba<u16>, _>::from_pixel(width, height, image::Rgba([40_000, 20_000, 10_000, 65_535]));
    let mut png = std::io::Cursor::new(Vec::new());
    image.write_to(&mut png, image::ImageFormat::Png).unwrap();
    png.into_inner()
}

/// `png` with an `eXIf` chunk saying "orientation 6" (rotate to display), after its header.
fn with_orientation_6(png: &[u8]) -> Vec<u8> {
    let mut exif = b"II\x2A\x00".to_vec();
    exif.extend_from_slice(&8u32.to_le_bytes());
    exif.extend_from_slice(&1u16.to_le_bytes());
    exif.extend_from_slice(&[0x12, 0x01, 3, 0]);
    exif.extend_from_slice(&1u32.to_le_bytes());
    exif.extend_from_slice(&[6, 0, 0, 0]);
    exif.extend_from_slice(&0u32.to_le_bytes());
    let header_end = 8 + 25;
    let mut out = png[..header_end].to_vec();
    let mut body = b"eXIf".to_vec();
    body.extend_from_slice(&exif);
    out.extend_from_slice(&(exif.len() as u32).to_be_bytes());
    out.extend_from_slice(&body);
    out.extend_from_slice(&crc32(&body).to_be_bytes());
    out.extend_from_slice(&png[header_end..]);
    out
}

#[tokio::test]
async fn a_photo_whose_decoding_would_take_more_memory_than_the_budget_is_refused_before_decoding() {
    let app = crate::helpers::spawn_app_with(|config| config.photos.decode_bytes = 6_000_000).await;

    // 1000 × 1000 × 8 bytes = 8 MB decoded, from a PNG of a few kilobytes.
    let (status, _) = refused(&app, png_16_bit(1000, 1000)).await;
    assert_eq!(status, 413, "over the budget");
    // 700 × 700 × 8 = 3.9 MB fits; rotated it needs a second copy (7.8 MB), which does not.
    let fits = app.post_report(Some("fits"), &manhole_report(), vec![png_16_bit(700, 700)]).await;
    assert_eq!(fits.status(), 201);
    let (rotated, _) = refused(&app, with_orientation_6(&png_16_bit(700, 700))).await;
    assert_eq!(rotated, 413, "the rotation's copy counts");
    assert_eq!(stored_photo_files(&app), 1, "only the photo that fitted");
}
