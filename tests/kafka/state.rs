//! Fault-tolerant state on a real Apache Kafka broker: a count-per-key
//! application is killed (SIGKILL, no close) and restarted — on an empty state directory, then
//! on the same one — and window retention drops expired windows. The broker comes from
//! `KAFKA_BOOTSTRAP` or `scripts/kafka-broker.sh start`.
//!
//! The killed instance runs in a child process: this test binary re-runs itself with the
//! ignored test `crash_child` selected and the app's names in the environment.

#![allow(
    clippy::print_stderr,
    reason = "the child instance reports its progress to the parent test's output"
)]

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::support::*;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{Message, Offset, TopicPartitionList};
use streams::codec::{Codec, I64, Utf8};
use streams::config::StreamsConfig;
use streams::error::ProcessorError;
use streams::processor::{Processor, ProcessorContext};
use streams::record::Record;
use streams::runtime::{KafkaStreams, StartError, StateRestoreListener};
use streams::state::{Stores, WindowStore};
use streams::topology::{Topology, TopologyBuilder};

// ---- the application: count per key (kafka_support's `Count`) in a persistent store ----

fn count_topology(input: &str, output: &str) -> Topology {
    let mut b = TopologyBuilder::new();
    b.add_source("in", [input], Utf8, Utf8)
        .add_processor("count", Count::default, ["in"])
        .add_state_store(Stores::persistent_key_value("counts", Utf8, I64), ["count"])
        .add_sink("out", output, Utf8, I64, ["count"]);
    b.build().expect("valid topology")
}

fn config(app: &str, state_dir: &Path) -> StreamsConfig {
    StreamsConfig::builder()
        .application_id(app)
        .bootstrap_servers(bootstrap())
        .state_dir(state_dir)
        .commit_interval(Duration::from_millis(100))
        .set("consumer.session.timeout.ms", "6000")
        // Admin calls at start ride out a broker made slow by a load burst on the machine.
        .api_timeout(Duration::from_secs(120))
        .build()
        .expect("valid config")
}

fn temp_state_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(unique(name));
    std::fs::create_dir_all(&dir).expect("state dir");
    dir
}

/// Run as a child process by the crash tests: the count app, until killed.
#[test]
#[ignore = "the crash tests run it in a child process, and kill it"]
fn crash_child() {
    let (Ok(app), Ok(input), Ok(output), Ok(dir)) = (
        std::env::var("CHILD_APP"),
        std::env::var("CHILD_INPUT"),
        std::env::var("CHILD_OUTPUT"),
        std::env::var("CHILD_STATE_DIR"),
    ) else {
        return;
    };
    let streams = KafkaStreams::new(
        count_topology(&input, &output),
        config(&app, Path::new(&dir)),
    )
    .expect("new");
    streams.start().expect("start");
    // Report progress on stderr (the parent's test output), and stop if the app failed.
    loop {
        std::thread::sleep(Duration::from_secs(5));
        let metrics = streams.metrics();
        eprintln!(
            "crash_child {app}: state {:?}, processed {}, error {:?}",
            streams.state(),
            metrics.records_processed(),
            streams.error()
        );
        if streams.error().is_some() {
            std::process::exit(2);
        }
    }
}

fn spawn_child(app: &str, input: &str, output: &str, dir: &Path) -> Child {
    Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "state::crash_child",
            "--exact",
            "--ignored",
            "--test-threads=1",
        ])
        .env("CHILD_APP", app)
        .env("CHILD_INPUT", input)
        .env("CHILD_OUTPUT", output)
        .env("CHILD_STATE_DIR", dir)
        .env("KAFKA_BOOTSTRAP", bootstrap())
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn the child instance")
}

// ---- restore accounting ----

#[derive(Default)]
struct Restores {
    /// (partition, start offset, end offset) per changelog partition restored.
    starts: Mutex<Vec<(i32, i64, i64)>>,
    batches: AtomicU64,
    restored: AtomicU64,
}

#[derive(Clone, Default)]
struct Listener(Arc<Restores>);

impl StateRestoreListener for Listener {
    fn on_restore_start(&self, _topic: &str, partition: i32, _store: &str, start: i64, end: i64) {
        self.0
            .starts
            .lock()
            .expect("lock")
            .push((partition, start, end));
    }

    fn on_batch_restored(&self, _t: &str, _p: i32, _s: &str, _end: i64, n: u64) {
        self.0.batches.fetch_add(n, Ordering::Relaxed);
    }

    fn on_restore_end(&self, _topic: &str, _partition: i32, _store: &str, total: u64) {
        self.0.restored.fetch_add(total, Ordering::Relaxed);
    }
}

