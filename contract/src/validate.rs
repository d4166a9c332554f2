//! Validation of a submitted report against the catalog.
//!
//! This one code path runs in the widget (for inline errors before anything is sent) and
//! on the server (authoritative), so both always agree on what is acceptable. Errors are
//! values naming the field and the rule; [`ValidationError::message`] words them in the
//! resident's language. Valid input comes back normalised (plates and phone numbers in one
//! canonical spelling, blank optional values dropped): parse, don't validate.

use serde::{Deserialize, Serialize};

use crate::catalog::{Catalog, Category, FieldDef, FieldKind, Limits, Need};
use crate::i18n::{Lang, Plural, decimal, plural};
use crate::number::parse_number;
use crate::report::{Contact, FieldValue, Location, ReportSubmission};

/// Which rule a value broke. In JSON the rule's name (`"rule": "too_long"`) and its settings
/// (`"max": 100`) sit beside the field path; `RawError` reads them back.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Rule {
    /// A required value is missing.
    Required,
    /// The category code is not in the catalog.
    UnknownCategory,
    /// The category does not accept this request kind.
    KindNotAllowed,
    /// A field code the category does not have.
    UnknownField,
    /// Longer than allowed.
    TooLong {
        /// The limit, in characters.
        max: u32,
    },
    /// A number outside its range.
    OutOfRange {
        /// Smallest allowed.
        min: f64,
        /// Largest allowed.
        max: f64,
    },
    /// The value has the wrong JSON type.
    WrongType {
        /// The expected type: "text", "number" or "list".
        expected: String,
    },
    /// Not a number.
    NotANumber,
    /// Not one of the options.
    InvalidChoice,
    /// Not a vehicle plate.
    InvalidPlate,
    /// Not a phone number.
    InvalidPhone,
    /// Given although the category does not ask for it (contact details where the
    /// catalog says `contact = "none"`): nothing a category does not need is kept.
    NotAsked,
    /// Not an amount in yuan.
    InvalidMoney,
    /// Not a date and time.
    InvalidDateTime,
    /// A district code not in the catalog.
    UnknownDistrict,
    /// Latitude or longitude outside the globe, or only one of them.
    InvalidCoordinates,
    /// Contact details without the consent to keep them.
    ConsentRequired,
    /// More photos than the category allows.
    TooManyPhotos {
        /// The limit.
        max: u8,
    },
    /// The value is not of the shape the API expects (a string where a number belongs,
    /// an unknown request kind, broken JSON).
    Malformed {
        /// What the JSON parser said, for developers.
        detail: String,
    },
}

/// A broken rule and the field it concerns.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawError")]
pub struct ValidationError {
    /// Path of the value: `category`, `kind`, `description`, `fields.<code>`,
    /// `location`, `location.district`, `contact.phone`, `contact.consent`, `photos`.
    pub field: String,
    /// The rule.
    #[serde(flatten)]
    pub rule: Rule,
}

/// A validation error as written, with the resident's message when it comes from a
/// [`crate::Problem`]: the rule's name and every rule's settings side by side, checked by
/// `TryFrom`. Read this way rather than as `#[serde(flatten)]` over an internally tagged enum,
/// which buffers each error into serde's generic `Content` tree first and costs the widget's
/// wasm far more code.
#[derive(Deserialize)]
pub(crate) struct RawError {
    field: String,
    rule: RuleName,
    min: Option<f64>,
    max: Option<f64>,
    expected: Option<String>,
    detail: Option<String>,
    /// Only in a problem's `errors`.
    #[serde(default)]
    pub(crate) message: String,
}

#[derive(Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum RuleName {
    Required,
    UnknownCategory,
    KindNotAllowed,
    UnknownField,
    TooLong,
    OutOfRange,
    WrongType,
    NotANumber,
    InvalidChoice,
    InvalidPlate,
    InvalidPhone,
    NotAsked,
    InvalidMoney,
    InvalidDateTime,
    UnknownDistrict,
    InvalidCoordinates,
    ConsentRequired,
    TooManyPhotos,
    Malformed,
}

impl TryFrom<RawError> for ValidationError {
    type Error = String;

