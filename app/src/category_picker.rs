//! The category picker: a search box that narrows a grouped list. A resident types what
//! they see ("taxi", "出租", "такси", "井盖") in any of the three languages and finds the
//! category by its name, keywords or description.

use leptos::prelude::*;
use lianxin_contract::{Catalog, Category, Lang};

use crate::text::{Text, t};

/// Whether `category` matches the search `query` (already lower-cased).
pub fn matches(category: &Category, query: &str, lang: Lang) -> bool {
    if query.is_empty() {
        return true;
    }
    let names = [&category.name.zh, &category.name.en, &category.name.ru];
    names.into_iter().chain(category.keywords.all()).any(|text| text.to_lowercase().contains(query)) || category.description.get(lang).to_lowercase().contains(query)
}

/// Search box and grouped list of categories.
#[component]
pub fn CategoryPicker(catalog: StoredValue<Catalog>, lang: RwSignal<Lang>, selected: RwSignal<String>, on_change: Callback<String>, invalid: Signal<bool>) -> impl IntoView {
    let query = RwSignal::new(String::new());
    let options = move || {
        let lang = lang.get();
        let query = query.get().trim().to_lowercase();
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
        let query = query.get().trim().to_lowercase();
        let lang = lang.get();
        catalog.with_value(|catalog| catalog.categories.iter().filter(|category| matches(category, &query, lang)).count())
    };
    view! {
        <label for="category-search">{move || t(lang.get(), Text::SearchCategory)}</label>
        <input
            id="category-search"
            type="search"
            autocomplete="off"
            aria-controls="category"
            aria-describedby="category-count"
            placeholder=move || t(lang.get(), Text::SearchHint)
            prop:value=move || query.get()
            on:input=move |event| query.set(event_target_value(&event))
        />
        <p id="category-count" class="hint" aria-live="polite">{move || format!("{} {}", count(), t(lang.get(), Text::CategoriesFound))}</p>
        <label for="category">{move || t(lang.get(), Text::Category)}</label>
        <select
            id="category"
            name="category"
            required
            aria-invalid=move || invalid.get().to_string()
            aria-describedby="category-error"
            on:change=move |event| on_change.run(event_target_value(&event))
            prop:value=move || selected.get()
        >
            <option value="">{move || t(lang.get(), Text::ChooseCategory)}</option>
            {options}
        </select>
    }
}
