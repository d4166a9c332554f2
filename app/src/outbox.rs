//! Reports that could not be sent wait on the phone, in IndexedDB (photos included), and
//! are sent when the browser is back online or the widget is opened again — each with the
//! idempotency key it was first sent with, so the server stores it once whatever happened
//! to earlier attempts. No service worker is needed (in-app webviews often have none).

use js_sys::{Array, Object, Promise, Reflect};
use lianxin_contract::{Lang, Receipt};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::Blob;

use crate::api::{self, SubmitError};
use crate::json::js_text as text;

/// A report waiting to be sent.
#[derive(Clone, Debug, PartialEq)]
pub struct PendingReport {
    /// Its idempotency key, also the record's key.
    pub key: String,
    /// The validated report as the JSON sent to the server: kept and sent as text, never
    /// read back, so the widget carries no code to parse a report.
    pub report_json: String,
    /// The resident's language, for the server's answer.
    pub lang: Lang,
    /// Its prepared photos.
    pub photos: Vec<Blob>,
}

#[wasm_bindgen]
extern "C" {
    // index.html's `lianxinStore`: one IndexedDB store of records keyed by `key`.
    #[wasm_bindgen(js_namespace = lianxinStore, js_name = put)]
    fn store_put(record: &Object) -> Promise;
    #[wasm_bindgen(js_namespace = lianxinStore, js_name = all)]
    fn store_all() -> Promise;
    #[wasm_bindgen(js_namespace = lianxinStore, js_name = get)]
    fn store_get(key: &str) -> Promise;
    #[wasm_bindgen(js_namespace = lianxinStore, js_name = remove)]
    fn store_remove(key: &str) -> Promise;
}

/// What one of the store's calls resolved with. A browser without IndexedDB (some private
/// modes) rejects, and nothing waits on the phone.
async fn done(call: Promise) -> Result<JsValue, String> {
    JsFuture::from(call).await.map_err(text)
}

/// Keeps `pending` until it is sent.
pub async fn keep(pending: &PendingReport) -> Result<(), String> {
    let record = Object::new();
    let set = |key: &str, value: &JsValue| Reflect::set(&record, &JsValue::from_str(key), value).map(|_| ()).map_err(text);
    set("key", &JsValue::from_str(&pending.key))?;
    set("report", &JsValue::from_str(&pending.report_json))?;
    set("lang", &JsValue::from_str(pending.lang.tag()))?;
    set("photos", &pending.photos.iter().collect::<Array>())?;
    done(store_put(&record)).await?;
    Ok(())
}

/// Every waiting report.
pub async fn waiting() -> Result<Vec<PendingReport>, String> {
    let records: Array = done(store_all()).await?.dyn_into().map_err(|_| "not a list")?;
    let mut pending = Vec::new();
    for record in records.iter() {
        let get = |key: &str| Reflect::get(&record, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED);
        let (Some(key), Some(report_json)) = (get("key").as_string(), get("report").as_string()) else { continue };
        let lang = get("lang").as_string().and_then(|tag| Lang::from_tag(&tag)).unwrap_or_default();
        let photos = get("photos").dyn_into::<Array>().map(|photos| photos.iter().filter_map(|photo| photo.dyn_into::<Blob>().ok()).collect()).unwrap_or_default();
        pending.push(PendingReport { key, report_json, lang, photos });
    }
    Ok(pending)
}

/// Keeps `photos` under `key`, in the same store as waiting reports but without a report,
/// so they are never sent from here (the draft's photos).
pub(crate) async fn keep_photos(key: &str, photos: &[Blob]) -> Result<(), String> {
    let record = Object::new();
    Reflect::set(&record, &JsValue::from_str("key"), &JsValue::from_str(key)).map_err(text)?;
    Reflect::set(&record, &JsValue::from_str("photos"), &photos.iter().collect::<Array>()).map_err(text)?;
    done(store_put(&record)).await?;
    Ok(())
}

/// The photos kept under `key` (none when there is no such record).
pub(crate) async fn photos(key: &str) -> Result<Vec<Blob>, String> {
    let record = done(store_get(key)).await?;
    if record.is_undefined() || record.is_null() {
        return Ok(Vec::new());
    }
    let photos = Reflect::get(&record, &JsValue::from_str("photos")).unwrap_or(JsValue::UNDEFINED);
    Ok(photos.dyn_into::<Array>().map(|photos| photos.iter().filter_map(|photo| photo.dyn_into::<Blob>().ok()).collect()).unwrap_or_default())
}

/// Deletes the record under `key`.
pub(crate) async fn forget(key: &str) -> Result<(), String> {
    done(store_remove(key)).await?;
    Ok(())
}

/// Sends waiting reports now, whenever the browser comes back online, and every 20 s
/// (online events are unreliable in some webviews); `on_sent` gets each batch of receipts.
pub fn watch(on_sent: impl Fn(Vec<Receipt>) + Clone + 'static) {
    let flush = move || {
        let on_sent = on_sent.clone();
        leptos::task::spawn_local(async move {
            let receipts = send_waiting().await;
            if !receipts.is_empty() {
                on_sent(receipts);
            }
        });
    };
    flush();
    let Some(window) = web_sys::window() else { return };
    let on_online = Closure::<dyn FnMut()>::new(flush.clone());
    let _ = window.add_event_listener_with_callback("online", on_online.as_ref().unchecked_ref());
    on_online.forget();
    let every = Closure::<dyn FnMut()>::new(flush);
    let _ = window.set_interval_with_callback_and_timeout_and_arguments_0(every.as_ref().unchecked_ref(), 20_000);
    every.forget();
}

/// Sends every waiting report; returns the receipts of those the server took. A report
/// the server refused for good (a 4xx other than "in flight" or "too many") is dropped: it
/// was validated before it was queued, so only a changed catalog can refuse it, and
/// retrying would never succeed. One that still cannot reach the server stays.
pub async fn send_waiting() -> Vec<Receipt> {
    let mut receipts = Vec::new();
    for pending in waiting().await.unwrap_or_default() {
        match api::submit_report(&pending.report_json, pending.lang, &pending.photos, &pending.key).await {
            Ok(receipt) => {
                let _ = forget(&pending.key).await;
                receipts.push(receipt);
            }
            Err(SubmitError::Refused(problem)) if !api::try_later(problem.status) => {
                let _ = forget(&pending.key).await;
            }
            Err(_) => {}
        }
    }
    receipts
}
