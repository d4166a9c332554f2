//! The report form: category, request kind, the category's own fields, description,
//! location, photos and contact, checked with the shared validation, shown for review, then
//! posted once with an idempotency key that stays the same across retries. Every label
//! follows the chosen language, so switching language keeps what was typed.

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos::task::spawn_local;
use lianxin_contract::catalog::Need;
use lianxin_contract::number::parse_number;
use lianxin_contract::report::FieldValue;
use lianxin_contract::validate::validate_report;
use lianxin_contract::{Catalog, Category, Contact, FieldDef, FieldKind, Lang, Location, Receipt, ReportSubmission, RequestKind, ValidationError};
use wasm_bindgen::JsCast;

use crate::api::{self, SubmitError};
use crate::category_picker::CategoryPicker;
use crate::draft;
use crate::embed::{self, Preset};
use crate::location_picker::{LocationPicker, Position};
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

/// The message for the first error at `field`, in the current language.
fn error_signal(errors: RwSignal<Vec<ValidationError>>, lang: RwSignal<Lang>, field: impl Into<String>) -> Signal<Option<String>> {
    let field = field.into();
    Signal::derive(move || errors.with(|errors| errors.iter().find(|error| error.field == field).map(|error| error.message(lang.get()))))
}

/// The form for one report.
#[component]
pub fn ReportForm(catalog: Catalog, lang: RwSignal<Lang>, preset: Preset) -> impl IntoView {
    // A department page offers only its own categories.
    let catalog = match &preset.department {
        Some(department) if catalog.categories.iter().any(|category| &category.department == department) => {
            Catalog { categories: catalog.categories.iter().filter(|category| &category.department == department).cloned().collect(), ..catalog }
        }
        _ => catalog,
    };
    let preset_category = preset.category.clone().filter(|code| catalog.category(code).is_some());
    let host_origin = StoredValue::new(preset.host_origin.clone());
    let catalog = StoredValue::new(catalog);
    let category_code = RwSignal::new(String::new());
    let kind = RwSignal::new(None::<RequestKind>);
    let description = RwSignal::new(String::new());
    // Neighbours may see this report's words and photos (公开): private by default.
    let public = RwSignal::new(false);
    let fields = RwSignal::new(BTreeMap::<String, String>::new());
    let position = RwSignal::new(None::<Position>);
    let district = RwSignal::new(String::new());
    let address = RwSignal::new(String::new());
    let contact_name = RwSignal::new(String::new());
    let contact_phone = RwSignal::new(String::new());
    let consent = RwSignal::new(false);
    let photos = RwSignal::new(Vec::<PreparedPhoto>::new());
    let preparing = RwSignal::new(0u32);
    let errors = RwSignal::new(Vec::<ValidationError>::new());
    let failure = RwSignal::new(None::<String>);
    let phase = RwSignal::new(Phase::Editing);
    let idempotency_key = RwSignal::new(api::new_idempotency_key());
    let uploaded = RwSignal::new(0.0f64);
    if let Some(code) = preset_category {
        kind.set(catalog.with_value(|catalog| catalog.category(&code).and_then(|category| category.kinds.first().copied())));
        category_code.set(code);
    }
    if let Some(saved) = draft::load().filter(|saved| !saved.category.is_empty() || !saved.description.is_empty()) {
        category_code.set(saved.category);
        kind.set(saved.kind.and_then(|code| RequestKind::ALL.into_iter().find(|each| each.code() == code)));
        description.set(saved.description);
        fields.set(saved.fields);
        district.set(saved.district);
        address.set(saved.address);
        contact_name.set(saved.name);
        contact_phone.set(saved.phone);
        if !saved.idempotency_key.is_empty() {
            idempotency_key.set(saved.idempotency_key);
        }
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
        draft::save(&draft::Draft {
            category: category_code.get(),
            kind: kind.get().map(|each| each.code().to_owned()),
            description: description.get(),
            fields: fields.get(),
            district: district.get(),
            address: address.get(),
            name: contact_name.get(),
            phone: contact_phone.get(),
            idempotency_key: idempotency_key.get(),
        });
    });

    let category = Memo::new(move |_| catalog.with_value(|catalog| catalog.category(&category_code.get()).cloned()));
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
        let located = position.get_untracked();
        let report = ReportSubmission {
            category: category_code.get_untracked(),
            kind: kind.get_untracked().unwrap_or(RequestKind::Complaint),
            description: description.get_untracked(),
            fields: field_values(category.get_untracked().as_ref(), &fields.get_untracked()),
            location: Some(Location {
                lat: located.map(|found| found.lat),
                lon: located.map(|found| found.lon),
                accuracy_m: located.map(|found| found.accuracy_m).filter(|accuracy| accuracy.is_finite()),
                address: Some(address.get_untracked()),
                district: Some(district.get_untracked()),
            }),
            contact: Some(Contact { name: Some(contact_name.get_untracked()), phone: Some(contact_phone.get_untracked()), consent: consent.get_untracked() }),
            lang: lang.get_untracked(),
            media_url: None,
            public: public.get_untracked(),
        };
        let checked = catalog.with_value(|catalog| validate_report(catalog, &report, photo_count).map(|valid| valid.into_parts().0));
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
        category_code.set(String::new());
        description.set(String::new());
        fields.set(BTreeMap::new());
        address.set(String::new());
        position.set(None);
        photos.update(|photos| {
            for photo in photos.drain(..) {
                let _ = web_sys::Url::revoke_object_url(&photo.preview_url);
            }
        });
        errors.set(Vec::new());
        idempotency_key.set(api::new_idempotency_key());
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
                    {move || format!("{} / {}", description.with(|text| text.chars().count()), catalog.with_value(|catalog| catalog.limits.description_max))}
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

