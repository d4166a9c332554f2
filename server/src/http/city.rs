//! The city's picture, in public: `GET /city` — plain HTML with SVG bar charts and the
//! same numbers as tables (fast on slow 4G, no WebAssembly, indexable, printable) in three
//! languages — and the same figures as open data, `GET /city.csv` and `GET /city.json`,
//! for a date range (`from`, `to`: `YYYY-MM-DD` in the city's time; the last twelve weeks
//! by default). Aggregates only and k-anonymous (`figures`).

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use lianxin_contract::Lang;
use serde_json::{Value, json};

use super::AppState;
use super::follow_up::escape;
use super::page_words::{self as words, Word};
use crate::figures::{self, Cell, CityFigures};
use crate::ids;

/// The city's time zone offset (UTC+8, as every Chinese city keeps).
const CITY_OFFSET_MS: i64 = 8 * 3_600_000;
const DAY_MS: i64 = 86_400_000;
/// The longest period one page covers.
const MAX_DAYS: i64 = 366;

/// The public page and its open data.
pub fn router() -> utoipa_axum::router::OpenApiRouter<AppState> {
    utoipa_axum::router::OpenApiRouter::new().route("/city", axum::routing::get(page)).route("/city.csv", axum::routing::get(csv)).route("/city.json", axum::routing::get(json_data))
}

/// The query: language and period.
struct Query {
    lang: Lang,
    /// `[from, to)` in ms; `None` when the dates are unreadable.
    period: Option<(i64, i64)>,
}

/// `YYYY-MM-DD` as the ms of its 00:00 in the city.
fn city_day(text: &str) -> Option<i64> {
    if text.len() != 10 {
        return None;
    }
    let time = humantime::parse_rfc3339_weak(&format!("{text}T00:00:00Z")).ok()?;
    Some(time.duration_since(std::time::UNIX_EPOCH).ok()?.as_millis() as i64 - CITY_OFFSET_MS)
}

/// The city date of `ms`.
fn day_text(ms: i64) -> String {
    ids::rfc3339(ms + CITY_OFFSET_MS)[..10].to_owned()
}

fn query(uri: &Uri, headers: &HeaderMap) -> Query {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes()).into_owned().collect();
    let get = |name: &str| pairs.iter().find(|(key, _)| key == name).map(|(_, value)| value.trim().to_owned()).filter(|value| !value.is_empty());
    let lang = get("lang").as_deref().and_then(Lang::from_tag).unwrap_or_else(|| super::request_lang(headers));
    let today = (ids::now_ms() + CITY_OFFSET_MS).div_euclid(DAY_MS) * DAY_MS - CITY_OFFSET_MS;
    let to = match get("to") {
        Some(text) => city_day(&text).map(|day| day + DAY_MS),
        None => Some(today + DAY_MS),
    };
    let from = match (get("from"), to) {
        (Some(text), _) => city_day(&text),
        (None, Some(to)) => Some(to - 12 * 7 * DAY_MS),
        (None, None) => None,
    };
    let period = from.zip(to).filter(|(from, to)| from < to && to - from <= MAX_DAYS * DAY_MS);
    Query { lang, period }
}

async fn figures_for(state: &AppState, from_ms: i64, to_ms: i64) -> Result<CityFigures, crate::store::StoreError> {
    let rows = state.store.counted(from_ms, to_ms).await?;
    Ok(figures::compute(&rows, from_ms, to_ms, u64::from(state.config.public.min_count)))
}

fn category_name(state: &AppState, code: &str, lang: Lang) -> String {
    state.catalog.category(code).map_or_else(|| code.to_owned(), |category| category.name.get(lang).to_owned())
}

fn district_name(state: &AppState, code: Option<&str>, lang: Lang) -> String {
    match code {
        Some(code) => state.catalog.district(code).map_or_else(|| code.to_owned(), |district| district.name.get(lang).to_owned()),
        None => words::get(Word::NoDistrict, lang),
    }
}

fn percent(share: Option<f64>) -> String {
    share.map_or_else(|| "—".to_owned(), |share| format!("{:.0}%", share * 100.0))
}

fn cell_text(cell: Cell, lang: Lang, min_count: u64) -> String {
    match cell {
        Cell::Count(count) => count.to_string(),
        Cell::Withheld => format!("< {min_count} ({})", words::get(Word::Withheld, lang)),
    }
}

