//! The harness of the golden-file tests (`dsl_golden.rs`, `join_golden.rs`): a program of ours
//! is built, described and run through our `TopologyTestDriver` on the input script Kafka
//! Streams' own driver ran (see `tools/kafka-streams-golden/README.md`), and the results are
//! compared with the golden files byte for byte.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use streams_core::codec::{Bytes, Nullable, Utf8};
use streams_core::dsl::StreamsBuilder;
use streams_core::testing::{DriverOptions, TopologyTestDriver};
use streams_core::topology::Topology;

/// A program: what it adds to a builder.
pub(crate) type Program = fn(&StreamsBuilder);

/// The golden files of one directory (`tests/golden/<dir>`) and the programs that mirror them.
pub(crate) struct Goldens {
    pub(crate) dir: &'static str,
    pub(crate) programs: Vec<(&'static str, Program)>,
    /// Golden programs whose operations are not built yet.
    pub(crate) pending: &'static [&'static str],
}

impl Goldens {
    fn path(&self) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/golden")
            .join(self.dir)
    }

    fn read(&self, name: &str, kind: &str) -> String {
        let path = self.path().join(format!("{name}.{kind}.txt"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// Every golden program is mirrored or listed as pending, and nothing else is.
    pub(crate) fn check_all_mirrored(&self) {
        let goldens: BTreeSet<String> = std::fs::read_dir(self.path())
            .expect("golden dir")
            .filter_map(|e| {
                let name = e.ok()?.file_name().into_string().ok()?;
                name.strip_suffix(".describe.txt").map(str::to_string)
            })
            .collect();
        let ours: BTreeSet<String> = self
            .programs
            .iter()
            .map(|(n, _)| n.to_string())
            .chain(self.pending.iter().map(|n| n.to_string()))
            .collect();
        assert_eq!(goldens, ours);
    }

    /// `describe()` of every program is Kafka Streams'.
    pub(crate) fn check_describe(&self) {
        let mut failures = Vec::new();
        for (name, program) in &self.programs {
            let ours = build(*program).describe().to_string();
            let theirs = self.read(name, "describe");
            if ours != theirs {
                failures.push(format!("== {name}\n{}", diff(&theirs, &ours)));
            }
        }
        assert!(
            failures.is_empty(),
            "{} differ:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }

    /// Every program writes what Kafka Streams' driver wrote, with the cache on and off.
    pub(crate) fn check_outputs(&self) {
        let mut failures = Vec::new();
        for (name, program) in &self.programs {
            let script = self.read(name, "input");
            for (kind, cache) in [("cache-on", 10 * 1024 * 1024), ("cache-off", 0)] {
                let ours = run(*program, &script, cache);
                let theirs = self.read(name, kind);
                if ours != theirs {
                    failures.push(format!("== {name} ({kind})\n{}", diff(&theirs, &ours)));
                }
            }
        }
        assert!(
            failures.is_empty(),
            "{} differ:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
}

fn build(program: Program) -> Topology {
    let builder = StreamsBuilder::new();
    program(&builder);
    builder.build().expect("the program builds")
}

fn render(bytes: &Option<Vec<u8>>) -> String {
    let Some(bytes) = bytes else {
        return "null".into();
    };
    if let Ok(s) = std::str::from_utf8(bytes)
        && !bytes.is_empty()
        && s.chars().all(|c| c >= ' ' && c != '\u{7f}')
        && s != "null"
        && !s.starts_with("0x")
    {
        return s.to_string();
    }
    let mut out = String::from("0x");
    for b in bytes {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

fn field(s: &str) -> Option<String> {
    (s != "null").then(|| s.to_string())
}

/// Runs the input script through our driver and renders the outputs as the golden tool does.
fn run(program: Program, script: &str, cache_max_bytes: usize) -> String {
    let driver = TopologyTestDriver::with_options(
        build(program),
        DriverOptions {
            application_id: "golden-dsl".into(),
            cache_max_bytes,
            ..DriverOptions::default()
        },
    )
    .expect("driver");
    let mut outputs = Vec::new();
    let mut out = String::new();
    for line in script.lines() {
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        match fields[0] {
            "outputs" => {
                outputs = fields[1..]
                    .iter()
                    .map(|t| {
                        (
                            t.to_string(),
                            driver.create_output_topic(t, Nullable(Bytes), Nullable(Bytes)),
                        )
                    })
                    .collect();
                continue;
            }
            "pipe" => {
                let topic = driver.create_input_topic(fields[1], Nullable(Utf8), Nullable(Utf8));
                let ts: i64 = fields[4].parse().expect("timestamp");
                out.push_str(&format!("> {line}\n"));
                topic
                    .pipe_input_at(field(fields[2]), field(fields[3]), ts)
                    .unwrap_or_else(|e| panic!("{line}: {e}"));
            }
            "advance" => {
                out.push_str(&format!("> {line}\n"));
                let ms: u64 = fields[1].parse().expect("ms");
                driver
                    .advance_wall_clock_time(Duration::from_millis(ms))
                    .expect("advance");
            }
            other => panic!("unknown script command {other}"),
        }
        for (name, topic) in &outputs {
            for r in topic.read_records_to_list().expect("read") {
                out.push_str(&format!(
                    "{name}\t{}\t{}\t{}\n",
                    render(&r.key),
                    render(&r.value),
                    r.timestamp
                ));
            }
        }
    }
    out
}

fn diff(expected: &str, actual: &str) -> String {
    let mut report = String::new();
    let (e, a): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), actual.lines().collect());
    for i in 0..e.len().max(a.len()) {
        let (x, y) = (
            e.get(i).copied().unwrap_or("<none>"),
            a.get(i).copied().unwrap_or("<none>"),
        );
        if x != y {
            report.push_str(&format!(
                "line {}:\n  kafka streams: {x}\n  ours:          {y}\n",
                i + 1
            ));
            if report.len() > 2000 {
                break;
            }
        }
    }
    report
}
