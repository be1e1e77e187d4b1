//! Page views per user per minute, with the DSL: a windowed count whose final results are
//! emitted once per window — Kafka Streams' `windowedBy(TimeWindows.ofSizeAndGrace(..))`,
//! `count()` and `suppress(Suppressed.untilWindowCloses(..))`.
//!
//! `<app>-page-views` holds page views keyed by user (the value is the page). The topology counts
//! them per user in tumbling 1-minute windows of event time (each record's timestamp) with a
//! 30-second grace period, and writes each window's final count to `<app>-views-per-minute`,
//! keyed by Kafka Streams' time-windowed key format (`TimeWindowedCodec`: the user, then the
//! window start as 8 big-endian bytes — what `WindowedSerdes.timeWindowedSerdeFrom(String.class,
//! 60_000)` reads).
//!
//! The example writes a fixed set of page views over five minutes, some out of order: those
//! within the grace period are still counted in their minute, one that arrives after its minute
//! closed is dropped (and counted in the `dropped-records` metric). Then it reads the output back,
//! prints one line per user and minute and checks every count against the one computed here from
//! the same views; it exits with an error if any differs, is missing or was emitted twice.
//!
//! **Why each window is emitted once.** A windowed count is a table that changes with every page
//! view (the store's record cache folds the changes between commits, but a window can still be
//! updated at every commit while it is open). `suppress(until_window_closes)` holds each
//! window's latest count in a buffer until *stream time* — the highest record timestamp its task
//! has seen — passes the window's end plus the grace period. From then on no record can change
//! the count (later ones are dropped as late), so it emits the count, once, and forgets the window.
//! Stream time moves only with records, and per task (per input partition): nothing is emitted
//! while a partition is idle, whatever the wall clock says. So the example ends with one record
//! per input partition a few minutes later, which closes every earlier window on that partition;
//! the windows of those last records stay open and are not emitted.
//!
//! Delivery guarantee: at-least-once (`processing.guarantee=at_least_once`): outputs and
//! changelogs are flushed before input offsets are committed, so no view is lost. After a crash
//! the views since the last commit are processed again: a window's final count may then be
//! written twice, and may count those views twice (the restored store already holds them). The
//! counts and the suppression buffer are logged to changelog topics (`<app>-counts-changelog`,
//! `<app>-until-window-closes-store-changelog`), so a restarted or moved task restores them
//! first.
//!
//! ```text
//! cargo run --example page_views_per_minute                                # in-process broker
//! cargo run --example page_views_per_minute -- --bootstrap-servers HOST:PORT [--threads N]
//! ```
//!
//! Event times are placed a quarter of an hour before now, aligned to the minute, so a real
//! broker's time-based retention (and its limit on future timestamps) keeps them.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use rdkafka::config::ClientConfig;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use streams::codec::{Codec, I64, Nullable, Utf8};
use streams::config::StreamsConfig;
use streams::dsl::{
    BufferConfig, Materialized, Produced, StreamsBuilder, Suppressed, TimeWindowedCodec,
    TimeWindows,
};
use streams::runtime::KafkaStreams;
use streams::topology::Topology;

use support::{Args, Cluster, Result};

/// The window size.
const MINUTE_MS: i64 = 60_000;
/// How long a window accepts out-of-order views after it ends.
const GRACE_MS: i64 = 30_000;
/// The input's partitions.
const PARTITIONS: i32 = 2;

/// The page views, in the order they are written: (user, page, seconds after the first minute
/// starts). Out of order but within grace: carol at 58 s (stream time is at most 75 s, her
/// minute closes at 90 s), bob at 100 s and 170 s, carol at 245 s. Late: alice at 95 s, after
/// her own view at 185 s moved her partition's stream time past 150 s, when her minute closed.
const VIEWS: &[(&str, &str, i64)] = &[
    ("alice", "/home", 5),
    ("bob", "/home", 12),
    ("alice", "/products", 40),
    ("carol", "/blog", 50),
    ("bob", "/products", 70),
    ("alice", "/cart", 75),
    ("carol", "/blog/streams-in-rust", 58),
    ("alice", "/checkout", 130),
    ("bob", "/products/42", 100),
    ("carol", "/home", 140),
    ("dave", "/home", 150),
    ("alice", "/home", 185),
    ("bob", "/cart", 170),
    ("dave", "/blog", 200),
    ("carol", "/products", 230),
    ("alice", "/checkout/pay", 95),
    ("bob", "/home", 250),
    ("carol", "/home", 245),
];

