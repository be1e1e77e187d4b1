//! Word count on Kafka, Kafka Streams' classic first application, written twice: as two plain
//! functions marked `#[processor]` wired with `topology!` (so the compiler checks every
//! connection), and with the DSL (`--dsl`), line for line Kafka Streams' own word count. Both run
//! the same way on the same topics.
//!
//! Lines from `<app>-input` are split into words and re-keyed by word into the repartition
//! topic `<app>-words-repartition` (created by the runtime, with the input's partition count),
//! so that every occurrence of a word reaches the same task; that task keeps a count per word in
//! an in-memory key-value store and writes each new count to `<app>-output`. A plain consumer
//! then reads the output and the example prints the final counts.
//!
//! Delivery guarantee: at-least-once by default (`--processing-guarantee exactly_once_v2` runs it
//! exactly-once: each commit is a transaction, and a `read_committed` reader sees every count
//! once). At-least-once (`processing.guarantee=at_least_once`): outputs are
//! flushed before input offsets are committed; after a crash some counts may be written twice,
//! none is lost. The counts live in an in-memory store whose writes are logged to the
//! changelog topic `<app>-counts-changelog`, so a restarted or moved task restores them from
//! there before it counts again.
//!
//! ```text
//! cargo run --example wordcount                                 # in-process broker, sample text
//! cargo run --example wordcount -- --dsl                        # the DSL form
//! cargo run --example wordcount -- --bootstrap-servers HOST:PORT [--lines N] [--threads N] [--dsl]
//! ```
//!
//! With no arguments it starts an embedded broker (librdkafka's mock cluster), so no Kafka is
//! needed. `--lines N` generates N lines of input instead of the sample text and prints the
//! end-to-end throughput (measure with `--release`, which builds librdkafka and RocksDB once more,
//! in the release profile); SIGINT/SIGTERM stop it gracefully.

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use streams::codec::{Codec, I64, Nullable, Utf8};
use streams::config::StreamsConfig;
use streams::dsl::{Grouped, Materialized, StreamsBuilder};
use streams::error::ProcessorError;
use streams::processor::ProcessorContext;
use streams::record::Record;
use streams::runtime::{KafkaStreams, StreamsState};
use streams::state::KeyValueStore;
use streams::topology::Topology;
use streams::{processor, topology};

use support::{Args, Cluster, Result};

const SAMPLE: &[&str] = &[
    "all streams lead to kafka",
    "hello kafka streams",
    "join kafka summit",
    "streams of records flow through kafka",
    "a stream is an unbounded sequence of records",
];

/// Splits a line into lower-case words, each keyed by itself (the line's key is ignored).
#[processor]
fn split(_line_key: Option<String>, line: String) -> impl IntoIterator<Item = (String, String)> {
    line.split_whitespace()
        .map(|word| {
            let word = word.to_lowercase();
            (word.clone(), word)
        })
        .collect::<Vec<_>>()
}

/// Counts occurrences per word in the `counts` store and forwards each new count.
#[processor]
fn count(
    word: Record<String, String>,
    ctx: &mut ProcessorContext<'_, String, i64>,
    counts: &KeyValueStore<String, i64>,
) -> std::result::Result<(), ProcessorError> {
    let count = counts.get(&word.key)?.unwrap_or(0) + 1;
    counts.put(&word.key, &count)?;
    ctx.forward(word.with_value(count))
}

/// Lines → split → `<app>-words-repartition` → count → `<app>-output`: two sub-topologies, so
/// each word's occurrences meet in one task whatever partition their lines were on.
fn topology(app: &str) -> Result<Topology> {
    let input = format!("{app}-input");
    let repartition = format!("{app}-words-repartition");
    let output = format!("{app}-output");
    let declared = topology! {
        source lines: <Option<String>, String> = { input.as_str() } as Nullable<Utf8>, utf8;
        sink to_words: <String, String> = { repartition.as_str() } as utf8;
        source words: <String, String> = { repartition.as_str() } as utf8;
        sink to_output: <String, i64> = { output.as_str() } as utf8, default;
        store counts: key_value<String, i64> as utf8, default;

        lines -> split -> to_words;
        words -> count(counts) -> to_output;
    }?;
    Ok(declared.topology)
}

/// The same program with the DSL, as Kafka Streams users write it: the repartition topic
/// (`<app>-words-repartition`) and the store's changelog (`<app>-counts-changelog`) are named
/// from `Grouped` and `Materialized` and prefixed with the application id at run time.
fn dsl_topology(app: &str) -> Result<Topology> {
    let builder = StreamsBuilder::new();
    builder
        .stream::<Option<String>, String>(&format!("{app}-input"))
        .flat_map_values(|line| {
            line.split_whitespace()
                .map(str::to_lowercase)
                .collect::<Vec<_>>()
        })
        .group_by_with(|_key, word| word.clone(), Grouped::named("words"))
        .count_with(Materialized::named("counts").in_memory())
        .to_stream()
        .to(&format!("{app}-output"));
    Ok(builder.build()?)
}

