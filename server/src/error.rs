//! The API's one error type. Every handler returns `Result<_, ApiError>`; each variant
//! knows its status code and words its message in the resident's language, and becomes an
//! RFC 9457 problem-details body. Server faults (5xx) are logged once here and never leak
//! internals to the client.
//!
//! Layering: modules below HTTP (`intake`, `photos`, `store`) have their own error enums;
//! handlers convert them into `ApiError` with `From`.

use crate::lifecycle::Refusal;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use lianxin_contract::i18n::{Plural, decimal, plural};
use lianxin_contract::problem::FieldProblem;
use lianxin_contract::{Lang, Problem, ValidationError};

use crate::photos::PhotoProblem;

/// Everything that can go wrong while answering a request.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The report breaks catalog rules.
    #[error("report is invalid")]
    Validation(Vec<ValidationError>),
    /// The request is malformed in a way the resident's app caused.
    #[error("bad request: {0:?}")]
    BadRequest(BadRequest),
    /// The request is over a configured limit.
    #[error("limit exceeded: {limit}")]
    TooLarge {
        /// The limit's name, as in the configuration.
        limit: &'static str,
        /// Its value.
        max: u64,
    },
    /// A photo is not a JPEG, PNG or WebP photo we can read.
    #[error("unsupported photo: {0:?}")]
    UnsupportedPhoto(PhotoProblem),
    /// The idempotency key was used before for a different report.
    #[error("idempotency key reused with a different body")]
    KeyReused,
    /// The same idempotency key is being processed right now.
    #[error("idempotency key in flight")]
    KeyInFlight,
    /// Nothing found.
    #[error("not found")]
    NotFound,
    /// The city has configured no map tiles.
    #[error("no map configured")]
    NoMap,
    /// The report's state does not allow this (an answer before a resolution, an event
    /// moving it backwards…).
    #[error("refused: {0}")]
    Refused(crate::lifecycle::Refusal),
    /// Missing or wrong credentials or signature.
    #[error("forbidden")]
    Forbidden,
    /// Too many reports from one client address.
    #[error("rate limited")]
    RateLimited {
        /// Seconds until the next report is accepted.
        retry_after: u64,
    },
    /// The server cannot take reports right now (store not writable).
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// A fault on our side.
    #[error("internal error: {0:#}")]
    Internal(#[from] anyhow::Error),
}

/// Malformed requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadRequest {
    /// No `Idempotency-Key` header.
    MissingIdempotencyKey,
    /// The key is not 1–255 visible ASCII characters.
    InvalidIdempotencyKey,
    /// The body is not multipart/form-data.
    NotMultipart,
    /// The multipart body is broken.
    BrokenMultipart,
    /// No `report` part.
    MissingReport,
    /// A part with an unexpected name.
    UnexpectedPart,
}

fn words(lang: Lang, zh: &str, en: &str, ru: &str) -> String {
    match lang {
        Lang::ZhCn => zh,
        Lang::En => en,
        Lang::Ru => ru,
    }
    .to_owned()
}

