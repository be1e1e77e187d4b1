//! Runtime tests on the in-process mock cluster (`EmbeddedKafka`): lifecycle, word count,
//! error handlers, interactive queries. No broker needed.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::support::*;
use streams::codec::{I64, Utf8};
use streams::config::{StreamsConfig, StreamsConfigBuilder};
use streams::kafka::EmbeddedKafka;
use streams::runtime::{KafkaStreams, QueryError, RuntimeError, StreamsState};
use streams::topology::{Topology, TopologyBuilder};

fn builder(kafka: &EmbeddedKafka, app: &str) -> StreamsConfigBuilder {
    StreamsConfig::builder()
        .application_id(app)
        .bootstrap_servers(kafka.bootstrap_servers())
        .commit_interval(Duration::from_millis(100))
}

#[test]
fn wordcount_with_lifecycle_on_the_embedded_cluster() {
    let kafka = EmbeddedKafka::start().unwrap();
    let app = "wc-embedded";
    kafka.create_topic("lines", 2).unwrap();
    kafka.create_topic("counts", 2).unwrap();
    let (records, expected) = lines(100);
    produce(kafka.bootstrap_servers(), "lines", &records);

    let config = builder(&kafka, app).num_stream_threads(2).build().unwrap();
    let streams = KafkaStreams::new(wordcount(app, "lines", "counts"), config).unwrap();
    let transitions = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&transitions);
    streams
        .set_state_listener(move |new, old| seen.lock().unwrap().push((old, new)))
        .unwrap();
    streams.start().unwrap();
    assert!(streams.start().is_err(), "start twice is refused");
    assert!(streams.set_state_listener(|_, _| {}).is_err());
    wait_running(&streams);

    let reader = Reader::new(kafka.bootstrap_servers(), "counts");
    let mut out = Vec::new();
    assert!(
        reader.read_until(&mut out, Duration::from_secs(60), |r| final_counts(r)
            == expected),
        "counts {:?}, expected {expected:?}, error {:?}",
        final_counts(&out),
        streams.error()
    );
    assert!(streams.close(Duration::from_secs(240)));
    assert_eq!(streams.state(), StreamsState::NotRunning);
    let transitions = transitions.lock().unwrap().clone();
    assert_eq!(
        transitions.first(),
        Some(&(StreamsState::Created, StreamsState::Rebalancing))
    );
    assert!(transitions.contains(&(StreamsState::Rebalancing, StreamsState::Running)));
    assert_eq!(
        transitions.last(),
        Some(&(StreamsState::PendingShutdown, StreamsState::NotRunning))
    );
    // The internal topic was created with the input's partition count.
    assert_eq!(
        partition_count(kafka.bootstrap_servers(), "wc-embedded-words-repartition"),
        2
    );
}

/// A task made by a new instance does not wait for an input whose previous owner read it to
/// the end: it starts at the group's committed offset, which is the end.
#[test]
fn a_new_task_does_not_wait_for_an_input_its_previous_owner_read_to_the_end() {
    let kafka = EmbeddedKafka::start().unwrap();
    for topic in ["idle-a", "idle-b", "idle-out"] {
        kafka.create_topic(topic, 1).unwrap();
    }
    let topology = || {
        let mut b = TopologyBuilder::new();
        b.add_source("a", ["idle-a"], Utf8, Utf8)
            .add_source("b", ["idle-b"], Utf8, Utf8)
            .add_sink("out", "idle-out", Utf8, Utf8, ["a", "b"]);
        b.build().unwrap()
    };
    // The embedded broker lets a closed member's session expire rather than leave at once.
    let config = || {
        builder(&kafka, "idle")
            .set("consumer.session.timeout.ms", "6000")
            .build()
            .unwrap()
    };
    let reader = Reader::new(kafka.bootstrap_servers(), "idle-out");
    let mut out = Vec::new();
    produce(kafka.bootstrap_servers(), "idle-b", &numbered(3));
    let first = KafkaStreams::new(topology(), config()).unwrap();
    first.start().unwrap();
    assert!(reader.read_until(&mut out, Duration::from_secs(60), |r| r.len() == 3));
    assert!(first.close(Duration::from_secs(60)));

    produce(kafka.bootstrap_servers(), "idle-a", &numbered(2));
    let second = KafkaStreams::new(topology(), config()).unwrap();
    second.start().unwrap();
    assert!(
        reader.read_until(&mut out, Duration::from_secs(60), |r| r.len() == 5),
        "{} records; metrics {:?}",
        out.len(),
        second.metrics()
    );
    assert!(second.close(Duration::from_secs(60)));
}

