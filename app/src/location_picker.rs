//! Where the problem is: "use my location" (with its accuracy), the district (filled in by
//! the server's district lookup when the city has boundaries) and an address. When the
//! browser refuses or cannot locate — common in in-app webviews — the resident is told and
//! continues with the address and district — or, where the city configured map tiles,
//! places the pin on a map (loaded only then, see `map.rs`). Once located, the widget says
//! how many open reports of the same kind are already nearby.

use leptos::prelude::*;
use leptos::task::spawn_local;
use lianxin_contract::number::format_number;
use lianxin_contract::{Catalog, Lang};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::api;
use crate::map;
use crate::text::{Counted, Text, counted, t, tr};

/// A position from the browser.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Position {
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
    /// Accuracy radius in metres.
    pub accuracy_m: f64,
}

/// What locating came to.
#[derive(Clone, Debug, PartialEq)]
enum Locating {
    Idle,
    Busy,
    Found(Position),
    Chosen(Position),
    FromPhoto,
    Failed,
    MapFailed,
}

fn number(object: &JsValue, key: &str) -> Option<f64> {
    js_sys::Reflect::get(object, &JsValue::from_str(key)).ok()?.as_f64()
}

/// Distance in metres, flat-earth (ample for "is the fix within 200 m of the photo"); the
/// cosine is the browser's, which keeps a soft-float trigonometry library out of the wasm.
fn distance_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let north = (lat2 - lat1) * 111_320.0;
    let east = (lon2 - lon1) * 111_320.0 * js_sys::Math::cos(lat1.to_radians());
    (north * north + east * east).sqrt()
}

/// Where the first photo that says so was taken.
fn first_place(photos: &[crate::photo::PreparedPhoto]) -> Option<crate::exif::TakenAt> {
    photos.iter().find_map(|photo| photo.taken_at)
}

/// Asks the browser for the current position.
async fn current_position() -> Result<Position, ()> {
    let geolocation = web_sys::window().and_then(|window| window.navigator().geolocation().ok()).ok_or(())?;
    let promise = js_sys::Promise::new(&mut |resolve, reject| {
        let options = web_sys::PositionOptions::new();
        options.set_enable_high_accuracy(true);
        options.set_timeout(15_000);
        options.set_maximum_age(60_000);
        let found = Closure::once_into_js(move |position: JsValue| {
            let _ = resolve.call1(&JsValue::NULL, &position);
        });
        let on_error = reject.clone();
        let failed = Closure::once_into_js(move |error: JsValue| {
            let _ = on_error.call1(&JsValue::NULL, &error);
        });
        if geolocation.get_current_position_with_error_callback_and_options(found.unchecked_ref(), Some(failed.unchecked_ref()), &options).is_err() {
            let _ = reject.call0(&JsValue::NULL);
        }
    });
    let position = JsFuture::from(promise).await.map_err(|_| ())?;
    let coords = js_sys::Reflect::get(&position, &JsValue::from_str("coords")).map_err(|_| ())?;
    Ok(Position { lat: number(&coords, "latitude").ok_or(())?, lon: number(&coords, "longitude").ok_or(())?, accuracy_m: number(&coords, "accuracy").unwrap_or(0.0) })
}

