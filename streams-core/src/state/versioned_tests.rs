//! Versioned key-value stores, over both engines: history, the retention bound, out-of-order
//! writes, tombstones, the changelog and restoration, a reopened RocksDB store, and a randomized
//! comparison with a plain model of the semantics.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use crate::codec::{Nullable, Utf8};
use crate::task_id::TaskId;

use super::context::{StoreContext, TempDir};
use super::*;

const TASK: TaskId = TaskId {
    subtopology: 0,
    partition: 1,
};

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

type Store = VersionedKeyValueStore<String, Option<String>>;

struct Fixture {
    store: Store,
    lifecycle: Rc<dyn StateStore>,
    changelog: Rc<Recorder>,
    dir: Rc<TempDir>,
}

fn engines() -> Vec<bool> {
    if cfg!(feature = "rocksdb") {
        vec![false, true]
    } else {
        vec![false]
    }
}

fn builder(
    persistent: bool,
    history: Duration,
    interval: Option<Duration>,
) -> VersionedKeyValueStoreBuilder<String, Option<String>, Utf8, Nullable<Utf8>> {
    #[cfg(feature = "rocksdb")]
    let b = if persistent {
        Stores::persistent_versioned_key_value_store("v", history, Utf8, Nullable(Utf8))
    } else {
        Stores::in_memory_versioned_key_value_store("v", history, Utf8, Nullable(Utf8))
    };
    #[cfg(not(feature = "rocksdb"))]
    let b = {
        let _ = persistent;
        Stores::in_memory_versioned_key_value_store("v", history, Utf8, Nullable(Utf8))
    };
    match interval {
        Some(i) => b.with_segment_interval(i),
        None => b,
    }
}

fn open(
    persistent: bool,
    history_ms: u64,
    interval_ms: Option<u64>,
    dir: Option<Rc<TempDir>>,
) -> Fixture {
    let dir = dir.unwrap_or_else(|| Rc::new(TempDir::new("streams-versioned-test").unwrap()));
    let changelog = Rc::new(Recorder::default());
    let b = builder(
        persistent,
        Duration::from_millis(history_ms),
        interval_ms.map(Duration::from_millis),
    );
    let ctx = StoreContext::new(TASK, "app", dir.path()).with_changelog(changelog.clone());
    let built = b.build(&ctx).expect("store builds");
    Fixture {
        store: built.handle().expect("a versioned handle"),
        lifecycle: Rc::clone(built.state_store()),
        changelog,
        dir,
    }
}

fn s(v: &str) -> String {
    v.to_string()
}

fn value_at(store: &Store, key: &str, t: i64) -> Option<String> {
    store.get_as_of(&s(key), t).unwrap().and_then(|r| r.value)
}

#[test]
fn history_answers_as_of_any_time_and_takes_out_of_order_writes() {
    for persistent in engines() {
        let f = open(persistent, 30_000, None, None);
        let (v, a) = (&f.store, s("A"));
        assert_eq!(
            v.put(&a, &Some(s("t1")), 1_000).unwrap(),
            PutOutcome::Latest
        );
        assert_eq!(
            v.put(&a, &Some(s("t3")), 9_000).unwrap(),
            PutOutcome::Latest
        );
        assert_eq!(
            v.put(&a, &Some(s("t2")), 5_000).unwrap(),
            PutOutcome::ValidTo(9_000)
        );
        assert_eq!(value_at(v, "A", 999), None);
        assert_eq!(value_at(v, "A", 1_000).as_deref(), Some("t1"));
        assert_eq!(value_at(v, "A", 4_999).as_deref(), Some("t1"));
        assert_eq!(value_at(v, "A", 5_000).as_deref(), Some("t2"));
        assert_eq!(value_at(v, "A", 8_999).as_deref(), Some("t2"));
        assert_eq!(value_at(v, "A", 9_000).as_deref(), Some("t3"));
        let t2 = v.get_as_of(&a, 6_000).unwrap().unwrap();
        assert_eq!((t2.timestamp, t2.valid_to), (5_000, Some(9_000)));
        let t1 = v.get_as_of(&a, 2_000).unwrap().unwrap();
        assert_eq!((t1.timestamp, t1.valid_to), (1_000, Some(5_000)));
        let latest = v.get(&a).unwrap().unwrap();
        assert_eq!(
            (latest.value.as_deref(), latest.timestamp, latest.valid_to),
            (Some("t3"), 9_000, None)
        );
        // The same timestamp again replaces that version.
        assert_eq!(
            v.put(&a, &Some(s("t2'")), 5_000).unwrap(),
            PutOutcome::ValidTo(9_000)
        );
        assert_eq!(value_at(v, "A", 5_000).as_deref(), Some("t2'"));
        // Keys that are prefixes of each other keep their histories apart.
        v.put(&s("AB"), &Some(s("x")), 3_000).unwrap();
        assert_eq!(value_at(v, "A", 3_000).as_deref(), Some("t1"));
        assert_eq!(value_at(v, "AB", 6_000).as_deref(), Some("x"));
        assert_eq!(value_at(v, "AB", 2_999), None);
        assert_eq!(v.get(&s("B")).unwrap(), None);
        assert_eq!(v.history_retention(), Duration::from_secs(30));
    }
}

