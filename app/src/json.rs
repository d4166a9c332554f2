//! JSON in the widget through the browser's own parser and printer (`JSON.parse`,
//! `JSON.stringify`) and serde-wasm-bindgen, so no JSON parser or number formatter is
//! compiled into the wasm (every kilobyte counts on a slow network).

use serde::Serialize;
use serde::de::DeserializeOwned;

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    /// The global `String(value)`: "TypeError: Failed to fetch" for an error object.
    #[wasm_bindgen(js_name = String)]
    fn js_string(value: &wasm_bindgen::JsValue) -> String;
}

/// What a JS error value says, as text for a message or a log line.
pub fn js_text(error: wasm_bindgen::JsValue) -> String {
    error.as_string().unwrap_or_else(|| js_string(&error))
}

/// Parses `text` as `T`.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    let value = js_sys::JSON::parse(text).map_err(js_text)?;
    serde_wasm_bindgen::from_value(value).map_err(|error| error.to_string())
}

/// `value` as JS data, shaped as JSON would shape it (maps as objects, no `undefined`).
pub fn to_js<T: Serialize>(value: &T) -> Result<wasm_bindgen::JsValue, String> {
    value.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(|error| error.to_string())
}

/// `value` as JSON text.
pub fn to_string<T: Serialize>(value: &T) -> Result<String, String> {
    js_sys::JSON::stringify(&to_js(value)?).map(String::from).map_err(js_text)
}
