//! The review screen: everything the resident is about to send, in their language, with
//! "Send" and "Change". Shown after the form passes validation and before anything leaves
//! the phone, so a resident in a hurry sees what the department will read.

use leptos::prelude::*;
use lianxin_contract::i18n::{decimal, local_datetime, unit_form};
use lianxin_contract::report::FieldValue;
use lianxin_contract::{Catalog, Category, FieldKind, Lang, ReportSubmission};

use crate::photo::PreparedPhoto;
use crate::text::{Counted, Text, counted, t, tr};

/// How a field's value reads: choice labels instead of codes, numbers with their unit, dates
/// and times as the language writes them.
fn field_text(category: &Category, code: &str, value: &FieldValue, lang: Lang) -> String {
    let field = category.fields.iter().find(|field| field.code == code);
    let label_of = |choice: &str| -> String {
        match field.map(|field| &field.kind) {
            Some(FieldKind::Choice { options } | FieldKind::MultiChoice { options }) => {
                options.iter().find(|option| option.code == choice).map_or_else(|| choice.to_owned(), |option| option.label.get(lang).to_owned())
            }
            _ => choice.to_owned(),
        }
    };
    match value {
        FieldValue::Text(text) if matches!(field.map(|field| &field.kind), Some(FieldKind::DateTime)) => local_datetime(text, lang).unwrap_or_else(|| text.clone()),
        FieldValue::Text(text) => label_of(text),
        FieldValue::Number(number) => match field.map(|field| &field.kind) {
            Some(FieldKind::Number { unit, .. }) => format!("{} {}", decimal(lang, *number, 6), unit_form(unit.get(lang), lang, Some(*number))).trim_end().to_owned(),
            _ => decimal(lang, *number, 6),
        },
        FieldValue::List(codes) => codes.iter().map(|code| label_of(code)).collect::<Vec<_>>().join(", "),
    }
}

/// The summary of `report` with its photos.
#[component]
pub fn ReviewView(
    report: ReportSubmission,
    category: Category,
    catalog: RwSignal<Catalog>,
    photos: RwSignal<Vec<PreparedPhoto>>,
    lang: RwSignal<Lang>,
    on_send: Callback<()>,
    on_edit: Callback<()>,
) -> impl IntoView {
    let report = StoredValue::new(report);
    let category = StoredValue::new(category);
    let rows = move || {
        let lang = lang.get();
        let mut rows: Vec<(String, String)> = Vec::new();
        report.with_value(|report| {
            category.with_value(|category| {
                rows.push((t(lang, Text::ReviewCategory).to_owned(), category.name.get(lang).to_owned()));
                rows.push((t(lang, Text::Kind).to_owned(), report.kind.label(lang).to_owned()));
                for (code, value) in &report.fields {
                    let label = category.fields.iter().find(|field| &field.code == code).map_or_else(|| code.clone(), |field| field.label.get(lang).to_owned());
                    rows.push((label, field_text(category, code, value, lang)));
                }
            });
            rows.push((t(lang, Text::ReviewDescription).to_owned(), report.description.clone()));
            if let Some(location) = &report.location {
                let district = location.district.as_deref().and_then(|code| catalog.with(|catalog| catalog.district(code).map(|district| district.name.get(lang).to_owned())));
                let mut place: Vec<String> = district.into_iter().chain(location.address.clone().filter(|address| !address.is_empty())).collect();
                if let Some(accuracy) = location.accuracy_m {
                    place.push(counted(lang, Counted::Accuracy, (accuracy.round() as i64).max(1) as u64));
                }
                if !place.is_empty() {
                    rows.push((t(lang, Text::ReviewPlace).to_owned(), place.join(" · ")));
                }
            }
            let contact = match &report.contact {
                Some(contact) if contact.consent => [contact.name.clone(), contact.phone.clone()].into_iter().flatten().collect::<Vec<_>>().join(" · "),
                _ => t(lang, Text::Anonymous).to_owned(),
            };
            rows.push((t(lang, Text::ReviewContact).to_owned(), contact));
        });
        rows.into_iter().map(|(term, value)| view! { <dt>{term}</dt><dd>{value}</dd> }).collect_view()
    };
    view! {
        <section id="review" class="review" aria-labelledby="review-title">
            <h2 id="review-title" tabindex="-1">{tr(lang, Text::ReviewTitle)}</h2>
            <p class="hint">{tr(lang, Text::ReviewHelp)}</p>
            <dl class="review-list">{rows}</dl>
            <Show when=move || !photos.with(Vec::is_empty)>
                <ul class="photos review-photos" aria-label=tr(lang, Text::Photo)>
                    {move || photos.with(|photos| photos.iter().enumerate().map(|(index, photo)| {
                        let alt = format!("{} {}", t(lang.get(), Text::Photo), index + 1);
                        view! { <li class="photo"><img src=photo.preview_url.clone() alt=alt /></li> }
                    }).collect_view())}
                </ul>
            </Show>
            <div class="review-actions">
                <button id="send-report" type="button" class="submit" on:click=move |_| on_send.run(())>{tr(lang, Text::Submit)}</button>
                <button id="edit-report" type="button" class="secondary" on:click=move |_| on_edit.run(())>{tr(lang, Text::Change)}</button>
            </div>
        </section>
    }
}