#[test]
fn the_history_bound_is_inclusive_and_older_writes_are_refused() {
    for persistent in engines() {
        let f = open(persistent, 30_000, None, None);
        let (v, a) = (&f.store, s("A"));
        v.put(&a, &Some(s("t1")), 1_000).unwrap();
        v.put(&a, &Some(s("t3")), 9_000).unwrap();
        v.put(&a, &None, 12_000).unwrap();
        v.put(&a, &Some(s("t5")), 40_000).unwrap();
        // Stream time 40 000, history 30 s: the bound is 10 000.
        assert_eq!(value_at(v, "A", 9_999), None);
        assert_eq!(value_at(v, "A", 10_000).as_deref(), Some("t3"));
        assert_eq!(value_at(v, "A", 12_000), None);
        assert_eq!(value_at(v, "A", 40_000).as_deref(), Some("t5"));
        assert_eq!(
            v.put(&a, &Some(s("late")), 9_999).unwrap(),
            PutOutcome::Expired
        );
        assert_eq!(v.delete(&a, 9_999).unwrap(), None);
        assert_eq!(
            v.put(&a, &Some(s("edge")), 10_000).unwrap(),
            PutOutcome::ValidTo(12_000)
        );
        assert_eq!(value_at(v, "A", 11_000).as_deref(), Some("edge"));
        // The newest version never expires, however old.
        v.put(&s("B"), &Some(s("u1")), 20_000).unwrap();
        v.put(&s("C"), &Some(s("c")), 100_000).unwrap();
        assert_eq!(value_at(v, "B", 20_000).as_deref(), Some("u1"));
        assert_eq!(value_at(v, "B", 19_999), None);
        assert_eq!(value_at(v, "A", 50_000).as_deref(), Some("t5"));
        assert_eq!(value_at(v, "A", 60_000).as_deref(), Some("t5"));
        // Refused writes are not logged.
        let logged = f.changelog.0.borrow();
        assert!(logged.iter().all(|(_, v, _)| v.as_deref() != Some(b"late")));
    }
}

#[test]
fn tombstones_are_versions() {
    for persistent in engines() {
        let f = open(persistent, 60_000, Some(1_000), None);
        let (v, a) = (&f.store, s("A"));
        v.put(&a, &Some(s("t1")), 1_000).unwrap();
        let deleted = v.delete(&a, 5_000).unwrap().unwrap();
        assert_eq!(
            (
                deleted.value.as_deref(),
                deleted.timestamp,
                deleted.valid_to
            ),
            (Some("t1"), 1_000, None)
        );
        assert_eq!(v.get(&a).unwrap(), None);
        assert_eq!(value_at(v, "A", 4_999).as_deref(), Some("t1"));
        assert_eq!(value_at(v, "A", 5_000), None);
        assert_eq!(value_at(v, "A", 50_000), None);
        // Out of order before the tombstone: valid until it.
        assert_eq!(
            v.put(&a, &Some(s("t2")), 3_000).unwrap(),
            PutOutcome::ValidTo(5_000)
        );
        assert_eq!(value_at(v, "A", 4_000).as_deref(), Some("t2"));
        // A value after the tombstone; the tombstone still hides 5 000..8 000.
        assert_eq!(
            v.put(&a, &Some(s("t3")), 8_000).unwrap(),
            PutOutcome::Latest
        );
        assert_eq!(value_at(v, "A", 7_999), None);
        assert_eq!(value_at(v, "A", 8_000).as_deref(), Some("t3"));
        // Out of order between tombstone and value.
        assert_eq!(
            v.put(&a, &Some(s("t4")), 6_000).unwrap(),
            PutOutcome::ValidTo(8_000)
        );
        assert_eq!(value_at(v, "A", 5_999), None);
        assert_eq!(value_at(v, "A", 6_000).as_deref(), Some("t4"));
        // A delete as of a time with no version returns nothing, and a tombstone over a
        // tombstone is fine.
        assert_eq!(v.delete(&s("B"), 2_000).unwrap(), None);
        assert_eq!(v.delete(&s("B"), 3_000).unwrap(), None);
        assert_eq!(value_at(v, "B", 10_000), None);
        // The changelog has every write, tombstones as null values, with its timestamp.
        let logged = f.changelog.0.borrow();
        let times: Vec<(Option<&[u8]>, Option<i64>)> = logged
            .iter()
            .filter(|(k, _, _)| k == b"A")
            .map(|(_, v, t)| (v.as_deref(), *t))
            .collect();
        assert_eq!(
            times,
            [
                (Some(&b"t1"[..]), Some(1_000)),
                (None, Some(5_000)),
                (Some(&b"t2"[..]), Some(3_000)),
                (Some(&b"t3"[..]), Some(8_000)),
                (Some(&b"t4"[..]), Some(6_000)),
            ]
        );
    }
}

