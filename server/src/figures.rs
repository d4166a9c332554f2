//! The city's picture in figures, for the public page and open data: reports per
//! category, district and week; the median time to resolution; the share resolved within
//! the time limit; satisfaction. Aggregates only, k-anonymous: a cell counting fewer than
//! `min_count` reports is withheld (shown as "fewer than k"), and a median, share or rate is
//! given only where at least `min_count` reports stand behind it. No position finer than
//! the district, no words, no subject.

use std::collections::BTreeMap;

use lianxin_contract::follow_up::Satisfaction;

/// One report as the figures count it, without personal data (from the store).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counted {
    /// Category code.
    pub category: String,
    /// District code, when known.
    pub district: Option<String>,
    /// When it was accepted (ms).
    pub created_ms: i64,
    /// Its due time.
    pub due_ms: Option<i64>,
    /// When the department first called it resolved.
    pub resolved_ms: Option<i64>,
    /// The resident's newest rating.
    pub rating: Option<Satisfaction>,
}

/// A count that may be withheld.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    /// Shown.
    Count(u64),
    /// Fewer than the minimum count: withheld.
    Withheld,
}

impl Cell {
    fn of(count: u64, min_count: u64) -> Cell {
        if count < min_count { Cell::Withheld } else { Cell::Count(count) }
    }

    /// The count, when shown.
    pub fn shown(self) -> Option<u64> {
        match self {
            Cell::Count(count) => Some(count),
            Cell::Withheld => None,
        }
    }
}

/// One category's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct CategoryFigures {
    /// Category code.
    pub code: String,
    /// Reports accepted in the period.
    pub reports: Cell,
    /// Median hours from acceptance to the department's resolution.
    pub median_hours: Option<f64>,
    /// Share of the resolved reports resolved within their time limit.
    pub within_limit: Option<f64>,
    /// Share of ratings that were satisfied or better (the top three of five levels).
    pub satisfaction: Option<f64>,
}

/// The figures for a period.
#[derive(Debug, Clone, PartialEq)]
pub struct CityFigures {
    /// From (ms, inclusive).
    pub from_ms: i64,
    /// To (ms, exclusive).
    pub to_ms: i64,
    /// The minimum count shown.
    pub min_count: u64,
    /// All reports in the period.
    pub total: Cell,
    /// Per category, most reports first (withheld last).
    pub categories: Vec<CategoryFigures>,
    /// Per district code (`None`: not known), most first.
    pub districts: Vec<(Option<String>, Cell)>,
    /// Per week, by the week's first day (ms), oldest first.
    pub weeks: Vec<(i64, Cell)>,
}

/// A week, from Monday 00:00 in the city's time (UTC+8).
const WEEK_MS: i64 = 7 * 86_400_000;
/// 1970-01-01 was a Thursday; the first Monday 00:00 UTC+8 after it, as an offset.
const MONDAY_OFFSET_MS: i64 = 4 * 86_400_000 - 8 * 3_600_000;

/// The Monday 00:00 (city time) starting the week of `ms`.
pub fn week_of(ms: i64) -> i64 {
    (ms - MONDAY_OFFSET_MS).div_euclid(WEEK_MS) * WEEK_MS + MONDAY_OFFSET_MS
}

fn median(mut values: Vec<i64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let middle = values.len() / 2;
    Some(if values.len().is_multiple_of(2) { (values[middle - 1] + values[middle]) as f64 / 2.0 } else { values[middle] as f64 })
}

