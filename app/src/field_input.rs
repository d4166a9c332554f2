//! One field of a category's form, and what the form holds for it: the field's input by
//! kind (text, number with its unit, date and time, one choice, several answers), the
//! message for its first error, and the typed values the report carries.

use std::collections::BTreeMap;

use leptos::prelude::*;
use lianxin_contract::number::parse_number;
use lianxin_contract::report::FieldValue;
use lianxin_contract::{Category, FieldDef, FieldKind, Lang, ValidationError};

use crate::text::{Text, tr};

/// The message for the first error at `field`, in the current language.
pub fn error_signal(errors: RwSignal<Vec<ValidationError>>, lang: RwSignal<Lang>, field: impl Into<String>) -> Signal<Option<String>> {
    let field = field.into();
    Signal::derive(move || errors.with(|errors| errors.iter().find(|error| error.field == field).map(|error| error.message(lang.get()))))
}

/// One of the category's own fields: its label, input (a group of checkboxes for several
/// answers), unit, help and error.
#[component]
pub fn FieldInput(field: FieldDef, lang: RwSignal<Lang>, fields: RwSignal<BTreeMap<String, String>>, message: Signal<Option<String>>) -> impl IntoView {
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

/// The typed values of the category's fields as the resident filled them (numbers parsed,
/// several answers as a list).
pub fn field_values(category: Option<&Category>, values: &BTreeMap<String, String>) -> BTreeMap<String, FieldValue> {
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