#[test]
fn a_null_key_is_an_error() {
    let v: VersionedKeyValueStore<Option<String>, String> =
        VersionedKeyValueStore::in_memory("v", Duration::from_secs(1), Nullable(Utf8), Utf8)
            .unwrap();
    let err = v.put(&None, &s("x"), 0).unwrap_err();
    assert!(matches!(err, StoreError::Codec { .. }), "{err}");
    assert!(v.get_as_of(&None, 0).is_err());
}

#[test]
fn a_zero_segment_interval_is_refused() {
    let dir = TempDir::new("streams-versioned-test").unwrap();
    let b = builder(false, Duration::from_secs(1), Some(Duration::ZERO));
    let err = b
        .build(&StoreContext::new(TASK, "app", dir.path()))
        .unwrap_err();
    assert!(matches!(err, StoreError::InvalidConfig { .. }), "{err}");
}

#[test]
fn builders_declare_kind_retention_and_no_cache() {
    let b = builder(false, Duration::from_secs(30), None)
        .with_changelog_config("segment.bytes", "1000");
    assert_eq!(b.kind(), StoreKind::VersionedKeyValue);
    assert_eq!(b.retention(), Some(Duration::from_secs(30)));
    assert!(b.logging() && !b.caching() && !b.persistent());
    assert_eq!(b.changelog_cleanup_policy(), "compact");
    assert_eq!(b.changelog_configs().len(), 1);
    let b = b.with_logging_disabled();
    assert!(!b.logging() && b.changelog_configs().is_empty());
}

// ---- a randomized comparison with a model ------------------------------------------------------

/// The semantics, plainly: every version ever written, per key.
#[derive(Default)]
struct Model {
    versions: BTreeMap<String, BTreeMap<i64, Option<String>>>,
    observed: Option<i64>,
    history: i64,
}

impl Model {
    fn bound(&self) -> i64 {
        self.observed.map_or(i64::MIN, |o| o - self.history)
    }

    fn put(&mut self, key: &str, value: Option<String>, t: i64) -> PutOutcome {
        if t < self.bound() {
            return PutOutcome::Expired;
        }
        self.observed = Some(self.observed.map_or(t, |o| o.max(t)));
        let versions = self.versions.entry(key.to_string()).or_default();
        versions.insert(t, value);
        match versions.range(t + 1..).next() {
            Some((next, _)) => PutOutcome::ValidTo(*next),
            None => PutOutcome::Latest,
        }
    }

    fn get_as_of(&self, key: &str, t: i64) -> Option<(String, i64, Option<i64>)> {
        let versions = self.versions.get(key)?;
        let (latest_from, latest) = versions.last_key_value()?;
        if *latest_from <= t {
            return latest.clone().map(|v| (v, *latest_from, None));
        }
        if t < self.bound() {
            return None;
        }
        let (from, value) = versions.range(..=t).next_back()?;
        let next = versions.range(t + 1..).next().map(|(n, _)| *n);
        value.clone().map(|v| (v, *from, next))
    }
}

