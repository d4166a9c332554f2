//! The benchmark's results: one row per measurement, with its baseline and target, printed
//! as a markdown table and saved as JSON.

use serde::Serialize;

/// One measured number.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// Which part (widget, ingest, forwarder, memory).
    pub section: &'static str,
    /// What was measured.
    pub metric: String,
    /// The value, in `unit`.
    pub value: f64,
    /// Its unit.
    pub unit: &'static str,
    /// The baseline measured in the same run, when there is one.
    pub baseline: Option<(String, f64)>,
    /// The target from the issue, as text, and whether the value meets it.
    pub target: Option<(String, bool)>,
}

/// All rows of one run.
#[derive(Debug)]
pub struct Report {
    rows: Vec<Row>,
    quick: bool,
    machine: String,
}

impl Report {
    /// An empty report for this machine.
    pub fn new(quick: bool) -> Report {
        let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
        let model = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|info| info.lines().find_map(|line| line.strip_prefix("model name").map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_owned())))
            .unwrap_or_else(|| "unknown CPU".into());
        let memory = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|info| info.lines().next().map(|line| line.split_whitespace().nth(1).unwrap_or("0").parse::<u64>().unwrap_or(0) / 1024 / 1024))
            .unwrap_or(0);
        Report { rows: Vec::new(), quick, machine: format!("{cpus} cores ({model}), {memory} GiB") }
    }

    /// Adds a row.
    pub fn add(&mut self, section: &'static str, metric: impl Into<String>, value: f64, unit: &'static str) -> &mut Row {
        self.rows.push(Row { section, metric: metric.into(), value, unit, baseline: None, target: None });
        self.rows.last_mut().expect("just pushed")
    }

    /// The markdown table.
    pub fn markdown(&self) -> String {
        let mut out = format!("Machine: {}{}\n\n", self.machine, if self.quick { " (quick run: fewer samples)" } else { "" });
        out.push_str("| part | measurement | value | baseline (same run) | ratio | target |\n|---|---|---|---|---|---|\n");
        for row in &self.rows {
            let (baseline, ratio) = match &row.baseline {
                Some((name, value)) => (format!("{name}: {}", format_value(*value, row.unit)), if *value > 0.0 { format!("{:.2}", row.value / value) } else { "—".into() }),
                None => ("—".into(), "—".into()),
            };
            let target = match &row.target {
                Some((text, met)) => format!("{text} {}", if *met { "✔" } else { "✘" }),
                None => "—".into(),
            };
            out.push_str(&format!("| {} | {} | {} | {baseline} | {ratio} | {target} |\n", row.section, row.metric, format_value(row.value, row.unit)));
        }
        out
    }

    /// The JSON document.
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({ "machine": self.machine, "quick": self.quick, "rows": self.rows })
    }
}

impl Row {
    /// Sets the baseline.
    pub fn baseline(&mut self, name: impl Into<String>, value: f64) -> &mut Row {
        self.baseline = Some((name.into(), value));
        self
    }

    /// Sets the target and whether it is met.
    pub fn target(&mut self, text: impl Into<String>, met: bool) -> &mut Row {
        self.target = Some((text.into(), met));
        self
    }
}

fn format_value(value: f64, unit: &str) -> String {
    match unit {
        "B" if value >= 1024.0 * 1024.0 => format!("{:.1} MB", value / 1024.0 / 1024.0),
        "B" => format!("{:.1} KB", value / 1024.0),
        "ms" => format!("{value:.0} ms"),
        "/s" => format!("{value:.0}/s"),
        "" => format!("{value:.2}"),
        other => format!("{value:.1} {other}"),
    }
}

/// The median of `values` (0 when empty).
pub fn median(values: &mut [f64]) -> f64 {
    percentile(values, 0.5)
}

/// The `p`-quantile (0..=1) of `values`, nearest rank (0 when empty).
pub fn percentile(values: &mut [f64], p: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(|a, b| a.total_cmp(b));
    let rank = ((p * values.len() as f64).ceil() as usize).clamp(1, values.len());
    values[rank - 1]
}
