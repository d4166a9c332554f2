//! Contact details: name, phone and the explicit consent to pass them on.

use leptos::prelude::*;
use lianxin_contract::catalog::Need;
use lianxin_contract::{Category, Lang, ValidationError};

use crate::field_input::error_signal;
use crate::text::{Text, t, tr};

/// Name, phone and the explicit consent; required only where the department must call back.
#[component]
pub fn ContactFields(category: Category, lang: RwSignal<Lang>, name: RwSignal<String>, phone: RwSignal<String>, consent: RwSignal<bool>, errors: RwSignal<Vec<ValidationError>>) -> impl IntoView {
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
