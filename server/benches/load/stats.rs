//! Figures from samples: latency percentiles, counts by kind, and the
//! one-line summaries printed as a table at the end of a run.

use std::collections::BTreeMap;

/// Latencies in microseconds, summarised in milliseconds.
#[derive(Debug, Clone, Copy, Default)]
pub struct Percentiles {
    /// Median.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest.
    pub max: f64,
    /// Samples.
    pub count: usize,
}

impl Percentiles {
    /// Of `samples` (sorted in place).
    pub fn of(samples: &mut [u32]) -> Self {
        if samples.is_empty() {
            return Self::default();
        }
        samples.sort_unstable();
        let at = |q: f64| {
            let i = ((samples.len() - 1) as f64 * q).round() as usize;
            f64::from(samples[i]) / 1000.0
        };
        Self {
            p50: at(0.5),
            p99: at(0.99),
            max: at(1.0),
            count: samples.len(),
        }
    }

    /// `p50 … / p99 … / max … ms`.
    pub fn short(&self) -> String {
        if self.count == 0 {
            return "none".into();
        }
        format!("{} / {} / {} ms", ms(self.p50), ms(self.p99), ms(self.max))
    }
}

impl std::fmt::Display for Percentiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.count == 0 {
            return f.write_str("no samples");
        }
        write!(
            f,
            "p50 {} ms, p99 {} ms, max {} ms ({} samples)",
            ms(self.p50),
            ms(self.p99),
            ms(self.max),
            self.count
        )
    }
}

/// Milliseconds with precision that suits their size.
fn ms(value: f64) -> String {
    if value < 10.0 {
        format!("{value:.2}")
    } else if value < 100.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.0}")
    }
}

/// Counts by kind, e.g. close reasons or refusal statuses.
#[derive(Debug, Default)]
pub struct Tally(BTreeMap<String, usize>);

impl Tally {
    /// Counts one of `kind`.
    pub fn add(&mut self, kind: impl Into<String>) {
        *self.0.entry(kind.into()).or_default() += 1;
    }

    /// Adds another tally's counts.
    pub fn merge(&mut self, other: Tally) {
        for (kind, n) in other.0 {
            *self.0.entry(kind).or_default() += n;
        }
    }

    /// Everything counted.
    pub fn total(&self) -> usize {
        self.0.values().sum()
    }
}

impl std::fmt::Display for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.is_empty() {
            return f.write_str("none");
        }
        let parts: Vec<String> = self.0.iter().map(|(k, n)| format!("{n} × {k}")).collect();
        f.write_str(&parts.join(", "))
    }
}

/// One row of the closing table: a scenario on a backend, its main figures.
pub struct Row {
    /// Backend label.
    pub backend: String,
    /// Scenario and its size.
    pub scenario: String,
    /// The figures, already formatted.
    pub figures: String,
    /// The load average when it ran.
    pub load: String,
}

/// Prints the rows as a Markdown table (for the README).
pub fn print_table(rows: &[Row]) {
    println!("\n| scenario | backend | figures | load average |");
    println!("|---|---|---|---|");
    for row in rows {
        println!(
            "| {} | {} | {} | {} |",
            row.scenario, row.backend, row.figures, row.load
        );
    }
}

/// Bytes as KiB or MiB.
pub fn bytes(value: f64) -> String {
    if value.abs() < 1024.0 * 1024.0 {
        format!("{:.1} KiB", value / 1024.0)
    } else {
        format!("{:.1} MiB", value / 1048576.0)
    }
}
