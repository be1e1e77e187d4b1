//! Interactive queries against stand-in stream threads: real stores and a real `KafkaStreams`
//! handle, no broker (the embedded and real-broker tests cover the step loop).

use std::sync::Arc;
use std::time::Duration;

use crate::codec::{Codec, CodecError, I64, Utf8};
use crate::config::StreamsConfig;
use crate::error::ProcessorError;
use crate::processor::{Processor, ProcessorContext, TaskId};
use crate::record::Record;
use crate::runtime::KafkaStreams;
use crate::runtime::state::Shared;
use crate::state::{
    KeyValueStore, RecordCache, RestoreRecord, SessionStore, StoreBuilder, StoreContext,
    StoreRegistry, Stores, TimestampedKeyValueStore, ValueAndTimestamp, Window, WindowStore,
    Windowed,
};
use crate::topology::TopologyBuilder;

use super::*;

struct Nop;

impl Processor for Nop {
    type KIn = String;
    type VIn = i64;
    type KOut = String;
    type VOut = i64;

    fn process(
        &mut self,
        _record: Record<String, i64>,
        _ctx: &mut ProcessorContext<'_, String, i64>,
    ) -> Result<(), ProcessorError> {
        Ok(())
    }
}

/// An `i64` codec whose decode panics (a buggy user codec).
#[derive(Clone, Copy)]
struct Explosive;

impl Codec<i64> for Explosive {
    fn encode(&self, value: &i64, buf: &mut Vec<u8>) -> Result<(), CodecError> {
        I64.encode(value, buf)
    }

    fn decode(&self, _bytes: &[u8]) -> Result<i64, CodecError> {
        panic!("boom")
    }
}

/// An application with stores `counts` (key-value), `table` (timestamped), `clicks` (window),
/// `timed-clicks` (timestamped window),
/// `sessions` and `explosive`, not started: the tests set its state by hand.
fn streams() -> KafkaStreams {
    let mut b = TopologyBuilder::new();
    b.add_source("in", ["input"], Utf8, I64)
        .add_processor("nop", || Nop, ["in"])
        .add_state_store(Stores::in_memory_key_value("counts", Utf8, I64), ["nop"])
        .add_state_store(
            Stores::in_memory_timestamped_key_value("table", Utf8, I64),
            ["nop"],
        )
        .add_state_store(
            Stores::in_memory_window_store(
                "clicks",
                Duration::from_secs(3600),
                Duration::from_secs(60),
                Utf8,
                I64,
            ),
            ["nop"],
        )
        .add_state_store(
            Stores::in_memory_timestamped_window_store(
                "timed-clicks",
                Duration::from_secs(3600),
                Duration::from_secs(60),
                Utf8,
                I64,
            ),
            ["nop"],
        )
        .add_state_store(
            Stores::in_memory_session_store("sessions", Duration::from_secs(3600), Utf8, I64),
            ["nop"],
        )
        .add_state_store(
            Stores::in_memory_key_value("explosive", Utf8, Explosive),
            ["nop"],
        );
    let config = StreamsConfig::builder()
        .application_id("iq-unit")
        .bootstrap_servers("localhost:1")
        .build()
        .unwrap();
    let streams = KafkaStreams::new(b.build().unwrap(), config).unwrap();
    set_state(&streams.queries.shared, StreamsState::Rebalancing);
    set_state(&streams.queries.shared, StreamsState::Running);
    streams
}

fn set_state(shared: &Shared, state: StreamsState) {
    shared.update(|inner| inner.state = state);
}

fn task(subtopology: u32, partition: i32) -> TaskId {
    TaskId {
        subtopology,
        partition,
    }
}

/// A task's stores, filled with `counts` entries and one entry of every other store.
struct FakeTask {
    id: TaskId,
    stores: StoreRegistry,
    restoring: bool,
}

