//! Open311 GeoReport v2 as a server speaks it (wiki.open311.org/GeoReport_v2): the catalog
//! as services and service definitions, an app's form as a report, a stored report as a
//! service request, the error array, and every document in JSON or XML. Only shapes and
//! conversions live here; the door (`http::open311`) hands the report to the one intake.

use lianxin_contract::catalog::{FieldKind, Need};
use lianxin_contract::report::{FieldValue, Status};
use lianxin_contract::{Catalog, Category, Contact, Lang, Location, ReportSubmission, Rule, ValidationError};
use serde::Serialize;
use serde_json::{Value, json};

/// The specification's address, as `discovery` names it.
pub const SPECIFICATION: &str = "http://wiki.open311.org/GeoReport_v2";
/// When this server's GeoReport surface last changed, as `discovery` gives it.
pub const CHANGESET: &str = "2026-11-30T00:00:00Z";

/// The two formats every resource comes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `.json`
    Json,
    /// `.xml`
    Xml,
}

impl Format {
    /// The format a resource name ends with, and the name without it.
    pub fn split(file: &str) -> Option<(&str, Format)> {
        file.strip_suffix(".json").map(|name| (name, Format::Json)).or_else(|| file.strip_suffix(".xml").map(|name| (name, Format::Xml)))
    }

    /// The answer's content type.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json; charset=utf-8",
            Format::Xml => "text/xml; charset=utf-8",
        }
    }
}

/// One entry of the GeoReport error array.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GeoError {
    /// The HTTP status, as the specification's examples use it.
    pub code: u16,
    /// What is wrong, for the app's developer and, worded for people, its user.
    pub description: String,
}

/// The code an Open311 app uses for a category: its `service_code`, or its own code.
pub fn service_code(category: &Category) -> &str {
    if category.service_code.is_empty() { &category.code } else { &category.service_code }
}

/// The category behind a service code.
pub fn category<'a>(catalog: &'a Catalog, code: &str) -> Option<&'a Category> {
    catalog.categories.iter().find(|category| service_code(category) == code)
}

/// `GET discovery`: where the API is and what it speaks.
pub fn discovery(base_url: &str, contact: &str) -> Value {
    json!({
        "changeset": CHANGESET,
        "contact": contact,
        "key_service": "Ask the city's 12345 hotline office for an api_key for your app.",
        "endpoints": [{
            "specification": SPECIFICATION,
            "url": format!("{}/open311/v2", base_url.trim_end_matches('/')),
            "changeset": CHANGESET,
            "type": "production",
            "formats": ["text/xml", "application/json"],
        }],
    })
}

/// `GET services`: one service per category, in `lang`.
pub fn services(catalog: &Catalog, lang: Lang) -> Value {
    Value::Array(
        catalog
            .categories
            .iter()
            .map(|category| {
                let group = catalog.groups.iter().find(|group| group.code == category.group).map_or(category.group.as_str(), |group| group.name.get(lang));
                let keywords = match lang {
                    Lang::ZhCn => &category.keywords.zh,
                    Lang::En => &category.keywords.en,
                    Lang::Ru => &category.keywords.ru,
                };
                json!({
                    "service_code": service_code(category),
                    "service_name": category.name.get(lang),
                    "description": category.description.get(lang),
                    "metadata": !category.fields.is_empty(),
                    "type": "realtime",
                    "keywords": keywords.join(", "),
                    "group": group,
                })
            })
            .collect(),
    )
}

