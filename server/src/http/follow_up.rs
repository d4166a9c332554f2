//! The resident's way back, as the API and as plain pages:
//!
//! - `POST /api/v1/reports/{tracking_no}/answer` — the resident's answer (JSON), for the
//!   page's script that keeps an answer made offline and sends it once.
//! - `GET /r/{tracking_no}[?k=secret][&lang=]` — the progress page, server-rendered HTML that
//!   opens at once from a link in a chat and needs no WebAssembly: department, due time,
//!   replies, timetable, supervision; with the secret, the "solved?" form once resolved.
//! - `POST /r/{tracking_no}` — the form without script (answered 303 back to the page).
//! - `GET /r/mine?r=T.k,…` — the reports the widget kept on this phone, with their status.
//! - `POST /api/v1/reports/{tracking_no}/support` — "this is my problem too", once per phone.
//! - `GET /r/nearby?category=&lat=&lon=` — "is it one of these?": open reports of the
//!   category nearby, each with the "this is my problem too" button (`POST
//!   /r/{tracking_no}/support` without script); words and photos only of reports filed as
//!   public.
//!
//! The words of these pages live in [`crate::http::page_words`].

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use lianxin_contract::follow_up::{Reason, ResidentAnswer, Satisfaction, Support};
use lianxin_contract::report::{ReportStatus, Status, Step};
use lianxin_contract::{Lang, Rule, ValidationError};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::extract::{ApiJson, RequestLang};
use super::page_words::{self as words, Word};
use crate::error::{ApiError, WordedError};
use crate::ids;
use crate::lifecycle::Outcome;
use crate::tracking;

/// Reports a "my reports" page lists at most.
const MINE_MAX: usize = 30;
/// Largest form body of an answer.
const FORM_MAX: usize = 16 * 1024;

/// The page's style sheet (the CSP allows no inline style).
const PAGE_CSS: &str = include_str!("follow_up.css");
/// The page's script: keeps an answer made offline on the phone and sends it once.
const PAGE_JS: &str = include_str!("follow_up.js");

/// The follow-up routes (the support form takes a photo, within the report body limit).
pub fn router(config: &crate::config::Config) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(answer))
        .routes(routes!(support))
        .route("/r/nearby", axum::routing::get(nearby))
        .route("/r/{tracking_no}/support", axum::routing::post(support_form).layer(axum::extract::DefaultBodyLimit::max(config.limits.body_bytes)))
        .route("/r/page.css", axum::routing::get(|| async { asset(PAGE_CSS, "text/css; charset=utf-8") }))
        .route("/r/answer.js", axum::routing::get(|| async { asset(PAGE_JS, "text/javascript; charset=utf-8") }))
        .route("/r/mine", axum::routing::get(mine))
        .route("/r/{tracking_no}", axum::routing::get(page).post(form))
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "public, max-age=3600")], body).into_response()
}

/// The resident's answer to a resolution: solved or not, the rating, reasons, a comment.
#[utoipa::path(
    post,
    path = "/api/v1/reports/{tracking_no}/answer",
    tag = "reports",
    params(("tracking_no" = String, Path, description = "The tracking number from the receipt")),
    request_body(content_type = "application/json", description = "`{secret, answer_id, solved, rating, reasons[], comment}`; `rating` one of very_satisfied, satisfied, basically_satisfied, dissatisfied, very_dissatisfied; a comment is required when not solved. Sending the same `answer_id` again changes nothing."),
    responses(
        (status = 200, description = "Recorded (`recorded: false` for a repeat); the report's status after it", content_type = "application/json"),
        (status = 403, description = "Wrong follow-up secret", content_type = "application/problem+json"),
        (status = 404, description = "No report with this number", content_type = "application/problem+json"),
        (status = 409, description = "Not resolved, or this resolution was answered already", content_type = "application/problem+json"),
        (status = 422, description = "Invalid answer (a comment is needed when not solved)", content_type = "application/problem+json"),
    )
)]
async fn answer(State(state): State<AppState>, Path(tracking_no): Path<String>, RequestLang(lang): RequestLang, body: Result<ApiJson<ResidentAnswer>, WordedError>) -> Response {
    let tracking_no = tracking::normalize(&tracking_no);
    let result = async {
        let ApiJson(answer) = body.map_err(|WordedError(error, _)| error)?;
        let outcome = state.follow_up.answer(&tracking_no, answer).await?;
        let status = state.store.status(&tracking_no, state.follow_up.settings().answer_window_ms()).await?.ok_or(ApiError::NotFound)?;
        Ok::<_, ApiError>(serde_json::json!({ "recorded": matches!(outcome, Outcome::Changed(_)), "status": status.status }))
    }
    .await;
    match result {
        Ok(body) => Json(body).into_response(),
        Err(error) => WordedError(error, lang).into_response(),
    }
}

