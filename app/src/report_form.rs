//! The report form: category, request kind, the category's own fields, description,
//! location, photos and contact, checked with the shared validation, shown for review, then
//! posted once with an idempotency key that stays the same across retries. Every label
//! follows the chosen language, so switching language keeps what was typed.

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos::task::spawn_local;
use lianxin_contract::catalog::Need;
use lianxin_contract::validate::validate_report;
use lianxin_contract::{Catalog, Lang, Receipt, ReportSubmission, ValidationError};
use wasm_bindgen::JsCast;

use crate::api::{self, SubmitError};
use crate::category_details::CategoryDetails;
use crate::category_picker::CategoryPicker;
use crate::contact_fields::ContactFields;
use crate::draft;
use crate::embed::{self, Preset};
use crate::field_input::error_signal;
use crate::form_state::FormState;
use crate::outbox;
use crate::photo::PreparedPhoto;
use crate::photo_picker::PhotoPicker;
use crate::receipt::ReceiptView;
use crate::review::ReviewView;
use crate::text::{Text, t, tr};

/// Where the form is.
#[derive(Clone, Debug, PartialEq)]
enum Phase {
    Editing,
    /// Checked and shown to the resident before it is sent.
    Review(ReportSubmission),
    Sending,
    Done(Receipt),
    /// Saved on the phone until the network is back.
    Waiting,
}