impl ApiError {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Validation(_) | ApiError::KeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedPhoto(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::KeyInFlight | ApiError::Refused(_) => StatusCode::CONFLICT,
            ApiError::NotFound | ApiError::NoMap => StatusCode::NOT_FOUND,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The problem type's short name, also the refusal reason in metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            ApiError::Validation(_) => "invalid-report",
            ApiError::BadRequest(BadRequest::MissingIdempotencyKey) => "missing-idempotency-key",
            ApiError::BadRequest(BadRequest::InvalidIdempotencyKey) => "invalid-idempotency-key",
            ApiError::BadRequest(BadRequest::NotMultipart) => "not-multipart",
            ApiError::BadRequest(BadRequest::BrokenMultipart) => "broken-upload",
            ApiError::BadRequest(BadRequest::MissingReport) => "missing-report-part",
            ApiError::BadRequest(BadRequest::UnexpectedPart) => "unexpected-part",
            ApiError::TooLarge { .. } => "limit-exceeded",
            ApiError::UnsupportedPhoto(_) => "unsupported-photo",
            ApiError::KeyReused => "idempotency-key-reused",
            ApiError::KeyInFlight => "idempotency-key-in-flight",
            ApiError::NotFound => "not-found",
            ApiError::NoMap => "no-map",
            ApiError::Refused(Refusal::Backwards { .. }) => "moves-backwards",
            ApiError::Refused(Refusal::Final(_)) => "report-finished",
            ApiError::Refused(Refusal::NotResolved) => "not-resolved",
            ApiError::Refused(Refusal::AlreadyAnswered) => "already-answered",
            ApiError::Refused(Refusal::NotOpen(_)) => "not-open",
            ApiError::Refused(Refusal::NoSuchReport) => "not-found",
            ApiError::Forbidden => "forbidden",
            ApiError::RateLimited { .. } => "rate-limited",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Internal(_) => "internal",
        }
    }

    /// The problem-details body in `lang`.
    pub fn problem(&self, lang: Lang) -> Problem {
        let (title, detail) = self.words(lang);
        let errors = match self {
            ApiError::Validation(errors) => errors.iter().map(|error| FieldProblem { error: error.clone(), message: error.message(lang) }).collect(),
            _ => Vec::new(),
        };
        let limit = match self {
            ApiError::TooLarge { limit, max } => Some(lianxin_contract::problem::LimitExceeded { name: (*limit).to_owned(), max: *max }),
            _ => None,
        };
        Problem { kind: format!("urn:lianxin:problem:{}", self.kind()), title, status: self.status().as_u16(), detail, errors, limit }
    }

    fn words(&self, lang: Lang) -> (String, String) {
        match self {
            ApiError::Validation(errors) => (
                words(lang, "请检查填写内容", "Please check the form", "Проверьте форму"),
                // The messages only: which field each belongs to is in `errors` for the
                // widget, which shows each beside its field; a path is no word for a resident.
                errors.iter().map(|error| error.message(lang)).collect::<Vec<_>>().join(if lang == Lang::ZhCn { "；" } else { "; " }),
            ),
            ApiError::BadRequest(reason) => (words(lang, "请求无效", "Bad request", "Неверный запрос"), bad_request_words(*reason, lang)),
            ApiError::TooLarge { limit, max } => (words(lang, "内容太大", "Too large", "Слишком большой объём"), too_large_words(limit, *max, lang)),
            ApiError::UnsupportedPhoto(problem) => (
                words(lang, "无法识别的照片", "Unsupported photo", "Неподдерживаемое фото"),
                match problem {
                    PhotoProblem::Heic => words(
                        lang,
                        "暂不支持 HEIC 格式，请在相机设置中选择“兼容性最佳”或发送 JPEG 照片",
                        "HEIC photos are not supported; please send a JPEG (on iPhone: Settings → Camera → Formats → Most Compatible)",
                        "Формат HEIC не поддерживается; отправьте JPEG (на iPhone: Настройки → Камера → Форматы → Наиболее совместимый)",
                    ),
                    PhotoProblem::NotAPhoto => words(lang, "只接受 JPEG、PNG 或 WebP 照片", "Only JPEG, PNG or WebP photos are accepted", "Принимаются только фото JPEG, PNG или WebP"),
                    PhotoProblem::Corrupt => words(
                        lang,
                        "照片已损坏或不完整，请重新拍摄或选择",
                        "The photo is damaged or incomplete; take or choose it again",
                        "Фото повреждено или загружено не полностью; выберите его снова",
                    ),
                    PhotoProblem::NotPlain => words(
                        lang,
                        "文件中夹带了照片以外的数据，请发送普通照片（动态照片请先导出为静态图片）",
                        "The file carries data besides the photo; send a plain photo (save a motion photo as a still first)",
                        "Файл содержит данные помимо фото; отправьте обычное фото (живое фото сначала сохраните как снимок)",
                    ),
                },
            ),
            ApiError::KeyReused => (
                words(lang, "诉求已变更", "The report changed", "Обращение изменилось"),
                words(
                    lang,
                    "这份诉求在第一次发送后被修改过，请刷新页面后作为新诉求重新提交",
                    "This report changed since it was first sent; reload the page and send it as a new report",
                    "Это обращение изменилось после первой отправки; обновите страницу и отправьте его как новое",
                ),
            ),
            ApiError::KeyInFlight => (
                words(lang, "正在处理", "Already in progress", "Уже обрабатывается"),
                words(lang, "这份诉求正在提交中，请稍候再查看结果", "This report is being received right now; wait a moment and try again", "Это обращение сейчас принимается; подождите и повторите"),
            ),
            ApiError::NotFound => (
                words(lang, "未找到", "Not found", "Не найдено"),
                words(lang, "没有找到该编号，请核对后重试", "Nothing was found under this number; check it and try again", "По этому номеру ничего не найдено; проверьте его"),
            ),
            ApiError::NoMap => (
                words(lang, "暂无地图", "No map", "Карты нет"),
                words(
                    lang,
                    "本市尚未提供地图，请填写地址或选择区县",
                    "This city offers no map; type the address or choose the district instead",
                    "Город не подключил карту; укажите адрес или выберите район",
                ),
            ),
            ApiError::Refused(refusal) => (
                words(lang, "无法办理", "Not possible now", "Сейчас невозможно"),
                match refusal {
                    Refusal::NotResolved => words(
                        lang,
                        "承办部门还没有答复办结，办结后您可以在这里评价",
                        "The department has not yet reported this as resolved; you can answer once it has",
                        "Ведомство ещё не сообщило о решении; ответить можно после этого",
                    ),
                    Refusal::AlreadyAnswered => words(lang, "这次办理结果已经评价过了", "This resolution has already been answered", "На это решение уже есть ответ"),
                    Refusal::Final(_) => words(lang, "该诉求已结束办理", "This report is finished; nothing more can change", "Рассмотрение обращения завершено"),
                    Refusal::NotOpen(_) => words(
                        lang,
                        "该诉求已办结，不能再附议；如问题仍在，请提交新的诉求",
                        "This report is already resolved; if the problem is still there, file a new report",
                        "Это обращение уже решено; если проблема осталась, подайте новое обращение",
                    ),
                    Refusal::Backwards { .. } => words(lang, "该诉求的办理已经超过这一步", "The report is already further along than this event says", "Обращение уже продвинулось дальше этого шага"),
                    Refusal::NoSuchReport => {
                        words(lang, "没有找到该编号，请核对后重试", "Nothing was found under this number; check it and try again", "По этому номеру ничего не найдено; проверьте его")
                    }
                },
            ),
            ApiError::Forbidden => (
                words(lang, "无权访问", "Forbidden", "Доступ запрещён"),
                words(lang, "链接无效或已过期，或缺少访问凭证", "The link is invalid or expired, or the credentials are missing", "Ссылка недействительна или устарела, либо нет учётных данных"),
            ),
            ApiError::RateLimited { retry_after } => (
                words(lang, "提交过于频繁", "Too many reports", "Слишком много обращений"),
                match lang {
                    Lang::ZhCn => format!("同一网络提交过于频繁，请 {retry_after} 秒后再试"),
                    Lang::En => format!("Too many reports from your network; please try again in {retry_after} {}", if plural(lang, *retry_after) == Plural::One { "second" } else { "seconds" }),
                    Lang::Ru => format!("Слишком много обращений из вашей сети; повторите через {retry_after} {}", seconds_ru(*retry_after)),
                },
            ),
            ApiError::Unavailable(_) => (
                words(lang, "暂时无法受理", "Temporarily unavailable", "Временно недоступно"),
                words(
                    lang,
                    "服务器暂时无法保存反映，您的内容未丢失，请稍后重试",
                    "The server cannot store reports right now; nothing was lost, please try again later",
                    "Сервер временно не может сохранить обращение; ничего не потеряно, повторите позже",
                ),
            ),
            ApiError::Internal(_) => (
                words(lang, "服务器错误", "Server error", "Ошибка сервера"),
                words(lang, "服务器出错了，请稍后重试", "Something went wrong on our side; please try again later", "Ошибка на нашей стороне; повторите позже"),
            ),
        }
    }

    /// The response in `lang`. 5xx causes are logged here, once, without personal data.
    pub fn into_response_in(self, lang: Lang) -> Response {
        if self.status().is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let status = self.status();
        let mut response = (status, axum::Json(self.problem(lang))).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        response
    }
}