/// "Is it one of these?" looks as far as the category's class radius, but never further.
const NEARBY_MAX_RADIUS_M: f64 = 1000.0;
/// And shows at most this many.
const NEARBY_SHOWN: usize = 10;

/// "This is my problem too": the phone's support for an open report.
#[utoipa::path(
    post,
    path = "/api/v1/reports/{tracking_no}/support",
    tag = "reports",
    params(("tracking_no" = String, Path, description = "The report supported")),
    request_body(content_type = "application/json", description = "`{device_id, comment?}`: a random id the phone keeps (a phone supports a report once); the comment goes to the department only"),
    responses(
        (status = 200, description = "`{recorded, supporters}` (`recorded: false` when this phone supported it before)", content_type = "application/json"),
        (status = 404, description = "No report with this number", content_type = "application/problem+json"),
        (status = 409, description = "The report is resolved or finished", content_type = "application/problem+json"),
        (status = 422, description = "Invalid support", content_type = "application/problem+json"),
    )
)]
async fn support(State(state): State<AppState>, Path(tracking_no): Path<String>, RequestLang(lang): RequestLang, body: Result<ApiJson<Support>, WordedError>) -> Response {
    let tracking_no = tracking::normalize(&tracking_no);
    let result = async {
        let ApiJson(support) = body.map_err(|WordedError(error, _)| error)?;
        let (outcome, supporters) = state.follow_up.support(&tracking_no, support, None).await?;
        Ok::<_, ApiError>(serde_json::json!({ "recorded": matches!(outcome, Outcome::Changed(_)), "supporters": supporters }))
    }
    .await;
    match result {
        Ok(body) => Json(body).into_response(),
        Err(error) => WordedError(error, lang).into_response(),
    }
}

/// The support form (multipart when it carries a photo, `media`; plain otherwise): recorded,
/// then on to the supported report's page.
async fn support_form(State(state): State<AppState>, Path(tracking_no): Path<String>, headers: HeaderMap, uri: axum::http::Uri, request: axum::extract::Request) -> Response {
    use axum::extract::FromRequest;
    let lang = page_lang(&query_of(&uri), &headers);
    let multipart = headers.get(axum::http::header::CONTENT_TYPE).and_then(|value| value.to_str().ok()).is_some_and(|value| value.starts_with("multipart/form-data"));
    let (fields, photo) = if multipart {
        let parts = match axum::extract::Multipart::from_request(request, &state).await {
            Ok(multipart) => crate::intake::read_form(multipart, &state.config.limits, &crate::intake::spool_dir(&state.config.data_dir)).await,
            Err(_) => Err(crate::intake::IntakeError::Broken),
        };
        match parts {
            Ok(parts) => (parts.fields, parts.media),
            Err(error) => return WordedError(error.into(), lang).into_response(),
        }
    } else {
        match Bytes::from_request(request, &state).await {
            Ok(body) if body.len() <= FORM_MAX => (form_urlencoded::parse(&body).into_owned().collect(), None),
            _ => return WordedError(ApiError::TooLarge { limit: "form_bytes", max: FORM_MAX as u64 }, lang).into_response(),
        }
    };
    let mut support = Support { device_id: String::new(), comment: String::new() };
    for (key, value) in fields {
        match key.as_ref() {
            "device_id" => support.device_id = value,
            "comment" => support.comment = value,
            _ => {}
        }
    }
    let tracking_no = tracking::normalize(&tracking_no);
    match state.follow_up.support(&tracking_no, support, photo).await {
        Ok(_) => Redirect::to(&format!("/r/{tracking_no}?lang={}", lang.tag())).into_response(),
        Err(error) => {
            let error = ApiError::from(error);
            let problem = error.problem(lang);
            render(&state, &tracking_no, "", lang, Some((problem.title, problem.detail)), error.status()).await
        }
    }
}

