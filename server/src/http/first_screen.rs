//! The widget's first screen, rendered by the server into `index.html` (`GET /`): the
//! title and the category list as a plain `<select>` in the resident's language, narrowed
//! and preset as the page URL asks (`?department=`, `?category=`). On a slow phone network
//! the WebAssembly takes seconds to arrive and start; with this, a resident can choose what
//! the problem is from the first paint, and the widget, once started, takes the choice over
//! (index.html's hand-over script: the choice, the keyboard focus) and replaces the
//! screen. Where the widget cannot start the screen is hidden and the boot fallback, in the
//! page's language only, tells the resident to call 12345.
//!
//! Rendered from the catalog into the `index.html` read once at start: once per language
//! for the page without a preset, per request for a department's page; a widget build
//! without the `<!-- first-screen -->` marker is served as it is.

use std::path::Path;
use std::sync::Arc;

use axum::Extension;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use lianxin_contract::{Catalog, Lang};

use super::AppState;
use super::follow_up::escape;
use super::page_words::{self as words, Word};
use super::precompressed;

/// Where in `index.html` the first screen goes.
const MARKER: &str = "<!-- first-screen -->";
/// The document's language attribute as Trunk's build writes it.
const HTML_LANG: &str = "<html lang=\"zh-CN\">";

/// `index.html` cut at the marker; the part after it once per language (`Lang::ALL`'s
/// order), with the boot fallback's paragraphs in that language only.
#[derive(Debug)]
pub struct Template {
    before: String,
    after: [String; 3],
}

/// The page of every language without a preset, rendered once, and brotli'd once at the
/// highest level as the widget's files are (a phone's first request; a department's preset
/// page is rendered and compressed per request, at the server's usual level).
#[derive(Debug)]
struct Pages {
    template: Template,
    plain: [String; 3],
    brotli: [precompressed::Once; 3],
}

impl Template {
    /// Reads `index.html` from the widget directory; `None` without the file or the marker.
    pub fn read(widget_dir: &Path) -> Option<Template> {
        let page = std::fs::read_to_string(widget_dir.join("index.html")).ok()?;
        let (before, after) = page.split_once(MARKER)?;
        Some(Template { before: before.to_owned(), after: Lang::ALL.map(|lang| only_in(after, lang)) })
    }

    /// The page in `lang` with the first screen: the categories `department`'s page offers,
    /// `chosen` preselected.
    pub fn render(&self, catalog: &Catalog, department: Option<&str>, lang: Lang, chosen: Option<&str>) -> String {
        let mut page = self.before.replacen(HTML_LANG, &format!("<html lang=\"{}\">", lang.tag()), 1);
        page += &screen(catalog, department, lang, chosen);
        page += &self.after[slot(lang)];
        page
    }
}

/// Where `lang`'s copy is in the per-language arrays (`Lang::ALL`'s order).
fn slot(lang: Lang) -> usize {
    Lang::ALL.iter().position(|each| *each == lang).unwrap_or(0)
}

/// `html` without its paragraphs in other languages than `lang` (`<p lang="…">…</p>`, the
/// boot fallback's "call 12345" in three languages): the resident reads the page's.
fn only_in(html: &str, lang: Lang) -> String {
    let mut out = html.to_owned();
    for other in Lang::ALL.into_iter().filter(|other| *other != lang) {
        let open = format!("<p lang=\"{}\">", other.tag());
        while let Some(start) = out.find(&open) {
            let Some(length) = out[start..].find("</p>") else { break };
            out.replace_range(start..start + length + "</p>".len(), "");
        }
    }
    out
}