/// When the closing records are stamped (seconds after the first minute starts): past the end
/// plus grace of the last minute with views (300 s + 30 s), in a minute of their own.
const CLOSE_AT_S: i64 = 360;

/// Page views → count per user per minute → final counts only → `<app>-views-per-minute`.
fn topology(input: &str, output: &str) -> Result<Topology> {
    let builder = StreamsBuilder::new();
    let minutes = TimeWindows::of_size_and_grace(
        Duration::from_millis(MINUTE_MS as u64),
        Duration::from_millis(GRACE_MS as u64),
    );
    builder
        .stream::<String, String>(input)
        .group_by_key()
        .windowed_by(minutes)
        .count_with(Materialized::named("counts").in_memory())
        .suppress(
            Suppressed::until_window_closes(BufferConfig::unbounded())
                .with_name("until-window-closes"),
        )
        .to_stream()
        // The table's key codec already is this one; spelled out, as Kafka Streams users write
        // `Produced.with(WindowedSerdes.timeWindowedSerdeFrom(String.class, size), ..)`.
        .to_with(
            output,
            Produced::with(TimeWindowedCodec::new(Utf8, MINUTE_MS), Nullable(I64)),
        );
    Ok(builder.build()?)
}

/// A (user, window start) pair and its count.
type Counts = BTreeMap<(String, i64), i64>;

/// The counts the application must emit, computed from [`VIEWS`] directly: a view counts in its
/// minute unless stream time had passed the minute's end plus grace when it arrived. Stream time
/// is per partition, and which users share a partition is the partitioner's business, so each
/// view is checked against both bounds of its partition's stream time (the highest time of the
/// user's own views so far, and of all views so far): the sample is built so that they agree.
fn expected(base_ms: i64) -> (Counts, Vec<usize>) {
    let (mut counts, mut late) = (Counts::new(), Vec::new());
    let mut own_max: BTreeMap<&str, i64> = BTreeMap::new();
    let mut all_max = i64::MIN;
    for (i, &(user, _page, at_s)) in VIEWS.iter().enumerate() {
        let t = base_ms + at_s * 1000;
        let own = own_max.entry(user).or_insert(i64::MIN);
        *own = (*own).max(t);
        all_max = all_max.max(t);
        let start = t - t.rem_euclid(MINUTE_MS);
        let closes = start + MINUTE_MS + GRACE_MS;
        assert_eq!(
            closes <= *own,
            closes <= all_max,
            "whether view {i} is late must not depend on the partitioning"
        );
        if closes <= *own {
            late.push(i);
        } else {
            *counts.entry((user.to_string(), start)).or_default() += 1;
        }
    }
    (counts, late)
}

/// Writes the views with their event timestamps (partitioned by user, as any producer does),
/// then one closing record per partition; each partition keeps the order they are written in.
fn produce(bootstrap_servers: &str, topic: &str, base_ms: i64) -> Result<()> {
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap_servers)
        .set("partitioner", "murmur2_random")
        // Retries keep the order within a partition, which decides what is late.
        .set("enable.idempotence", "true")
        .set("linger.ms", "5")
        .create()?;
    let closers: Vec<(String, i32)> = (0..PARTITIONS).map(|p| (format!("clock-{p}"), p)).collect();
    let views = VIEWS
        .iter()
        .map(|&(user, page, at_s)| (user, page, None, at_s));
    let closing = closers
        .iter()
        .map(|(key, p)| (key.as_str(), "/tick", Some(*p), CLOSE_AT_S));
    for (user, page, partition, at_s) in views.chain(closing) {
        let mut record = BaseRecord::to(topic)
            .key(user)
            .payload(page)
            .timestamp(base_ms + at_s * 1000);
        if let Some(p) = partition {
            record = record.partition(p);
        }
        while let Err((e, back)) = producer.send(record) {
            if !matches!(
                e.rdkafka_error_code(),
                Some(rdkafka::types::RDKafkaErrorCode::QueueFull)
            ) {
                return Err(e.into());
            }
            producer.poll(Duration::from_millis(10));
            record = back;
        }
    }
    producer.flush(Duration::from_secs(60))?;
    Ok(())
}