/// "Is it one of these?": the open reports of a category near a point.
async fn nearby(State(state): State<AppState>, headers: HeaderMap, uri: axum::http::Uri) -> Response {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes()).into_owned().collect();
    let get = |name: &str| pairs.iter().find(|(key, _)| key == name).map(|(_, value)| value.trim().to_owned());
    let lang = get("lang").as_deref().and_then(Lang::from_tag).unwrap_or_else(|| super::request_lang(&headers));
    let category = get("category").and_then(|code| state.catalog.category(&code).cloned());
    let point = get("lat").and_then(|lat| lat.parse::<f64>().ok()).zip(get("lon").and_then(|lon| lon.parse::<f64>().ok())).filter(|(lat, lon)| lianxin_contract::validate::is_on_earth(*lat, *lon));
    let title = words::get(Word::NearbyTitle, lang);
    let (Some(category), Some((lat, lon))) = (category, point) else {
        let body = format!("<h1>{}</h1><p class=\"error\" role=\"alert\">{}</p>", escape(&title), escape(&ApiError::NotFound.problem(lang).detail));
        return html(StatusCode::NOT_FOUND, &document(&state.catalog, lang, &title, &body, ""));
    };
    // Looked for around the centre of the point's 50 m grid cell: moving the point cannot
    // pin a report down finer than that.
    let (lat, lon) = crate::geo::snap_to_grid(lat, lon, 50.0);
    // The category's class radius (FixMyStreet's 250 m by default), at most a kilometre.
    let radius_m = state.class_rules.effective(&category.code).radius_m.min(NEARBY_MAX_RADIUS_M);
    let found = match state.store.nearby_reports(&category.code, lat, lon, radius_m, NEARBY_SHOWN).await {
        Ok(found) => found,
        Err(error) => return WordedError(error.into(), lang).into_response(),
    };
    let now = ids::now_ms();
    let mut body = format!("<h1>{}</h1><p>{}</p>", escape(&title), escape(&words::get(Word::NearbyIntro, lang)));
    if found.is_empty() {
        body += &format!("<p id=\"nearby-none\">{}</p>", escape(&words::get(Word::NearbyNone, lang)));
    } else {
        body += "<ol class=\"nearby\" id=\"nearby-list\">";
        for report in &found {
            let metres = ((report.distance_m / 50.0).round() as u32 * 50).max(50);
            let days = (now - report.created_ms) / 86_400_000;
            let t = escape(&report.tracking_no);
            body += &format!(
                "<li class=\"nearby-report\" id=\"nearby-{t}\"><p><strong>{}</strong> · {} · {}</p>",
                escape(category.name.get(lang)),
                escape(&words::distance_and_age(metres, days, lang)),
                escape(&words::status_name(report.status, lang))
            );
            if report.report.public {
                body += &format!("<blockquote class=\"words\">{}</blockquote>", escape(&report.report.description));
                if let Some(sha) = &report.photo {
                    let link = state.photo_links.url(sha, (now / 1000) as u64);
                    body += &format!("<img class=\"thumb\" src=\"{}&amp;size=thumb\" alt=\"\" width=\"160\">", escape(&link));
                }
            }
            if let Some(reply) = &report.reply {
                body += &format!("<p>{} {}</p>", escape(&words::get(Word::DepartmentReply, lang)), escape(reply));
            }
            if report.supporters > 0 {
                body += &format!("<p class=\"supporters\">{}</p>", escape(&words::supporters(report.supporters, lang)));
            }
            body += &format!(
                "<form method=\"post\" action=\"/r/{t}/support?lang={tag}\" enctype=\"multipart/form-data\" class=\"support\" data-tracking=\"{t}\" data-lang=\"{tag}\"><input type=\"hidden\" name=\"device_id\" value=\"{}\">\
                 <label for=\"comment-{t}\">{}</label><textarea id=\"comment-{t}\" name=\"comment\" maxlength=\"{}\" rows=\"2\"></textarea>\
                 <label for=\"photo-{t}\">{}</label><input type=\"file\" id=\"photo-{t}\" name=\"media\" accept=\"image/*\">\
                 <p class=\"queued\" hidden role=\"status\">{}</p><p class=\"offline\" hidden role=\"alert\">{}</p><button type=\"submit\" id=\"support-{t}\">{}</button></form></li>",
                uuid::Uuid::new_v4(),
                escape(&words::get(Word::MeTooComment, lang)),
                crate::follow_up::COMMENT_MAX,
                escape(&words::get(Word::MeTooPhoto, lang)),
                escape(&words::get(Word::SupportQueued, lang)),
                escape(&words::get(Word::SupportPhotoOffline, lang)),
                escape(&words::get(Word::MeToo, lang)),
                tag = lang.tag(),
            );
        }
        body += "</ol>";
    }
    body += &format!("<p><a id=\"file-new\" href=\"/?lang={}&amp;category={}\">{}</a></p>", lang.tag(), escape(&category.code), escape(&words::get(Word::FileNewAnyway, lang)));
    html(StatusCode::OK, &document(&state.catalog, lang, &title, &body, ""))
}

