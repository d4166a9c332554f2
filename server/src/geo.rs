//! District boundaries from the catalog (GeoJSON `Polygon` / `MultiPolygon` geometries in
//! WGS 84, `[lon, lat]` order) and placing a point in its district. Ray casting is exact
//! enough for city districts; a point on a shared border goes to the first district listed.

use serde::Deserialize;

/// A GeoJSON geometry as it may appear under a district's `boundary`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(tag = "type")]
pub enum Geometry {
    /// One outer ring followed by holes.
    Polygon {
        /// Rings of `[lon, lat]` positions, each closed (first = last).
        coordinates: Vec<Vec<[f64; 2]>>,
    },
    /// Several polygons.
    MultiPolygon {
        /// Polygons, each as in [`Geometry::Polygon`].
        coordinates: Vec<Vec<Vec<[f64; 2]>>>,
    },
}

impl Geometry {
    fn polygons(&self) -> Vec<&[Vec<[f64; 2]>]> {
        match self {
            Geometry::Polygon { coordinates } => vec![coordinates.as_slice()],
            Geometry::MultiPolygon { coordinates } => coordinates.iter().map(Vec::as_slice).collect(),
        }
    }

    /// Why the geometry is unusable, if it is.
    pub fn problem(&self) -> Option<String> {
        let polygons = self.polygons();
        if polygons.is_empty() {
            return Some("the boundary has no polygon".into());
        }
        for polygon in polygons {
            if polygon.is_empty() {
                return Some("a polygon has no ring".into());
            }
            for ring in polygon {
                if ring.len() < 4 {
                    return Some(format!("a ring has {} positions; at least 4 are needed", ring.len()));
                }
                if ring.first() != ring.last() {
                    return Some("a ring is not closed (its first and last positions differ)".into());
                }
                if let Some([lon, lat]) = ring.iter().find(|[lon, lat]| !(-180.0..=180.0).contains(lon) || !(-90.0..=90.0).contains(lat)) {
                    return Some(format!("position [{lon}, {lat}] is not a [longitude, latitude] pair"));
                }
            }
        }
        None
    }

    /// The centre `(lat, lon)` of the box around every outer ring: where a map of this
    /// district opens.
    pub fn centre(&self) -> (f64, f64) {
        let (mut west, mut south, mut east, mut north) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for [lon, lat] in self.polygons().into_iter().filter_map(|polygon| polygon.first()).flatten() {
            (west, south, east, north) = (west.min(*lon), south.min(*lat), east.max(*lon), north.max(*lat));
        }
        ((south + north) / 2.0, (west + east) / 2.0)
    }

    /// Whether the point lies inside (holes excluded).
    pub fn contains(&self, lon: f64, lat: f64) -> bool {
        self.polygons().into_iter().any(|polygon| {
            let mut rings = polygon.iter();
            let inside_outer = rings.next().is_some_and(|outer| ring_contains(outer, lon, lat));
            inside_outer && !rings.any(|hole| ring_contains(hole, lon, lat))
        })
    }
}

fn ring_contains(ring: &[[f64; 2]], x: f64, y: f64) -> bool {
    let mut inside = false;
    for pair in ring.windows(2) {
        let ([x1, y1], [x2, y2]) = (pair[0], pair[1]);
        if (y1 > y) != (y2 > y) && x < (x2 - x1) * (y - y1) / (y2 - y1) + x1 {
            inside = !inside;
        }
    }
    inside
}

/// Great-circle distance in metres between two WGS 84 points (haversine; ample for the
/// 150 m "same place" rule).
pub fn distance_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    const EARTH_RADIUS_M: f64 = 6_371_000.0;
    let (phi1, phi2) = (lat1.to_radians(), lat2.to_radians());
    let d_phi = (lat2 - lat1).to_radians();
    let d_lambda = (lon2 - lon1).to_radians();
    let a = (d_phi / 2.0).sin().powi(2) + phi1.cos() * phi2.cos() * (d_lambda / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * a.sqrt().asin()
}

/// The centre of the grid cell, about `cell_m` metres on a side, that holds a point. Every
/// point of one cell gives the same centre, so an answer computed from the centre reveals
/// nothing finer than the cell.
pub fn snap_to_grid(lat: f64, lon: f64, cell_m: f64) -> (f64, f64) {
    const METRES_PER_DEGREE: f64 = 111_320.0;
    let lat_step = cell_m / METRES_PER_DEGREE;
    let snapped_lat = ((lat / lat_step).floor() + 0.5) * lat_step;
    // Columns are as wide as at the cell's own latitude, so a cell stays about square.
    let lon_step = lat_step / snapped_lat.to_radians().cos().abs().max(0.01);
    let snapped_lon = ((lon / lon_step).floor() + 0.5) * lon_step;
    (snapped_lat, snapped_lon)
}

