//! Loads the city's catalog from TOML (the built-in Harbin catalog unless the city names
//! its own file) and refuses to start on a catalog that would confuse residents or lose
//! reports, naming the entry and the rule that is wrong.

use std::collections::HashSet;
use std::path::Path;

use lianxin_contract::catalog::{FieldKind, Need};
use lianxin_contract::{Catalog, Localized};
use thiserror::Error;

use crate::geo::DistrictMap;

/// The catalog that ships with Lianxin: Harbin's categories, departments and districts.
pub const HARBIN_CATALOG: &str = include_str!("../../catalog/harbin.toml");

/// Why a catalog file cannot be used.
#[derive(Debug, Error)]
pub enum CatalogError {
    /// The file could not be read.
    #[error("cannot read catalog {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not valid TOML of the catalog's shape.
    #[error("catalog is not valid: {0}")]
    Parse(String),
    /// An entry breaks a rule.
    #[error("catalog entry {entry}: {rule}")]
    Invalid {
        /// Which entry, e.g. `category "manhole_cover"`.
        entry: String,
        /// Which rule it breaks.
        rule: String,
    },
}

/// A checked catalog and the district boundaries it carries.
#[derive(Clone, Debug)]
pub struct CityCatalog {
    /// What the widget gets.
    pub catalog: Catalog,
    /// District boundaries, for placing a point in its district.
    pub districts: DistrictMap,
    /// How reports form classes of cases (`[classes]`; server-side only).
    pub classes: crate::classes::ClassRules,
}

/// Reads the catalog at `path`, or the built-in one when `path` is `None`.
pub fn load(path: Option<&Path>) -> Result<CityCatalog, CatalogError> {
    match path {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|source| CatalogError::Read { path: path.display().to_string(), source })?;
            parse(&text)
        }
        None => parse(HARBIN_CATALOG),
    }
}

/// Parses and checks catalog text.
pub fn parse(text: &str) -> Result<CityCatalog, CatalogError> {
    let catalog: Catalog = toml::from_str(text).map_err(|error| CatalogError::Parse(error.to_string()))?;
    check(&catalog)?;
    let districts = DistrictMap::from_catalog_text(text).map_err(|(district, problem)| invalid(format!("district {district:?}"), format!("boundary: {problem}")))?;
    let classes = crate::classes::ClassRules::from_catalog_text(text).map_err(|problem| invalid("classes".into(), problem))?;
    if let Some(code) = classes.categories.keys().find(|code| catalog.category(code).is_none()) {
        return Err(invalid("classes".into(), format!("category {code:?} is not in the catalog")));
    }
    Ok(CityCatalog { catalog, districts, classes })
}

fn invalid(entry: String, rule: impl Into<String>) -> CatalogError {
    CatalogError::Invalid { entry, rule: rule.into() }
}

fn check_languages(entry: &str, what: &str, text: &Localized) -> Result<(), CatalogError> {
    let missing = text.missing();
    if missing.is_empty() {
        Ok(())
    } else {
        let tags: Vec<&str> = missing.iter().map(|lang| lang.tag()).collect();
        Err(invalid(entry.to_owned(), format!("{what} is missing in {}", tags.join(", "))))
    }
}

fn unique<'a>(kind: &str, codes: impl Iterator<Item = &'a str>) -> Result<HashSet<&'a str>, CatalogError> {
    let mut seen = HashSet::new();
    for code in codes {
        if code.trim().is_empty() {
            return Err(invalid(format!("{kind} with an empty code"), "every entry needs a code"));
        }
        if !seen.insert(code) {
            return Err(invalid(format!("{kind} {code:?}"), "the code is used twice"));
        }
    }
    Ok(seen)
}