    fn try_from(raw: RawError) -> Result<Self, String> {
        let field = raw.field;
        let needs = |what: &str| format!("error at `{field}`: this rule comes with `{what}`");
        let max = raw.max.ok_or_else(|| needs("max"));
        let rule = match raw.rule {
            RuleName::Required => Rule::Required,
            RuleName::UnknownCategory => Rule::UnknownCategory,
            RuleName::KindNotAllowed => Rule::KindNotAllowed,
            RuleName::UnknownField => Rule::UnknownField,
            RuleName::TooLong => Rule::TooLong { max: max? as u32 },
            RuleName::OutOfRange => Rule::OutOfRange { min: raw.min.ok_or_else(|| needs("min"))?, max: max? },
            RuleName::WrongType => Rule::WrongType { expected: raw.expected.ok_or_else(|| needs("expected"))? },
            RuleName::NotANumber => Rule::NotANumber,
            RuleName::InvalidChoice => Rule::InvalidChoice,
            RuleName::InvalidPlate => Rule::InvalidPlate,
            RuleName::InvalidPhone => Rule::InvalidPhone,
            RuleName::NotAsked => Rule::NotAsked,
            RuleName::InvalidMoney => Rule::InvalidMoney,
            RuleName::InvalidDateTime => Rule::InvalidDateTime,
            RuleName::UnknownDistrict => Rule::UnknownDistrict,
            RuleName::InvalidCoordinates => Rule::InvalidCoordinates,
            RuleName::ConsentRequired => Rule::ConsentRequired,
            RuleName::TooManyPhotos => Rule::TooManyPhotos { max: max? as u8 },
            RuleName::Malformed => Rule::Malformed { detail: raw.detail.unwrap_or_default() },
        };
        Ok(ValidationError { field, rule })
    }
}

impl ValidationError {
    /// An error of `rule` at `field`.
    pub fn new(field: impl Into<String>, rule: Rule) -> Self {
        ValidationError { field: field.into(), rule }
    }

