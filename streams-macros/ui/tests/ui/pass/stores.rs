//! Every in-memory store kind of `topology!` compiles, and a `#[processor]` function can take
//! each kind's handle (the `persistent_` kinds need RocksDB: `tests/macros.rs` covers them).
use streams::error::ProcessorError;
use streams::processor::ProcessorContext;
use streams::record::Record;
use streams::state::{
    KeyValueStore, SessionStore, TimestampedKeyValueStore, ValueAndTimestamp, Window, WindowStore,
    Windowed,
};
use streams::testing::TopologyTestDriver;
use streams::codec::{I64, Utf8};
use streams::{processor, topology};

#[processor]
fn record_all(
    record: Record<String, i64>,
    ctx: &mut ProcessorContext<'_, String, i64>,
    totals: &KeyValueStore<String, i64>,
    table: &TimestampedKeyValueStore<String, i64>,
    windows: &WindowStore<String, i64>,
    sessions: &SessionStore<String, i64>,
) -> Result<(), ProcessorError> {
    let t = record.timestamp;
    totals.put(&record.key, &record.value)?;
    table.put(&record.key, &ValueAndTimestamp::make(record.value, t))?;
    windows.put(&record.key, &record.value, t - t % 1_000)?;
    let session = Windowed { key: record.key.clone(), window: Window { start_ms: t, end_ms: t } };
    sessions.put(&session, &record.value)?;
    ctx.forward(record)
}

fn main() {
    let app = topology! {
        crate = ::streams;
        source input: <String, i64> = "input" as utf8, default;
        sink output: <String, i64> = "output" as utf8, default;
        store totals: key_value<String, i64> as utf8, default;
        store table: timestamped_key_value<String, i64> as utf8, default;
        store windows: window<String, i64>(60_000, 1_000) as utf8, default;
        store sessions: session<String, i64>(60_000) as utf8, default;
        input -> record_all(totals, table, windows, sessions) -> output;
    }
    .expect("valid");
    let driver = TopologyTestDriver::new(app.topology).expect("driver");
    driver
        .create_input_topic("input", Utf8, I64)
        .pipe_input_at("k".to_string(), 7, 1_500)
        .expect("processed");
    let windows = driver.window_store::<String, i64>("windows").expect("window store");
    let fetched: Vec<_> = windows.fetch(&"k".to_string(), 0, 2_000).unwrap().map(Result::unwrap).collect();
    assert_eq!(fetched, [(1_000, 7)]);
    let table = driver.timestamped_key_value_store::<String, i64>("table").expect("table");
    assert_eq!(table.get(&"k".to_string()).unwrap(), Some(ValueAndTimestamp::make(7, 1_500)));
}