#[derive(Debug, Default)]
struct PageQuery {
    k: String,
    lang: Option<String>,
    /// `mine`: `T.k` pairs, comma-separated.
    r: String,
}

fn page_lang(query: &PageQuery, headers: &HeaderMap) -> Lang {
    query.lang.as_deref().and_then(Lang::from_tag).unwrap_or_else(|| super::request_lang(headers))
}

/// Reads the page's query by hand: a malformed query shows the page without it, never an
/// error page.
fn query_of(uri: &axum::http::Uri) -> PageQuery {
    let mut parsed = PageQuery::default();
    for (key, value) in form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes()) {
        match key.as_ref() {
            "k" => parsed.k = value.into_owned(),
            "lang" => parsed.lang = Some(value.into_owned()),
            "r" => parsed.r = value.into_owned(),
            _ => {}
        }
    }
    parsed
}

async fn page(State(state): State<AppState>, Path(tracking_no): Path<String>, headers: HeaderMap, uri: axum::http::Uri) -> Response {
    let query = query_of(&uri);
    let lang = page_lang(&query, &headers);
    render(&state, &tracking_no, &query.k, lang, None, StatusCode::OK).await
}

/// Renders the progress page of `tracking_no`; `problem` is a refused answer to show.
async fn render(state: &AppState, tracking_no: &str, secret: &str, lang: Lang, problem: Option<(String, String)>, code: StatusCode) -> Response {
    let tracking_no = tracking::normalize(tracking_no);
    let window = state.follow_up.settings().answer_window_ms();
    let status = match state.store.status(&tracking_no, window).await {
        Ok(Some(status)) => status,
        Ok(None) => return html(StatusCode::NOT_FOUND, &document(&state.catalog, lang, &words::get(Word::NotFoundTitle, lang), &format!("<p>{}</p>", escape(&words::get(Word::NotFound, lang))), "")),
        Err(error) => return WordedError(error.into(), lang).into_response(),
    };
    let owner = match state.store.report_id(&tracking_no).await {
        Ok(Some(id)) if !secret.is_empty() => state.follow_up.secret_matches(&id, secret),
        _ => false,
    };
    // A refused answer from someone without the right secret shows above the page (the
    // form, where it would otherwise show, is the filer's only).
    let (problem, refused) = match problem {
        Some((title, detail)) if !owner => (None, format!("<div class=\"error\" role=\"alert\" id=\"answer-error\"><strong>{}</strong> {}</div>", escape(&title), escape(&detail))),
        other => (other, String::new()),
    };
    let body = refused + &progress(state, &status, lang, owner.then_some(secret), problem);
    let alternates = ["zh-CN", "en", "ru"]
        .iter()
        .map(|tag| {
            let key = if owner { format!("k={}&", escape(secret)) } else { String::new() };
            format!("<a href=\"/r/{}?{key}lang={tag}\" hreflang=\"{tag}\" lang=\"{tag}\">{}</a>", escape(&tracking_no), words::language_name(tag))
        })
        .collect::<Vec<_>>()
        .join(" · ");
    let title = format!("{} {}", words::get(Word::PageTitle, lang), tracking_no);
    html(code, &document(&state.catalog, lang, &title, &body, &alternates))
}

