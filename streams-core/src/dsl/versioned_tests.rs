//! Versioned tables in the DSL, on the paths the golden programs of `tests/join_golden.rs` do
//! not reach: what a versioned table source forwards (out-of-order updates, updates older than
//! the history retention), `to_table_with` a versioned store, an in-memory versioned table, and
//! a left join's null keys with a grace period.

use std::time::Duration;

use crate::codec::{Nullable, Utf8};
use crate::testing::TopologyTestDriver;

use super::{Consumed, Joined, KTable, Materialized, StreamsBuilder};

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn s(v: &str) -> String {
    v.to_string()
}

fn versioned_table(b: &StreamsBuilder, materialized: Materialized) -> KTable<String, String> {
    b.table_with("table", Consumed::new(), materialized)
}

#[test]
fn a_versioned_table_forwards_out_of_order_updates_and_drops_expired_ones() {
    // Kafka Streams' KTableSource over a versioned store: every update the store takes is
    // forwarded (an older one too); one older than the history retention is dropped.
    let b = StreamsBuilder::new();
    versioned_table(&b, Materialized::named("vt").versioned(secs(10)))
        .to_stream()
        .to("changes");
    let driver = TopologyTestDriver::new(b.build().unwrap()).unwrap();
    let table = driver.create_input_topic("table", Utf8, Nullable(Utf8));
    for (v, t) in [
        (Some("a1"), 1_000),
        (Some("a3"), 20_000),
        (Some("a2"), 12_000), // out of order, within 20 000 − 10 000
        (Some("a0"), 9_999),  // older than the history retention
        (None, 15_000),       // an out-of-order tombstone
    ] {
        table.pipe_input_at(s("A"), v.map(s), t).unwrap();
    }
    let changes = driver.create_output_topic("changes", Utf8, Nullable(Utf8));
    let got: Vec<(Option<String>, i64)> = changes
        .read_records_to_list()
        .unwrap()
        .into_iter()
        .map(|r| (r.value, r.timestamp))
        .collect();
    assert_eq!(
        got,
        [
            (Some(s("a1")), 1_000),
            (Some(s("a3")), 20_000),
            (Some(s("a2")), 12_000),
            (None, 15_000),
        ]
    );
    assert_eq!(driver.dropped_records(), 1);
    let store = driver
        .versioned_key_value_store::<String, String>("vt")
        .unwrap();
    let at = |t| store.get_as_of(&s("A"), t).unwrap().map(|r| r.value);
    assert_eq!(at(12_500).as_deref(), Some("a2"));
    assert_eq!(at(15_000), None);
    assert_eq!(at(20_000).as_deref(), Some("a3"));
}

#[test]
fn a_stream_made_a_versioned_table_is_joined_as_of_each_record() {
    let b = StreamsBuilder::new();
    let rates = b
        .stream::<String, String>("rates")
        .to_table_with(Materialized::named("rates").in_memory().versioned(secs(60)));
    b.stream::<String, String>("payments")
        .left_join(&rates, |p, r: Option<String>| {
            format!("{p}@{}", r.unwrap_or_else(|| s("?")))
        })
        .to("converted");
    let topology = b.build().unwrap();
    let described = topology.describe().to_string();
    assert!(described.contains("(stores: [rates])"), "{described}");
    let driver = TopologyTestDriver::new(topology).unwrap();
    let rates = driver.create_input_topic("rates", Utf8, Utf8);
    let payments = driver.create_input_topic("payments", Utf8, Utf8);
    rates.pipe_input_at(s("usd"), s("0.9"), 1_000).unwrap();
    rates.pipe_input_at(s("usd"), s("1.1"), 9_000).unwrap();
    rates.pipe_input_at(s("usd"), s("1.0"), 5_000).unwrap();
    for (p, t) in [("p1", 500), ("p2", 4_000), ("p3", 6_000), ("p4", 9_500)] {
        payments.pipe_input_at(s("usd"), s(p), t).unwrap();
    }
    let out = driver.create_output_topic("converted", Utf8, Utf8);
    assert_eq!(
        out.read_values_to_list().unwrap(),
        ["p1@?", "p2@0.9", "p3@1.0", "p4@1.1"]
    );
}

#[test]
fn a_left_join_with_a_grace_period_joins_null_keys_at_once() {
    // Kafka Streams' grace-period buffer fails on a null key ("key cannot be null"); here such a
    // record joins with no row at once, as a left join without grace does.
    let b = StreamsBuilder::new();
    let t: KTable<Option<String>, String> = b.table_with(
        "table",
        Consumed::new(),
        Materialized::named("vt").versioned(secs(30)),
    );
    b.stream::<Option<String>, String>("input")
        .left_join_with(
            &t,
            |v, r: Option<String>| format!("{v}+{}", r.unwrap_or_else(|| s("null"))),
            Joined::named("vj").with_grace_period(secs(5)),
        )
        .to("output");
    let driver = TopologyTestDriver::new(b.build().unwrap()).unwrap();
    let table = driver.create_input_topic("table", Nullable(Utf8), Utf8);
    let input = driver.create_input_topic("input", Nullable(Utf8), Utf8);
    table.pipe_input_at(Some(s("A")), s("t1"), 1_000).unwrap();
    input.pipe_input_at(Some(s("A")), s("s1"), 2_000).unwrap();
    input.pipe_input_at(None, s("x"), 2_500).unwrap();
    input.pipe_input_at(Some(s("A")), s("s2"), 7_000).unwrap();
    let out = driver.create_output_topic("output", Nullable(Utf8), Utf8);
    assert_eq!(
        out.read_key_values_to_list().unwrap(),
        [(None, s("x+null")), (Some(s("A")), s("s1+t1"))]
    );
    assert_eq!(
        driver
            .key_value_store::<Vec<u8>, Vec<u8>>("vj-Buffer")
            .unwrap()
            .approximate_num_entries(),
        1,
        "s2 waits in the buffer"
    );
}
