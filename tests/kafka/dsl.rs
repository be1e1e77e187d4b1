//! The DSL on Kafka: Kafka Streams' word count written with `StreamsBuilder` on a real broker
//! (repartition and changelog topics created with the application id prefix), a windowed count
//! with `suppress(until_window_closes)` on a real broker (each window's final count exactly
//! once, late records dropped), and on the embedded broker the DSL's answer to null keys from a
//! console producer and an interactive query of an aggregate's store.

use std::collections::BTreeMap;
use std::time::Duration;

use rdkafka::config::ClientConfig;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use streams::codec::{Codec, I64, Nullable, Utf8};
use streams::config::StreamsConfig;
use streams::dsl::{
    BufferConfig, Materialized, StreamsBuilder, Suppressed, TimeWindowedCodec, TimeWindows,
};
use streams::kafka::EmbeddedKafka;
use streams::runtime::{KafkaStreams, StreamsState};
use streams::topology::Topology;

use super::support::*;

/// Kafka Streams' word count, as its users write it.
fn dsl_wordcount(input: &str, output: &str) -> Topology {
    let builder = StreamsBuilder::new();
    builder
        .stream::<Option<String>, String>(input)
        .flat_map_values(|line| {
            line.split_whitespace()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .group_by(|_key, word| word.clone())
        .count_with(Materialized::named("counts"))
        .to_stream()
        .to(output);
    builder.build().expect("valid program")
}

#[test]
fn dsl_wordcount_on_a_real_broker_four_partitions_two_threads() {
    let kafka = bootstrap();
    let app = unique("dsl-wc");
    let (input, output) = (format!("{app}-in"), format!("{app}-out"));
    create_topics(&kafka, &[(&input, 4), (&output, 4)]);
    let (records, expected) = lines(400);
    produce(&kafka, &input, &records);

    let topology = dsl_wordcount(&input, &output);
    let described = topology.describe().to_string();
    assert!(
        described.contains("(topic: counts-repartition)"),
        "describe() shows internal topics without the application id:\n{described}"
    );
    let state_dir = std::env::temp_dir().join(unique("dsl-wc-state"));
    let config = StreamsConfig::builder()
        .application_id(app.as_str())
        .bootstrap_servers(kafka.as_str())
        .num_stream_threads(2)
        .commit_interval(Duration::from_millis(200))
        .state_dir(&state_dir)
        .set("consumer.session.timeout.ms", "10000")
        .api_timeout(Duration::from_secs(120))
        .build()
        .expect("config");
    let streams = KafkaStreams::new(topology, config).expect("streams");
    streams.start().expect("start");
    wait_running(&streams);

    let reader = Reader::new(&kafka, &output);
    let mut out = Vec::new();
    let complete = reader.read_until(&mut out, Duration::from_secs(240), |r| {
        final_counts(r) == expected
    });
    assert!(
        complete,
        "counts after 240 s: {:?}, expected {expected:?}; error: {:?}",
        final_counts(&out),
        streams.error()
    );
    // The internal topics exist under the application id, with the input's partition count.
    assert_eq!(
        partition_count(&kafka, &format!("{app}-counts-repartition")),
        4
    );
    assert_eq!(
        partition_count(&kafka, &format!("{app}-counts-changelog")),
        4
    );
    let metrics = streams.metrics();
    assert_eq!(
        metrics.task_ids().len(),
        8,
        "4 partitions x 2 sub-topologies: {metrics:#?}"
    );
    assert!(streams.close(Duration::from_secs(240)));
    let _ = std::fs::remove_dir_all(&state_dir);
}

#[test]
fn a_null_key_from_a_console_producer_is_dropped_not_fatal() {
    let kafka = EmbeddedKafka::start().expect("embedded broker");
    kafka.create_topic("clicks", 1).expect("input");
    kafka.create_topic("click-counts", 1).expect("output");
    // What `kafka-console-producer` writes without `parse.key`: null keys.
    let records: Records = vec![
        (Some("home".into()), b"x".to_vec()),
        (None, b"no key".to_vec()),
        (Some("home".into()), b"y".to_vec()),
        (Some("cart".into()), b"z".to_vec()),
    ];
    produce(kafka.bootstrap_servers(), "clicks", &records);

    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("clicks")
        .group_by_key()
        .count_with(Materialized::named("click-counts").in_memory())
        .to_stream()
        .to("click-counts");
    let config = StreamsConfig::builder()
        .application_id("null-keys")
        .bootstrap_servers(kafka.bootstrap_servers())
        .commit_interval(Duration::from_millis(100))
        .build()
        .expect("config");
    let streams = KafkaStreams::new(builder.build().expect("program"), config).expect("streams");
    streams.start().expect("start");
    wait_running(&streams);

    let expected = BTreeMap::from([("cart".to_string(), 1), ("home".to_string(), 2)]);
    let reader = Reader::new(kafka.bootstrap_servers(), "click-counts");
    let mut out = Vec::new();
    let counted = reader.read_until(&mut out, Duration::from_secs(60), |r| {
        final_counts(r) == expected
    });
    assert!(counted, "counts {:?}", final_counts(&out));
    assert!(
        eventually(Duration::from_secs(10), || streams
            .metrics()
            .dropped_records()
            == 1),
        "the null-key record is counted as dropped: {:#?}",
        streams.metrics()
    );
    assert_eq!(streams.state(), StreamsState::Running);
    // The aggregate's store answers interactive queries by the name `Materialized` gave it.
    let counts = query_until(
        Duration::from_secs(30),
        || {
            streams
                .store::<String, i64>("click-counts")?
                .get(&"home".to_string())
        },
        |answer| answer.is_some(),
    );
    assert_eq!(counts, Some(2));
    assert!(
        out.iter()
            .all(|(k, v)| Utf8.decode(k).is_ok() && I64.decode(v).is_ok())
    );
    assert!(streams.close(Duration::from_secs(30)));
}

/// Writes (key, value, partition, timestamp) records in order, each to the partition given.
fn produce_at(bootstrap: &str, topic: &str, records: &[(&str, &str, i32, i64)]) {
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("linger.ms", "5")
        // Retries keep the order within a partition, which decides what is late.
        .set("enable.idempotence", "true")
        .create()
        .expect("producer");
    for &(key, value, partition, timestamp) in records {
        let mut record = BaseRecord::to(topic)
            .key(key)
            .payload(value)
            .partition(partition)
            .timestamp(timestamp);
        while let Err((_, back)) = producer.send(record) {
            producer.poll(Duration::from_millis(10));
            record = back;
        }
    }
    producer.flush(Duration::from_secs(300)).expect("flush");
}

#[test]
fn dsl_windowed_count_with_suppress_emits_each_final_count_once_on_a_real_broker() {
    let kafka = bootstrap();
    let app = unique("dsl-win");
    let (input, output) = (format!("{app}-in"), format!("{app}-out"));
    create_topics(&kafka, &[(&input, 2), (&output, 2)]);

    // 10-second windows with 5 s of grace: a window [s, s + 10 s) closes when its task's stream
    // time reaches s + 15 s. Times are seconds after `base`, a window start 10 minutes ago (the
    // broker keeps them: recent, not in the future).
    const SIZE_MS: i64 = 10_000;
    let now_ms = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_millis(),
    )
    .expect("ms");
    let base = (now_ms - 600_000).div_euclid(SIZE_MS) * SIZE_MS;
    // Keys a and b on partition 0, c and d on partition 1; stream time is per partition (task).
    let partition = |key: &str| i32::from(matches!(key, "c" | "d"));
    let views: [(&str, i64); 16] = [
        ("a", 1),
        ("c", 2),
        ("b", 3),
        ("d", 5),
        ("a", 11),
        ("c", 13),
        ("b", 7), // out of order, within grace: partition 0 is at 11 s, [0, 10) closes at 15
        ("d", 9), // out of order, within grace: partition 1 is at 13 s
        ("a", 16), // partition 0 at 16 s: [0, 10) closed
        ("c", 24), // partition 1 at 24 s: [0, 10) closed
        ("b", 22),
        ("d", 18), // out of order, within grace: [10, 20) closes at 25, partition 1 is at 24 s
        ("a", 6),  // late: [0, 10) closed on partition 0 (at 22 s); dropped
        ("b", 27),
        ("c", 31),
        ("d", 28), // out of order, within grace: [20, 30) closes at 35, partition 1 is at 31 s
    ];
    let mut records: Vec<(&str, &str, i32, i64)> = views
        .iter()
        .map(|&(key, at_s)| (key, "view", partition(key), base + at_s * 1000))
        .collect();
    // Then one record per partition at 45 s: stream time 45 s closes every window up to
    // [30, 40) on both tasks; their own window [40, 50) stays open and is never emitted.
    records.push(("close-0", "tick", 0, base + 45_000));
    records.push(("close-1", "tick", 1, base + 45_000));
    produce_at(&kafka, &input, &records);
    let w = |start_s: i64| base + start_s * 1000;
    let expected: BTreeMap<(String, i64), i64> = [
        (("a", w(0)), 1), // 1 s (6 s was late)
        (("a", w(10)), 2),
        (("b", w(0)), 2),
        (("b", w(20)), 2),
        (("c", w(0)), 1),
        (("c", w(10)), 1),
        (("c", w(20)), 1),
        (("c", w(30)), 1),
        (("d", w(0)), 2),
        (("d", w(10)), 1),
        (("d", w(20)), 1),
    ]
    .into_iter()
    .map(|((key, start), count)| ((key.to_string(), start), count))
    .collect();

    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>(&input)
        .group_by_key()
        .windowed_by(TimeWindows::of_size_and_grace(
            Duration::from_millis(SIZE_MS as u64),
            Duration::from_secs(5),
        ))
        .count_with(Materialized::named("counts"))
        .suppress(Suppressed::until_window_closes(BufferConfig::unbounded()))
        .to_stream()
        .to(&output);
    let state_dir = std::env::temp_dir().join(unique("dsl-win-state"));
    let config = StreamsConfig::builder()
        .application_id(app.as_str())
        .bootstrap_servers(kafka.as_str())
        .commit_interval(Duration::from_millis(200))
        .state_dir(&state_dir)
        .set("consumer.session.timeout.ms", "10000")
        .api_timeout(Duration::from_secs(120))
        .build()
        .expect("config");
    let streams = KafkaStreams::new(builder.build().expect("program"), config).expect("streams");
    streams.start().expect("start");
    wait_running(&streams);

    let keys = TimeWindowedCodec::new(Utf8, SIZE_MS);
    let decode = |records: &[(Vec<u8>, Vec<u8>)]| -> Vec<((String, i64), i64)> {
        records
            .iter()
            .map(|(k, v)| {
                let windowed = keys.decode(k).expect("a time-windowed key");
                assert_eq!(windowed.window.end_ms - windowed.window.start_ms, SIZE_MS);
                let count = Nullable(I64)
                    .decode(v)
                    .expect("a count")
                    .expect("final results are never deletes");
                ((windowed.key, windowed.window.start_ms), count)
            })
            .collect()
    };
    let reader = Reader::new(&kafka, &output);
    let mut out = Vec::new();
    let complete = reader.read_until(&mut out, Duration::from_secs(240), |r| {
        r.len() >= expected.len()
    });
    assert!(
        complete,
        "final counts after 240 s: {:?}, expected {expected:?}; error: {:?}",
        decode(&out),
        streams.error()
    );
    // Nothing more comes: stream time stays at 45 s, so no other window closes. Several commits
    // (200 ms) later the output still holds exactly one record per (key, window).
    reader.read_until(&mut out, Duration::from_secs(3), |_| false);
    let emitted = decode(&out);
    let mut finals = BTreeMap::new();
    for (at, count) in &emitted {
        assert!(
            finals.insert(at.clone(), *count).is_none(),
            "{at:?} emitted more than once: {emitted:?}"
        );
    }
    assert_eq!(finals, expected, "all emitted: {emitted:?}");
    assert_eq!(emitted.len(), expected.len());
    assert!(
        eventually(Duration::from_secs(10), || streams
            .metrics()
            .dropped_records()
            == 1),
        "the late record is counted as dropped: {:#?}",
        streams.metrics()
    );
    assert_eq!(streams.state(), StreamsState::Running);
    assert!(streams.close(Duration::from_secs(60)));
    let _ = std::fs::remove_dir_all(&state_dir);
}
