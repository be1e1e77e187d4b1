//! Shared by the Kafka integration tests: the broker (from `KAFKA_BOOTSTRAP`, or started with
//! `scripts/kafka-broker.sh start`), a broker of a test's own for the fault tests, unique names,
//! producing, reading with a plain consumer, and the topologies under test.
#![allow(dead_code, unreachable_pub)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{Message, Offset, TopicPartitionList};
use streams::codec::{Codec, I64, Nullable, Utf8};
use streams::error::ProcessorError;
use streams::processor::{Processor, ProcessorContext};
use streams::record::Record;
use streams::runtime::{KafkaStreams, QueryError, StreamsState};
use streams::state::{KeyValueStore, Stores};
use streams::topology::{Topology, TopologyBuilder};

/// The runtime's logs (`tracing`, `RUST_LOG` or `info`), through the test harness's capture:
/// a failing test prints what its instances logged (rebalances, commits, errors), the others
/// print nothing. Set once per test binary; every test calls it through [`unique`].
pub fn logs() {
    static INIT: std::sync::Once = std::sync::Once::new();
    INIT.call_once(|| {
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_test_writer()
            .with_thread_names(true)
            .with_ansi(false)
            .try_init();
    });
}

/// The real broker's bootstrap servers: `KAFKA_BOOTSTRAP`, else a broker started (or found
/// running) by `scripts/kafka-broker.sh start`.
pub fn bootstrap() -> String {
    static BOOTSTRAP: OnceLock<String> = OnceLock::new();
    BOOTSTRAP
        .get_or_init(|| {
            let b = find_broker();
            warm_up(&b);
            b
        })
        .clone()
}

/// Before the first test of a binary: a topic, a produced record and a consumer group with a
/// committed offset, so that a freshly started broker has created `__consumer_offsets` and
/// served each kind of request once before tests race each other (and their timeouts) on it.
fn warm_up(bootstrap: &str) {
    let topic = "streams-test-warm-up";
    let _ = streams::kafka::create_topics(bootstrap, &[(topic, 1)], Duration::from_secs(60));
    produce(bootstrap, topic, &[(None, b"warm".to_vec())]);
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "streams-test-warm-up")
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .expect("warm-up consumer");
    consumer.subscribe(&[topic]).expect("subscribe");
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Some(Ok(_)) = consumer.poll(Duration::from_millis(200)) {
            let _ = consumer.commit_consumer_state(rdkafka::consumer::CommitMode::Sync);
            break;
        }
    }
}

