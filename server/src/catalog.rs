//! Loads the city's catalog from TOML (the built-in Harbin catalog unless the city names
//! its own file) and refuses to start on a catalog that would confuse residents or lose
//! reports, naming the entry and the rule that is wrong.

use std::collections::HashSet;
use std::path::Path;

use lianxin_contract::{Catalog, Localized};
use thiserror::Error;

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

/// Reads the catalog at `path`, or the built-in one when `path` is `None`.
pub fn load(path: Option<&Path>) -> Result<Catalog, CatalogError> {
    match path {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|source| CatalogError::Read { path: path.display().to_string(), source })?;
            parse(&text)
        }
        None => parse(HARBIN_CATALOG),
    }
}

/// Parses and checks catalog text.
pub fn parse(text: &str) -> Result<Catalog, CatalogError> {
    let catalog: Catalog = toml::from_str(text).map_err(|error| CatalogError::Parse(error.to_string()))?;
    check(&catalog)?;
    Ok(catalog)
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
        unique(&format!("{entry} field"), category.fields.iter().map(|f| f.code.as_str()))?;
        for field in &category.fields {
            check_languages(&format!("{entry} field {:?}", field.code), "label", &field.label)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_catalog_is_valid() {
        let catalog = load(None).expect("the Harbin catalog loads");
        assert!(catalog.categories.len() >= 3);
    }

    #[test]
    fn unknown_department_names_the_category() {
        let text = HARBIN_CATALOG.replacen("department = \"urban_management\"", "department = \"no_such_office\"", 1);
        let error = parse(&text).unwrap_err().to_string();
        assert!(error.contains("no_such_office") && error.starts_with("catalog entry category"), "{error}");
    }
}
