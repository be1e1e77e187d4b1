//! The DSL on Kafka: Kafka Streams' word count written with `StreamsBuilder` on a real broker
//! (repartition and changelog topics created with the application id prefix), and on the
//! embedded broker the DSL's answer to null keys from a console producer and an interactive
//! query of an aggregate's store.

use std::collections::BTreeMap;
use std::time::Duration;

use streams::codec::{Codec, I64, Utf8};
use streams::config::StreamsConfig;
use streams::dsl::{Materialized, StreamsBuilder};
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
