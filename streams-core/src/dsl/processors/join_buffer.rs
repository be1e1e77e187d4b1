//! The grace-period buffer of a stream-table join — Kafka Streams'
//! `RocksDBTimeOrderedKeyValueBuffer`: stream records in (timestamp, key bytes, sequence number)
//! order, each with its record context, until the buffer's stream time has passed their timestamp
//! by the grace period.
//!
//! The store (`<join name>-Buffer`, [`Stores::time_ordered_buffer`]) keys each record
//! `[timestamp][key bytes][sequence number: 4 bytes BE]` and holds Kafka Streams' buffer value
//! (format 3, value only) followed by a buffer time of 0, so its changelog is Kafka Streams' too.

use crate::error::ProcessorError;
use crate::state::{KeyValueStore, StoreBuilder, Stores};

use super::suppress::{BufferValue, BufferedContext};
use crate::state::StoreError;

/// The declaration of a join's buffer store: persistent (RocksDB) as Kafka Streams', logged,
/// never cached.
pub(crate) fn buffer_store(name: &str) -> impl StoreBuilder {
    Stores::time_ordered_buffer(name, true)
        .with_logging_enabled()
        .with_caching_disabled()
}

/// A record leaving the buffer: key and value bytes, and its record context.
pub(crate) struct Evicted {
    pub(crate) key: Vec<u8>,
    pub(crate) value: Vec<u8>,
    pub(crate) context: BufferedContext,
}

/// One task's buffer: the store and what Kafka Streams keeps beside it.
pub(crate) struct JoinBuffer {
    store: KeyValueStore<Vec<u8>, Vec<u8>>,
    grace_ms: i64,
    /// The largest timestamp buffered (the buffer's stream time; `i64::MIN` before any).
    observed: i64,
    /// The sequence number of the last record buffered (31 bits, wrapping).
    seqnum: u32,
}

/// The bytes of a time in store keys: sign-flipped big-endian, so byte order is time order.
fn time_bytes(t: i64) -> [u8; 8] {
    ((t as u64) ^ (1 << 63)).to_be_bytes()
}

fn time_of(key: &[u8]) -> Option<i64> {
    let bytes: [u8; 8] = key.get(..8)?.try_into().ok()?;
    Some((u64::from_be_bytes(bytes) ^ (1 << 63)) as i64)
}

impl JoinBuffer {
    /// Opens the buffer over its store; the stream time is taken from the records it still holds
    /// (after a restart, Kafka Streams starts again from none).
    pub(crate) fn open(
        store: KeyValueStore<Vec<u8>, Vec<u8>>,
        grace_ms: i64,
    ) -> Result<Self, ProcessorError> {
        let observed = match store.reverse_all().next() {
            Some(entry) => {
                let (key, _) = entry?;
                time_of(&key).ok_or_else(|| {
                    StoreError::corrupt(store.name(), "a buffer key shorter than its timestamp")
                })?
            }
            None => i64::MIN,
        };
        Ok(JoinBuffer {
            store,
            grace_ms,
            observed,
            seqnum: 0,
        })
    }

    /// Whether a record at `timestamp` is buffered: not when it is already older than the
    /// buffer's stream time minus the grace period (Kafka Streams' `put` returns `false`).
    pub(crate) fn accepts(&self, timestamp: i64) -> bool {
        self.observed.saturating_sub(self.grace_ms) <= timestamp
    }

    /// Buffers a record (Kafka Streams' `put`), whatever its timestamp (ask
    /// [`accepts`](Self::accepts) first).
    pub(crate) fn put(
        &mut self,
        key: &[u8],
        value: Vec<u8>,
        context: BufferedContext,
    ) -> Result<(), ProcessorError> {
        let timestamp = context.timestamp;
        self.seqnum = (self.seqnum + 1) & 0x7fff_ffff;
        let mut store_key = Vec::with_capacity(8 + key.len() + 4);
        store_key.extend_from_slice(&time_bytes(timestamp));
        store_key.extend_from_slice(key);
        store_key.extend_from_slice(&self.seqnum.to_be_bytes());
        let buffered = BufferValue::record(value, context).encode_with_time(0);
        self.store.put(&store_key, &buffered)?;
        self.observed = self.observed.max(timestamp);
        Ok(())
    }

