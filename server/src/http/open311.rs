//! The Open311 GeoReport v2 door (`/open311/v2`), so the apps, kiosks and partner systems a
//! city already has can list its catalog, file a report and follow it. Every resource comes
//! as `.json` and `.xml`. A filed report goes through the same intake as a widget report
//! (`submission`): validation, photo safety, idempotency, storage, forwarding. This module
//! only reads the app's form and writes the standard's documents (`georeport`).
//!
//! Apps are configured with their own `api_key` (`[[open311.apps]]`); keys never reach a
//! log or a metric, and a report records the app's name. A public listing shows no
//! description, address, photo or exact position unless `open311.public_details` is set.

use std::net::IpAddr;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use lianxin_contract::{Lang, ReportSubmission};
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::rate_limit::RateLimiter;
use crate::config::{Config, Open311App};
use crate::error::ApiError;
use crate::georeport::{self, Format, GeoError, words};
use crate::ids;
use crate::intake::{self, Intake};
use crate::privacy::constant_time_eq;
use crate::store::{ListFilter, ListedReport};
use crate::submission::{Accepted, SubmissionError};
use crate::tracking;

/// Reports a listing returns at most, and the window it covers by default.
const LIST_MAX: usize = 1000;
const LIST_DAYS: i64 = 90;
/// Ids one `service_request_id` query may name.
const IDS_MAX: usize = 100;

/// The configured apps, each with its own rate limit.
#[derive(Debug)]
pub struct Apps {
    apps: Vec<(Open311App, RateLimiter)>,
}

impl Apps {
    /// The apps of the configuration.
    pub fn new(config: &Config) -> Apps {
        Apps { apps: config.open311.apps.iter().map(|app| (app.clone(), RateLimiter::new(app.reports_per_minute, None, false))).collect() }
    }

    /// The app holding `key` (compared in constant time against every configured key).
    fn find(&self, key: &str) -> Option<&(Open311App, RateLimiter)> {
        let mut found = None;
        for entry in &self.apps {
            if !entry.0.api_key.expose().is_empty() && constant_time_eq(entry.0.api_key.expose().as_bytes(), key.as_bytes()) {
                found = Some(entry);
            }
        }
        found
    }
}

/// The Open311 routes, with the photo-sized body limit on filing.
pub fn router(config: &Config) -> OpenApiRouter<AppState> {
    let body_limit = DefaultBodyLimit::max(config.limits.body_bytes);
    let (schemas, paths, post_requests) = routes!(file_request);
    OpenApiRouter::new()
        .routes(routes!(discovery_json))
        .routes(routes!(services_json))
        .routes(routes!(service_definition))
        .routes(routes!(list_requests))
        .routes((schemas, paths, post_requests.layer(body_limit)))
        .routes(routes!(service_request))
        .route("/open311/v2/discovery.xml", axum::routing::get(discovery_json))
        .route("/open311/v2/services.xml", axum::routing::get(services_json))
        .route("/open311/v2/requests.xml", axum::routing::get(list_requests).post(file_request).layer(DefaultBodyLimit::max(config.limits.body_bytes)))
}

/// The format a request path ends with (`.json` unless `.xml`).
fn format_of(uri: &Uri) -> Format {
    if uri.path().ends_with(".xml") { Format::Xml } else { Format::Json }
}

/// The query string's pairs (names may repeat).
fn query_pairs(uri: &Uri) -> Vec<(String, String)> {
    form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes()).into_owned().collect()
}

fn first<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(key, _)| key == name).map(|(_, value)| value.trim()).filter(|value| !value.is_empty())
}

/// The language: `locale`, else `Accept-Language`, else Chinese.
fn lang_of(pairs: &[(String, String)], headers: &HeaderMap) -> Lang {
    first(pairs, "locale").and_then(Lang::from_tag).unwrap_or_else(|| super::request_lang(headers))
}

/// A document in the format asked for; XML under `root`.
fn document(format: Format, status: StatusCode, root: &str, value: &Value) -> Response {
    let body = match format {
        Format::Json => value.to_string(),
        Format::Xml => georeport::xml(root, value),
    };
    (status, [(header::CONTENT_TYPE, HeaderValue::from_static(format.content_type()))], body).into_response()
}

/// The GeoReport error array.
fn errors(format: Format, status: StatusCode, errors: Vec<GeoError>) -> Response {
    document(format, status, "errors", &serde_json::to_value(errors).unwrap_or_default())
}