// ---- Kafka helpers ----

fn keyed(range: std::ops::Range<usize>, keys: usize) -> Vec<(Option<String>, Vec<u8>)> {
    range
        .map(|i| (Some(format!("k{}", i % keys)), format!("v{i}").into_bytes()))
        .collect()
}

/// (partition, offset, key) of every record of `topic`.
fn read_positions(topic: &str, partitions: i32) -> Vec<(i32, i64, String)> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap())
        .set("group.id", unique("positions"))
        .set("enable.auto.commit", "false")
        .create()
        .expect("consumer");
    let mut ends = HashMap::new();
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        let (_, high) = consumer
            .fetch_watermarks(topic, p, Duration::from_secs(30))
            .expect("watermarks");
        ends.insert(p, high);
        tpl.add_partition_offset(topic, p, Offset::Beginning)
            .expect("partition");
    }
    consumer.assign(&tpl).expect("assign");
    let total: i64 = ends.values().sum();
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(240);
    while (out.len() as i64) < total && Instant::now() < deadline {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(100)) {
            let key = String::from_utf8_lossy(m.key().unwrap_or_default()).into_owned();
            out.push((m.partition(), m.offset(), key));
        }
    }
    assert_eq!(out.len() as i64, total, "read all of `{topic}`");
    out
}

/// The group's committed offset per partition of `topic` (0 if none).
fn committed(app: &str, topic: &str, partitions: i32) -> Vec<i64> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap())
        .set("group.id", app)
        .set("enable.auto.commit", "false")
        .create()
        .expect("consumer");
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        tpl.add_partition(topic, p);
    }
    let offsets = consumer
        .committed_offsets(tpl, Duration::from_secs(30))
        .expect("committed offsets");
    (0..partitions)
        .map(
            |p| match offsets.find_partition(topic, p).map(|e| e.offset()) {
                Some(Offset::Offset(o)) => o,
                _ => 0,
            },
        )
        .collect()
}

fn end_offsets(topic: &str, partitions: i32) -> Vec<i64> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap())
        .create()
        .expect("consumer");
    (0..partitions)
        .map(|p| {
            consumer
                .fetch_watermarks(topic, p, Duration::from_secs(30))
                .expect("watermarks")
                .1
        })
        .collect()
}

