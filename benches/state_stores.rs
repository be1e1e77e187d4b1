//! State store put/get: in-memory and RocksDB, with the record cache off and on. Keys are
//! `I64` (100 000 distinct, visited in a scattered order), values `I64`; each measured operation
//! is one typed call through the codecs. With the cache on, the cache is flushed every 10 000
//! operations, as a commit would (`statestore.cache.max.bytes` = 10 MiB).
//!
//! `state_stores_restore` replays changelog batches of 1 000 records (100-byte values) into a
//! store, the restoration path.
//!
//! `cargo bench --bench state_stores`

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use streams::codec::I64;
use streams::processor::TaskId;
use streams::state::{
    BuiltStore, KeyValueStore, RecordCache, RestoreRecord, StoreBuilder, StoreContext, Stores,
};

const KEYS: i64 = 100_000;
const COMMIT_EVERY: u64 = 10_000;
const RESTORE_BATCH: usize = 1_000;

struct Bench {
    kv: KeyValueStore<i64, i64>,
    built: BuiltStore,
    _dir: TempDir,
}

/// A directory removed on drop.
struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn store(persistent: bool, cached: bool) -> Bench {
    let dir = std::env::temp_dir().join(format!(
        "streams-bench-{}-{persistent}-{cached}",
        std::process::id()
    ));
    let task = TaskId {
        subtopology: 0,
        partition: 0,
    };
    let ctx = StoreContext::new(task, "bench", &dir)
        .with_record_cache(RecordCache::new(RecordCache::DEFAULT_MAX_BYTES));
    let builder = if persistent {
        Stores::persistent_key_value("kv", I64, I64)
    } else {
        Stores::in_memory_key_value("kv", I64, I64)
    };
    let builder = if cached {
        builder.with_caching_enabled()
    } else {
        builder
    }
    .with_logging_disabled();
    let built = builder.build(&ctx).expect("store");
    let kv = built.handle().expect("typed handle");
    Bench {
        kv,
        built,
        _dir: TempDir(dir),
    }
}

/// The i-th key of a scattered walk over the key space.
fn key(i: u64) -> i64 {
    ((i as i64).wrapping_mul(7_919)).rem_euclid(KEYS)
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("state_stores");
    group.throughput(Throughput::Elements(1));
    group.measurement_time(Duration::from_secs(3));
    for persistent in [false, true] {
        for cached in [false, true] {
            let label = format!(
                "{}/{}",
                if persistent { "rocksdb" } else { "in_memory" },
                if cached { "cache_on" } else { "cache_off" }
            );
            let b = store(persistent, cached);
            let mut i = 0_u64;
            group.bench_function(BenchmarkId::new("put", &label), |bench| {
                bench.iter(|| {
                    i += 1;
                    b.kv.put(&key(i), &(i as i64)).expect("put");
                    if cached && i.is_multiple_of(COMMIT_EVERY) {
                        b.built.state_store().flush_cache().expect("flush");
                    }
                })
            });
            for k in 0..KEYS {
                b.kv.put(&k, &k).expect("preload");
            }
            b.built.state_store().flush().expect("flush");
            let mut i = 0_u64;
            group.bench_function(BenchmarkId::new("get", &label), |bench| {
                bench.iter(|| {
                    i += 1;
                    black_box(b.kv.get(&key(i)).expect("get"))
                })
            });
            b.built.state_store().close().expect("close");
        }
    }
    group.finish();

    // Restoration: changelog batches of 1 000 records replayed below cache and logging (RocksDB:
    // one write batch, WAL off).
    let mut group = c.benchmark_group("state_stores_restore");
    group.throughput(Throughput::Elements(RESTORE_BATCH as u64));
    group.measurement_time(Duration::from_secs(3));
    let keys: Vec<[u8; 8]> = (0..RESTORE_BATCH as u64)
        .map(|i| key(i).to_be_bytes())
        .collect();
    let value = [7_u8; 100];
    for persistent in [false, true] {
        let b = store(persistent, false);
        let mut round = 0_i64;
        let label = if persistent { "rocksdb" } else { "in_memory" };
        group.bench_function(BenchmarkId::new("batch_1000_x_100b", label), |bench| {
            bench.iter(|| {
                round += 1;
                let records: Vec<RestoreRecord<'_>> = keys
                    .iter()
                    .map(|k| RestoreRecord {
                        key: k,
                        value: Some(&value),
                        timestamp: round,
                    })
                    .collect();
                b.built
                    .state_store()
                    .restore_batch(&records)
                    .expect("restore");
            })
        });
        b.built.state_store().close().expect("close");
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
