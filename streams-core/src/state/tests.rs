//! The store suites, each run over every engine (in-memory, RocksDB) with and without the record
//! cache, plus the cache, logging, restoration and persistence behaviour.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use crate::codec::{Bytes, I64, Nullable, Utf8};
use crate::task_id::TaskId;

use super::bytes::{ByteRange, BytesStore, RestoreRecord};
use super::cache::{CachingStore, RecordCache};
use super::context::{StoreContext, TempDir};
use super::memory::InMemoryStore;
use super::segments::{KeySchema, RocksSegments, SegmentedStore};
use super::*;

const TASK: TaskId = TaskId {
    subtopology: 1,
    partition: 2,
};

fn s(text: &str) -> String {
    text.to_string()
}

/// A logged write: key, value, timestamp.
type Logged = (Vec<u8>, Option<Vec<u8>>, Option<i64>);

#[derive(Default)]
struct Recorder(RefCell<Vec<Logged>>);

impl ChangelogSink for Recorder {
    fn send(&self, record: ChangelogRecord<'_>) -> Result<(), StoreError> {
        self.0.borrow_mut().push((
            record.key.to_vec(),
            record.value.map(<[u8]>::to_vec),
            record.timestamp,
        ));
        Ok(())
    }
}

/// One engine/caching combination to run a suite over.
#[derive(Debug, Clone, Copy)]
struct Flavor {
    persistent: bool,
    caching: bool,
}

const FLAVORS: [Flavor; 4] = [
    Flavor {
        persistent: false,
        caching: false,
    },
    Flavor {
        persistent: true,
        caching: false,
    },
    Flavor {
        persistent: false,
        caching: true,
    },
    Flavor {
        persistent: true,
        caching: true,
    },
];

/// A built store with what keeps it alive.
struct Fixture<H> {
    handle: H,
    store: Rc<dyn StateStore>,
    changelog: Rc<Recorder>,
    _dir: Rc<TempDir>,
}

fn context(dir: &TempDir, cache: &RecordCache, changelog: &Rc<Recorder>) -> StoreContext {
    StoreContext::new(TASK, "app", dir.path())
        .with_record_cache(cache.clone())
        .with_changelog(changelog.clone())
}

fn build<H: Clone + 'static>(
    builder: &dyn StoreBuilder,
    dir: Rc<TempDir>,
    cache_bytes: usize,
) -> Fixture<H> {
    let cache = RecordCache::new(cache_bytes);
    let changelog = Rc::new(Recorder::default());
    let built = builder
        .build(&context(&dir, &cache, &changelog))
        .expect("store builds");
    let handle = built
        .handle
        .downcast_ref::<H>()
        .expect("handle of the declared type")
        .clone();
    Fixture {
        handle,
        store: built.store,
        changelog,
        _dir: dir,
    }
}

fn temp() -> Rc<TempDir> {
    Rc::new(TempDir::new("streams-state-test").expect("temp dir"))
}

fn kv_store(flavor: Flavor) -> Fixture<KeyValueStore<String, i64>> {
    let builder = if flavor.persistent {
        Stores::persistent_key_value("kv", Utf8, I64)
    } else {
        Stores::in_memory_key_value("kv", Utf8, I64)
    };
    let builder = if flavor.caching {
        builder.with_caching_enabled()
    } else {
        builder
    };
    build(&builder, temp(), 1 << 20)
}

fn collect<T>(iter: impl Iterator<Item = Result<T, StoreError>>) -> Vec<T> {
    iter.collect::<Result<_, _>>().expect("iteration succeeds")
}

// ---------------------------------------------------------------------------------------------
// Key-value
// ---------------------------------------------------------------------------------------------

fn key_value_suite(flavor: Flavor) {
    let f = kv_store(flavor);
    let kv = &f.handle;
    assert_eq!(kv.get(&s("a")).unwrap(), None);
    kv.put(&s("b"), &2).unwrap();
    kv.put(&s("a"), &1).unwrap();
    kv.put(&s("c"), &3).unwrap();
    kv.put(&s("b"), &20).unwrap();
    assert_eq!(kv.get(&s("b")).unwrap(), Some(20), "{flavor:?}");
    assert_eq!(kv.put_if_absent(&s("a"), &100).unwrap(), Some(1));
    assert_eq!(kv.put_if_absent(&s("d"), &4).unwrap(), None);
    assert_eq!(kv.get(&s("d")).unwrap(), Some(4));
    assert_eq!(kv.delete(&s("d")).unwrap(), Some(4));
    assert_eq!(kv.delete(&s("d")).unwrap(), None);
    assert_eq!(kv.get(&s("d")).unwrap(), None);

    let all = collect(kv.all());
    assert_eq!(all, [(s("a"), 1), (s("b"), 20), (s("c"), 3)], "{flavor:?}");
    let rev = collect(kv.reverse_all());
    assert_eq!(rev, [(s("c"), 3), (s("b"), 20), (s("a"), 1)]);
    assert_eq!(
        collect(kv.range(&s("a"), &s("b")).unwrap()),
        [(s("a"), 1), (s("b"), 20)]
    );
    assert_eq!(
        collect(kv.reverse_range(&s("b"), &s("c")).unwrap()),
        [(s("c"), 3), (s("b"), 20)]
    );
    assert!(collect(kv.range(&s("c"), &s("a")).unwrap()).is_empty());
    assert_eq!(
        collect(kv.range(&s("aa"), &s("bz")).unwrap()),
        [(s("b"), 20)]
    );

    // Prefix scans.
    for (k, v) in [("user:1", 10), ("user:2", 11), ("users", 12), ("usa", 13)] {
        kv.put(&s(k), &v).unwrap();
    }
    let users = collect(kv.prefix_scan(&s("user:"), Utf8).unwrap());
    assert_eq!(users, [(s("user:1"), 10), (s("user:2"), 11)], "{flavor:?}");
    let us = collect(kv.prefix_scan_bytes(b"us"));
    assert_eq!(us.len(), 4);
    assert!(collect(kv.prefix_scan(&s("zz"), Utf8).unwrap()).is_empty());

    // Many entries: iteration crosses pages and stays ordered.
    for i in 0..1_000 {
        kv.put(&format!("k{i:04}"), &i).unwrap();
    }
    f.store.flush_cache().unwrap();
    for i in (0..1_000).step_by(3) {
        kv.put(&format!("k{i:04}"), &(i + 1)).unwrap();
    }
    for i in (1..1_000).step_by(7) {
        kv.delete(&format!("k{i:04}")).unwrap();
    }
    let ks = collect(kv.prefix_scan(&s("k"), Utf8).unwrap());
    let expected: Vec<(String, i64)> = (0..1_000)
        .filter(|i| (i - 1) % 7 != 0)
        .map(|i| (format!("k{i:04}"), if i % 3 == 0 { i + 1 } else { i }))
        .collect();
    assert_eq!(ks, expected, "{flavor:?}");
    let back: Vec<_> = collect(kv.reverse_range(&s("k0000"), &s("k9999")).unwrap());
    assert_eq!(back, expected.iter().rev().cloned().collect::<Vec<_>>());

    f.store.flush().unwrap();
    let n = kv.approximate_num_entries();
    if !flavor.persistent {
        assert_eq!(n, 7 + expected.len() as u64);
    } else {
        assert!(n > 0);
    }
}

