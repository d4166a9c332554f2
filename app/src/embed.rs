//! What the page URL asks of the widget: a preset category or department and the
//! language (`?category=…&department=…&lang=…`), and, when embedded by `embed.js`
//! (`?embed=<host origin>`), talking to the host page: the widget's height as it changes,
//! and the tracking number once a report is filed.

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

/// What the URL asked for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Preset {
    /// Category code to start with.
    pub category: Option<String>,
    /// Only this department's categories are offered.
    pub department: Option<String>,
    /// The host page's origin, when the widget runs inside its iframe.
    pub host_origin: Option<String>,
}

impl Preset {
    /// The catalog as this page offers it: a department page only its own categories (all
    /// of them when the department has none, rather than an empty form).
    pub fn narrow(&self, catalog: lianxin_contract::Catalog) -> lianxin_contract::Catalog {
        match &self.department {
            Some(department) => catalog.for_department(department),
            None => catalog,
        }
    }
}

/// Reads the preset from the page URL.
pub fn preset() -> Preset {
    let Some(window) = web_sys::window() else { return Preset::default() };
    let Ok(params) = web_sys::UrlSearchParams::new_with_str(&window.location().search().unwrap_or_default()) else { return Preset::default() };
    let framed = window.parent().ok().flatten().is_some_and(|parent| !js_sys::Object::is(&parent, &window));
    let get = |key: &str| params.get(key).filter(|value| !value.trim().is_empty());
    Preset { category: get("category"), department: get("department"), host_origin: get("embed").filter(|_| framed) }
}

/// Posts `{ type: kind, <key>: value }` to the host page.
fn post(host_origin: &str, kind: &str, key: &str, value: JsValue) {
    let Some(parent) = web_sys::window().and_then(|window| window.parent().ok().flatten()) else { return };
    let message = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&message, &JsValue::from_str("type"), &JsValue::from_str(kind));
    let _ = js_sys::Reflect::set(&message, &JsValue::from_str(key), &value);
    let _ = parent.post_message(&message, host_origin);
}

/// Tells the host page the widget's height whenever it changes.
pub fn report_height(host_origin: String) {
    let Some(body) = web_sys::window().and_then(|window| window.document()).and_then(|document| document.body()) else { return };
    let send = {
        let body = body.clone();
        move || post(&host_origin, "lianxin:height", "height", JsValue::from(body.scroll_height()))
    };
    send();
    let observer_callback = Closure::<dyn FnMut(JsValue, JsValue)>::new(move |_: JsValue, _: JsValue| send());
    if let Ok(observer) = web_sys::ResizeObserver::new(observer_callback.as_ref().unchecked_ref()) {
        observer.observe(&body);
        // The observer lives as long as the page.
        std::mem::forget(observer);
    }
    observer_callback.forget();
}

/// Tells the host page a report was filed.
pub fn report_submitted(host_origin: &str, tracking_no: &str) {
    post(host_origin, "lianxin:submitted", "tracking_no", JsValue::from_str(tracking_no));
}
