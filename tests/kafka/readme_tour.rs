//! The README's tour, as written there, counts right on an input with several partitions: on
//! the test driver and on the embedded broker with two partitions and two stream threads, where
//! the re-keyed words must go through the repartition topic to meet in one task.

use std::collections::BTreeMap;
use std::time::Duration;

use streams::codec::{I64, Utf8};
use streams::config::StreamsConfig;
use streams::error::ProcessorError;
use streams::kafka::EmbeddedKafka;
use streams::processor::ProcessorContext;
use streams::record::Record;
use streams::runtime::KafkaStreams;
use streams::state::KeyValueStore;
use streams::testing::TopologyTestDriver;
use streams::topology::Topology;
use streams::{processor, topology};

use super::support::{Reader, produce, wait_running};

/// Splits a line into lower-case words.
#[processor]
fn words(line: String) -> impl IntoIterator<Item = String> {
    line.split_whitespace()
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
}

/// Re-keys each word by itself.
#[processor]
fn by_word(_line_id: String, word: String) -> (String, i64) {
    (word, 1)
}

/// Keeps a running count per word in the `counts` store and forwards it.
#[processor]
fn count(
    word: Record<String, i64>,
    ctx: &mut ProcessorContext<'_, String, i64>,
    counts: &KeyValueStore<String, i64>,
) -> Result<(), ProcessorError> {
    let total = counts.get(&word.key)?.unwrap_or(0) + word.value;
    counts.put(&word.key, &total)?;
    ctx.forward(word.with_value(total))
}

/// The tour's topology, as in the README.
fn tour() -> Topology {
    topology! {
        source lines: <String, String> = "text-input" as utf8;
        sink to_words: <String, i64> = "word-count-words-repartition" as utf8, default;
        source words_by_key: <String, i64> = "word-count-words-repartition" as utf8, default;
        sink word_counts: <String, i64> = "word-counts" as utf8, default;
        store counts: key_value<String, i64> as utf8, default;

        lines -> words -> by_word -> to_words;
        words_by_key -> count(counts) -> word_counts;
    }
    .expect("valid")
    .topology
}

/// Four lines of "hello world" under keys that land on both partitions of a 2-partition topic.
fn input() -> Vec<(Option<String>, Vec<u8>)> {
    (0..4)
        .map(|i| (Some(format!("line-{i}")), b"Hello world".to_vec()))
        .collect()
}

#[test]
fn the_tour_counts_right_on_the_driver() {
    let driver = TopologyTestDriver::new(tour()).expect("driver");
    let lines = driver.create_input_topic("text-input", Utf8, Utf8);
    for (key, value) in input() {
        lines
            .pipe_input(key.unwrap(), String::from_utf8(value).unwrap())
            .expect("processed");
    }
    let counts = driver
        .create_output_topic("word-counts", Utf8, I64)
        .read_key_values_to_map()
        .expect("outputs");
    assert_eq!(counts["hello"], 4);
    assert_eq!(counts["world"], 4);
}

#[test]
fn the_tour_counts_right_on_two_partitions() {
    let kafka = EmbeddedKafka::start().expect("embedded broker");
    kafka.create_topic("text-input", 2).expect("input topic");
    kafka.create_topic("word-counts", 2).expect("output topic");
    let records = input();
    produce(kafka.bootstrap_servers(), "text-input", &records);
    assert!(
        super::support::partition_count(kafka.bootstrap_servers(), "text-input") == 2,
        "the input has two partitions"
    );

    let config = StreamsConfig::builder()
        .application_id("readme-tour")
        .bootstrap_servers(kafka.bootstrap_servers())
        .num_stream_threads(2)
        .commit_interval(Duration::from_millis(100))
        .build()
        .expect("config");
    let streams = KafkaStreams::new(tour(), config).expect("streams");
    streams.start().expect("start");
    wait_running(&streams);

    let expected = BTreeMap::from([("hello".to_string(), 4), ("world".to_string(), 4)]);
    let reader = Reader::new(kafka.bootstrap_servers(), "word-counts");
    let mut out = Vec::new();
    let counted = reader.read_until(&mut out, Duration::from_secs(120), |records| {
        super::support::final_counts(records) == expected
    });
    assert!(streams.close(Duration::from_secs(240)));
    assert!(
        counted,
        "final counts {:?}, expected {expected:?}",
        super::support::final_counts(&out)
    );
}