    /// Removes and returns, in order, every record whose timestamp is at most the buffer's
    /// stream time minus the grace period (Kafka Streams' `evictWhile(() -> true, ..)`).
    pub(crate) fn evict_due(&mut self) -> Result<Vec<Evicted>, ProcessorError> {
        let bound = self.observed.saturating_sub(self.grace_ms);
        let from = time_bytes(i64::MIN).to_vec();
        let due: Vec<(Vec<u8>, Vec<u8>)> = if bound == i64::MAX {
            self.store.all().collect::<Result<_, _>>()?
        } else {
            // Keys are longer than 8 bytes, so `[bound + 1]` alone sorts before all of its keys.
            let to = time_bytes(bound + 1).to_vec();
            self.store.range(&from, &to)?.collect::<Result<_, _>>()?
        };
        let mut out = Vec::with_capacity(due.len());
        for (store_key, bytes) in due {
            self.store.delete(&store_key)?;
            let corrupt = |what: &str| StoreError::corrupt(self.store.name(), what);
            let key = store_key
                .get(8..store_key.len().saturating_sub(4))
                .ok_or_else(|| corrupt("a buffer key shorter than its timestamp and sequence"))?
                .to_vec();
            let (value, _) = BufferValue::decode_with_time(&bytes)
                .ok_or_else(|| corrupt("a buffer value not in Kafka Streams' format 3"))?;
            let (value, context) = value.into_record();
            let value = value.ok_or_else(|| corrupt("a buffered record without its value"))?;
            out.push(Evicted {
                key,
                value,
                context,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::rc::Rc;

    use super::*;
    use crate::processor::TaskId;
    use crate::record::Headers;
    use crate::state::{
        ChangelogRecord, ChangelogSink, RestoreRecord, StateStore, StoreContext, TempDir,
    };

    type Logged = (Vec<u8>, Option<Vec<u8>>);

    #[derive(Default)]
    struct Recorder(RefCell<Vec<Logged>>);

    impl ChangelogSink for Recorder {
        fn send(&self, record: ChangelogRecord<'_>) -> Result<(), StoreError> {
            self.0
                .borrow_mut()
                .push((record.key.to_vec(), record.value.map(<[u8]>::to_vec)));
            Ok(())
        }
    }

    struct Opened {
        buffer: JoinBuffer,
        lifecycle: Rc<dyn StateStore>,
        changelog: Rc<Recorder>,
        _dir: TempDir,
    }

    fn open() -> Opened {
        let dir = TempDir::new("streams-join-buffer-test").unwrap();
        let changelog = Rc::new(Recorder::default());
        let task = TaskId {
            subtopology: 0,
            partition: 0,
        };
        let ctx = StoreContext::new(task, "app", dir.path()).with_changelog(changelog.clone());
        let built = buffer_store("j-Buffer").build(&ctx).unwrap();
        let store: KeyValueStore<Vec<u8>, Vec<u8>> = built.handle().unwrap();
        Opened {
            buffer: JoinBuffer::open(store, 5_000).unwrap(),
            lifecycle: Rc::clone(built.state_store()),
            changelog,
            _dir: dir,
        }
    }

    fn context(timestamp: i64) -> BufferedContext {
        BufferedContext::of(None, timestamp, Headers::default())
    }

    fn put(buffer: &mut JoinBuffer, key: &str, value: &str, timestamp: i64) {
        assert!(buffer.accepts(timestamp));
        buffer
            .put(
                key.as_bytes(),
                value.as_bytes().to_vec(),
                context(timestamp),
            )
            .unwrap();
    }

    fn evict(buffer: &mut JoinBuffer) -> Vec<(String, String, i64)> {
        buffer
            .evict_due()
            .unwrap()
            .into_iter()
            .map(|e| {
                (
                    String::from_utf8(e.key).unwrap(),
                    String::from_utf8(e.value).unwrap(),
                    e.context.timestamp,
                )
            })
            .collect()
    }

    #[test]
    fn records_leave_in_time_then_key_then_arrival_order_after_the_grace_period() {
        let mut o = open();
        let b = &mut o.buffer;
        put(b, "B", "b1", 3_000);
        put(b, "A", "a1", 3_000);
        put(b, "A", "a0", 1_000);
        assert!(evict(b).is_empty(), "stream time 3 000: nothing is due");
        put(b, "A", "a2", 3_000);
        put(b, "C", "c1", 8_000);
        assert!(!b.accepts(2_999), "older than stream time − grace");
        assert!(b.accepts(3_000));
        assert_eq!(
            evict(b),
            [
                ("A".into(), "a0".into(), 1_000),
                ("A".into(), "a1".into(), 3_000),
                ("A".into(), "a2".into(), 3_000),
                ("B".into(), "b1".into(), 3_000),
            ]
        );
        assert!(evict(b).is_empty());
    }

    #[test]
    fn the_changelog_is_kafka_streams_and_restores_the_buffer() {
        let mut o = open();
        put(&mut o.buffer, "B", "b1", 3_000);
        put(&mut o.buffer, "C", "c1", 9_000);
        assert_eq!(evict(&mut o.buffer).len(), 1);
        let logged = o.changelog.0.borrow().clone();
        // Kafka Streams' TimeFirstWindowKeySchema: big-endian time, key, sequence number.
        assert_eq!(
            logged[0].0,
            [0, 0, 0, 0, 0, 0, 0x0b, 0xb8, b'B', 0, 0, 0, 1]
        );
        let (value, time) = BufferValue::decode_with_time(logged[0].1.as_ref().unwrap()).unwrap();
        assert_eq!(time, 0);
        let (new, ctx) = value.into_record();
        assert_eq!((new.as_deref(), ctx.timestamp), (Some(&b"b1"[..]), 3_000));
        // The evicted record's tombstone.
        assert_eq!(logged[2], (logged[0].0.clone(), None));

        let fresh = open();
        let records: Vec<RestoreRecord<'_>> = logged
            .iter()
            .map(|(key, value)| RestoreRecord {
                key,
                value: value.as_deref(),
                timestamp: 0,
            })
            .collect();
        fresh.lifecycle.restore_batch(&records).unwrap();
        let store: KeyValueStore<Vec<u8>, Vec<u8>> = fresh.buffer.store.clone();
        let mut restored = JoinBuffer::open(store, 5_000).unwrap();
        assert!(
            !restored.accepts(3_999),
            "stream time 9 000 from the restored record"
        );
        put(&mut restored, "D", "d1", 14_500);
        assert_eq!(evict(&mut restored), [("C".into(), "c1".into(), 9_000)]);
        // Restoring logged nothing: only the new record and the eviction.
        let relogged: Vec<(u8, bool)> = fresh
            .changelog
            .0
            .borrow()
            .iter()
            .map(|(k, v)| (k[8], v.is_some()))
            .collect();
        assert_eq!(relogged, [(b'D', true), (b'C', false)]);
    }
}
