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

#[cfg(test)]
mod tests {
    use super::*;

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
