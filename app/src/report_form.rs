//! The report form: category, request kind, the category's own fields, description,
//! location, photo and contact, checked with the shared validation before sending, then
//! posted once with an idempotency key that stays the same across retries.

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos::task::spawn_local;
use lianxin_contract::catalog::Need;
use lianxin_contract::report::FieldValue;
use lianxin_contract::validate::validate_report;
use lianxin_contract::{Catalog, Category, Contact, FieldDef, FieldKind, Lang, Location, Receipt, ReportSubmission, RequestKind, ValidationError};
use wasm_bindgen::JsCast;

use crate::api::{self, SubmitError};
use crate::receipt::ReceiptView;
use crate::text::{Text, t};

/// Where the form is.
#[derive(Clone, Debug, PartialEq)]
enum Phase {
    Editing,
    Sending,
    Done(Receipt),
}

/// The form for one report.
#[component]
pub fn ReportForm(catalog: Catalog, lang: RwSignal<Lang>) -> impl IntoView {
    let catalog = StoredValue::new(catalog);
    let category_code = RwSignal::new(String::new());
    let kind = RwSignal::new(None::<RequestKind>);
    let description = RwSignal::new(String::new());
    let fields = RwSignal::new(BTreeMap::<String, String>::new());
    let district = RwSignal::new(String::new());
    let address = RwSignal::new(String::new());
    let contact_name = RwSignal::new(String::new());
    let contact_phone = RwSignal::new(String::new());
    let consent = RwSignal::new(false);
    let photo_input = NodeRef::<leptos::html::Input>::new();
    let errors = RwSignal::new(Vec::<ValidationError>::new());
    let failure = RwSignal::new(None::<String>);
    let phase = RwSignal::new(Phase::Editing);
    let idempotency_key = RwSignal::new(api::new_idempotency_key());

    let category = Memo::new(move |_| catalog.with_value(|catalog| catalog.category(&category_code.get()).cloned()));
    let error_for = move |field: &'static str| {
        move || errors.with(|errors| errors.iter().find(|error| error.field == field).map(|error| error.message(lang.get())))
    };

    let on_category = move |code: String| {
        category_code.set(code);
        fields.set(BTreeMap::new());
        kind.set(category.get_untracked().and_then(|category| category.kinds.first().copied()));
        errors.set(Vec::new());
    };

    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        failure.set(None);
        let photos = selected_photos(photo_input);
        let report = ReportSubmission {
            category: category_code.get_untracked(),
            kind: kind.get_untracked().unwrap_or(RequestKind::Complaint),
            description: description.get_untracked(),
            fields: field_values(category.get_untracked().as_ref(), &fields.get_untracked()),
            location: Some(Location {
                address: Some(address.get_untracked()),
                district: Some(district.get_untracked()),
                ..Location::default()
            }),
            contact: Some(Contact { name: Some(contact_name.get_untracked()), phone: Some(contact_phone.get_untracked()), consent: consent.get_untracked() }),
            lang: lang.get_untracked(),
        };
        let checked = catalog.with_value(|catalog| validate_report(catalog, &report, photos.len()));
        let report = match checked {
            Ok(report) => report,
            Err(found) => {
                errors.set(found);
                focus_first_error();
                return;
            }
        };
        errors.set(Vec::new());
        phase.set(Phase::Sending);
        let key = idempotency_key.get_untracked();
        spawn_local(async move {
            match api::submit_report(&report, &photos, &key).await {
                Ok(receipt) => phase.set(Phase::Done(receipt)),
                Err(SubmitError::Refused(problem)) => {
                    errors.set(problem.errors.into_iter().map(|each| each.error).collect());
                    failure.set(Some(problem.detail));
                    phase.set(Phase::Editing);
                }
                Err(SubmitError::Network(error)) => {
                    failure.set(Some(error));
                    phase.set(Phase::Editing);
                }
            }
        });
    };

    let start_over = move || {
        category_code.set(String::new());
        description.set(String::new());
        fields.set(BTreeMap::new());
        address.set(String::new());
        errors.set(Vec::new());
        idempotency_key.set(api::new_idempotency_key());
        phase.set(Phase::Editing);
    };

    view! {
        <Show
            when=move || !matches!(phase.get(), Phase::Done(_))
            fallback=move || match phase.get() {
                Phase::Done(receipt) => view! { <ReceiptView receipt=receipt lang=lang on_new=start_over /> }.into_any(),
                _ => ().into_any(),
            }
        >
            <form class="report-form" novalidate on:submit=submit>
                <Show when=move || !errors.with(Vec::is_empty) || failure.with(Option::is_some)>
                    <div class="form-alert" role="alert">
                        <p>{move || if errors.with(Vec::is_empty) { t(lang.get(), Text::SendFailed) } else { t(lang.get(), Text::FixErrors) }}</p>
                        <p>{move || failure.get()}</p>
                    </div>
                </Show>

                <label for="category">{move || t(lang.get(), Text::Category)}</label>
                <select
                    id="category"
                    name="category"
                    required
                    aria-invalid=move || error_for("category")().is_some().to_string()
                    on:change=move |event| on_category(event_target_value(&event))
                    prop:value=move || category_code.get()
                >
                    <option value="">{move || t(lang.get(), Text::ChooseCategory)}</option>
                    {catalog.with_value(|catalog| category_options(catalog, lang.get_untracked()))}
                </select>
                <ErrorText id="category-error" message=Signal::derive(error_for("category")) />

                {move || category.get().map(|category| view! {
                    <CategoryDetails
                        category=category
                        catalog=catalog
                        lang=lang
                        kind=kind
                        fields=fields
                        district=district
                        address=address
                        contact_name=contact_name
                        contact_phone=contact_phone
                        consent=consent
                        errors=errors
                    />
                })}

                <label for="description">{move || t(lang.get(), Text::Description)}</label>
                <textarea
                    id="description"
                    name="description"
                    rows="4"
                    required
                    placeholder=move || t(lang.get(), Text::DescriptionHelp)
                    aria-describedby="description-count description-error"
                    aria-invalid=move || error_for("description")().is_some().to_string()
                    prop:value=move || description.get()
                    on:input=move |event| description.set(event_target_value(&event))
                ></textarea>
                <p id="description-count" class="hint" aria-live="polite">
                    {move || format!("{} / {}", description.with(|text| text.chars().count()), catalog.with_value(|catalog| catalog.limits.description_max))}
                </p>
                <ErrorText id="description-error" message=Signal::derive(error_for("description")) />

                <label for="photo">{move || t(lang.get(), Text::Photo)}</label>
                <input id="photo" name="photo" type="file" accept="image/jpeg,image/png,image/webp,image/*" node_ref=photo_input aria-describedby="photos-error" />
                <ErrorText id="photos-error" message=Signal::derive(error_for("photos")) />

                <button type="submit" class="submit" disabled=move || phase.get() == Phase::Sending>
                    {move || if phase.get() == Phase::Sending { t(lang.get(), Text::Sending) } else { t(lang.get(), Text::Submit) }}
                </button>
            </form>
        </Show>
    }
}