/// xorshift64*: deterministic and good enough to pick operations.
struct Rng(u64);

impl Rng {
    fn next(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }
}

fn check_against(model: &Model, store: &Store, keys: &[&str], around: i64) {
    for key in keys {
        for t in (around - 70)..=(around + 5) {
            let got = store
                .get_as_of(&s(key), t)
                .unwrap()
                .and_then(|r| r.value.map(|v| (v, r.timestamp, r.valid_to)));
            assert_eq!(got, model.get_as_of(key, t), "key {key} as of {t}");
        }
        let latest = store
            .get(&s(key))
            .unwrap()
            .and_then(|r| r.value.map(|v| (v, r.timestamp, r.valid_to)));
        assert_eq!(latest, model.get_as_of(key, i64::MAX), "latest of {key}");
    }
}

#[test]
fn random_writes_match_the_model_and_restore_from_the_changelog() {
    let keys = ["a", "ab", "b"];
    for persistent in engines() {
        for (seed, history, interval) in [(7u64, 40i64, 7u64), (99, 15, 100), (12345, 0, 3)] {
            let f = open(persistent, history as u64, Some(interval), None);
            let mut model = Model {
                history,
                ..Model::default()
            };
            let mut rng = Rng(seed);
            let mut now = 100i64;
            for step in 0..400 {
                now += rng.next(4) as i64;
                let t = now - rng.next(60) as i64;
                let key = keys[rng.next(3) as usize];
                let value = (rng.next(5) != 0).then(|| format!("{key}{step}"));
                if value.is_none() && rng.next(2) == 0 {
                    let expected = if t < model.bound() {
                        None
                    } else {
                        model.get_as_of(key, t)
                    };
                    let got = f.store.delete(&s(key), t).unwrap();
                    let got = got.and_then(|r| r.value.map(|v| (v, r.timestamp, r.valid_to)));
                    assert_eq!(got, expected, "delete {key} at {t}");
                    model.put(key, None, t);
                } else {
                    let got = f.store.put(&s(key), &value, t).unwrap();
                    assert_eq!(got, model.put(key, value, t), "put {key} at {t}");
                }
                if step % 20 == 0 {
                    check_against(&model, &f.store, &keys, now);
                }
            }
            check_against(&model, &f.store, &keys, now);

            // A fresh store restored from the changelog answers the same.
            let restored = open(persistent, history as u64, Some(interval), None);
            let logged = f.changelog.0.borrow();
            let records: Vec<RestoreRecord<'_>> = logged
                .iter()
                .map(|(k, v, t)| RestoreRecord {
                    key: k,
                    value: v.as_deref(),
                    timestamp: t.expect("versioned changelog records carry their timestamp"),
                })
                .collect();
            for batch in records.chunks(37) {
                restored.lifecycle.restore_batch(batch).unwrap();
            }
            check_against(&model, &restored.store, &keys, now);
            assert!(
                restored.changelog.0.borrow().is_empty(),
                "restoring logs nothing"
            );
            let _ = &f.dir;
        }
    }
}

#[cfg(feature = "rocksdb")]
#[test]
fn a_reopened_rocksdb_store_keeps_its_versions_and_stream_time() {
    let f = open(true, 10_000, Some(2_000), None);
    let a = s("A");
    for (i, t) in [1_000, 4_000, 7_000, 20_000].iter().enumerate() {
        f.store.put(&a, &Some(format!("v{i}")), *t).unwrap();
    }
    f.store.put(&a, &Some(s("late")), 12_000).unwrap();
    f.lifecycle.flush().unwrap();
    f.lifecycle.close().unwrap();
    let dir = Rc::clone(&f.dir);
    drop(f);

    let g = open(true, 10_000, Some(2_000), Some(dir));
    assert_eq!(value_at(&g.store, "A", 12_500).as_deref(), Some("late"));
    assert_eq!(value_at(&g.store, "A", 10_000).as_deref(), Some("v2"));
    assert_eq!(value_at(&g.store, "A", 9_999), None); // past the history bound (20 000 − 10 000)
    assert_eq!(value_at(&g.store, "A", 25_000).as_deref(), Some("v3"));
    // The stream time survived: a write older than the bound is still refused.
    assert_eq!(
        g.store.put(&a, &Some(s("x")), 9_000).unwrap(),
        PutOutcome::Expired
    );
    g.lifecycle.close().unwrap();
}