/// A group coordinator that answers the committed-offset query with `NOT_COORDINATOR` or
/// `COORDINATOR_LOAD_IN_PROGRESS` (it moved, or has just started and still loads its offsets,
/// as after a broker restart) does not leave the partitions unread: the thread asks again.
/// With `auto.offset.reset=none` a partition the group never committed is a typed error.
#[test]
fn committed_offsets_are_asked_again_while_the_coordinator_moves() {
    use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};
    use streams::config::AutoOffsetReset;

    let kafka = EmbeddedKafka::start().unwrap();
    kafka.create_topic("moving-in", 2).unwrap();
    kafka.create_topic("moving-out", 2).unwrap();
    produce(kafka.bootstrap_servers(), "moving-in", &numbered(20));
    kafka
        .fail_requests(
            RDKafkaApiKey::OffsetFetch,
            &[
                RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_COORDINATOR,
                RDKafkaRespErr::RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS,
                RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_COORDINATOR,
            ],
        )
        .unwrap();
    let config = builder(&kafka, "moving").build().unwrap();
    let streams = KafkaStreams::new(big_values("moving-in", "moving-out"), config).unwrap();
    streams.start().unwrap();
    let reader = Reader::new(kafka.bootstrap_servers(), "moving-out");
    let mut out = Vec::new();
    let all = (0..20).map(|i| i.to_string()).collect();
    assert!(
        reader.read_until(&mut out, Duration::from_secs(60), |r| seen(r) == all),
        "read {:?}; state {:?}, error {:?}",
        seen(&out),
        streams.state(),
        streams.error()
    );
    assert!(streams.close(Duration::from_secs(60)));

    let config = builder(&kafka, "moving-never-committed")
        .auto_offset_reset(AutoOffsetReset::None)
        .build()
        .unwrap();
    let streams = KafkaStreams::new(big_values("moving-in", "moving-out"), config).unwrap();
    streams.start().unwrap();
    assert!(streams.wait_for_state(StreamsState::Error, Duration::from_secs(60)));
    let error = streams.error().expect("the error");
    assert!(
        matches!(
            &*error,
            RuntimeError::NoCommittedOffset { topic, .. } if topic == "moving-in"
        ),
        "{error}"
    );
}

fn big_values(input: &str, output: &str) -> Topology {
    let mut b = TopologyBuilder::new();
    b.add_source("in", [input], Utf8, Utf8)
        .add_sink("out", output, Utf8, Utf8, ["in"]);
    b.build().unwrap()
}

#[test]
fn production_failure_fails_the_application_by_default() {
    let kafka = EmbeddedKafka::start().unwrap();
    kafka.create_topic("in", 1).unwrap();
    kafka.create_topic("out", 1).unwrap();
    produce(
        kafka.bootstrap_servers(),
        "in",
        &[(Some("k".to_string()), vec![b'x'; 5000])],
    );
    let config = builder(&kafka, "too-big")
        .set("producer.message.max.bytes", "1000")
        .build()
        .unwrap();
    let streams = KafkaStreams::new(big_values("in", "out"), config).unwrap();
    streams.start().unwrap();
    assert!(
        streams.wait_for_state(StreamsState::Error, Duration::from_secs(60)),
        "state {:?}",
        streams.state()
    );
    let error = streams.error().expect("an error is reported");
    assert!(
        matches!(
            &*error,
            RuntimeError::Task { .. } | RuntimeError::Production { .. }
        ),
        "{error}"
    );
    assert!(error.to_string().contains("`out`"), "{error}");
    assert!(streams.close(Duration::from_secs(10)));
    assert_eq!(streams.state(), StreamsState::Error);
}

#[test]
fn production_failure_with_continue_drops_and_counts() {
    let kafka = EmbeddedKafka::start().unwrap();
    kafka.create_topic("in", 1).unwrap();
    kafka.create_topic("out", 1).unwrap();
    produce(
        kafka.bootstrap_servers(),
        "in",
        &[
            (Some("big".to_string()), vec![b'x'; 5000]),
            (Some("small".to_string()), b"ok".to_vec()),
        ],
    );
    let config = builder(&kafka, "too-big-continue")
        .set("producer.message.max.bytes", "1000")
        .set("production.exception.handler", "continue")
        .build()
        .unwrap();
    let streams = KafkaStreams::new(big_values("in", "out"), config).unwrap();
    streams.start().unwrap();
    let reader = Reader::new(kafka.bootstrap_servers(), "out");
    let mut out = Vec::new();
    assert!(reader.read_until(&mut out, Duration::from_secs(60), |r| !r.is_empty()));
    assert_eq!(out, vec![(b"small".to_vec(), b"ok".to_vec())]);
    assert!(eventually(Duration::from_secs(10), || {
        streams.metrics().threads[0].records_dropped == 1
    }));
    assert!(streams.state().is_running_or_rebalancing());
    assert!(streams.close(Duration::from_secs(240)));
}

