//! Global tables on a real broker: the global stream thread restores a `GlobalKTable` whose
//! topic already holds records — every partition, up to the end — before any stream record is
//! joined; updates reach the joins and interactive queries afterwards; a restart restores from
//! the checkpoint only what is new; a global record that cannot be read fails the instance with
//! a typed error.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use streams::config::StreamsConfig;
use streams::dsl::{Consumed, Materialized, StreamsBuilder};
use streams::runtime::{
    GlobalThreadError, KafkaStreams, NotReadyReason, QueryError, RuntimeError, StartError,
    StateRestoreListener, StreamsState,
};
use streams::topology::Topology;

use super::support::*;

/// Orders (`order id` → `product id`) joined with the global table of products.
fn enrich(orders: &str, products: &str, output: &str) -> Topology {
    let builder = StreamsBuilder::new();
    let products = builder.global_table_with::<String, String, _, _, _, _>(
        products,
        Consumed::new(),
        Materialized::named("products"),
    );
    builder
        .stream::<String, String>(orders)
        .join_global(
            &products,
            |_order, product| product.clone(),
            |product, name| format!("{product}={name}"),
        )
        .to(output);
    builder.build().expect("valid program")
}

fn config(app: &str, state_dir: &Path) -> StreamsConfig {
    StreamsConfig::builder()
        .application_id(app)
        .bootstrap_servers(bootstrap())
        .state_dir(state_dir)
        .commit_interval(Duration::from_millis(100))
        .set("consumer.session.timeout.ms", "6000")
        .api_timeout(Duration::from_secs(120))
        .build()
        .expect("valid config")
}

/// Writes (key, value) records, a `None` value as a tombstone.
fn produce_nullable(topic: &str, records: &[(&str, Option<String>)]) {
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap())
        .set("partitioner", "murmur2_random")
        .set("enable.idempotence", "true")
        .create()
        .expect("producer");
    for (key, value) in records {
        let mut record: BaseRecord<'_, str, str> = BaseRecord::to(topic).key(*key);
        if let Some(v) = value {
            record = record.payload(v.as_str());
        }
        let mut record = record;
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((_, back)) => {
                    producer.poll(Duration::from_millis(10));
                    record = back;
                }
            }
        }
    }
    producer.flush(Duration::from_secs(60)).expect("flush");
}

/// Counts what the global thread restores, and holds restoration back for a while at its
/// first partition: if stream records were joined before the global table is restored, they
/// would find it empty.
#[derive(Default)]
struct Restores {
    delay: Option<Duration>,
    delayed: AtomicBool,
    restored: AtomicU64,
    starts: Mutex<Vec<(String, i32, i64, i64)>>,
}

impl StateRestoreListener for Restores {
    fn on_restore_start(&self, topic: &str, partition: i32, _store: &str, start: i64, end: i64) {
        self.starts
            .lock()
            .expect("lock")
            .push((topic.to_string(), partition, start, end));
        if let Some(delay) = self.delay
            && !self.delayed.swap(true, Ordering::AcqRel)
        {
            std::thread::sleep(delay);
        }
    }

    fn on_restore_end(&self, _topic: &str, _partition: i32, _store: &str, total: u64) {
        self.restored.fetch_add(total, Ordering::Relaxed);
    }
}

/// Reads the output until `n` records; returns the last value per key.
fn joined(
    reader: &Reader,
    out: &mut Vec<(Vec<u8>, Vec<u8>)>,
    n: usize,
) -> BTreeMap<String, String> {
    let complete = reader.read_until(out, Duration::from_secs(120), |r| r.len() >= n);
    assert!(complete, "{} of {n} joined records after 120 s", out.len());
    out.iter()
        .map(|(k, v)| {
            (
                String::from_utf8_lossy(k).into_owned(),
                String::from_utf8_lossy(v).into_owned(),
            )
        })
        .collect()
}