fn error(format: Format, status: StatusCode, description: String) -> Response {
    errors(format, status, vec![GeoError { code: status.as_u16(), description }])
}

/// A call naming another jurisdiction is not for this server.
fn wrong_jurisdiction(state: &AppState, pairs: &[(String, String)]) -> bool {
    let ours = &state.config.open311.jurisdiction_id;
    !ours.is_empty() && first(pairs, "jurisdiction_id").is_some_and(|theirs| theirs != ours)
}

fn not_ours(format: Format, lang: Lang) -> Response {
    error(format, StatusCode::NOT_FOUND, words(lang, "jurisdiction_id 不是本市", "jurisdiction_id is not this city's", "jurisdiction_id не этого города"))
}

/// Where the API is and what it speaks.
#[utoipa::path(get, path = "/open311/v2/discovery.json", tag = "open311", responses((status = 200, description = "GeoReport v2 discovery (also `.xml`)", content_type = "application/json")))]
async fn discovery_json(State(state): State<AppState>, uri: Uri) -> Response {
    let base = state.photo_links.base_url().to_owned();
    document(format_of(&uri), StatusCode::OK, "discovery", &georeport::discovery(&base, "12345"))
}

/// The city's services: one per catalog category.
#[utoipa::path(
    get,
    path = "/open311/v2/services.json",
    tag = "open311",
    params(("locale" = Option<String>, Query, description = "zh-CN (default), en or ru; else Accept-Language"), ("jurisdiction_id" = Option<String>, Query, description = "The city's id, when configured")),
    responses((status = 200, description = "GeoReport v2 service list (also `.xml`)", content_type = "application/json"), (status = 404, description = "Another jurisdiction"))
)]
async fn services_json(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    let (format, pairs) = (format_of(&uri), query_pairs(&uri));
    let lang = lang_of(&pairs, &headers);
    if wrong_jurisdiction(&state, &pairs) {
        return not_ours(format, lang);
    }
    document(format, StatusCode::OK, "services", &georeport::services(&state.catalog, lang))
}

/// One service's definition: its attributes.
#[utoipa::path(
    get,
    path = "/open311/v2/services/{file}",
    tag = "open311",
    params(("file" = String, Path, description = "`<service_code>.json` or `<service_code>.xml`"), ("locale" = Option<String>, Query, description = "zh-CN (default), en or ru")),
    responses((status = 200, description = "GeoReport v2 service definition", content_type = "application/json"), (status = 404, description = "Unknown service code"))
)]
async fn service_definition(State(state): State<AppState>, Path(file): Path<String>, uri: Uri, headers: HeaderMap) -> Response {
    let pairs = query_pairs(&uri);
    let lang = lang_of(&pairs, &headers);
    let Some((code, format)) = Format::split(&file) else {
        return error(Format::Json, StatusCode::NOT_FOUND, words(lang, "请在路径末尾加 .json 或 .xml", "end the path with .json or .xml", "добавьте .json или .xml в конец пути"));
    };
    if wrong_jurisdiction(&state, &pairs) {
        return not_ours(format, lang);
    }
    match georeport::category(&state.catalog, code) {
        Some(category) => document(format, StatusCode::OK, "service_definition", &georeport::definition(category, lang)),
        None => error(format, StatusCode::NOT_FOUND, format!("service_code {code:?}: {}", words(lang, "不是本市的服务代码", "is not one of the city's services", "не услуга этого города"))),
    }
}

/// One request's status.
#[utoipa::path(
    get,
    path = "/open311/v2/requests/{file}",
    tag = "open311",
    params(("file" = String, Path, description = "`<service_request_id>.json` or `.xml`: the tracking number")),
    responses((status = 200, description = "A one-element array", content_type = "application/json"), (status = 404, description = "Unknown id"))
)]
async fn service_request(State(state): State<AppState>, Path(file): Path<String>, uri: Uri, headers: HeaderMap) -> Response {
    let pairs = query_pairs(&uri);
    let lang = lang_of(&pairs, &headers);
    let Some((id, format)) = Format::split(&file) else {
        return error(Format::Json, StatusCode::NOT_FOUND, words(lang, "请在路径末尾加 .json 或 .xml", "end the path with .json or .xml", "добавьте .json или .xml в конец пути"));
    };
    if wrong_jurisdiction(&state, &pairs) {
        return not_ours(format, lang);
    }
    match state.store.listed_by_number(&[tracking::normalize(id)]).await {
        Ok(found) if !found.is_empty() => document(format, StatusCode::OK, "service_requests", &Value::Array(found.iter().map(|report| request_row(&state, report, lang)).collect())),
        Ok(_) => error(format, StatusCode::NOT_FOUND, format!("service_request_id {id:?}: {}", words(lang, "没有这个编号", "no request has this id", "заявки с таким номером нет"))),
        Err(failure) => store_failure(format, failure.into(), lang),
    }
}

