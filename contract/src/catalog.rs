//! The city's catalog as the widget receives it: groups of categories, the fields each
//! category asks for, its photo/location/contact policies, the responsible department
//! and the districts. The server reads it from a TOML file the city edits.

use serde::{Deserialize, Serialize};

use crate::i18n::{Lang, Localized};
use crate::report::RequestKind;

/// Text limits, configured on the server and published in the catalog.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Longest description, in characters.
    pub description_max: u32,
    /// Longest address, in characters.
    pub address_max: u32,
    /// Longest contact name, in characters.
    pub name_max: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { description_max: 2000, address_max: 200, name_max: 50 }
    }
}

/// Everything the widget needs to render the form for any category.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Catalog {
    /// The city's name, shown in the widget's header.
    pub city: Localized,
    /// Text limits the server enforces, so the widget can enforce them first.
    #[serde(default)]
    pub limits: Limits,
    /// Groups of categories, in the order the picker shows them.
    pub groups: Vec<Group>,
    /// Every category a resident can pick.
    pub categories: Vec<Category>,
    /// Departments that receive reports.
    pub departments: Vec<Department>,
    /// The city's districts.
    pub districts: Vec<District>,
    /// The department code of the hotline's supervising office (督办): reports past their
    /// time limit, or unsolved after two handlings, go to it.
    #[serde(default)]
    pub supervisor: String,
    /// The hotline's full number from a foreign phone (country and city code, e.g.
    /// `+86 451 12345`): tourists on a roaming SIM may not reach the short number.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub hotline_abroad: String,
    /// Whether the server offers a map to place the pin on (server configuration, like the
    /// limits; the tiles themselves are fetched only when a resident opens the map).
    #[serde(default, skip_serializing_if = "is_false")]
    pub map: bool,
}

fn is_false(value: &bool) -> bool {
    !value
}

impl Catalog {
    /// The category with this stable code.
    pub fn category(&self, code: &str) -> Option<&Category> {
        self.categories.iter().find(|category| category.code == code)
    }

    /// The department with this code.
    pub fn department(&self, code: &str) -> Option<&Department> {
        self.departments.iter().find(|department| department.code == code)
    }

    /// The district with this code.
    pub fn district(&self, code: &str) -> Option<&District> {
        self.districts.iter().find(|district| district.code == code)
    }

    /// The catalog as a department's page offers it: only the department's own categories,
    /// or all of them when it has none (rather than an empty form). The widget narrows the
    /// catalog it downloads this way; the server its first screen.
    pub fn for_department(self, department: &str) -> Catalog {
        if !self.has_categories_of(department) {
            return self;
        }
        let categories = self.categories.iter().filter(|category| category.department == department).cloned().collect();
        Catalog { categories, ..self }
    }

    /// The categories a page offers: a department's page (`department`) only that
    /// department's, or all when it has none (as [`Catalog::for_department`]).
    pub fn offered<'a>(&'a self, department: Option<&'a str>) -> impl Iterator<Item = &'a Category> + 'a {
        let narrowed = department.filter(|department| self.has_categories_of(department));
        self.categories.iter().filter(move |category| narrowed.is_none_or(|department| category.department == department))
    }

    fn has_categories_of(&self, department: &str) -> bool {
        self.categories.iter().any(|category| category.department == department)
    }

    /// The same catalog without search words: what the widget downloads first, while a
    /// resident who searches gets [`Catalog::search_words`] when the search box is first used.
    pub fn without_keywords(&self) -> Catalog {
        let mut slim = self.clone();
        for category in &mut slim.categories {
            category.keywords = Keywords::default();
        }
        slim
    }

    /// Every category's search words in all three languages, with its names in all three
    /// (so a catalog in one language is found by the names of the others).
    pub fn search_words(&self) -> SearchWords {
        self.categories
            .iter()
            .map(|category| {
                let mut keywords = category.keywords.clone();
                keywords.add_names(&category.name, None);
                CategoryWords { code: category.code.clone(), keywords }
            })
            .collect()
    }

    /// Puts search words fetched apart back into the categories they belong to.
    pub fn add_search_words(&mut self, words: &[CategoryWords]) {
        for category in &mut self.categories {
            if let Some(found) = words.iter().find(|words| words.code == category.code) {
                category.keywords = found.keywords.clone();
            }
        }
    }

    /// The same catalog with every text kept only in `lang`, which the widget downloads
    /// instead of all three languages. Search still works in all three: the keywords stay
    /// in every language, and the other languages' names join them.
    pub fn only(&self, lang: Lang) -> Catalog {
        let mut one = self.clone();
        one.city = one.city.only(lang);
        for group in &mut one.groups {
            group.name = group.name.only(lang);
        }
        for category in &mut one.categories {
            category.localize_only(lang);
        }
        for department in &mut one.departments {
            department.name = department.name.only(lang);
        }
        for district in &mut one.districts {
            district.name = district.name.only(lang);
        }
        one
    }
}

