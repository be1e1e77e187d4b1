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

#[test]
fn table_table_joins_look_versioned_tables_up_by_their_newest_row_and_skip_late_updates() {
    // Kafka Streams (KIP-914): an out-of-order update of a versioned table joins nothing; the
    // other side joins the versioned table's newest version.
    let b = StreamsBuilder::new();
    let left: KTable<String, String> = b.table_with(
        "left",
        Consumed::new(),
        Materialized::named("left-v").versioned(secs(60)),
    );
    let right: KTable<String, String> = b.table_with(
        "right",
        Consumed::new(),
        Materialized::named("right-v").versioned(secs(60)),
    );
    left.join(&right, |l, r| format!("{l}+{r}"))
        .to_stream()
        .to("output");
    let driver = TopologyTestDriver::new(b.build().unwrap()).unwrap();
    let left = driver.create_input_topic("left", Utf8, Utf8);
    let right = driver.create_input_topic("right", Utf8, Utf8);
    right.pipe_input_at(s("A"), s("r1"), 1_000).unwrap();
    left.pipe_input_at(s("A"), s("l2"), 5_000).unwrap();
    left.pipe_input_at(s("A"), s("l1"), 3_000).unwrap(); // out of order: skipped
    right.pipe_input_at(s("A"), s("r0"), 500).unwrap(); // out of order: skipped
    right.pipe_input_at(s("A"), s("r2"), 6_000).unwrap();
    let out = driver.create_output_topic("output", Utf8, Nullable(Utf8));
    let got: Vec<(Option<String>, i64)> = out
        .read_records_to_list()
        .unwrap()
        .into_iter()
        .map(|r| (r.value, r.timestamp))
        .collect();
    assert_eq!(got, [(Some(s("l2+r1")), 5_000), (Some(s("l2+r2")), 6_000)]);
    assert_eq!(driver.dropped_records(), 2);
}

#[test]
fn aggregating_a_versioned_table_counts_its_newest_rows_only() {
    let b = StreamsBuilder::new();
    versioned_table(&b, Materialized::named("vt").versioned(secs(60)))
        .group_by(|_k, v: String| (v.clone(), v))
        .count_with(Materialized::named("counts").with_caching_disabled())
        .to_stream()
        .to("counts");
    let driver = TopologyTestDriver::new(b.build().unwrap()).unwrap();
    let table = driver.create_input_topic("table", Utf8, Utf8);
    table.pipe_input_at(s("A"), s("x"), 1_000).unwrap();
    table.pipe_input_at(s("A"), s("y"), 500).unwrap(); // out of order: not counted
    table.pipe_input_at(s("A"), s("y"), 2_000).unwrap();
    let counts = driver.create_output_topic("counts", Utf8, Nullable(crate::codec::I64));
    assert_eq!(
        counts.read_key_values_to_list().unwrap(),
        [(s("x"), Some(1)), (s("x"), Some(0)), (s("y"), Some(1))]
    );
}