/// Kafka Streams' default production handler: a retriable delivery error (too few in-sync
/// replicas, with librdkafka's own retries off) makes the thread's tasks start again from
/// their committed offsets and every record arrives; `fail` stops the application instead; a
/// handler written as code sees each failure and can drop the records.
#[test]
fn retriable_production_errors_are_retried_by_default() {
    use rdkafka::error::RDKafkaErrorCode;
    use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};
    use std::sync::atomic::{AtomicU64, Ordering};
    use streams::config::{ProductionFailure, ProductionHandler, ProductionResponse};

    let kafka = EmbeddedKafka::start().unwrap();
    kafka.create_topic("retry-in", 1).unwrap();
    kafka.create_topic("retry-out", 1).unwrap();
    produce(kafka.bootstrap_servers(), "retry-in", &numbered(10));
    let all = (0..10)
        .map(|i| format!("{i}"))
        .collect::<std::collections::BTreeSet<_>>();
    let not_enough_replicas = || {
        kafka
            .fail_requests(
                RDKafkaApiKey::Produce,
                &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS; 3],
            )
            .unwrap();
    };
    let config = |app: &str| {
        builder(&kafka, app)
            .set("producer.enable.idempotence", "false")
            .set("producer.retries", "0")
    };

    // The default: retried until delivered.
    not_enough_replicas();
    let streams = KafkaStreams::new(
        big_values("retry-in", "retry-out"),
        config("retry").build().unwrap(),
    )
    .unwrap();
    streams.start().unwrap();
    let reader = Reader::new(kafka.bootstrap_servers(), "retry-out");
    let mut out = Vec::new();
    assert!(
        reader.read_until(&mut out, Duration::from_secs(60), |r| seen_values(r) == all),
        "values {:?}, state {:?}, error {:?}",
        seen_values(&out),
        streams.state(),
        streams.error()
    );
    assert!(streams.metrics().threads[0].production_retries >= 1);
    assert_eq!(streams.state(), StreamsState::Running);
    assert!(streams.close(Duration::from_secs(60)));

    // `fail`: the application stops, naming the topic and the broker's error.
    not_enough_replicas();
    let failing = config("retry-fail")
        .production_handler(ProductionHandler::Fail)
        .build()
        .unwrap();
    let streams = KafkaStreams::new(big_values("retry-in", "retry-out"), failing).unwrap();
    streams.start().unwrap();
    assert!(streams.wait_for_state(StreamsState::Error, Duration::from_secs(60)));
    let error = streams.error().unwrap();
    match &*error {
        RuntimeError::Production { topic, source } => {
            assert_eq!(topic, "retry-out");
            assert_eq!(
                source.rdkafka_error_code(),
                Some(RDKafkaErrorCode::NotEnoughReplicas)
            );
        }
        other => panic!("{other}"),
    }
    let _ = streams.close(Duration::from_secs(10));

    // A handler as code: it sees the records and drops them.
    not_enough_replicas();
    let calls = Arc::new(AtomicU64::new(0));
    let seen = Arc::clone(&calls);
    let dropping = config("retry-drop")
        .production_exception_handler_with(move |failure: &ProductionFailure<'_>| {
            assert_eq!(failure.topic(), "retry-out");
            assert!(failure.is_retriable());
            assert!(failure.value().is_some());
            seen.fetch_add(1, Ordering::SeqCst);
            ProductionResponse::Continue
        })
        .build()
        .unwrap();
    let streams = KafkaStreams::new(big_values("retry-in", "retry-out"), dropping).unwrap();
    streams.start().unwrap();
    assert!(eventually(Duration::from_secs(60), || {
        let dropped = streams.metrics().threads[0].records_dropped;
        dropped > 0 && dropped == calls.load(Ordering::SeqCst)
    }));
    assert!(streams.state().is_running_or_rebalancing());
    assert!(streams.close(Duration::from_secs(60)));
}

fn sum(input: &str, output: &str) -> Topology {
    let mut b = TopologyBuilder::new();
    b.add_source("in", [input], Utf8, I64)
        .add_sink("out", output, Utf8, I64, ["in"]);
    b.build().unwrap()
}

#[test]
fn undecodable_records_fail_or_are_skipped_per_the_handler() {
    let kafka = EmbeddedKafka::start().unwrap();
    kafka.create_topic("nums", 1).unwrap();
    kafka.create_topic("out", 1).unwrap();
    produce(
        kafka.bootstrap_servers(),
        "nums",
        &[
            (Some("bad".to_string()), vec![1, 2, 3]),
            (Some("good".to_string()), 7i64.to_be_bytes().to_vec()),
        ],
    );

    let fail = KafkaStreams::new(
        sum("nums", "out"),
        builder(&kafka, "deser-fail").build().unwrap(),
    )
    .unwrap();
    fail.start().unwrap();
    assert!(fail.wait_for_state(StreamsState::Error, Duration::from_secs(60)));
    let error = fail.error().expect("error");
    assert!(
        error.to_string().contains("cannot decode the value"),
        "{error}"
    );

    let skip = KafkaStreams::new(
        sum("nums", "out"),
        builder(&kafka, "deser-continue")
            .set("deserialization.exception.handler", "log-and-continue")
            .build()
            .unwrap(),
    )
    .unwrap();
    skip.start().unwrap();
    let reader = Reader::new(kafka.bootstrap_servers(), "out");
    let mut out = Vec::new();
    assert!(reader.read_until(&mut out, Duration::from_secs(60), |r| !r.is_empty()));
    assert_eq!(out, vec![(b"good".to_vec(), 7i64.to_be_bytes().to_vec())]);
    assert!(eventually(Duration::from_secs(10), || {
        skip.metrics().threads[0].records_skipped == 1
    }));
    assert!(skip.close(Duration::from_secs(240)));
}