/// Checks the rules every catalog must keep.
pub fn check(catalog: &Catalog) -> Result<(), CatalogError> {
    check_languages("city", "name", &catalog.city)?;
    let departments = unique("department", catalog.departments.iter().map(|d| d.code.as_str()))?;
    let groups = unique("group", catalog.groups.iter().map(|g| g.code.as_str()))?;
    unique("district", catalog.districts.iter().map(|d| d.code.as_str()))?;
    unique("category", catalog.categories.iter().map(|c| c.code.as_str()))?;
    unique("category service_code", catalog.categories.iter().map(|c| c.service_code.as_str()))?;
    for department in &catalog.departments {
        check_languages(&format!("department {:?}", department.code), "name", &department.name)?;
    }
    for group in &catalog.groups {
        check_languages(&format!("group {:?}", group.code), "name", &group.name)?;
    }
    for district in &catalog.districts {
        check_languages(&format!("district {:?}", district.code), "name", &district.name)?;
    }
    if catalog.categories.is_empty() {
        return Err(invalid("categories".into(), "the catalog has no categories"));
    }
    if !departments.contains(catalog.supervisor.as_str()) {
        return Err(invalid(
            "supervisor".into(),
            format!("the supervising office {:?} is not a department of the catalog; name the hotline's office that supervises overdue and unsolved reports", catalog.supervisor),
        ));
    }
    for category in &catalog.categories {
        let entry = format!("category {:?}", category.code);
        check_languages(&entry, "name", &category.name)?;
        check_languages(&entry, "description", &category.description)?;
        if !departments.contains(category.department.as_str()) {
            return Err(invalid(entry, format!("department {:?} is not in the catalog", category.department)));
        }
        if !groups.contains(category.group.as_str()) {
            return Err(invalid(entry, format!("group {:?} is not in the catalog", category.group)));
        }
        if category.kinds.is_empty() {
            return Err(invalid(entry, "it must allow at least one request kind"));
        }
        if category.time_limit_hours == 0 {
            return Err(invalid(entry, "time_limit_hours must be positive"));
        }
        if category.icon.trim().is_empty() {
            return Err(invalid(entry, "it needs an icon"));
        }
        for (lang, words) in [("zh-CN", &category.keywords.zh), ("en", &category.keywords.en), ("ru", &category.keywords.ru)] {
            if words.iter().all(|word| word.trim().is_empty()) {
                return Err(invalid(entry, format!("keywords are missing in {lang}")));
            }
        }
        match (category.photos.need, category.photos.max) {
            (Need::None, 0) => {}
            (Need::None, _) => return Err(invalid(entry, "photos.max must be 0 when photos.need is \"none\"")),
            (_, 0) => return Err(invalid(entry, "photos.max must be at least 1 unless photos.need is \"none\"")),
            _ => {}
        }
        unique(&format!("{entry} field"), category.fields.iter().map(|f| f.code.as_str()))?;
        for field in &category.fields {
            let field_entry = format!("{entry} field {:?}", field.code);
            check_languages(&field_entry, "label", &field.label)?;
            match &field.kind {
                FieldKind::Number { min, max, .. } if !(min.is_finite() && max.is_finite() && min < max) => {
                    return Err(invalid(field_entry, "min must be smaller than max"));
                }
                FieldKind::Choice { options } | FieldKind::MultiChoice { options } => {
                    if options.is_empty() {
                        return Err(invalid(field_entry, "a choice needs options"));
                    }
                    unique(&format!("{field_entry} option"), options.iter().map(|o| o.code.as_str()))?;
                    for option in options {
                        check_languages(&format!("{field_entry} option {:?}", option.code), "label", &option.label)?;
                    }
                }
                _ => {}
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use lianxin_contract::Lang;
    use lianxin_contract::catalog::Need;

    use super::*;

    #[test]
    fn harbin_catalog_is_complete_in_three_languages() {
        let CityCatalog { catalog, .. } = load(None).expect("the Harbin catalog loads");
        assert!(catalog.groups.len() >= 13, "{} groups", catalog.groups.len());
        assert!(catalog.categories.len() >= 40, "{} categories", catalog.categories.len());
        assert_eq!(catalog.districts.len(), 18, "9 districts, 9 counties and county-level cities");
        for category in &catalog.categories {
            assert!(category.name.missing().is_empty() && category.description.missing().is_empty(), "{} languages", category.code);
            assert!(catalog.department(&category.department).is_some(), "{} department", category.code);
            assert!(category.time_limit_hours > 0 && !category.kinds.is_empty(), "{}", category.code);
            assert!(catalog.groups.iter().any(|group| group.code == category.group), "{} group", category.code);
        }
        for group in &catalog.groups {
            assert!(catalog.categories.iter().any(|category| category.group == group.code), "group {} is empty", group.code);
        }
        for code in [
            "manhole_cover",
            "loose_wires",
            "pipe_leak",
            "street_light",
            "road_damage",
            "restaurant_fumes",
            "night_noise",
            "construction_noise",
            "heating_too_cold",
            "gas_supply",
            "property_service",
            "old_compound",
            "taxi_overcharge",
            "taxi_refusal",
            "taxi_fuel_surcharge",
            "ride_hailing",
            "bus_route",
            "bus_metro_connection",
            "illegal_parking",
            "travel_agency",
            "tour_guide",
            "company_registration",
            "chronic_disease_medicine",
            "employment_services",
            "school_education",
            "health_care",
            "child_care",
            "housing_security",
            "elderly_care",
            "community_canteen",
        ] {
            assert!(catalog.category(code).is_some(), "the catalog covers {code}");
        }
        let taxi = catalog.category("taxi_overcharge").unwrap();
        let fields: Vec<&str> = taxi.fields.iter().map(|field| field.code.as_str()).collect();
        assert_eq!(fields, ["plate", "ride_time", "pickup", "dropoff", "fare_paid"]);
        assert_eq!(catalog.category("night_noise").unwrap().photos.need, Need::None);
        assert_eq!(catalog.only(Lang::Ru).category("manhole_cover").unwrap().name.get(Lang::Ru), "Открытый или сломанный люк");
    }

    #[test]
    fn a_catalog_in_one_language_is_still_searched_in_three() {
        let catalog = load(None).unwrap().catalog;
        let full = catalog.category("taxi_overcharge").unwrap();
        let russian = catalog.only(Lang::Ru);
        let taxi = russian.category("taxi_overcharge").unwrap();
        assert!(taxi.name.zh.is_empty() && taxi.name.en.is_empty(), "names only in Russian");
        assert!(taxi.fields.iter().all(|field| field.label.zh.is_empty() && !field.label.ru.is_empty()), "labels only in Russian");
        assert!(taxi.keywords.zh.contains(&full.name.zh) && taxi.keywords.en.contains(&full.name.en), "the other names are search words");
        assert!(full.keywords.all().all(|word| taxi.keywords.all().any(|kept| kept == word)), "every search word kept");
        let json = serde_json::to_string(&russian).unwrap();
        for other in [&full.description.zh, &full.description.en, &full.fields[0].label.zh, &full.fields[0].label.en] {
            assert!(!json.contains(other.as_str()), "{other:?} does not travel in the Russian catalog");
        }
    }

    fn rule_broken(text: &str) -> String {
        parse(text).expect_err("the catalog is refused").to_string()
    }

    #[test]
    fn unknown_department_names_the_category() {
        let text = HARBIN_CATALOG.replacen("department = \"urban_management\"", "department = \"no_such_office\"", 1);
        assert_eq!(rule_broken(&text), "catalog entry category \"manhole_cover\": department \"no_such_office\" is not in the catalog");
    }

    #[test]
    fn duplicate_category_code_is_named() {
        let text = HARBIN_CATALOG.replacen("code = \"loose_wires\"", "code = \"manhole_cover\"", 1);
        assert_eq!(rule_broken(&text), "catalog entry category \"manhole_cover\": the code is used twice");
    }

    #[test]
    fn missing_language_is_named() {
        let text = HARBIN_CATALOG.replacen(", ru = \"Открытый или сломанный люк\"", "", 1);
        assert_eq!(rule_broken(&text), "catalog entry category \"manhole_cover\": name is missing in ru");
    }

    #[test]
    fn bad_polygon_is_named() {
        let without: String = HARBIN_CATALOG.lines().filter(|line| !line.starts_with("boundary = ")).map(|line| format!("{line}\n")).collect();
        let text = without.replacen("code = \"daoli\"", "code = \"daoli\"\nboundary = { type = \"Polygon\", coordinates = [[[126.6, 45.7], [126.7, 45.7], [126.7, 45.8]]] }", 1);
        assert_eq!(rule_broken(&text), "catalog entry district \"daoli\": boundary: a ring has 3 positions; at least 4 are needed");
    }

    #[test]
    fn choice_without_options_is_named() {
        let text = HARBIN_CATALOG.replacen("code = \"noise_source\", type = \"choice\"", "code = \"noise_source\", type = \"choice\", options = [], ignored", 1);
        assert!(rule_broken(&text).starts_with("catalog is not valid"), "a malformed file is refused too");
        let text = HARBIN_CATALOG.replacen("min = -30.0, max = 40.0", "min = 40.0, max = -30.0", 1);
        assert_eq!(rule_broken(&text), "catalog entry category \"heating_too_cold\" field \"indoor_temperature\": min must be smaller than max");
    }
}