/// The page's main content.
fn progress(state: &AppState, status: &ReportStatus, lang: Lang, secret: Option<&str>, problem: Option<(String, String)>) -> String {
    let mut out = String::new();
    let department = state.catalog.department(&status.department).map_or(status.department.clone(), |department| department.name.get(lang).to_owned());
    let category = state.catalog.category(&status.category).map_or(status.category.clone(), |category| category.name.get(lang).to_owned());
    out += &format!("<h1>{} <span id=\"tracking-no\">{}</span></h1>", escape(&words::get(Word::PageTitle, lang)), escape(&status.tracking_no));
    out += &format!("<p class=\"category\">{}</p>", escape(&category));
    out += &format!("<p id=\"current-status\" class=\"status status-{}\" role=\"status\">{}</p>", wire(status.status), escape(&words::status_sentence(status, lang)));
    out += "<dl>";
    out += &format!("<dt>{}</dt><dd id=\"department\">{}</dd>", escape(&words::get(Word::Department, lang)), escape(&department));
    if let Some(due) = &status.due_at {
        out += &format!("<dt>{}</dt><dd id=\"due-at\">{}</dd>", escape(&words::get(Word::DueAt, lang)), time(due, lang));
    }
    if status.handlings > 0 {
        out += &format!("<dt>{}</dt><dd id=\"handlings\">{}</dd>", escape(&words::get(Word::Handlings, lang)), escape(&words::handlings(status.handlings, lang)));
    }
    out += "</dl>";
    if let Some(supervision) = &status.supervision {
        let office = state.catalog.department(&supervision.department).map_or(supervision.department.clone(), |department| department.name.get(lang).to_owned());
        out += &format!(
            "<p id=\"supervision\" class=\"supervision\" role=\"note\">{} <time datetime=\"{}\">{}</time></p>",
            escape(&words::supervision(supervision.reason, &office, lang)),
            escape(&supervision.at),
            time(&supervision.at, lang)
        );
    }
    if status.class_size >= state.class_rules.effective(&status.category).threshold {
        out += &format!("<p id=\"class\" class=\"note\">{}</p>", escape(&words::together_with(status.class_size - 1, lang)));
    }
    if status.supporters > 0 {
        out += &format!("<p id=\"supporters\" class=\"note\">{}</p>", escape(&words::supporters(status.supporters, lang)));
    }
    if let Some(other) = &status.duplicate_of {
        out += &format!("<p id=\"duplicate-of\">{} <a href=\"/r/{}?lang={}\">{}</a></p>", escape(&words::get(Word::MergedInto, lang)), escape(other), lang.tag(), escape(other));
    }
    if status.status == Status::Resolved {
        out += &answer_section(status, lang, secret, problem);
    }
    out += &format!("<h2>{}</h2><ol class=\"timeline\" id=\"timeline\">", escape(&words::get(Word::Timeline, lang)));
    for event in &status.timeline {
        out += &format!("<li class=\"step-{}\"><strong>{}</strong> · {}", wire(event.step), escape(&words::step(event.step, lang)), time(&event.at, lang));
        if let Some(planned) = &event.planned_for {
            out += &format!("<p class=\"planned\">{} {}</p>", escape(&words::get(Word::PlannedFor, lang)), escape(planned));
        }
        if let Some(code) = event.department.as_ref().filter(|_| event.step == Step::Transferred) {
            let name = state.catalog.department(code).map_or(code.clone(), |department| department.name.get(lang).to_owned());
            out += &format!("<p>{} {}</p>", escape(&words::get(Word::TransferredTo, lang)), escape(&name));
        }
        if let Some(due) = event.due_at.as_ref().filter(|_| event.step == Step::DueChanged) {
            out += &format!("<p>{} {}</p>", escape(&words::get(Word::NewDueAt, lang)), time(due, lang));
        }
        if let Some(answer) = &event.answer {
            out += &format!("<p class=\"answer\">{}</p>", escape(&words::answer_line(answer, lang)));
        }
        if let Some(message) = &event.message {
            out += &format!("<blockquote>{}</blockquote>", escape(message));
        }
        out += "</li>";
    }
    out += "</ol>";
    out
}