/// A request only a broken or outdated app sends: the resident is told to reload; what
/// exactly was wrong is in the problem's `type` for the app's developers.
fn bad_request_words(reason: BadRequest, lang: Lang) -> String {
    match reason {
        BadRequest::BrokenMultipart => words(lang, "上传中断了，请重新提交", "The upload was cut off; please send it again", "Загрузка прервалась; отправьте обращение снова"),
        _ => words(
            lang,
            "页面发出的诉求不完整，请刷新页面后重新提交",
            "The page sent an incomplete report; reload it and send again",
            "Страница отправила неполное обращение; обновите её и отправьте снова",
        ),
    }
}

/// What a resident reads when a report is over a limit: which part, its size as people
/// write it, and what to do.
fn too_large_words(limit: &str, max: u64, lang: Lang) -> String {
    let size = byte_size(max, lang);
    match (limit, lang) {
        ("photos", Lang::ZhCn) => format!("最多可以附 {max} 张照片，请删去几张后再提交"),
        ("photos", Lang::En) => format!("You can add up to {max} {}; remove some and send again", if plural(lang, max) == Plural::One { "photo" } else { "photos" }),
        ("photos", Lang::Ru) => format!("Можно приложить не более {max} фото; уберите лишние и отправьте снова"),
        ("photo_bytes", Lang::ZhCn) => format!("这张照片太大（每张最多 {size}），请换一张或缩小后再试"),
        ("photo_bytes", Lang::En) => format!("This photo is too large (at most {size} each); choose a smaller one"),
        ("photo_bytes", Lang::Ru) => format!("Фото слишком большое (не более {size}); выберите фото поменьше"),
        ("photo_pixels", Lang::ZhCn) => format!("这张照片像素太多（最多 {} 万像素），请换一张普通照片", max / 10_000),
        ("photo_pixels", Lang::En) => format!("This photo has too many pixels (at most {} megapixels); send an ordinary photo", decimal(lang, max as f64 / 1e6, 1)),
        ("photo_pixels", Lang::Ru) => format!("В фото слишком много пикселей (не более {} Мп); отправьте обычное фото", decimal(lang, max as f64 / 1e6, 1)),
        ("photo_decode_bytes", Lang::ZhCn) => "这张照片太大，无法处理，请发送手机相机拍的普通照片".into(),
        ("photo_decode_bytes", Lang::En) => "This photo is too large to process; send an ordinary camera photo".into(),
        ("photo_decode_bytes", Lang::Ru) => "Фото слишком велико для обработки; отправьте обычный снимок с камеры".into(),
        ("json_bytes", Lang::ZhCn) => format!("填写的文字太长（最多 {size}），请缩短描述"),
        ("json_bytes", Lang::En) => format!("The report's text is too long (at most {size}); shorten the description"),
        ("json_bytes", Lang::Ru) => format!("Текст обращения слишком длинный (не более {size}); сократите описание"),
        (_, Lang::ZhCn) => format!("这份诉求太大（最多 {size}），请少附几张照片后再提交"),
        (_, Lang::En) => format!("This report is too large (at most {size}); send fewer photos"),
        (_, Lang::Ru) => format!("Обращение слишком большое (не более {size}); приложите меньше фото"),
    }
}

