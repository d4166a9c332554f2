//! The Lianxin widget: a resident picks a category, describes the problem, attaches a
//! photo and gets a tracking number. `App` owns the top-level state (language, catalog);
//! each screen is its own component.
//!
//! A guided tour:

/// Every HTTP call the widget makes.
pub mod api;
/// JSON through the browser's parser and printer.
pub mod json;
/// The widget's own texts in zh-CN, en and ru.
pub mod text;
/// The report form.
pub mod report_form;
/// The form's inputs as one value: draft in and out, the report to send.
pub mod form_state;
/// The chosen category's kind, fields and location.
pub mod category_details;
/// Name, phone and consent.
pub mod contact_fields;
/// One field of a category, its errors and its typed value.
pub mod field_input;
/// Keeping the unsent report's text across reloads.
pub mod draft;
/// URL presets and talking to the host page when embedded.
pub mod embed;
/// Reports waiting on the phone for the network.
pub mod outbox;
/// Searching and choosing a category.
pub mod category_picker;
/// Preparing photos in the browser.
pub mod photo;
/// Where a photo was taken, from its EXIF.
pub mod exif;
/// Choosing and showing photos.
pub mod photo_picker;
/// Position, district and address.
pub mod location_picker;
/// "Choose on the map", loaded on first use.
pub mod map;
/// The receipt shown after a report was accepted.
pub mod receipt;
/// The reports filed from this phone ("my reports").
pub mod mine;
/// The review screen before sending.
pub mod review;

use leptos::prelude::*;
use lianxin_contract::Lang;

use crate::report_form::ReportForm;
use crate::text::{Counted, Text, counted, t, tr};

/// The whole widget.
#[component]
pub fn App() -> impl IntoView {
    let lang = RwSignal::new(initial_lang());
    let preset = embed::preset();
    // The catalog in the resident's language (the page preloads it while the wasm
    // downloads), narrowed to the page's department. Plain signals rather than a resource
    // and <Transition>: their async machinery would add about 9 KB to the widget's
    // download. `loaded` changes once, so the form is built once; a language switch only
    // replaces the catalog's texts, and every label follows.
    let catalog = RwSignal::new(lianxin_contract::Catalog::default());
    let loaded = RwSignal::new(None::<Result<(), String>>);
    let page = preset.clone();
    let switch_to = move |chosen: Lang| {
        let page = page.clone();
        leptos::task::spawn_local(async move {
            match api::fetch_catalog(chosen).await {
                Ok(texts) => {
                    let mut texts = page.narrow(texts);
                    category_picker::keep_search_words(&mut texts);
                    catalog.set(texts);
                    if loaded.with_untracked(|loaded| !matches!(loaded, Some(Ok(())))) {
                        loaded.set(Some(Ok(())));
                    }
                }
                // Offline after the first load: the widget's own words switch, the
                // catalog's stay in the language they came in until the next switch.
                Err(error) if loaded.with_untracked(Option::is_none) => loaded.set(Some(Err(error))),
                Err(_) => {}
            }
            if lang.get_untracked() != chosen {
                lang.set(chosen);
            }
        });
    };
    switch_to(lang.get_untracked());
    let sent_later = RwSignal::new(Vec::<lianxin_contract::Receipt>::new());
    outbox::watch(move |receipts| {
        receipts.iter().for_each(mine::remember);
        sent_later.update(|sent| sent.extend(receipts));
    });
    // Reports filed from this phone before: a way back to them (read once at start).
    let mine = mine::page(Lang::default()).is_some();
    if let Some(host) = preset.host_origin.clone() {
        embed::report_height(host);
    }
    // The page's language and its title (what a tab or a screen reader announces) follow
    // the resident's choice.
    Effect::new(move |_| {
        let lang = lang.get();
        if let Some(html) = document().document_element() {
            let _ = html.set_attribute("lang", lang.tag());
        }
        document().set_title(text::t(lang, Text::Title));
    });
    view! {
        <main class="lianxin">
            <header class="lianxin-header">
                <h1>{tr(lang, Text::Title)}</h1>
                <LanguagePicker lang=lang on_choose=Callback::new(switch_to) />
                {mine.then(|| view! { <a id="my-reports" href=move || mine::page(lang.get()).unwrap_or_default()>{tr(lang, Text::MyReports)}</a> })}
            </header>
            <Show when=move || !sent_later.with(Vec::is_empty)>
                <section class="sent-later" role="status" aria-live="polite">
                    <p>{move || counted(lang.get(), Counted::SentLater, sent_later.with(Vec::len) as u64)}</p>
                    <ul>
                        {move || sent_later.get().into_iter().map(|receipt| view! { <li class="sent-tracking-no">{receipt.tracking_no}</li> }).collect_view()}
                    </ul>
                </section>
            </Show>
            {move || match loaded.get() {
                None => view! { <p class="loading" role="status">{tr(lang, Text::Loading)}</p> }.into_any(),
                Some(Ok(())) => {
                    // Tourists on a foreign SIM may not reach the short number: the full one.
                    let hotline = move || {
                        let abroad = catalog.with(|catalog| catalog.hotline_abroad.clone());
                        (lang.get() != Lang::ZhCn && !abroad.is_empty()).then(|| format!("{} {abroad}", t(lang.get(), Text::HotlineAbroad)))
                    };
                    view! {
                        <ReportForm catalog=catalog lang=lang preset=preset.clone() />
                        <p id="hotline-abroad" class="hint">{hotline}</p>
                    }
                    .into_any()
                }
                Some(Err(error)) => view! { <p class="error" role="alert">{tr(lang, Text::CatalogFailed)} " " {error}</p> }.into_any(),
            }}
        </main>
    }
}

/// Switches between the three languages (`on_choose` loads the catalog's texts in the
/// chosen one, then switches).
#[component]
fn LanguagePicker(lang: RwSignal<Lang>, on_choose: Callback<Lang>) -> impl IntoView {
    view! {
        <nav class="languages" aria-label="Language / 语言 / Язык">
            {Lang::ALL
                .into_iter()
                .map(|each| {
                    let label = match each {
                        Lang::ZhCn => "中文",
                        Lang::En => "English",
                        Lang::Ru => "Русский",
                    };
                    view! {
                        <button
                            type="button"
                            lang=each.tag()
                            aria-pressed=move || (lang.get() == each).to_string()
                            on:click=move |_| on_choose.run(each)
                        >
                            {label}
                        </button>
                    }
                })
                .collect_view()}
        </nav>
    }
}

/// The language from `?lang=` in the page URL, else the browser's, else Chinese.
fn initial_lang() -> Lang {
    let window = window();
    let from_url = window.location().search().ok().and_then(|search| search.trim_start_matches('?').split('&').find_map(|pair| pair.strip_prefix("lang=").and_then(Lang::from_tag)));
    from_url.or_else(|| window.navigator().language().and_then(|tag| Lang::from_tag(&tag))).unwrap_or_default()
}
