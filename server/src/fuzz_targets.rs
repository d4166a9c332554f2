//! The entry points the fuzz targets in `fuzz/` drive, kept here so the fuzzers and the
//! regression tests (`server/tests/api/fuzz_regressions.rs`) run exactly the server's code:
//! each takes arbitrary bytes and must never panic, hang or exhaust memory — only accept
//! or refuse.

use std::sync::OnceLock;

use axum::extract::{FromRequest, Multipart};

use crate::config::{IntakeLimits, PhotoSettings};

fn catalog() -> &'static lianxin_contract::Catalog {
    static CATALOG: OnceLock<lianxin_contract::Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| crate::catalog::load(None).expect("the built-in catalog loads").catalog)
}

/// A `report` part as the server reads it: parsed with field paths, then validated
/// against the Harbin catalog with 0–6 photos.
pub fn report_json(data: &[u8]) {
    let photos = data.first().map_or(0, |byte| usize::from(byte % 7));
    if let Ok(report) = crate::submission::parse_report(data) {
        let _ = lianxin_contract::validate::validate_report(catalog(), &report, photos);
    }
}

/// A multipart body (boundary `lianxinfuzz`) through the intake under the default
/// limits, spooling into a temporary directory.
pub fn multipart(data: &[u8]) {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    static SPOOL: OnceLock<tempfile::TempDir> = OnceLock::new();
    let runtime = RUNTIME.get_or_init(|| tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime"));
    let spool = SPOOL.get_or_init(|| tempfile::tempdir().expect("a spool directory"));
    let limits = IntakeLimits::default();
    runtime.block_on(async {
        let request = axum::http::Request::builder().method("POST").header("content-type", "multipart/form-data; boundary=lianxinfuzz").body(axum::body::Body::from(data.to_vec())).expect("a request");
        if let Ok(multipart) = Multipart::from_request(request, &()).await {
            let _ = crate::intake::read(multipart, &limits, spool.path()).await;
        }
    });
}

/// A photo upload made safe with the default settings and pixel limit.
pub fn photo(data: &[u8]) {
    let _ = crate::photos::prepare_blocking(data, None, PhotoSettings::default(), IntakeLimits::default().photo_pixels);
}

/// An answer of an Open311 server to a status poll, read as the status poller reads it.
pub fn open311_status(data: &[u8]) {
    if let Ok(answer) = serde_json::from_slice::<serde_json::Value>(data) {
        for status in crate::sink::open311::statuses_in(&answer) {
            let _ = status.updated.as_deref().map(humantime::parse_rfc3339_weak);
        }
    }
}

/// A status event as the pipeline posts it, parsed and checked as the server does.
pub fn pipeline_event(data: &[u8]) {
    if let Ok(event) = serde_json::from_slice::<lianxin_contract::pipeline::PipelineEvent>(data) {
        let _ = crate::follow_up::check_event_shape(&event);
    }
}

/// An Open311 app's `application/x-www-form-urlencoded` request body, turned into a report
/// as the Open311 door does (with and without contact consent), then validated like every
/// report.
pub fn open311_form(data: &[u8]) {
    let fields: Vec<(String, String)> = form_urlencoded::parse(data).into_owned().collect();
    for consent in [false, true] {
        if let Ok((report, _)) = crate::georeport::submission(catalog(), &fields, consent, lianxin_contract::Lang::En) {
            let _ = lianxin_contract::validate::validate_report(catalog(), &report, 0);
        }
    }
}
