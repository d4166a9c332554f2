//! The receipt screen: the tracking number, large and selectable, with what to do next,
//! and the report's progress (received → forwarded → accepted → in progress → closed)
//! in the resident's language, with the department's messages.

use leptos::prelude::*;
use leptos::task::spawn_local;
use lianxin_contract::report::ReportStatus;
use lianxin_contract::{Lang, Receipt};

use crate::api;
use crate::text::{Text, status_label, t, tr};

/// An RFC 3339 time in the phone's time zone, written the way `lang` writes dates.
fn local_time(at: &str, lang: Lang) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_str(at));
    if date.get_time().is_nan() {
        return at.to_owned();
    }
    date.to_locale_string(lang.tag(), &wasm_bindgen::JsValue::UNDEFINED).into()
}

/// Shows the tracking number of an accepted report and lets the resident check progress.
#[component]
pub fn ReceiptView(receipt: Receipt, lang: RwSignal<Lang>, on_new: impl Fn() + 'static) -> impl IntoView {
    let tracking_no = receipt.tracking_no.clone();
    view! {
        <section class="receipt" role="status" aria-live="polite">
            <h2>{tr(lang, Text::Received)}</h2>
            <p>{tr(lang, Text::TrackingNo)}</p>
            <p class="tracking-no" id="tracking-no">{receipt.tracking_no.clone()}</p>
            <p class="hint">{tr(lang, Text::KeepNumber)}</p>
            <StatusView tracking_no=tracking_no lang=lang />
            <button type="button" id="new-report" on:click=move |_| on_new()>{tr(lang, Text::NewReport)}</button>
        </section>
    }
}

/// The progress of the report with `tracking_no`, fetched on demand.
#[component]
pub fn StatusView(tracking_no: String, lang: RwSignal<Lang>) -> impl IntoView {
    let status = RwSignal::new(None::<Result<Option<ReportStatus>, String>>);
    let tracking_no = StoredValue::new(tracking_no);
    let check = move |_| {
        spawn_local(async move {
            status.set(Some(api::report_status(&tracking_no.get_value()).await));
        });
    };
    view! {
        <button type="button" id="check-status" class="secondary" on:click=check>{tr(lang, Text::CheckStatus)}</button>
        <div id="status" aria-live="polite">
            {move || match status.get() {
                None => ().into_any(),
                Some(Ok(None)) => view! { <p>{t(lang.get(), Text::NotFoundNumber)}</p> }.into_any(),
                // What failed is for the log, not the resident: the check can simply be tried again.
                Some(Err(_)) => view! { <p class="error">{t(lang.get(), Text::StatusCheckFailed)}</p> }.into_any(),
                Some(Ok(Some(report))) => view! {
                    <h3>{t(lang.get(), Text::StatusOf)} ": " <span id="current-status">{status_label(report.status, lang.get())}</span></h3>
                    <ol class="timeline">
                        {report.timeline.into_iter().map(|event| view! {
                            <li>
                                <strong>{status_label(event.status, lang.get())}</strong>
                                " · " <time datetime=event.at.clone()>{local_time(&event.at, lang.get())}</time>
                                {event.message.map(|message| view! { <p>{message}</p> })}
                            </li>
                        }).collect_view()}
                    </ol>
                }.into_any(),
            }}
        </div>
    }
}