fn store_failure(format: Format, failure: ApiError, lang: Lang) -> Response {
    error(format, failure.status(), failure.problem(lang).detail)
}

/// Reads an Open311 time filter: ISO 8601, or a plain date (its start in UTC).
fn time_ms(text: &str) -> Option<i64> {
    let text = text.trim();
    let full = if text.len() == 10 { format!("{text}T00:00:00Z") } else { text.to_owned() };
    let time = humantime::parse_rfc3339_weak(&full).ok()?;
    Some(time.duration_since(std::time::UNIX_EPOCH).ok()?.as_millis() as i64)
}

/// The city's requests: by id, or by service, dates and status.
#[utoipa::path(
    get,
    path = "/open311/v2/requests.json",
    tag = "open311",
    params(
        ("service_request_id" = Option<String>, Query, description = "Tracking numbers, comma-separated (overrides the other filters)"),
        ("service_code" = Option<String>, Query, description = "One service"),
        ("start_date" = Option<String>, Query, description = "ISO 8601; default 90 days before end_date"),
        ("end_date" = Option<String>, Query, description = "ISO 8601; default now"),
        ("status" = Option<String>, Query, description = "open or closed"),
    ),
    responses((status = 200, description = "GeoReport v2 service requests, newest first, at most 1000 (also `.xml`)", content_type = "application/json"), (status = 400, description = "An invalid filter, named"))
)]
async fn list_requests(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    let (format, pairs) = (format_of(&uri), query_pairs(&uri));
    let lang = lang_of(&pairs, &headers);
    if wrong_jurisdiction(&state, &pairs) {
        return not_ours(format, lang);
    }
    let found = if let Some(numbers) = first(&pairs, "service_request_id") {
        let numbers: Vec<String> = numbers.split(',').map(tracking::normalize).filter(|number| !number.is_empty()).take(IDS_MAX).collect();
        state.store.listed_by_number(&numbers).await
    } else {
        let mut problems = Vec::new();
        let mut read = |name: &str| match first(&pairs, name) {
            Some(text) => time_ms(text).map(Some).unwrap_or_else(|| {
                problems.push(GeoError { code: 400, description: format!("{name}: {}", words(lang, "需要 ISO 8601 时间", "needs an ISO 8601 date or time", "нужна дата ISO 8601")) });
                None
            }),
            None => None,
        };
        let (start, end) = (read("start_date"), read("end_date"));
        // `service_code` and `status` may each name several, comma-separated.
        let mut categories = Vec::new();
        for code in first(&pairs, "service_code").unwrap_or_default().split(',').map(str::trim).filter(|code| !code.is_empty()) {
            match georeport::category(&state.catalog, code) {
                Some(category) => categories.push(Some(category.code.clone())),
                None => problems
                    .push(GeoError {
                        code: 400, description: format!("service_code {code:?}: {}", words(lang, "不是本市的服务代码", "is not one of the city's services", "не услуга этого города"))
                    }),
            }
        }
        if categories.is_empty() {
            categories.push(None);
        }
        let statuses: Vec<&str> = first(&pairs, "status").unwrap_or_default().split(',').map(str::trim).filter(|status| !status.is_empty()).collect();
        if statuses.iter().any(|status| !matches!(*status, "open" | "closed")) {
            problems.push(GeoError { code: 400, description: format!("status: {}", words(lang, "只能是 open 或 closed", "is open or closed", "это open или closed")) });
        }
        let open = match (statuses.contains(&"open"), statuses.contains(&"closed")) {
            (true, false) => Some(true),
            (false, true) => Some(false),
            _ => None,
        };
        if !problems.is_empty() {
            return errors(format, StatusCode::BAD_REQUEST, problems);
        }
        let until_ms = end.unwrap_or_else(ids::now_ms);
        let since_ms = start.unwrap_or(until_ms - LIST_DAYS * 86_400_000);
        let mut found = Vec::new();
        for category in categories {
            match state.store.listed(&ListFilter { since_ms, until_ms, category, open, limit: LIST_MAX }).await {
                Ok(rows) => found.extend(rows),
                Err(failure) => return store_failure(format, failure.into(), lang),
            }
        }
        found.sort_by_key(|report| std::cmp::Reverse(report.created_ms));
        found.truncate(LIST_MAX);
        Ok(found)
    };
    match found {
        Ok(found) => document(format, StatusCode::OK, "service_requests", &Value::Array(found.iter().map(|report| request_row(&state, report, lang)).collect())),
        Err(failure) => store_failure(format, failure.into(), lang),
    }
}