/// What a plate, phone or money value must look like, in `lang`.
fn format_description(kind: &FieldKind, lang: Lang) -> Option<String> {
    let (zh, en, ru) = match kind {
        FieldKind::Plate => (
            "中国机动车号牌，例如 黑A·12345 或新能源号牌 黑AD12345",
            "A Chinese vehicle plate, e.g. 黑A·12345, or a new-energy plate such as 黑AD12345",
            "Китайский номерной знак, напр. 黑A·12345 или 黑AD12345",
        ),
        FieldKind::Phone => (
            "中国大陆手机号（11 位）或国际号码（+ 加国家代码）",
            "A mainland Chinese mobile number (11 digits) or an international number starting with + and the country code",
            "Мобильный номер Китая (11 цифр) или международный номер с + и кодом страны",
        ),
        FieldKind::Money => ("金额（元），最多两位小数，例如 35.50", "An amount in yuan with at most two decimals, e.g. 35.50", "Сумма в юанях, не более двух знаков после запятой, напр. 35,50"),
        FieldKind::DateTime => (
            "ISO 8601 日期时间，带时区，例如 2026-11-30T08:30:00+08:00",
            "An ISO 8601 date and time with its zone, e.g. 2026-11-30T08:30:00+08:00",
            "Дата и время ISO 8601 с часовым поясом, напр. 2026-11-30T08:30:00+08:00",
        ),
        FieldKind::Number { min, max, unit } => {
            let unit = lianxin_contract::i18n::unit_form(unit.get(lang), lang, None);
            return Some(match lang {
                Lang::ZhCn => format!("{min} 到 {max} 之间的数字{unit}"),
                Lang::En => format!("A number from {min} to {max} {unit}").trim_end().to_owned(),
                Lang::Ru => format!("Число от {min} до {max} {unit}").trim_end().to_owned(),
            });
        }
        _ => return None,
    };
    Some(
        match lang {
            Lang::ZhCn => zh,
            Lang::En => en,
            Lang::Ru => ru,
        }
        .to_owned(),
    )
}

/// `GET services/{code}`: the category's fields as attributes.
pub fn definition(category: &Category, lang: Lang) -> Value {
    let attributes: Vec<Value> = category
        .fields
        .iter()
        .enumerate()
        .map(|(index, field)| {
            let (datatype, options) = match &field.kind {
                FieldKind::Text { .. } | FieldKind::Plate | FieldKind::Phone | FieldKind::Money => ("string", None),
                FieldKind::LongText { .. } => ("text", None),
                FieldKind::Number { .. } => ("number", None),
                FieldKind::DateTime => ("datetime", None),
                FieldKind::Choice { options } => ("singlevaluelist", Some(options)),
                FieldKind::MultiChoice { options } => ("multivaluelist", Some(options)),
            };
            let mut attribute = json!({
                "variable": true,
                "code": field.code,
                "datatype": datatype,
                "required": field.required,
                "datatype_description": format_description(&field.kind, lang),
                "order": index + 1,
                "description": field.label.get(lang),
            });
            if let Some(options) = options {
                attribute["values"] = Value::Array(options.iter().map(|option| json!({ "key": option.code, "name": option.label.get(lang) })).collect());
            }
            attribute
        })
        .collect();
    json!({ "service_code": service_code(category), "attributes": attributes })
}

/// The particulars of an Open311 request that are not the report itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestExtras {
    /// The app's `account_id`, echoed in the answer (not stored).
    pub account_id: Option<String>,
    /// Contact fields were sent but the app does not collect consent: they were dropped.
    pub contact_dropped: bool,
    /// An `email` was sent: Lianxin keeps no e-mail addresses.
    pub email_dropped: bool,
}

/// A `datetime` attribute as Open311 clients send it (ISO 8601 with a zone) in the city's
/// local time (UTC+8) as the catalog's fields take it, `YYYY-MM-DDTHH:MM`.
fn local_datetime(text: &str) -> Option<String> {
    let (date, time) = text.trim().split_once(['T', ' '])?;
    // The zone: `Z`, or `±hh:mm` / `±hhmm` at the end of the time. A time without one is
    // ambiguous, and refused.
    let (clock, offset_minutes) = if let Some(clock) = time.strip_suffix(['Z', 'z']) {
        (clock, 0)
    } else {
        let at = time.rfind(['+', '-'])?;
        let (clock, zone) = time.split_at(at);
        let digits: String = zone[1..].chars().filter(|c| *c != ':').collect();
        if digits.len() != 4 || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
            return None;
        }
        let minutes = digits[..2].parse::<i64>().ok()? * 60 + digits[2..].parse::<i64>().ok()?;
        (clock, if zone.starts_with('-') { -minutes } else { minutes })
    };
    let as_if_utc = humantime::parse_rfc3339_weak(&format!("{date}T{clock}Z")).ok()?;
    let utc_ms = as_if_utc.duration_since(std::time::UNIX_EPOCH).ok()?.as_millis() as i64 - offset_minutes * 60_000;
    Some(crate::ids::rfc3339(utc_ms + 8 * 3_600_000)[..16].to_owned())
}

