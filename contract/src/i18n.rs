//! The three languages of the widget (Chinese by default, English and Russian for
//! visitors), a string given in all of them, and how each language writes a count of
//! things ([`plural`]) and a decimal number ([`decimal`]).

use serde::{Deserialize, Serialize};

/// A language the widget and the server's messages are available in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Lang {
    /// Simplified Chinese, the default.
    #[default]
    #[serde(rename = "zh-CN")]
    ZhCn,
    /// English.
    #[serde(rename = "en")]
    En,
    /// Russian, for the city's many Russian-speaking visitors.
    #[serde(rename = "ru")]
    Ru,
}

impl Lang {
    /// Every supported language, the default first.
    pub const ALL: [Lang; 3] = [Lang::ZhCn, Lang::En, Lang::Ru];

    /// The BCP 47 tag, as used in `lang` attributes and `?lang=` parameters.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::ZhCn => "zh-CN",
            Lang::En => "en",
            Lang::Ru => "ru",
        }
    }

    /// Parses a language tag leniently (`zh`, `zh-cn`, `en-US`, `ru-RU` all work).
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "zh" => Some(Lang::ZhCn),
            "en" => Some(Lang::En),
            "ru" => Some(Lang::Ru),
            _ => None,
        }
    }

    /// Picks the best supported language from an HTTP `Accept-Language` header value,
    /// honouring the order of the entries (quality values are rarely anything but
    /// descending in practice) and falling back to the default.
    pub fn from_accept_language(header: &str) -> Lang {
        header.split(',').filter_map(|entry| Lang::from_tag(entry.split(';').next().unwrap_or(""))).next().unwrap_or_default()
    }
}

/// A piece of text in each supported language. The catalog requires all three.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Localized {
    /// Simplified Chinese.
    #[serde(rename = "zh-CN", default)]
    pub zh: String,
    /// English.
    #[serde(default)]
    pub en: String,
    /// Russian.
    #[serde(default)]
    pub ru: String,
}

impl Localized {
    /// The text in `lang`, falling back to Chinese when that translation is empty.
    pub fn get(&self, lang: Lang) -> &str {
        let text = match lang {
            Lang::ZhCn => &self.zh,
            Lang::En => &self.en,
            Lang::Ru => &self.ru,
        };
        if text.is_empty() { &self.zh } else { text }
    }

    /// The languages whose text is missing (empty or only whitespace).
    pub fn missing(&self) -> Vec<Lang> {
        Lang::ALL
            .into_iter()
            .filter(|lang| {
                let text = match lang {
                    Lang::ZhCn => &self.zh,
                    Lang::En => &self.en,
                    Lang::Ru => &self.ru,
                };
                text.trim().is_empty()
            })
            .collect()
    }

    /// Keeps only `lang` (the others emptied), so a one-language catalog is smaller.
    pub fn only(&self, lang: Lang) -> Localized {
        let mut one = Localized::default();
        let text = self.get(lang).to_owned();
        match lang {
            Lang::ZhCn => one.zh = text,
            Lang::En => one.en = text,
            Lang::Ru => one.ru = text,
        }
        one
    }
}

/// Which form of a counted word a language needs for a number. Chinese has one form;
/// English one and other; Russian one (1, 21, 101…), few (2–4, 22–24…) and many (0, 5–20,
/// 25–30, 11–14…), as CLDR defines them for integers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plural {
    /// 1 item; Russian: 1, 21, 31, … but not 11.
    One,
    /// Russian only: 2–4, 22–24, … but not 12–14.
    Few,
    /// Everything else ("other" in English).
    Many,
}

/// The plural form of `n` in `lang`.
pub fn plural(lang: Lang, n: u64) -> Plural {
    match lang {
        Lang::ZhCn => Plural::Many,
        Lang::En => {
            if n == 1 {
                Plural::One
            } else {
                Plural::Many
            }
        }
        Lang::Ru => match (n % 10, n % 100) {
            (1, last_two) if last_two != 11 => Plural::One,
            (2..=4, last_two) if !(12..=14).contains(&last_two) => Plural::Few,
            _ => Plural::Many,
        },
    }
}

/// `value` with at most `decimals` decimals (trailing zeros dropped), written the way
/// `lang` writes it: a decimal point in Chinese and English, a decimal comma in Russian
/// (36,6).
pub fn decimal(lang: Lang, value: f64, decimals: u32) -> String {
    let text = crate::number::format_number(value, decimals);
    if lang == Lang::Ru { text.replace('.', ",") } else { text }
}

/// A unit as it reads after a number: a catalog unit may list its plural forms separated by
/// `|` (English `person|people`, Russian `человек|человека|человек`, in the order of
/// [`Plural`]); with no number (beside an input) the last, general form is used. A fraction
/// takes the plural in English and the genitive singular (the "few" form) in Russian.
pub fn unit_form(unit: &str, lang: Lang, n: Option<f64>) -> &str {
    let mut forms = unit.split('|');
    let first = forms.next().unwrap_or_default();
    let rest: [Option<&str>; 2] = [forms.next(), forms.next()];
    let last = rest[1].or(rest[0]).unwrap_or(first);
    let Some(n) = n else { return last };
    let form = if n.fract() != 0.0 { if lang == Lang::Ru { Plural::Few } else { Plural::Many } } else { plural(lang, n.abs() as u64) };
    match form {
        Plural::One => first,
        Plural::Few if lang == Lang::Ru => rest[0].unwrap_or(last),
        _ => last,
    }
}

