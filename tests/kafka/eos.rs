//! Exactly-once (`processing.guarantee=exactly_once_v2`) on the real broker: a thread's outputs,
//! changelog writes and offsets commit in one transaction; a `read_committed` reader sees each
//! update once. (The crash-and-restart proof is the oracle in `eos_oracle.rs`.)

use std::collections::BTreeMap;
use std::time::Duration;

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Message, Offset, TopicPartitionList};
use streams::codec::{Codec, I64, Utf8};
use streams::config::StreamsConfig;
use streams::dsl::{Materialized, StreamsBuilder};
use streams::runtime::{KafkaStreams, StreamsState};

use super::support::*;

/// Reads `topic` from the beginning with `isolation.level=read_committed` until `done`.
fn read_committed(
    bootstrap: &str,
    topic: &str,
    timeout: Duration,
    done: impl Fn(&[(Vec<u8>, Vec<u8>)]) -> bool,
) -> Vec<(Vec<u8>, Vec<u8>)> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", unique("committed-reader"))
        .set("enable.auto.commit", "false")
        .set("isolation.level", "read_committed")
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
    let deadline = std::time::Instant::now() + timeout;
    let mut out = Vec::new();
    while std::time::Instant::now() < deadline && !done(&out) {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(100)) {
            out.push((
                m.key().unwrap_or_default().to_vec(),
                m.payload().unwrap_or_default().to_vec(),
            ));
        }
    }
    out
}

#[test]
fn exactly_once_counts_commit_in_transactions() {
    let kafka = bootstrap();
    let app = unique("eos-count");
    let (input, output) = (format!("{app}-in"), format!("{app}-out"));
    create_topics(&kafka, &[(&input, 2), (&output, 2)]);
    let (records, expected) = lines(300);
    produce(&kafka, &input, &records);

    let builder = StreamsBuilder::new();
    builder
        .stream::<Option<String>, String>(&input)
        .flat_map_values(|line| line.split(' ').map(str::to_string).collect::<Vec<_>>())
        .group_by(|_k, word| word.clone())
        .count_with(Materialized::named("counts"))
        .to_stream()
        .to(&output);
    let state_dir = std::env::temp_dir().join(unique("eos-state"));
    let config = StreamsConfig::builder()
        .application_id(app.as_str())
        .bootstrap_servers(kafka.as_str())
        .num_stream_threads(2)
        .state_dir(&state_dir)
        .set("processing.guarantee", "exactly_once_v2")
        .api_timeout(Duration::from_secs(120))
        .build()
        .expect("config");
    assert_eq!(config.commit_interval(), Duration::from_millis(100));
    let streams = KafkaStreams::new(builder.build().expect("program"), config).expect("streams");
    streams.start().expect("start");
    wait_running(&streams);

    let out = read_committed(&kafka, &output, Duration::from_secs(180), |r| {
        final_counts(r) == expected
    });
    assert_eq!(
        final_counts(&out),
        expected,
        "error: {:?}, metrics: {:#?}",
        streams.error(),
        streams.metrics()
    );
    // Every committed update is a count that grows by one per occurrence: no update twice.
    let mut last: BTreeMap<String, i64> = BTreeMap::new();
    for (k, v) in &out {
        let (word, count) = (Utf8.decode(k).unwrap(), I64.decode(v).unwrap());
        let previous = last.insert(word.clone(), count).unwrap_or(0);
        assert!(count > previous, "{word}: {count} after {previous}");
    }
    // The metrics snapshot is published every few hundred ms.
    assert!(
        eventually(Duration::from_secs(10), || {
            streams
                .metrics()
                .threads
                .iter()
                .map(|t| t.commits)
                .sum::<u64>()
                > 0
        }),
        "{:#?}",
        streams.metrics()
    );
    assert!(streams.close(Duration::from_secs(120)));
    assert_eq!(streams.state(), StreamsState::NotRunning);
    drop(streams); // releases the state directory

    // A restart with the same state directory restores from the checkpoint of the clean close
    // and counts on.
    let more: Records = vec![(None, b"kafka kafka".to_vec())];
    produce(&kafka, &input, &more);
    let builder = StreamsBuilder::new();
    builder
        .stream::<Option<String>, String>(&input)
        .flat_map_values(|line| line.split(' ').map(str::to_string).collect::<Vec<_>>())
        .group_by(|_k, word| word.clone())
        .count_with(Materialized::named("counts"))
        .to_stream()
        .to(&output);
    let config = StreamsConfig::builder()
        .application_id(app.as_str())
        .bootstrap_servers(kafka.as_str())
        .state_dir(&state_dir)
        .set("processing.guarantee", "exactly_once_v2")
        .api_timeout(Duration::from_secs(120))
        .build()
        .expect("config");
    let streams = KafkaStreams::new(builder.build().expect("program"), config).expect("streams");
    streams.start().expect("start");
    let mut expected_after = expected;
    *expected_after.entry("kafka".to_string()).or_insert(0) += 2;
    let out = read_committed(&kafka, &output, Duration::from_secs(180), |r| {
        final_counts(r) == expected_after
    });
    assert_eq!(
        final_counts(&out),
        expected_after,
        "error: {:?}",
        streams.error()
    );
    assert!(streams.close(Duration::from_secs(120)));
    let _ = std::fs::remove_dir_all(&state_dir);
}