/// The districts that have boundaries, in catalog order.
#[derive(Clone, Debug, Default)]
pub struct DistrictMap {
    districts: Vec<(String, Geometry)>,
}

/// The catalog file seen only for its district boundaries.
#[derive(Debug, Deserialize)]
struct BoundaryFile {
    #[serde(default)]
    districts: Vec<BoundaryEntry>,
}

#[derive(Debug, Deserialize)]
struct BoundaryEntry {
    code: String,
    boundary: Option<Geometry>,
}

impl DistrictMap {
    /// Reads the boundaries from catalog text; `Err` names the district and the problem.
    pub fn from_catalog_text(text: &str) -> Result<DistrictMap, (String, String)> {
        let file: BoundaryFile = toml::from_str(text).map_err(|error| ("districts".to_owned(), error.to_string()))?;
        let mut districts = Vec::new();
        for entry in file.districts {
            if let Some(boundary) = entry.boundary {
                if let Some(problem) = boundary.problem() {
                    return Err((entry.code, problem));
                }
                districts.push((entry.code, boundary));
            }
        }
        Ok(DistrictMap { districts })
    }

    /// Whether any district has a boundary.
    pub fn is_empty(&self) -> bool {
        self.districts.is_empty()
    }

    /// The centre of a district's boundary, if it has one.
    pub fn centre(&self, code: &str) -> Option<(f64, f64)> {
        self.districts.iter().find(|(each, _)| each == code).map(|(_, boundary)| boundary.centre())
    }

    /// The district containing the point, if any.
    pub fn locate(&self, lat: f64, lon: f64) -> Option<&str> {
        self.districts.iter().find(|(_, boundary)| boundary.contains(lon, lat)).map(|(code, _)| code.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(x: f64, y: f64, size: f64) -> Vec<[f64; 2]> {
        vec![[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]
    }

    #[test]
    fn point_in_polygon_honours_holes_and_multipolygons() {
        let with_hole = Geometry::Polygon { coordinates: vec![square(0.0, 0.0, 10.0), square(4.0, 4.0, 2.0)] };
        assert!(with_hole.contains(1.0, 1.0));
        assert!(!with_hole.contains(5.0, 5.0), "inside the hole");
        assert!(!with_hole.contains(11.0, 1.0));
        let two = Geometry::MultiPolygon { coordinates: vec![vec![square(0.0, 0.0, 1.0)], vec![square(5.0, 5.0, 1.0)]] };
        assert!(two.contains(5.5, 5.5) && two.contains(0.5, 0.5) && !two.contains(3.0, 3.0));
    }

    #[test]
    fn a_map_of_a_district_opens_on_the_middle_of_its_box() {
        let two = Geometry::MultiPolygon { coordinates: vec![vec![square(126.0, 45.0, 1.0)], vec![square(128.0, 47.0, 1.0)]] };
        assert_eq!(two.centre(), (46.5, 127.5));
    }

    #[test]
    fn concave_polygon_excludes_its_notch() {
        // A "U" shape: the notch between the arms is outside.
        let u = Geometry::Polygon { coordinates: vec![vec![[0.0, 0.0], [3.0, 0.0], [3.0, 3.0], [2.0, 3.0], [2.0, 1.0], [1.0, 1.0], [1.0, 3.0], [0.0, 3.0], [0.0, 0.0]]] };
        assert!(u.contains(0.5, 2.5) && u.contains(2.5, 2.5) && u.contains(1.5, 0.5));
        assert!(!u.contains(1.5, 2.0));
    }

    #[test]
    fn distances_match_known_values() {
        // One degree of latitude is about 111.2 km; 0.001° of longitude at Harbin's 45.75° N
        // is about 77.7 m.
        assert!((distance_m(45.0, 126.0, 46.0, 126.0) - 111_195.0).abs() < 50.0);
        assert!((distance_m(45.75, 126.6, 45.75, 126.601) - 77.7).abs() < 0.5);
    }

    #[test]
    fn broken_rings_are_named() {
        let open = Geometry::Polygon { coordinates: vec![vec![[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]] };
        assert!(open.problem().unwrap().contains("not closed"));
        let short = Geometry::Polygon { coordinates: vec![vec![[0.0, 0.0], [1.0, 0.0], [0.0, 0.0]]] };
        assert!(short.problem().unwrap().contains("at least 4"));
        let swapped = Geometry::Polygon { coordinates: vec![square(126.6, 200.0, 0.1)] };
        assert!(swapped.problem().unwrap().contains("longitude, latitude"));
    }
}