/// Interactive queries read the `counts` store across both stream threads
/// while the application processes, and answer mistakes and states with typed errors.
#[test]
fn interactive_queries_read_the_counts_while_processing() {
    let kafka = EmbeddedKafka::start().unwrap();
    let app = "iq-embedded";
    kafka.create_topic("iq-lines", 2).unwrap();
    kafka.create_topic("iq-counts", 2).unwrap();
    let config = builder(&kafka, app).num_stream_threads(2).build().unwrap();
    let streams = KafkaStreams::new(wordcount(app, "iq-lines", "iq-counts"), config).unwrap();

    // Mistakes are caught before start; states are checked on every query.
    let err = streams.store::<String, i64>("count").unwrap_err();
    assert!(
        matches!(&err, QueryError::UnknownStore { known, .. } if *known == ["counts"]),
        "{err}"
    );
    let err = streams.window_store::<String, i64>("counts").unwrap_err();
    assert!(matches!(err, QueryError::WrongType { .. }), "{err}");
    let counts = streams.store::<String, i64>("counts").unwrap();
    let err = counts.get(&"kafka".to_string()).unwrap_err();
    assert!(
        matches!(
            err,
            QueryError::NotRunning {
                state: StreamsState::Created
            }
        ),
        "{err}"
    );

    streams.start().unwrap();
    wait_running(&streams);
    let as_map = |entries: Vec<(String, i64)>| {
        let n = entries.len();
        let map: BTreeMap<String, i64> = entries.into_iter().collect();
        assert_eq!(map.len(), n, "a key is in one task only");
        map
    };
    let (records, expected) = lines(100);
    let (_, half) = lines(50);
    produce(kafka.bootstrap_servers(), "iq-lines", &records[..50]);
    query_until(
        Duration::from_secs(60),
        || counts.all().map(as_map),
        |m| *m == half,
    );
    produce(kafka.bootstrap_servers(), "iq-lines", &records[50..]);
    query_until(
        Duration::from_secs(60),
        || counts.all().map(as_map),
        |m| *m == expected,
    );

    for (word, n) in &expected {
        assert_eq!(counts.get(word).unwrap(), Some(*n), "{word}");
    }
    assert_eq!(counts.get(&"absent".to_string()).unwrap(), None);
    let ranged = as_map(
        counts
            .range(&"commit".to_string(), &"rust".to_string())
            .unwrap(),
    );
    let in_range: BTreeMap<String, i64> = expected
        .range("commit".to_string()..="rust".to_string())
        .map(|(k, v)| (k.clone(), *v))
        .collect();
    assert_eq!(ranged, in_range);
    assert_eq!(
        counts.approximate_num_entries().unwrap(),
        expected.len() as u64
    );
    // Key or value types other than declared: reported by the first query, not retryable.
    let err = streams
        .store::<String, String>("counts")
        .unwrap()
        .all()
        .unwrap_err();
    assert!(
        matches!(err, QueryError::WrongType { .. }) && !err.is_retryable(),
        "{err}"
    );

    assert!(streams.close(Duration::from_secs(240)));
    let err = counts.all().unwrap_err();
    assert!(
        matches!(
            err,
            QueryError::NotRunning {
                state: StreamsState::NotRunning
            }
        ),
        "{err}"
    );
}

/// Event time from the value: `"<event time>:<payload>"`.
struct EventTime;

impl streams::timestamp::TimestampExtractor<String, String> for EventTime {
    fn extract(&self, _key: &String, value: &String, record: i64, _partition_time: i64) -> i64 {
        value
            .split(':')
            .next()
            .and_then(|t| t.parse().ok())
            .unwrap_or(record)
    }
}