    /// A sentence a resident can act on, in `lang`.
    pub fn message(&self, lang: Lang) -> String {
        use Rule::*;
        match (&self.rule, lang) {
            (Required, Lang::ZhCn) => "此项为必填项".into(),
            (Required, Lang::En) => "This is required".into(),
            (Required, Lang::Ru) => "Это обязательное поле".into(),
            (UnknownCategory, Lang::ZhCn) => "请选择一个有效的问题类别".into(),
            (UnknownCategory, Lang::En) => "Please choose a category from the list".into(),
            (UnknownCategory, Lang::Ru) => "Выберите категорию из списка".into(),
            (KindNotAllowed, Lang::ZhCn) => "该类别不受理此诉求类型".into(),
            (KindNotAllowed, Lang::En) => "This category does not take this kind of request".into(),
            (KindNotAllowed, Lang::Ru) => "Эта категория не принимает обращения такого типа".into(),
            (UnknownField, Lang::ZhCn) => "该类别没有此项".into(),
            (UnknownField, Lang::En) => "This category has no such field".into(),
            (UnknownField, Lang::Ru) => "В этой категории нет такого поля".into(),
            (TooLong { max }, Lang::ZhCn) => format!("不能超过 {max} 个字"),
            (TooLong { max }, Lang::En) => format!("At most {max} {}", if plural(Lang::En, u64::from(*max)) == Plural::One { "character" } else { "characters" }),
            // After «более» the count takes the genitive: 1 символа, 2 / 5 символов.
            (TooLong { max }, Lang::Ru) => format!("Не более {max} {}", if plural(Lang::Ru, u64::from(*max)) == Plural::One { "символа" } else { "символов" }),
            (OutOfRange { min, max }, Lang::ZhCn) => format!("请输入 {} 到 {} 之间的数值", decimal(lang, *min, 6), decimal(lang, *max, 6)),
            (OutOfRange { min, max }, Lang::En) => format!("Enter a value from {} to {}", decimal(lang, *min, 6), decimal(lang, *max, 6)),
            (OutOfRange { min, max }, Lang::Ru) => format!("Введите значение от {} до {}", decimal(lang, *min, 6), decimal(lang, *max, 6)),
            // The expected type is for programs (it stays in the error's `expected`); a
            // resident is told what to enter.
            (WrongType { expected }, _) if expected == "number" => ValidationError::new(self.field.clone(), NotANumber).message(lang),
            (WrongType { expected }, _) if expected == "list" => ValidationError::new(self.field.clone(), InvalidChoice).message(lang),
            (WrongType { .. }, Lang::ZhCn) => "请重新填写此项".into(),
            (WrongType { .. }, Lang::En) => "Please fill this in again".into(),
            (WrongType { .. }, Lang::Ru) => "Заполните это поле заново".into(),
            (NotANumber, Lang::ZhCn) => "请输入数字".into(),
            (NotANumber, Lang::En) => "Enter a number".into(),
            (NotANumber, Lang::Ru) => "Введите число".into(),
            (InvalidChoice, Lang::ZhCn) => "请从选项中选择".into(),
            (InvalidChoice, Lang::En) => "Choose one of the options".into(),
            (InvalidChoice, Lang::Ru) => "Выберите один из вариантов".into(),
            (InvalidPlate, Lang::ZhCn) => "车牌号格式不正确，例如 黑A·12345".into(),
            (InvalidPlate, Lang::En) => "Not a Chinese plate number, e.g. 黑A·12345".into(),
            (InvalidPlate, Lang::Ru) => "Неверный номер машины, пример: 黑A·12345".into(),
            (InvalidPhone, Lang::ZhCn) => "请输入11位手机号或带国家代码的号码（如 +7…）".into(),
            (InvalidPhone, Lang::En) => "Enter a Chinese mobile number or an international number starting with +".into(),
            (InvalidPhone, Lang::Ru) => "Введите китайский мобильный или международный номер, начиная с +".into(),
            (NotAsked, Lang::ZhCn) => "此类诉求不需要留联系方式，请删除后再提交".into(),
            (NotAsked, Lang::En) => "This kind of report does not take contact details; please remove them".into(),
            (NotAsked, Lang::Ru) => "Для такого обращения контактные данные не нужны; удалите их".into(),
            (InvalidMoney, Lang::ZhCn) => "请输入金额（元），最多两位小数".into(),
            (InvalidMoney, Lang::En) => "Enter an amount in yuan with at most two decimals".into(),
            (InvalidMoney, Lang::Ru) => "Введите сумму в юанях, не более двух знаков после запятой".into(),
            (InvalidDateTime, Lang::ZhCn) => "请输入有效的日期和时间".into(),
            (InvalidDateTime, Lang::En) => "Enter a valid date and time".into(),
            (InvalidDateTime, Lang::Ru) => "Введите правильные дату и время".into(),
            (UnknownDistrict, Lang::ZhCn) => "请选择所在区".into(),
            (UnknownDistrict, Lang::En) => "Choose a district from the list".into(),
            (UnknownDistrict, Lang::Ru) => "Выберите район из списка".into(),
            (InvalidCoordinates, Lang::ZhCn) => "定位坐标无效，请重新定位或填写地址".into(),
            (InvalidCoordinates, Lang::En) => "The position is invalid; locate again or type the address".into(),
            (InvalidCoordinates, Lang::Ru) => "Неверные координаты; определите место снова или введите адрес".into(),
            (ConsentRequired, Lang::ZhCn) => "留下联系方式前，请勾选下方的同意说明".into(),
            (ConsentRequired, Lang::En) => "To leave contact details, tick the consent box below".into(),
            (ConsentRequired, Lang::Ru) => "Чтобы оставить контакты, отметьте согласие ниже".into(),
            (TooManyPhotos { max }, Lang::ZhCn) => format!("最多上传 {max} 张照片"),
            (TooManyPhotos { max }, Lang::En) => format!("At most {max} photos"),
            (TooManyPhotos { max }, Lang::Ru) => format!("Не более {max} фото"),
            (Malformed { .. }, Lang::ZhCn) => "内容格式不正确，请刷新页面后重新填写".into(),
            (Malformed { .. }, Lang::En) => "This value is not in the expected format; reload the page and fill it in again".into(),
            (Malformed { .. }, Lang::Ru) => "Значение в неверном формате; обновите страницу и заполните снова".into(),
        }
    }
}

