//! Running totals per user: a stateful application whose state survives crashes, queried
//! while it runs.
//!
//! `<app>-purchases` holds JSON purchases keyed by user. One `#[processor]` function adds
//! each amount to the user's total in a **persistent (RocksDB) key-value store**, `totals`,
//! and writes the new total to `<app>-totals`. Every write to the store is also logged to the
//! changelog topic `<app>-totals-changelog` (created by the runtime, compacted), so a restarted
//! or moved task restores its totals before it processes anything: from its `.checkpoint`
//! onwards if its state directory survived, from the start of the changelog otherwise. A
//! restore listener prints what was restored. At the end the example asks the running
//! application for the totals through an **interactive query** (`KafkaStreams::store`).
//!
//! Delivery guarantee: at-least-once: after a crash, purchases processed since the last
//! commit are counted again (in the totals and their changelog).
//!
//! ```text
//! cargo run --example running_totals                             # in-process broker
//! cargo run --example running_totals -- --bootstrap-servers HOST:PORT [--lines N]
//! ```
//!
//! Against a real cluster, run it twice with `--app NAME`: the second run restores the first
//! run's totals from the local checkpoint and the changelog tail, and carries on from them.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use streams::codec::{Codec, Json};
use streams::config::StreamsConfig;
use streams::error::ProcessorError;
use streams::processor::ProcessorContext;
use streams::record::Record;
use streams::runtime::{KafkaStreams, StateRestoreListener};
use streams::state::KeyValueStore;
use streams::topology::Topology;
use streams::{processor, topology};

use support::{Args, Cluster, Result};

const USERS: &[&str] = &["alice", "bob", "carol", "dave", "erin", "frank"];

/// A purchase as the shop writes it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Purchase {
    item: String,
    cents: i64,
}

/// Adds the purchase to the user's total in `totals` and forwards the new total.
#[processor]
fn add_to_total(
    purchase: Record<String, Purchase>,
    ctx: &mut ProcessorContext<'_, String, i64>,
    totals: &KeyValueStore<String, i64>,
) -> std::result::Result<(), ProcessorError> {
    let total = totals.get(&purchase.key)?.unwrap_or(0) + purchase.value.cents;
    totals.put(&purchase.key, &total)?;
    ctx.forward(purchase.with_value(total))
}

/// Purchases → add_to_total (store `totals`, RocksDB, changelogged) → totals.
fn topology(app: &str) -> Result<Topology> {
    let purchases = format!("{app}-purchases");
    let totals_topic = format!("{app}-totals");
    let declared = topology! {
        source purchases: <String, Purchase> = { purchases.as_str() } as utf8, json;
        sink totals_out: <String, i64> = { totals_topic.as_str() } as utf8, default;
        store totals: persistent_key_value<String, i64> as utf8, default;

        purchases -> add_to_total(totals) -> totals_out;
    }?;
    Ok(declared.topology)
}

/// Prints restoration progress and counts the records restored.
#[derive(Clone, Default)]
struct RestorePrinter(Arc<AtomicU64>);

impl StateRestoreListener for RestorePrinter {
    fn on_restore_start(&self, topic: &str, partition: i32, store: &str, start: i64, end: i64) {
        if end > start {
            println!("restoring {store} from {topic}-{partition}: offsets {start}..{end}");
        }
    }

    fn on_restore_end(&self, topic: &str, partition: i32, store: &str, total: u64) {
        self.0.fetch_add(total, Ordering::Relaxed);
        if total > 0 {
            println!("restored {total} records of {store} from {topic}-{partition}");
        }
    }
}