/// A horizontal bar chart of the shown cells, with its title for screen readers; the
/// numbers are also in the table beside it.
fn bars(id: &str, title: &str, items: &[(String, u64)]) -> String {
    if items.is_empty() {
        return String::new();
    }
    let max = items.iter().map(|(_, value)| *value).max().unwrap_or(1).max(1) as f64;
    let height = items.len() * 26 + 4;
    let mut svg = format!("<figure><svg class=\"bars\" viewBox=\"0 0 400 {height}\" role=\"img\" aria-labelledby=\"{id}\"><title id=\"{id}\">{}</title>", escape(title));
    for (index, (label, value)) in items.iter().enumerate() {
        let y = index * 26 + 4;
        let width = (*value as f64 / max * 180.0).max(2.0);
        // The label's room is 150 units: about 11 Chinese characters or 20 Latin letters.
        let room = if label.is_ascii() { 20 } else { 11 };
        let short: String = if label.chars().count() > room { label.chars().take(room - 1).chain(['…']).collect() } else { label.clone() };
        svg += &format!(
            "<text x=\"0\" y=\"{}\">{}</text><rect class=\"bar\" x=\"160\" y=\"{y}\" width=\"{width:.1}\" height=\"18\"/><text x=\"{:.1}\" y=\"{}\">{value}</text>",
            y + 14,
            escape(&short),
            160.0 + width + 6.0,
            y + 14
        );
    }
    svg + "</svg></figure>"
}