/// Whether `lat`/`lon` is a position on Earth (WGS 84 degrees).
pub fn is_on_earth(lat: f64, lon: f64) -> bool {
    (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon)
}

/// A report that passed [`validate_report`]: normalised, and holding the category it was
/// checked against, so nothing downstream looks the category up again or handles a case
/// validation already ruled out. Only `validate_report` makes one.
#[derive(Clone, Debug, PartialEq)]
pub struct ValidReport<'a> {
    report: ReportSubmission,
    category: &'a Category,
}

impl<'a> ValidReport<'a> {
    /// The normalised report.
    pub fn report(&self) -> &ReportSubmission {
        &self.report
    }

    /// The catalog's category the report was checked against.
    pub fn category(&self) -> &'a Category {
        self.category
    }

    /// The report and its category.
    pub fn into_parts(self) -> (ReportSubmission, &'a Category) {
        (self.report, self.category)
    }
}

/// Checks `report` (with `photo_count` photos attached) against `catalog` and returns it
/// normalised with its category, or every problem found, in form order.
pub fn validate_report<'a>(catalog: &'a Catalog, report: &ReportSubmission, photo_count: usize) -> Result<ValidReport<'a>, Vec<ValidationError>> {
    let mut errors = Vec::new();
    let Some(category) = catalog.category(&report.category) else {
        return Err(vec![ValidationError::new("category", Rule::UnknownCategory)]);
    };
    let limits = catalog.limits;
    let mut clean = report.clone();

    if !category.kinds.contains(&report.kind) {
        errors.push(ValidationError::new("kind", Rule::KindNotAllowed));
    }

    clean.description = report.description.trim().to_owned();
    if clean.description.is_empty() {
        errors.push(ValidationError::new("description", Rule::Required));
    } else if char_len(&clean.description) > limits.description_max as usize {
        errors.push(ValidationError::new("description", Rule::TooLong { max: limits.description_max }));
    }

    if let Some(url) = &report.media_url {
        let scheme = url.starts_with("https://") || url.starts_with("http://");
        if !scheme || url.len() > 1000 || url.chars().any(char::is_whitespace) {
            errors.push(ValidationError::new("media_url", Rule::Malformed { detail: "an http(s) link of at most 1000 characters".into() }));
        }
    }

    clean.fields.clear();
    for code in report.fields.keys() {
        if !category.fields.iter().any(|field| &field.code == code) {
            errors.push(ValidationError::new(format!("fields.{code}"), Rule::UnknownField));
        }
    }
    for field in &category.fields {
        match report.fields.get(&field.code).filter(|value| !is_blank(value)) {
            None if field.required => {
                errors.push(ValidationError::new(format!("fields.{}", field.code), Rule::Required));
            }
            None => {}
            Some(value) => match check_field(field, value) {
                Ok(value) => {
                    clean.fields.insert(field.code.clone(), value);
                }
                Err(rule) => errors.push(ValidationError::new(format!("fields.{}", field.code), rule)),
            },
        }
    }

    let max_photos = if category.photos.need == Need::None { 0 } else { category.photos.max };
    if photo_count > max_photos as usize {
        errors.push(ValidationError::new("photos", Rule::TooManyPhotos { max: max_photos }));
    } else if photo_count == 0 && category.photos.need == Need::Required {
        errors.push(ValidationError::new("photos", Rule::Required));
    }

    clean.location = check_location(catalog, category, report.location.as_ref(), &mut errors);
    clean.contact = check_contact(category, report.contact.as_ref(), limits, &mut errors);

    if errors.is_empty() { Ok(ValidReport { report: clean, category }) } else { Err(errors) }
}

