//! The three languages of the widget (Chinese by default, English and Russian for
//! visitors) and a string given in all of them.

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
}