fn main() -> Result<()> {
    support::init_logging();
    let args = Args::parse()?;
    let stop = support::stop_on_signal()?;
    let cluster = Cluster::connect(args.bootstrap_servers.clone())?;
    let app = if cluster.is_embedded() {
        "wordcount".to_string()
    } else {
        format!("wordcount-{}", support::run_id())
    };
    let (input, output) = (format!("{app}-input"), format!("{app}-output"));
    let partitions = 4;
    cluster.create_topics(&[(&input, partitions), (&output, partitions)])?;

    let lines: Vec<String> = match args.lines {
        None => SAMPLE.iter().map(|s| s.to_string()).collect(),
        Some(n) => (0..n)
            .map(|i| {
                format!(
                    "the quick brown fox {} jumps over the lazy dog {}",
                    i % 1000,
                    i % 7
                )
            })
            .collect(),
    };
    let mut expected: BTreeMap<String, i64> = BTreeMap::new();
    for word in lines.iter().flat_map(|l| l.split_whitespace()) {
        *expected.entry(word.to_lowercase()).or_default() += 1;
    }
    let words: i64 = expected.values().sum();
    support::produce(
        cluster.bootstrap_servers(),
        &input,
        lines.iter().map(|l| (None, l.as_bytes())),
    )?;
    println!("wrote {} lines ({words} words) to {input}", lines.len());

    let config = StreamsConfig::builder()
        .application_id(app.as_str())
        .bootstrap_servers(cluster.bootstrap_servers())
        .set("processing.guarantee", args.guarantee())
        .num_stream_threads(args.threads.unwrap_or(2))
        .commit_interval(Duration::from_millis(1000))
        .build()?;
    let topology = if args.dsl {
        dsl_topology(&app)?
    } else {
        topology(&app)?
    };
    let streams = KafkaStreams::new(topology, config)?;
    // A failed application stops the wait for output at once (and the example fails), instead
    // of idling in `Error`.
    let failed = Arc::new(AtomicBool::new(false));
    let (stop_on_error, failed_flag) = (Arc::clone(&stop), Arc::clone(&failed));
    streams.set_state_listener(move |new, old| {
        println!("state: {old:?} -> {new:?}");
        if new == StreamsState::Error {
            failed_flag.store(true, Ordering::SeqCst);
            stop_on_error.store(true, Ordering::SeqCst);
        }
    })?;
    let started = Instant::now();
    streams.start()?;

    let mut counts: BTreeMap<String, i64> = BTreeMap::new();
    // Until every word reached its count: the macro form writes one update per word, the DSL
    // form fewer (its store's record cache folds the updates between commits, as Kafka Streams'
    // does).
    let read = support::read_until(
        cluster.bootstrap_servers(),
        &output,
        Duration::from_secs(120),
        &stop,
        |key, value| {
            if let (Some(k), Some(v)) = (key, value)
                && let (Ok(word), Ok(count)) = (Utf8.decode(k), I64.decode(v))
            {
                let slot = counts.entry(word).or_default();
                *slot = (*slot).max(count);
            }
            counts == expected
        },
    )?;
    let elapsed = started.elapsed();
    println!("read {read} count updates from {output} in {elapsed:.2?}");
    if args.lines.is_some() {
        let secs = elapsed.as_secs_f64();
        println!(
            "throughput: {:.0} lines/s, {:.0} words/s (end to end: start, process, read back)",
            lines.len() as f64 / secs,
            words as f64 / secs
        );
    }
    let mut by_count: Vec<(&String, &i64)> = counts.iter().collect();
    by_count.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    for (word, count) in by_count.iter().take(20) {
        println!("{word:>12} {count}");
    }
    if by_count.len() > 20 {
        println!("... and {} more words", by_count.len() - 20);
    }
    let closed = streams.close(Duration::from_secs(30));
    if failed.load(Ordering::SeqCst) {
        let error = streams.error().map(|e| e.to_string()).unwrap_or_default();
        return Err(format!("the application failed: {error}").into());
    }
    println!("closed cleanly: {closed}");
    if stop.load(Ordering::SeqCst) {
        println!("stopped by signal");
        return Ok(());
    }
    if counts != expected {
        return Err(format!(
            "counts differ from the expected ones ({} words counted, {} expected)",
            counts.len(),
            expected.len()
        )
        .into());
    }
    println!("all {} counts match", expected.len());
    Ok(())
}