/// A task reading two topics picks the record with the lowest *extracted* timestamp next,
/// as Kafka Streams' partition group does — here the Kafka timestamps say the opposite.
#[test]
fn merged_inputs_are_processed_in_extracted_timestamp_order() {
    use rdkafka::config::ClientConfig;
    use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
    use streams::topology::SourceSpec;

    let kafka = EmbeddedKafka::start().unwrap();
    for topic in ["early", "late", "merged"] {
        kafka.create_topic(topic, 1).unwrap();
    }
    // (topic, Kafka timestamp, event time): Kafka time puts `late` first, event time
    // interleaves them.
    let records = [
        ("early", 5_000, 10),
        ("early", 6_000, 30),
        ("late", 1_000, 20),
        ("late", 2_000, 40),
    ];
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", kafka.bootstrap_servers())
        .create()
        .unwrap();
    for (topic, kafka_ts, event) in records {
        let value = format!("{event}:{topic}");
        producer
            .send(
                BaseRecord::to(topic)
                    .key("k")
                    .payload(&value)
                    .timestamp(kafka_ts),
            )
            .map_err(|(e, _)| e)
            .unwrap();
    }
    producer.flush(Duration::from_secs(30)).unwrap();

    let mut b = TopologyBuilder::new();
    b.add_source_spec(
        SourceSpec::new("early-source", ["early"], Utf8, Utf8).timestamp_extractor(EventTime),
    )
    .add_source_spec(
        SourceSpec::new("late-source", ["late"], Utf8, Utf8).timestamp_extractor(EventTime),
    )
    .add_sink("out", "merged", Utf8, Utf8, ["early-source", "late-source"]);
    let config = builder(&kafka, "merge-order")
        .max_task_idle_ms(2_000)
        .build()
        .unwrap();
    let streams = KafkaStreams::new(b.build().unwrap(), config).unwrap();
    streams.start().unwrap();
    let mut out = Vec::new();
    let done = Reader::new(kafka.bootstrap_servers(), "merged").read_until(
        &mut out,
        Duration::from_secs(60),
        |o| o.len() >= 4,
    );
    assert!(streams.close(Duration::from_secs(240)));
    assert!(done, "got {out:?}, error {:?}", streams.error());
    let order: Vec<String> = out
        .iter()
        .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
        .collect();
    assert_eq!(order, ["10:early", "20:late", "30:early", "40:late"]);
}

/// Counts per key in a cached store; forwards each key's count from the cache flush, on
/// commit (`Processor::on_commit`).
#[derive(Default)]
struct CachedCount {
    counts: Option<streams::state::KeyValueStore<String, i64>>,
    flushed: std::rc::Rc<std::cell::RefCell<Vec<(String, i64)>>>,
}

impl streams::processor::Processor for CachedCount {
    type KIn = String;
    type VIn = String;
    type KOut = String;
    type VOut = i64;

    fn init(
        &mut self,
        ctx: &mut streams::processor::ProcessorContext<'_, String, i64>,
    ) -> Result<(), streams::error::ProcessorError> {
        let counts: streams::state::KeyValueStore<String, i64> = ctx.key_value_store("counts")?;
        let flushed = std::rc::Rc::clone(&self.flushed);
        counts.set_cache_flush_listener(move |entry| {
            if let Some(count) = entry.new_value {
                flushed.borrow_mut().push((entry.key, count));
            }
            Ok(())
        });
        self.counts = Some(counts);
        Ok(())
    }

    fn process(
        &mut self,
        r: streams::record::Record<String, String>,
        _ctx: &mut streams::processor::ProcessorContext<'_, String, i64>,
    ) -> Result<(), streams::error::ProcessorError> {
        let counts = self
            .counts
            .as_ref()
            .ok_or_else(|| streams::error::ProcessorError::msg("no store"))?;
        let n = counts.get(&r.key)?.unwrap_or(0) + 1;
        counts.put(&r.key, &n)?;
        Ok(())
    }

    fn on_commit(
        &mut self,
        ctx: &mut streams::processor::ProcessorContext<'_, String, i64>,
    ) -> Result<(), streams::error::ProcessorError> {
        let now = ctx.current_stream_time();
        for (key, count) in self.flushed.borrow_mut().drain(..) {
            ctx.forward(streams::record::Record::new(key, count, now))?;
        }
        Ok(())
    }
}

