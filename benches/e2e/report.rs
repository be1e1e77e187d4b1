//! Results: per-run numbers, the ratio table (text and Markdown), JSON, the SVG chart and the
//! "End to end" section of BENCHMARKS.md.

use std::fmt::Write as _;
use std::path::Path;
use std::time::SystemTime;

use serde::Serialize;

use crate::child::Exit;
use crate::kafka::{LoadStats, Measurement};
use crate::opts::{Contender, Opts};
use crate::scenario::{self, Scenario};

/// End-to-end latency percentiles of one run (ms).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Latency {
    pub(crate) samples: u64,
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
    pub(crate) p999_ms: f64,
    pub(crate) max_ms: f64,
}

/// One contender run.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct RunResult {
    pub(crate) phase: String,
    /// It processed every input record, exited cleanly, and the output was read to its end.
    pub(crate) complete: bool,
    pub(crate) problems: Vec<String>,
    pub(crate) expected: u64,
    pub(crate) processed: u64,
    pub(crate) outcome: String,
    pub(crate) exit_code: Option<i32>,
    pub(crate) output_records: u64,
    pub(crate) output_bytes: u64,
    /// First output arrival → last output arrival.
    pub(crate) output_window_s: f64,
    /// Input records processed per second of the output window.
    pub(crate) records_per_s: f64,
    /// Input bytes (key + value) processed per second of the output window, 10^6 bytes.
    pub(crate) mb_per_s: f64,
    /// First → last input record as the contender itself saw them.
    pub(crate) process_elapsed_s: f64,
    pub(crate) target_rate: Option<f64>,
    pub(crate) achieved_rate: Option<f64>,
    /// Records the load producer sent (latency runs).
    pub(crate) input_sent: Option<u64>,
    pub(crate) latency: Option<Latency>,
    pub(crate) peak_rss_mib: f64,
    pub(crate) cpu_s: f64,
    pub(crate) wall_s: f64,
    pub(crate) log: String,
}

impl RunResult {
    pub(crate) fn summary(&self) -> String {
        let mut s = if self.phase == "throughput" {
            format!("{:.0} rec/s, {:.1} MB/s", self.records_per_s, self.mb_per_s)
        } else {
            match &self.latency {
                Some(l) => format!(
                    "p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms (input {:.0} rec/s)",
                    l.p50_ms,
                    l.p99_ms,
                    l.p999_ms,
                    self.achieved_rate.unwrap_or(0.0)
                ),
                None => "no latency samples".to_string(),
            }
        };
        let _ = write!(
            s,
            ", peak RSS {:.0} MiB, CPU {:.1} s",
            self.peak_rss_mib, self.cpu_s
        );
        if !self.complete {
            let _ = write!(s, " [INCOMPLETE: {}]", self.problems.join("; "));
        }
        s
    }
}

/// Average input record size (key + value bytes) over the `records` input records.
fn avg_input_bytes(o: &Opts) -> f64 {
    let keys = o.keys.min(o.records);
    let key_bytes: u64 = (0..keys)
        .map(|k| scenario::key(k, o.keys).len() as u64)
        .sum();
    key_bytes as f64 / keys.max(1) as f64 + o.value_size as f64
}