fn find_broker() -> String {
    static FOUND: OnceLock<String> = OnceLock::new();
    FOUND
        .get_or_init(|| {
            if let Ok(b) = std::env::var("KAFKA_BOOTSTRAP")
                && !b.is_empty()
            {
                return b;
            }
            let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/kafka-broker.sh");
            let out = Command::new("bash")
                .arg(script)
                .arg("start")
                .output()
                .expect("run scripts/kafka-broker.sh start");
            assert!(
                out.status.success(),
                "kafka-broker.sh start failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .find_map(|l| l.strip_prefix("KAFKA_BOOTSTRAP=").map(str::to_string))
                .expect("kafka-broker.sh printed KAFKA_BOOTSTRAP=...")
        })
        .clone()
}

/// A broker of one test's own, started with `scripts/kafka-broker.sh` and a state file of its
/// own (so the shared broker of the other tests is untouched), for tests that kill, halt and
/// restart it; stopped (data dir deleted) when dropped. Such tests run one at a time: each
/// holds a lock for as long as its broker lives (a broker JVM each, on a small machine).
pub struct Broker {
    pub state_file: PathBuf,
    pub bootstrap: String,
    _serial: MutexGuard<'static, ()>,
}

impl Broker {
    pub fn start() -> Broker {
        static SERIAL: Mutex<()> = Mutex::new(());
        let serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
        let state_file = std::env::temp_dir().join(format!("{}.state", unique("fault-broker")));
        let mut broker = Broker {
            state_file,
            bootstrap: String::new(),
            _serial: serial,
        };
        let out = broker.script(&["start"]);
        broker.bootstrap = out
            .lines()
            .find_map(|l| l.strip_prefix("KAFKA_BOOTSTRAP=").map(str::to_string))
            .expect("kafka-broker.sh printed KAFKA_BOOTSTRAP=...");
        broker
    }

    /// Runs `scripts/kafka-broker.sh ARGS` on this broker (`restart --hard`, `halt`, `resume`,
    /// ...); returns its stdout.
    pub fn script(&self, args: &[&str]) -> String {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/kafka-broker.sh");
        let out = Command::new("bash")
            .arg(script)
            .args(args)
            .env("KAFKA_STATE_FILE", &self.state_file)
            .output()
            .expect("run scripts/kafka-broker.sh");
        assert!(
            out.status.success(),
            "kafka-broker.sh {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Broker {
    /// The last `lines` lines of the broker's log, for a failing test's output.
    fn log_tail(&self, lines: usize) -> String {
        let state = std::fs::read_to_string(&self.state_file).unwrap_or_default();
        let Some(path) = state.lines().find_map(|l| l.strip_prefix("KAFKA_LOG=")) else {
            return format!("(no broker log named in {})", self.state_file.display());
        };
        match std::fs::read_to_string(path) {
            Ok(log) => {
                let all: Vec<&str> = log.lines().collect();
                all[all.len().saturating_sub(lines)..].join("\n")
            }
            Err(e) => format!("(cannot read the broker log {path}: {e})"),
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        if std::thread::panicking() {
            // The log goes with the data directory: show its end while it is there.
            println!(
                "---- the test's own broker, last lines of its log ----\n{}",
                self.log_tail(80)
            );
        }
        let _ = std::panic::catch_unwind(|| self.script(&["stop"]));
        let _ = std::fs::remove_file(&self.state_file);
        // The script's lock file beside it (`<state file>.lock`).
        let mut lock = self.state_file.clone().into_os_string();
        lock.push(".lock");
        let _ = std::fs::remove_file(lock);
    }
}

/// A name unique to this test run.
pub fn unique(name: &str) -> String {
    logs();
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    format!(
        "{name}-{}-{ms:x}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

pub fn create_topics(bootstrap: &str, topics: &[(&str, i32)]) {
    streams::kafka::create_topics(bootstrap, topics, Duration::from_secs(120))
        .expect("create topics");
}

/// Writes a tombstone (a null value) for `key` and waits for the acknowledgement.
pub fn produce_tombstone(bootstrap: &str, topic: &str, key: &str) {
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("partitioner", "murmur2_random")
        .create()
        .expect("producer");
    producer
        .send(BaseRecord::<str, [u8]>::to(topic).key(key))
        .map_err(|(e, _)| e)
        .expect("send");
    producer.flush(Duration::from_secs(30)).expect("flush");
}

/// Writes (key, value) records and waits for all acknowledgements.
pub fn produce(bootstrap: &str, topic: &str, records: &[(Option<String>, Vec<u8>)]) {
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("partitioner", "murmur2_random")
        .set("linger.ms", "5")
        // A retried send never writes a record twice: a count that is off is the runtime's.
        .set("enable.idempotence", "true")
        .create()
        .expect("producer");
    for (key, value) in records {
        let mut record: BaseRecord<'_, str, [u8]> = BaseRecord::to(topic).payload(value);
        if let Some(k) = key {
            record = record.key(k.as_str());
        }
        let mut record = record;
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((_, back)) => {
                    producer.poll(Duration::from_millis(10));
                    record = back;
                }
            }
        }
    }
    producer.flush(Duration::from_secs(300)).expect("flush");
}

/// A plain consumer reading `topic` from the beginning.
pub struct Reader {
    consumer: BaseConsumer,
}

impl Reader {
    pub fn new(bootstrap: &str, topic: &str) -> Self {
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", bootstrap)
            .set("group.id", unique("reader"))
            .set("enable.auto.commit", "false")
            .create()
            .expect("consumer");
        let metadata = consumer
            .fetch_metadata(Some(topic), Duration::from_secs(30))
            .expect("metadata");
        let mut tpl = TopicPartitionList::new();
        for t in metadata.topics() {
            for p in t.partitions() {
                tpl.add_partition_offset(topic, p.id(), Offset::Beginning)
                    .expect("partition");
            }
        }
        consumer.assign(&tpl).expect("assign");
        Reader { consumer }
    }

    /// As [`read_until`](Self::read_until), keeping null values (tombstones) as `None`.
    pub fn read_nullable_until(
        &self,
        out: &mut Vec<(Vec<u8>, Option<Vec<u8>>)>,
        timeout: Duration,
        done: impl Fn(&[(Vec<u8>, Option<Vec<u8>>)]) -> bool,
    ) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if done(out) {
                return true;
            }
            while let Some(Ok(m)) = self.consumer.poll(Duration::from_millis(100)) {
                out.push((
                    m.key().unwrap_or_default().to_vec(),
                    m.payload().map(<[u8]>::to_vec),
                ));
            }
        }
        done(out)
    }

    /// Reads until `done(records so far)` or the timeout; returns (key, value) pairs.
    pub fn read_until(
        &self,
        out: &mut Vec<(Vec<u8>, Vec<u8>)>,
        timeout: Duration,
        done: impl Fn(&[(Vec<u8>, Vec<u8>)]) -> bool,
    ) -> bool {
        let deadline = Instant::now() + timeout;
        // `done` may be costly: check it when idle and every 500 records, not per record.
        let mut unchecked = 0;
        while Instant::now() < deadline {
            if unchecked == 0 && done(out) {
                return true;
            }
            match self.consumer.poll(Duration::from_millis(100)) {
                Some(Ok(m)) => {
                    out.push((
                        m.key().unwrap_or_default().to_vec(),
                        m.payload().unwrap_or_default().to_vec(),
                    ));
                    unchecked = (unchecked + 1) % 500;
                }
                _ => unchecked = 0,
            }
        }
        done(out)
    }
}

/// Waits until `cond` holds or the timeout passes.
pub fn eventually(timeout: Duration, cond: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    cond()
}

pub fn wait_running(streams: &KafkaStreams) {
    assert!(
        streams.wait_for_state(StreamsState::Running, Duration::from_secs(240)),
        "not running after 240 s: {:?}, error: {:?}",
        streams.state(),
        streams.error()
    );
}

/// Runs an interactive query until its answer satisfies `done`, retrying while it fails with a
/// retryable error (restoring, rebalancing); panics on other errors or after `timeout`.
pub fn query_until<T: std::fmt::Debug>(
    timeout: Duration,
    query: impl Fn() -> Result<T, QueryError>,
    done: impl Fn(&T) -> bool,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        let last = match query() {
            Ok(answer) if done(&answer) => return answer,
            Ok(answer) => format!("{answer:?}"),
            Err(e) if e.is_retryable() => e.to_string(),
            Err(e) => panic!("query failed: {e}"),
        };
        assert!(
            Instant::now() < deadline,
            "no expected answer after {timeout:?}; last: {last}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

// ---- word count ----

struct Split;

impl Processor for Split {
    type KIn = Option<String>;
    type VIn = String;
    type KOut = String;
    type VOut = String;

    fn process(
        &mut self,
        line: Record<Option<String>, String>,
        ctx: &mut ProcessorContext<'_, String, String>,
    ) -> Result<(), ProcessorError> {
        for word in line.value.split_whitespace() {
            ctx.forward(Record::new(
                word.to_string(),
                word.to_string(),
                line.timestamp,
            ))?;
        }
        Ok(())
    }
}

/// Counts per key in the key-value store `counts`; forwards each new count.
#[derive(Default)]
pub struct Count {
    store: Option<KeyValueStore<String, i64>>,
}

impl Processor for Count {
    type KIn = String;
    type VIn = String;
    type KOut = String;
    type VOut = i64;

    fn init(&mut self, ctx: &mut ProcessorContext<'_, String, i64>) -> Result<(), ProcessorError> {
        self.store = Some(ctx.key_value_store("counts")?);
        Ok(())
    }

    fn process(
        &mut self,
        word: Record<String, String>,
        ctx: &mut ProcessorContext<'_, String, i64>,
    ) -> Result<(), ProcessorError> {
        let store = self
            .store
            .as_ref()
            .ok_or_else(|| ProcessorError::msg("no store"))?;
        let count = store.get(&word.key)?.unwrap_or(0) + 1;
        store.put(&word.key, &count)?;
        ctx.forward(word.with_value(count))
    }
}

/// input → split → `<app>-words-repartition` → count → output.
pub fn wordcount(app: &str, input: &str, output: &str) -> Topology {
    let repartition = format!("{app}-words-repartition");
    let mut b = TopologyBuilder::new();
    b.add_source("lines", [input], Nullable(Utf8), Utf8)
        .add_processor("split", || Split, ["lines"])
        .add_sink("to-words", repartition.clone(), Utf8, Utf8, ["split"])
        .add_source("words", [repartition], Utf8, Utf8)
        .add_processor("count", Count::default, ["words"])
        .add_state_store(Stores::in_memory_key_value("counts", Utf8, I64), ["count"])
        .add_sink("out", output, Utf8, I64, ["count"]);
    b.build().expect("valid topology")
}

/// Records to produce: (key, value).
pub type Records = Vec<(Option<String>, Vec<u8>)>;

/// `n` lines over a small vocabulary, and the expected count per word.
pub fn lines(n: usize) -> (Records, BTreeMap<String, i64>) {
    let vocabulary = [
        "kafka",
        "streams",
        "rust",
        "topic",
        "partition",
        "task",
        "commit",
    ];
    let mut expected = BTreeMap::new();
    let records = (0..n)
        .map(|i| {
            let words: Vec<&str> = (0..3).map(|j| vocabulary[(i * 3 + j * 5) % 7]).collect();
            for w in &words {
                *expected.entry(w.to_string()).or_insert(0) += 1;
            }
            (None, words.join(" ").into_bytes())
        })
        .collect();
    (records, expected)
}

/// The latest count per word in output records.
pub fn final_counts(records: &[(Vec<u8>, Vec<u8>)]) -> BTreeMap<String, i64> {
    let mut counts = BTreeMap::new();
    for (k, v) in records {
        let (Ok(word), Ok(count)) = (Utf8.decode(k), I64.decode(v)) else {
            continue;
        };
        let slot = counts.entry(word).or_insert(0);
        *slot = (*slot).max(count);
    }
    counts
}

// ---- stateless copy with ids ----

struct Tag;

impl Processor for Tag {
    type KIn = String;
    type VIn = String;
    type KOut = String;
    type VOut = String;

    fn process(
        &mut self,
        r: Record<String, String>,
        ctx: &mut ProcessorContext<'_, String, String>,
    ) -> Result<(), ProcessorError> {
        ctx.forward(r.map_value(|v| format!("seen:{v}")))
    }
}

/// `n` records keyed `k<i>` with value `<i>`, for [`copy`].
pub fn numbered(n: usize) -> Records {
    (0..n)
        .map(|i| (Some(format!("k{i}")), format!("{i}").into_bytes()))
        .collect()
}

/// The distinct values [`copy`] wrote (`seen:<i>`).
pub fn seen(records: &[(Vec<u8>, Vec<u8>)]) -> BTreeSet<String> {
    records
        .iter()
        .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
        .collect()
}

/// input → tag value → output: every input record yields one output record.
pub fn copy(input: &str, output: &str) -> Topology {
    let mut b = TopologyBuilder::new();
    b.add_source("in", [input], Utf8, Utf8)
        .add_processor("tag", || Tag, ["in"])
        .add_sink("out", output, Utf8, Utf8, ["tag"]);
    b.build().expect("valid topology")
}

/// The partition count of `topic`, per the cluster's metadata.
pub fn partition_count(bootstrap: &str, topic: &str) -> usize {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .expect("consumer");
    let metadata = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(30))
        .expect("metadata");
    metadata
        .topics()
        .first()
        .map_or(0, |t| t.partitions().len())
}
