//! "Choose on the map": the server's `map.js` (which brings Leaflet and asks for the city's
//! tiles) is loaded on first use only, so the widget's first load carries neither; it draws
//! the map and its "done" button into a slot of the location picker, and hands every placed
//! pin back in WGS 84.

use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::location_picker::Position;

/// Where a map opens, and in which language it speaks.
pub struct Opening<'a> {
    /// A position already known (GPS, or an earlier pin).
    pub at: Option<Position>,
    /// The district chosen, else empty.
    pub district: &'a str,
    /// The category chosen: the map marks where its open reports stand.
    pub category: &'a str,
    /// The resident's language (the map script carries its own few words).
    pub lang: &'static str,
}

/// The script's `window.lianxinMap`, loading the script the first time.
async fn script() -> Result<JsValue, JsValue> {
    let window = web_sys::window().ok_or(JsValue::NULL)?;
    let name = JsValue::from_str("lianxinMap");
    if !Reflect::has(&window, &name)? {
        let document = window.document().ok_or(JsValue::NULL)?;
        let element = document.create_element("script")?;
        element.set_attribute("src", "/map.js")?;
        let loaded = Promise::new(&mut |resolve, reject| {
            let _ = element.add_event_listener_with_callback("load", &resolve);
            let _ = element.add_event_listener_with_callback("error", &reject);
        });
        document.body().ok_or(JsValue::NULL)?.append_child(&element)?;
        JsFuture::from(loaded).await?;
    }
    Reflect::get(&window, &name)
}

/// Opens the map in the element with id `slot`; `on_pick` gets each position the resident
/// places the pin at. `Err` when the map could not be loaded (the address and district stay).
pub async fn open(slot: &str, opening: Opening<'_>, on_pick: impl Fn(Position) + 'static) -> Result<(), JsValue> {
    let map = script().await?;
    let container = web_sys::window().and_then(|window| window.document()).and_then(|document| document.get_element_by_id(slot)).ok_or(JsValue::NULL)?;
    let open: Function = Reflect::get(&map, &JsValue::from_str("open"))?.dyn_into()?;
    let options = Object::new();
    if let Some(at) = opening.at {
        Reflect::set(&options, &"lat".into(), &at.lat.into())?;
        Reflect::set(&options, &"lon".into(), &at.lon.into())?;
    }
    Reflect::set(&options, &"district".into(), &opening.district.into())?;
    Reflect::set(&options, &"category".into(), &opening.category.into())?;
    Reflect::set(&options, &"lang".into(), &opening.lang.into())?;
    // Lives as long as the page: one small closure per map opened.
    let picked = Closure::<dyn Fn(f64, f64, f64)>::new(move |lat, lon, accuracy_m| on_pick(Position { lat, lon, accuracy_m })).into_js_value();
    let shown: Promise = open.call3(&map, &container, &options, &picked)?.dyn_into()?;
    JsFuture::from(shown).await.map(drop)
}
