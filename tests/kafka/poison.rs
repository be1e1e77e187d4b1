//! Poison pills on the real broker: a record whose bytes do not decode. With a dead-letter
//! queue it lands there, raw and with the `__streams.errors.*` headers, and processing goes on;
//! with the defaults the application stops with a typed error naming topic, partition and
//! offset, and once the record is skipped by config a restart loses nothing.

use std::collections::BTreeSet;
use std::time::Duration;

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Headers as _;
use rdkafka::{Message, Offset, TopicPartitionList};
use streams::codec::{I64, Utf8};
use streams::config::StreamsConfig;
use streams::dsl::{Consumed, Produced, StreamsBuilder};
use streams::runtime::{KafkaStreams, StreamsState};
use streams::topology::Topology;

use super::support::*;

/// Amounts (8-byte longs) doubled.
fn doubler(input: &str, output: &str) -> Topology {
    let builder = StreamsBuilder::new();
    builder
        .stream_with::<String, i64, _, _>(input, Consumed::with(Utf8, I64))
        .map_values(|amount| amount * 2)
        .to_with(output, Produced::with(Utf8, I64));
    builder.build().expect("valid program")
}

/// `n` good amounts around one record of 3 bytes (the poison pill) at position `bad`.
fn amounts(n: usize, bad: usize) -> Records {
    (0..n)
        .map(|i| {
            let value = if i == bad {
                vec![1, 2, 3]
            } else {
                (i as i64).to_be_bytes().to_vec()
            };
            (Some(format!("k{i}")), value)
        })
        .collect()
}

fn config(app: &str, extra: &[(&str, &str)]) -> StreamsConfig {
    extra
        .iter()
        .fold(
            StreamsConfig::builder()
                .application_id(app)
                .bootstrap_servers(bootstrap())
                .commit_interval(Duration::from_millis(100))
                .api_timeout(Duration::from_secs(120)),
            |b, (k, v)| b.set(*k, *v),
        )
        .build()
        .expect("config")
}

/// A record read back: key, value, headers.
type Read = (Option<Vec<u8>>, Option<Vec<u8>>, Vec<(String, Vec<u8>)>);

/// The records of `topic` (one partition), with their headers, until `done` holds of them or
/// a minute passes.
fn read_until(topic: &str, done: impl Fn(&[Read]) -> bool) -> Vec<Read> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap())
        .set("group.id", unique("poison-reader"))
        .create()
        .expect("consumer");
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, 0, Offset::Beginning)
        .expect("partition");
    consumer.assign(&tpl).expect("assign");
    let mut out = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !done(&out) && std::time::Instant::now() < deadline {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(100)) {
            let headers = m.headers().map_or_else(Vec::new, |h| {
                h.iter()
                    .map(|h| (h.key.to_string(), h.value.unwrap_or_default().to_vec()))
                    .collect()
            });
            out.push((
                m.key().map(<[u8]>::to_vec),
                m.payload().map(<[u8]>::to_vec),
                headers,
            ));
        }
    }
    out
}

fn doubled(records: &[Read]) -> BTreeSet<i64> {
    records
        .iter()
        .filter_map(|(_, v, _)| v.as_deref()?.try_into().ok().map(i64::from_be_bytes))
        .collect()
}

#[test]
fn a_poison_pill_goes_to_the_dead_letter_queue_and_processing_goes_on() {
    let kafka = bootstrap();
    let app = unique("poison-dlq");
    let (input, output, dlq) = (
        format!("{app}-in"),
        format!("{app}-out"),
        format!("{app}-dlq"),
    );
    create_topics(&kafka, &[(&input, 1), (&output, 1), (&dlq, 1)]);
    produce(&kafka, &input, &amounts(20, 7));

    let streams = KafkaStreams::new(
        doubler(&input, &output),
        config(
            &app,
            &[
                ("errors.dead.letter.queue.topic.name", &dlq),
                ("deserialization.exception.handler", "log-and-continue"),
            ],
        ),
    )
    .expect("streams");
    streams.start().expect("start");
    wait_running(&streams);
    let expected: BTreeSet<i64> = (0..20).filter(|&i| i != 7).map(|i| i * 2).collect();
    let out = read_until(&output, |r| doubled(r) == expected);
    assert_eq!(doubled(&out), expected, "every good record, doubled");
    let dead = read_until(&dlq, |r| !r.is_empty());
    assert!(streams.close(Duration::from_secs(60)));
    assert_eq!(dead.len(), 1, "{dead:?}");
    let (key, value, headers) = &dead[0];
    assert_eq!(key.as_deref(), Some(&b"k7"[..]), "the raw key");
    assert_eq!(value.as_deref(), Some(&[1u8, 2, 3][..]), "the raw value");
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
            .unwrap_or_else(|| panic!("header {name} in {headers:?}"))
    };
    assert_eq!(header("__streams.errors.topic"), input);
    assert_eq!(header("__streams.errors.partition"), "0");
    assert_eq!(header("__streams.errors.offset"), "7");
    assert!(header("__streams.errors.exception").contains("Deserialization"));
    assert!(
        header("__streams.errors.message").contains("expected 8 bytes"),
        "{}",
        header("__streams.errors.message")
    );
    assert!(header("__streams.errors.stacktrace").contains("expected 8 bytes"));
}

#[test]
fn a_poison_pill_stops_the_application_until_it_is_skipped_by_config() {
    let kafka = bootstrap();
    let app = unique("poison-fail");
    let (input, output) = (format!("{app}-in"), format!("{app}-out"));
    create_topics(&kafka, &[(&input, 1), (&output, 1)]);
    produce(&kafka, &input, &amounts(20, 7));

    // The defaults: log-and-fail.
    let streams = KafkaStreams::new(doubler(&input, &output), config(&app, &[])).expect("streams");
    streams.start().expect("start");
    assert!(
        eventually(Duration::from_secs(60), || streams.state()
            == StreamsState::Error),
        "state {:?}",
        streams.state()
    );
    let error = streams.error().expect("the error").to_string();
    assert!(
        error.contains(&format!("{input}-0@7")) && error.contains("value"),
        "the error names topic, partition, offset and part: {error}"
    );
    let _ = streams.close(Duration::from_secs(30));
    drop(streams);

    // Skipped by config, the restarted application processes the rest: nothing lost.
    let streams = KafkaStreams::new(
        doubler(&input, &output),
        config(
            &app,
            &[("deserialization.exception.handler", "log-and-continue")],
        ),
    )
    .expect("streams");
    streams.start().expect("start");
    wait_running(&streams);
    // At least once: what the failed run wrote before the poison pill is written again.
    let expected: BTreeSet<i64> = (0..20).filter(|&i| i != 7).map(|i| i * 2).collect();
    let out = read_until(&output, |r| doubled(r) == expected);
    assert_eq!(doubled(&out), expected);
    assert!(streams.close(Duration::from_secs(60)));
    let _ = (Utf8, I64);
}

/// `ShutdownApplication` on the real broker: the instance a poison pill fails asks the other
/// one to stop too (through `<application.id>-shutdown-requests`).
#[test]
fn shutdown_application_stops_every_instance_on_the_broker() {
    let bootstrap = bootstrap();
    let (input, output) = (unique("shutdown-in"), unique("shutdown-out"));
    create_topics(&bootstrap, &[(&input, 2), (&output, 2)]);
    super::embedded::shutdown_application(&bootstrap, &unique("shutdown-app"), &input, &output);
}