fn main() -> Result<()> {
    support::init_logging();
    let args = Args::parse()?;
    let stop = support::stop_on_signal()?;
    let cluster = Cluster::connect(args.bootstrap_servers.clone())?;
    let app = match (&args.app, cluster.is_embedded()) {
        (Some(app), _) => app.clone(),
        (None, true) => "running-totals".to_string(),
        (None, false) => format!("running-totals-{}", support::run_id()),
    };
    let (input, output) = (format!("{app}-purchases"), format!("{app}-totals"));
    cluster.create_topics(&[(&input, 3), (&output, 3)])?;

    let n = args.lines.unwrap_or(60);
    let purchases: Vec<(String, Vec<u8>)> = (0..n)
        .map(|i| {
            let purchase = Purchase {
                item: format!("item-{}", i % 17),
                cents: 100 + (i as i64 * 37) % 900,
            };
            let mut value = Vec::new();
            Json::<Purchase>::default().encode(&purchase, &mut value)?;
            Ok((USERS[i % USERS.len()].to_string(), value))
        })
        .collect::<Result<_>>()?;
    support::produce(
        cluster.bootstrap_servers(),
        &input,
        purchases
            .iter()
            .map(|(k, v)| (Some(k.as_bytes()), v.as_slice())),
    )?;
    println!("wrote {n} purchases to {input}");

    // On the embedded broker every run starts from empty topics, so it gets a fresh state
    // directory too; against a real cluster the directory is kept for the next run.
    let state_dir = if cluster.is_embedded() {
        std::env::temp_dir().join(format!("streams-running-totals-{}", support::run_id()))
    } else {
        std::env::temp_dir().join("streams-running-totals")
    };
    let config = StreamsConfig::builder()
        .application_id(app.as_str())
        .bootstrap_servers(cluster.bootstrap_servers())
        .set("processing.guarantee", args.guarantee())
        .state_dir(&state_dir)
        .commit_interval(Duration::from_millis(500))
        .build()?;
    let streams = KafkaStreams::new(topology(&app)?, config)?;
    let restored = RestorePrinter::default();
    streams.set_global_state_restore_listener(restored.clone())?;
    let started = Instant::now();
    streams.start()?;

    // One total update per purchase, this run's and earlier runs' (with `--app`).
    let updates = support::record_count(cluster.bootstrap_servers(), &input)?;
    let read = support::read(
        cluster.bootstrap_servers(),
        &output,
        updates,
        Duration::from_secs(120),
        &stop,
        |_, _| {},
    )?;
    println!(
        "read {read} total updates from {output} in {:.2?}",
        started.elapsed()
    );

    // Interactive query: the totals as the running application holds them. A store that is
    // still restoring (or the instance rebalancing) answers with a retryable error.
    let deadline = Instant::now() + Duration::from_secs(30);
    let totals = loop {
        match streams.store::<String, i64>("totals").and_then(|s| s.all()) {
            Ok(all) => break all,
            Err(e) if e.is_retryable() && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => return Err(e.into()),
        }
    };
    let mut totals = totals;
    totals.sort();
    println!(
        "totals (interactive query on the running app, state dir {}):",
        state_dir.display()
    );
    for (user, cents) in &totals {
        println!("{user:>8} {:>8.2}", *cents as f64 / 100.0);
    }
    let alice = streams
        .store::<String, i64>("totals")?
        .get(&"alice".to_string())?;
    println!("get(alice) = {alice:?}");
    println!(
        "records restored from changelogs at start: {}",
        restored.0.load(Ordering::Relaxed)
    );
    let closed = streams.close(Duration::from_secs(30));
    println!("closed cleanly: {closed}");

    // Fresh input on the embedded broker: the totals are exactly the sums.
    if cluster.is_embedded() {
        let mut expected = std::collections::BTreeMap::<String, i64>::new();
        for (user, value) in &purchases {
            *expected.entry(user.clone()).or_default() +=
                Json::<Purchase>::default().decode(value)?.cents;
        }
        let got: std::collections::BTreeMap<String, i64> = totals.into_iter().collect();
        if got != expected {
            return Err(format!("totals {got:?} differ from {expected:?}").into());
        }
        println!("all {} totals match", expected.len());
        let _ = std::fs::remove_dir_all(&state_dir);
    }
    Ok(())
}