/// A size in bytes as people write it: "5 MB", "1,5 МБ", "32 KB".
fn byte_size(bytes: u64, lang: Lang) -> String {
    let (value, unit) =
        if bytes >= 1024 * 1024 { (bytes as f64 / (1024.0 * 1024.0), if lang == Lang::Ru { "МБ" } else { "MB" }) } else { (bytes as f64 / 1024.0, if lang == Lang::Ru { "КБ" } else { "KB" }) };
    format!("{} {unit}", decimal(lang, value, 1))
}

/// «секунду», «секунды», «секунд» after «через».
fn seconds_ru(seconds: u64) -> &'static str {
    match plural(Lang::Ru, seconds) {
        Plural::One => "секунду",
        Plural::Few => "секунды",
        Plural::Many => "секунд",
    }
}

impl From<crate::intake::IntakeError> for ApiError {
    fn from(error: crate::intake::IntakeError) -> ApiError {
        use crate::intake::IntakeError;
        match error {
            IntakeError::UnexpectedPart => ApiError::BadRequest(BadRequest::UnexpectedPart),
            IntakeError::MissingReport => ApiError::BadRequest(BadRequest::MissingReport),
            IntakeError::Broken => ApiError::BadRequest(BadRequest::BrokenMultipart),
            IntakeError::TooLarge { limit, max } => ApiError::TooLarge { limit, max },
            IntakeError::DiskFull => ApiError::Unavailable("no disk space for uploads".into()),
            IntakeError::Spool(error) => ApiError::Internal(anyhow::Error::new(error).context("spooling an upload")),
        }
    }
}