/// The "solved?" form for the holder of the secret, or a note for anyone else.
fn answer_section(status: &ReportStatus, lang: Lang, secret: Option<&str>, problem: Option<(String, String)>) -> String {
    let until = status.answer_until.as_deref().map(|until| time(until, lang)).unwrap_or_default();
    let Some(secret) = secret else {
        return format!("<p class=\"note\" id=\"answer-note\">{}</p>", escape(&words::get(Word::OnlyFiler, lang)));
    };
    let mut out =
        format!("<form method=\"post\" action=\"/r/{}?lang={}\" id=\"answer-form\" class=\"answer\" data-tracking=\"{}\">", escape(&status.tracking_no), lang.tag(), escape(&status.tracking_no));
    out += &format!("<h2>{}</h2>", escape(&words::get(Word::AnswerTitle, lang)));
    if let Some((title, detail)) = problem {
        out += &format!("<div class=\"error\" role=\"alert\" id=\"answer-error\"><strong>{}</strong> {}</div>", escape(&title), escape(&detail));
    }
    out += &format!("<input type=\"hidden\" name=\"k\" value=\"{}\"><input type=\"hidden\" name=\"answer_id\" value=\"{}\">", escape(secret), uuid::Uuid::new_v4());
    out += &format!("<fieldset><legend>{}</legend>", escape(&words::get(Word::SolvedQuestion, lang)));
    for (value, word, id) in [("yes", Word::SolvedYes, "solved-yes"), ("no", Word::SolvedNo, "solved-no")] {
        out += &format!("<label for=\"{id}\"><input type=\"radio\" name=\"solved\" value=\"{value}\" id=\"{id}\" required> {}</label>", escape(&words::get(word, lang)));
    }
    out += "</fieldset>";
    out += &format!("<fieldset><legend>{}</legend>", escape(&words::get(Word::RatingQuestion, lang)));
    for level in Satisfaction::ALL {
        out += &format!("<label for=\"rating-{0}\"><input type=\"radio\" name=\"rating\" value=\"{0}\" id=\"rating-{0}\" required> {1}</label>", level.code(), escape(level.label(lang)));
    }
    out += "</fieldset>";
    out += &format!("<fieldset><legend>{}</legend>", escape(&words::get(Word::ReasonsQuestion, lang)));
    for reason in Reason::ALL {
        out += &format!("<label for=\"reason-{0}\"><input type=\"checkbox\" name=\"reasons\" value=\"{0}\" id=\"reason-{0}\"> {1}</label>", reason.code(), escape(reason.label(lang)));
    }
    out += "</fieldset>";
    out += &format!(
        "<label for=\"comment\">{}</label><textarea id=\"comment\" name=\"comment\" maxlength=\"{}\" rows=\"4\" aria-describedby=\"comment-hint\"></textarea><p class=\"hint\" id=\"comment-hint\">{}</p>",
        escape(&words::get(Word::CommentLabel, lang)),
        crate::follow_up::COMMENT_MAX,
        escape(&words::get(Word::CommentHint, lang))
    );
    out += &format!("<p class=\"note\" id=\"answer-until\">{} {}</p>", escape(&words::get(Word::AnswerUntil, lang)), until);
    out += &format!("<p class=\"queued\" id=\"answer-queued\" hidden role=\"status\">{}</p>", escape(&words::get(Word::AnswerQueued, lang)));
    out += &format!("<button type=\"submit\" id=\"send-answer\">{}</button></form>", escape(&words::get(Word::SendAnswer, lang)));
    out
}

/// The answer form sent without script: recorded, then back to the page (303); a refusal
/// shows the page again with the reason.
async fn form(State(state): State<AppState>, Path(tracking_no): Path<String>, headers: HeaderMap, uri: axum::http::Uri, body: Bytes) -> Response {
    let query = query_of(&uri);
    let lang = page_lang(&query, &headers);
    if body.len() > FORM_MAX {
        return WordedError(ApiError::TooLarge { limit: "form_bytes", max: FORM_MAX as u64 }, lang).into_response();
    }
    let mut answer = ResidentAnswer { secret: String::new(), answer_id: String::new(), solved: false, rating: Satisfaction::Satisfied, reasons: Vec::new(), comment: String::new() };
    let (mut solved, mut rating) = (None, None);
    for (key, value) in form_urlencoded::parse(&body) {
        match key.as_ref() {
            "k" => answer.secret = value.into_owned(),
            "answer_id" => answer.answer_id = value.into_owned(),
            "solved" => solved = Some(value == "yes"),
            "rating" => rating = Satisfaction::from_code(&value),
            "reasons" => answer.reasons.extend(Reason::from_code(&value)),
            "comment" => answer.comment = value.into_owned(),
            _ => {}
        }
    }
    let secret = answer.secret.clone();
    let mut missing = Vec::new();
    match solved {
        Some(solved) => answer.solved = solved,
        None => missing.push(ValidationError::new("solved", Rule::Required)),
    }
    match rating {
        Some(rating) => answer.rating = rating,
        None => missing.push(ValidationError::new("rating", Rule::Required)),
    }
    let result = if missing.is_empty() { state.follow_up.answer(&tracking::normalize(&tracking_no), answer).await.map_err(ApiError::from) } else { Err(ApiError::Validation(missing)) };
    match result {
        Ok(_) => Redirect::to(&format!("/r/{}?k={}&lang={}", tracking::normalize(&tracking_no), secret, lang.tag())).into_response(),
        Err(error) => {
            let problem = error.problem(lang);
            render(&state, &tracking_no, &secret, lang, Some((problem.title, problem.detail)), error.status()).await
        }
    }
}

