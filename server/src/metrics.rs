//! Prometheus metrics, kept in memory and rendered as text at `GET /metrics`: requests by
//! route and status, latency histograms per route, reports accepted and refused by reason,
//! photo bytes in and out, and (read from the store at scrape time) outbox depth and the
//! age of the oldest undelivered report. Labels are routes and reasons only: never a
//! tracking number, an address or anything a resident typed.
//!
//! Written here rather than taken from the `prometheus` or `metrics-exporter-prometheus`
//! crates on purpose: a handful of counters and one histogram family render in a page of
//! code, while either crate brings its own registry, global state and a dozen dependencies
//! (the exporter its own HTTP server) for the same text format.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::store::OutboxStats;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

#[derive(Debug, Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// All counters of one server process.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    latency: Mutex<BTreeMap<String, Histogram>>,
    refused: Mutex<BTreeMap<String, u64>>,
    accepted: AtomicU64,
    photo_bytes_in: AtomicU64,
    photo_bytes_out: AtomicU64,
}

impl Metrics {
    /// Counts a finished request.
    pub fn request(&self, route: &str, status: u16, elapsed: Duration) {
        *self.requests.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).entry((route.to_owned(), status)).or_default() += 1;
        let mut latency = self.latency.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let histogram = latency.entry(route.to_owned()).or_default();
        let seconds = elapsed.as_secs_f64();
        for (bound, count) in BUCKETS.iter().zip(histogram.counts.iter_mut()) {
            if seconds <= *bound {
                *count += 1;
            }
        }
        histogram.count += 1;
        histogram.sum += seconds;
    }

    /// Counts an accepted report and its photo bytes.
    pub fn accepted(&self, photo_bytes_in: u64, photo_bytes_out: u64) {
        self.accepted.fetch_add(1, Ordering::Relaxed);
        self.photo_bytes_in.fetch_add(photo_bytes_in, Ordering::Relaxed);
        self.photo_bytes_out.fetch_add(photo_bytes_out, Ordering::Relaxed);
    }

    /// Counts a refused report by reason (the problem type).
    pub fn refused(&self, reason: &str) {
        *self.refused.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).entry(reason.to_owned()).or_default() += 1;
    }

    /// The Prometheus text exposition, with the outbox figures at `now_ms` and the store's
    /// commit count.
    pub fn render(&self, outbox: OutboxStats, commits: u64, now_ms: i64) -> String {
        let mut out = String::new();
        out.push_str("# HELP lianxin_store_commits_total Database write transactions (many reports share one under load).\n# TYPE lianxin_store_commits_total counter\n");
        let _ = writeln!(out, "lianxin_store_commits_total {commits}");
        out.push_str("# HELP lianxin_http_requests_total HTTP requests by route and status.\n# TYPE lianxin_http_requests_total counter\n");
        for ((route, status), count) in self.requests.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).iter() {
            let _ = writeln!(out, "lianxin_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {count}");
        }
        out.push_str("# HELP lianxin_http_request_duration_seconds Time to answer, by route.\n# TYPE lianxin_http_request_duration_seconds histogram\n");
        for (route, histogram) in self.latency.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).iter() {
            for (bound, count) in BUCKETS.iter().zip(histogram.counts) {
                let _ = writeln!(out, "lianxin_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {count}");
            }
            let _ = writeln!(out, "lianxin_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}", histogram.count);
            let _ = writeln!(out, "lianxin_http_request_duration_seconds_sum{{route=\"{route}\"}} {}", histogram.sum);
            let _ = writeln!(out, "lianxin_http_request_duration_seconds_count{{route=\"{route}\"}} {}", histogram.count);
        }
        out.push_str("# HELP lianxin_reports_accepted_total Reports stored and acknowledged.\n# TYPE lianxin_reports_accepted_total counter\n");
        let _ = writeln!(out, "lianxin_reports_accepted_total {}", self.accepted.load(Ordering::Relaxed));
        out.push_str("# HELP lianxin_reports_refused_total Reports refused, by reason.\n# TYPE lianxin_reports_refused_total counter\n");
        for (reason, count) in self.refused.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).iter() {
            let _ = writeln!(out, "lianxin_reports_refused_total{{reason=\"{reason}\"}} {count}");
        }
        out.push_str("# HELP lianxin_photo_bytes_in_total Photo bytes uploaded in accepted reports.\n# TYPE lianxin_photo_bytes_in_total counter\n");
        let _ = writeln!(out, "lianxin_photo_bytes_in_total {}", self.photo_bytes_in.load(Ordering::Relaxed));
        out.push_str("# HELP lianxin_photo_bytes_out_total Photo bytes stored after re-encoding.\n# TYPE lianxin_photo_bytes_out_total counter\n");
        let _ = writeln!(out, "lianxin_photo_bytes_out_total {}", self.photo_bytes_out.load(Ordering::Relaxed));
        out.push_str("# HELP lianxin_outbox_pending Reports waiting to be forwarded.\n# TYPE lianxin_outbox_pending gauge\n");
        let _ = writeln!(out, "lianxin_outbox_pending {}", outbox.pending);
        out.push_str("# HELP lianxin_outbox_dead_letter Reports given up on, waiting for an operator.\n# TYPE lianxin_outbox_dead_letter gauge\n");
        let _ = writeln!(out, "lianxin_outbox_dead_letter {}", outbox.dead_letter);
        out.push_str("# HELP lianxin_outbox_oldest_age_seconds Age of the oldest report not yet forwarded.\n# TYPE lianxin_outbox_oldest_age_seconds gauge\n");
        let age = outbox.oldest_pending_ms.map_or(0.0, |oldest| (now_ms - oldest).max(0) as f64 / 1000.0);
        let _ = writeln!(out, "lianxin_outbox_oldest_age_seconds {age}");
        out
    }
}

