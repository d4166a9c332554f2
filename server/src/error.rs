//! The API's one error type. Every handler returns `Result<_, ApiError>`; each variant
//! knows its status code and words its message in the resident's language, and becomes an
//! RFC 9457 problem-details body. Server faults (5xx) are logged once here and never leak
//! internals to the client.
//!
//! Layering: modules below HTTP (`intake`, `photos`, `store`) have their own error enums;
//! handlers convert them into `ApiError` with `From`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
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
            ApiError::KeyInFlight => StatusCode::CONFLICT,
            ApiError::NotFound => StatusCode::NOT_FOUND,
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
            ApiError::BadRequest(_) => "bad-request",
            ApiError::TooLarge { .. } => "limit-exceeded",
            ApiError::UnsupportedPhoto(_) => "unsupported-photo",
            ApiError::KeyReused => "idempotency-key-reused",
            ApiError::KeyInFlight => "idempotency-key-in-flight",
            ApiError::NotFound => "not-found",
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
        Problem { kind: format!("urn:lianxin:problem:{}", self.kind()), title, status: self.status().as_u16(), detail, errors }
    }

    fn words(&self, lang: Lang) -> (String, String) {
        match self {
            ApiError::Validation(errors) => (
                words(lang, "请检查填写内容", "Please check the form", "Проверьте форму"),
                errors.iter().map(|error| format!("{}: {}", error.field, error.message(lang))).collect::<Vec<_>>().join("; "),
            ),
            ApiError::BadRequest(reason) => (words(lang, "请求无效", "Bad request", "Неверный запрос"), bad_request_words(*reason, lang)),
            ApiError::TooLarge { limit, max } => (
                words(lang, "内容超出限制", "Too large", "Слишком большой объём"),
                match lang {
                    Lang::ZhCn => format!("超出限制 {limit}（上限 {max}），请减少照片数量或缩小照片后重试"),
                    Lang::En => format!("Over the limit {limit} (at most {max}); send fewer or smaller photos and try again"),
                    Lang::Ru => format!("Превышен лимит {limit} (не более {max}); отправьте меньше фото или уменьшите их"),
                },
            ),
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
                words(lang, "重复的提交编号", "Idempotency key reused", "Ключ идемпотентности уже использован"),
                words(
                    lang,
                    "此提交编号已用于另一份不同的反映，请重新提交",
                    "This Idempotency-Key was already used for a different report; send the new report with a new key",
                    "Этот Idempotency-Key уже использован для другого обращения; отправьте новое обращение с новым ключом",
                ),
            ),
            ApiError::KeyInFlight => (
                words(lang, "正在处理", "Already in progress", "Уже обрабатывается"),
                words(lang, "这份反映正在提交中，请稍候再查看结果", "This report is being received right now; wait a moment and retry", "Это обращение сейчас принимается; подождите и повторите"),
            ),
            ApiError::NotFound => (
                words(lang, "未找到", "Not found", "Не найдено"),
                words(lang, "没有找到该编号，请核对后重试", "Nothing was found under this number; check it and try again", "По этому номеру ничего не найдено; проверьте его"),
            ),
            ApiError::Forbidden => (
                words(lang, "无权访问", "Forbidden", "Доступ запрещён"),
                words(lang, "链接无效或已过期，或缺少访问凭证", "The link is invalid or expired, or the credentials are missing", "Ссылка недействительна или устарела, либо нет учётных данных"),
            ),
            ApiError::RateLimited { retry_after } => (
                words(lang, "提交过于频繁", "Too many reports", "Слишком много обращений"),
                match lang {
                    Lang::ZhCn => format!("同一网络提交过于频繁，请 {retry_after} 秒后再试"),
                    Lang::En => format!("Too many reports from your network; please try again in {retry_after} seconds"),
                    Lang::Ru => format!("Слишком много обращений из вашей сети; повторите через {retry_after} с"),
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

fn bad_request_words(reason: BadRequest, lang: Lang) -> String {
    match reason {
        BadRequest::MissingIdempotencyKey => words(
            lang,
            "缺少 Idempotency-Key 请求头",
            "The Idempotency-Key header is missing; generate one random key per report",
            "Нет заголовка Idempotency-Key; создайте один случайный ключ на обращение",
        ),
        BadRequest::InvalidIdempotencyKey => words(
            lang,
            "Idempotency-Key 必须是 1 到 255 个可见 ASCII 字符",
            "Idempotency-Key must be 1 to 255 visible ASCII characters",
            "Idempotency-Key должен состоять из 1–255 видимых символов ASCII",
        ),
        BadRequest::NotMultipart => words(lang, "请以 multipart/form-data 格式提交", "Send the report as multipart/form-data", "Отправьте обращение как multipart/form-data"),
        BadRequest::BrokenMultipart => words(lang, "上传数据不完整，请重试", "The upload was cut off or malformed; please send it again", "Загрузка прервана или повреждена; отправьте снова"),
        BadRequest::MissingReport => words(lang, "缺少 report 部分", "The multipart body has no `report` part", "В теле запроса нет части `report`"),
        BadRequest::UnexpectedPart => words(lang, "只接受 report 和 photo 两种部分", "Only `report` and `photo` parts are accepted", "Принимаются только части `report` и `photo`"),
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
pub struct Localized(pub ApiError, pub Lang);

impl IntoResponse for Localized {
    fn into_response(self) -> Response {
        self.0.into_response_in(self.1)
    }
}