/// The figures of `rows` (reports accepted in `[from_ms, to_ms)`), withholding what fewer
/// than `min_count` reports stand behind.
pub fn compute(rows: &[Counted], from_ms: i64, to_ms: i64, min_count: u64) -> CityFigures {
    let min_count = min_count.max(1);
    let mut by_category: BTreeMap<&str, Vec<&Counted>> = BTreeMap::new();
    let mut by_district: BTreeMap<Option<&str>, u64> = BTreeMap::new();
    let mut by_week: BTreeMap<i64, u64> = BTreeMap::new();
    for row in rows {
        by_category.entry(&row.category).or_default().push(row);
        *by_district.entry(row.district.as_deref()).or_default() += 1;
        *by_week.entry(week_of(row.created_ms)).or_default() += 1;
    }
    let mut categories: Vec<CategoryFigures> = by_category
        .into_iter()
        .map(|(code, reports)| {
            let resolved: Vec<&&Counted> = reports.iter().filter(|row| row.resolved_ms.is_some()).collect();
            let enough = |count: usize| count as u64 >= min_count;
            let durations: Vec<i64> = resolved.iter().filter_map(|row| row.resolved_ms.map(|at| at - row.created_ms)).collect();
            let in_time = resolved.iter().filter(|row| matches!((row.resolved_ms, row.due_ms), (Some(at), Some(due)) if at <= due)).count();
            let ratings: Vec<Satisfaction> = reports.iter().filter_map(|row| row.rating).collect();
            CategoryFigures {
                code: code.to_owned(),
                reports: Cell::of(reports.len() as u64, min_count),
                median_hours: enough(durations.len()).then(|| median(durations).map(|ms| ms / 3_600_000.0)).flatten(),
                within_limit: enough(resolved.len()).then(|| in_time as f64 / resolved.len() as f64),
                satisfaction: enough(ratings.len()).then(|| ratings.iter().filter(|rating| rating.is_satisfied()).count() as f64 / ratings.len() as f64),
            }
        })
        .collect();
    categories.sort_by_key(|figures| std::cmp::Reverse(figures.reports.shown().unwrap_or(0)));
    let mut districts: Vec<(Option<String>, Cell)> = by_district.into_iter().map(|(code, count)| (code.map(str::to_owned), Cell::of(count, min_count))).collect();
    districts.sort_by_key(|(_, cell)| std::cmp::Reverse(cell.shown().unwrap_or(0)));
    CityFigures {
        from_ms,
        to_ms,
        min_count,
        total: Cell::of(rows.len() as u64, min_count),
        categories,
        districts,
        weeks: by_week.into_iter().map(|(week, count)| (week, Cell::of(count, min_count))).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(category: &str, created_ms: i64, resolved_after_h: Option<i64>, rating: Option<Satisfaction>) -> Counted {
        Counted {
            category: category.into(),
            district: Some("daoli".into()),
            created_ms,
            due_ms: Some(created_ms + 24 * 3_600_000),
            resolved_ms: resolved_after_h.map(|hours| created_ms + hours * 3_600_000),
            rating,
        }
    }

    #[test]
    fn small_cells_are_withheld_and_rates_need_enough_reports_behind_them() {
        let mut rows: Vec<Counted> = (0..6).map(|index| row("manhole_cover", index, Some(if index < 4 { 10 } else { 30 }), Some(Satisfaction::Satisfied))).collect();
        rows.extend((0..2).map(|index| row("taxi_overcharge", index, Some(1), Some(Satisfaction::VeryDissatisfied))));
        let figures = compute(&rows, 0, 10, 5);
        let manhole = figures.categories.iter().find(|figures| figures.code == "manhole_cover").unwrap();
        assert_eq!(manhole.reports, Cell::Count(6));
        assert_eq!(manhole.median_hours, Some(10.0));
        assert_eq!(manhole.within_limit.map(|share| (share * 100.0).round()), Some(67.0));
        assert_eq!(manhole.satisfaction, Some(1.0));
        let taxi = figures.categories.iter().find(|figures| figures.code == "taxi_overcharge").unwrap();
        assert_eq!((taxi.reports, taxi.median_hours, taxi.within_limit, taxi.satisfaction), (Cell::Withheld, None, None, None), "two reports say too much about two people");
        assert_eq!(figures.total, Cell::Count(8));
    }

    #[test]
    fn weeks_start_on_monday_in_the_city() {
        // 2026-11-30 is a Monday; 00:00 in Harbin is 2026-11-29T16:00Z.
        let monday = 1_795_996_800_000 - 8 * 3_600_000;
        assert_eq!(week_of(monday), monday);
        assert_eq!(week_of(monday + 6 * 86_400_000 + 3_600_000), monday);
        assert_eq!(week_of(monday - 1), monday - WEEK_MS);
    }
}