/// Turns an app's form fields into a report of `category`. Fields are refused naming the
/// Open311 field (`attribute[plate]`, `lat`), never a path of ours.
pub fn submission(catalog: &Catalog, fields: &[(String, String)], contact_consent: bool, lang: Lang) -> Result<(ReportSubmission, RequestExtras), Vec<GeoError>> {
    let first = |name: &str| fields.iter().find(|(key, _)| key == name).map(|(_, value)| value.trim()).filter(|value| !value.is_empty());
    let invalid = |description: String| GeoError { code: 400, description };
    let code = first("service_code").ok_or_else(|| vec![invalid(words(lang, "缺少 service_code", "service_code is missing", "нет service_code"))])?;
    let category =
        category(catalog, code).ok_or_else(|| vec![invalid(format!("service_code {code:?}: {}", words(lang, "不是本市的服务代码", "is not one of the city's services", "не услуга этого города")))])?;
    let mut errors = Vec::new();

    let number = |name: &str| -> Result<Option<f64>, GeoError> {
        first(name).map(|text| text.parse::<f64>().map_err(|_| invalid(format!("{name}: {}", words(lang, "不是数字", "is not a number", "не число"))))).transpose()
    };
    let (lat, lon) = match (number("lat"), number("long")) {
        (Ok(lat), Ok(lon)) => (lat, lon),
        (lat, lon) => {
            errors.extend(lat.err());
            errors.extend(lon.err());
            (None, None)
        }
    };
    if lat.is_some() != lon.is_some() {
        errors.push(invalid(words(lang, "lat 和 long 需要一起提供", "lat and long go together", "lat и long указываются вместе")));
    }
    let address = first("address_string").map(str::to_owned);
    if lat.is_none() && address.is_none() && category.location == Need::Required {
        errors.push(invalid(words(lang, "需要 lat+long 或 address_string", "lat+long or address_string is required", "нужны lat+long или address_string")));
    }

    let mut values = std::collections::BTreeMap::new();
    for (key, value) in fields {
        let Some(inner) = key.strip_prefix("attribute[") else { continue };
        let (code, list) = match inner.strip_suffix("][]") {
            Some(code) => (code, true),
            None => (inner.strip_suffix(']').unwrap_or(inner), false),
        };
        let Some(field) = category.fields.iter().find(|field| field.code == code) else {
            errors.push(invalid(format!("attribute[{code}]: {}", words(lang, "该服务没有这个属性", "this service has no such attribute", "у этой услуги нет такого атрибута"))));
            continue;
        };
        let value = value.trim().to_owned();
        let parsed = match &field.kind {
            FieldKind::MultiChoice { .. } => {
                let mut codes = match values.remove(code) {
                    Some(FieldValue::List(codes)) => codes,
                    _ => Vec::new(),
                };
                codes.extend(if list { vec![value] } else { value.split(',').map(|part| part.trim().to_owned()).collect() });
                FieldValue::List(codes)
            }
            FieldKind::Number { .. } => match lianxin_contract::number::parse_number(&value) {
                Some(number) => FieldValue::Number(number),
                None => {
                    errors.push(invalid(format!("attribute[{code}]: {}", words(lang, "不是数字", "is not a number", "не число"))));
                    continue;
                }
            },
            FieldKind::DateTime => match local_datetime(&value) {
                Some(local) => FieldValue::Text(local),
                None => {
                    errors.push(invalid(format!("attribute[{code}]: {}", words(lang, "需要带时区的 ISO 8601 时间", "needs an ISO 8601 time with its zone", "нужно время ISO 8601 с поясом"))));
                    continue;
                }
            },
            _ => FieldValue::Text(value),
        };
        values.insert(code.to_owned(), parsed);
    }

    let name = [first("first_name"), first("last_name")].into_iter().flatten().collect::<Vec<_>>().join(" ");
    let phone = first("phone").map(str::to_owned);
    let sent_contact = !name.is_empty() || phone.is_some();
    let contact = (contact_consent && sent_contact).then(|| Contact { name: (!name.is_empty()).then_some(name), phone, consent: true });
    let extras = RequestExtras { account_id: first("account_id").map(str::to_owned), contact_dropped: sent_contact && !contact_consent, email_dropped: first("email").is_some() };
    if !errors.is_empty() {
        return Err(errors);
    }
    let report = ReportSubmission {
        category: category.code.clone(),
        kind: category.kinds[0],
        description: first("description").unwrap_or_default().to_owned(),
        fields: values,
        location: (lat.is_some() || address.is_some()).then_some(Location { lat, lon, accuracy_m: None, address, district: None }),
        contact,
        lang,
        media_url: first("media_url").map(str::to_owned),
        public: false,
    };
    Ok((report, extras))
}

