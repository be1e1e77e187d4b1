//! Punctuations fire exactly when Kafka Streams' would.
//!
//! The golden files under `tests/golden/punctuation/` record what the real Kafka Streams 4.4.0
//! `TopologyTestDriver` did (`tools/kafka-streams-golden`). Each test replays the actions a file
//! lists and checks the punctuations that fired after each one.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use streams_core::codec::Utf8;
use streams_core::error::ProcessorError;
use streams_core::processor::{Processor, ProcessorContext, Punctuation, PunctuationType};
use streams_core::record::Record;
use streams_core::testing::{DriverOptions, TopologyTestDriver};
use streams_core::topology::{Topology, TopologyBuilder};

type Log = Arc<Mutex<Vec<i64>>>;

/// Schedules a punctuation every 10 ms, in `init` or on the first record with timestamp
/// `schedule_at`, and logs the timestamps it is called with.
struct Recorder {
    kind: PunctuationType,
    schedule_at: Option<i64>,
    scheduled: bool,
    log: Log,
}

impl Processor for Recorder {
    type KIn = String;
    type VIn = String;
    type KOut = String;
    type VOut = String;

    fn init(
        &mut self,
        ctx: &mut ProcessorContext<'_, String, String>,
    ) -> Result<(), ProcessorError> {
        if self.schedule_at.is_none() {
            ctx.schedule(Duration::from_millis(10), self.kind)?;
        }
        Ok(())
    }

    fn process(
        &mut self,
        record: Record<String, String>,
        ctx: &mut ProcessorContext<'_, String, String>,
    ) -> Result<(), ProcessorError> {
        if !self.scheduled && self.schedule_at == Some(record.timestamp) {
            self.scheduled = true;
            ctx.schedule(Duration::from_millis(10), self.kind)?;
        }
        Ok(())
    }

    fn punctuate(
        &mut self,
        punctuation: Punctuation,
        _ctx: &mut ProcessorContext<'_, String, String>,
    ) -> Result<(), ProcessorError> {
        self.log.lock().unwrap().push(punctuation.timestamp);
        Ok(())
    }
}

fn recorder_topology(kind: PunctuationType, schedule_at: Option<i64>, log: &Log) -> Topology {
    let log = Arc::clone(log);
    let mut b = TopologyBuilder::new();
    b.add_source("source", ["input"], Utf8, Utf8).add_processor(
        "recorder",
        move || Recorder {
            kind,
            schedule_at,
            scheduled: false,
            log: Arc::clone(&log),
        },
        ["source"],
    );
    b.build().unwrap()
}

fn golden(name: &str) -> String {
    let path = format!(
        "{}/tests/golden/punctuation/{name}.txt",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn number_after(line: &str, marker: &str) -> i64 {
    let rest = &line[line.find(marker).unwrap() + marker.len()..];
    let digits: String = rest
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '-')
        .collect();
    digits.parse().unwrap()
}

fn fired(line: &str) -> String {
    line[line.find("fired ").unwrap() + 6..].to_string()
}

fn render(log: &Log) -> String {
    let taken: Vec<String> = log
        .lock()
        .unwrap()
        .drain(..)
        .map(|t| t.to_string())
        .collect();
    format!("[{}]", taken.join(", "))
}

/// Replays a golden file: "sequence" starts a fresh driver; "pipe ts=N" pipes a record;
/// "advance N" moves the wall clock; each line's "fired [..]" is checked.
fn replay(name: &str, kind: PunctuationType, schedule_at: Option<i64>, clock_start: i64) {
    let text = golden(name);
    let log: Log = Arc::default();
    let mut driver: Option<TopologyTestDriver> = None;
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        if line.starts_with("sequence") {
            drop(driver.take());
            log.lock().unwrap().clear();
            continue;
        }
        if line.starts_with("after driver creation") {
            driver = Some(
                TopologyTestDriver::with_options(
                    recorder_topology(kind, schedule_at, &log),
                    DriverOptions {
                        wall_clock_start_ms: clock_start,
                        ..DriverOptions::default()
                    },
                )
                .unwrap(),
            );
        } else if line.starts_with("pipe ts=") {
            let d = driver.as_ref().unwrap();
            let input = d.create_input_topic("input", Utf8, Utf8);
            input
                .pipe_input_at("k".into(), "v".into(), number_after(line, "ts="))
                .unwrap();
        } else if line.starts_with("advance ") {
            let by = number_after(line, "advance ") as u64;
            driver
                .as_ref()
                .unwrap()
                .advance_wall_clock_time(Duration::from_millis(by))
                .unwrap();
            assert_eq!(
                driver.as_ref().unwrap().wall_clock_ms(),
                number_after(line, "clock="),
                "{line}"
            );
        } else {
            panic!("unexpected golden line: {line}");
        }
        assert_eq!(render(&log), fired(line), "{name}: {line}");
    }
}