/// The request kind, the category's own fields and its location inputs.
#[component]
fn CategoryDetails(
    category: Category,
    catalog: StoredValue<Catalog>,
    lang: RwSignal<Lang>,
    kind: RwSignal<Option<RequestKind>>,
    fields: RwSignal<BTreeMap<String, String>>,
    position: RwSignal<Option<Position>>,
    district: RwSignal<String>,
    address: RwSignal<String>,
    photos: RwSignal<Vec<PreparedPhoto>>,
    errors: RwSignal<Vec<ValidationError>>,
) -> impl IntoView {
    let kinds = category.kinds.clone();
    let show_location = category.location != Need::None;
    let description = category.description.clone();
    let code = category.code.clone();
    let field_views = category
        .fields
        .into_iter()
        .map(|field| {
            let message = error_signal(errors, lang, format!("fields.{}", field.code));
            view! { <FieldInput field=field lang=lang fields=fields message=message /> }
        })
        .collect_view();
    view! {
        <p class="hint">{move || description.get(lang.get()).to_owned()}</p>
        <label for="kind">{tr(lang, Text::Kind)}</label>
        <select id="kind" name="kind" on:change=move |event| kind.set(RequestKind::ALL.into_iter().find(|each| each.code() == event_target_value(&event)))>
            {kinds.into_iter().map(|each| view! { <option value=each.code() selected=move || kind.get() == Some(each)>{move || each.label(lang.get())}</option> }).collect_view()}
        </select>
        {field_views}
        <Show when=move || show_location>
            <LocationPicker
                catalog=catalog
                lang=lang
                category=Signal::derive({
                    let code = code.clone();
                    move || code.clone()
                })
                position=position
                district=district
                address=address
                photos=photos
                location_error=error_signal(errors, lang, "location")
                district_error=error_signal(errors, lang, "location.district")
            />
        </Show>
    }
}

/// Name, phone and the explicit consent; required only where the department must call back.
#[component]
fn ContactFields(category: Category, lang: RwSignal<Lang>, name: RwSignal<String>, phone: RwSignal<String>, consent: RwSignal<bool>, errors: RwSignal<Vec<ValidationError>>) -> impl IntoView {
    let required = category.contact == Need::Required;
    let phone_error = error_signal(errors, lang, "contact.phone");
    let consent_error = error_signal(errors, lang, "contact.consent");
    view! {
        <fieldset class="contact">
            <legend>{move || t(lang.get(), if required { Text::ContactLegendRequired } else { Text::ContactLegend })}</legend>
            <label for="contact-name">{tr(lang, Text::Name)}</label>
            <input id="contact-name" type="text" autocomplete="name" prop:value=move || name.get() on:input=move |event| name.set(event_target_value(&event)) />
            <label for="contact-phone">{tr(lang, Text::Phone)} {required.then_some(" *")}</label>
            <input
                id="contact-phone"
                type="tel"
                autocomplete="tel"
                inputmode="tel"
                aria-describedby="contact-phone-error"
                aria-invalid=move || phone_error.get().is_some().to_string()
                prop:value=move || phone.get()
                on:input=move |event| phone.set(event_target_value(&event))
            />
            <p id="contact-phone-error" class="field-error" aria-live="polite">{move || phone_error.get()}</p>
            <label class="consent">
                <input
                    id="contact-consent"
                    type="checkbox"
                    aria-describedby="contact-consent-error"
                    aria-invalid=move || consent_error.get().is_some().to_string()
                    prop:checked=move || consent.get()
                    on:change=move |event| consent.set(event_target_checked(&event))
                />
                <span>{tr(lang, Text::Consent)}</span>
            </label>
            <p id="contact-consent-error" class="field-error" aria-live="polite">{move || consent_error.get()}</p>
        </fieldset>
    }
}