async fn page(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    let Query { lang, period } = query(&uri, &headers);
    let title = words::get(Word::CityTitle, lang);
    let Some((from_ms, to_ms)) = period else {
        let body = format!("<h1>{}</h1><p class=\"error\" role=\"alert\">{}</p>", escape(&title), escape(&words::get(Word::BadDates, lang)));
        return html(&state, StatusCode::BAD_REQUEST, lang, &title, &body);
    };
    let figures = match figures_for(&state, from_ms, to_ms).await {
        Ok(figures) => figures,
        Err(error) => return crate::error::WordedError(error.into(), lang).into_response(),
    };
    let k = figures.min_count;
    let (from, to) = (day_text(from_ms), day_text(to_ms - DAY_MS));
    let mut body = format!("<h1>{}</h1><p>{}</p>", escape(&title), escape(&words::get(Word::CityIntro, lang)));
    body += &format!(
        "<form class=\"period\" method=\"get\" action=\"/city\"><input type=\"hidden\" name=\"lang\" value=\"{}\"><label>{} <input type=\"date\" name=\"from\" value=\"{from}\"></label><label>{} <input type=\"date\" name=\"to\" value=\"{to}\"></label><button type=\"submit\">{}</button></form>",
        lang.tag(),
        escape(&words::get(Word::From, lang)),
        escape(&words::get(Word::To, lang)),
        escape(&words::get(Word::Show, lang))
    );
    body += &format!("<p id=\"total\"><strong>{}</strong> ({from} – {to}): {}</p>", escape(&words::get(Word::Total, lang)), escape(&cell_text(figures.total, lang, k)));

    let by_category = words::get(Word::ByCategory, lang);
    let shown: Vec<(String, u64)> = figures.categories.iter().filter_map(|row| row.reports.shown().map(|count| (category_name(&state, &row.code, lang), count))).collect();
    body += &format!("<section><h2>{}</h2>{}", escape(&by_category), bars("chart-categories", &by_category, &shown));
    body += &format!(
        "<table id=\"categories\"><thead><tr><th scope=\"col\">{}</th><th scope=\"col\" class=\"number\">{}</th><th scope=\"col\" class=\"number\">{}</th><th scope=\"col\" class=\"number\">{}</th><th scope=\"col\" class=\"number\">{}</th></tr></thead><tbody>",
        escape(&words::get(Word::Category, lang)),
        escape(&words::get(Word::Reports, lang)),
        escape(&words::get(Word::MedianHours, lang)),
        escape(&words::get(Word::WithinLimit, lang)),
        escape(&words::get(Word::Satisfaction, lang))
    );
    for row in &figures.categories {
        body += &format!(
            "<tr><th scope=\"row\">{}</th><td class=\"number\">{}</td><td class=\"number\">{}</td><td class=\"number\">{}</td><td class=\"number\">{}</td></tr>",
            escape(&category_name(&state, &row.code, lang)),
            escape(&cell_text(row.reports, lang, k)),
            row.median_hours.map_or_else(|| "—".to_owned(), |hours| format!("{hours:.1}")),
            percent(row.within_limit),
            percent(row.satisfaction)
        );
    }
    body += "</tbody></table></section>";

    let by_district = words::get(Word::ByDistrict, lang);
    let shown: Vec<(String, u64)> = figures.districts.iter().filter_map(|(code, cell)| cell.shown().map(|count| (district_name(&state, code.as_deref(), lang), count))).collect();
    body += &format!("<section><h2>{}</h2>{}", escape(&by_district), bars("chart-districts", &by_district, &shown));
    body += &format!(
        "<table id=\"districts\"><thead><tr><th scope=\"col\">{}</th><th scope=\"col\" class=\"number\">{}</th></tr></thead><tbody>",
        escape(&words::get(Word::District, lang)),
        escape(&words::get(Word::Reports, lang))
    );
    for (code, cell) in &figures.districts {
        body += &format!("<tr><th scope=\"row\">{}</th><td class=\"number\">{}</td></tr>", escape(&district_name(&state, code.as_deref(), lang)), escape(&cell_text(*cell, lang, k)));
    }
    body += "</tbody></table></section>";

    let by_week = words::get(Word::ByWeek, lang);
    let shown: Vec<(String, u64)> = figures.weeks.iter().filter_map(|(week, cell)| cell.shown().map(|count| (day_text(*week), count))).collect();
    body += &format!("<section><h2>{}</h2>{}", escape(&by_week), bars("chart-weeks", &by_week, &shown));
    body += &format!(
        "<table id=\"weeks\"><thead><tr><th scope=\"col\">{}</th><th scope=\"col\" class=\"number\">{}</th></tr></thead><tbody>",
        escape(&words::get(Word::Week, lang)),
        escape(&words::get(Word::Reports, lang))
    );
    for (week, cell) in &figures.weeks {
        body += &format!("<tr><th scope=\"row\">{}</th><td class=\"number\">{}</td></tr>", day_text(*week), escape(&cell_text(*cell, lang, k)));
    }
    body += "</tbody></table></section>";
    // The largest classes: k-anonymous (at least the minimum count of members), no subject
    // named and no place finer than the district.
    if let Ok(classes) = state.store.public_classes(k, from_ms, to_ms).await
        && !classes.is_empty()
    {
        body += &format!(
            "<section><h2>{}</h2><table id=\"classes\"><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\" class=\"number\">{}</th><th scope=\"col\" class=\"number\">{}</th></tr></thead><tbody>",
            escape(&words::get(Word::LargestClasses, lang)),
            escape(&words::get(Word::Category, lang)),
            escape(&words::get(Word::Where, lang)),
            escape(&words::get(Word::Reports, lang)),
            escape(&words::get(Word::ResolvedOfThem, lang))
        );
        for class in classes {
            let place = if class.kind == "subject" { words::get(Word::OneSubject, lang) } else { district_name(&state, class.district.as_deref(), lang) };
            body += &format!(
                "<tr><th scope=\"row\">{}</th><td>{}</td><td class=\"number\">{}</td><td class=\"number\">{}</td></tr>",
                escape(&category_name(&state, &class.category, lang)),
                escape(&place),
                class.members,
                class.resolved
            );
        }
        body += "</tbody></table></section>";
    }
    let range = format!("from={from}&amp;to={to}&amp;lang={}", lang.tag());
    body += &format!("<p>{}: <a href=\"/city.csv?{range}\">CSV</a> · <a href=\"/city.json?{range}\">JSON</a></p>", escape(&words::get(Word::OpenData, lang)));
    html(&state, StatusCode::OK, lang, &title, &body)
}

fn html(state: &AppState, status: StatusCode, lang: Lang, title: &str, body: &str) -> Response {
    let alternates =
        ["zh-CN", "en", "ru"].iter().map(|tag| format!("<a href=\"/city?lang={tag}\" hreflang=\"{tag}\" lang=\"{tag}\">{}</a>", words::language_name(tag))).collect::<Vec<_>>().join(" · ");
    let page = format!(
        "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{}</title><link rel=\"stylesheet\" href=\"/r/page.css\"></head>\
         <body><main>{body}</main><footer><nav aria-label=\"{}\">{alternates}</nav><p>{}</p></footer></body></html>",
        lang.tag(),
        escape(title),
        escape(&words::get(Word::Languages, lang)),
        escape(&words::hotline(lang, &state.catalog.hotline_abroad)),
    );
    let mut response = (status, page).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    response
}