/// With caching on, an aggregate emits at most once per key per commit: 300 records of 3 keys
/// processed between two commits give 3 output records.
#[test]
fn cached_aggregate_emits_once_per_key_per_commit() {
    let kafka = EmbeddedKafka::start().unwrap();
    kafka.create_topic("clicks", 1).unwrap();
    kafka.create_topic("click-counts", 1).unwrap();
    let records: Vec<(Option<String>, Vec<u8>)> = (0..300)
        .map(|i| (Some(format!("user-{}", i % 3)), b"click".to_vec()))
        .collect();
    produce(kafka.bootstrap_servers(), "clicks", &records);

    let mut b = TopologyBuilder::new();
    b.add_source("in", ["clicks"], Utf8, Utf8)
        .add_processor("count", CachedCount::default, ["in"])
        .add_state_store(
            streams::state::Stores::in_memory_key_value("counts", Utf8, I64).with_caching_enabled(),
            ["count"],
        )
        .add_sink("out", "click-counts", Utf8, I64, ["count"]);
    let config = builder(&kafka, "cached-count")
        .commit_interval(Duration::from_secs(3600))
        .build()
        .unwrap();
    let streams = KafkaStreams::new(b.build().unwrap(), config).unwrap();
    streams.start().unwrap();
    let processed = eventually(Duration::from_secs(60), || {
        streams
            .metrics()
            .threads
            .iter()
            .map(|t| t.records_processed)
            .sum::<u64>()
            >= 300
    });
    assert!(processed, "not all processed; error {:?}", streams.error());
    // Nothing was committed yet, so nothing was emitted; closing commits.
    assert!(streams.close(Duration::from_secs(240)));
    let mut out = Vec::new();
    Reader::new(kafka.bootstrap_servers(), "click-counts").read_until(
        &mut out,
        Duration::from_secs(10),
        |o| o.len() >= 4,
    );
    let emitted: BTreeMap<String, i64> = out
        .iter()
        .map(|(k, v)| {
            (
                String::from_utf8_lossy(k).into_owned(),
                streams::codec::Codec::decode(&I64, v).unwrap(),
            )
        })
        .collect();
    assert_eq!(out.len(), 3, "one record per key: {emitted:?}");
    assert_eq!(
        emitted,
        BTreeMap::from([
            ("user-0".to_string(), 100),
            ("user-1".to_string(), 100),
            ("user-2".to_string(), 100)
        ])
    );
}

/// `to_partitioned`: every record lands in the partition the partitioner picks; a partition
/// the topic does not have stops the application with a typed error naming it.
#[test]
fn a_stream_partitioner_picks_each_records_partition() {
    use rdkafka::Message;
    use rdkafka::consumer::{BaseConsumer, Consumer};
    use streams::dsl::{Produced, StreamsBuilder};

    let kafka = EmbeddedKafka::start().unwrap();
    kafka.create_topic("amounts", 1).unwrap();
    kafka.create_topic("amounts-by-size", 4).unwrap();
    let records: Records = (0..20)
        .map(|i| (Some(format!("k{i}")), format!("{}", i * 100).into_bytes()))
        .collect();
    produce(kafka.bootstrap_servers(), "amounts", &records);

    let program = StreamsBuilder::new();
    program
        .stream::<String, String>("amounts")
        .map_values(|v| v.parse::<i64>().unwrap_or(0))
        .to_partitioned(
            "amounts-by-size",
            Produced::new(),
            |_topic: &str, _k: &String, amount: &i64, partitions: i32| {
                Some(if *amount >= 1_000 { partitions - 1 } else { 0 })
            },
        );
    let config = builder(&kafka, "partitioner").build().unwrap();
    let streams = KafkaStreams::new(program.build().unwrap(), config).unwrap();
    streams.start().unwrap();
    wait_running(&streams);

    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", kafka.bootstrap_servers())
        .set("group.id", "partitioner-reader")
        .set("auto.offset.reset", "earliest")
        .create()
        .unwrap();
    consumer.subscribe(&["amounts-by-size"]).unwrap();
    let mut seen: BTreeMap<i64, i32> = BTreeMap::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while seen.len() < 20 && std::time::Instant::now() < deadline {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(100)) {
            let amount = i64::from_be_bytes(m.payload().unwrap().try_into().unwrap());
            seen.insert(amount, m.partition());
        }
    }
    assert_eq!(seen.len(), 20, "every record read back: {seen:?}");
    for (amount, partition) in &seen {
        assert_eq!(*partition, if *amount >= 1_000 { 3 } else { 0 }, "{amount}");
    }
    assert!(streams.close(Duration::from_secs(60)));

    // A partition out of range is a typed error, not a panic or a silent default.
    let program = StreamsBuilder::new();
    program.stream::<String, String>("amounts").to_partitioned(
        "amounts-by-size",
        Produced::new(),
        |_t: &str, _k: &String, _v: &String, n: i32| Some(n),
    );
    let config = builder(&kafka, "partitioner-out-of-range").build().unwrap();
    let streams = KafkaStreams::new(program.build().unwrap(), config).unwrap();
    streams.start().unwrap();
    assert!(eventually(Duration::from_secs(60), || streams.state()
        == StreamsState::Error));
    let error = streams.error().expect("the error").to_string();
    assert!(
        error.contains("partition 4 of topic `amounts-by-size`, which has 4 partitions"),
        "{error}"
    );
    let _ = streams.close(Duration::from_secs(30));
    let _ = (I64, Utf8);
}

