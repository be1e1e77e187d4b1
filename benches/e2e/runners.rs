//! The Rust contenders, run as child processes of the harness (the bench binary re-runs
//! itself with `--child ours|ceiling`): this project's runtime, and the raw rdkafka copy loop.
//!
//! Both take the same arguments as the Kafka Streams peer (`--scenario`, `--bootstrap`,
//! `--input`, `--output`, `--application-id`, `--expected`, client settings, ...), print
//! `{"event":"ready"}` once running and `{"event":"stats",...}` at the end, and stop after
//! `--expected` input records, on stdin EOF, or after an idle timeout.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::Message;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{Offset, TopicPartitionList};
use serde_json::json;
use streams::codec::{Bytes, I64, Nullable, Utf8};
use streams::config::StreamsConfig;
use streams::dsl::{Consumed, JoinWindows, Materialized, Produced, StreamsBuilder, TimeWindows};
use streams::error::ProcessorError;
use streams::processor::{Processor, ProcessorContext};
use streams::record::Record;
use streams::runtime::{KafkaStreams, StreamsState};
use streams::topology::{Topology, TopologyBuilder};

use crate::child;
use crate::scenario::{self, Scenario};

/// Parsed `--key value` child arguments.
pub(crate) struct ChildArgs(HashMap<String, String>);

impl ChildArgs {
    pub(crate) fn parse(args: &[String]) -> Result<ChildArgs, String> {
        let mut map = HashMap::new();
        let mut it = args.iter();
        while let Some(k) = it.next() {
            let key = k
                .strip_prefix("--")
                .ok_or_else(|| format!("bad child argument `{k}`"))?;
            let v = it.next().ok_or_else(|| format!("`{k}` needs a value"))?;
            map.insert(key.to_string(), v.clone());
        }
        Ok(ChildArgs(map))
    }

    fn get(&self, key: &str) -> Result<&str, String> {
        self.0
            .get(key)
            .map(String::as_str)
            .ok_or_else(|| format!("missing --{key}"))
    }

    fn or<'a>(&'a self, key: &str, default: &'a str) -> &'a str {
        self.0.get(key).map_or(default, String::as_str)
    }

    fn num(&self, key: &str, default: u64) -> Result<u64, String> {
        match self.0.get(key) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| format!("--{key}: `{v}` is not a number")),
        }
    }
}

/// Records processed, and when the first and the last were.
struct Progress {
    epoch: Instant,
    processed: AtomicU64,
    first_ns: AtomicU64,
    last_ns: AtomicU64,
}

impl Progress {
    fn new() -> Arc<Progress> {
        Arc::new(Progress {
            epoch: Instant::now(),
            processed: AtomicU64::new(0),
            first_ns: AtomicU64::new(0),
            last_ns: AtomicU64::new(0),
        })
    }

    fn tick(&self) {
        let now = self.epoch.elapsed().as_nanos() as u64;
        if self.processed.fetch_add(1, Ordering::Relaxed) == 0 {
            self.first_ns.store(now, Ordering::Relaxed);
        }
        self.last_ns.store(now, Ordering::Relaxed);
    }

    fn processed(&self) -> u64 {
        self.processed.load(Ordering::Relaxed)
    }

    fn elapsed_ms(&self) -> u64 {
        let first = self.first_ns.load(Ordering::Relaxed);
        let last = self.last_ns.load(Ordering::Relaxed);
        last.saturating_sub(first) / 1_000_000
    }
}

/// Why a child's wait loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Done,
    Stopped,
    Idle,
    Error,
}

impl Outcome {
    fn name(self) -> &'static str {
        match self {
            Outcome::Done => "done",
            Outcome::Stopped => "stopped",
            Outcome::Idle => "idle",
            Outcome::Error => "error",
        }
    }

    fn exit_code(self) -> i32 {
        match self {
            Outcome::Done | Outcome::Stopped => 0,
            Outcome::Idle => 3,
            Outcome::Error => 4,
        }
    }
}

/// The stop rules shared by the Rust children (the Java peer has the same).
struct StopRules {
    expected: Arc<AtomicU64>,
    idle: Duration,
    start: Duration,
    stdin_closed: Arc<AtomicBool>,
    last_seen: u64,
    last_progress: Instant,
}

impl StopRules {
    fn new(a: &ChildArgs) -> Result<StopRules, String> {
        let (stdin_closed, expected) = child::watch_stdin(a.num("expected", u64::MAX)?);
        Ok(StopRules {
            expected,
            idle: Duration::from_millis(a.num("idle-timeout-ms", 20_000)?),
            start: Duration::from_millis(a.num("start-timeout-ms", 60_000)?),
            stdin_closed,
            last_seen: 0,
            last_progress: Instant::now(),
        })
    }