#[test]
fn key_value_store_in_memory() {
    key_value_suite(FLAVORS[0]);
}

#[test]
fn key_value_store_rocksdb() {
    key_value_suite(FLAVORS[1]);
}

#[test]
fn key_value_store_in_memory_cached() {
    key_value_suite(FLAVORS[2]);
}

#[test]
fn key_value_store_rocksdb_cached() {
    key_value_suite(FLAVORS[3]);
}

#[test]
fn null_values_delete() {
    for flavor in FLAVORS {
        let builder = Stores::in_memory_key_value("n", Utf8, Nullable(I64));
        let builder = if flavor.persistent {
            Stores::persistent_key_value("n", Utf8, Nullable(I64))
        } else {
            builder
        };
        let f: Fixture<KeyValueStore<String, Option<i64>>> = build(&builder, temp(), 1 << 20);
        f.handle.put(&s("a"), &Some(1)).unwrap();
        f.handle.put(&s("a"), &None).unwrap();
        assert_eq!(f.handle.get(&s("a")).unwrap(), None);
        assert!(collect(f.handle.all()).is_empty());
    }
}

#[test]
fn timestamped_key_value_round_trips_and_logs_the_timestamp() {
    for flavor in FLAVORS {
        let builder = if flavor.persistent {
            Stores::persistent_timestamped_key_value("t", Utf8, I64)
        } else {
            Stores::in_memory_timestamped_key_value("t", Utf8, I64)
        };
        assert_eq!(builder.kind(), StoreKind::TimestampedKeyValue);
        let f: Fixture<TimestampedKeyValueStore<String, i64>> = build(&builder, temp(), 1 << 20);
        f.handle
            .put(&s("k"), &ValueAndTimestamp::make(5, 1_234))
            .unwrap();
        assert_eq!(
            f.handle.get(&s("k")).unwrap(),
            Some(ValueAndTimestamp::make(5, 1_234))
        );
        // The changelog holds the plain value with the timestamp as record time.
        assert_eq!(
            *f.changelog.0.borrow(),
            [(
                b"k".to_vec(),
                Some(5_i64.to_be_bytes().to_vec()),
                Some(1_234)
            )]
        );
        // Restoring puts the timestamp back in front.
        let seven = 7_i64.to_be_bytes();
        f.store
            .restore_batch(&[RestoreRecord {
                key: b"r",
                value: Some(&seven),
                timestamp: 99,
            }])
            .unwrap();
        assert_eq!(
            f.handle.get(&s("r")).unwrap(),
            Some(ValueAndTimestamp::make(7, 99))
        );
    }
}

#[test]
fn timestamped_window_stores_log_and_restore_kafka_streams_changelog_records() {
    let (retention, size) = (Duration::from_secs(3600), Duration::from_secs(10));
    for flavor in FLAVORS {
        let builder = if flavor.persistent {
            Stores::persistent_timestamped_window_store("tw", retention, size, Utf8, I64)
        } else {
            Stores::in_memory_timestamped_window_store("tw", retention, size, Utf8, I64)
        };
        let builder = if flavor.caching {
            builder.with_caching_enabled()
        } else {
            builder
        };
        assert_eq!(builder.kind(), StoreKind::Window);
        let f: Fixture<TimestampedWindowStore<String, i64>> = build(&builder, temp(), 1 << 20);
        f.handle
            .put(&s("A"), &ValueAndTimestamp::make(2, 3_000), 0)
            .unwrap();
        f.store.flush().unwrap();
        // Kafka Streams' layout (as its TopologyTestDriver shows it): the key, the window start
        // big-endian and a 4-byte sequence number 0; the plain value; its timestamp as the
        // record's.
        let key = |start: i64| [b"A".as_slice(), &start.to_be_bytes(), &[0; 4]].concat();
        assert_eq!(
            *f.changelog.0.borrow(),
            [(key(0), Some(2_i64.to_be_bytes().to_vec()), Some(3_000))],
            "{flavor:?}"
        );
        let seven = 7_i64.to_be_bytes();
        let restored = key(10_000);
        f.store
            .restore_batch(&[RestoreRecord {
                key: &restored,
                value: Some(&seven),
                timestamp: 12_000,
            }])
            .unwrap();
        assert_eq!(
            f.handle.fetch_one(&s("A"), 10_000).unwrap(),
            Some(ValueAndTimestamp::make(7, 12_000)),
            "{flavor:?}"
        );
    }
}