/// Kafka Streams' uncaught exception handler (KIP-671): a thread whose processor fails once is
/// replaced and the application goes on; without a handler the client shuts down in `Error`
/// and tells its state listener.
#[test]
fn a_failed_thread_is_replaced_or_shuts_the_client_down() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use streams::dsl::StreamsBuilder;
    use streams::error::ProcessorError;
    use streams::processor::{Processor, ProcessorContext};
    use streams::record::Record;
    use streams::runtime::StreamThreadExceptionResponse;

    /// Fails on the first record it sees after `armed` is set, then passes records on.
    struct FailOnce(Arc<AtomicBool>);
    impl Processor for FailOnce {
        type KIn = String;
        type VIn = String;
        type KOut = String;
        type VOut = String;
        fn process(
            &mut self,
            r: Record<String, String>,
            ctx: &mut ProcessorContext<'_, String, String>,
        ) -> Result<(), ProcessorError> {
            if self.0.swap(false, Ordering::SeqCst) {
                return Err(ProcessorError::msg("a transient failure"));
            }
            ctx.forward(r)
        }
    }
    let program = |armed: &Arc<AtomicBool>, input: &str, output: &str| {
        let builder = StreamsBuilder::new();
        let armed = Arc::clone(armed);
        builder
            .stream::<String, String>(input)
            .process(move || FailOnce(Arc::clone(&armed)), &[])
            .to(output);
        builder.build().unwrap()
    };

    let kafka = EmbeddedKafka::start().unwrap();
    kafka.create_topic("replace-in", 1).unwrap();
    kafka.create_topic("replace-out", 1).unwrap();
    produce(kafka.bootstrap_servers(), "replace-in", &numbered(10));

    // ReplaceThread: the thread starts over and every record gets through.
    let armed = Arc::new(AtomicBool::new(true));
    let config = builder(&kafka, "replace").build().unwrap();
    let streams = KafkaStreams::new(program(&armed, "replace-in", "replace-out"), config).unwrap();
    let replaced = Arc::new(AtomicBool::new(false));
    let seen = Arc::clone(&replaced);
    streams
        .set_uncaught_exception_handler(move |_error| {
            seen.store(true, Ordering::SeqCst);
            StreamThreadExceptionResponse::ReplaceThread
        })
        .unwrap();
    streams.start().unwrap();
    let reader = Reader::new(kafka.bootstrap_servers(), "replace-out");
    let mut out = Vec::new();
    let all = (0..10)
        .map(|i| format!("{i}"))
        .collect::<std::collections::BTreeSet<_>>();
    assert!(
        reader.read_until(&mut out, Duration::from_secs(60), |r| seen_values(r) == all),
        "values {:?}, state {:?}, error {:?}",
        seen_values(&out),
        streams.state(),
        streams.error()
    );
    assert!(replaced.load(Ordering::SeqCst), "the handler was asked");
    assert_eq!(streams.state(), StreamsState::Running);
    assert!(streams.close(Duration::from_secs(60)));

    // No handler: the client shuts down in Error and the listener hears it.
    let armed = Arc::new(AtomicBool::new(true));
    let config = builder(&kafka, "shutdown-client").build().unwrap();
    let streams = KafkaStreams::new(program(&armed, "replace-in", "replace-out"), config).unwrap();
    let states = Arc::new(Mutex::new(Vec::new()));
    let heard = Arc::clone(&states);
    streams
        .set_state_listener(move |new, _old| heard.lock().unwrap().push(new))
        .unwrap();
    streams.start().unwrap();
    assert!(eventually(Duration::from_secs(60), || streams.state()
        == StreamsState::Error));
    assert!(states.lock().unwrap().contains(&StreamsState::Error));
    assert!(
        streams
            .error()
            .unwrap()
            .to_string()
            .contains("a transient failure"),
        "{:?}",
        streams.error()
    );
    let _ = streams.close(Duration::from_secs(30));
}

/// `ShutdownApplication` (KIP-671): the instance whose thread fails asks every instance of the
/// application to shut down; both end in `Error`, the other one saying who asked. An instance
/// started afterwards is not concerned by the old request.
#[test]
fn shutdown_application_stops_every_instance() {
    let kafka = EmbeddedKafka::start().unwrap();
    kafka.create_topic("shutdown-in", 2).unwrap();
    kafka.create_topic("shutdown-out", 2).unwrap();
    shutdown_application(
        kafka.bootstrap_servers(),
        "shutdown-app",
        "shutdown-in",
        "shutdown-out",
    );
}

