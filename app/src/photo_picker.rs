//! Photos from the camera or the gallery: each is prepared in the browser (oriented,
//! downscaled, re-encoded without metadata) as soon as it is picked, shown as a thumbnail
//! with its upload size and a remove button, up to the category's limit.

use leptos::prelude::*;
use leptos::task::spawn_local;
use lianxin_contract::Lang;

use crate::photo::{self, PreparedPhoto};
use crate::text::{Counted, Text, counted, t, tr};

/// The photo input and the list of prepared photos.
#[component]
pub fn PhotoPicker(lang: RwSignal<Lang>, photos: RwSignal<Vec<PreparedPhoto>>, preparing: RwSignal<u32>, max: Signal<u8>, error: Signal<Option<String>>) -> impl IntoView {
    let problem = RwSignal::new(None::<String>);
    let on_change = move |event: leptos::ev::Event| {
        let element: web_sys::HtmlInputElement = event_target(&event);
        let Some(files) = element.files() else { return };
        let room = usize::from(max.get_untracked()).saturating_sub(photos.with_untracked(Vec::len) + preparing.get_untracked() as usize);
        problem.set(None);
        if (files.length() as usize) > room {
            problem.set(Some(counted(lang.get_untracked(), Counted::PhotoLimitReached, max.get_untracked() as u64)));
        }
        for index in 0..(files.length() as usize).min(room) {
            let Some(file) = files.get(index as u32) else { continue };
            preparing.update(|count| *count += 1);
            spawn_local(async move {
                match photo::prepare(&file).await {
                    Ok(prepared) => photos.update(|photos| photos.push(prepared)),
                    Err(_) => problem.set(Some(t(lang.get_untracked(), Text::PhotoUnreadable).to_owned())),
                }
                preparing.update(|count| *count -= 1);
            });
        }
        // Let the same file be picked again after removing it.
        element.set_value("");
    };
    let remove = move |index: usize| {
        photos.update(|photos| {
            if index < photos.len() {
                let removed = photos.remove(index);
                let _ = web_sys::Url::revoke_object_url(&removed.preview_url);
            }
        });
    };
    view! {
        // Two ways in, because phones differ: with `capture` Android and in-app webviews open
        // the camera straight away (without it some offer only the gallery); without it iOS
        // and Android offer camera or library.
        <fieldset class="photo-sources" aria-describedby="photos-error photos-status">
            <legend>{move || format!("{} ({})", t(lang.get(), Text::Photo), counted(lang.get(), Counted::PhotosAtMost, max.get() as u64))}</legend>
            <label for="photo-camera">{tr(lang, Text::TakePhoto)}</label>
            <input
                id="photo-camera"
                type="file"
                accept="image/*"
                capture="environment"
                disabled=move || { photos.with(Vec::len) >= usize::from(max.get()) }
                on:change=on_change
            />
            <label for="photo">{tr(lang, Text::ChoosePhotos)}</label>
            <input
                id="photo"
                name="photo"
                type="file"
                accept="image/*"
                multiple
                disabled=move || { photos.with(Vec::len) >= usize::from(max.get()) }
                on:change=on_change
            />
        </fieldset>
        <p id="photos-status" class="hint" aria-live="polite">
            {move || { (preparing.get() > 0).then(|| t(lang.get(), Text::PreparingPhotos)) }}
            {move || problem.get()}
        </p>
        <p id="photos-error" class="field-error" aria-live="polite">{move || error.get()}</p>
        <ul class="photos">
            {move || {
                photos
                    .get()
                    .into_iter()
                    .enumerate()
                    .map(|(index, photo)| {
                        let label = move || format!("{} {}", t(lang.get(), Text::Photo), index + 1);
                        view! {
                            <li class="photo">
                                <img src=photo.preview_url.clone() alt=label />
                                <span class="photo-size">{photo::human_size(photo.bytes)}</span>
                                <button type="button" class="remove" aria-label=move || format!("{} {}", t(lang.get(), Text::Remove), label()) on:click=move |_| remove(index)>
                                    "×"
                                </button>
                            </li>
                        }
                    })
                    .collect_view()
            }}
        </ul>
    }
}