#[test]
fn global_table_is_restored_before_joins_kept_up_to_date_and_queryable() {
    let kafka = bootstrap();
    let app = unique("global");
    let (orders, products, output) = (
        format!("{app}-orders"),
        format!("{app}-products"),
        format!("{app}-out"),
    );
    // The global topic has another partition count than the stream: no co-partitioning.
    create_topics(&kafka, &[(&orders, 2), (&products, 3), (&output, 2)]);
    const PRODUCTS: usize = 20_000;
    let names: Vec<(String, Option<String>)> = (0..PRODUCTS)
        .map(|i| (format!("p{i}"), Some(format!("name-{i}"))))
        .chain([
            ("p5".to_string(), Some("renamed-5".to_string())),
            ("p7".to_string(), None),
        ])
        .collect();
    let refs: Vec<(&str, Option<String>)> =
        names.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    produce_nullable(&products, &refs);
    // Orders written before the application starts, for products written last, updated, deleted.
    let wanted = ["p19999", "p5", "p7", "p0", "p12345", "p19998"];
    produce_nullable(
        &orders,
        &wanted
            .iter()
            .enumerate()
            .map(|(i, p)| (["o0", "o1", "o2", "o3", "o4", "o5"][i], Some(p.to_string())))
            .collect::<Vec<_>>(),
    );

    let state_dir = std::env::temp_dir().join(unique("global-state"));
    let restores = Arc::new(Restores {
        delay: Some(Duration::from_secs(4)),
        ..Restores::default()
    });
    let streams = KafkaStreams::new(
        enrich(&orders, &products, &output),
        config(&app, &state_dir),
    )
    .expect("streams");
    streams
        .set_global_state_restore_listener(ListenerRef(Arc::clone(&restores)))
        .expect("listener");
    let started = Instant::now();
    // While start waits for the global thread, queries of the global store are told so.
    let told_restoring = std::thread::scope(|scope| {
        let querier = scope.spawn(|| {
            let store = streams.store::<String, String>("products").expect("store");
            let deadline = Instant::now() + Duration::from_secs(60);
            while Instant::now() < deadline {
                if let Err(QueryError::StoreNotReady {
                    reason: NotReadyReason::GlobalRestoring,
                    ..
                }) = store.get(&"p0".to_string())
                {
                    return true;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            false
        });
        streams.start().expect("start");
        querier.join().expect("no panic")
    });
    assert!(
        told_restoring,
        "no query was told the global store is restoring"
    );
    assert!(
        started.elapsed() >= Duration::from_secs(4),
        "start returned before the global table was restored"
    );
    let starts = restores.starts.lock().expect("lock").clone();
    assert_eq!(
        starts.len(),
        3,
        "every partition of the global topic: {starts:?}"
    );
    assert!(
        starts
            .iter()
            .all(|(t, _, start, _)| *t == products && *start == 0)
    );
    assert_eq!(
        starts.iter().map(|(_, _, _, end)| end).sum::<i64>(),
        PRODUCTS as i64 + 2
    );
    assert_eq!(
        restores.restored.load(Ordering::Relaxed),
        PRODUCTS as u64 + 2
    );
    wait_running(&streams);

    // Every order written before the start joined the restored table (p7 was deleted).
    let reader = Reader::new(&kafka, &output);
    let mut out = Vec::new();
    let first = joined(&reader, &mut out, 5);
    let expected: BTreeMap<String, String> = [
        ("o0", "p19999=name-19999"),
        ("o1", "p5=renamed-5"),
        ("o3", "p0=name-0"),
        ("o4", "p12345=name-12345"),
        ("o5", "p19998=name-19998"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(first, expected);

    // Interactive queries read the global store.
    let store = streams.store::<String, String>("products").expect("store");
    let all = query_until(Duration::from_secs(30), || store.all(), |_| true);
    assert_eq!(all.len(), PRODUCTS - 1);
    assert_eq!(
        store.get(&"p5".to_string()).expect("get"),
        Some("renamed-5".to_string())
    );
    assert_eq!(store.get(&"p7".to_string()).expect("get"), None);

    // Updates arrive: in the store, then in the joins.
    produce_nullable(
        &products,
        &[
            ("p5", Some("again-5".to_string())),
            ("p-new", Some("fresh".to_string())),
        ],
    );
    query_until(
        Duration::from_secs(60),
        || store.get(&"p-new".to_string()),
        |v| v.as_deref() == Some("fresh"),
    );
    assert_eq!(
        store.get(&"p5".to_string()).expect("get"),
        Some("again-5".to_string())
    );
    produce_nullable(
        &orders,
        &[
            ("o6", Some("p5".to_string())),
            ("o7", Some("p-new".to_string())),
        ],
    );
    let second = joined(&reader, &mut out, 7);
    assert_eq!(second["o6"], "p5=again-5");
    assert_eq!(second["o7"], "p-new=fresh");
    assert!(streams.close(Duration::from_secs(60)), "closed in time");
    assert_eq!(streams.state(), StreamsState::NotRunning);

    // The persistent global store was checkpointed: a restart restores only what is new.
    let checkpoint = state_dir.join(&app).join("global").join(".checkpoint");
    let text = std::fs::read_to_string(&checkpoint).expect("global checkpoint");
    let next: i64 = text
        .lines()
        .skip(2)
        .filter_map(|l| l.rsplit(' ').next()?.parse::<i64>().ok())
        .sum();
    assert_eq!(next, PRODUCTS as i64 + 4, "next offsets in {text}");
    produce_nullable(&products, &[("p1", Some("after-restart".to_string()))]);
    let restores = Arc::new(Restores::default());
    let streams = KafkaStreams::new(
        enrich(&orders, &products, &output),
        config(&app, &state_dir),
    )
    .expect("streams");
    streams
        .set_global_state_restore_listener(ListenerRef(Arc::clone(&restores)))
        .expect("listener");
    streams.start().expect("restart");
    assert_eq!(restores.restored.load(Ordering::Relaxed), 1);
    let store = streams.store::<String, String>("products").expect("store");
    let p1 = query_until(
        Duration::from_secs(30),
        || store.get(&"p1".to_string()),
        |_| true,
    );
    assert_eq!(p1.as_deref(), Some("after-restart"));
    assert_eq!(
        store.get(&"p19999".to_string()).expect("get"),
        Some("name-19999".to_string())
    );
    assert!(streams.close(Duration::from_secs(60)), "closed in time");
    let _ = std::fs::remove_dir_all(&state_dir);
}

#[test]
fn an_unreadable_global_record_fails_the_instance_with_a_typed_error() {
    let kafka = bootstrap();
    let app = unique("global-fail");
    let (orders, products, output) = (
        format!("{app}-orders"),
        format!("{app}-products"),
        format!("{app}-out"),
    );
    create_topics(&kafka, &[(&orders, 1), (&products, 1), (&output, 1)]);
    // Not UTF-8: the `String` values of the global table cannot hold it.
    produce(
        &kafka,
        &products,
        &[(Some("p1".to_string()), vec![0xff, 0xfe])],
    );
    let state_dir = std::env::temp_dir().join(unique("global-fail-state"));
    let streams = KafkaStreams::new(
        enrich(&orders, &products, &output),
        config(&app, &state_dir),
    )
    .expect("streams");
    let error = streams
        .start()
        .expect_err("the global store cannot be restored");
    let StartError::GlobalThread { source } = &error else {
        panic!("unexpected error: {error}");
    };
    assert!(
        matches!(
            &**source,
            RuntimeError::GlobalThread { source, .. }
                if matches!(**source, GlobalThreadError::Process { .. })
        ),
        "{source:?}"
    );
    assert_eq!(streams.state(), StreamsState::Error);
    assert!(matches!(
        streams.error().as_deref(),
        Some(RuntimeError::GlobalThread { .. })
    ));
    assert!(streams.close(Duration::from_secs(30)));
    let _ = std::fs::remove_dir_all(&state_dir);
}

#[test]
fn a_global_thread_failure_while_running_fails_the_instance() {
    let kafka = bootstrap();
    let app = unique("global-fail-later");
    let (orders, products, output) = (
        format!("{app}-orders"),
        format!("{app}-products"),
        format!("{app}-out"),
    );
    create_topics(&kafka, &[(&orders, 1), (&products, 1), (&output, 1)]);
    let state_dir = std::env::temp_dir().join(unique("global-fail-later-state"));
    let streams = KafkaStreams::new(
        enrich(&orders, &products, &output),
        config(&app, &state_dir),
    )
    .expect("streams");
    streams
        .start()
        .expect("an empty global topic restores at once");
    wait_running(&streams);
    produce(&kafka, &products, &[(Some("p1".to_string()), vec![0xff])]);
    assert!(
        streams.wait_for_state(StreamsState::Error, Duration::from_secs(60)),
        "state {:?}",
        streams.state()
    );
    assert!(matches!(
        streams.error().as_deref(),
        Some(RuntimeError::GlobalThread { .. })
    ));
    assert!(streams.close(Duration::from_secs(30)));
    let _ = std::fs::remove_dir_all(&state_dir);
}

/// A restore listener shared with the test.
struct ListenerRef(Arc<Restores>);

impl StateRestoreListener for ListenerRef {
    fn on_restore_start(&self, topic: &str, partition: i32, store: &str, start: i64, end: i64) {
        self.0.on_restore_start(topic, partition, store, start, end);
    }

    fn on_restore_end(&self, topic: &str, partition: i32, store: &str, total: u64) {
        self.0.on_restore_end(topic, partition, store, total);
    }
}