fn fake_task(id: TaskId, counts: &[(&str, i64)]) -> FakeTask {
    let ctx = StoreContext::new(id, "iq-unit", std::env::temp_dir());
    let mut stores = StoreRegistry::default();
    let built = Stores::in_memory_key_value("counts", Utf8, I64)
        .build(&ctx)
        .unwrap();
    let kv: KeyValueStore<String, i64> = built.handle().unwrap();
    for (k, v) in counts {
        kv.put(&(*k).to_string(), v).unwrap();
    }
    stores.insert("counts".into(), built);

    let built = Stores::in_memory_timestamped_key_value("table", Utf8, I64)
        .build(&ctx)
        .unwrap();
    let table: TimestampedKeyValueStore<String, i64> = built.handle().unwrap();
    table
        .put(
            &format!("t{}", id.partition),
            &ValueAndTimestamp::make(7, 1_000),
        )
        .unwrap();
    stores.insert("table".into(), built);

    let built = Stores::in_memory_window_store(
        "clicks",
        Duration::from_secs(3600),
        Duration::from_secs(60),
        Utf8,
        I64,
    )
    .build(&ctx)
    .unwrap();
    let clicks: WindowStore<String, i64> = built.handle().unwrap();
    let key = format!("w{}", id.partition);
    clicks.put(&key, &1, 0).unwrap();
    clicks.put(&key, &2, 60_000).unwrap();
    stores.insert("clicks".into(), built);

    let built = Stores::in_memory_timestamped_window_store(
        "timed-clicks",
        Duration::from_secs(3600),
        Duration::from_secs(60),
        Utf8,
        I64,
    )
    .build(&ctx)
    .unwrap();
    let timed: WindowStore<String, ValueAndTimestamp<i64>> = built.handle().unwrap();
    timed
        .put(&key, &ValueAndTimestamp::make(5, 59_000), 0)
        .unwrap();
    stores.insert("timed-clicks".into(), built);

    let built = Stores::in_memory_session_store("sessions", Duration::from_secs(3600), Utf8, I64)
        .build(&ctx)
        .unwrap();
    let sessions: SessionStore<String, i64> = built.handle().unwrap();
    sessions.put(&session(id.partition), &3).unwrap();
    stores.insert("sessions".into(), built);

    let built = Stores::in_memory_key_value("explosive", Utf8, Explosive)
        .build(&ctx)
        .unwrap();
    let explosive: KeyValueStore<String, i64> = built.handle().unwrap();
    explosive.put(&"x".to_string(), &1).unwrap();
    stores.insert("explosive".into(), built);
    FakeTask {
        id,
        stores,
        restoring: false,
    }
}

fn session(partition: i32) -> Windowed<String> {
    Windowed {
        key: format!("s{partition}"),
        window: Window {
            start_ms: 10,
            end_ms: 20,
        },
    }
}

/// A stream thread stand-in: builds its tasks, then answers every query (after `before`) until
/// the application is dropped.
fn fake_thread(
    streams: &KafkaStreams,
    build: impl FnOnce() -> Vec<FakeTask> + Send + 'static,
    before: impl Fn() + Send + 'static,
) {
    let jobs = streams.queries.add_thread();
    std::thread::spawn(move || {
        let tasks = build();
        let views: Vec<TaskView<'_>> = tasks
            .iter()
            .map(|t| TaskView {
                id: t.id,
                stores: &t.stores,
                restoring: t.restoring,
            })
            .collect();
        while let Ok(job) = jobs.recv() {
            before();
            job(&views);
        }
    });
}

/// Two threads: one with task 0_1, one with tasks 0_0 and 1_0 (1_0 without the stores).
fn two_threads(streams: &KafkaStreams) {
    fake_thread(
        streams,
        || vec![fake_task(task(0, 1), &[("b", 2), ("d", 4)])],
        || {},
    );
    fake_thread(
        streams,
        || {
            vec![
                fake_task(task(0, 0), &[("a", 1), ("c", 3)]),
                FakeTask {
                    id: task(1, 0),
                    stores: StoreRegistry::default(),
                    restoring: false,
                },
            ]
        },
        || {},
    );
}

