//! State stores under the test driver: a processor counting records per key and one-minute
//! window in a window store (in-memory and RocksDB), and a cached key-value store.

use std::time::Duration;

use streams_core::codec::{I64, Utf8};
use streams_core::error::ProcessorError;
use streams_core::processor::{Processor, ProcessorContext};
use streams_core::record::Record;
use streams_core::state::{StoreBuilder, Stores, WindowStore, Windowed};
use streams_core::testing::TopologyTestDriver;
use streams_core::topology::{Topology, TopologyBuilder};

const MIN: i64 = 60_000;

fn s(text: &str) -> String {
    text.to_string()
}

/// Counts records per key in tumbling one-minute windows; forwards `key@start` → count.
#[derive(Default)]
struct WindowedCount {
    store: Option<WindowStore<String, i64>>,
}

impl Processor for WindowedCount {
    type KIn = String;
    type VIn = String;
    type KOut = String;
    type VOut = i64;

    fn init(&mut self, ctx: &mut ProcessorContext<'_, String, i64>) -> Result<(), ProcessorError> {
        self.store = Some(ctx.window_store("clicks")?);
        Ok(())
    }

    fn process(
        &mut self,
        record: Record<String, String>,
        ctx: &mut ProcessorContext<'_, String, i64>,
    ) -> Result<(), ProcessorError> {
        let Some(store) = &self.store else {
            return Err(ProcessorError::msg("init did not run"));
        };
        let start = record.timestamp - record.timestamp.rem_euclid(MIN);
        let count = store.fetch_one(&record.key, start)?.unwrap_or(0) + 1;
        store.put(&record.key, &count, start)?;
        let key = format!("{}@{start}", record.key);
        ctx.forward(Record::new(key, count, record.timestamp))
    }
}

fn topology(store: impl StoreBuilder) -> Topology {
    let mut b = TopologyBuilder::new();
    b.add_source("clicks-in", ["clicks"], Utf8, Utf8)
        .add_processor("count", WindowedCount::default, ["clicks-in"])
        .add_state_store(store, ["count"])
        .add_sink("out", "counts", Utf8, I64, ["count"]);
    b.build().expect("valid topology")
}

fn run(store: impl StoreBuilder) {
    let persistent = store.persistent();
    let driver = TopologyTestDriver::new(topology(store)).expect("driver");
    let input = driver.create_input_topic("clicks", Utf8, Utf8);
    let output = driver.create_output_topic("counts", Utf8, I64);
    for (user, t) in [
        ("ann", 1_000),
        ("bob", 2_000),
        ("ann", 30_000),
        ("ann", MIN + 5),
    ] {
        input.pipe_input_at(s(user), s(""), t).unwrap();
    }
    assert_eq!(
        output.read_key_values_to_list().unwrap(),
        [
            (s("ann@0"), 1),
            (s("bob@0"), 1),
            (s("ann@0"), 2),
            (s(&format!("ann@{MIN}")), 1)
        ],
        "persistent: {persistent}"
    );

    let store = driver
        .window_store::<String, i64>("clicks")
        .expect("the window store, by name and types");
    let ann: Vec<(i64, i64)> = store
        .fetch(&s("ann"), 0, 10 * MIN)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(ann, [(0, 2), (MIN, 1)]);

    // Past the 5-minute retention the first minute's windows are gone.
    input.pipe_input_at(s("bob"), s(""), 10 * MIN).unwrap();
    let all: Vec<(Windowed<String>, i64)> = store.all().map(Result::unwrap).collect();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].0.key, "bob");
    assert_eq!(all[0].0.window.start_ms, 10 * MIN);
}

#[test]
fn windowed_count_with_an_in_memory_window_store() {
    run(Stores::in_memory_window_store(
        "clicks",
        Duration::from_secs(300),
        Duration::from_secs(60),
        Utf8,
        I64,
    ));
}

#[test]
fn windowed_count_with_a_rocksdb_window_store() {
    run(Stores::persistent_window_store(
        "clicks",
        Duration::from_secs(300),
        Duration::from_secs(60),
        Utf8,
        I64,
    )
    .with_caching_enabled());
}

#[test]
fn wrong_store_kind_is_a_typed_error() {
    struct WantsKeyValue;
    impl Processor for WantsKeyValue {
        type KIn = String;
        type VIn = String;
        type KOut = String;
        type VOut = String;
        fn init(
            &mut self,
            ctx: &mut ProcessorContext<'_, String, String>,
        ) -> Result<(), ProcessorError> {
            ctx.key_value_store::<String, i64>("clicks")?;
            Ok(())
        }
        fn process(
            &mut self,
            _: Record<String, String>,
            _: &mut ProcessorContext<'_, String, String>,
        ) -> Result<(), ProcessorError> {
            Ok(())
        }
    }
    let mut b = TopologyBuilder::new();
    b.add_source("in", ["in"], Utf8, Utf8)
        .add_processor("p", || WantsKeyValue, ["in"])
        .add_state_store(
            Stores::in_memory_window_store(
                "clicks",
                Duration::from_secs(300),
                Duration::from_secs(60),
                Utf8,
                I64,
            ),
            ["p"],
        );
    let err = TopologyTestDriver::new(b.build().unwrap()).unwrap_err();
    assert!(err.to_string().contains("is not a"), "{err}");
}

#[test]
fn driver_flushes_caches_after_each_record() {
    // A cached, persistent key-value store: the driver commits after every record, so the
    // store below the cache sees each write by the time `pipe_input` returns.
    let mut b = TopologyBuilder::new();
    b.add_source("in", ["in"], Utf8, Utf8)
        .add_processor("count", WindowedCount::default, ["in"])
        .add_state_store(
            Stores::persistent_window_store(
                "clicks",
                Duration::from_secs(300),
                Duration::from_secs(60),
                Utf8,
                I64,
            )
            .with_caching_enabled(),
            ["count"],
        );
    let driver = TopologyTestDriver::new(b.build().unwrap()).unwrap();
    driver
        .create_input_topic("in", Utf8, Utf8)
        .pipe_input_at(s("k"), s(""), 0)
        .unwrap();
    let store = driver.window_store::<String, i64>("clicks").unwrap();
    assert_eq!(store.fetch_one(&s("k"), 0).unwrap(), Some(1));
}
