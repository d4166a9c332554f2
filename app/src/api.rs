//! Every HTTP call the widget makes, against the server that served it (relative URLs).
//! Errors come back as values: a problem-details body from the server, or a network
//! failure the resident can retry.

use lianxin_contract::catalog::SearchWords;
use lianxin_contract::number::format_number;
use lianxin_contract::{Catalog, Lang, Problem, Receipt};
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, Request, Response};

use crate::json::js_text as js_error;

/// Why a submission did not produce a receipt.
#[derive(Clone, Debug, PartialEq)]
pub enum SubmitError {
    /// The server refused the report and said why.
    Refused(Problem),
    /// The request did not complete (offline, timeout, server unreachable).
    Network(String),
}

async fn send(request: Request) -> Result<Response, String> {
    let window = web_sys::window().ok_or("no window")?;
    let response = JsFuture::from(window.fetch_with_request(&request)).await.map_err(js_error)?;
    response.dyn_into::<Response>().map_err(js_error)
}

async fn body_text(response: &Response) -> Result<String, String> {
    let text = JsFuture::from(response.text().map_err(js_error)?).await.map_err(js_error)?;
    text.as_string().ok_or_else(|| "the answer is not text".into())
}

/// Loads the catalog with its texts in `lang`, without search words (about half its
/// bytes; [`fetch_search_words`] brings them when a resident first searches); switching
/// language loads that language's texts. The page preloads the same URL while the wasm
/// downloads.
pub async fn fetch_catalog(lang: Lang) -> Result<Catalog, String> {
    get_json(&format!("/api/v1/catalog?lang={}&keywords=apart", lang.tag())).await
}

/// Loads every category's search words in all three languages.
pub async fn fetch_search_words() -> Result<SearchWords, String> {
    get_json("/api/v1/catalog/keywords").await
}

/// A new idempotency key for one report: a UUID v7 from the clock and the browser's random
/// source (`contract::key`); without `crypto`, the time and a random number (time first,
/// so these too sort as they were made).
pub fn new_idempotency_key() -> String {
    let now = js_sys::Date::now() as u64;
    web_sys::window()
        .and_then(|window| window.crypto().ok())
        .and_then(|crypto| lianxin_contract::key::time_ordered_key(&crypto.random_uuid(), now))
        .unwrap_or_else(|| format!("{now}-{}", (js_sys::Math::random() * 1e15) as u64))
}

/// Whether a refusal with `status` means "try later" ("in flight", "too many", server
/// trouble): the report waits on the phone and goes out again with the same key.
pub fn try_later(status: u16) -> bool {
    matches!(status, 409 | 429) || status >= 500
}

/// Posts one report (its JSON) with its photos as multipart, under `idempotency_key`;
/// the server answers in `lang`.
pub async fn submit_report(report_json: &str, lang: Lang, photos: &[Blob], idempotency_key: &str) -> Result<Receipt, SubmitError> {
    submit_report_with_progress(report_json, lang, photos, idempotency_key, Box::new(|_| {})).await
}

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    /// index.html's `lianxinUpload`: the multipart POST by XMLHttpRequest, resolving
    /// `[status, body]` (status 0: the connection failed).
    #[wasm_bindgen(js_namespace = window, js_name = lianxinUpload)]
    fn upload(report_json: &str, photos: &js_sys::Array, idempotency_key: &str, lang: &str, on_progress: &js_sys::Function) -> js_sys::Promise;
}

/// Like [`submit_report`], telling `on_progress` the share of bytes uploaded (0.0–1.0).
pub async fn submit_report_with_progress(
    report_json: &str,
    lang: Lang,
    photos: &[Blob],
    idempotency_key: &str,
    // Boxed, not generic: one copy of this function in the widget, not one per caller.
    on_progress: Box<dyn Fn(f64)>,
) -> Result<Receipt, SubmitError> {
    let network = |error: String| SubmitError::Network(error);
    let progress = Closure::<dyn FnMut(f64)>::new(on_progress);
    let photos: js_sys::Array = photos.iter().collect();
    let answer = JsFuture::from(upload(report_json, &photos, idempotency_key, lang.tag(), progress.as_ref().unchecked_ref())).await.map_err(|error| network(js_error(error)))?;
    drop(progress);
    let answer = js_sys::Array::from(&answer);
    let status = answer.get(0).as_f64().unwrap_or(0.0) as u16;
    let text = answer.get(1).as_string().unwrap_or_default();
    if status == 0 {
        return Err(network("the connection failed".into()));
    }
    if (200..300).contains(&status) {
        crate::json::from_str(&text).map_err(network)
    } else {
        match crate::json::from_str::<Problem>(&text) {
            Ok(problem) => Err(SubmitError::Refused(problem)),
            Err(_) => Err(network(format!("HTTP {status}"))),
        }
    }
}

/// GETs `path` and parses the JSON answer.
async fn get_json<T: serde::de::DeserializeOwned>(path: &str) -> Result<T, String> {
    crate::json::from_str(&get_text(path).await?)
}

/// GETs `path` and reads the answer as text: written once, not once per type
/// [`get_json`] reads (each copy weighed on the widget's download).
async fn get_text(path: &str) -> Result<String, String> {
    let request = Request::new_with_str(path).map_err(js_error)?;
    let response = send(request).await?;
    if !response.ok() {
        return Err(format!("HTTP {}", response.status()));
    }
    body_text(&response).await
}

/// The district containing a point, when the city has boundaries.
pub async fn locate_district(lat: f64, lon: f64) -> Result<lianxin_contract::catalog::LocatedDistrict, String> {
    get_json(&format!("/api/v1/districts/locate?lat={}&lon={}", format_number(lat, 6), format_number(lon, 6))).await
}

/// How many open reports of `category` are near a point.
pub async fn nearby(category: &str, lat: f64, lon: f64) -> Result<lianxin_contract::report::Nearby, String> {
    get_json(&format!("/api/v1/reports/nearby?lat={}&lon={}&category={category}", format_number(lat, 6), format_number(lon, 6))).await
}