    fn expected(&self) -> u64 {
        self.expected.load(Ordering::Acquire)
    }

    fn check(&mut self, processed: u64) -> Option<Outcome> {
        if processed != self.last_seen {
            self.last_seen = processed;
            self.last_progress = Instant::now();
        }
        if processed >= self.expected() {
            return Some(Outcome::Done);
        }
        if self.stdin_closed.load(Ordering::Acquire) {
            return Some(Outcome::Stopped);
        }
        let limit = if processed == 0 {
            self.start
        } else {
            self.idle
        };
        (self.last_progress.elapsed() > limit).then_some(Outcome::Idle)
    }
}

fn stats(
    scenario: &str,
    outcome: Outcome,
    progress: &Progress,
    expected: u64,
    started: Instant,
    close_ms: u64,
    error: Option<String>,
) -> serde_json::Value {
    let mut v = json!({
        "event": "stats",
        "scenario": scenario,
        "outcome": outcome.name(),
        "processed": progress.processed(),
        "expected": expected,
        "process_elapsed_ms": progress.elapsed_ms(),
        "run_elapsed_ms": started.elapsed().as_millis() as u64,
        "close_ms": close_ms,
        "vm_hwm_kb": child::self_peak_rss_kb(),
    });
    if let Some(e) = error {
        v["error"] = json!(e);
    }
    v
}

// ---------------------------------------------------------------------------------------------
// ours

/// passthrough: forwards every record unchanged (`mapValues(v -> v)`).
struct PassThrough(Arc<Progress>);

impl Processor for PassThrough {
    type KIn = String;
    type VIn = Vec<u8>;
    type KOut = String;
    type VOut = Vec<u8>;

    fn process(
        &mut self,
        record: Record<String, Vec<u8>>,
        ctx: &mut ProcessorContext<'_, String, Vec<u8>>,
    ) -> Result<(), ProcessorError> {
        self.0.tick();
        ctx.forward(record)
    }
}

/// filter_map: keeps values whose 16th character is an even digit, upper-cases them.
struct FilterMap(Arc<Progress>);

impl Processor for FilterMap {
    type KIn = String;
    type VIn = String;
    type KOut = String;
    type VOut = String;

    fn process(
        &mut self,
        record: Record<String, String>,
        ctx: &mut ProcessorContext<'_, String, String>,
    ) -> Result<(), ProcessorError> {
        self.0.tick();
        if !scenario::filter_keeps(&record.value) {
            return Ok(());
        }
        ctx.forward(record.map(|k, v| (k, v.to_ascii_uppercase())))
    }
}