fn pairs(entries: &[(&str, i64)]) -> Vec<(String, i64)> {
    entries
        .iter()
        .map(|(k, v)| ((*k).to_string(), *v))
        .collect()
}

#[test]
fn key_value_queries_merge_the_threads_answers_in_task_order() {
    let streams = streams();
    two_threads(&streams);
    let counts = streams.store::<String, i64>("counts").unwrap();
    assert_eq!(counts.name(), "counts");
    // A handle is Send + Sync: it can serve queries from another thread.
    let clone = counts.clone();
    let remote = std::thread::spawn(move || clone.get(&"c".to_string()).unwrap());
    assert_eq!(remote.join().unwrap(), Some(3));
    assert_eq!(counts.get(&"a".to_string()).unwrap(), Some(1));
    assert_eq!(counts.get(&"d".to_string()).unwrap(), Some(4));
    assert_eq!(counts.get(&"z".to_string()).unwrap(), None);
    // Per task (0_0, then 0_1), ordered within each.
    assert_eq!(
        counts.all().unwrap(),
        pairs(&[("a", 1), ("c", 3), ("b", 2), ("d", 4)])
    );
    assert_eq!(
        counts.reverse_all().unwrap(),
        pairs(&[("c", 3), ("a", 1), ("d", 4), ("b", 2)])
    );
    assert_eq!(
        counts.range(&"b".to_string(), &"c".to_string()).unwrap(),
        pairs(&[("c", 3), ("b", 2)])
    );
    assert_eq!(
        counts
            .reverse_range(&"a".to_string(), &"b".to_string())
            .unwrap(),
        pairs(&[("a", 1), ("b", 2)])
    );
    assert_eq!(counts.approximate_num_entries().unwrap(), 4);
}

#[test]
fn timestamped_stores_read_with_or_without_timestamps() {
    let streams = streams();
    two_threads(&streams);
    let table = streams.timestamped_store::<String, i64>("table").unwrap();
    assert_eq!(
        table.get(&"t1".to_string()).unwrap(),
        Some(ValueAndTimestamp::make(7, 1_000))
    );
    let plain = streams.store::<String, i64>("table").unwrap();
    assert_eq!(plain.all().unwrap(), pairs(&[("t0", 7), ("t1", 7)]));
    let err = streams
        .timestamped_store::<String, i64>("counts")
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "state store `counts` is a key-value store, not a timestamped key-value store of \
         (String, i64)"
    );
}

#[test]
fn window_and_session_queries() {
    let streams = streams();
    two_threads(&streams);
    let clicks = streams.window_store::<String, i64>("clicks").unwrap();
    let w1 = "w1".to_string();
    assert_eq!(clicks.fetch(&w1, 0, 60_000).unwrap(), [(0, 1), (60_000, 2)]);
    assert_eq!(
        clicks.backward_fetch(&w1, 0, 60_000).unwrap(),
        [(60_000, 2), (0, 1)]
    );
    assert_eq!(clicks.fetch_one(&w1, 60_000).unwrap(), Some(2));
    assert_eq!(clicks.fetch_one(&w1, 120_000).unwrap(), None);
    let starts: Vec<(String, i64)> = clicks
        .fetch_all(60_000, 60_000)
        .unwrap()
        .into_iter()
        .map(|(w, v)| (w.key, v))
        .collect();
    assert_eq!(starts, pairs(&[("w0", 2), ("w1", 2)]));
    assert_eq!(clicks.all().unwrap().len(), 4);
    let ranged = clicks
        .fetch_key_range(&"w1".to_string(), &"w9".to_string(), 0, 0)
        .unwrap();
    assert_eq!(ranged.len(), 1);
    assert_eq!(ranged[0].0.window.end_ms, 60_000);

    // A windowed aggregation's timestamped window store reads as plain values (Kafka Streams'
    // `windowStore()` query type), or with the timestamps.
    let timed = streams.window_store::<String, i64>("timed-clicks").unwrap();
    assert_eq!(timed.fetch(&w1, 0, 60_000).unwrap(), [(0, 5)]);
    assert_eq!(timed.fetch_one(&w1, 0).unwrap(), Some(5));
    assert_eq!(timed.all().unwrap().len(), 2);
    let with_time = streams
        .window_store::<String, ValueAndTimestamp<i64>>("timed-clicks")
        .unwrap();
    assert_eq!(
        with_time.fetch_one(&w1, 0).unwrap(),
        Some(ValueAndTimestamp::make(5, 59_000))
    );

    let sessions = streams.session_store::<String, i64>("sessions").unwrap();
    assert_eq!(
        sessions.fetch(&"s0".to_string()).unwrap(),
        [(session(0), 3)]
    );
    assert_eq!(
        sessions.find_sessions(&"s0".to_string(), 21, 100).unwrap(),
        []
    );
    assert_eq!(
        sessions
            .fetch_session(&"s1".to_string(), session(1).window)
            .unwrap(),
        Some(3)
    );
}