/// A stored report as a GeoReport service request. Contact details never appear; the
/// description, address, photo and exact position only with `open311.public_details`
/// (else the position is rounded to a 100 m grid).
fn request_row(state: &AppState, report: &ListedReport, lang: Lang) -> Value {
    let category = state.catalog.category(&report.category);
    let public = state.config.open311.public_details;
    let location = report.report.location.clone().unwrap_or_default();
    let position = location.lat.zip(location.lon).map(|(lat, lon)| if public { (lat, lon) } else { crate::geo::snap_to_grid(lat, lon, 100.0) });
    let photo = report.photo.as_deref().filter(|_| public).map(|sha| state.photo_links.url(sha, (ids::now_ms() / 1000) as u64));
    let open = georeport::open_or_closed(report.status) == "open";
    json!({
        "service_request_id": report.tracking_no,
        "status": georeport::open_or_closed(report.status),
        "status_notes": report.notes,
        "service_name": category.map(|category| category.name.get(lang)),
        "service_code": category.map_or(report.category.as_str(), georeport::service_code),
        "description": public.then_some(report.report.description.as_str()),
        "agency_responsible": state.catalog.department(&report.department).map_or(report.department.as_str(), |department| department.name.get(lang)),
        "service_notice": Value::Null,
        "requested_datetime": ids::rfc3339(report.created_ms),
        "updated_datetime": report.updated_ms.map(ids::rfc3339),
        "expected_datetime": report.due_ms.filter(|_| open).map(ids::rfc3339),
        "address": location.address.filter(|_| public),
        "address_id": Value::Null,
        "zipcode": Value::Null,
        "lat": position.map(|(lat, _)| lat),
        "long": position.map(|(_, lon)| lon),
        "media_url": photo.or_else(|| report.report.media_url.clone().filter(|_| public)),
    })
}