fn ours_topology(
    scenario: Scenario,
    input: &str,
    table: Option<&str>,
    output: &str,
    progress: &Arc<Progress>,
) -> Result<Topology, String> {
    scenario.ours_support()?;
    let mut b = TopologyBuilder::new();
    let p = Arc::clone(progress);
    match scenario {
        Scenario::Passthrough => {
            b.add_source("source", [input], Utf8, Bytes)
                .add_processor(
                    "map-values",
                    move || PassThrough(Arc::clone(&p)),
                    ["source"],
                )
                .add_sink("sink", output, Utf8, Bytes, ["map-values"]);
        }
        Scenario::FilterMap => {
            b.add_source("source", [input], Utf8, Utf8)
                .add_processor("filter-map", move || FilterMap(Arc::clone(&p)), ["source"])
                .add_sink("sink", output, Utf8, Utf8, ["filter-map"]);
        }
        Scenario::Count => {
            // The DSL, as the peer's `groupByKey().count(Materialized.as("counts"))`: a
            // persistent timestamped store with its changelog and the record cache, forwarding
            // each changed count once per commit.
            let builder = StreamsBuilder::new();
            builder
                .stream_with::<String, Vec<u8>, _, _>(input, Consumed::with(Utf8, Bytes))
                .peek(move |_k, _v| p.tick())
                .group_by_key()
                .count_with(Materialized::named("counts"))
                .to_stream()
                .to_with(output, Produced::with(Utf8, Nullable(I64)));
            return builder
                .build()
                .map_err(|e| format!("building the topology: {e}"));
        }
        Scenario::WindowedCount => {
            // The DSL, as the peer's `windowedBy(TimeWindows.ofSizeWithNoGrace(1 s))
            // .count(Materialized.as("windowed-counts"))`: a persistent timestamped window store
            // with its changelog and the record cache; late records (window closed) dropped.
            let builder = StreamsBuilder::new();
            builder
                .stream_with::<String, Vec<u8>, _, _>(input, Consumed::with(Utf8, Bytes))
                .peek(move |_k, _v| p.tick())
                .group_by_key()
                .windowed_by(TimeWindows::of_size_with_no_grace(Duration::from_secs(1)))
                .count_with(Materialized::named("windowed-counts"))
                .to_stream()
                .to(output);
            return builder
                .build()
                .map_err(|e| format!("building the topology: {e}"));
        }
        Scenario::Join => {
            // The DSL, as the peer's `stream.join(table, (v, tv) -> v + "|" + tv)` with the
            // table materialized as `table` (RocksDB, changelog, record cache).
            let table = table.ok_or("the join scenario needs --table")?;
            let builder = StreamsBuilder::new();
            let rows = builder.table_with::<String, String, _, _, _, _>(
                table,
                Consumed::with(Utf8, Utf8),
                Materialized::named("table"),
            );
            builder
                .stream_with::<String, String, _, _>(input, Consumed::with(Utf8, Utf8))
                .peek(move |_k, _v| p.tick())
                .join(&rows, |v, tv| format!("{v}|{tv}"))
                .to(output);
            return builder
                .build()
                .map_err(|e| format!("building the topology: {e}"));
        }
        Scenario::StreamJoin => {
            // The peer's `even.join(odd, (l, r) -> l[..16] + "|" + r[..16],
            // JoinWindows.ofTimeDifferenceWithNoGrace(100 ms))`: RocksDB window stores keeping
            // duplicates, with changelogs.
            let builder = StreamsBuilder::new();
            let seen = builder
                .stream_with::<String, String, _, _>(input, Consumed::with(Utf8, Utf8))
                .peek(move |_k, _v| p.tick());
            let even = seen.filter(|_k, v| scenario::join_left_side(v));
            let odd = seen.filter_not(|_k, v| scenario::join_left_side(v));
            even.join_stream(
                &odd,
                |l, r| format!("{}|{}", &l[..16.min(l.len())], &r[..16.min(r.len())]),
                JoinWindows::of_time_difference_with_no_grace(Duration::from_millis(100)),
            )
            .to(output);
            return builder
                .build()
                .map_err(|e| format!("building the topology: {e}"));
        }
    }
    b.build().map_err(|e| format!("building the topology: {e}"))
}

/// `--child ours`: runs the scenario on this project's `KafkaStreams`.
pub(crate) fn run_ours(a: &ChildArgs) -> Result<i32, String> {
    let scenario = Scenario::parse(a.get("scenario")?)?;
    if let Err(reason) = scenario.ours_support() {
        child::emit(&json!({"event": "unavailable", "reason": reason}));
        return Ok(5);
    }
    let mut rules = StopRules::new(a)?;
    let started = Instant::now();
    let progress = Progress::new();
    let topology = ours_topology(
        scenario,
        a.get("input")?,
        a.0.get("table").map(String::as_str),
        a.get("output")?,
        &progress,
    )?;
    let mut builder = StreamsConfig::builder()
        .application_id(a.get("application-id")?)
        .bootstrap_servers(a.get("bootstrap")?)
        .num_stream_threads(a.num("threads", 1)? as usize)
        .commit_interval(Duration::from_millis(a.num("commit-interval-ms", 100)?))
        .set("processing.guarantee", a.or("guarantee", "at_least_once"))
        .set(
            "statestore.cache.max.bytes",
            a.or("cache-bytes", "10485760"),
        )
        .set("producer.acks", a.or("acks", "all"))
        .set("producer.linger.ms", a.or("linger-ms", "5"))
        .set("producer.batch.size", a.or("batch-size", "65536"))
        .set("producer.compression.type", "none")
        .set("consumer.fetch.min.bytes", "1")
        .set(
            "consumer.fetch.wait.max.ms",
            a.or("fetch-max-wait-ms", "100"),
        )
        .set(
            "consumer.max.partition.fetch.bytes",
            a.or("max-partition-fetch-bytes", "1048576"),
        );
    if let Some(dir) = a.0.get("state-dir") {
        builder = builder.state_dir(dir);
    }
    // Tuning experiments: E2E_OURS_SET="key=value,key=value" adds runtime settings.
    if let Ok(extra) = std::env::var("E2E_OURS_SET") {
        for kv in extra.split(',').filter(|kv| !kv.trim().is_empty()) {
            let (k, v) = kv
                .split_once('=')
                .ok_or_else(|| format!("E2E_OURS_SET: `{kv}` is not key=value"))?;
            builder = builder.set(k.trim(), v.trim());
        }
    }
    let config = builder.build().map_err(|e| format!("config: {e}"))?;
    let streams = KafkaStreams::new(topology, config).map_err(|e| format!("new: {e}"))?;
    streams.start().map_err(|e| format!("start: {e}"))?;
    if streams.wait_for_state(StreamsState::Running, rules.start) {
        child::emit(&json!({"event": "ready"}));
    }
    let outcome = loop {
        std::thread::sleep(Duration::from_millis(10));
        if let Some(o) = rules.check(progress.processed()) {
            break o;
        }
        if streams.error().is_some()
            || matches!(
                streams.state(),
                StreamsState::Error | StreamsState::NotRunning | StreamsState::PendingError
            )
        {
            break Outcome::Error;
        }
    };
    // Commit cost, for the notes: metrics are published once a second, so read them first.
    let commits = streams
        .metrics()
        .threads
        .iter()
        .fold((0u64, 0f64, 0f64), |acc, t| {
            (
                acc.0 + t.commits,
                acc.1 + t.commit_latency_avg.as_secs_f64() * 1000.0 * t.commits as f64,
                acc.2.max(t.commit_latency_max.as_secs_f64() * 1000.0),
            )
        });
    let close_start = Instant::now();
    let closed = streams.close(Duration::from_secs(60));
    let close_ms = close_start.elapsed().as_millis() as u64;
    let mut error = streams.error().map(|e| e.to_string());
    if !closed && error.is_none() {
        error = Some("close timed out after 60 s".to_string());
    }
    let mut v = stats(
        scenario.name(),
        outcome,
        &progress,
        rules.expected(),
        started,
        close_ms,
        error,
    );
    v["commits"] = json!(commits.0);
    v["commit_avg_ms"] = json!(commits.1 / commits.0.max(1) as f64);
    v["commit_max_ms"] = json!(commits.2);
    child::emit(&v);
    Ok(outcome.exit_code())
}