impl From<crate::photos::PhotoError> for ApiError {
    fn from(error: crate::photos::PhotoError) -> ApiError {
        use crate::photos::PhotoError;
        match error {
            PhotoError::Unsupported(problem) => ApiError::UnsupportedPhoto(problem),
            PhotoError::TooLarge { limit, max } => ApiError::TooLarge { limit, max },
            PhotoError::Busy => ApiError::Unavailable("every photo decoder is busy".into()),
            PhotoError::StorageFull => ApiError::Unavailable("photo storage is full".into()),
            error @ (PhotoError::Storage(_) | PhotoError::Internal(_)) => ApiError::Internal(error.into()),
        }
    }
}

impl From<crate::submission::SubmissionError> for ApiError {
    fn from(error: crate::submission::SubmissionError) -> ApiError {
        use crate::submission::SubmissionError;
        match error {
            SubmissionError::KeyInFlight => ApiError::KeyInFlight,
            SubmissionError::KeyReused => ApiError::KeyReused,
            SubmissionError::Invalid(errors) => ApiError::Validation(errors),
            SubmissionError::Photo(error) => error.into(),
            SubmissionError::Store(error) => error.into(),
        }
    }
}

impl From<crate::follow_up::FollowUpError> for ApiError {
    fn from(error: crate::follow_up::FollowUpError) -> ApiError {
        use crate::follow_up::FollowUpError;
        match error {
            FollowUpError::NotFound => ApiError::NotFound,
            FollowUpError::WrongSecret => ApiError::Forbidden,
            FollowUpError::Invalid(errors) => ApiError::Validation(errors),
            FollowUpError::Refused(refusal) => ApiError::Refused(refusal),
            FollowUpError::Store(error) => error.into(),
            FollowUpError::Photo(error) => error.into(),
        }
    }
}

impl From<crate::store::StoreError> for ApiError {
    /// A full disk and an unreachable database are the store failures the client should
    /// hear about as such (503, "try later"); everything else is ours.
    fn from(error: crate::store::StoreError) -> ApiError {
        if error.is_disk_full() {
            ApiError::Unavailable("disk full".into())
        } else if error.is_unavailable() {
            ApiError::Unavailable("database unavailable".into())
        } else {
            ApiError::Internal(error.into())
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.into_response_in(Lang::default())
    }
}

/// An error with the language to word it in, for handlers that know the resident's
/// language.
#[derive(Debug)]
pub struct WordedError(pub ApiError, pub Lang);

impl IntoResponse for WordedError {
    fn into_response(self) -> Response {
        self.0.into_response_in(self.1)
    }
}

#[cfg(test)]
mod tests {
    use lianxin_contract::Rule;

    use super::*;