fn checkpoint_entries(dir: &Path, app: &str, task: &str) -> usize {
    std::fs::read_to_string(dir.join(app).join(task).join(".checkpoint"))
        .ok()
        .and_then(|t| t.lines().nth(1).and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

/// Runs the count app in a child, kills it mid-run once both tasks wrote a checkpoint, adds
/// input, restarts in this process on `same_dir` or an empty directory, and checks the final
/// counts. Returns the restore accounting and the changelog end offsets at the restart.
fn crash_and_restart(name: &str, same_dir: bool) -> (Arc<Restores>, Vec<i64>) {
    const PARTITIONS: i32 = 2;
    const KEYS: usize = 50;
    const FIRST: usize = 40_000;
    const SECOND: usize = 5_000;
    let app = unique(name);
    let (input, output) = (format!("{app}-in"), format!("{app}-out"));
    create_topics(&bootstrap(), &[(&input, PARTITIONS), (&output, PARTITIONS)]);
    let changelog = format!("{app}-counts-changelog");
    produce(&bootstrap(), &input, &keyed(0..FIRST, KEYS));

    let dir = temp_state_dir(name);
    let mut child = spawn_child(&app, &input, &output, &dir);
    // Mid-run: every task checkpointed changelog offsets (after ≥10 000 changelog records).
    let checkpointed = eventually(Duration::from_secs(240), || {
        (0..PARTITIONS).all(|p| checkpoint_entries(&dir, &app, &format!("0_{p}")) > 0)
    });
    let status = child.try_wait().expect("child status");
    child.kill().expect("kill the child instance");
    child.wait().expect("reap the child");
    assert!(
        checkpointed,
        "no checkpoints after 240 s (child status {status:?})"
    );
    let committed_at_kill = committed(&app, &input, PARTITIONS);

    produce(&bootstrap(), &input, &keyed(FIRST..FIRST + SECOND, KEYS));
    let restart_dir = if same_dir {
        dir.clone()
    } else {
        temp_state_dir(name)
    };
    let changelog_ends = end_offsets(&changelog, PARTITIONS);
    let listener = Listener::default();
    let streams = KafkaStreams::new(count_topology(&input, &output), config(&app, &restart_dir))
        .expect("new");
    streams
        .set_global_state_restore_listener(listener.clone())
        .expect("listener");
    streams.start().expect("start");
    let input_ends = end_offsets(&input, PARTITIONS);
    let caught_up = eventually(Duration::from_secs(240), || {
        committed(&app, &input, PARTITIONS) == input_ends
    });
    assert!(
        caught_up,
        "input not fully committed after 240 s: {:?} of {input_ends:?}; error {:?}",
        committed(&app, &input, PARTITIONS),
        streams.error()
    );
    // A revocation the restarted instance could not commit (its session lost in a load burst)
    // replays more than the kill did: then only at-least-once can be checked.
    let uncommitted = streams.metrics().uncommitted_revocations();
    assert!(streams.close(Duration::from_secs(240)));

    // Expected counts, and the duplicates at-least-once allows: records at or after the
    // offsets committed when the child was killed may have been counted twice.
    let mut expected: BTreeMap<String, i64> = BTreeMap::new();
    let mut may_repeat: BTreeMap<String, i64> = BTreeMap::new();
    for (partition, offset, key) in read_positions(&input, PARTITIONS) {
        *expected.entry(key.clone()).or_default() += 1;
        if offset >= committed_at_kill[partition as usize] {
            *may_repeat.entry(key).or_default() += 1;
        }
    }
    let mut out = Vec::new();
    Reader::new(&bootstrap(), &output).read_until(&mut out, Duration::from_secs(240), |o| {
        let counts = final_counts(o);
        expected
            .iter()
            .all(|(k, n)| counts.get(k).is_some_and(|c| c >= n))
    });
    let counts = final_counts(&out);
    for (key, n) in &expected {
        let got = counts.get(key).copied().unwrap_or(0);
        let slack = may_repeat.get(key).copied().unwrap_or(0);
        assert!(
            got >= *n && (got <= n + slack || uncommitted > 0),
            "key {key}: count {got}, expected {n} (+ at most {slack} duplicates); \
             state was not restored correctly"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&restart_dir);
    (listener.0, changelog_ends)
}

/// (a) Killed without a clean close, restarted on an empty state directory: the whole
/// changelog is replayed and the counts carry on.
#[test]
fn killed_instance_restarted_on_empty_state_restores_from_the_changelog() {
    let (restores, changelog_ends) = crash_and_restart("state-empty", false);
    let starts = restores.starts.lock().expect("lock").clone();
    assert_eq!(
        starts.len(),
        2,
        "one restoration per changelog partition: {starts:?}"
    );
    for (partition, start, end) in &starts {
        assert_eq!(
            *start, 0,
            "partition {partition}: an empty state restores from 0"
        );
        assert!(*end >= changelog_ends[*partition as usize]);
    }
    let total: i64 = starts.iter().map(|(_, s, e)| e - s).sum();
    assert!(total > 0);
    assert_eq!(restores.restored.load(Ordering::Relaxed) as i64, total);
    assert_eq!(restores.batches.load(Ordering::Relaxed) as i64, total);
}

/// (b) Killed, restarted on the same state directory: only the changelog tail after the
/// checkpoint is replayed.
#[test]
fn killed_instance_restarted_on_same_state_restores_only_the_tail() {
    let (restores, changelog_ends) = crash_and_restart("state-same", true);
    let starts = restores.starts.lock().expect("lock").clone();
    assert_eq!(
        starts.len(),
        2,
        "one restoration per changelog partition: {starts:?}"
    );
    let mut tail = 0;
    for (partition, start, end) in &starts {
        assert!(
            *start > 0,
            "partition {partition}: restored from {start}, not from the checkpoint"
        );
        assert!(*end >= changelog_ends[*partition as usize]);
        tail += end - start;
    }
    let whole: i64 = changelog_ends.iter().sum();
    assert!(
        tail < whole,
        "restored {tail} records, the whole changelog has {whole}"
    );
    assert_eq!(restores.restored.load(Ordering::Relaxed) as i64, tail);
}

/// Two instances on one state directory: the second is refused with a clear error.
#[test]
fn two_instances_cannot_share_a_state_directory() {
    let app = unique("state-lock");
    let dir = temp_state_dir("state-lock");
    let topology = || count_topology("in", "out");
    let first = KafkaStreams::new(topology(), config(&app, &dir)).expect("first");
    let second = KafkaStreams::new(topology(), config(&app, &dir));
    let Err(e) = second else {
        panic!("a second instance on the same state directory was accepted");
    };
    assert!(matches!(e, StartError::StateDirLocked { .. }), "{e}");
    assert!(e.to_string().contains("locked by another instance"), "{e}");
    drop(first);
    KafkaStreams::new(topology(), config(&app, &dir)).expect("free again once dropped");
    let _ = std::fs::remove_dir_all(&dir);
}

// ---- (c) window retention ----

/// Counts per key in 1 s windows kept 5 s; forwards how many windows of the key the store
/// still holds.
#[derive(Default)]
struct WindowedCount {
    store: Option<WindowStore<String, i64>>,
}

impl Processor for WindowedCount {
    type KIn = String;
    type VIn = String;
    type KOut = String;
    type VOut = i64;

    fn init(&mut self, ctx: &mut ProcessorContext<'_, String, i64>) -> Result<(), ProcessorError> {
        self.store = Some(ctx.window_store("windows")?);
        Ok(())
    }

    fn process(
        &mut self,
        r: Record<String, String>,
        ctx: &mut ProcessorContext<'_, String, i64>,
    ) -> Result<(), ProcessorError> {
        let store = self
            .store
            .as_ref()
            .ok_or_else(|| ProcessorError::msg("no store"))?;
        let start = r.timestamp - r.timestamp % 1000;
        let count = store.fetch_one(&r.key, start)?.unwrap_or(0) + 1;
        store.put(&r.key, &count, start)?;
        let windows = store.fetch(&r.key, 0, r.timestamp)?.count() as i64;
        ctx.forward(r.with_value(windows))
    }
}

#[test]
fn window_retention_drops_expired_windows() {
    let app = unique("state-windows");
    let (input, output) = (format!("{app}-in"), format!("{app}-out"));
    create_topics(&bootstrap(), &[(&input, 1), (&output, 1)]);
    let mut b = TopologyBuilder::new();
    b.add_source("in", [input.as_str()], Utf8, Utf8)
        .add_processor("count", WindowedCount::default, ["in"])
        .add_state_store(
            Stores::persistent_window_store(
                "windows",
                Duration::from_secs(5),
                Duration::from_secs(1),
                Utf8,
                I64,
            ),
            ["count"],
        )
        .add_sink("out", output.as_str(), Utf8, I64, ["count"]);
    let dir = temp_state_dir("state-windows");
    let streams = KafkaStreams::new(b.build().expect("valid"), config(&app, &dir)).expect("new");
    streams.start().expect("start");

    // Event times (s): windows 1, 2, 3 live; at 20 s stream time, all three have expired.
    let base = 1_700_000_000_000_i64;
    let times = [1_000, 2_000, 3_000, 20_000];
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap())
        .create()
        .expect("producer");
    for (i, t) in times.iter().enumerate() {
        producer
            .send(
                BaseRecord::to(&input)
                    .key("user")
                    .payload(&format!("e{i}"))
                    .timestamp(base + t),
            )
            .map_err(|(e, _)| e)
            .expect("send");
    }
    producer.flush(Duration::from_secs(30)).expect("flush");

    let mut out = Vec::new();
    let done =
        Reader::new(&bootstrap(), &output).read_until(&mut out, Duration::from_secs(240), |o| {
            o.len() >= times.len()
        });
    assert!(streams.close(Duration::from_secs(240)));
    assert!(
        done,
        "got {} outputs, error {:?}",
        out.len(),
        streams.error()
    );
    let windows: Vec<i64> = out
        .iter()
        .map(|(_, v)| I64.decode(v).expect("an i64"))
        .collect();
    assert_eq!(
        windows,
        [1, 2, 3, 1],
        "windows the store holds after each record"
    );

    // The changelog is compacted and deleted after retention + one day.
    let configs = topic_configs(&format!("{app}-windows-changelog"));
    assert_eq!(
        configs.get("cleanup.policy").map(String::as_str),
        Some("compact,delete")
    );
    assert_eq!(
        configs.get("retention.ms").map(String::as_str),
        Some("86405000")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A topic's configs, as the broker describes them.
fn topic_configs(topic: &str) -> HashMap<String, String> {
    use rdkafka::admin::{AdminClient, AdminOptions, ResourceSpecifier};
    use rdkafka::client::DefaultClientContext;
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap())
        .create()
        .expect("admin");
    let results = futures_executor::block_on(admin.describe_configs(
        &[ResourceSpecifier::Topic(topic)],
        &AdminOptions::new().request_timeout(Some(Duration::from_secs(30))),
    ))
    .expect("describe configs");
    let resource = results
        .into_iter()
        .next()
        .expect("one result")
        .expect("topic configs");
    resource
        .entries
        .into_iter()
        .filter_map(|e| e.value.map(|v| (e.name, v)))
        .collect()
}
