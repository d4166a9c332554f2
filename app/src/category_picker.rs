//! The category picker: a search box that narrows a grouped list. A resident types what
//! they see ("taxi", "出租", "такси", "井盖") in any of the three languages and finds the
//! category by its name, keywords or description.

use leptos::prelude::*;
use lianxin_contract::{Catalog, Category, Lang};

use crate::text::{Counted, Text, counted, tr};

/// Whether `category` matches the search `query` (already lower-cased).
pub fn matches(category: &Category, query: &str, lang: Lang) -> bool {
    if query.is_empty() {
        return true;
    }
    let names = [&category.name.zh, &category.name.en, &category.name.ru];
    names.into_iter().chain(category.keywords.all()).any(|text| lower(text).contains(query)) || lower(category.description.get(lang)).contains(query)
}

/// Lower case by the browser's own Unicode tables (Cyrillic included), not a second copy of
/// them compiled into the widget.
pub fn lower(text: &str) -> String {
    js_sys::JsString::from(text).to_lower_case().into()
}

/// Search box and grouped list of categories.
#[component]
pub fn CategoryPicker(catalog: StoredValue<Catalog>, lang: RwSignal<Lang>, selected: RwSignal<String>, on_change: Callback<String>, invalid: Signal<bool>) -> impl IntoView {
    let query = RwSignal::new(String::new());
    let options = move || {
        let lang = lang.get();
        let query = lower(query.get().trim());
        catalog.with_value(|catalog| {
            catalog
                .groups
                .iter()
                .filter_map(|group| {
                    let options: Vec<_> = catalog
                        .categories
                        .iter()
                        .filter(|category| category.group == group.code && matches(category, &query, lang))
                        .map(|category| view! { <option value=category.code.clone()>{format!("{} {}", category.icon, category.name.get(lang))}</option> })
                        .collect();
                    (!options.is_empty()).then(|| view! { <optgroup label=group.name.get(lang).to_owned()>{options}</optgroup> })
                })
                .collect_view()
        })
    };
    let count = move || {
        let query = lower(query.get().trim());
        let lang = lang.get();
        catalog.with_value(|catalog| catalog.categories.iter().filter(|category| matches(category, &query, lang)).count())
    };
    view! {
        <label for="category-search">{tr(lang, Text::SearchCategory)}</label>
        <input
            id="category-search"
            type="search"
            autocomplete="off"
            aria-controls="category"
            aria-describedby="category-count"
            placeholder=tr(lang, Text::SearchHint)
            prop:value=move || query.get()
            on:input=move |event| query.set(event_target_value(&event))
        />
        <p id="category-count" class="hint" aria-live="polite">{move || counted(lang.get(), Counted::CategoriesFound, count() as u64)}</p>
        <label for="category">{tr(lang, Text::Category)}</label>
        <select
            id="category"
            name="category"
            required
            aria-invalid=move || invalid.get().to_string()
            aria-describedby="category-error"
            on:change=move |event| on_change.run(event_target_value(&event))
            prop:value=move || selected.get()
        >
            <option value="">{tr(lang, Text::ChooseCategory)}</option>
            {options}
        </select>
    }
}