/// The parts of the form that depend on the chosen category.
#[component]
#[allow(clippy::too_many_arguments)]
fn CategoryDetails(
    category: Category,
    catalog: StoredValue<Catalog>,
    lang: RwSignal<Lang>,
    kind: RwSignal<Option<RequestKind>>,
    fields: RwSignal<BTreeMap<String, String>>,
    district: RwSignal<String>,
    address: RwSignal<String>,
    contact_name: RwSignal<String>,
    contact_phone: RwSignal<String>,
    consent: RwSignal<bool>,
    errors: RwSignal<Vec<ValidationError>>,
) -> impl IntoView {
    let error_for = move |field: String| {
        Signal::derive(move || errors.with(|errors| errors.iter().find(|error| error.field == field).map(|error| error.message(lang.get()))))
    };
    let kinds = category.kinds.clone();
    let show_location = category.location != Need::None;
    let field_views = category.fields.into_iter().map(|field| view! { <FieldInput field=field lang=lang fields=fields message=error_for.clone() /> }).collect_view();
    view! {
        <p class="hint">{category.description.get(lang.get_untracked()).to_owned()}</p>
        <label for="kind">{move || t(lang.get(), Text::Kind)}</label>
        <select id="kind" name="kind" on:change=move |event| kind.set(RequestKind::ALL.into_iter().find(|each| each.code() == event_target_value(&event)))>
            {kinds.into_iter().map(|each| view! { <option value=each.code() selected=move || kind.get() == Some(each)>{move || each.label(lang.get())}</option> }).collect_view()}
        </select>
        {field_views}
        <Show when=move || show_location>
            <label for="district">{move || t(lang.get(), Text::District)}</label>
            <select id="district" name="district" aria-describedby="district-error" on:change=move |event| district.set(event_target_value(&event)) prop:value=move || district.get()>
                <option value="">{move || t(lang.get(), Text::ChooseDistrict)}</option>
                {catalog.with_value(|catalog| catalog.districts.iter().map(|each| view! { <option value=each.code.clone()>{each.name.get(lang.get_untracked()).to_owned()}</option> }).collect_view())}
            </select>
            <ErrorText id="district-error" message=error_for("location.district".into()) />
            <label for="address">{move || t(lang.get(), Text::Address)}</label>
            <input id="address" name="address" type="text" autocomplete="street-address" aria-describedby="location-error" prop:value=move || address.get() on:input=move |event| address.set(event_target_value(&event)) />
            <ErrorText id="location-error" message=error_for("location".into()) />
        </Show>
        <fieldset class="contact">
            <legend>{move || contact_legend(lang.get())}</legend>
            <label for="contact-name">{move || contact_label(lang.get(), false)}</label>
            <input id="contact-name" type="text" autocomplete="name" prop:value=move || contact_name.get() on:input=move |event| contact_name.set(event_target_value(&event)) />
            <label for="contact-phone">{move || contact_label(lang.get(), true)}</label>
            <input id="contact-phone" type="tel" autocomplete="tel" inputmode="tel" aria-describedby="contact-phone-error" prop:value=move || contact_phone.get() on:input=move |event| contact_phone.set(event_target_value(&event)) />
            <ErrorText id="contact-phone-error" message=error_for("contact.phone".into()) />
            <label class="consent">
                <input id="contact-consent" type="checkbox" aria-describedby="contact-consent-error" prop:checked=move || consent.get() on:change=move |event| consent.set(event_target_checked(&event)) />
                {move || consent_text(lang.get())}
            </label>
            <ErrorText id="contact-consent-error" message=error_for("contact.consent".into()) />
        </fieldset>
    }
}

