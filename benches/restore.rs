//! Restoration from Kafka, end to end: how many changelog records per second a starting task
//! replays into its RocksDB store before it processes (target: ≥1 M records/s).
//!
//! Writes N records (K distinct keys, V-byte values) straight into the changelog topic of a
//! count-per-key application (`<app>-counts-changelog`, one partition), then starts the
//! application on an empty state directory and times restoration with a
//! `StateRestoreListener` (first `on_restore_start` → last `on_restore_end`).
//!
//! ```text
//! cargo bench --bench restore                                  # starts a broker with scripts/kafka-broker.sh
//! cargo bench --bench restore -- --bootstrap-servers HOST:PORT [--records N] [--keys K] [--value-size V]
//! ```

#![allow(
    clippy::print_stderr,
    reason = "a command-line benchmark reports progress on stderr"
)]

use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use streams::codec::{I64, Utf8};
use streams::config::StreamsConfig;
use streams::error::ProcessorError;
use streams::processor::{Processor, ProcessorContext};
use streams::record::Record;
use streams::runtime::{KafkaStreams, StateRestoreListener, StreamsState};
use streams::state::{KeyValueStore, Stores};
use streams::topology::TopologyBuilder;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

struct Count(Option<KeyValueStore<String, i64>>);

impl Processor for Count {
    type KIn = String;
    type VIn = String;
    type KOut = String;
    type VOut = i64;

    fn init(
        &mut self,
        ctx: &mut ProcessorContext<'_, String, i64>,
    ) -> std::result::Result<(), ProcessorError> {
        self.0 = Some(ctx.key_value_store("counts")?);
        Ok(())
    }

    fn process(
        &mut self,
        r: Record<String, String>,
        ctx: &mut ProcessorContext<'_, String, i64>,
    ) -> std::result::Result<(), ProcessorError> {
        let store = self
            .0
            .as_ref()
            .ok_or_else(|| ProcessorError::msg("no store"))?;
        let n = store.get(&r.key)?.unwrap_or(0) + 1;
        store.put(&r.key, &n)?;
        ctx.forward(r.with_value(n))
    }
}

#[derive(Default)]
struct Timing {
    start: Option<Instant>,
    end: Option<Instant>,
    restored: u64,
}

#[derive(Clone, Default)]
struct Timer(Arc<Mutex<Timing>>);

impl StateRestoreListener for Timer {
    fn on_restore_start(&self, _t: &str, _p: i32, _s: &str, _from: i64, _to: i64) {
        let mut t = self.0.lock().unwrap_or_else(|p| p.into_inner());
        t.start.get_or_insert_with(Instant::now);
    }

    fn on_restore_end(&self, _t: &str, _p: i32, _s: &str, total: u64) {
        let mut t = self.0.lock().unwrap_or_else(|p| p.into_inner());
        t.restored += total;
        t.end = Some(Instant::now());
    }
}

fn arg(args: &[String], flag: &str) -> Option<String> {
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1).cloned())
}

fn bootstrap(args: &[String]) -> Result<String> {
    if let Some(b) = arg(args, "--bootstrap-servers") {
        return Ok(b);
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/kafka-broker.sh");
    let out = Command::new("bash").arg(script).arg("start").output()?;
    if !out.status.success() {
        return Err(format!(
            "kafka-broker.sh start: {}",
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("KAFKA_BOOTSTRAP=").map(str::to_string))
        .ok_or_else(|| "kafka-broker.sh printed no KAFKA_BOOTSTRAP".into())
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let records: usize = arg(&args, "--records").map_or(Ok(1_000_000), |v| v.parse())?;
    let keys: usize = arg(&args, "--keys").map_or(Ok(100_000), |v| v.parse())?;
    let value_size: usize = arg(&args, "--value-size").map_or(Ok(8), |v| v.parse())?;
    let bootstrap = bootstrap(&args)?;
    let run = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis();
    let app = format!("restore-bench-{run:x}");
    let (input, output, changelog) = (
        format!("{app}-in"),
        format!("{app}-out"),
        format!("{app}-counts-changelog"),
    );
    streams::kafka::create_topics(
        &bootstrap,
        &[(&input, 1), (&output, 1), (&changelog, 1)],
        Duration::from_secs(30),
    )?;

    eprintln!(
        "writing {records} changelog records ({keys} keys, {value_size}-byte values) to {changelog}"
    );
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", &bootstrap)
        .set("linger.ms", "20")
        .set("batch.size", "1000000")
        .set("queue.buffering.max.messages", "1000000")
        .create()?;
    let value = vec![7u8; value_size];
    let started = Instant::now();
    for i in 0..records {
        let key = format!("key-{:08}", i % keys);
        let mut record = BaseRecord::<str, [u8]>::to(&changelog)
            .partition(0)
            .key(key.as_str())
            .payload(&value);
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((_, back)) => {
                    producer.poll(Duration::from_millis(1));
                    record = back;
                }
            }
        }
        if i % 100_000 == 99_999 {
            eprintln!("  {} / {records}", i + 1);
        }
    }
    producer.flush(Duration::from_secs(120))?;
    eprintln!("  written in {:.1?}", started.elapsed());

    let mut b = TopologyBuilder::new();
    b.add_source("in", [input.as_str()], Utf8, Utf8)
        .add_processor("count", || Count(None), ["in"])
        .add_state_store(Stores::persistent_key_value("counts", Utf8, I64), ["count"])
        .add_sink("out", output.as_str(), Utf8, I64, ["count"]);
    let state_dir = std::env::temp_dir().join(&app);
    let config = StreamsConfig::builder()
        .application_id(app.as_str())
        .bootstrap_servers(bootstrap.as_str())
        .state_dir(&state_dir)
        .build()?;
    let streams = KafkaStreams::new(b.build()?, config)?;
    let timer = Timer::default();
    streams.set_global_state_restore_listener(timer.clone())?;
    let launched = Instant::now();
    streams.start()?;
    let running = streams.wait_for_state(StreamsState::Running, Duration::from_secs(60));
    let deadline = Instant::now() + Duration::from_secs(600);
    while timer.0.lock().map(|t| t.end.is_none()).unwrap_or(true) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    if !streams.close(Duration::from_secs(30)) {
        return Err("the application did not stop in 30 s".into());
    }
    let _ = std::fs::remove_dir_all(&state_dir);
    let t = timer.0.lock().unwrap_or_else(|p| p.into_inner());
    let (Some(start), Some(end)) = (t.start, t.end) else {
        return Err(format!("restoration did not finish (running: {running})").into());
    };
    let secs = end.duration_since(start).as_secs_f64();
    println!(
        "restored {} changelog records ({keys} keys, {value_size}-byte values) in {secs:.3} s: \
         {:.0} records/s (start → restored {:.3} s)",
        t.restored,
        t.restored as f64 / secs,
        end.duration_since(launched).as_secs_f64()
    );
    Ok(())
}
