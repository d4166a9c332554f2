//! The chosen category's part of the form: its description, the request kind, its own
//! fields and, where it asks for one, the location.

use std::collections::BTreeMap;

use leptos::prelude::*;
use lianxin_contract::catalog::Need;
use lianxin_contract::{Catalog, Category, Lang, RequestKind, ValidationError};

use crate::field_input::{FieldInput, error_signal};
use crate::location_picker::{LocationPicker, Position};
use crate::photo::PreparedPhoto;
use crate::text::{Text, tr};

/// The request kind, the category's own fields and its location inputs.
#[component]
pub fn CategoryDetails(
    category: Category,
    catalog: RwSignal<Catalog>,
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