/// One of the category's own fields.
#[component]
fn FieldInput(field: FieldDef, lang: RwSignal<Lang>, fields: RwSignal<BTreeMap<String, String>>, message: impl Fn(String) -> Signal<Option<String>> + 'static) -> impl IntoView {
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
    let label = field.label.clone();
    let placeholder = field.placeholder.as_ref().map(|text| text.get(lang.get_untracked()).to_owned()).unwrap_or_default();
    let input = match &field.kind {
        FieldKind::Choice { options } | FieldKind::MultiChoice { options } => {
            let options = options.clone();
            view! {
                <select id=id.clone() aria-describedby=error_id.clone() on:change=set prop:value=value>
                    <option value="">{move || t(lang.get(), Text::ChooseCategory)}</option>
                    {options.into_iter().map(|option| view! { <option value=option.code.clone()>{option.label.get(lang.get_untracked()).to_owned()}</option> }).collect_view()}
                </select>
            }
            .into_any()
        }
        FieldKind::LongText { .. } => view! { <textarea id=id.clone() rows="3" aria-describedby=error_id.clone() prop:value=value on:input=set></textarea> }.into_any(),
        kind => {
            let (input_type, mode) = match kind {
                FieldKind::Number { .. } => ("text", "decimal"),
                FieldKind::Money => ("text", "decimal"),
                FieldKind::DateTime => ("datetime-local", "text"),
                FieldKind::Phone => ("tel", "tel"),
                _ => ("text", "text"),
            };
            view! { <input id=id.clone() type=input_type inputmode=mode placeholder=placeholder aria-describedby=error_id.clone() prop:value=value on:input=set /> }.into_any()
        }
    };
    let unit = match &field.kind {
        FieldKind::Number { unit, .. } => Some(unit.get(lang.get_untracked()).to_owned()),
        _ => None,
    };
    let required = field.required;
    view! {
        <label for=id.clone()>{move || label.get(lang.get()).to_owned()} {required.then_some(" *")}</label>
        <div class="field-input">{input} {unit.map(|unit| view! { <span class="unit">{unit}</span> })}</div>
        <ErrorText id=error_id message=message(format!("fields.{}", field.code)) />
    }
}

