//! Memory with 200 residents on slow connections each uploading a 5 MB photo at once: the
//! server's peak resident memory while the uploads trickle in (64 KB every 100 ms each),
//! beside its memory when idle.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use crate::report::Report;
use crate::server::{ServerProcess, peak_rss, rss};

const UPLOADS: usize = 200;
const CHUNK: usize = 64 * 1024;

/// A real JPEG just under the 5 MB photo limit.
fn big_photo() -> Vec<u8> {
    let limit = 5 * 1024 * 1024 - 64 * 1024;
    let mut seed = 0x1234_5678_u32;
    let image = image::RgbImage::from_fn(3000, 2000, |_, _| {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        image::Rgb([(seed & 0xff) as u8, ((seed >> 8) & 0xff) as u8, ((seed >> 16) & 0xff) as u8])
    });
    for quality in [90, 80, 70, 60, 50, 40] {
        let mut bytes = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, quality).encode_image(&image).expect("encodes");
        if bytes.len() <= limit {
            return bytes;
        }
    }
    panic!("no quality fits the photo under 5 MB");
}

/// One multipart body (report + photo), sent slowly.
fn slow_body(photo: Arc<Vec<u8>>, boundary: &str, index: usize) -> reqwest::Body {
    let report = serde_json::json!({
        "category": "manhole_cover", "kind": "complaint",
        "description": format!("慢速上传 {index}：井盖缺失"),
        "location": { "district": "daoli", "address": "中央大街" }, "lang": "zh-CN"
    });
    let mut head = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"report\"\r\nContent-Type: application/json\r\n\r\n{report}\r\n").into_bytes();
    head.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"p.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n").into_bytes());
    let tail = format!("\r\n--{boundary}--\r\n").into_bytes();
    let mut chunks: Vec<Bytes> = vec![Bytes::from(head)];
    chunks.extend(photo.chunks(CHUNK).map(Bytes::copy_from_slice));
    chunks.push(Bytes::from(tail));
    let stream = futures_util::stream::unfold(chunks.into_iter(), |mut chunks| async move {
        let chunk = chunks.next()?;
        tokio::time::sleep(Duration::from_millis(100)).await;
        Some((Ok::<Bytes, std::io::Error>(chunk), chunks))
    });
    reqwest::Body::wrap_stream(stream)
}

/// Runs the slow-upload scenario.
pub async fn run(report: &mut Report, quick: bool) -> anyhow::Result<()> {
    let uploads = if quick { 50 } else { UPLOADS };
    let photo = Arc::new(big_photo());
    let server = ServerProcess::start("").await?;
    let pid = server.pid();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let idle = rss(pid);
    let client = reqwest::Client::builder().pool_max_idle_per_host(uploads).timeout(Duration::from_secs(300)).build()?;
    let boundary = "lianxinbenchboundary";
    let tasks: Vec<_> = (0..uploads)
        .map(|index| {
            let (client, photo, url) = (client.clone(), photo.clone(), server.url.clone());
            tokio::spawn(async move {
                client
                    .post(format!("{url}/api/v1/reports"))
                    .header("Idempotency-Key", format!("slow-{index}"))
                    .header("Content-Type", format!("multipart/form-data; boundary={boundary}"))
                    .body(slow_body(photo, boundary, index))
                    .send()
                    .await
                    .map(|response| response.status().as_u16())
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await?);
    }
    let peak = peak_rss(pid);
    let accepted = statuses.iter().filter(|status| matches!(status, Ok(201))).count();
    report
        .add("memory", format!("{uploads} concurrent slow uploads of {:.1} MB: server peak RSS", photo.len() as f64 / 1024.0 / 1024.0), peak as f64, "B")
        .baseline("idle", idle as f64)
        .target("< 300 MB", peak < 300 * 1024 * 1024);
    report.add("memory", format!("  uploads stored (of {uploads})"), accepted as f64, "");
    let failed: Vec<String> = statuses.iter().filter(|status| !matches!(status, Ok(201))).map(|status| format!("{status:?}")).take(3).collect();
    if !failed.is_empty() {
        eprintln!("bench: some slow uploads were not stored, e.g. {failed:?}");
    }
    Ok(())
}