/// The form for one report.
#[component]
pub fn ReportForm(catalog: RwSignal<Catalog>, lang: RwSignal<Lang>, preset: Preset) -> impl IntoView {
    let preset_category = preset.category.clone().filter(|code| catalog.with_untracked(|catalog| catalog.category(code).is_some()));
    let host_origin = StoredValue::new(preset.host_origin.clone());
    let form = FormState::new();
    let FormState { category: category_code, kind, description, public, fields, position, district, address, name: contact_name, phone: contact_phone, consent, idempotency_key } = form;
    let photos = RwSignal::new(Vec::<PreparedPhoto>::new());
    let preparing = RwSignal::new(0u32);
    let errors = RwSignal::new(Vec::<ValidationError>::new());
    let failure = RwSignal::new(None::<String>);
    let phase = RwSignal::new(Phase::Editing);
    let uploaded = RwSignal::new(0.0f64);
    if let Some(code) = preset_category {
        kind.set(catalog.with_untracked(|catalog| catalog.category(&code).and_then(|category| category.kinds.first().copied())));
        category_code.set(code);
    }
    if let Some(saved) = draft::load().filter(|saved| !saved.category.is_empty() || !saved.description.is_empty()) {
        form.restore(saved);
    }
    // The draft's photos come back from IndexedDB; only then are changes saved, so the
    // empty list of a fresh page never overwrites them.
    let photos_restored = RwSignal::new(false);
    spawn_local(async move {
        let kept = draft::load_photos().await;
        if photos.with_untracked(Vec::is_empty) && !kept.is_empty() {
            photos.set(kept.into_iter().filter_map(|blob| PreparedPhoto::from_blob(blob).ok()).collect());
        }
        photos_restored.set(true);
    });
    Effect::new(move |_| {
        let blobs: Vec<web_sys::Blob> = photos.with(|photos| photos.iter().map(|photo| photo.blob.clone()).collect());
        if photos_restored.get() && !matches!(phase.get_untracked(), Phase::Done(_) | Phase::Waiting) {
            spawn_local(draft::save_photos(blobs));
        }
    });
    Effect::new(move |_| {
        if matches!(phase.get(), Phase::Done(_) | Phase::Waiting) {
            return;
        }
        draft::save(&form.draft());
    });

    // Follows the catalog too: a language switch brings the category's texts in that language.
    let category = Memo::new(move |_| catalog.with(|catalog| catalog.category(&category_code.get()).cloned()));
    let on_category = Callback::new(move |code: String| {
        category_code.set(code);
        fields.set(BTreeMap::new());
        kind.set(category.get_untracked().and_then(|category| category.kinds.first().copied()));
        errors.set(Vec::new());
    });

    let send = move |report: ReportSubmission| {
        let blobs: Vec<web_sys::Blob> = photos.with_untracked(|photos| photos.iter().map(|photo| photo.blob.clone()).collect());
        phase.set(Phase::Sending);
        uploaded.set(0.0);
        let key = idempotency_key.get_untracked();
        let lang = report.lang;
        spawn_local(async move {
            let report_json = match crate::json::to_string(&report) {
                Ok(json) => json,
                Err(error) => {
                    failure.set(Some(error));
                    phase.set(Phase::Editing);
                    return;
                }
            };
            match api::submit_report_with_progress(&report_json, lang, &blobs, &key, Box::new(move |share| uploaded.set(share))).await {
                Ok(receipt) => {
                    draft::clear();
                    if let Some(host) = host_origin.get_value() {
                        embed::report_submitted(&host, &receipt.tracking_no);
                    }
                    phase.set(Phase::Done(receipt));
                }
                // "In flight", "too many" and server trouble mean "try later": the report waits
                // on the phone like one without a network, and goes out with the same key.
                Err(SubmitError::Refused(problem)) if !api::try_later(problem.status) => {
                    errors.set(problem.errors.into_iter().map(|each| each.error).collect());
                    failure.set(Some(problem.detail));
                    phase.set(Phase::Editing);
                    focus_first_error();
                }
                Err(SubmitError::Refused(problem)) => {
                    let pending = outbox::PendingReport { key: key.clone(), report_json, lang, photos: blobs };
                    if outbox::keep(&pending).await.is_ok() {
                        draft::clear();
                        phase.set(Phase::Waiting);
                    } else {
                        failure.set(Some(problem.detail));
                        phase.set(Phase::Editing);
                    }
                }
                Err(SubmitError::Network(error)) => {
                    let pending = outbox::PendingReport { key: key.clone(), report_json, lang, photos: blobs };
                    match outbox::keep(&pending).await {
                        Ok(()) => {
                            draft::clear();
                            phase.set(Phase::Waiting);
                        }
                        Err(_) => {
                            failure.set(Some(error));
                            phase.set(Phase::Editing);
                        }
                    }
                }
            }
        });
    };
    let on_send = Callback::new(move |()| {
        if let Phase::Review(report) = phase.get_untracked() {
            send(report);
        }
    });
    let on_edit = Callback::new(move |()| phase.set(Phase::Editing));

    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        if preparing.get_untracked() > 0 {
            return;
        }
        failure.set(None);
        let photo_count = photos.with_untracked(Vec::len);
        let report = form.submission(category.get_untracked().as_ref(), lang.get_untracked());
        let checked = catalog.with_untracked(|catalog| validate_report(catalog, &report, photo_count).map(|valid| valid.into_parts().0));
        let report = match checked {
            Ok(report) => report,
            Err(found) => {
                errors.set(found);
                focus_first_error();
                return;
            }
        };
        errors.set(Vec::new());
        phase.set(Phase::Review(report));
        focus_selector("#review-title");
    };

    let start_over = move || {
        form.clear();
        photos.update(|photos| {
            for photo in photos.drain(..) {
                let _ = web_sys::Url::revoke_object_url(&photo.preview_url);
            }
        });
        errors.set(Vec::new());
        phase.set(Phase::Editing);
    };

    let category_invalid = Signal::derive(move || errors.with(|errors| errors.iter().any(|error| error.field == "category")));
    let description_error = error_signal(errors, lang, "description");
    let max_photos = Signal::derive(move || category.get().map_or(3, |category| if category.photos.need == Need::None { 0 } else { category.photos.max }));

    view! {
        <Show
            when=move || !matches!(phase.get(), Phase::Done(_) | Phase::Waiting)
            fallback=move || match phase.get() {
                Phase::Done(receipt) => view! { <ReceiptView receipt=receipt lang=lang on_new=start_over /> }.into_any(),
                Phase::Waiting => view! {
                    <section id="waiting" class="receipt" role="status" aria-live="polite">
                        <h2>{tr(lang, Text::Waiting)}</h2>
                        <p>{tr(lang, Text::WaitingHelp)}</p>
                        <button type="button" on:click=move |_| start_over()>{tr(lang, Text::NewReport)}</button>
                    </section>
                }.into_any(),
                _ => ().into_any(),
            }
        >
            {move || match (phase.get(), category.get()) {
                (Phase::Review(report), Some(category)) => Some(view! {
                    <ReviewView report=report category=category catalog=catalog photos=photos lang=lang on_send=on_send on_edit=on_edit />
                }),
                _ => None,
            }}
            <form class="report-form" novalidate on:submit=submit hidden=move || matches!(phase.get(), Phase::Review(_))>
                <Show when=move || !errors.with(Vec::is_empty) || failure.with(Option::is_some)>
                    <div class="form-alert" role="alert">
                        <p>{move || if errors.with(Vec::is_empty) { t(lang.get(), Text::SendFailed) } else { t(lang.get(), Text::FixErrors) }}</p>
                        <p>{move || failure.get()}</p>
                    </div>
                </Show>

                <CategoryPicker catalog=catalog lang=lang selected=category_code on_change=on_category invalid=category_invalid />
                <p id="category-error" class="field-error" aria-live="polite">{move || error_signal(errors, lang, "category").get()}</p>

                {move || category.get().map(|category| view! {
                    <CategoryDetails category=category catalog=catalog lang=lang kind=kind fields=fields position=position district=district address=address photos=photos errors=errors />
                })}

                <label for="description">{tr(lang, Text::Description)}</label>
                <textarea
                    id="description"
                    name="description"
                    rows="4"
                    required
                    placeholder=tr(lang, Text::DescriptionHelp)
                    aria-describedby="description-count description-error"
                    aria-invalid=move || description_error.get().is_some().to_string()
                    prop:value=move || description.get()
                    on:input=move |event| description.set(event_target_value(&event))
                ></textarea>
                <p id="description-count" class="hint" aria-live="polite">
                    {move || format!("{} / {}", description.with(|text| text.chars().count()), catalog.with(|catalog| catalog.limits.description_max))}
                </p>
                <p id="description-error" class="field-error" aria-live="polite">{move || description_error.get()}</p>
                <label class="consent">
                    <input id="public" type="checkbox" prop:checked=move || public.get() on:change=move |event| public.set(event_target_checked(&event)) />
                    <span>{tr(lang, Text::PublicReport)}</span>
                </label>

                <Show when=move || { max_photos.get() > 0 }>
                    <PhotoPicker lang=lang photos=photos preparing=preparing max=max_photos error=error_signal(errors, lang, "photos") />
                </Show>

                {move || category.get().map(|category| view! {
                    <ContactFields category=category lang=lang name=contact_name phone=contact_phone consent=consent errors=errors />
                })}

                <Show when=move || phase.get() == Phase::Sending>
                    <progress id="upload-progress" max="100" value=move || ((uploaded.get() * 100.0).round() as u32).to_string() aria-label=tr(lang, Text::Sending)></progress>
                </Show>
                <button type="submit" class="submit" disabled=move || { phase.get() == Phase::Sending || preparing.get() > 0 }>
                    {move || if phase.get() == Phase::Sending { t(lang.get(), Text::Sending) } else { t(lang.get(), Text::Next) }}
                </button>
            </form>
        </Show>
    }
}

/// Moves keyboard focus to the element matching `selector` once it has rendered.
fn focus_selector(selector: &'static str) {
    request_animation_frame(move || {
        let element = web_sys::window().and_then(|window| window.document()).and_then(|document| document.query_selector(selector).ok().flatten());
        if let Some(element) = element.and_then(|element| element.dyn_into::<web_sys::HtmlElement>().ok()) {
            let _ = element.focus();
        }
    });
}

/// Moves keyboard focus to the first invalid input after the errors render, so screen
/// reader users land on it.
fn focus_first_error() {
    request_animation_frame(|| {
        let Some(document) = web_sys::window().and_then(|window| window.document()) else { return };
        let target = document.query_selector("[aria-invalid=true]").ok().flatten().or_else(|| {
            let error = document.query_selector(".field-error:not(:empty)").ok().flatten()?;
            let id = error.id();
            document.query_selector(&format!("[aria-describedby~='{id}']")).ok().flatten()
        });
        if let Some(element) = target.and_then(|element| element.dyn_into::<web_sys::HtmlElement>().ok()) {
            let _ = element.focus();
        }
    });
}