// ---------------------------------------------------------------------------------------------
// ceiling

/// `--child ceiling`: a raw rdkafka consume → produce copy loop with the same client settings;
/// at-least-once like the others (every commit interval: flush the producer, then commit the
/// consumed offsets).
pub(crate) fn run_ceiling(a: &ChildArgs) -> Result<i32, String> {
    let scenario = a.get("scenario")?.to_string();
    let mut rules = StopRules::new(a)?;
    let started = Instant::now();
    let bootstrap = a.get("bootstrap")?;
    let input = a.get("input")?;
    let output = a.get("output")?;
    let partitions = a.num("partitions", 4)? as i32;
    let commit_interval = Duration::from_millis(a.num("commit-interval-ms", 100)?);
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set(
            "client.id",
            format!("{}-consumer", a.get("application-id")?),
        )
        .set("group.id", a.get("application-id")?)
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .set("fetch.min.bytes", "1")
        .set("fetch.wait.max.ms", a.or("fetch-max-wait-ms", "100"))
        // The stream threads' consumer defaults (kafka/client.rs): no 1 s fetch back-off, a
        // prefetch of 10 000 records per partition or 8 MiB.
        .set("fetch.queue.backoff.ms", "10")
        .set("queued.min.messages", "10000")
        .set("queued.max.messages.kbytes", "8192")
        .set(
            "max.partition.fetch.bytes",
            a.or("max-partition-fetch-bytes", "1048576"),
        )
        .create()
        .map_err(|e| format!("creating the consumer: {e}"))?;
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set(
            "client.id",
            format!("{}-producer", a.get("application-id")?),
        )
        .set("partitioner", "murmur2_random")
        .set("acks", a.or("acks", "all"))
        .set("linger.ms", a.or("linger-ms", "5"))
        .set("batch.size", a.or("batch-size", "65536"))
        .set("compression.type", "none")
        .create()
        .map_err(|e| format!("creating the producer: {e}"))?;
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        tpl.add_partition_offset(input, p, Offset::Stored)
            .map_err(|e| format!("assigning {input}/{p}: {e}"))?;
    }
    consumer
        .assign(&tpl)
        .map_err(|e| format!("assigning `{input}`: {e}"))?;
    child::emit(&json!({"event": "ready"}));

    let progress = Progress::new();
    // Next offset per partition (what a commit stores).
    let mut next: Vec<i64> = vec![-1; partitions as usize];
    let mut last_commit = Instant::now();
    // Commits made, total and longest time they blocked the loop (ms), for the notes.
    let mut commits = (0u64, 0f64, 0f64);
    let mut error = None;
    let outcome = 'outer: loop {
        // Drain what is buffered without blocking; block briefly only when idle.
        let mut timeout = Duration::from_millis(100);
        for _ in 0..1000 {
            match consumer.poll(timeout) {
                None => break,
                Some(Err(e)) => {
                    if matches!(
                        e.rdkafka_error_code(),
                        Some(
                            RDKafkaErrorCode::UnknownTopicOrPartition
                                | RDKafkaErrorCode::UnknownTopic
                        )
                    ) {
                        error = Some(format!("consuming `{input}`: {e}"));
                        break 'outer Outcome::Error;
                    }
                }
                Some(Ok(m)) => {
                    let mut record = BaseRecord::to(output);
                    if let Some(k) = m.key() {
                        record = record.key(k);
                    }
                    if let Some(v) = m.payload() {
                        record = record.payload(v);
                    }
                    if let Some(ts) = m.timestamp().to_millis() {
                        record = record.timestamp(ts);
                    }
                    let mut record = record;
                    let deadline = Instant::now() + Duration::from_secs(60);
                    loop {
                        match producer.send(record) {
                            Ok(()) => break,
                            Err((
                                KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull),
                                r,
                            )) if Instant::now() < deadline => {
                                record = r;
                                producer.poll(Duration::from_millis(1));
                            }
                            Err((e, _)) => {
                                error = Some(format!("producing to `{output}`: {e}"));
                                break 'outer Outcome::Error;
                            }
                        }
                    }
                    if let Some(n) = next.get_mut(m.partition() as usize) {
                        *n = m.offset() + 1;
                    }
                    progress.tick();
                }
            }
            timeout = Duration::ZERO;
        }
        producer.poll(Duration::ZERO);
        if last_commit.elapsed() >= commit_interval {
            let commit_start = Instant::now();
            let committed = commit(&producer, &consumer, input, &next, CommitMode::Async);
            let took = commit_start.elapsed().as_secs_f64() * 1000.0;
            commits = (commits.0 + 1, commits.1 + took, commits.2.max(took));
            if let Err(e) = committed {
                error = Some(e);
                break Outcome::Error;
            }
            last_commit = Instant::now();
        }
        if let Some(o) = rules.check(progress.processed()) {
            break o;
        }
    };
    let close_start = Instant::now();
    if outcome != Outcome::Error
        && let Err(e) = commit(&producer, &consumer, input, &next, CommitMode::Sync)
    {
        error = Some(e);
    }
    let close_ms = close_start.elapsed().as_millis() as u64;
    let outcome = if error.is_some() {
        Outcome::Error
    } else {
        outcome
    };
    let mut v = stats(
        &scenario,
        outcome,
        &progress,
        rules.expected(),
        started,
        close_ms,
        error,
    );
    v["commits"] = json!(commits.0);
    v["commit_avg_ms"] = json!(commits.1 / commits.0.max(1) as f64);
    v["commit_max_ms"] = json!(commits.2);
    child::emit(&v);
    Ok(outcome.exit_code())
}