/// A group of related categories ("roads and public facilities", "transport", ...).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Group {
    /// Stable code.
    pub code: String,
    /// Display name.
    pub name: Localized,
    /// Icon: a short emoji or symbol shown beside the name.
    #[serde(default)]
    pub icon: String,
}

/// One kind of problem a resident can report, and what the department needs to act on it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Category {
    /// Stable code, never reused for another meaning (it is in every stored report).
    pub code: String,
    /// The group it belongs to.
    pub group: String,
    /// Display name.
    pub name: Localized,
    /// One line telling the resident what belongs here.
    #[serde(default)]
    pub description: Localized,
    /// Icon: a short emoji or symbol.
    #[serde(default)]
    pub icon: String,
    /// Extra words a resident may type to find it, in each language (absent from a catalog
    /// served with its search words apart, see [`SearchWords`]).
    #[serde(default, skip_serializing_if = "Keywords::is_empty")]
    pub keywords: Keywords,
    /// The request kinds this category accepts.
    pub kinds: Vec<RequestKind>,
    /// The category's own fields, in display order.
    #[serde(default)]
    pub fields: Vec<FieldDef>,
    /// Whether photos are asked for, and how many at most.
    #[serde(default)]
    pub photos: PhotoPolicy,
    /// Whether a location is needed.
    #[serde(default)]
    pub location: Need,
    /// Whether the department must be able to call the resident back.
    #[serde(default)]
    pub contact: Need,
    /// Code of the responsible department.
    pub department: String,
    /// Hours the department has to resolve it.
    pub time_limit_hours: u32,
    /// The Open311 GeoReport v2 `service_code` for this category.
    #[serde(default)]
    pub service_code: String,
}

impl Category {
    fn localize_only(&mut self, lang: Lang) {
        self.keywords.add_names(&self.name, Some(lang));
        self.name = self.name.only(lang);
        self.description = self.description.only(lang);
        for field in &mut self.fields {
            field.label = field.label.only(lang);
            field.placeholder = field.placeholder.as_ref().map(|text| text.only(lang));
            field.help = field.help.as_ref().map(|text| text.only(lang));
            match &mut field.kind {
                FieldKind::Number { unit, .. } => *unit = unit.only(lang),
                FieldKind::Choice { options } | FieldKind::MultiChoice { options } => {
                    for option in options {
                        option.label = option.label.only(lang);
                    }
                }
                _ => {}
            }
        }
    }
}

/// Every category's search words (`GET /api/v1/catalog/keywords`).
pub type SearchWords = Vec<CategoryWords>;

/// One category's search words.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryWords {
    /// The category's code.
    pub code: String,
    /// Its words in each language, its names in all three among them.
    pub keywords: Keywords,
}

/// Search words in each language.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Keywords {
    /// Chinese search words.
    #[serde(rename = "zh-CN", default)]
    pub zh: Vec<String>,
    /// English search words.
    #[serde(default)]
    pub en: Vec<String>,
    /// Russian search words.
    #[serde(default)]
    pub ru: Vec<String>,
}

impl Keywords {
    /// Adds the category's `name` in every language but `shown` (which the name itself
    /// carries; all three without one) to that language's words, so a catalog in one
    /// language is still found by the names of the other two.
    pub fn add_names(&mut self, name: &Localized, shown: Option<Lang>) {
        for (lang, words) in [(Lang::ZhCn, &mut self.zh), (Lang::En, &mut self.en), (Lang::Ru, &mut self.ru)] {
            let text = match lang {
                Lang::ZhCn => &name.zh,
                Lang::En => &name.en,
                Lang::Ru => &name.ru,
            };
            if Some(lang) != shown && !text.is_empty() {
                words.push(text.clone());
            }
        }
    }

    /// Whether there are no words in any language.
    pub fn is_empty(&self) -> bool {
        self.zh.is_empty() && self.en.is_empty() && self.ru.is_empty()
    }

    /// All words in all languages.
    pub fn all(&self) -> impl Iterator<Item = &String> {
        self.zh.iter().chain(&self.en).chain(&self.ru)
    }
}

/// How much a category needs something from the resident.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Need {
    /// The report is refused without it.
    Required,
    /// Asked for and encouraged, but not enforced.
    Recommended,
    /// Offered.
    #[default]
    Optional,
    /// Not asked for at all.
    None,
}

/// Photo policy of a category.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhotoPolicy {
    /// Whether photos are needed.
    pub need: Need,
    /// At most this many photos.
    pub max: u8,
}

impl Default for PhotoPolicy {
    fn default() -> Self {
        PhotoPolicy { need: Need::Optional, max: 3 }
    }
}