pub(crate) fn run_result(
    o: &Opts,
    phase: &str,
    exit: &Exit,
    m: &Measurement,
    load: Option<(f64, LoadStats)>,
    expected: u64,
    log: &Path,
) -> RunResult {
    let stat = |k: &str| exit.stats.as_ref().and_then(|s| s.get(k)).cloned();
    let processed = stat("processed").and_then(|v| v.as_u64()).unwrap_or(0);
    let outcome = stat("outcome")
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| "no stats line".to_string());
    let process_elapsed_s = stat("process_elapsed_ms")
        .and_then(|v| v.as_u64())
        .unwrap_or(0) as f64
        / 1000.0;
    let mut problems = Vec::new();
    if processed < expected {
        problems.push(format!("processed {processed} of {expected} input records"));
    }
    if exit.code != Some(0) {
        problems.push(format!("exit code {:?} (outcome {outcome})", exit.code));
    }
    if let Some(f) = &exit.forced {
        problems.push(f.clone());
    }
    if let Some(e) = stat("error").and_then(|v| v.as_str().map(str::to_string)) {
        problems.push(e);
    }
    if !m.drained {
        problems.push("output not read to its end within 30 s".to_string());
    }
    if m.count == 0 {
        problems.push("no output records".to_string());
    }
    // Broker append times (throughput runs) are exact; arrival at the measuring consumer is
    // the fallback.
    let window = match (m.append_ms, m.first_us, m.last_us) {
        (Some((f, l)), _, _) => (l - f).max(0) as f64 / 1e3,
        (None, Some(f), Some(l)) if l > f => (l - f) as f64 / 1e6,
        _ => 0.0,
    };
    // All output in one burst (e.g. a cache flushed once): fall back to the contender's own
    // processing time.
    let effective = if window >= 0.05 {
        window
    } else {
        process_elapsed_s.max(0.001)
    };
    let latency = (!m.latency.is_empty()).then(|| Latency {
        samples: m.latency.len(),
        p50_ms: m.latency.value_at_quantile(0.50) as f64 / 1000.0,
        p99_ms: m.latency.value_at_quantile(0.99) as f64 / 1000.0,
        p999_ms: m.latency.value_at_quantile(0.999) as f64 / 1000.0,
        max_ms: m.latency.max() as f64 / 1000.0,
    });
    if phase != "throughput" && latency.is_none() {
        problems.push("no latency samples after the warm-up".to_string());
    }
    RunResult {
        phase: phase.to_string(),
        complete: problems.is_empty(),
        problems,
        expected,
        processed,
        outcome,
        exit_code: exit.code,
        output_records: m.count,
        output_bytes: m.bytes,
        output_window_s: window,
        records_per_s: processed as f64 / effective,
        mb_per_s: processed as f64 * avg_input_bytes(o) / effective / 1e6,
        process_elapsed_s,
        target_rate: load.map(|(r, _)| r),
        achieved_rate: load.map(|(_, s)| s.achieved_rate),
        input_sent: load.map(|(_, s)| s.sent),
        latency,
        peak_rss_mib: exit.peak_rss_kb as f64 / 1024.0,
        cpu_s: exit.cpu_s,
        wall_s: exit.wall_s,
        log: log.display().to_string(),
    }
}

/// One contender in one scenario.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ContenderReport {
    #[serde(serialize_with = "ser_contender")]
    pub(crate) contender: Contender,
    /// Why it was not run ("not available yet: ..."); never replaced by numbers.
    pub(crate) unavailable: Option<String>,
    pub(crate) failure: Option<String>,
    pub(crate) throughput: Option<RunResult>,
    pub(crate) latency_near_max: Option<RunResult>,
    pub(crate) latency_fixed: Option<RunResult>,
}

fn ser_contender<S: serde::Serializer>(c: &Contender, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(c.name())
}

impl ContenderReport {
    pub(crate) fn new(contender: Contender) -> Self {
        ContenderReport {
            contender,
            unavailable: None,
            failure: None,
            throughput: None,
            latency_near_max: None,
            latency_fixed: None,
        }
    }

    fn runs(&self) -> impl Iterator<Item = &RunResult> {
        [
            &self.throughput,
            &self.latency_near_max,
            &self.latency_fixed,
        ]
        .into_iter()
        .flatten()
    }
}

/// One scenario.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ScenarioReport {
    pub(crate) scenario: String,
    pub(crate) input_records: u64,
    pub(crate) preload_s: f64,
    /// Input rate of the fixed-rate latency runs (rec/s).
    pub(crate) fixed_rate: Option<f64>,
    pub(crate) contenders: Vec<ContenderReport>,
}

impl ScenarioReport {
    pub(crate) fn failed(sc: Scenario, records: u64, error: String) -> Self {
        ScenarioReport {
            scenario: sc.name().to_string(),
            input_records: records,
            preload_s: 0.0,
            fixed_rate: None,
            contenders: vec![ContenderReport {
                failure: Some(error),
                ..ContenderReport::new(Contender::Ours)
            }],
        }
    }

    fn get(&self, c: Contender) -> Option<&ContenderReport> {
        self.contenders.iter().find(|r| r.contender == c)
    }
}

/// The machine the run was on.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Machine {
    cpu: String,
    cores: usize,
    memory_gib: f64,
    kernel: String,
    java: String,
    rustc: String,
    /// /proc/loadavg when the report was written: other work on the machine skews numbers.
    load_average: String,
}

fn first_line(cmd: &str, args: &[&str]) -> String {
    std::process::Command::new(cmd)
        .args(args)
        .output()
        .ok()
        .map(|o| {
            let text = if o.stdout.is_empty() {
                o.stderr
            } else {
                o.stdout
            };
            String::from_utf8_lossy(&text)
                .lines()
                .next()
                .unwrap_or("")
                .to_string()
        })
        .unwrap_or_else(|| "unknown".to_string())
}