/// The first screen: the widget's title and its category select, with the same ids and
/// classes as the widget's own, so the widget's style applies and the switch is seamless.
fn screen(catalog: &Catalog, department: Option<&str>, lang: Lang, chosen: Option<&str>) -> String {
    let mut html = format!(
        "<main id=\"first-screen\" class=\"lianxin\"><header class=\"lianxin-header\"><h1>{}</h1></header><div class=\"report-form\"><label for=\"category\">{}</label><select id=\"category\" name=\"category\"><option value=\"\">{}</option>",
        escape(&words::get(Word::WidgetTitle, lang)),
        escape(&words::get(Word::WhatProblem, lang)),
        escape(&words::get(Word::ChooseCategory, lang)),
    );
    for group in &catalog.groups {
        let mut options = catalog.offered(department).filter(|category| category.group == group.code).peekable();
        if options.peek().is_none() {
            continue;
        }
        html += &format!("<optgroup label=\"{}\">", escape(group.name.get(lang)));
        for category in options {
            let selected = if chosen == Some(category.code.as_str()) { " selected" } else { "" };
            html += &format!("<option value=\"{}\"{selected}>{} {}</option>", escape(&category.code), escape(&category.icon), escape(category.name.get(lang)));
        }
        html += "</optgroup>";
    }
    html += "</select></div></main>";
    html
}

/// The language the widget will start in (app/src/lib.rs `initial_lang`): `?lang=`, else
/// the browser's first language, else Chinese.
fn page_lang(query: &[(String, String)], headers: &HeaderMap) -> Lang {
    let asked = query.iter().find(|(key, _)| key == "lang").and_then(|(_, value)| Lang::from_tag(value));
    let browser = || {
        let first = headers.get(header::ACCEPT_LANGUAGE)?.to_str().ok()?.split(',').next()?;
        Lang::from_tag(first.split(';').next()?.trim())
    };
    asked.or_else(browser).unwrap_or_default()
}

/// `GET /` and `GET /index.html`: the widget's page with its first screen.
async fn page(State(state): State<AppState>, Extension(pages): Extension<Arc<Pages>>, uri: Uri, headers: HeaderMap) -> Response {
    let query: Vec<(String, String)> = form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes()).into_owned().collect();
    let get = |name: &str| query.iter().find(|(key, value)| key == name && !value.trim().is_empty()).map(|(_, value)| value.trim());
    let lang = page_lang(&query, &headers);
    let department = get("department");
    let chosen = get("category").filter(|code| state.catalog.offered(department).any(|category| category.code == *code));
    let index = slot(lang);
    let mut response = match (department, chosen) {
        (None, None) if precompressed::accepts_brotli(&headers) => (precompressed::brotli_headers(), pages.brotli[index].get_or_compress(pages.plain[index].as_bytes())).into_response(),
        (None, None) => pages.plain[index].clone().into_response(),
        _ => pages.template.render(&state.catalog, department, lang, chosen).into_response(),
    };
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.append(header::VARY, HeaderValue::from_static("accept-language"));
    response
}

/// The routes of the page with its first screen; none when the widget's `index.html` has
/// no marker (it is then served as it is, by the widget's files).
pub fn router(widget_dir: &Path, catalog: &Catalog) -> axum::Router<AppState> {
    match Template::read(widget_dir) {
        Some(template) => {
            let plain = Lang::ALL.map(|lang| template.render(catalog, None, lang, None));
            let pages = Arc::new(Pages { template, plain, brotli: Default::default() });
            axum::Router::new().route("/", get(page)).route("/index.html", get(page)).layer(Extension(pages))
        }
        None => axum::Router::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fallback_speaks_the_pages_language_only() {
        let body = "<div id=\"boot-fallback\">\n<p lang=\"zh-CN\">请拨打 12345</p>\n<p lang=\"en\">Call 12345</p>\n<p lang=\"ru\">Звоните 12345</p>\n</div>";
        let english = only_in(body, Lang::En);
        assert!(english.contains("<p lang=\"en\">Call 12345</p>") && !english.contains("请拨打") && !english.contains("Звоните"), "{english}");
        assert!(only_in(body, Lang::Ru).contains("Звоните 12345</p>\n</div>"));
    }

    #[test]
    fn the_widget_starts_in_the_language_the_page_is_rendered_in() {
        let mut headers = HeaderMap::new();
        assert_eq!(page_lang(&[], &headers), Lang::ZhCn);
        headers.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_static("ru-RU,ru;q=0.9,en;q=0.8"));
        assert_eq!(page_lang(&[], &headers), Lang::Ru);
        assert_eq!(page_lang(&[("lang".into(), "en".into())], &headers), Lang::En);
        // As `navigator.language`: only the first language counts.
        headers.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_static("fr-FR,en;q=0.8"));
        assert_eq!(page_lang(&[], &headers), Lang::ZhCn);
    }
}