/// Flushes in 1 ms slices, as the stream threads do: rust-rdkafka's `BaseProducer::flush`
/// serves delivery reports in 100 ms `poll` slices that always run to their end, which would
/// stall every commit of the ceiling loop for ≥100 ms.
fn flush(producer: &BaseProducer, timeout: Duration) -> rdkafka::error::KafkaResult<()> {
    let deadline = Instant::now() + timeout;
    loop {
        match producer.flush(Duration::from_millis(1)) {
            Err(KafkaError::Flush(RDKafkaErrorCode::OperationTimedOut))
                if Instant::now() < deadline => {}
            other => return other,
        }
    }
}

fn commit(
    producer: &BaseProducer,
    consumer: &BaseConsumer,
    topic: &str,
    next: &[i64],
    mode: CommitMode,
) -> Result<(), String> {
    flush(producer, Duration::from_secs(30)).map_err(|e| format!("flushing the producer: {e}"))?;
    let mut tpl = TopicPartitionList::new();
    for (p, &n) in next.iter().enumerate() {
        if n >= 0 {
            tpl.add_partition_offset(topic, p as i32, Offset::Offset(n))
                .map_err(|e| format!("commit list: {e}"))?;
        }
    }
    if tpl.count() == 0 {
        return Ok(());
    }
    consumer
        .commit(&tpl, mode)
        .map_err(|e| format!("committing offsets: {e}"))
}