/// Files a report from an app's form (urlencoded or multipart with a `media` photo).
#[utoipa::path(
    post,
    path = "/open311/v2/requests.json",
    tag = "open311",
    request_body(content_type = "application/x-www-form-urlencoded", description = "`api_key`, `service_code`, `lat`+`long` or `address_string`, `attribute[CODE]` (repeated `attribute[CODE][]` for lists), `description`, `first_name`, `last_name`, `phone`, `media_url`, `account_id`; or multipart with a `media` photo. Optional `Idempotency-Key` header."),
    responses(
        (status = 201, description = "`[{service_request_id, service_notice, account_id}]`; the id is the tracking number", content_type = "application/json"),
        (status = 400, description = "Missing or invalid fields, each named", content_type = "application/json"),
        (status = 403, description = "Missing or unknown api_key", content_type = "application/json"),
    )
)]
async fn file_request(State(state): State<AppState>, uri: Uri, headers: HeaderMap, request: Request) -> Response {
    let format = format_of(&uri);
    let query = query_pairs(&uri);
    let multipart = headers.get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok()).is_some_and(|value| value.starts_with("multipart/form-data"));
    let mut lang = lang_of(&query, &headers);
    let (mut fields, media, request_hash) = if multipart {
        let multipart = match Multipart::from_request(request, &state).await {
            Ok(multipart) => multipart,
            Err(_) => return error(format, StatusCode::BAD_REQUEST, words(lang, "multipart 请求体无效", "the multipart body is broken", "тело multipart повреждено")),
        };
        match intake::read_form(multipart, &state.config.limits, &intake::spool_dir(&state.config.data_dir)).await {
            Ok(parts) => (parts.fields, parts.media, parts.request_hash),
            Err(failure) => return store_failure(format, failure.into(), lang),
        }
    } else {
        let body = match Bytes::from_request(request, &state).await {
            Ok(body) if body.len() <= state.config.limits.json_bytes => body,
            _ => return error(format, StatusCode::PAYLOAD_TOO_LARGE, words(lang, "表单太大", "the form is too large", "форма слишком большая")),
        };
        let hash = ids::hex(&<sha2::Sha256 as sha2::Digest>::digest(&body));
        (form_urlencoded::parse(&body).into_owned().collect(), None, hash)
    };
    // `api_key` and `jurisdiction_id` may come in the query string as well as the body.
    fields.extend(query.iter().filter(|(key, _)| key == "api_key" || key == "jurisdiction_id").cloned());
    if first(&fields, "locale").and_then(Lang::from_tag).is_some() {
        lang = lang_of(&fields, &headers);
    }
    if wrong_jurisdiction(&state, &fields) {
        return not_ours(format, lang);
    }
    let Some(key) = first(&fields, "api_key") else {
        return error(format, StatusCode::FORBIDDEN, words(lang, "缺少 api_key", "api_key is missing", "нет api_key"));
    };
    let Some((app, limiter)) = state.open311.find(key) else {
        return error(format, StatusCode::FORBIDDEN, words(lang, "api_key 无效", "api_key is not valid", "api_key недействителен"));
    };
    if let Err(retry_after) = limiter.take(IpAddr::from([0, 0, 0, 0])) {
        let mut response = error(
            format,
            StatusCode::TOO_MANY_REQUESTS,
            words(lang, "提交过于频繁，请稍后重试", "too many requests from this app; try again later", "слишком много заявок от приложения; повторите позже"),
        );
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
        return response;
    }
    let (report, extras) = match georeport::submission(&state.catalog, &fields, app.contact_consent, lang) {
        Ok(converted) => converted,
        Err(problems) => return errors(format, StatusCode::BAD_REQUEST, problems),
    };
    let key = headers.get("idempotency-key").and_then(|value| value.to_str().ok()).map(str::trim).filter(|key| !key.is_empty() && key.len() <= 255).map_or_else(ids::new_report_id, str::to_owned);
    let outcome = submit(&state, &key, report, media, request_hash, &app.name, &mut lang).await;
    match outcome {
        Ok((created, receipt)) => {
            let category = fields.iter().find(|(name, _)| name == "service_code").and_then(|(_, code)| georeport::category(&state.catalog, code.trim()));
            let notice = notice(category.map_or(0, |category| category.time_limit_hours), &extras, lang);
            let answer = json!([{ "service_request_id": receipt.tracking_no, "service_notice": notice, "account_id": extras.account_id }]);
            document(format, if created { StatusCode::CREATED } else { StatusCode::OK }, "service_requests", &answer)
        }
        Err(SubmissionError::Invalid(problems)) => errors(format, StatusCode::BAD_REQUEST, georeport::validation_errors(&problems, lang)),
        Err(other) => {
            let failure: ApiError = other.into();
            let status = if failure.status() == StatusCode::UNPROCESSABLE_ENTITY { StatusCode::BAD_REQUEST } else { failure.status() };
            error(format, status, failure.problem(lang).detail)
        }
    }
}

/// Hands the report to the one intake; `true` when it was stored now (not a retry).
async fn submit(
    state: &AppState,
    key: &str,
    report: ReportSubmission,
    media: Option<intake::Upload>,
    request_hash: String,
    app: &str,
    lang: &mut Lang,
) -> Result<(bool, lianxin_contract::Receipt), SubmissionError> {
    let claim = state.submissions.claim(key)?;
    let report_json = serde_json::to_vec(&report).map_err(|error| SubmissionError::Store(error.into()))?;
    let intake = Intake { report_json, photos: media.into_iter().collect(), request_hash };
    match state.submissions.submit(&claim, intake, None, Some(app.to_owned()), lang).await? {
        Accepted::Created(receipt) => Ok((true, receipt)),
        Accepted::Repeated(receipt) => Ok((false, receipt)),
    }
}

/// What the app tells its user after filing: when to expect an answer, and what was not kept.
fn notice(limit_hours: u32, extras: &georeport::RequestExtras, lang: Lang) -> String {
    let mut notice = match lang {
        Lang::ZhCn => format!("已受理，承办部门将在 {limit_hours} 小时内答复。"),
        Lang::En => format!("Received; the department answers within {limit_hours} hours."),
        Lang::Ru => format!("Принято; ведомство ответит в течение {limit_hours} ч."),
    };
    if extras.contact_dropped {
        notice += &words(
            lang,
            "该应用未征得联系方式授权，联系方式未保存。",
            " Contact details were not kept: this app does not ask for consent to pass them on.",
            " Контакты не сохранены: приложение не запрашивает согласие на их передачу.",
        );
    }
    if extras.email_dropped {
        notice += &words(lang, "不保存电子邮箱。", " E-mail addresses are not kept.", " Адреса e-mail не сохраняются.");
    }
    notice
}