/// English month abbreviations.
const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// A date and time as a datetime field holds it (`2026-11-25T21:30`, seconds allowed),
/// written as each language writes it: `2026年11月25日 21:30`, `25 Nov 2026, 21:30`,
/// `25.11.2026, 21:30`. `None` when the value is not such a date and time.
pub fn local_datetime(value: &str, lang: Lang) -> Option<String> {
    let (date, time) = value.split_once('T')?;
    let mut parts = date.splitn(3, '-');
    let year: u32 = parts.next()?.parse().ok()?;
    let month: usize = parts.next()?.parse().ok()?;
    let day: u32 = parts.next()?.parse().ok()?;
    let clock = time.get(..5)?;
    let digits = |text: &str| text.len() == 2 && text.bytes().all(|byte| byte.is_ascii_digit());
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || clock.as_bytes()[2] != b':' || !digits(&clock[..2]) || !digits(&clock[3..]) {
        return None;
    }
    Some(match lang {
        Lang::ZhCn => format!("{year}年{month}月{day}日 {clock}"),
        Lang::En => format!("{day} {} {year}, {clock}", MONTHS[month - 1]),
        Lang::Ru => format!("{day:02}.{month:02}.{year}, {clock}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_take_the_form_their_number_needs() {
        let (en, ru) = ("person|people", "человек|человека|человек");
        let cases = [
            (1.0, "person", "человек"),
            (2.0, "people", "человека"),
            (5.0, "people", "человек"),
            (11.0, "people", "человек"),
            (21.0, "people", "человек"),
            (22.0, "people", "человека"),
            (25.0, "people", "человек"),
            (1.5, "people", "человека"),
        ];
        for (n, english, russian) in cases {
            assert_eq!(unit_form(en, Lang::En, Some(n)), english, "{n}");
            assert_eq!(unit_form(ru, Lang::Ru, Some(n)), russian, "{n}");
        }
        assert_eq!(unit_form("人", Lang::ZhCn, Some(1.0)), "人");
        assert_eq!(unit_form(en, Lang::En, None), "people");
        assert_eq!(unit_form("°C", Lang::Ru, Some(21.0)), "°C");
    }

    #[test]
    fn dates_and_times_are_written_as_each_language_writes_them() {
        assert_eq!(local_datetime("2026-11-25T21:30", Lang::ZhCn).as_deref(), Some("2026年11月25日 21:30"));
        assert_eq!(local_datetime("2026-11-05T09:05:00", Lang::En).as_deref(), Some("5 Nov 2026, 09:05"));
        assert_eq!(local_datetime("2026-01-05T09:05", Lang::Ru).as_deref(), Some("05.01.2026, 09:05"));
        for broken in ["2026-13-01T10:00", "2026-11-25", "yesterday", "2026-11-25T2130", "2026-11-25Tab:cd"] {
            assert_eq!(local_datetime(broken, Lang::En), None, "{broken}");
        }
    }

    #[test]
    fn accept_language_picks_first_supported_entry() {
        assert_eq!(Lang::from_accept_language("ru-RU,ru;q=0.9,en;q=0.8"), Lang::Ru);
        assert_eq!(Lang::from_accept_language("de-DE, en-US;q=0.7"), Lang::En);
        assert_eq!(Lang::from_accept_language("fr"), Lang::ZhCn);
        assert_eq!(Lang::from_accept_language(""), Lang::ZhCn);
    }

    #[test]
    fn missing_translation_falls_back_to_chinese() {
        let text = Localized { zh: "井盖".into(), en: String::new(), ru: "Люк".into() };
        assert_eq!(text.get(Lang::En), "井盖");
        assert_eq!(text.get(Lang::Ru), "Люк");
        assert_eq!(text.missing(), vec![Lang::En]);
    }

    #[test]
    fn plurals_follow_each_language() {
        use Plural::{Few, Many, One};
        let counts = [1, 2, 5, 11, 21, 22, 25, 12, 101, 111, 0];
        let russian: Vec<Plural> = counts.iter().map(|n| plural(Lang::Ru, *n)).collect();
        assert_eq!(russian, [One, Few, Many, Many, One, Few, Many, Many, One, Many, Many]);
        let english: Vec<Plural> = counts.iter().map(|n| plural(Lang::En, *n)).collect();
        assert_eq!(english, [One, Many, Many, Many, Many, Many, Many, Many, Many, Many, Many]);
        assert!(counts.iter().all(|n| plural(Lang::ZhCn, *n) == Many), "Chinese has one form");
    }

    #[test]
    fn decimals_are_written_as_each_language_writes_them() {
        assert_eq!(decimal(Lang::Ru, 1.5, 1), "1,5");
        assert_eq!(decimal(Lang::Ru, 36.6, 1), "36,6");
        assert_eq!(decimal(Lang::En, 1.5, 1), "1.5");
        assert_eq!(decimal(Lang::ZhCn, 5.0, 1), "5");
        assert_eq!(decimal(Lang::Ru, -30.0, 2), "-30");
    }
}