/// Location inputs for a category that asks for a location.
#[component]
pub fn LocationPicker(
    catalog: RwSignal<Catalog>,
    lang: RwSignal<Lang>,
    category: Signal<String>,
    position: RwSignal<Option<Position>>,
    district: RwSignal<String>,
    address: RwSignal<String>,
    photos: RwSignal<Vec<crate::photo::PreparedPhoto>>,
    location_error: Signal<Option<String>>,
    district_error: Signal<Option<String>>,
) -> impl IntoView {
    let state = RwSignal::new(if position.get_untracked().is_some() { Locating::Found(position.get_untracked().unwrap()) } else { Locating::Idle });
    let nearby = RwSignal::new(None::<u32>);
    // A position found or chosen: its district (when the city has boundaries) and how many
    // open reports of this kind are near it.
    let placed = move |found: Position| {
        position.set(Some(found));
        spawn_local(async move {
            if let Ok(located) = api::locate_district(found.lat, found.lon).await
                && let Some(code) = located.district
            {
                district.set(code);
            }
            if let Ok(answer) = api::nearby(&category.get_untracked(), found.lat, found.lon).await {
                nearby.set(Some(answer.count));
            }
        });
    };
    let locate = move |_| {
        state.set(Locating::Busy);
        spawn_local(async move {
            match current_position().await {
                Ok(found) => {
                    state.set(Locating::Found(found));
                    placed(found);
                }
                Err(()) => state.set(Locating::Failed),
            }
        });
    };
    let with_map = catalog.with_untracked(|catalog| catalog.map);
    // The map script draws the map and its "done" button into `#map-slot` itself, so the
    // widget's first load carries only this button.
    let open_map = move |_| {
        let lang = lang.get_untracked();
        let (district_code, category_code) = (district.get_untracked(), category.get_untracked());
        spawn_local(async move {
            let opening = map::Opening { at: position.get_untracked(), district: &district_code, category: &category_code, lang: lang.tag() };
            let chosen = move |at: Position| {
                state.set(Locating::Chosen(at));
                placed(at);
            };
            if map::open("map-slot", opening, chosen).await.is_err() {
                state.set(Locating::MapFailed);
            }
        });
    };
    // "Use where the photo was taken?": offered only when there is no position from GPS or
    // the fix is far from it (or too vague), never taken without the resident's tap.
    // Where the first photo that says so was taken.
    let photo_taken_at = move || photos.with(|photos| first_place(photos));
    let photo_offer = move || {
        let taken = photo_taken_at()?;
        let offer = match state.get() {
            Locating::Idle | Locating::Failed | Locating::MapFailed => true,
            Locating::Found(found) => found.accuracy_m > 200.0 || distance_m(found.lat, found.lon, taken.lat, taken.lon) > 200.0,
            Locating::Busy | Locating::Chosen(_) | Locating::FromPhoto => false,
        };
        offer.then_some(taken)
    };
    let use_photo_position = move |_| {
        if let Some(taken) = photos.with_untracked(|photos| first_place(photos)) {
            state.set(Locating::FromPhoto);
            placed(Position { lat: taken.lat, lon: taken.lon, accuracy_m: taken.error_m.unwrap_or(f64::NAN) });
        }
    };
    let status = move || match state.get() {
        Locating::Idle => String::new(),
        Locating::Busy => t(lang.get(), Text::Locating).to_owned(),
        Locating::Found(found) => counted(lang.get(), Counted::AccurateTo, (found.accuracy_m.round() as i64).max(1) as u64),
        Locating::Chosen(at) => counted(lang.get(), Counted::ChosenOnMap, (at.accuracy_m.round() as i64).max(1) as u64),
        Locating::FromPhoto => t(lang.get(), Text::PhotoPlaceUsed).to_owned(),
        Locating::Failed => t(lang.get(), Text::LocateFailed).to_owned(),
        Locating::MapFailed => t(lang.get(), Text::MapFailed).to_owned(),
    };
    view! {
        <fieldset class="location">
            <legend>{tr(lang, Text::Where)}</legend>
            <button type="button" id="use-location" class="secondary" on:click=locate disabled=move || state.get() == Locating::Busy>
                {tr(lang, Text::UseMyLocation)}
            </button>
            <button type="button" id="choose-on-map" class="secondary" on:click=open_map hidden=!with_map>{tr(lang, Text::ChooseOnMap)}</button>
            <div id="map-slot"></div>
            <p id="location-status" class="hint" role="status" aria-live="polite">{status}</p>
            <button type="button" id="use-photo-place" class="secondary" on:click=use_photo_position hidden=move || photo_offer().is_none()>{tr(lang, Text::UsePhotoPlace)}</button>
            <p id="nearby" class="hint" aria-live="polite">
                // "Is it one of these?": the server's page lists them, each with "this is my problem too".
                {move || nearby.get().filter(|count| *count > 0).zip(position.get()).map(|(count, at)| {
                    let href = format!("/r/nearby?lang={}&category={}&lat={}&lon={}", lang.get().tag(), category.get(), format_number(at.lat, 6), format_number(at.lon, 6));
                    view! { <a id="nearby-link" href=href>{counted(lang.get(), Counted::NearbyReports, u64::from(count))}</a> }
                })}
            </p>
            <label for="district">{tr(lang, Text::District)}</label>
            <select id="district" name="district" aria-describedby="district-error" on:change=move |event| district.set(event_target_value(&event)) prop:value=move || district.get()>
                <option value="">{tr(lang, Text::ChooseDistrict)}</option>
                {move || {
                    let lang = lang.get();
                    catalog.with(|catalog| {
                        catalog.districts.iter().map(|each| view! { <option value=each.code.clone()>{each.name.get(lang).to_owned()}</option> }).collect_view()
                    })
                }}
            </select>
            <p id="district-error" class="field-error" aria-live="polite">{move || district_error.get()}</p>
            <label for="address">{tr(lang, Text::Address)}</label>
            <input id="address" name="address" type="text" autocomplete="street-address" aria-describedby="location-error" prop:value=move || address.get() on:input=move |event| address.set(event_target_value(&event)) />
            <p id="location-error" class="field-error" aria-live="polite">{move || location_error.get()}</p>
        </fieldset>
    }
}