/// The figures as JSON: `null` where a figure is withheld or has too few reports behind it.
fn to_json(state: &AppState, figures: &CityFigures, lang: Lang) -> Value {
    json!({
        "from": day_text(figures.from_ms),
        "to": day_text(figures.to_ms - DAY_MS),
        "min_count": figures.min_count,
        "note": format!("null: fewer than {} reports stand behind the figure, so it is withheld", figures.min_count),
        "total": figures.total.shown(),
        "categories": figures.categories.iter().map(|row| json!({
            "code": row.code,
            "name": category_name(state, &row.code, lang),
            "reports": row.reports.shown(),
            "median_hours": row.median_hours.map(|hours| (hours * 10.0).round() / 10.0),
            "within_limit": row.within_limit.map(|share| (share * 1000.0).round() / 1000.0),
            "satisfaction": row.satisfaction.map(|share| (share * 1000.0).round() / 1000.0),
        })).collect::<Vec<_>>(),
        "districts": figures.districts.iter().map(|(code, cell)| json!({ "code": code, "name": district_name(state, code.as_deref(), lang), "reports": cell.shown() })).collect::<Vec<_>>(),
        "weeks": figures.weeks.iter().map(|(week, cell)| json!({ "week": day_text(*week), "reports": cell.shown() })).collect::<Vec<_>>(),
    })
}

fn bad_dates(lang: Lang) -> Response {
    (StatusCode::BAD_REQUEST, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], words::get(Word::BadDates, lang)).into_response()
}

async fn json_data(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    let Query { lang, period } = query(&uri, &headers);
    let Some((from_ms, to_ms)) = period else { return bad_dates(lang) };
    let found = match figures_for(&state, from_ms, to_ms).await {
        Ok(figures) => state.store.public_classes(figures.min_count, from_ms, to_ms).await.map(|classes| (figures, classes)),
        Err(error) => Err(error),
    };
    match found {
        Ok((figures, classes)) => {
            let mut data = to_json(&state, &figures, lang);
            data["classes"] = Value::Array(
                classes
                    .iter()
                    .map(|class| {
                        let district = (class.kind == "place").then(|| class.district.clone()).flatten();
                        json!({ "category": class.category, "kind": class.kind, "district": district, "reports": class.members, "resolved": class.resolved })
                    })
                    .collect(),
            );
            ([(header::CACHE_CONTROL, "public, max-age=300")], axum::Json(data)).into_response()
        }
        Err(error) => crate::error::WordedError(error.into(), lang).into_response(),
    }
}

/// A CSV field, quoted when it must be.
fn field(text: &str) -> String {
    if text.contains([',', '"', '\n']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text.to_owned() }
}

async fn csv(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    let Query { lang, period } = query(&uri, &headers);
    let Some((from_ms, to_ms)) = period else { return bad_dates(lang) };
    let figures = match figures_for(&state, from_ms, to_ms).await {
        Ok(figures) => figures,
        Err(error) => return crate::error::WordedError(error.into(), lang).into_response(),
    };
    let k = figures.min_count;
    let count = |cell: Cell| cell.shown().map_or_else(|| format!("<{k}"), |count| count.to_string());
    let number = |value: Option<f64>, scale: f64| value.map_or_else(String::new, |value| format!("{:.3}", value * scale));
    let mut out = String::from("table,code,name,reports,median_hours,within_limit,satisfaction\n");
    out += &format!("total,,,{},,,\n", count(figures.total));
    for row in &figures.categories {
        out += &format!(
            "category,{},{},{},{},{},{}\n",
            field(&row.code),
            field(&category_name(&state, &row.code, lang)),
            count(row.reports),
            number(row.median_hours, 1.0),
            number(row.within_limit, 1.0),
            number(row.satisfaction, 1.0)
        );
    }
    for (code, cell) in &figures.districts {
        out += &format!("district,{},{},{},,,\n", field(code.as_deref().unwrap_or_default()), field(&district_name(&state, code.as_deref(), lang)), count(*cell));
    }
    for (week, cell) in &figures.weeks {
        out += &format!("week,{},,{},,,\n", day_text(*week), count(*cell));
    }
    // The largest classes (at least the minimum count of members): where is the district,
    // never a finer place or a subject's name; `within_limit` holds the share resolved.
    for class in state.store.public_classes(k, from_ms, to_ms).await.unwrap_or_default() {
        let place = if class.kind == "place" { district_name(&state, class.district.as_deref(), lang) } else { words::get(Word::OneSubject, lang) };
        out += &format!("class,{},{},{},,{:.3},\n", field(&class.category), field(&place), class.members, class.resolved as f64 / class.members.max(1) as f64);
    }
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8")),
            (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300")),
            (header::CONTENT_DISPOSITION, HeaderValue::from_static("inline; filename=\"lianxin-city.csv\"")),
        ],
        out,
    )
        .into_response()
}