/// One of the category's own fields.
#[component]
fn FieldInput(field: FieldDef, lang: RwSignal<Lang>, fields: RwSignal<BTreeMap<String, String>>, message: Signal<Option<String>>) -> impl IntoView {
    let id = format!("field-{}", field.code);
    let error_id = format!("{id}-error");
    let code = StoredValue::new(field.code.clone());
    let value = move || fields.with(|fields| fields.get(&code.get_value()).cloned().unwrap_or_default());
    let set = move |event: leptos::ev::Event| {
        let text = event_target_value(&event);
        fields.update(|fields| {
            fields.insert(code.get_value(), text);
        });
    };
    let invalid = move || message.get().is_some().to_string();
    let label = field.label.clone();
    let help = field.help.clone();
    let required = field.required;
    let placeholder = field.placeholder.clone();
    let placeholder = move || placeholder.as_ref().map(|text| text.get(lang.get()).to_owned()).unwrap_or_default();
    let label_id = format!("{id}-label");
    let input = match &field.kind {
        // Several answers: a group of checkboxes named by the question's label; the chosen
        // codes are kept comma-separated (as the draft keeps every field), sent as a list.
        FieldKind::MultiChoice { options } => {
            let boxes = options
                .iter()
                .map(|option| {
                    let (option_code, option_label) = (option.code.clone(), option.label.clone());
                    let box_id = format!("{id}-{option_code}");
                    let chosen = {
                        let option_code = option_code.clone();
                        move || value().split(',').any(|each| each == option_code)
                    };
                    let toggle = move |event: leptos::ev::Event| {
                        let on = event_target_checked(&event);
                        fields.update(|fields| {
                            let entry = fields.entry(code.get_value()).or_default();
                            let mut codes: Vec<&str> = entry.split(',').filter(|each| !each.is_empty() && *each != option_code).collect();
                            if on {
                                codes.push(&option_code);
                            }
                            *entry = codes.join(",");
                        });
                    };
                    view! { <label class="choice"><input type="checkbox" id=box_id prop:checked=chosen on:change=toggle />{move || option_label.get(lang.get()).to_owned()}</label> }
                })
                .collect_view();
            view! { <div class="choices" role="group" id=id.clone() aria-labelledby=label_id.clone() aria-describedby=error_id.clone()>{boxes}</div> }.into_any()
        }
        FieldKind::Choice { options } => {
            let options = options.clone();
            view! {
                <select id=id.clone() aria-describedby=error_id.clone() aria-invalid=invalid on:change=set prop:value=value>
                    <option value="">{tr(lang, Text::ChooseCategory)}</option>
                    {options.into_iter().map(|option| {
                        let label = option.label.clone();
                        view! { <option value=option.code.clone()>{move || label.get(lang.get()).to_owned()}</option> }
                    }).collect_view()}
                </select>
            }
            .into_any()
        }
        FieldKind::LongText { .. } => view! { <textarea id=id.clone() rows="3" aria-describedby=error_id.clone() aria-invalid=invalid prop:value=value on:input=set></textarea> }.into_any(),
        kind => {
            let (input_type, mode) = match kind {
                FieldKind::Number { .. } | FieldKind::Money => ("text", "decimal"),
                FieldKind::DateTime => ("datetime-local", "text"),
                FieldKind::Phone => ("tel", "tel"),
                _ => ("text", "text"),
            };
            view! { <input id=id.clone() type=input_type inputmode=mode placeholder=placeholder aria-describedby=error_id.clone() aria-invalid=invalid prop:value=value on:input=set /> }.into_any()
        }
    };
    let unit = match &field.kind {
        FieldKind::Number { unit, .. } => Some(unit.clone()),
        _ => None,
    };
    view! {
        <label id=label_id for=id.clone()>{move || label.get(lang.get()).to_owned()} {required.then_some(" *")}</label>
        <div class="field-input">{input} {unit.map(|unit| view! { <span class="unit">{move || lianxin_contract::i18n::unit_form(unit.get(lang.get()), lang.get(), None).to_owned()}</span> })}</div>
        {help.map(|help| view! { <p class="hint">{move || help.get(lang.get()).to_owned()}</p> })}
        <p id=error_id class="field-error" aria-live="polite">{move || message.get()}</p>
    }
}

fn field_values(category: Option<&Category>, values: &BTreeMap<String, String>) -> BTreeMap<String, FieldValue> {
    let Some(category) = category else { return BTreeMap::new() };
    category
        .fields
        .iter()
        .filter_map(|field| {
            let text = values.get(&field.code)?.trim().to_owned();
            if text.is_empty() {
                return None;
            }
            let value = match &field.kind {
                FieldKind::Number { .. } => parse_number(&text).map(FieldValue::Number).unwrap_or(FieldValue::Text(text)),
                FieldKind::MultiChoice { .. } => FieldValue::List(text.split(',').filter(|each| !each.is_empty()).map(str::to_owned).collect()),
                _ => FieldValue::Text(text),
            };
            Some((field.code.clone(), value))
        })
        .collect()
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
