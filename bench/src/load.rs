//! Server ingest under load from a small tokio client: JSON-only reports and reports with
//! one photo as the widget sends it (1600 × 1200 JPEG), at fixed concurrency (closed loop:
//! throughput, p50/p99) and then at half the measured rate (open loop: the p99 a city sees
//! when not at the limit), with the server's peak memory; beside the HTTP ceiling for JSON
//! reports (the bare route, in rounds alternating with the served reports), the storage
//! ceiling (raw inserts with the same durability) and, for photos, the decode ceiling (the
//! one full decode the server cannot skip, on the same cores, in rounds alternating with
//! the served photo reports). Every photo report sends a photo of its own, as residents do.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use reqwest::multipart::{Form, Part};
use tokio::sync::Mutex;

use crate::ceilings::{BareServer, raw_inserts};
use crate::report::{Report, percentile};
use crate::server::{ServerProcess, peak_rss};

/// Requests in flight at once in the closed-loop runs.
const CONCURRENCY: usize = 32;

/// What one run measured.
#[derive(Debug, Default)]
pub struct Measured {
    /// Successful requests per second.
    pub throughput: f64,
    /// Median latency, ms.
    pub p50: f64,
    /// 99th percentile latency, ms.
    pub p99: f64,
    /// Failed requests.
    pub errors: u64,
    /// Every successful request's latency, ms.
    pub latencies: Vec<f64>,
}

impl Measured {
    fn of(mut latencies: Vec<f64>, seconds: f64, errors: u64) -> Measured {
        let (p50, p99) = (percentile(&mut latencies, 0.5), percentile(&mut latencies, 0.99));
        Measured { throughput: latencies.len() as f64 / seconds, p50, p99, errors, latencies }
    }
}

fn report_json(index: u64) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "category": "manhole_cover",
        "kind": "complaint",
        "description": format!("中央大街与西十二道街路口井盖缺失，夜里很危险（第 {index} 次压测）"),
        "location": { "district": "daoli", "address": "中央大街与西十二道街路口" },
        "lang": "zh-CN"
    }))
    .expect("json")
}

/// A photo as the widget prepares one: 1600 × 1200, JPEG quality 80, about 200 KB (a
/// 12 MP camera photo leaves the browser at 165 KB), with texture and noise so the entropy
/// decoder has real work.
pub fn widget_photo() -> Vec<u8> {
    let mut seed = 0x9e37_79b9_u32;
    let image = image::RgbImage::from_fn(1600, 1200, |x, y| {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let noise = (seed % 12) as u8;
        image::Rgb([((x / 7) % 200) as u8 + noise, ((y / 5) % 200) as u8 + noise / 2, (((x + y) / 9) % 120) as u8 + 100 + noise])
    });
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 80).encode_image(&image).expect("encodes");
    bytes
}

/// `photo` made a file of its own for report `index`: the last entry of its last
/// quantisation table (the highest frequency, which these pixels never reach) is set from
/// `index`. Residents' photos all differ, so each must be stored, written durably and
/// counted as a new file, never found already stored by its hash; the decoding work stays
/// exactly that of `photo`.
pub fn distinct_photo(photo: &[u8], index: u64) -> Vec<u8> {
    let mut bytes = photo.to_vec();
    // The header's segments: a marker, a 2-byte length, then the segment, up to the scan.
    let (mut at, mut last_table) = (2, None);
    while at + 4 <= bytes.len() && bytes[at] == 0xFF && bytes[at + 1] != 0xDA {
        let end = at + 2 + usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]));
        if bytes[at + 1] == 0xDB {
            last_table = Some(end);
        }
        at = end;
    }
    // A table segment ends with the last table's 64 8-bit entries in zigzag order.
    if let Some(end) = last_table.filter(|end| *end <= bytes.len()) {
        bytes[end - 1] = 1 + (index % 255) as u8;
        bytes[end - 2] = 1 + (index / 255 % 255) as u8;
    }
    bytes
}

async fn send(client: &reqwest::Client, url: &str, index: u64, photo: Option<&[u8]>) -> Result<Duration, ()> {
    let mut form = Form::new().part("report", Part::bytes(report_json(index)).mime_str("application/json").map_err(|_| ())?);
    if let Some(photo) = photo {
        form = form.part("photo", Part::bytes(distinct_photo(photo, index)).file_name("photo.jpg").mime_str("image/jpeg").map_err(|_| ())?);
    }
    let started = Instant::now();
    let response = client.post(format!("{url}/api/v1/reports")).header("Idempotency-Key", lianxin_server::ids::new_report_id()).multipart(form).send().await.map_err(|_| ())?;
    let ok = response.status().is_success();
    let _ = response.bytes().await;
    if ok { Ok(started.elapsed()) } else { Err(()) }
}