/// The residents' verdicts per department and category, from the store: satisfaction rate
/// (the top three of five levels among rated resolutions), reopen rate (resolutions the
/// resident said did not solve it, among those answered or closed by silence), and open
/// reports past their due time.
pub fn render_loop(figures: &[crate::store::LoopFigures]) -> String {
    let mut out = String::new();
    let labels = |row: &crate::store::LoopFigures| format!("department=\"{}\",category=\"{}\"", row.department, row.category);
    out.push_str("# HELP lianxin_resolutions_answered_total Resolutions answered by the resident or closed by silence, by verdict.\n# TYPE lianxin_resolutions_answered_total gauge\n");
    for row in figures {
        let solved = row.rated.saturating_sub(row.unsolved);
        for (verdict, count) in [("solved", solved), ("unsolved", row.unsolved), ("silence", row.silent)] {
            let _ = writeln!(out, "lianxin_resolutions_answered_total{{{},verdict=\"{verdict}\"}} {count}", labels(row));
        }
    }
    out.push_str("# HELP lianxin_satisfaction_rate Share of rated resolutions rated satisfied or better (好差评 top three levels).\n# TYPE lianxin_satisfaction_rate gauge\n");
    for row in figures.iter().filter(|row| row.rated > 0) {
        let _ = writeln!(out, "lianxin_satisfaction_rate{{{}}} {:.4}", labels(row), row.satisfied as f64 / row.rated as f64);
    }
    out.push_str("# HELP lianxin_reopen_rate Share of answered resolutions the resident sent back as not solved.\n# TYPE lianxin_reopen_rate gauge\n");
    for row in figures.iter().filter(|row| row.rated + row.silent > 0) {
        let _ = writeln!(out, "lianxin_reopen_rate{{{}}} {:.4}", labels(row), row.unsolved as f64 / (row.rated + row.silent) as f64);
    }
    out.push_str("# HELP lianxin_overdue_reports Open reports past their due time.\n# TYPE lianxin_overdue_reports gauge\n");
    for row in figures {
        let _ = writeln!(out, "lianxin_overdue_reports{{{}}} {}", labels(row), row.overdue);
    }
    out
}