    /// One of every error a resident can meet, with the limits the server ships with.
    fn every_error() -> Vec<ApiError> {
        let limits = crate::config::IntakeLimits::default();
        let mut errors = vec![
            ApiError::Validation(vec![ValidationError::new("fields.plate", Rule::InvalidPlate), ValidationError::new("contact.phone", Rule::Required)]),
            ApiError::KeyReused,
            ApiError::KeyInFlight,
            ApiError::NotFound,
            ApiError::NoMap,
            ApiError::Forbidden,
            ApiError::Unavailable("database unavailable".into()),
            ApiError::Internal(anyhow::anyhow!("sqlite: disk I/O error")),
        ];
        errors.extend(
            [BadRequest::MissingIdempotencyKey, BadRequest::InvalidIdempotencyKey, BadRequest::NotMultipart, BadRequest::BrokenMultipart, BadRequest::MissingReport, BadRequest::UnexpectedPart]
                .map(ApiError::BadRequest),
        );
        errors.extend([PhotoProblem::Heic, PhotoProblem::NotAPhoto, PhotoProblem::Corrupt, PhotoProblem::NotPlain].map(ApiError::UnsupportedPhoto));
        errors.extend(
            [
                ("body_bytes", limits.body_bytes as u64),
                ("photos", limits.photos as u64),
                ("photo_bytes", limits.photo_bytes as u64),
                ("photo_pixels", limits.photo_pixels),
                ("photo_decode_bytes", 256 << 20),
                ("json_bytes", limits.json_bytes as u64),
            ]
            .map(|(limit, max)| ApiError::TooLarge { limit, max }),
        );
        errors.extend([1, 2, 5, 21].map(|retry_after| ApiError::RateLimited { retry_after }));
        errors
    }

    /// Words that may appear in a Chinese or Russian message: photo formats, the phone
    /// brand whose setting is named, units as Chinese writes them.
    const FOREIGN_WORDS_ALLOWED: &[&str] = &["JPEG", "PNG", "WebP", "HEIC", "iPhone", "MB", "KB"];

    #[test]
    fn every_error_is_worded_for_a_resident_in_every_language() {
        for error in every_error() {
            for lang in Lang::ALL {
                let problem = error.problem(lang);
                for text in [&problem.title, &problem.detail] {
                    assert!(!text.trim().is_empty(), "{error:?} in {lang:?}");
                    for jargon in ["_", "HTTP", "Idempotency", "multipart", "`", "fields.", "contact.", "sqlite", "database"] {
                        assert!(!text.contains(jargon), "{error:?} in {lang:?} says {jargon:?}: {text}");
                    }
                    if lang != Lang::En {
                        let latin: Vec<&str> = text.split(|c: char| !c.is_ascii_alphabetic()).filter(|word| word.len() >= 2 && !FOREIGN_WORDS_ALLOWED.contains(word)).collect();
                        assert!(latin.is_empty(), "{error:?} in {lang:?}: {latin:?} in {text}");
                    }
                }
            }
        }
    }

    #[test]
    fn counts_and_sizes_are_written_as_each_language_writes_them() {
        let detail = |error: ApiError, lang| error.problem(lang).detail;
        let wait = |seconds| ApiError::RateLimited { retry_after: seconds };
        assert!(detail(wait(1), Lang::Ru).ends_with("через 1 секунду"));
        assert!(detail(wait(2), Lang::Ru).ends_with("через 2 секунды"));
        assert!(detail(wait(5), Lang::Ru).ends_with("через 5 секунд"));
        assert!(detail(wait(21), Lang::Ru).ends_with("через 21 секунду"));
        assert!(detail(wait(1), Lang::En).ends_with("in 1 second"));
        let photo = ApiError::TooLarge { limit: "photo_bytes", max: 5 * 1024 * 1024 };
        assert_eq!(detail(photo, Lang::En), "This photo is too large (at most 5 MB each); choose a smaller one");
        let small = ApiError::TooLarge { limit: "photo_bytes", max: 1536 * 1024 };
        assert_eq!(detail(small, Lang::Ru), "Фото слишком большое (не более 1,5 МБ); выберите фото поменьше");
        let one = ApiError::TooLarge { limit: "photos", max: 1 };
        assert_eq!(detail(one, Lang::En), "You can add up to 1 photo; remove some and send again");
    }
}