fn check_location(catalog: &Catalog, category: &Category, location: Option<&Location>, errors: &mut Vec<ValidationError>) -> Option<Location> {
    if category.location == Need::None {
        return None;
    }
    let mut clean = location.cloned().unwrap_or_default();
    clean.address = clean.address.map(|text| text.trim().to_owned()).filter(|text| !text.is_empty());
    clean.district = clean.district.filter(|code| !code.trim().is_empty());
    match (clean.lat, clean.lon) {
        (Some(lat), Some(lon)) if is_on_earth(lat, lon) => {}
        (None, None) => clean.accuracy_m = None,
        _ => errors.push(ValidationError::new("location", Rule::InvalidCoordinates)),
    }
    if let Some(address) = &clean.address {
        let max = catalog.limits.address_max;
        if char_len(address) > max as usize {
            errors.push(ValidationError::new("location.address", Rule::TooLong { max }));
        }
    }
    if let Some(district) = &clean.district
        && catalog.district(district).is_none()
    {
        errors.push(ValidationError::new("location.district", Rule::UnknownDistrict));
    }
    let empty = clean.lat.is_none() && clean.address.is_none() && clean.district.is_none();
    if empty {
        if category.location == Need::Required {
            errors.push(ValidationError::new("location", Rule::Required));
        }
        return None;
    }
    Some(clean)
}

fn check_contact(category: &Category, contact: Option<&Contact>, limits: Limits, errors: &mut Vec<ValidationError>) -> Option<Contact> {
    let mut clean = contact.cloned().unwrap_or_default();
    clean.name = clean.name.map(|text| text.trim().to_owned()).filter(|text| !text.is_empty());
    clean.phone = clean.phone.filter(|text| !text.trim().is_empty());
    let needed = category.contact == Need::Required;
    if category.contact == Need::None && (clean.phone.is_some() || clean.name.is_some()) {
        errors.push(ValidationError::new("contact", Rule::NotAsked));
        return None;
    }
    if clean.phone.is_none() && clean.name.is_none() {
        if needed {
            errors.push(ValidationError::new("contact.phone", Rule::Required));
        }
        return None;
    }
    if let Some(name) = &clean.name
        && char_len(name) > limits.name_max as usize
    {
        errors.push(ValidationError::new("contact.name", Rule::TooLong { max: limits.name_max }));
    }
    match clean.phone.as_deref().map(normalize_phone) {
        Some(Some(phone)) => clean.phone = Some(phone),
        Some(None) => errors.push(ValidationError::new("contact.phone", Rule::InvalidPhone)),
        None if needed => errors.push(ValidationError::new("contact.phone", Rule::Required)),
        None => {}
    }
    if !clean.consent {
        errors.push(ValidationError::new("contact.consent", Rule::ConsentRequired));
    }
    Some(clean)
}

fn is_blank(value: &FieldValue) -> bool {
    match value {
        FieldValue::Text(text) => text.trim().is_empty(),
        FieldValue::List(items) => items.is_empty(),
        FieldValue::Number(_) => false,
    }
}

fn char_len(text: &str) -> usize {
    text.chars().count()
}

fn wrong_type(expected: &str) -> Rule {
    Rule::WrongType { expected: expected.into() }
}

/// Checks one field value against its definition and returns it normalised.
pub fn check_field(field: &FieldDef, value: &FieldValue) -> Result<FieldValue, Rule> {
    let text = match value {
        FieldValue::Text(text) => Some(text.trim()),
        _ => None,
    };
    match &field.kind {
        FieldKind::Text { max_len } | FieldKind::LongText { max_len } => {
            let text = text.ok_or_else(|| wrong_type("text"))?;
            if char_len(text) > *max_len as usize {
                return Err(Rule::TooLong { max: *max_len });
            }
            Ok(FieldValue::Text(text.to_owned()))
        }
        FieldKind::Number { min, max, .. } => {
            let number = match value {
                FieldValue::Number(number) => *number,
                FieldValue::Text(text) => parse_number(text).ok_or(Rule::NotANumber)?,
                FieldValue::List(_) => return Err(wrong_type("number")),
            };
            if !number.is_finite() {
                return Err(Rule::NotANumber);
            }
            if number < *min || number > *max {
                return Err(Rule::OutOfRange { min: *min, max: *max });
            }
            Ok(FieldValue::Number(number))
        }
        FieldKind::DateTime => {
            let text = text.ok_or_else(|| wrong_type("text"))?;
            normalize_date_time(text).map(FieldValue::Text).ok_or(Rule::InvalidDateTime)
        }
        FieldKind::Choice { options } => {
            let text = text.ok_or_else(|| wrong_type("text"))?;
            if options.iter().any(|option| option.code == text) { Ok(FieldValue::Text(text.to_owned())) } else { Err(Rule::InvalidChoice) }
        }
        FieldKind::MultiChoice { options } => {
            let FieldValue::List(items) = value else { return Err(wrong_type("list")) };
            let mut picked: Vec<String> = Vec::new();
            for item in items {
                if !options.iter().any(|option| &option.code == item) {
                    return Err(Rule::InvalidChoice);
                }
                if !picked.contains(item) {
                    picked.push(item.clone());
                }
            }
            Ok(FieldValue::List(picked))
        }
        FieldKind::Plate => {
            let text = text.ok_or_else(|| wrong_type("text"))?;
            normalize_plate(text).map(FieldValue::Text).ok_or(Rule::InvalidPlate)
        }
        FieldKind::Phone => {
            let text = text.ok_or_else(|| wrong_type("text"))?;
            normalize_phone(text).map(FieldValue::Text).ok_or(Rule::InvalidPhone)
        }
        FieldKind::Money => {
            let text = match value {
                FieldValue::Number(number) if number.is_finite() && *number >= 0.0 => format!("{number}"),
                FieldValue::Text(text) => text.trim().to_owned(),
                _ => return Err(Rule::InvalidMoney),
            };
            normalize_money(&text).map(FieldValue::Text).ok_or(Rule::InvalidMoney)
        }
    }
}

