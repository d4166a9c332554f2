//! The receipt screen: the tracking number, large and selectable, with what to do next,
//! and the link to the report's private follow-up page on the server (progress, the
//! department's replies, and the "solved?" answer), which opens at once from a chat too.
//! The receipt is kept on the phone for "my reports".

use leptos::prelude::*;
use lianxin_contract::{Lang, Receipt};

use crate::mine;
use crate::text::{Text, t, tr};

/// Shows the tracking number of an accepted report and the way to follow it.
#[component]
pub fn ReceiptView(receipt: Receipt, lang: RwSignal<Lang>, on_new: impl Fn() + 'static) -> impl IntoView {
    mine::remember(&receipt);
    let follow_up = receipt.follow_up_url.clone();
    view! {
        <section class="receipt" role="status" aria-live="polite">
            <h2>{tr(lang, Text::Received)}</h2>
            <p>{tr(lang, Text::TrackingNo)}</p>
            <p class="tracking-no" id="tracking-no">{receipt.tracking_no.clone()}</p>
            <p class="hint">{tr(lang, Text::KeepNumber)}</p>
            <p><a id="follow-up-link" href=move || format!("{follow_up}&lang={}", lang.get().tag())>{tr(lang, Text::FollowUp)}</a></p>
            <button type="button" id="new-report" on:click=move |_| on_new()>{move || t(lang.get(), Text::NewReport)}</button>
        </section>
    }
}