/// `HH:MM` (UTC) of a time in ms.
fn hhmm(ms: i64) -> String {
    let minutes = ms.div_euclid(MINUTE_MS).rem_euclid(24 * 60);
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// `HH:MM:SS` (UTC) of a time in ms.
fn clock(ms: i64) -> String {
    format!("{}:{:02}", hhmm(ms), ms.div_euclid(1000).rem_euclid(60))
}

fn main() -> Result<()> {
    support::init_logging();
    let args = Args::parse()?;
    let stop = support::stop_on_signal()?;
    let cluster = Cluster::connect(args.bootstrap_servers.clone())?;
    let app = if cluster.is_embedded() {
        "page-views-per-minute".to_string()
    } else {
        format!("page-views-per-minute-{}", support::run_id())
    };
    let (input, output) = (
        format!("{app}-page-views"),
        format!("{app}-views-per-minute"),
    );
    cluster.create_topics(&[(&input, PARTITIONS), (&output, PARTITIONS)])?;

    let now_ms = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_millis(),
    )?;
    let base_ms = (now_ms - 15 * MINUTE_MS).div_euclid(MINUTE_MS) * MINUTE_MS;
    let (expected, late) = expected(base_ms);
    produce(cluster.bootstrap_servers(), &input, base_ms)?;
    println!(
        "wrote {} page views from {} to {} UTC to {input}, then one record per partition at {}",
        VIEWS.len(),
        hhmm(base_ms),
        hhmm(base_ms + 5 * MINUTE_MS),
        hhmm(base_ms + CLOSE_AT_S * 1000),
    );
    for &i in &late {
        let (user, page, at_s) = VIEWS[i];
        let t = base_ms + at_s * 1000;
        println!(
            "late, to be dropped: {user} {page} at {} (its minute closed at {})",
            clock(t),
            clock(t - t.rem_euclid(MINUTE_MS) + MINUTE_MS + GRACE_MS),
        );
    }

    let config = StreamsConfig::builder()
        .application_id(app.as_str())
        .bootstrap_servers(cluster.bootstrap_servers())
        .set("processing.guarantee", args.guarantee())
        .num_stream_threads(args.threads.unwrap_or(1))
        .commit_interval(Duration::from_millis(500))
        .build()?;
    let streams = KafkaStreams::new(topology(&input, &output)?, config)?;
    streams.set_state_listener(|new, old| println!("state: {old:?} -> {new:?}"))?;
    streams.start()?;

    // Every final count, and how many times each (user, window) was emitted.
    let keys = TimeWindowedCodec::new(Utf8, MINUTE_MS);
    let (mut counts, mut emitted) = (Counts::new(), BTreeMap::<(String, i64), usize>::new());
    let mut undecodable = 0;
    let read = support::read_until(
        cluster.bootstrap_servers(),
        &output,
        Duration::from_secs(120),
        &stop,
        |key, value| {
            match (key.map(|k| keys.decode(k)), value.map(|v| I64.decode(v))) {
                (Some(Ok(windowed)), Some(Ok(count))) => {
                    let at = (windowed.key, windowed.window.start_ms);
                    *emitted.entry(at.clone()).or_default() += 1;
                    counts.insert(at, count);
                }
                _ => undecodable += 1,
            }
            counts.len() >= expected.len()
        },
    )?;
    println!("read {read} final counts from {output}:");
    for ((user, start), count) in &counts {
        let times = emitted.get(&(user.clone(), *start)).copied().unwrap_or(0);
        let again = if times > 1 {
            " (emitted more than once)"
        } else {
            ""
        };
        let views = if *count == 1 { "view" } else { "views" };
        println!(
            "  {}-{}  {user:<6} {count} {views}{again}",
            hhmm(*start),
            hhmm(start + MINUTE_MS)
        );
    }
    // The late view was processed before the closing records of its partition; the metrics
    // snapshot follows within a moment.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let mut dropped = streams.metrics().dropped_records();
    while dropped < late.len() as u64 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
        dropped = streams.metrics().dropped_records();
    }
    println!("dropped-records metric: {dropped}");
    let closed = streams.close(Duration::from_secs(30));
    println!("closed cleanly: {closed}");
    if stop.load(std::sync::atomic::Ordering::SeqCst) {
        println!("stopped by signal");
        return Ok(());
    }
    if counts != expected || emitted.values().any(|&n| n != 1) || undecodable > 0 {
        let missing: Vec<_> = expected
            .keys()
            .filter(|k| !counts.contains_key(*k))
            .collect();
        return Err(format!(
            "final counts differ from the expected ones: {} windows emitted, {} expected, \
             missing {missing:?}, {undecodable} undecodable records",
            counts.len(),
            expected.len()
        )
        .into());
    }
    if dropped != late.len() as u64 {
        return Err(format!("{dropped} records dropped, {} expected", late.len()).into());
    }
    println!(
        "all {} counts match, each emitted once; {} late view dropped",
        expected.len(),
        late.len()
    );
    Ok(())
}