/// Province abbreviations that open a Chinese civilian plate.
const PROVINCES: &str = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼";
/// Characters that may end a special-use plate (learner, police, trailer, HK, Macau, ...).
const PLATE_SUFFIXES: &str = "学警挂港澳领试超使";

fn plate_char(c: char) -> bool {
    (c.is_ascii_uppercase() && c != 'I' && c != 'O') || c.is_ascii_digit()
}

/// Normalises a Chinese vehicle plate to `黑A·12345` form, tolerating spaces, dots and
/// lower case; `None` when it is not a plate. New-energy plates have six characters after
/// the letter, with D or F first (small cars) or last (large vehicles).
pub fn normalize_plate(input: &str) -> Option<String> {
    let chars: Vec<char> = input.chars().filter(|c| !matches!(c, ' ' | '\u{3000}' | '·' | '•' | '.' | '-' | '・')).map(|c| c.to_ascii_uppercase()).collect();
    let (province, letter, rest) = match chars.as_slice() {
        [province, letter, rest @ ..] => (*province, *letter, rest),
        _ => return None,
    };
    if !PROVINCES.contains(province) || !letter.is_ascii_uppercase() {
        return None;
    }
    let ok = match rest {
        [body @ .., last] if rest.len() == 5 && PLATE_SUFFIXES.contains(*last) => body.iter().all(|c| plate_char(*c)),
        _ if rest.len() == 5 => rest.iter().all(|c| plate_char(*c)),
        [first, tail @ ..] if rest.len() == 6 && matches!(first, 'D' | 'F') => plate_char(tail[0]) && tail[1..].iter().all(char::is_ascii_digit),
        [head @ .., last] if rest.len() == 6 && matches!(last, 'D' | 'F') => head.iter().all(char::is_ascii_digit),
        _ => false,
    };
    ok.then(|| format!("{province}{letter}·{}", rest.iter().collect::<String>()))
}

/// Normalises a phone number: a mainland mobile becomes its 11 digits, an international
/// number `+` and digits (E.164); `None` when it is neither.
pub fn normalize_phone(input: &str) -> Option<String> {
    let trimmed = input.trim();
    let plus = trimmed.starts_with('+') || trimmed.starts_with("00");
    let digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
    if trimmed.chars().any(|c| !(c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '(' | ')'))) {
        return None;
    }
    let digits = if trimmed.starts_with("00") { digits[2..].to_owned() } else { digits };
    let mobile = |number: &str| number.len() == 11 && number.starts_with('1') && matches!(number.as_bytes()[1], b'3'..=b'9');
    if !plus && mobile(&digits) {
        return Some(digits);
    }
    if let Some(national) = digits.strip_prefix("86") {
        if mobile(national) {
            return Some(national.to_owned());
        }
        if plus {
            return None;
        }
    }
    if plus && (8..=15).contains(&digits.len()) && !digits.starts_with('0') {
        return Some(format!("+{digits}"));
    }
    None
}

