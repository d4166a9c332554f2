//! The category picker: a search box that narrows a grouped list. A resident types what
//! they see ("taxi", "出租", "такси", "井盖") in any of the three languages and finds the
//! category by its name, keywords or description. The search words (with the names in the
//! other languages) come apart from the catalog, the first time the search box is used:
//! most residents choose from the list and never download them.

use std::cell::{Cell, RefCell};

use leptos::prelude::*;
use lianxin_contract::catalog::SearchWords;
use lianxin_contract::{Catalog, Category, Lang};

use crate::api;
use crate::text::{Counted, Text, counted, tr};

thread_local! {
    /// The search words once they arrived, for a catalog loaded later (a language switch).
    static SEARCH_WORDS: RefCell<Option<SearchWords>> = const { RefCell::new(None) };
    /// Whether they were asked for (and not refused) already.
    static ASKED: Cell<bool> = const { Cell::new(false) };
}

/// Fetches the search words the first time the search box is used and puts them into the
/// catalog; the list follows as they arrive. Offline, names and descriptions still match,
/// and the next time the box is used asks again.
fn load_search_words(catalog: RwSignal<Catalog>) {
    if ASKED.replace(true) {
        return;
    }
    leptos::task::spawn_local(async move {
        match api::fetch_search_words().await {
            Ok(words) => {
                catalog.update(|catalog| catalog.add_search_words(&words));
                SEARCH_WORDS.set(Some(words));
            }
            Err(_) => ASKED.set(false),
        }
    });
}

/// Puts search words that already arrived into a catalog just loaded.
pub fn keep_search_words(catalog: &mut Catalog) {
    SEARCH_WORDS.with_borrow(|words| {
        if let Some(words) = words {
            catalog.add_search_words(words);
        }
    });
}

/// Whether `category` matches the search `query` (already lower-cased): every word of the
/// query is found in its names, keywords or description.
pub fn matches(category: &Category, query: &str, lang: Lang) -> bool {
    let names = [&category.name.zh, &category.name.en, &category.name.ru];
    let texts: Vec<String> = names.into_iter().map(String::as_str).chain(category.keywords.all().map(String::as_str)).chain([category.description.get(lang)]).map(lower).collect();
    query.split(' ').filter(|word| !word.is_empty()).all(|word| texts.iter().any(|text| word_matches(word, text)))
}

/// Whether a query word is found in `text`, also when it is inflected: Russian changes the
/// end of a word ("люки", "таксиста", "потеряла" for "люк", "такси", "потерял"), so a word
/// of four letters or more also matches by its stem (it less its last two letters, at
/// least three), and a word of the text that begins the query word matches too.
fn word_matches(word: &str, text: &str) -> bool {
    if text.contains(word) {
        return true;
    }
    let letters = word.chars().count();
    if letters < 4 {
        return false;
    }
    let stem: String = word.chars().take((letters - 2).max(3)).collect();
    // Split on the separators catalog texts use, not by Unicode classes: their tables would
    // weigh more than this whole search.
    text.contains(&stem) || text.split([' ', ',', '-', '/', '(', ')']).any(|part| part.chars().count() >= 4 && word.starts_with(part))
}

/// Lower case by the browser's own Unicode tables (Cyrillic included), not a second copy of
/// them compiled into the widget.
pub fn lower(text: &str) -> String {
    js_sys::JsString::from(text).to_lower_case().into()
}

/// Search box and grouped list of categories.
#[component]
pub fn CategoryPicker(catalog: RwSignal<Catalog>, lang: RwSignal<Lang>, selected: RwSignal<String>, on_change: Callback<String>, invalid: Signal<bool>) -> impl IntoView {
    let query = RwSignal::new(String::new());
    let options = move || {
        let lang = lang.get();
        let query = lower(query.get().trim());
        catalog.with(|catalog| {
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
        catalog.with(|catalog| catalog.categories.iter().filter(|category| matches(category, &query, lang)).count())
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
            on:focus=move |_| load_search_words(catalog)
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