#[test]
fn session_stores_log_and_restore_kafka_streams_changelog_records() {
    for flavor in FLAVORS {
        let r = Duration::from_secs(3600);
        let builder = if flavor.persistent {
            Stores::persistent_session_store("ss", r, Utf8, I64)
        } else {
            Stores::in_memory_session_store("ss", r, Utf8, I64)
        };
        let builder = if flavor.caching {
            builder.with_caching_enabled()
        } else {
            builder
        };
        let f: Fixture<SessionStore<String, i64>> = build(&builder, temp(), 1 << 20);
        f.handle.put(&session("A", 1_000, 3_000), &2).unwrap();
        f.store.flush().unwrap();
        // Kafka Streams' `SessionKeySchema.toBinary`: key, end, start, big-endian.
        let key = |start: i64, end: i64| {
            [b"A".as_slice(), &end.to_be_bytes(), &start.to_be_bytes()].concat()
        };
        assert_eq!(
            *f.changelog.0.borrow(),
            [(key(1_000, 3_000), Some(2_i64.to_be_bytes().to_vec()), None)],
            "{flavor:?}"
        );
        let five = 5_i64.to_be_bytes();
        let restored = key(12_000, 12_500);
        f.store
            .restore_batch(&[RestoreRecord {
                key: &restored,
                value: Some(&five),
                timestamp: 12_500,
            }])
            .unwrap();
        assert_eq!(
            collect(f.handle.fetch(&s("A")).unwrap()),
            [
                (session("A", 1_000, 3_000), 2),
                (session("A", 12_000, 12_500), 5)
            ],
            "{flavor:?}"
        );
    }
}