/// Normalises an amount in yuan (`35`, `35.5`, `¥35.50`) to two decimals.
pub fn normalize_money(input: &str) -> Option<String> {
    let text = input.trim().trim_start_matches(['¥', '￥']).trim_end_matches('元').trim();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits_only = |part: &str| part.chars().all(|c| c.is_ascii_digit());
    if whole.is_empty() || whole.len() > 9 || !digits_only(whole) || fraction.len() > 2 || !digits_only(fraction) {
        return None;
    }
    let whole: u64 = whole.parse().ok()?;
    Some(format!("{whole}.{fraction:0<2}"))
}

/// Checks a `YYYY-MM-DDTHH:MM[:SS]` local date-time (a space may stand for the `T`) and
/// returns it as `YYYY-MM-DDTHH:MM`.
pub fn normalize_date_time(input: &str) -> Option<String> {
    let text = input.trim();
    let (date, time) = text.split_once(['T', ' '])?;
    let mut date_parts = date.split('-');
    let year: u32 = parse_digits(date_parts.next()?, 4)?;
    let month: u32 = parse_digits(date_parts.next()?, 2)?;
    let day: u32 = parse_digits(date_parts.next()?, 2)?;
    let mut time_parts = time.split(':');
    let hour: u32 = parse_digits(time_parts.next()?, 2)?;
    let minute: u32 = parse_digits(time_parts.next()?, 2)?;
    let second: u32 = time_parts.next().map_or(Some(0), |part| parse_digits(part, 2))?;
    if date_parts.next().is_some() || time_parts.next().is_some() {
        return None;
    }
    let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    let valid = (2000..=2100).contains(&year) && (1..=days_in_month).contains(&day) && hour < 24 && minute < 60 && second < 60;
    valid.then(|| format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}"))
}

fn parse_digits(part: &str, width: usize) -> Option<u32> {
    (part.len() == width && part.chars().all(|c| c.is_ascii_digit())).then(|| part.parse().ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plates_are_normalised_or_rejected() {
        let cases = [
            ("黑A12345", Some("黑A·12345")),
            ("黑a·12345", Some("黑A·12345")),
            (" 黑 A 1234学 ", Some("黑A·1234学")),
            ("京AD12345", Some("京A·D12345")),
            ("粤B12345F", Some("粤B·12345F")),
            ("京ADA1234", Some("京A·DA1234")),
            ("XA12345", None),
            ("黑A1234", None),
            ("黑A12I45", None),
            ("黑AX23456", None),
            ("", None),
        ];
        for (input, expected) in cases {
            assert_eq!(normalize_plate(input).as_deref(), expected, "plate {input:?}");
        }
    }

    #[test]
    fn phones_are_normalised_or_rejected() {
        let cases = [
            ("13812345678", Some("13812345678")),
            ("138 1234 5678", Some("13812345678")),
            ("+86 138-1234-5678", Some("13812345678")),
            ("+7 914 123-45-67", Some("+79141234567")),
            ("0079141234567", Some("+79141234567")),
            ("12812345678", None),
            ("1381234567", None),
            ("+86 12345", None),
            ("+0123456789", None),
            ("call me", None),
        ];
        for (input, expected) in cases {
            assert_eq!(normalize_phone(input).as_deref(), expected, "phone {input:?}");
        }
    }

    #[test]
    fn money_and_date_times_are_normalised_or_rejected() {
        assert_eq!(normalize_money("35").as_deref(), Some("35.00"));
        assert_eq!(normalize_money("¥35.5").as_deref(), Some("35.50"));
        assert_eq!(normalize_money("35.555"), None);
        assert_eq!(normalize_money("-3"), None);
        assert_eq!(normalize_money("abc"), None);
        assert_eq!(normalize_date_time("2026-11-25T21:30").as_deref(), Some("2026-11-25T21:30"));
        assert_eq!(normalize_date_time("2026-11-25 21:30:59").as_deref(), Some("2026-11-25T21:30"));
        assert_eq!(normalize_date_time("2026-02-30T10:00"), None);
        assert_eq!(normalize_date_time("2026-11-25"), None);
    }
}