impl Machine {
    fn detect() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split(':').nth(1))
            .map_or("unknown", str::trim)
            .to_string();
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let mem_kb: f64 = meminfo
            .lines()
            .find(|l| l.starts_with("MemTotal:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0);
        Machine {
            cpu,
            cores: std::thread::available_parallelism().map_or(0, |n| n.get()),
            memory_gib: mem_kb / 1024.0 / 1024.0,
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .map_or_else(|_| "unknown".to_string(), |s| s.trim().to_string()),
            java: first_line("java", &["-version"]),
            rustc: first_line("rustc", &["-V"]),
            load_average: std::fs::read_to_string("/proc/loadavg")
                .map_or_else(|_| "unknown".to_string(), |s| s.trim().to_string()),
        }
    }
}

/// The settings every contender ran with.
#[derive(Debug, Clone, Serialize)]
struct Settings {
    records: u64,
    keys: u64,
    value_size: usize,
    avg_input_record_bytes: f64,
    partitions: i32,
    stream_threads: usize,
    commit_interval_ms: u64,
    kafka_streams_cache_bytes: u64,
    processing_guarantee: String,
    acks: String,
    linger_ms: u64,
    batch_size: u64,
    compression: &'static str,
    fetch_min_bytes: u64,
    fetch_max_wait_ms: u64,
    max_partition_fetch_bytes: u64,
    latency_run_s: f64,
    warmup_s: f64,
    kafka_version: &'static str,
}

/// The whole run.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Report {
    run_id: String,
    mode: &'static str,
    started_unix_s: u64,
    command: String,
    machine: Machine,
    settings: Settings,
    #[serde(skip)]
    contenders: Vec<Contender>,
    scenarios: Vec<ScenarioReport>,
}

/// A metric row of the ratio table.
struct Metric {
    label: &'static str,
    /// Lower is better.
    lower_better: bool,
    get: fn(&ContenderReport) -> Option<f64>,
    digits: usize,
}

fn complete(r: &Option<RunResult>) -> Option<&RunResult> {
    r.as_ref().filter(|r| r.complete)
}

const METRICS: &[Metric] = &[
    Metric {
        label: "throughput rec/s",
        lower_better: false,
        get: |c| complete(&c.throughput).map(|r| r.records_per_s),
        digits: 0,
    },
    Metric {
        label: "throughput MB/s",
        lower_better: false,
        get: |c| complete(&c.throughput).map(|r| r.mb_per_s),
        digits: 1,
    },
    Metric {
        label: "p50 ms @ near max",
        lower_better: true,
        get: |c| complete(&c.latency_near_max).and_then(|r| r.latency.as_ref().map(|l| l.p50_ms)),
        digits: 2,
    },
    Metric {
        label: "p99 ms @ near max",
        lower_better: true,
        get: |c| complete(&c.latency_near_max).and_then(|r| r.latency.as_ref().map(|l| l.p99_ms)),
        digits: 2,
    },
    Metric {
        label: "p99.9 ms @ near max",
        lower_better: true,
        get: |c| complete(&c.latency_near_max).and_then(|r| r.latency.as_ref().map(|l| l.p999_ms)),
        digits: 2,
    },
    Metric {
        label: "p50 ms @ fixed rate",
        lower_better: true,
        get: |c| complete(&c.latency_fixed).and_then(|r| r.latency.as_ref().map(|l| l.p50_ms)),
        digits: 2,
    },
    Metric {
        label: "p99 ms @ fixed rate",
        lower_better: true,
        get: |c| complete(&c.latency_fixed).and_then(|r| r.latency.as_ref().map(|l| l.p99_ms)),
        digits: 2,
    },
    Metric {
        label: "p99.9 ms @ fixed rate",
        lower_better: true,
        get: |c| complete(&c.latency_fixed).and_then(|r| r.latency.as_ref().map(|l| l.p999_ms)),
        digits: 2,
    },
    Metric {
        label: "peak RSS MiB",
        lower_better: true,
        get: |c| {
            c.runs()
                .filter(|r| r.complete)
                .map(|r| r.peak_rss_mib)
                .reduce(f64::max)
        },
        digits: 0,
    },
    Metric {
        label: "CPU s (throughput run)",
        lower_better: true,
        get: |c| complete(&c.throughput).map(|r| r.cpu_s),
        digits: 1,
    },
];