#[test]
fn mistakes_are_reported_and_not_retryable() {
    let streams = streams();
    two_threads(&streams);
    let err = streams.store::<String, i64>("count").unwrap_err();
    assert_eq!(
        err.to_string(),
        "no state store named `count` in the topology (stores: `counts`, `table`, `clicks`, \
         `timed-clicks`, `sessions`, `explosive`)"
    );
    assert!(!err.is_retryable());
    let err = streams.window_store::<String, i64>("counts").unwrap_err();
    assert!(
        matches!(&err, QueryError::WrongType { found, .. } if found == "key-value store"),
        "{err}"
    );
    // Types are checked on the stream threads, by the first query.
    let wrong = streams.store::<String, String>("counts").unwrap();
    let err = wrong.all().unwrap_err();
    assert_eq!(
        err.to_string(),
        "state store `counts` is a key-value store with other key or value types, not a \
         key-value store of (String, String)"
    );
    assert!(!err.is_retryable());
}

#[test]
fn not_running_or_not_ready_states_answer_typed_errors() {
    let streams = streams();
    let counts = streams.store::<String, i64>("counts").unwrap();
    // No thread hosts the store.
    let err = counts.all().unwrap_err();
    assert!(
        matches!(
            err,
            QueryError::StoreNotReady {
                reason: NotReadyReason::NotHosted,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.is_retryable());

    let restoring = task(0, 3);
    fake_thread(
        &streams,
        move || {
            let mut t = fake_task(restoring, &[("r", 1)]);
            t.restoring = true;
            vec![t]
        },
        || {},
    );
    let err = counts.get(&"r".to_string()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "state store `counts` is not ready for queries: task 0_3 is restoring it from its \
         changelog; retry later"
    );
    assert!(err.is_retryable());

    set_state(&streams.queries.shared, StreamsState::Rebalancing);
    let err = counts.get(&"r".to_string()).unwrap_err();
    assert!(
        matches!(
            err,
            QueryError::StoreNotReady {
                reason: NotReadyReason::Rebalancing,
                ..
            }
        ),
        "{err}"
    );
    set_state(&streams.queries.shared, StreamsState::PendingShutdown);
    let err = counts.get(&"r".to_string()).unwrap_err();
    assert!(
        matches!(
            err,
            QueryError::NotRunning {
                state: StreamsState::PendingShutdown
            }
        ),
        "{err}"
    );
    assert!(!err.is_retryable());
}

#[test]
fn created_applications_are_not_running() {
    let streams = KafkaStreams::new(
        {
            let mut b = TopologyBuilder::new();
            b.add_source("in", ["input"], Utf8, I64)
                .add_processor("nop", || Nop, ["in"])
                .add_state_store(Stores::in_memory_key_value("counts", Utf8, I64), ["nop"]);
            b.build().unwrap()
        },
        StreamsConfig::builder()
            .application_id("iq-created")
            .bootstrap_servers("localhost:1")
            .build()
            .unwrap(),
    )
    .unwrap();
    let err = streams
        .store::<String, i64>("counts")
        .unwrap()
        .all()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "the application is not started (state Created): call start() before querying"
    );
}

#[test]
fn a_thread_that_does_not_answer_times_out() {
    let streams = streams();
    two_threads(&streams);
    let silent = streams.queries.add_thread();
    let counts = streams
        .store::<String, i64>("counts")
        .unwrap()
        .with_timeout(Duration::from_millis(200));
    let start = std::time::Instant::now();
    let err = counts.all().unwrap_err();
    assert!(matches!(err, QueryError::Timeout { .. }), "{err}");
    assert!(err.is_retryable());
    assert!(start.elapsed() < Duration::from_secs(2));
    // A thread that stopped (its receiver gone) does not count.
    drop(silent);
    assert_eq!(counts.all().unwrap().len(), 4);
}

#[test]
fn tasks_moving_during_a_query_void_its_answer() {
    let streams = streams();
    let shared = Arc::clone(&streams.queries.shared);
    fake_thread(
        &streams,
        || vec![fake_task(task(0, 0), &[("a", 1)])],
        move || {
            // A rebalance comes and goes while the thread answers.
            set_state(&shared, StreamsState::Rebalancing);
            set_state(&shared, StreamsState::Running);
        },
    );
    let err = streams
        .store::<String, i64>("counts")
        .unwrap()
        .all()
        .unwrap_err();
    assert!(
        matches!(
            err,
            QueryError::StoreNotReady {
                reason: NotReadyReason::Migrated,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn a_panicking_read_is_an_error_and_the_thread_carries_on() {
    let streams = streams();
    two_threads(&streams);
    let explosive = streams.store::<String, i64>("explosive").unwrap();
    let err = explosive.get(&"x".to_string()).unwrap_err();
    assert!(
        matches!(&err, QueryError::Panic { message, .. } if message == "boom"),
        "{err}"
    );
    assert_eq!(explosive.approximate_num_entries().unwrap(), 2);
}

#[test]
fn query_reads_leave_the_record_cache_alone() {
    let cache = RecordCache::new(1 << 20);
    let ctx = StoreContext::new(task(0, 0), "iq-unit", std::env::temp_dir())
        .with_record_cache(cache.clone());
    let built = Stores::in_memory_key_value("cached", Utf8, I64)
        .with_caching_enabled()
        .build(&ctx)
        .unwrap();
    let store: KeyValueStore<String, i64> = built.handle().unwrap();
    let value = 5i64.to_be_bytes();
    built
        .state_store()
        .restore_batch(&[RestoreRecord {
            key: b"k",
            value: Some(&value),
            timestamp: 0,
        }])
        .unwrap();
    let key = "k".to_string();
    assert_eq!(query_reads(|| store.get(&key)).unwrap(), Some(5));
    assert_eq!(cache.len(), 0, "a query does not fill the cache");
    assert_eq!(store.get(&key).unwrap(), Some(5));
    assert_eq!(cache.len(), 1, "a processor's read does");
}

#[test]
fn short_type_names() {
    assert_eq!(short_type_name(type_name::<String>()), "String");
    assert_eq!(
        short_type_name(type_name::<Option<Vec<(String, i64)>>>()),
        "Option<Vec<(String, i64)>>"
    );
    assert_eq!(short_type_name(type_name::<&str>()), "&str");
}

#[test]
fn errors_and_handles_cross_threads() {
    fn send_sync<T: Send + Sync + 'static>() {}
    send_sync::<QueryError>();
    send_sync::<ReadOnlyKeyValueStore<String, i64>>();
    send_sync::<ReadOnlyWindowStore<String, i64>>();
    send_sync::<ReadOnlySessionStore<String, i64>>();
}
