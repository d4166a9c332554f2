//! The receipt screen: the tracking number, large and selectable, with what to do next.

use leptos::prelude::*;
use lianxin_contract::{Lang, Receipt};

use crate::text::{Text, t};

/// Shows the tracking number of an accepted report.
#[component]
pub fn ReceiptView(receipt: Receipt, lang: RwSignal<Lang>, on_new: impl Fn() + 'static) -> impl IntoView {
    view! {
        <section class="receipt" role="status" aria-live="polite">
            <h2>{move || t(lang.get(), Text::Received)}</h2>
            <p>{move || t(lang.get(), Text::TrackingNo)}</p>
            <p class="tracking-no" id="tracking-no">{receipt.tracking_no.clone()}</p>
            <p class="hint">{move || t(lang.get(), Text::KeepNumber)}</p>
            <button type="button" on:click=move |_| on_new()>{move || t(lang.get(), Text::NewReport)}</button>
        </section>
    }
}