fn fmt_num(v: f64, digits: usize) -> String {
    if digits == 0 && v >= 1000.0 {
        let s = format!("{v:.0}");
        let mut out = String::new();
        for (i, ch) in s.chars().enumerate() {
            if i > 0 && (s.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(ch);
        }
        out
    } else {
        format!("{v:.digits$}")
    }
}

fn cell(c: Option<&ContenderReport>, m: &Metric) -> String {
    match c {
        None => "-".to_string(),
        Some(r) if r.unavailable.is_some() => "n/a".to_string(),
        Some(r) => (m.get)(r).map_or_else(
            || {
                if r.failure.is_some() {
                    "failed".to_string()
                } else {
                    "-".to_string()
                }
            },
            |v| fmt_num(v, m.digits),
        ),
    }
}

fn ratio(a: Option<&ContenderReport>, b: Option<&ContenderReport>, m: &Metric) -> String {
    match (a.and_then(|r| (m.get)(r)), b.and_then(|r| (m.get)(r))) {
        (Some(x), Some(y)) if y > 0.0 => format!("{:.2}x", x / y),
        _ => "-".to_string(),
    }
}

impl Report {
    pub(crate) fn new(
        opts: &Opts,
        command: &str,
        run_id: &str,
        started: SystemTime,
        scenarios: Vec<ScenarioReport>,
    ) -> Report {
        Report {
            run_id: run_id.to_string(),
            mode: if opts.quick { "quick" } else { "full" },
            started_unix_s: started
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            command: command.to_string(),
            machine: Machine::detect(),
            settings: Settings {
                records: opts.records,
                keys: opts.keys,
                value_size: opts.value_size,
                avg_input_record_bytes: avg_input_bytes(opts),
                partitions: opts.partitions,
                stream_threads: opts.threads,
                commit_interval_ms: opts.commit_interval_ms,
                kafka_streams_cache_bytes: opts.cache_bytes,
                processing_guarantee: opts.guarantee.clone(),
                acks: opts.client.acks.clone(),
                linger_ms: opts.client.linger_ms,
                batch_size: opts.client.batch_size,
                compression: "none",
                fetch_min_bytes: 1,
                fetch_max_wait_ms: opts.client.fetch_max_wait_ms,
                max_partition_fetch_bytes: opts.client.max_partition_fetch_bytes,
                latency_run_s: opts.latency_duration.as_secs_f64(),
                warmup_s: opts.warmup.as_secs_f64(),
                kafka_version: "4.4.0",
            },
            contenders: opts.contenders.clone(),
            scenarios,
        }
    }

    fn rows(&self) -> (Vec<String>, Vec<Vec<String>>, Vec<String>) {
        let mut header = vec!["scenario".to_string(), "metric".to_string()];
        header.extend(self.contenders.iter().map(|c| c.name().to_string()));
        let has = |c| self.contenders.contains(&c);
        if has(Contender::Ours) && has(Contender::KafkaStreams) {
            header.push("ours/KS".to_string());
        }
        if has(Contender::Ours) && has(Contender::Ceiling) {
            header.push("ours/ceiling".to_string());
        }
        let mut rows = Vec::new();
        let mut notes = Vec::new();
        for s in &self.scenarios {
            for (i, m) in METRICS.iter().enumerate() {
                let mut label = format!("{} {}", m.label, if m.lower_better { "↓" } else { "↑" });
                if m.label.contains("fixed")
                    && let Some(rate) = s.fixed_rate
                {
                    label = format!("{label} ({})", fmt_num(rate, 0));
                }
                let mut row = vec![
                    if i == 0 {
                        s.scenario.clone()
                    } else {
                        String::new()
                    },
                    label,
                ];
                row.extend(self.contenders.iter().map(|&c| cell(s.get(c), m)));
                let ours = s.get(Contender::Ours);
                if has(Contender::Ours) && has(Contender::KafkaStreams) {
                    row.push(ratio(ours, s.get(Contender::KafkaStreams), m));
                }
                if has(Contender::Ours) && has(Contender::Ceiling) {
                    row.push(ratio(ours, s.get(Contender::Ceiling), m));
                }
                rows.push(row);
            }
            for c in &s.contenders {
                if let Some(u) = &c.unavailable {
                    notes.push(format!("{} / {}: {u}", s.scenario, c.contender.name()));
                }
                if let Some(f) = &c.failure {
                    notes.push(format!(
                        "{} / {}: FAILED: {f}",
                        s.scenario,
                        c.contender.name()
                    ));
                }
                for r in c.runs().filter(|r| !r.complete) {
                    notes.push(format!(
                        "{} / {} / {}: incomplete: {}",
                        s.scenario,
                        c.contender.name(),
                        r.phase,
                        r.problems.join("; ")
                    ));
                }
            }
        }
        (header, rows, notes)
    }

    /// The ratio table as aligned text.
    pub(crate) fn text_table(&self) -> String {
        let (header, rows, notes) = self.rows();
        let width = |i: usize| {
            std::iter::once(&header[i])
                .chain(rows.iter().map(|r| &r[i]))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        };
        let widths: Vec<usize> = (0..header.len()).map(width).collect();
        let line = |cells: &[String]| {
            cells
                .iter()
                .zip(&widths)
                .enumerate()
                .map(|(i, (c, w))| {
                    let pad = w - c.chars().count();
                    if i < 2 {
                        format!("{c}{}", " ".repeat(pad))
                    } else {
                        format!("{}{c}", " ".repeat(pad))
                    }
                })
                .collect::<Vec<_>>()
                .join("  ")
        };
        let mut out = format!(
            "End to end ({} run {}): ↑ higher is better, ↓ lower is better; ratios are ours ÷ other\n",
            self.mode, self.run_id
        );
        out.push_str(&line(&header));
        out.push('\n');
        out.push_str(&"-".repeat(widths.iter().sum::<usize>() + 2 * (widths.len() - 1)));
        out.push('\n');
        for r in &rows {
            if !r[0].is_empty() && !out.ends_with("-\n") {
                out.push('\n');
            }
            out.push_str(&line(r));
            out.push('\n');
        }
        if !notes.is_empty() {
            out.push('\n');
            for n in notes {
                let _ = writeln!(out, "  * {n}");
            }
        }
        out
    }

    pub(crate) fn write_json(&self, path: &Path) -> Result<(), String> {
        let text = serde_json::to_string_pretty(self).map_err(|e| format!("JSON: {e}"))?;
        std::fs::write(path, text + "\n").map_err(|e| format!("writing {}: {e}", path.display()))
    }

    /// Two bar charts side by side: throughput per scenario, and p99 latency at the fixed rate.
    pub(crate) fn write_svg(&self, path: &Path) -> Result<(), String> {
        std::fs::write(path, self.svg()).map_err(|e| format!("writing {}: {e}", path.display()))
    }

    fn svg(&self) -> String {
        let colors = |c: Contender| match c {
            Contender::Ours => "#e8590c",
            Contender::KafkaStreams => "#1971c2",
            Contender::Ceiling => "#868e96",
        };
        type Getter = fn(&ContenderReport) -> Option<f64>;
        let panels: [(&str, Getter, &str); 3] = [
            (
                "Throughput (k records/s, higher is better)",
                METRICS[0].get,
                "k",
            ),
            (
                "p99 latency at the fixed rate (ms, lower is better)",
                METRICS[6].get,
                "ms",
            ),
            ("Peak RSS (MiB, lower is better)", METRICS[8].get, "MiB"),
        ];
        let (pw, ph, top, left) = (440.0, 300.0, 70.0, 50.0);
        let width = left + panels.len() as f64 * (pw + 30.0);
        let height = top + ph + 90.0;
        let mut s = String::new();
        let _ = writeln!(
            s,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">"#
        );
        let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
        let _ = writeln!(
            s,
            r#"<text x="{left}" y="24" font-size="16" font-weight="bold">streams end to end: ours vs Kafka Streams 4.4 vs rdkafka copy (ceiling) — {} run, {} records/scenario</text>"#,
            self.mode, self.settings.records
        );
        let mut lx = left;
        for &c in &self.contenders {
            let _ = writeln!(
                s,
                r#"<rect x="{lx}" y="36" width="12" height="12" fill="{}"/><text x="{}" y="46">{}</text>"#,
                colors(c),
                lx + 16.0,
                c.name()
            );
            lx += 130.0;
        }
        for (pi, (title, get, unit)) in panels.iter().enumerate() {
            let x0 = left + pi as f64 * (pw + 30.0);
            let values: Vec<Vec<Option<f64>>> = self
                .scenarios
                .iter()
                .map(|sc| {
                    self.contenders
                        .iter()
                        .map(|&c| {
                            sc.get(c)
                                .and_then(get)
                                .map(|v| if *unit == "k" { v / 1000.0 } else { v })
                        })
                        .collect()
                })
                .collect();
            let max = values
                .iter()
                .flatten()
                .flatten()
                .copied()
                .fold(0.0f64, f64::max)
                .max(1e-9);
            let _ = writeln!(
                s,
                r#"<text x="{x0}" y="{}" font-weight="bold">{title}</text>"#,
                top - 6.0
            );
            let _ = writeln!(
                s,
                r##"<line x1="{x0}" y1="{}" x2="{}" y2="{}" stroke="#333"/>"##,
                top + ph,
                x0 + pw,
                top + ph
            );
            let groups = self.scenarios.len().max(1) as f64;
            let gw = pw / groups;
            let bw = (gw - 16.0) / self.contenders.len().max(1) as f64;
            for (gi, sc) in self.scenarios.iter().enumerate() {
                let gx = x0 + gi as f64 * gw + 8.0;
                for (ci, &c) in self.contenders.iter().enumerate() {
                    let bx = gx + ci as f64 * bw;
                    match values[gi][ci] {
                        Some(v) => {
                            let h = v / max * (ph - 20.0);
                            let _ = writeln!(
                                s,
                                r#"<rect x="{bx:.1}" y="{:.1}" width="{:.1}" height="{h:.1}" fill="{}"><title>{} {}: {v:.2} {unit}</title></rect>"#,
                                top + ph - h,
                                bw - 2.0,
                                colors(c),
                                sc.scenario,
                                c.name()
                            );
                            let _ = writeln!(
                                s,
                                r#"<text x="{:.1}" y="{:.1}" font-size="9" text-anchor="middle">{}</text>"#,
                                bx + bw / 2.0 - 1.0,
                                top + ph - h - 3.0,
                                if v >= 100.0 {
                                    format!("{v:.0}")
                                } else {
                                    format!("{v:.1}")
                                }
                            );
                        }
                        None => {
                            let label = match sc.get(c) {
                                Some(r) if r.unavailable.is_some() => "n/a",
                                Some(_) => "–",
                                None => "",
                            };
                            let _ = writeln!(
                                s,
                                r##"<text x="{:.1}" y="{:.1}" font-size="9" text-anchor="middle" fill="#888">{label}</text>"##,
                                bx + bw / 2.0 - 1.0,
                                top + ph - 4.0
                            );
                        }
                    }
                }
                let _ = writeln!(
                    s,
                    r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="11">{}</text>"#,
                    gx + (gw - 16.0) / 2.0,
                    top + ph + 16.0,
                    sc.scenario
                );
            }
        }
        let _ = writeln!(
            s,
            r##"<text x="{left}" y="{}" font-size="10" fill="#555">n/a: not available yet in our runtime (never faked). Machine: {} cores, {}; broker, harness and contender share the machine.</text>"##,
            height - 20.0,
            self.machine.cores,
            self.machine.cpu
        );
        s.push_str("</svg>\n");
        s
    }

    fn markdown_table(&self) -> String {
        let (header, rows, notes) = self.rows();
        let mut out = String::new();
        let _ = writeln!(out, "| {} |", header.join(" | "));
        let _ = writeln!(
            out,
            "|{}|",
            header
                .iter()
                .enumerate()
                .map(|(i, _)| if i < 2 { "---" } else { "---:" })
                .collect::<Vec<_>>()
                .join("|")
        );
        for r in rows {
            let cells: Vec<String> = r
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    if i == 0 && !c.is_empty() {
                        format!("**{c}**")
                    } else {
                        c.clone()
                    }
                })
                .collect();
            let _ = writeln!(out, "| {} |", cells.join(" | "));
        }
        if !notes.is_empty() {
            out.push('\n');
            for n in notes {
                let _ = writeln!(out, "- {n}");
            }
        }
        out
    }

    fn targets(&self) -> String {
        let get = |sc: &str, c: Contender, m: usize| {
            self.scenarios
                .iter()
                .find(|s| s.scenario == sc)
                .and_then(|s| s.get(c))
                .and_then(|r| (METRICS[m].get)(r))
        };
        let verdict = |v: Option<bool>| match v {
            Some(true) => "met",
            Some(false) => "**not met**",
            None => "not measured",
        };
        let mut out = String::from("| target | measured | verdict |\n|---|---|---|\n");
        let pt = |c| get("passthrough", c, 0);
        let r_ceiling = pt(Contender::Ours)
            .zip(pt(Contender::Ceiling))
            .map(|(a, b)| a / b);
        let _ = writeln!(
            out,
            "| passthrough ≥ 90% of the ceiling's throughput | {} | {} |",
            r_ceiling.map_or("-".into(), |r| format!("{:.0}%", r * 100.0)),
            verdict(r_ceiling.map(|r| r >= 0.9))
        );
        let r_ks = pt(Contender::Ours)
            .zip(pt(Contender::KafkaStreams))
            .map(|(a, b)| a / b);
        let _ = writeln!(
            out,
            "| passthrough ≥ 3× Kafka Streams' throughput | {} | {} |",
            r_ks.map_or("-".into(), |r| format!("{r:.2}×")),
            verdict(r_ks.map(|r| r >= 3.0))
        );
        for sc in ["count", "windowed_count", "join"] {
            let r = get(sc, Contender::Ours, 0)
                .zip(get(sc, Contender::KafkaStreams, 0))
                .map(|(a, b)| a / b);
            let _ = writeln!(
                out,
                "| {sc} ≥ 2× Kafka Streams' throughput | {} | {} |",
                r.map_or("not available yet".into(), |r| format!("{r:.2}×")),
                verdict(r.map(|r| r >= 2.0))
            );
        }
        for s in &self.scenarios {
            let p99 = s.get(Contender::Ours).and_then(|r| (METRICS[6].get)(r));
            let own = s.get(Contender::Ours).and_then(|r| (METRICS[0].get)(r));
            let load = s.fixed_rate.zip(own).map(|(f, o)| f / o * 100.0);
            if p99.is_none()
                && s.get(Contender::Ours)
                    .is_some_and(|r| r.unavailable.is_some())
            {
                continue;
            }
            let _ = writeln!(
                out,
                "| {}: p99 ≤ 5 ms at ~50% load | {} | {} |",
                s.scenario,
                p99.map_or("-".into(), |p| format!(
                    "{p:.2} ms at {} rec/s{}",
                    fmt_num(s.fixed_rate.unwrap_or(0.0), 0),
                    load.map_or(String::new(), |l| format!(" ({l:.0}% of ours' max)"))
                )),
                verdict(p99.map(|p| p <= 5.0))
            );
            let rss = |c| s.get(c).and_then(|r| (METRICS[8].get)(r));
            let r = rss(Contender::Ours)
                .zip(rss(Contender::KafkaStreams))
                .map(|(a, b)| a / b);
            let _ = writeln!(
                out,
                "| {}: peak RSS ≤ 1/5 of Kafka Streams' | {} | {} |",
                s.scenario,
                r.map_or("-".into(), |r| format!("{:.1}% ({r:.3}×)", r * 100.0)),
                verdict(r.map(|r| r <= 0.2))
            );
        }
        out
    }

    /// Replaces (or appends) the "End to end" section of BENCHMARKS.md.
    pub(crate) fn write_markdown(&self, path: &Path, svg: &Path) -> Result<(), String> {
        const BEGIN: &str =
            "<!-- e2e:begin (written by `cargo bench --bench e2e`; edits here are overwritten) -->";
        const END: &str = "<!-- e2e:end -->";
        let root = path.parent().unwrap_or(Path::new("."));
        let svg_rel = svg.strip_prefix(root).unwrap_or(svg).display().to_string();
        let m = &self.machine;
        let st = &self.settings;
        let mut sec = String::new();
        let _ = writeln!(sec, "{BEGIN}\n## End to end\n");
        let _ = writeln!(
            sec,
            "This project's runtime (\"ours\") vs Kafka Streams {} on the JVM vs a raw rdkafka \
             consume → produce copy loop (the ceiling), on the same broker, in one run \
             (`{}` mode, run `{}`). The Kafka Streams side is `benches/kafka-streams-peer`; ours and \
             the ceiling are `benches/e2e/runners.rs`.\n",
            st.kafka_version, self.mode, self.run_id
        );
        let _ = writeln!(sec, "### Commands\n\n```sh");
        let _ = writeln!(
            sec,
            "export CARGO_TARGET_DIR=/var/cache/streams/target\n\
             cargo bench --bench e2e -- --quick       # every scenario, small N, a few minutes (no BENCHMARKS.md update)\n\
             {}   # this run (starts and stops a broker with scripts/kafka-broker.sh)\n\
             # against a running broker instead:\n\
             cargo bench --bench e2e -- --bootstrap-servers 127.0.0.1:9092",
            self.command
        );
        let _ = writeln!(sec, "```\n");
        let _ = writeln!(
            sec,
            "### Machine\n\n- CPU: {} × {} cores, {:.0} GiB RAM, Linux {}\n- {}; {}\n- Apache Kafka {} \
             broker (KRaft, single node, `scripts/kafka-broker.sh`, 1 GiB heap) on loopback. Broker, \
             harness (loader, load producer, measuring consumer) and contender share the machine.\n\
             - Load average (1/5/15 min, runnable/total, last pid) when the run ended: `{}` — anything \
             above the core count means other work competed with the benchmark.\n",
            m.cpu,
            m.cores,
            m.memory_gib,
            m.kernel,
            m.java,
            m.rustc,
            st.kafka_version,
            m.load_average
        );
        let _ = writeln!(
            sec,
            "### Settings (the same for every contender)\n\n\
             {} input records per scenario, {} keys, {}-byte values ({:.1} bytes per record with the key), \
             {} partitions per topic, {} stream thread(s), `commit.interval.ms={}`, `processing.guarantee={}` (the ceiling: at-least-once), \
             Kafka Streams record cache {} bytes (caching on), producer `acks={}` `linger.ms={}` `batch.size={}` \
             `compression=none`, consumer `fetch.min.bytes=1` fetch wait {} ms `max.partition.fetch.bytes={}`. \
             Latency runs last {} s; latencies of records sent in the first {} s are dropped. \
             The JVM runs with its default heap settings.\n",
            st.records,
            st.keys,
            st.value_size,
            st.avg_input_record_bytes,
            st.partitions,
            st.stream_threads,
            st.commit_interval_ms,
            st.processing_guarantee,
            st.kafka_streams_cache_bytes,
            st.acks,
            st.linger_ms,
            st.batch_size,
            st.fetch_max_wait_ms,
            st.max_partition_fetch_bytes,
            st.latency_run_s,
            st.warmup_s
        );
        let _ = writeln!(sec, "### Results\n");
        sec.push_str(&self.markdown_table());
        let _ = writeln!(sec, "\n![end-to-end chart]({svg_rel})\n");
        let _ = writeln!(sec, "### Targets\n");
        sec.push_str(&self.targets());
        let _ = writeln!(
            sec,
            "\n### Method\n\n\
             - **Scenarios.** passthrough = `mapValues(v -> v)` on byte values; filter_map = keep the \
             values whose 16th character is an even digit (half), upper-case them; count = \
             `groupByKey().count()` (RocksDB + changelog, caching on; ours forwards each changed \
             count once per commit, as the peer's record cache does); windowed_count = `count()` in \
             1 s tumbling windows (same); join = the stream joined with a table topic holding one row per key; \
             stream_join = the input split in two sides by a digit of each record's index, joined \
             by key within 100 ms (RocksDB window stores with changelogs). The pre-loaded input's \
             event time advances 1 ms every 500 records whatever the load's speed, so windows and \
             joins compute the same in every run. \
             A scenario runs on ours only once the runtime has what it needs with the same semantics; \
             until then it is reported as *not available yet* (n/a), never approximated.\n\
             - **Isolation.** Every contender is its own child process (ours and the ceiling: the bench \
             binary re-run with `--child`; Kafka Streams: `java -cp ... peer.PeerMain`), with its own \
             consumer group / application id and its own output topic, reading the same pre-loaded \
             input topic (throughput) or a fresh input topic (latency). Contenders run one after \
             another (ours, Kafka Streams, ceiling). Before the first scenario, ours and the ceiling run \
             once on a throw-away topic, unmeasured: a freshly started broker is still warming up its JVM, \
             and the first contender measured paid for it.\n\
             - **Throughput**: input records processed ÷ (broker append time of the last output \
             record − that of the first); the throughput runs' output topics use \
             `message.timestamp.type=LogAppendTime`, so the window is exact and the contender's \
             start-up is excluded. MB/s counts input key + value bytes.\n\
             - **Latency**: a rate-limited producer (`linger.ms=1`) writes a fresh input topic while \
             the contender runs; each output record's latency is its arrival at the measuring consumer \
             minus the producer timestamp it carries (ms resolution, so values carry up to ~1 ms of \
             rounding), recorded in an HdrHistogram (3 significant digits). Two runs per contender: \
             near its own maximum (90% of the throughput it measured; `--near-max`) and at a fixed rate shared by all \
             contenders (default 50% of the slowest contender's maximum, so no one is saturated). For \
             count/windowed_count the record cache emits on commit, so latency includes up to one \
             commit interval by design.\n\
             - **Peak RSS**: the highest VmHWM of the child (polled from `/proc/<pid>/status` every \
             50 ms and self-reported on exit) over its runs. **CPU**: utime + stime of the child \
             (`/proc/<pid>/stat`, read when it has exited but before it is reaped), for the whole \
             throughput run including start-up (JVM start and JIT included for Kafka Streams).\n\
             - **Ceiling**: `assign()` on every input partition, poll → produce with the same key, \
             value and timestamp (murmur2 partitioner, like Java's), every commit interval flush the \
             producer and commit the offsets — at-least-once, like the others.\n\
             - JSON with every number (and each run's log path): `benches/e2e/results/e2e-{}.json`.\n",
            self.mode
        );
        let _ = writeln!(sec, "{END}");

        let old = std::fs::read_to_string(path).unwrap_or_default();
        let new = match (old.find("<!-- e2e:begin"), old.find(END)) {
            (Some(b), Some(e)) if e > b => {
                format!(
                    "{}{}{}",
                    &old[..b],
                    sec,
                    &old[e + END.len()..].trim_start_matches('\n')
                )
            }
            _ if old.trim().is_empty() => format!("# Benchmarks\n\n{sec}"),
            _ => format!("{}\n\n{sec}", old.trim_end()),
        };
        std::fs::write(path, new).map_err(|e| format!("writing {}: {e}", path.display()))
    }
}
