//! The receipt screen: the tracking number, large and selectable, with what to do next,
//! and the report's progress (received → forwarded → accepted → in progress → resolved)
//! in the resident's language, with the department's messages.

use leptos::prelude::*;
use leptos::task::spawn_local;
use lianxin_contract::report::{ReportStatus, Status};
use lianxin_contract::{Lang, Receipt};

use crate::api;
use crate::text::{Text, t, tr};

/// A status in words.
pub fn status_label(status: Status, lang: Lang) -> &'static str {
    match (status, lang) {
        (Status::Received, Lang::ZhCn) => "已受理",
        (Status::Received, Lang::En) => "Received",
        (Status::Received, Lang::Ru) => "Получено",
        (Status::Forwarded, Lang::ZhCn) => "已转交承办部门",
        (Status::Forwarded, Lang::En) => "Passed to the department",
        (Status::Forwarded, Lang::Ru) => "Передано в ведомство",
        (Status::Accepted, Lang::ZhCn) => "部门已接收",
        (Status::Accepted, Lang::En) => "Accepted by the department",
        (Status::Accepted, Lang::Ru) => "Принято ведомством",
        (Status::InProgress, Lang::ZhCn) => "正在办理",
        (Status::InProgress, Lang::En) => "In progress",
        (Status::InProgress, Lang::Ru) => "В работе",
        (Status::Resolved, Lang::ZhCn) => "已办结",
        (Status::Resolved, Lang::En) => "Resolved",
        (Status::Resolved, Lang::Ru) => "Решено",
        (Status::Rejected, Lang::ZhCn) => "不予受理",
        (Status::Rejected, Lang::En) => "Declined",
        (Status::Rejected, Lang::Ru) => "Отклонено",
    }
}

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
                Some(Err(error)) => view! { <p class="error">{t(lang.get(), Text::SendFailed)} " " {error}</p> }.into_any(),
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