static NEXT_KEY: AtomicU64 = AtomicU64::new(0);

/// Closed loop: `CONCURRENCY` clients, each sending the next report as soon as the last is
/// answered, for `seconds` after a one-second warm-up.
pub async fn closed_loop(url: &str, photo: Option<Arc<Vec<u8>>>, seconds: u64) -> Measured {
    let client = reqwest::Client::builder().pool_max_idle_per_host(CONCURRENCY).build().expect("client");
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let errors = Arc::new(AtomicU64::new(0));
    let warm_until = Instant::now() + Duration::from_secs(1);
    let stop_at = warm_until + Duration::from_secs(seconds);
    let workers: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let (client, url, photo, latencies, errors) = (client.clone(), url.to_owned(), photo.clone(), latencies.clone(), errors.clone());
            tokio::spawn(async move {
                let mut mine = Vec::new();
                while Instant::now() < stop_at {
                    let index = NEXT_KEY.fetch_add(1, Ordering::Relaxed);
                    let outcome = send(&client, &url, index, photo.as_deref().map(Vec::as_slice)).await;
                    if Instant::now() < warm_until {
                        continue;
                    }
                    match outcome {
                        Ok(latency) => mine.push(latency.as_secs_f64() * 1000.0),
                        Err(()) => {
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                latencies.lock().await.extend(mine);
            })
        })
        .collect();
    for worker in workers {
        let _ = worker.await;
    }
    let latencies = std::mem::take(&mut *latencies.lock().await);
    Measured::of(latencies, seconds as f64, errors.load(Ordering::Relaxed))
}

/// Open loop: one new report every `1 / rate` seconds whatever the answers, for `seconds`.
pub async fn open_loop(url: &str, photo: Option<Arc<Vec<u8>>>, rate: f64, seconds: u64) -> Measured {
    let client = reqwest::Client::new();
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let errors = Arc::new(AtomicU64::new(0));
    let total = (rate * seconds as f64) as usize;
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(total);
    for sent in 0..total {
        let due = started + Duration::from_secs_f64(sent as f64 / rate);
        tokio::time::sleep_until(due.into()).await;
        let (client, url, photo, latencies, errors) = (client.clone(), url.to_owned(), photo.clone(), latencies.clone(), errors.clone());
        tasks.push(tokio::spawn(async move {
            let index = NEXT_KEY.fetch_add(1, Ordering::Relaxed);
            match send(&client, &url, index, photo.as_deref().map(Vec::as_slice)).await {
                Ok(latency) => latencies.lock().await.push(latency.as_secs_f64() * 1000.0),
                Err(()) => {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    let latencies = std::mem::take(&mut *latencies.lock().await);
    Measured::of(latencies, started.elapsed().as_secs_f64(), errors.load(Ordering::Relaxed))
}

/// Runs the ingest scenarios.
pub async fn run(report: &mut Report, quick: bool) -> anyhow::Result<()> {
    let seconds = if quick { 3 } else { 10 };
    let photo = Arc::new(widget_photo());
    eprintln!("bench: photo for the photo scenario: {} KB", photo.len() / 1024);
    let (rounds, round_seconds) = if quick { (2, 2) } else { (4, 3) };
    let bare_server = BareServer::start().await?;
    let bare_photo = closed_loop(&bare_server.url, Some(photo.clone()), seconds).await;
    let raw = tokio::task::spawn_blocking(move || raw_inserts(if quick { 2000 } else { 10_000 }, CONCURRENCY, 600)).await??;

    for (name, photo, target_rate) in [("JSON reports", None, 2000.0), ("one-photo reports", Some(photo.clone()), 100.0)] {
        let server = ServerProcess::start("").await?;
        let spent_before = Spent::now(&server).await;
        let (full, ceiling) = match &photo {
            // Each round of JSON reports beside the bare route measured right after it, once
            // the forwarder has drained the round (it would otherwise slow the bare route).
            None => {
                let (server, bare_url) = (&server, bare_server.url.as_str());
                alternating(&server.url, None, rounds, round_seconds, || async move {
                    wait_drained(server).await;
                    Ok(closed_loop(bare_url, None, round_seconds).await.throughput)
                })
                .await?
            }
            Some(photo) => {
                alternating(&server.url, Some(photo.clone()), rounds, round_seconds, || {
                    let photo = photo.clone();
                    async move { Ok(tokio::task::spawn_blocking(move || decodes_per_second(&photo, round_seconds)).await?) }
                })
                .await?
            }
        };
        // The forwarder drains what the run left in the outbox before the cost is read, so
        // a report's cost includes its forwarding (and the half-rate run starts empty).
        wait_drained(&server).await;
        let spent = Spent::now(&server).await.zip(spent_before).map(|(after, before)| after.per_report_since(&before));
        let half = open_loop(&server.url, photo.clone(), (full.throughput / 2.0).max(1.0), seconds).await;
        let peak = peak_rss(server.pid());
        drop(server);
        let (bare_label, bare) = match photo {
            None => (format!("bare route, median of {rounds} rounds alternating with it"), ceiling.ceiling),
            Some(_) => ("bare route".to_owned(), bare_photo.throughput),
        };
        report
            .add("ingest", format!("{name}: throughput at {CONCURRENCY} in flight"), full.throughput, "/s")
            .baseline(bare_label, bare)
            .target(format!("≥ {target_rate}/s"), full.throughput >= target_rate);
        let ratio = ceiling.ratio();
        if photo.is_none() {
            report.add("ingest", format!("{name}: throughput vs storage ceiling"), full.throughput, "/s").baseline("raw inserts, same fsync", raw);
            report.add("ingest", format!("{name}: share of the HTTP ceiling (median of {rounds} alternating rounds)"), ratio, "").target("≥ 0.4", ratio >= 0.4);
        } else {
            report.add("ingest", format!("{name}: throughput vs decode ceiling"), full.throughput, "/s").baseline("full decodes of the same photo, all cores, no HTTP", ceiling.ceiling);
            report.add("ingest", format!("{name}: share of the decode ceiling (median of {rounds} alternating rounds)"), ratio, "").target("≥ 0.8", ratio >= 0.8);
        }
        // What a report costs, whatever the host's speed: the server's CPU time (every
        // thread: intake, the photo threads, the writer, the forwarder draining the
        // reports behind them) and the writer's share of it.
        if let Some([bytes, calls, writer_cpu, cpu]) = spent {
            report.add("ingest", format!("{name}: server CPU per report at full load"), cpu * 1e6, "µs").baseline("of which the SQLite writer", writer_cpu * 1e6);
            report.add("ingest", format!("{name}: SQLite writer's bytes written per report at full load"), bytes, "B");
            report.add("ingest", format!("{name}: SQLite writer's write calls per report at full load"), calls, "");
        }
        report.add("ingest", format!("{name}: p50 / p99 at full load"), full.p50, "ms").baseline("p99", full.p99);
        report.add("ingest", format!("{name}: p99 at half that rate ({:.0}/s)", full.throughput / 2.0), half.p99, "ms").baseline("p50", half.p50).target("< 100 ms", half.p99 < 100.0);
        report.add("ingest", format!("{name}: server peak RSS"), peak as f64, "B");
        if full.errors + half.errors > 0 {
            report.add("ingest", format!("{name}: failed requests"), (full.errors + half.errors) as f64, "");
        }
    }
    Ok(())
}

/// A ceiling measured beside served reports (the bare route for JSON reports, full decodes
/// for photo reports).
#[derive(Debug)]
struct Ceiling {
    /// Its median rate over the rounds, per second.
    ceiling: f64,
    /// Each round's served reports per second over the ceiling measured right after it.
    ratios: Vec<f64>,
}

impl Ceiling {
    fn ratio(&self) -> f64 {
        let mut ratios = self.ratios.clone();
        crate::report::median(&mut ratios)
    }
}

/// Reports served (with `photo`, or JSON only) and their ceiling (`ceiling` measures it,
/// per second), alternating for `rounds` rounds of `seconds` each: this host's speed
/// drifts by a third within minutes, so each round's served rate is compared with the
/// ceiling measured right after it, and the share is the median of the rounds'. The served
/// rounds are merged into one measurement.
async fn alternating<F, C>(url: &str, photo: Option<Arc<Vec<u8>>>, rounds: usize, seconds: u64, mut ceiling: C) -> anyhow::Result<(Measured, Ceiling)>
where
    C: FnMut() -> F,
    F: Future<Output = anyhow::Result<f64>>,
{
    let (mut latencies, mut errors, mut ceilings, mut ratios) = (Vec::new(), 0, Vec::new(), Vec::new());
    for _ in 0..rounds {
        let served = closed_loop(url, photo.clone(), seconds).await;
        let rate = ceiling().await?;
        ratios.push(served.throughput / rate.max(1.0));
        ceilings.push(rate);
        latencies.extend(served.latencies);
        errors += served.errors;
    }
    let full = Measured::of(latencies, (rounds as u64 * seconds) as f64, errors);
    Ok((full, Ceiling { ceiling: crate::report::median(&mut ceilings), ratios }))
}

/// Waits (up to two minutes) until the server's outbox has no pending report left. It asks
/// twice a second: `/metrics` counts the outbox, which costs the server a little.
async fn wait_drained(server: &ServerProcess) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        let pending =
            async { reqwest::get(format!("{}/metrics", server.url)).await.ok()?.text().await.ok()?.lines().find_map(|line| line.strip_prefix("lianxin_outbox_pending ")?.trim().parse::<f64>().ok()) };
        if pending.await.is_none_or(|pending| pending == 0.0) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// What the server has spent so far: its SQLite writer thread's writes (bytes, write
/// calls: the WAL, its checkpoints and anything it spills) and CPU seconds, the whole
/// process's CPU seconds, and how many reports it has accepted; from `/proc` and `/metrics`.
#[derive(Debug, Clone, Copy)]
struct Spent {
    writer_bytes: u64,
    writer_calls: u64,
    writer_cpu: f64,
    cpu: f64,
    accepted: u64,
}

impl Spent {
    async fn now(server: &ServerProcess) -> Option<Spent> {
        let pid = server.pid();
        let (writer_bytes, writer_calls) = crate::server::thread_writes(pid, "lianxin-sqlite-")?;
        let (writer_cpu, cpu) = (crate::server::thread_cpu(pid, "lianxin-sqlite-")?, crate::server::process_cpu(pid)?);
        let metrics = reqwest::get(format!("{}/metrics", server.url)).await.ok()?.text().await.ok()?;
        let accepted = metrics.lines().find_map(|line| line.strip_prefix("lianxin_reports_accepted_total "))?.trim().parse().ok()?;
        Some(Spent { writer_bytes, writer_calls, writer_cpu, cpu, accepted })
    }

    /// What was spent since `before`, per report accepted since: writer bytes, writer
    /// write calls, writer CPU seconds, process CPU seconds.
    fn per_report_since(&self, before: &Spent) -> [f64; 4] {
        let reports = self.accepted.saturating_sub(before.accepted).max(1) as f64;
        [
            self.writer_bytes.saturating_sub(before.writer_bytes) as f64 / reports,
            self.writer_calls.saturating_sub(before.writer_calls) as f64 / reports,
            (self.writer_cpu - before.writer_cpu) / reports,
            (self.cpu - before.cpu) / reports,
        ]
    }
}

/// The decode ceiling: full decodes per second of `photo` (through the same `image` decoder
/// the server uses) on every core at once for `seconds`, nothing else — no HTTP, hashing,
/// thumbnail or storage.
pub fn decodes_per_second(photo: &[u8], seconds: u64) -> f64 {
    let threads = std::thread::available_parallelism().map_or(2, usize::from);
    let stop_at = Instant::now() + Duration::from_secs(seconds);
    let decoded = AtomicU64::new(0);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                while Instant::now() < stop_at {
                    let image = image::load_from_memory_with_format(photo, image::ImageFormat::Jpeg).expect("the bench photo decodes");
                    std::hint::black_box(image);
                    decoded.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    decoded.load(Ordering::Relaxed) as f64 / seconds as f64
}

#[cfg(test)]
mod tests {
    use super::{distinct_photo, widget_photo};

    #[test]
    fn each_report_sends_a_photo_of_its_own_that_decodes_like_the_first() {
        let photo = widget_photo();
        let (first, second, far) = (distinct_photo(&photo, 1), distinct_photo(&photo, 2), distinct_photo(&photo, 256));
        assert_eq!(first.len(), photo.len());
        assert!(first != photo && first != second && second != far && first != far);
        for each in [&first, &second, &far] {
            let decoded = image::load_from_memory_with_format(each, image::ImageFormat::Jpeg).expect("still a JPEG");
            assert_eq!((decoded.width(), decoded.height()), (1600, 1200));
        }
    }
}