/// Validation errors of the shared rules, named as the app's fields.
pub fn validation_errors(errors: &[ValidationError], lang: Lang) -> Vec<GeoError> {
    errors
        .iter()
        .map(|error| {
            let field = match error.field.as_str() {
                "location" | "location.district" => "lat/long, address_string".to_owned(),
                "location.address" => "address_string".to_owned(),
                "contact.phone" => "phone".to_owned(),
                "contact.name" => "first_name".to_owned(),
                "photos" => "media".to_owned(),
                other => other.strip_prefix("fields.").map_or_else(|| other.to_owned(), |code| format!("attribute[{code}]")),
            };
            let message =
                if matches!(error.rule, Rule::Malformed { .. }) { words(lang, "格式不正确", "is not in the expected form", "в неверном формате") } else { error.message(lang) };
            GeoError { code: 400, description: format!("{field}: {message}") }
        })
        .collect()
}

/// The Open311 status of one of ours.
pub fn open_or_closed(status: Status) -> &'static str {
    if matches!(status, Status::Resolved | Status::Closed | Status::Rejected | Status::Duplicate) { "closed" } else { "open" }
}

/// Text in `lang`.
pub fn words(lang: Lang, zh: &str, en: &str, ru: &str) -> String {
    match lang {
        Lang::ZhCn => zh,
        Lang::En => en,
        Lang::Ru => ru,
    }
    .to_owned()
}

/// A document in XML, as GeoReport v2 writes it: `root` holds the value; an array becomes
/// one element per item named after its parent (`services` → `service`).
pub fn xml(root: &str, value: &Value) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
    match value {
        Value::Array(items) => {
            out += &format!("<{root}>");
            for item in items {
                element(&mut out, singular(root), item);
            }
            out += &format!("</{root}>");
        }
        other => element(&mut out, root, other),
    }
    out
}

fn singular(name: &str) -> &str {
    match name {
        "services" => "service",
        "service_requests" => "request",
        "attributes" => "attribute",
        "values" => "value",
        "endpoints" => "endpoint",
        "formats" => "format",
        "errors" => "error",
        other => other.strip_suffix('s').unwrap_or(other),
    }
}

fn element(out: &mut String, name: &str, value: &Value) {
    match value {
        Value::Null => *out += &format!("<{name}/>"),
        Value::Object(fields) => {
            *out += &format!("<{name}>");
            for (key, value) in fields {
                element(out, key, value);
            }
            *out += &format!("</{name}>");
        }
        Value::Array(items) => {
            *out += &format!("<{name}>");
            for item in items {
                element(out, singular(name), item);
            }
            *out += &format!("</{name}>");
        }
        Value::String(text) => *out += &format!("<{name}>{}</{name}>", text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")),
        other => *out += &format!("<{name}>{other}</{name}>"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetimes_need_their_zone_and_become_city_time() {
        assert_eq!(local_datetime("2026-11-30T00:30:00Z").as_deref(), Some("2026-11-30T08:30"));
        assert_eq!(local_datetime("2026-11-30T08:30:00+08:00").as_deref(), Some("2026-11-30T08:30"));
        assert_eq!(local_datetime("2026-11-29T19:30:00-05:00").as_deref(), Some("2026-11-30T08:30"));
        assert_eq!(local_datetime("2026-11-30T08:30:00"), None, "a time without its zone is ambiguous");
        assert_eq!(local_datetime("yesterday"), None);
    }

    #[test]
    fn arrays_become_elements_named_after_their_parent() {
        let document = xml("services", &json!([{ "service_code": "a&b", "metadata": true, "values": [{ "key": "1" }], "group": null }]));
        assert_eq!(
            document,
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><services><service><group/><metadata>true</metadata><service_code>a&amp;b</service_code><values><value><key>1</key></value></values></service></services>"
        );
    }
}