#[test]
fn stream_time_interval_10_fires_like_kafka_streams() {
    replay("stream_time", PunctuationType::StreamTime, None, 0);
}

#[test]
fn stream_time_scheduled_from_process_is_due_at_zero() {
    replay(
        "stream_time_schedule_later",
        PunctuationType::StreamTime,
        Some(57),
        0,
    );
}

#[test]
fn wall_clock_fires_only_when_the_clock_advances() {
    replay("wall_clock", PunctuationType::WallClockTime, None, 1000);
}

/// Upper-cases values; its stream-time punctuation forwards two records of its own.
struct Emitter;

impl Processor for Emitter {
    type KIn = String;
    type VIn = String;
    type KOut = String;
    type VOut = String;

    fn init(
        &mut self,
        ctx: &mut ProcessorContext<'_, String, String>,
    ) -> Result<(), ProcessorError> {
        ctx.schedule(Duration::from_millis(10), PunctuationType::StreamTime)?;
        Ok(())
    }

    fn process(
        &mut self,
        record: Record<String, String>,
        ctx: &mut ProcessorContext<'_, String, String>,
    ) -> Result<(), ProcessorError> {
        ctx.forward(record.map_value(|v| v.to_uppercase()))
    }

    fn punctuate(
        &mut self,
        p: Punctuation,
        ctx: &mut ProcessorContext<'_, String, String>,
    ) -> Result<(), ProcessorError> {
        assert!(
            ctx.record_metadata().is_none(),
            "no input record during a punctuation"
        );
        let ts = p.timestamp;
        ctx.forward(Record::new("punct".into(), format!("p@{ts}"), ts))?;
        ctx.forward(Record::new(
            "punct-plus".into(),
            format!("p@{ts}+1000"),
            ts + 1000,
        ))
    }
}

#[test]
fn records_forwarded_from_punctuations_keep_their_own_timestamps() {
    let mut b = TopologyBuilder::new();
    b.add_source("source", ["input"], Utf8, Utf8)
        .add_processor("emitter", || Emitter, ["source"])
        .add_sink("sink", "output", Utf8, Utf8, ["emitter"]);
    let driver = TopologyTestDriver::new(b.build().unwrap()).unwrap();
    let input = driver.create_input_topic("input", Utf8, Utf8);
    let output = driver.create_output_topic("output", Utf8, Utf8);
    let mut actual = Vec::new();
    for ts in [42, 45, 55] {
        actual.push(format!("pipe key=key value=val{ts} ts={ts}"));
        input
            .pipe_input_at("key".into(), format!("val{ts}"), ts)
            .unwrap();
        for r in output.read_records_to_list().unwrap() {
            actual.push(format!(
                "  out key={} value={} ts={}",
                r.key, r.value, r.timestamp
            ));
        }
    }
    let expected: Vec<String> = golden("forward_in_punctuate")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(String::from)
        .collect();
    assert_eq!(actual, expected);
}