/// Two instances of `app` read `input` (2 partitions); a poison pill fails one, whose handler
/// answers `ShutdownApplication`: both end in `Error`. A third one started afterwards runs.
pub(super) fn shutdown_application(bootstrap: &str, app: &str, input: &str, output: &str) {
    use std::sync::atomic::{AtomicBool, Ordering};
    use streams::dsl::StreamsBuilder;
    use streams::runtime::StreamThreadExceptionResponse;

    // Fails on `poison` while `armed`.
    let program = |armed: &Arc<AtomicBool>| {
        let builder = StreamsBuilder::new();
        let armed = Arc::clone(armed);
        builder
            .stream::<String, String>(input)
            .peek(move |_, v| {
                assert!(
                    !(armed.load(Ordering::SeqCst) && v == "poison"),
                    "a poison pill"
                );
            })
            .to(output);
        builder.build().unwrap()
    };
    let instance = |armed: &Arc<AtomicBool>| {
        let config = StreamsConfig::builder()
            .application_id(app)
            .bootstrap_servers(bootstrap)
            .commit_interval(Duration::from_millis(100))
            .build()
            .unwrap();
        let streams = KafkaStreams::new(program(armed), config).unwrap();
        streams
            .set_uncaught_exception_handler(|_| StreamThreadExceptionResponse::ShutdownApplication)
            .unwrap();
        streams.start().unwrap();
        streams
    };
    let armed = Arc::new(AtomicBool::new(true));
    let a = instance(&armed);
    let b = instance(&armed);
    wait_running(&a);
    wait_running(&b);
    // Wait until both have tasks, so the pill fails one of them and the other is asked.
    assert!(eventually(Duration::from_secs(60), || {
        [&a, &b].iter().all(|s| {
            s.metrics().threads.iter().any(|t| !t.tasks.is_empty())
                && s.state() == StreamsState::Running
        })
    }));
    produce(
        bootstrap,
        input,
        &[(Some("k".to_string()), b"poison".to_vec())],
    );
    for s in [&a, &b] {
        assert!(
            s.wait_for_state(StreamsState::Error, Duration::from_secs(60)),
            "{:?}",
            s.state()
        );
    }
    let errors = [a.error().unwrap(), b.error().unwrap()];
    let asked = errors
        .iter()
        .filter(|e| matches!(&***e, RuntimeError::ShutdownRequested { .. }))
        .count();
    assert_eq!(asked, 1, "{errors:?}");
    let requested = errors
        .iter()
        .find_map(|e| match &**e {
            RuntimeError::ShutdownRequested {
                requested_by,
                message,
            } => Some((requested_by.clone(), message.clone())),
            _ => None,
        })
        .unwrap();
    assert!(requested.0.contains("StreamThread"), "{requested:?}");
    assert!(requested.1.contains("a poison pill"), "{requested:?}");
    assert!(a.close(Duration::from_secs(30)));
    assert!(b.close(Duration::from_secs(30)));

    // A new instance reads past the pill (disarmed) and is not stopped by the old request.
    let c = instance(&Arc::new(AtomicBool::new(false)));
    wait_running(&c);
    let reader = Reader::new(bootstrap, output);
    let mut out = Vec::new();
    assert!(reader.read_until(&mut out, Duration::from_secs(60), |r| !r.is_empty()));
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(c.state(), StreamsState::Running, "{:?}", c.error());
    assert!(c.close(Duration::from_secs(30)));
}

/// The distinct values of output records, as strings.
fn seen_values(records: &[(Vec<u8>, Vec<u8>)]) -> std::collections::BTreeSet<String> {
    records
        .iter()
        .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
        .collect()
}

/// A deserialization exception handler written as code: it sees the failing record's error
/// (topic, partition, offset) and lets processing go on.
#[test]
fn a_user_exception_handler_decides_per_record() {
    use std::sync::atomic::{AtomicU64, Ordering};
    use streams::config::HandlerResponse;
    use streams::dsl::{Consumed, Produced, StreamsBuilder};
    use streams::error::StreamsError;

    let kafka = EmbeddedKafka::start().unwrap();
    kafka.create_topic("handled-in", 1).unwrap();
    kafka.create_topic("handled-out", 1).unwrap();
    let records: Records = (0..10)
        .map(|i: i64| {
            let value = if i == 4 {
                vec![9]
            } else {
                i.to_be_bytes().to_vec()
            };
            (Some(format!("k{i}")), value)
        })
        .collect();
    produce(kafka.bootstrap_servers(), "handled-in", &records);

    let builder = StreamsBuilder::new();
    builder
        .stream_with::<String, i64, _, _>("handled-in", Consumed::with(Utf8, I64))
        .to_with("handled-out", Produced::with(Utf8, I64));
    let calls = Arc::new(AtomicU64::new(0));
    let seen = Arc::clone(&calls);
    let config = StreamsConfig::builder()
        .application_id("user-handler")
        .bootstrap_servers(kafka.bootstrap_servers())
        .commit_interval(Duration::from_millis(100))
        .deserialization_exception_handler_with(move |error: &StreamsError| {
            if let StreamsError::Deserialization { metadata, .. } = error {
                assert_eq!(metadata.offset, 4);
                seen.fetch_add(1, Ordering::SeqCst);
            }
            HandlerResponse::Continue
        })
        .build()
        .unwrap();
    let streams = KafkaStreams::new(builder.build().unwrap(), config).unwrap();
    streams.start().unwrap();
    wait_running(&streams);
    let reader = Reader::new(kafka.bootstrap_servers(), "handled-out");
    let mut out = Vec::new();
    assert!(
        reader.read_until(&mut out, Duration::from_secs(60), |r| r.len() >= 9),
        "{} records, error {:?}",
        out.len(),
        streams.error()
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(streams.state(), StreamsState::Running);
    assert!(streams.close(Duration::from_secs(60)));
}