/// The reports this phone filed (the widget keeps `T.k` pairs), with their status.
async fn mine(State(state): State<AppState>, headers: HeaderMap, uri: axum::http::Uri) -> Response {
    let query = query_of(&uri);
    let lang = page_lang(&query, &headers);
    let window = state.follow_up.settings().answer_window_ms();
    let mut items = String::new();
    for pair in query.r.split(',').filter(|pair| !pair.is_empty()).take(MINE_MAX) {
        let (tracking_no, secret) = pair.split_once('.').unwrap_or((pair, ""));
        let tracking_no = tracking::normalize(tracking_no);
        let Ok(Some(status)) = state.store.status(&tracking_no, window).await else { continue };
        let category = state.catalog.category(&status.category).map_or(status.category.clone(), |category| category.name.get(lang).to_owned());
        let waiting = status.status == Status::Resolved;
        items += &format!(
            "<li{}><a href=\"/r/{}?k={}&amp;lang={}\">{}</a> · {} · <span class=\"status\">{}</span>{}</li>",
            if waiting { " class=\"waiting\"" } else { "" },
            escape(&tracking_no),
            escape(secret),
            lang.tag(),
            escape(&tracking_no),
            escape(&category),
            escape(&words::status_name(status.status, lang)),
            if waiting { format!(" <strong class=\"waiting-label\">{}</strong>", escape(&words::get(Word::WaitingForYou, lang))) } else { String::new() }
        );
    }
    let body = if items.is_empty() {
        format!("<h1>{}</h1><p>{}</p>", escape(&words::get(Word::MineTitle, lang)), escape(&words::get(Word::MineEmpty, lang)))
    } else {
        format!("<h1>{}</h1><ul class=\"mine\" id=\"mine\">{items}</ul>", escape(&words::get(Word::MineTitle, lang)))
    };
    html(StatusCode::OK, &document(&state.catalog, lang, &words::get(Word::MineTitle, lang), &body, ""))
}

fn html(code: StatusCode, page: &str) -> Response {
    let mut response = (code, page.to_owned()).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    // The page's address may hold the follow-up secret: never sent on as a referrer, never cached by others.
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    response
}

fn document(catalog: &lianxin_contract::Catalog, lang: Lang, title: &str, body: &str, alternates: &str) -> String {
    format!(
        "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><meta name=\"referrer\" content=\"no-referrer\">\
         <title>{}</title><link rel=\"stylesheet\" href=\"/r/page.css\"></head><body><main>{body}</main><footer><nav aria-label=\"{}\">{alternates}</nav><p>{}</p></footer>\
         <script src=\"/r/answer.js\" defer></script></body></html>",
        lang.tag(),
        escape(title),
        escape(&words::get(Word::Languages, lang)),
        escape(&words::hotline(lang, &catalog.hotline_abroad)),
    )
}

/// A time as the page shows it: in the city's time (UTC+8, as every Chinese city keeps),
/// `YYYY-MM-DD HH:MM`, with the zone named in the reader's language.
fn time(rfc3339: &str, lang: Lang) -> String {
    let Ok(time) = humantime::parse_rfc3339_weak(rfc3339) else { return escape(rfc3339) };
    let ms = time.duration_since(std::time::UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_millis() as i64) + 8 * 3_600_000;
    let local = ids::rfc3339(ms);
    format!("<time datetime=\"{}\">{} {} {}</time>", escape(rfc3339), &local[..10], &local[11..16], escape(&words::get(Word::CityTime, lang)))
}

fn wire<T: serde::Serialize>(value: T) -> String {
    serde_json::to_value(value).ok().and_then(|value| value.as_str().map(str::to_owned)).unwrap_or_default()
}

/// Text made safe for HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}