/// An inline error under an input, announced by screen readers when it appears.
#[component]
fn ErrorText(#[prop(into)] id: String, message: Signal<Option<String>>) -> impl IntoView {
    view! { <p id=id class="field-error" aria-live="polite">{move || message.get()}</p> }
}

fn category_options(catalog: &Catalog, lang: Lang) -> impl IntoView + use<> {
    catalog
        .groups
        .iter()
        .map(|group| {
            let options = catalog
                .categories
                .iter()
                .filter(|category| category.group == group.code)
                .map(|category| view! { <option value=category.code.clone()>{format!("{} {}", category.icon, category.name.get(lang))}</option> })
                .collect_view();
            view! { <optgroup label=group.name.get(lang).to_owned()>{options}</optgroup> }
        })
        .collect_view()
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
                FieldKind::Number { .. } => text.parse::<f64>().map(FieldValue::Number).unwrap_or(FieldValue::Text(text)),
                FieldKind::MultiChoice { .. } => FieldValue::List(vec![text]),
                _ => FieldValue::Text(text),
            };
            Some((field.code.clone(), value))
        })
        .collect()
}

fn selected_photos(input: NodeRef<leptos::html::Input>) -> Vec<web_sys::File> {
    let Some(input) = input.get_untracked() else { return Vec::new() };
    let Some(files) = input.files() else { return Vec::new() };
    (0..files.length()).filter_map(|index| files.get(index)).collect()
}

/// Moves keyboard focus to the first invalid input after the errors render.
fn focus_first_error() {
    request_animation_frame(|| {
        let Some(document) = web_sys::window().and_then(|window| window.document()) else { return };
        if let Ok(Some(element)) = document.query_selector("[aria-invalid=true], .field-error:not(:empty)") {
            let target = element.previous_element_sibling().filter(|_| element.class_name() == "field-error").unwrap_or(element);
            if let Ok(element) = target.dyn_into::<web_sys::HtmlElement>() {
                let _ = element.focus();
            }
        }
    });
}

fn contact_legend(lang: Lang) -> &'static str {
    match lang {
        Lang::ZhCn => "联系方式（可选，便于回访）",
        Lang::En => "Contact details (optional, for a call back)",
        Lang::Ru => "Контакты (необязательно, для обратной связи)",
    }
}

fn contact_label(lang: Lang, phone: bool) -> &'static str {
    match (lang, phone) {
        (Lang::ZhCn, false) => "称呼",
        (Lang::ZhCn, true) => "手机号",
        (Lang::En, false) => "Name",
        (Lang::En, true) => "Phone",
        (Lang::Ru, false) => "Имя",
        (Lang::Ru, true) => "Телефон",
    }
}

fn consent_text(lang: Lang) -> &'static str {
    match lang {
        Lang::ZhCn => "我同意将联系方式提供给承办部门，仅用于回访本次反映，办结后按规定期限删除。",
        Lang::En => "I agree that the department handling this report may use my contact details only to reply about it; they are deleted after the retention period.",
        Lang::Ru => "Я согласен(на), что ведомство использует мои контакты только для ответа по этому обращению; они удаляются по истечении срока хранения.",
    }
}