#[test]
fn sessions_past_retention_are_found_by_end_time_while_their_segment_is_kept() {
    for flavor in FLAVORS {
        // One second of retention; segments of a minute.
        let r = Duration::from_secs(1);
        let builder = if flavor.persistent {
            Stores::persistent_session_store("ss", r, Utf8, I64)
        } else {
            Stores::in_memory_session_store("ss", r, Utf8, I64)
        };
        let f: Fixture<SessionStore<String, i64>> = build(&builder, temp(), 1 << 20);
        f.handle.put(&session("a", 0, 100), &1).unwrap();
        f.handle.put(&session("b", 5_000, 5_000), &2).unwrap();
        assert!(
            collect(f.handle.fetch(&s("a")).unwrap()).is_empty(),
            "{flavor:?}"
        );
        let ending = |from, to| -> Vec<(String, i64)> {
            collect(f.handle.find_sessions_ending(from, to))
                .into_iter()
                .map(|(w, v)| (w.key, v))
                .collect()
        };
        assert_eq!(ending(0, 200), [(s("a"), 1)], "{flavor:?}");
        assert_eq!(ending(0, i64::MAX), [(s("a"), 1), (s("b"), 2)]);
        assert_eq!(ending(101, 4_999), Vec::<(String, i64)>::new());
        // A session two minutes later drops the first segment.
        f.handle.put(&session("c", 120_000, 120_000), &3).unwrap();
        assert_eq!(ending(0, 200), Vec::<(String, i64)>::new(), "{flavor:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Logging and restoration
// ---------------------------------------------------------------------------------------------

#[test]
fn a_cached_delete_of_a_key_the_store_never_held_is_neither_written_nor_flushed() {
    for persistent in [false, true] {
        let f = kv_store(Flavor {
            persistent,
            caching: true,
        });
        let seen = Rc::new(RefCell::new(Vec::new()));
        let sink = Rc::clone(&seen);
        assert!(f.handle.set_cache_flush_listener(move |flush| {
            sink.borrow_mut().push((flush.key, flush.new_value));
            Ok(())
        }));
        f.handle.put(&s("a"), &1).unwrap();
        f.handle.delete(&s("a")).unwrap();
        f.handle.put(&s("b"), &2).unwrap();
        f.store.flush().unwrap();
        assert_eq!(*seen.borrow(), [(s("b"), Some(2))]);
        assert_eq!(
            *f.changelog.0.borrow(),
            [(b"b".to_vec(), Some(2_i64.to_be_bytes().to_vec()), None)],
            "as Kafka Streams' caching stores: no tombstone for a key never written down"
        );
    }
}

#[test]
fn logging_records_every_write_and_none_when_disabled() {
    for persistent in [false, true] {
        let flavor = Flavor {
            persistent,
            caching: false,
        };
        let f = kv_store(flavor);
        f.handle.put(&s("a"), &1).unwrap();
        f.handle.delete(&s("a")).unwrap();
        assert_eq!(
            *f.changelog.0.borrow(),
            [
                (b"a".to_vec(), Some(1_i64.to_be_bytes().to_vec()), None),
                (b"a".to_vec(), None, None)
            ]
        );

        let quiet = Stores::in_memory_key_value("q", Utf8, I64).with_logging_disabled();
        assert!(!quiet.logging());
        let f: Fixture<KeyValueStore<String, i64>> = build(&quiet, temp(), 1 << 20);
        f.handle.put(&s("a"), &1).unwrap();
        assert!(f.changelog.0.borrow().is_empty());
    }
}

#[test]
fn caching_folds_writes_before_logging() {
    let f = kv_store(Flavor {
        persistent: true,
        caching: true,
    });
    for i in 1..=5 {
        f.handle.put(&s("a"), &i).unwrap();
    }
    f.handle.put(&s("b"), &1).unwrap();
    f.handle.delete(&s("b")).unwrap();
    assert!(
        f.changelog.0.borrow().is_empty(),
        "nothing logged before the flush"
    );
    f.store.flush().unwrap();
    assert_eq!(
        *f.changelog.0.borrow(),
        [
            (b"a".to_vec(), Some(5_i64.to_be_bytes().to_vec()), None),
            (b"b".to_vec(), None, None)
        ]
    );
}

#[test]
fn restore_batch_writes_below_cache_and_logging() {
    for flavor in FLAVORS {
        let f = kv_store(flavor);
        f.handle.put(&s("stale"), &1).unwrap();
        let one = 1_i64.to_be_bytes();
        let two = 2_i64.to_be_bytes();
        let batch = [
            RestoreRecord {
                key: b"x",
                value: Some(&one),
                timestamp: 0,
            },
            RestoreRecord {
                key: b"x",
                value: Some(&two),
                timestamp: 1,
            },
            RestoreRecord {
                key: b"stale",
                value: None,
                timestamp: 2,
            },
        ];
        f.store.restore_batch(&batch).unwrap();
        assert_eq!(f.handle.get(&s("x")).unwrap(), Some(2), "{flavor:?}");
        assert_eq!(f.handle.get(&s("stale")).unwrap(), None, "{flavor:?}");
        // Restored records are not logged again.
        assert!(f.changelog.0.borrow().iter().all(|(k, _, _)| k == b"stale"));
    }
}

#[test]
fn rocksdb_key_value_survives_reopen() {
    let dir = temp();
    let builder = Stores::persistent_key_value("durable", Utf8, I64);
    {
        let f: Fixture<KeyValueStore<String, i64>> = build(&builder, Rc::clone(&dir), 0);
        f.handle.put(&s("a"), &1).unwrap();
        f.handle.put(&s("b"), &2).unwrap();
        f.store.close().unwrap();
    }
    let store_dir = StoreContext::new(TASK, "app", dir.path()).store_dir("durable");
    assert!(store_dir.ends_with("app/1_2/rocksdb/durable"));
    assert!(
        store_dir.join("CURRENT").exists(),
        "RocksDB files in {store_dir:?}"
    );
    let f: Fixture<KeyValueStore<String, i64>> = build(&builder, dir, 0);
    assert_eq!(collect(f.handle.all()), [(s("a"), 1), (s("b"), 2)]);
}

#[test]
fn rocksdb_stores_share_one_memory_budget() {
    let memory = RocksDbMemory::new(4 << 20);
    let dir = temp();
    let mut handles = Vec::new();
    for task in 0..3 {
        let ctx = StoreContext::new(
            TaskId {
                subtopology: 0,
                partition: task,
            },
            "app",
            dir.path(),
        )
        .with_rocksdb_memory(memory.clone());
        let built = Stores::persistent_key_value("kv", Bytes, Bytes)
            .build(&ctx)
            .unwrap();
        let kv = built
            .handle
            .downcast_ref::<KeyValueStore<Vec<u8>, Vec<u8>>>()
            .unwrap()
            .clone();
        handles.push((kv, built.store));
    }
    for (kv, _) in &handles {
        for i in 0..2_000_u32 {
            kv.put(&i.to_be_bytes().to_vec(), &vec![7; 100]).unwrap();
        }
    }
    // Memtables are charged to the shared cache.
    assert!(memory.usage_bytes() > 0);
    assert!(memory.usage_bytes() <= memory.total_bytes() + (1 << 20));
    for (_, store) in &handles {
        store.close().unwrap();
    }
}

// ---------------------------------------------------------------------------------------------
// Record cache
// ---------------------------------------------------------------------------------------------

type Flushed = Rc<RefCell<Vec<(String, Option<i64>, Option<i64>)>>>;

fn cached_kv(
    cache_bytes: usize,
) -> (
    KeyValueStore<String, i64>,
    Rc<InMemoryStore>,
    RecordCache,
    Flushed,
) {
    let inner = Rc::new(InMemoryStore::new("c"));
    let cache = RecordCache::new(cache_bytes);
    let caching =
        CachingStore::new("c", "0_0-c".into(), cache.clone(), inner.clone(), true).unwrap();
    let kv = KeyValueStore::new("c", Rc::new(caching), Utf8, I64);
    let flushed: Flushed = Rc::default();
    let sink = Rc::clone(&flushed);
    assert!(kv.set_cache_flush_listener(move |f| {
        sink.borrow_mut().push((f.key, f.new_value, f.old_value));
        Ok(())
    }));
    (kv, inner, cache, flushed)
}

#[test]
fn cache_folds_writes_per_key_until_flush() {
    let (kv, inner, cache, flushed) = cached_kv(1 << 20);
    for i in 1..=3 {
        kv.put(&s("a"), &i).unwrap();
    }
    kv.put(&s("b"), &1).unwrap();
    assert_eq!(kv.get(&s("a")).unwrap(), Some(3), "reads see the cache");
    assert_eq!(
        inner.approximate_num_entries().unwrap(),
        0,
        "nothing written down yet"
    );
    assert_eq!(cache.len(), 2);

    cache_flush(&kv);
    assert_eq!(
        *flushed.borrow(),
        [(s("a"), Some(3), None), (s("b"), Some(1), None)],
        "one update per key, oldest write first"
    );
    assert_eq!(inner.get(b"a").unwrap(), Some(3_i64.to_be_bytes().to_vec()));

    // A second round reports the old values; a flush with nothing dirty emits nothing.
    kv.put(&s("a"), &4).unwrap();
    kv.delete(&s("b")).unwrap();
    assert_eq!(
        kv.get(&s("b")).unwrap(),
        None,
        "a cached delete hides the store's value"
    );
    flushed.borrow_mut().clear();
    cache_flush(&kv);
    cache_flush(&kv);
    assert_eq!(
        *flushed.borrow(),
        [(s("a"), Some(4), Some(3)), (s("b"), None, Some(1))]
    );
    assert_eq!(inner.get(b"b").unwrap(), None);
    assert!(cache.stats().hits >= 2);
}

fn cache_flush(kv: &KeyValueStore<String, i64>) {
    kv.core_store().flush_cache().unwrap();
}

#[test]
fn cache_evicts_least_recently_used_and_flushes_the_dirty_store() {
    // Room for about three entries.
    let (kv, inner, cache, flushed) = cached_kv(3 * 70 + 20);
    kv.put(&s("a"), &1).unwrap();
    kv.put(&s("b"), &2).unwrap();
    kv.put(&s("c"), &3).unwrap();
    assert!(flushed.borrow().is_empty());
    kv.get(&s("a")).unwrap(); // a is now the most recently used
    kv.put(&s("d"), &4).unwrap(); // evicts b, flushing every dirty entry of the store
    assert_eq!(
        *flushed.borrow(),
        [
            (s("a"), Some(1), None),
            (s("b"), Some(2), None),
            (s("c"), Some(3), None),
            (s("d"), Some(4), None)
        ]
    );
    assert_eq!(inner.approximate_num_entries().unwrap(), 4);
    assert!(cache.size_bytes() <= cache.max_bytes());
    assert_eq!(cache.stats().evictions, 1);
    assert_eq!(
        kv.get(&s("b")).unwrap(),
        Some(2),
        "evicted, read from the store"
    );
    // The survivors are clean now (and `b` came back clean): evicting them writes nothing.
    flushed.borrow_mut().clear();
    kv.put(&s("e"), &5).unwrap();
    assert!(flushed.borrow().is_empty());
    assert_eq!(cache.stats().evictions, 3);
}

#[test]
fn zero_byte_cache_writes_through() {
    let (kv, inner, _cache, flushed) = cached_kv(0);
    kv.put(&s("a"), &1).unwrap();
    kv.put(&s("a"), &2).unwrap();
    assert_eq!(inner.get(b"a").unwrap(), Some(2_i64.to_be_bytes().to_vec()));
    assert_eq!(
        *flushed.borrow(),
        [(s("a"), Some(1), None), (s("a"), Some(2), Some(1))]
    );
}

#[test]
fn cache_scans_merge_with_the_store() {
    let (kv, inner, _cache, _flushed) = cached_kv(1 << 20);
    for (k, v) in [("a", 1), ("c", 3), ("e", 5)] {
        inner
            .put(k.as_bytes(), Some(&i64::to_be_bytes(v)), None)
            .unwrap();
    }
    kv.put(&s("b"), &20).unwrap();
    kv.put(&s("c"), &30).unwrap();
    kv.delete(&s("e")).unwrap();
    kv.put(&s("f"), &60).unwrap();
    assert_eq!(
        collect(kv.all()),
        [(s("a"), 1), (s("b"), 20), (s("c"), 30), (s("f"), 60)]
    );
    assert_eq!(
        collect(kv.reverse_all()),
        [(s("f"), 60), (s("c"), 30), (s("b"), 20), (s("a"), 1)]
    );
    let page = Rc::new(
        CachingStore::new("p", "p".into(), RecordCache::new(1 << 20), inner, true).unwrap(),
    );
    let first = page.scan(&ByteRange::all(), false, 2).unwrap();
    assert_eq!(first.len(), 2);
}

#[test]
fn cache_is_shared_by_the_stores_of_a_thread() {
    let cache = RecordCache::new(4 * 74 + 10);
    let dir = temp();
    let changelog = Rc::new(Recorder::default());
    let ctx = context(&dir, &cache, &changelog);
    let one = Stores::in_memory_key_value("one", Utf8, I64)
        .with_caching_enabled()
        .build(&ctx)
        .unwrap();
    let two = Stores::in_memory_key_value("two", Utf8, I64)
        .with_caching_enabled()
        .build(&ctx)
        .unwrap();
    let one_kv = one
        .handle
        .downcast_ref::<KeyValueStore<String, i64>>()
        .unwrap();
    let two_kv = two
        .handle
        .downcast_ref::<KeyValueStore<String, i64>>()
        .unwrap();
    one_kv.put(&s("x"), &1).unwrap();
    one_kv.put(&s("y"), &2).unwrap();
    two_kv.put(&s("x"), &10).unwrap();
    two_kv.put(&s("y"), &20).unwrap();
    assert!(changelog.0.borrow().is_empty());
    // Over budget: evicts store one's oldest entry, flushing store one only.
    two_kv.put(&s("z"), &30).unwrap();
    assert_eq!(changelog.0.borrow().len(), 2);
    assert_eq!(one_kv.get(&s("y")).unwrap(), Some(2));
    one.store.close().unwrap();
    two.store.close().unwrap();
    assert_eq!(cache.len(), 0, "closing a store drops its cache entries");
}

// ---------------------------------------------------------------------------------------------
// Window stores
// ---------------------------------------------------------------------------------------------

const MIN: i64 = 60_000;

fn window_store(flavor: Flavor, retention_min: u64) -> Fixture<WindowStore<String, i64>> {
    let (r, size) = (
        Duration::from_secs(60 * retention_min),
        Duration::from_secs(60),
    );
    let builder = if flavor.persistent {
        Stores::persistent_window_store("w", r, size, Utf8, I64)
    } else {
        Stores::in_memory_window_store("w", r, size, Utf8, I64)
    };
    let builder = if flavor.caching {
        builder.with_caching_enabled()
    } else {
        builder
    };
    build(&builder, temp(), 1 << 20)
}

fn window_suite(flavor: Flavor) {
    let f = window_store(flavor, 60);
    let w = &f.handle;
    assert_eq!(w.window_size_ms(), MIN);
    for (k, v, t) in [
        ("a", 1, 2 * MIN),
        ("a", 2, 0),
        ("b", 3, MIN),
        ("a", 4, MIN),
        ("ab", 5, MIN),
    ] {
        w.put(&s(k), &v, t).unwrap();
    }
    assert_eq!(
        collect(w.fetch(&s("a"), 0, 2 * MIN).unwrap()),
        [(0, 2), (MIN, 4), (2 * MIN, 1)],
        "{flavor:?}: one key's windows, oldest first, not `ab`'s"
    );
    assert_eq!(
        collect(w.fetch(&s("a"), 1, 2 * MIN - 1).unwrap()),
        [(MIN, 4)]
    );
    assert_eq!(
        collect(w.backward_fetch(&s("a"), 0, 2 * MIN).unwrap()),
        [(2 * MIN, 1), (MIN, 4), (0, 2)]
    );
    assert_eq!(w.fetch_one(&s("a"), MIN).unwrap(), Some(4));
    assert_eq!(w.fetch_one(&s("a"), MIN + 1).unwrap(), None);
    assert!(collect(w.fetch(&s("zz"), 0, i64::MAX).unwrap()).is_empty());

    // Store order: key bytes, then window start — so `ab`'s windows sort before `a`'s (whose
    // next byte is the timestamp's), as in Kafka Streams' window key layout.
    let all: Vec<(String, i64, i64)> = collect(w.fetch_all(MIN, MIN))
        .into_iter()
        .map(|(wk, v)| (wk.key, wk.window.start_ms, v))
        .collect();
    assert_eq!(
        all,
        [(s("ab"), MIN, 5), (s("a"), MIN, 4), (s("b"), MIN, 3)],
        "{flavor:?}"
    );
    let first = collect(w.all()).remove(0).0;
    assert_eq!(
        first,
        Windowed {
            key: s("ab"),
            window: Window {
                start_ms: MIN,
                end_ms: 2 * MIN
            }
        }
    );
    let ranged: Vec<String> = collect(w.fetch_key_range(&s("ab"), &s("b"), 0, i64::MAX).unwrap())
        .into_iter()
        .map(|(wk, _)| wk.key)
        .collect();
    assert_eq!(ranged, [s("ab"), s("b")]);

    // Overwrite and delete.
    w.put(&s("b"), &30, MIN).unwrap();
    assert_eq!(w.fetch_one(&s("b"), MIN).unwrap(), Some(30));
    f.store.flush().unwrap();
    assert_eq!(w.fetch_one(&s("b"), MIN).unwrap(), Some(30));
}

#[test]
fn window_store_in_memory() {
    window_suite(FLAVORS[0]);
}

#[test]
fn window_store_rocksdb() {
    window_suite(FLAVORS[1]);
}

#[test]
fn window_store_in_memory_cached() {
    window_suite(FLAVORS[2]);
}

#[test]
fn window_store_rocksdb_cached() {
    window_suite(FLAVORS[3]);
}

/// Retention 10 s: window segments of 5 s. A single-key fetch reads only the segments its time
/// range reaches, reads on past the expired windows of a kept segment (more than a page of
/// them), and skips longer keys with the same first bytes (`ab` for `a`), whatever their times.
#[test]
fn single_key_fetches_read_the_segments_of_their_times() {
    // Keeping duplicates: the join's stores, whose RocksDB segments have an in-memory copy.
    for (flavor, duplicates) in FLAVORS.into_iter().flat_map(|f| [(f, false), (f, true)]) {
        let (retention, size) = (Duration::from_secs(10), Duration::from_millis(1));
        let builder = if flavor.persistent {
            Stores::persistent_window_store("w", retention, size, Utf8, I64)
        } else {
            Stores::in_memory_window_store("w", retention, size, Utf8, I64)
        };
        let builder = if duplicates {
            builder.with_retain_duplicates()
        } else {
            builder
        };
        let f: Fixture<WindowStore<String, i64>> = build(&builder, temp(), 1 << 20);
        let w = &f.handle;
        for t in 0..=14_990 {
            w.put(&s("a"), &t, t).unwrap();
            if t % 100 == 0 {
                w.put(&s("ab"), &-t, t).unwrap();
            }
        }
        // Stream time 14.99 s: windows at or before 4.99 s are expired, the segment of
        // [0, 5 s) is kept for the 9 ms after them.
        let fetched = |from, to| -> Vec<i64> {
            let all = collect(w.fetch(&s("a"), from, to).unwrap());
            let mut at_once = vec![(1, 1)];
            w.fetch_into(&s("a"), from, to, &mut at_once).unwrap();
            assert_eq!(at_once, all, "{flavor:?}: fetch_into reads what fetch does");
            all.into_iter()
                .map(|(start, v)| {
                    assert_eq!(start, v, "{flavor:?}");
                    v
                })
                .collect()
        };
        assert_eq!(
            fetched(0, 4_999),
            (4_991..=4_999).collect::<Vec<_>>(),
            "{flavor:?}"
        );
        assert_eq!(fetched(0, 14_990), (4_991..=14_990).collect::<Vec<_>>());
        assert_eq!(fetched(i64::MIN, i64::MAX).len(), 10_000);
        assert_eq!(fetched(9_998, 10_001), [9_998, 9_999, 10_000, 10_001]);
        assert_eq!(fetched(14_991, 30_000), Vec::<i64>::new());
        let backward: Vec<i64> = collect(w.backward_fetch(&s("a"), 0, 4_993).unwrap())
            .into_iter()
            .map(|(_, v)| v)
            .collect();
        assert_eq!(backward, [4_993, 4_992, 4_991], "{flavor:?}");
    }
}

fn retention_suite(flavor: Flavor) {
    // Retention 10 minutes: segments of 5 minutes.
    let f = window_store(flavor, 10);
    let w = &f.handle;
    for t in 0..5 {
        w.put(&s("k"), &t, t * MIN).unwrap();
    }
    w.put(&s("k"), &12, 12 * MIN).unwrap();
    f.store.flush_cache().unwrap();
    // Stream time 12 min: windows starting at or before 2 min are expired.
    assert_eq!(
        collect(w.fetch(&s("k"), 0, i64::MAX).unwrap()),
        [(3 * MIN, 3), (4 * MIN, 4), (12 * MIN, 12)],
        "{flavor:?}"
    );
    assert_eq!(w.fetch_one(&s("k"), MIN).unwrap(), None);
    // A write to an expired window is dropped.
    w.put(&s("k"), &99, MIN).unwrap();
    f.store.flush_cache().unwrap();
    assert_eq!(w.fetch_one(&s("k"), MIN).unwrap(), None, "{flavor:?}");
    // Far ahead: everything before is gone.
    w.put(&s("k"), &100, 100 * MIN).unwrap();
    f.store.flush().unwrap();
    assert_eq!(
        collect(w.fetch(&s("k"), 0, i64::MAX).unwrap()),
        [(100 * MIN, 100)]
    );
    assert_eq!(collect(w.all()).len(), 1);
}

#[test]
fn window_retention_in_memory() {
    retention_suite(FLAVORS[0]);
}

#[test]
fn window_retention_rocksdb() {
    retention_suite(FLAVORS[1]);
}

#[test]
fn window_retention_cached() {
    retention_suite(FLAVORS[3]);
}

/// A join's window store segments keep an in-memory copy, read instead of RocksDB: the same
/// entries, rebuilt from RocksDB when the store is opened again; past its budget the store
/// stops copying and reads RocksDB, with the same results.
#[test]
fn mirrored_segments_read_like_rocksdb_within_and_past_their_budget() {
    use super::mirror::MirrorSwitch;
    let dir = temp();
    let memory = RocksDbMemory::shared();
    let path = dir.path().join("mirrored");
    let open = |switch: &Rc<MirrorSwitch>| {
        let db = super::rocks::RocksDb::open("mirrored", &path, &memory).unwrap();
        SegmentedStore::open(
            "mirrored",
            KeySchema::Window,
            10 * MIN,
            5 * MIN,
            Box::new(RocksSegments {
                db,
                mirror: Some(Rc::clone(switch)),
            }),
        )
        .unwrap()
    };
    let key = |k: &str, t: i64| [k.as_bytes(), &super::segments::encode_time(t)].concat();
    let read = |store: &SegmentedStore| {
        let all = store.scan(&ByteRange::all(), false, 1_000).unwrap();
        let one = store.get(&key("a", MIN)).unwrap();
        (all, one)
    };
    let written = {
        let switch = MirrorSwitch::with_budget("mirrored", usize::MAX);
        let store = open(&switch);
        for (k, t) in [("a", 0), ("a", MIN), ("b", 6 * MIN), ("ab", MIN)] {
            store.put(&key(k, t), Some(k.as_bytes()), None).unwrap();
        }
        store.put(&key("b", 6 * MIN), None, None).unwrap();
        assert!(switch.is_on());
        let written = read(&store);
        assert_eq!(written.0.len(), 3);
        assert_eq!(written.1.as_deref(), Some(b"a".as_slice()));
        store.close().unwrap();
        written
    };
    // Reopened: the copy is read back from RocksDB.
    let switch = MirrorSwitch::with_budget("mirrored", usize::MAX);
    let store = open(&switch);
    assert_eq!(read(&store), written);
    store.close().unwrap();
    // A budget too small for the next write: the store reads RocksDB from then on.
    let switch = MirrorSwitch::with_budget("mirrored", 0);
    let store = open(&switch);
    assert!(
        !switch.is_on(),
        "the copy of the reopened store does not fit"
    );
    assert_eq!(read(&store), written);
    store.put(&key("c", MIN), Some(b"c"), None).unwrap();
    assert_eq!(read(&store).0.len(), 4);
    store.close().unwrap();
}

#[test]
fn expired_rocksdb_segments_are_dropped_and_reopened_segments_kept() {
    let dir = temp();
    let memory = RocksDbMemory::shared();
    let path = dir.path().join("seg");
    let open = || {
        let db = super::rocks::RocksDb::open("seg", &path, &memory).unwrap();
        SegmentedStore::open(
            "seg",
            KeySchema::Window,
            10 * MIN,
            5 * MIN,
            Box::new(RocksSegments {
                db: Rc::clone(&db),
                mirror: None,
            }),
        )
        .map(|s| (s, db))
        .unwrap()
    };
    let key = |t: i64| [b"k".as_slice(), &super::segments::encode_time(t)].concat();
    {
        let (store, db) = open();
        for t in [0, 6 * MIN, 11 * MIN] {
            store.put(&key(t), Some(b"v"), None).unwrap();
        }
        assert_eq!(db.families_with_prefix("segment-").unwrap().len(), 3);
        store.put(&key(16 * MIN), Some(b"v"), None).unwrap();
        // Stream time 16 min: live from 6 min + 1 ms, so segment 0 (0–5 min) is dropped.
        let mut segments = db.families_with_prefix("segment-").unwrap();
        segments.sort();
        assert_eq!(segments, ["1", "2", "3"]);
        store.close().unwrap();
    }
    let (store, _db) = open();
    let entries = store.scan(&ByteRange::all(), false, 100).unwrap();
    assert_eq!(
        entries.len(),
        2,
        "the 6-minute window expired with stream time 16 min"
    );
    store.close().unwrap();
}

#[test]
fn rocksdb_window_store_survives_reopen() {
    let dir = temp();
    let builder = Stores::persistent_window_store(
        "w",
        Duration::from_secs(3600),
        Duration::from_secs(60),
        Utf8,
        I64,
    );
    {
        let f: Fixture<WindowStore<String, i64>> = build(&builder, Rc::clone(&dir), 0);
        f.handle.put(&s("a"), &1, 0).unwrap();
        f.handle.put(&s("a"), &2, 40 * MIN).unwrap();
        f.store.close().unwrap();
    }
    let f: Fixture<WindowStore<String, i64>> = build(&builder, dir, 0);
    assert_eq!(
        collect(f.handle.fetch(&s("a"), 0, i64::MAX).unwrap()),
        [(0, 1), (40 * MIN, 2)]
    );
}

// ---------------------------------------------------------------------------------------------
// Session stores
// ---------------------------------------------------------------------------------------------

fn session(key: &str, start_ms: i64, end_ms: i64) -> Windowed<String> {
    Windowed {
        key: s(key),
        window: Window { start_ms, end_ms },
    }
}

fn session_suite(flavor: Flavor) {
    let r = Duration::from_secs(3600);
    let builder = if flavor.persistent {
        Stores::persistent_session_store("s", r, Utf8, I64)
    } else {
        Stores::in_memory_session_store("s", r, Utf8, I64)
    };
    let builder = if flavor.caching {
        builder.with_caching_enabled()
    } else {
        builder
    };
    assert_eq!(builder.kind(), StoreKind::Session);
    let f: Fixture<SessionStore<String, i64>> = build(&builder, temp(), 1 << 20);
    let st = &f.handle;
    st.put(&session("a", 0, 100), &1).unwrap();
    st.put(&session("a", 500, 700), &2).unwrap();
    st.put(&session("a", 1_000, 1_000), &3).unwrap();
    st.put(&session("ab", 0, 2_000), &9).unwrap();
    st.put(&session("b", 50, 60), &4).unwrap();

    let found = |key: &str, earliest_end: i64, latest_start: i64| -> Vec<(i64, i64, i64)> {
        collect(
            st.find_sessions(&s(key), earliest_end, latest_start)
                .unwrap(),
        )
        .into_iter()
        .map(|(w, v)| (w.window.start_ms, w.window.end_ms, v))
        .collect()
    };
    // Sessions overlapping [600, 900]: only the one from 500 to 700.
    assert_eq!(found("a", 600, 900), [(500, 700, 2)], "{flavor:?}");
    // Overlapping [100, 1000]: all three, by end time.
    assert_eq!(
        found("a", 100, 1_000),
        [(0, 100, 1), (500, 700, 2), (1_000, 1_000, 3)]
    );
    assert_eq!(found("a", 101, 499), Vec::<(i64, i64, i64)>::new());
    assert_eq!(
        collect(st.fetch(&s("b")).unwrap()),
        [(session("b", 50, 60), 4)]
    );
    assert_eq!(
        st.fetch_session(
            &s("a"),
            Window {
                start_ms: 500,
                end_ms: 700
            }
        )
        .unwrap(),
        Some(2)
    );

    st.remove(&session("a", 500, 700)).unwrap();
    assert_eq!(
        found("a", 0, i64::MAX),
        [(0, 100, 1), (1_000, 1_000, 3)],
        "{flavor:?}"
    );
    // Merging: replace two sessions by their union.
    st.remove(&session("a", 0, 100)).unwrap();
    st.remove(&session("a", 1_000, 1_000)).unwrap();
    st.put(&session("a", 0, 1_000), &6).unwrap();
    assert_eq!(
        collect(st.fetch(&s("a")).unwrap()),
        [(session("a", 0, 1_000), 6)]
    );

    // Retention by session end: a session ending 2 hours later expires the old ones.
    st.put(&session("c", 7_200_000, 7_200_000), &1).unwrap();
    f.store.flush_cache().unwrap();
    assert!(collect(st.fetch(&s("a")).unwrap()).is_empty(), "{flavor:?}");
    assert_eq!(collect(st.fetch(&s("c")).unwrap()).len(), 1);
}

#[test]
fn session_store_in_memory() {
    session_suite(FLAVORS[0]);
}

#[test]
fn session_store_rocksdb() {
    session_suite(FLAVORS[1]);
}

#[test]
fn session_store_in_memory_cached() {
    session_suite(FLAVORS[2]);
}

#[test]
fn session_store_rocksdb_cached() {
    session_suite(FLAVORS[3]);
}

// ---------------------------------------------------------------------------------------------
// Builders
// ---------------------------------------------------------------------------------------------

#[test]
fn builders_record_their_declaration() {
    let kv = Stores::persistent_key_value("counts", Utf8, I64);
    assert!(kv.persistent() && kv.logging() && !kv.caching());
    assert_eq!(kv.retention(), None);
    assert_eq!(kv.changelog_topic("app"), "app-counts-changelog");
    assert_eq!(kv.changelog_cleanup_policy(), "compact");
    assert!(kv.changelog_configs().is_empty());
    let kv = kv
        .with_logging_disabled()
        .with_changelog_config("min.insync.replicas", "2");
    assert!(kv.logging(), "a changelog config turns logging on");
    assert_eq!(
        kv.changelog_configs(),
        [("min.insync.replicas".to_string(), "2".to_string())]
    );
    let kv = kv.with_logging_disabled().with_caching_enabled();
    assert!(!kv.logging() && kv.caching());
    assert!(kv.changelog_configs().is_empty(), "forgotten with logging");

    let s = Stores::persistent_session_store("s", Duration::from_secs(5), Utf8, I64);
    assert_eq!(s.retention(), Some(Duration::from_secs(5)));
    assert_eq!(s.changelog_cleanup_policy(), "compact,delete");
}

#[test]
fn invalid_window_parameters_fail_at_build() {
    let dir = temp();
    let ctx = StoreContext::new(TASK, "app", dir.path());
    let bad = Stores::in_memory_window_store(
        "w",
        Duration::from_secs(1),
        Duration::from_secs(2),
        Utf8,
        I64,
    );
    let err = bad.build(&ctx).unwrap_err();
    assert!(matches!(err, StoreError::InvalidConfig { .. }), "{err}");
    assert!(err.to_string().contains("window size"), "{err}");
}