/// The error paths of exactly-once, fast, on the embedded broker (librdkafka's mock cluster
/// injects the broker errors; it does not filter aborted records, so what it proves is that the
/// application survives and recovers, not the outputs — the real broker's tests do those).
#[test]
fn fenced_and_unavailable_coordinators_are_recovered_from() {
    use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};
    use streams::kafka::EmbeddedKafka;

    let kafka = EmbeddedKafka::start().expect("embedded broker");
    kafka.create_topic("eos-in", 1).expect("input");
    kafka.create_topic("eos-out", 1).expect("output");
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("eos-in")
        .map_values(|v| v.to_uppercase())
        .to("eos-out");
    let config = StreamsConfig::builder()
        .application_id("eos-errors")
        .bootstrap_servers(kafka.bootstrap_servers())
        .state_dir(std::env::temp_dir().join(unique("eos-errors-state")))
        .set("processing.guarantee", "exactly_once_v2")
        .build()
        .expect("config");
    let streams = KafkaStreams::new(builder.build().expect("program"), config).expect("streams");
    streams.start().expect("start");
    wait_running(&streams);

    // A retriable error (the coordinator moves) is retried inside the commit.
    kafka
        .fail_requests(
            RDKafkaApiKey::AddOffsetsToTxn,
            &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE],
        )
        .expect("inject");
    produce(kafka.bootstrap_servers(), "eos-in", &numbered(10));
    let reader = Reader::new(kafka.bootstrap_servers(), "eos-out");
    let mut out = Vec::new();
    let upper = |n: std::ops::Range<usize>| -> std::collections::BTreeSet<String> {
        n.map(|i| format!("{i}")).collect()
    };
    assert!(
        reader.read_until(&mut out, Duration::from_secs(60), |r| {
            seen_values(r).is_superset(&upper(0..10))
        }),
        "error {:?}",
        streams.error()
    );

    // The producer fenced when its transaction ends: it is replaced, the transaction aborted,
    // the task made again from the committed offsets, and processing goes on.
    kafka
        .fail_requests(
            RDKafkaApiKey::EndTxn,
            &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH],
        )
        .expect("inject");
    let more: Records = (10..20)
        .map(|i| (Some(format!("k{i}")), format!("{i}").into_bytes()))
        .collect();
    produce(kafka.bootstrap_servers(), "eos-in", &more);
    assert!(
        reader.read_until(&mut out, Duration::from_secs(60), |r| {
            seen_values(r).is_superset(&upper(0..20))
        }),
        "error {:?}",
        streams.error()
    );
    assert!(
        eventually(Duration::from_secs(30), || {
            streams
                .metrics()
                .threads
                .iter()
                .map(|t| t.aborted_transactions)
                .sum::<u64>()
                >= 1
        }),
        "the fenced transaction was aborted and recovered from: {:#?}",
        streams.metrics()
    );
    assert_eq!(
        streams.state(),
        StreamsState::Running,
        "{:?}",
        streams.error()
    );
    assert!(streams.close(Duration::from_secs(60)));
}

fn seen_values(records: &[(Vec<u8>, Vec<u8>)]) -> std::collections::BTreeSet<String> {
    records
        .iter()
        .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
        .collect()
}