/// A field a category asks for. In JSON and TOML its kind's `type` and settings sit beside
/// the code and label (`{"code": "temp", "type": "number", "min": -30, "max": 40, …}`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawFieldDef")]
pub struct FieldDef {
    /// Stable code; the key in the report's `fields`.
    pub code: String,
    /// The label shown beside the input.
    pub label: Localized,
    /// What kind of value it takes.
    #[serde(flatten)]
    pub kind: FieldKind,
    /// Whether the report is refused without it.
    #[serde(default)]
    pub required: bool,
    /// Example text shown in the empty input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placeholder: Option<Localized>,
    /// A sentence of help under the input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<Localized>,
}

/// The kinds of value a field can take.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FieldKind {
    /// One line of text.
    Text {
        /// Maximum length in characters.
        #[serde(default = "default_text_max")]
        max_len: u32,
    },
    /// Several lines of text.
    LongText {
        /// Maximum length in characters.
        #[serde(default = "default_long_text_max")]
        max_len: u32,
    },
    /// A number with a unit, within a range.
    Number {
        /// Unit shown after the input ("°C", "元").
        #[serde(default)]
        unit: Localized,
        /// Smallest allowed value.
        min: f64,
        /// Largest allowed value.
        max: f64,
    },
    /// A local date and time, `YYYY-MM-DDTHH:MM` as an HTML `datetime-local` input gives it.
    DateTime,
    /// Exactly one of the options.
    Choice {
        /// The options.
        options: Vec<ChoiceOption>,
    },
    /// Any number of the options.
    MultiChoice {
        /// The options.
        options: Vec<ChoiceOption>,
    },
    /// A Chinese vehicle plate such as 黑A·12345 or a new-energy plate.
    Plate,
    /// A mainland mobile number or an international number in E.164 form.
    Phone,
    /// An amount in yuan with at most two decimals.
    Money,
}

fn default_text_max() -> u32 {
    100
}

fn default_long_text_max() -> u32 {
    1000
}

/// A field as written: every kind's settings side by side, checked by `TryFrom`. Read this way
/// rather than as `#[serde(flatten)]` over an internally tagged enum, which buffers each field
/// into serde's generic `Content` tree first and costs the widget's wasm far more code.
#[derive(Deserialize)]
struct RawFieldDef {
    code: String,
    label: Localized,
    #[serde(rename = "type")]
    kind: KindName,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    placeholder: Option<Localized>,
    #[serde(default)]
    help: Option<Localized>,
    max_len: Option<u32>,
    #[serde(default)]
    unit: Localized,
    min: Option<f64>,
    max: Option<f64>,
    options: Option<Vec<ChoiceOption>>,
}

#[derive(Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum KindName {
    Text,
    LongText,
    Number,
    DateTime,
    Choice,
    MultiChoice,
    Plate,
    Phone,
    Money,
}

impl TryFrom<RawFieldDef> for FieldDef {
    type Error = String;

    fn try_from(raw: RawFieldDef) -> Result<Self, String> {
        let missing = |what: &str, kind: &str| format!("field `{}`: a {kind} field needs `{what}`", raw.code);
        let kind = match raw.kind {
            KindName::Text => FieldKind::Text { max_len: raw.max_len.unwrap_or_else(default_text_max) },
            KindName::LongText => FieldKind::LongText { max_len: raw.max_len.unwrap_or_else(default_long_text_max) },
            KindName::Number => FieldKind::Number { min: raw.min.ok_or_else(|| missing("min", "number"))?, max: raw.max.ok_or_else(|| missing("max", "number"))?, unit: raw.unit },
            KindName::DateTime => FieldKind::DateTime,
            KindName::Choice => FieldKind::Choice { options: raw.options.ok_or_else(|| missing("options", "choice"))? },
            KindName::MultiChoice => FieldKind::MultiChoice { options: raw.options.ok_or_else(|| missing("options", "multi_choice"))? },
            KindName::Plate => FieldKind::Plate,
            KindName::Phone => FieldKind::Phone,
            KindName::Money => FieldKind::Money,
        };
        Ok(FieldDef { code: raw.code, label: raw.label, kind, required: raw.required, placeholder: raw.placeholder, help: raw.help })
    }
}

/// One option of a choice field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChoiceOption {
    /// Stable code sent in the report.
    pub code: String,
    /// Display label.
    pub label: Localized,
}

/// A department that receives reports.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Department {
    /// Stable code.
    pub code: String,
    /// Display name.
    pub name: Localized,
}

/// A district of the city.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct District {
    /// Stable code.
    pub code: String,
    /// The national administrative division code (GB/T 2260), e.g. 230102 for Daoli.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub admin_code: String,
    /// Display name.
    pub name: Localized,
}

/// `GET /api/v1/districts/locate`: the district containing a point.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocatedDistrict {
    /// The district's code, or `None` when the point is in no known district.
    pub district: Option<String>,
    /// Whether the catalog has boundaries at all; without them the resident must choose.
    pub boundaries_known: bool,
}
