//! Joins against Kafka Streams itself: for each program of `tools/kafka-streams-golden`
//! (`JoinGolden.java`), the same program written with our DSL must print the same `describe()`
//! and, fed the same input script, write the same records as Kafka Streams'
//! `TopologyTestDriver`, with the record cache on and off.

mod golden_support;

use golden_support::Goldens;
use std::time::Duration;

use streams_core::codec::{Nullable, Utf8};
use streams_core::dsl::{
    Consumed, JoinWindows, Joined, KGroupedStream, KStream, KTable, Materialized, Produced,
    StreamJoined, StreamsBuilder, TableJoined, TimeWindowedCodec, TimeWindows,
};

fn goldens() -> Goldens {
    Goldens {
        dir: "joins",
        programs: vec![
            ("ss_inner_no_grace", ss_inner_no_grace),
            ("ss_inner_grace", ss_inner_grace),
            ("ss_left_grace", ss_left_grace),
            ("ss_left_no_grace", ss_left_no_grace),
            ("ss_outer_grace", ss_outer_grace),
            ("ss_asymmetric_inner", ss_asymmetric_inner),
            ("ss_asymmetric_outer", ss_asymmetric_outer),
            ("ss_self_join", ss_self_join),
            ("ss_named_inner", ss_named_inner),
            ("ss_named_outer", ss_named_outer),
            ("ss_rekey_unnamed", ss_rekey_unnamed),
            ("ss_rekey_named", ss_rekey_named),
            ("ss_in_memory_stores", ss_in_memory_stores),
            ("ss_logging_disabled", ss_logging_disabled),
            ("st_inner", st_inner),
            ("st_left_materialized", st_left_materialized),
            ("st_named", st_named),
            ("st_rekey_select_key", st_rekey_select_key),
            ("st_rekey_map_named", st_rekey_map_named),
            ("st_versioned_grace", st_versioned_grace),
            ("st_versioned_grace_left", st_versioned_grace_left),
            ("st_versioned_no_grace", st_versioned_no_grace),
            ("sg_inner", sg_inner),
            ("sg_left_named", sg_left_named),
            ("tt_inner", tt_inner),
            ("tt_left", tt_left),
            ("tt_outer", tt_outer),
            ("tt_named_materialized", tt_named_materialized),
            ("fk_inner", fk_inner),
            ("fk_left", fk_left),
            ("fk_named", fk_named),
            ("fk_left_key_extractor", fk_left_key_extractor),
            ("cogroup_two", cogroup_two),
            ("cogroup_three_named", cogroup_three_named),
            ("cogroup_repartition", cogroup_repartition),
            ("cogroup_windowed", cogroup_windowed),
            ("cogroup_hopping_three", cogroup_hopping_three),
        ],
        pending: &[],
    }
}

/// Keys may be null (`Option`); null values are dropped at the sources, as the joins drop them.
type Stream = KStream<Option<String>, String>;

/// The golden tool's joiner `l + "+" + r`.
fn joined(l: String, r: String) -> String {
    format!("{l}+{r}")
}

/// `l + "+" + r` with a missing right side (Java renders it `null`).
fn left_joined(l: String, r: Option<String>) -> String {
    format!("{l}+{}", r.as_deref().unwrap_or("null"))
}

/// The golden tool's `fkOf`: the part before the first `:`.
fn fk_of(v: &str) -> Option<String> {
    v.find(':').map(|i| v[..i].to_string())
}

/// The golden tool's `first`: the first character.
fn first(v: &str) -> Option<String> {
    v.chars().next().map(String::from)
}

fn java(s: &Option<String>) -> &str {
    s.as_deref().unwrap_or("null")
}

fn input(b: &StreamsBuilder) -> Stream {
    b.stream::<Option<String>, String>("input")
}

fn table(b: &StreamsBuilder) -> KTable<Option<String>, String> {
    b.table::<Option<String>, String>("table")
}

fn named_table(b: &StreamsBuilder, store: &str) -> KTable<Option<String>, String> {
    b.table_with("table", Consumed::new(), Materialized::named(store))
}

fn st_inner(b: &StreamsBuilder) {
    let s = input(b);
    let t = table(b);
    s.join(&t, joined).to("output");
}

fn st_left_materialized(b: &StreamsBuilder) {
    let s = input(b);
    let t = named_table(b, "tbl");
    s.left_join(&t, left_joined).to("output");
}

fn st_named(b: &StreamsBuilder) {
    let s = input(b);
    let t = table(b);
    s.left_join_with(&t, left_joined, Joined::named("stj"))
        .to("output");
}

fn sg_inner(b: &StreamsBuilder) {
    let s = input(b);
    let g = b.global_table::<Option<String>, String>("global");
    s.join_global(&g, |_k, v| fk_of(v), joined).to("output");
}

fn sg_left_named(b: &StreamsBuilder) {
    let s = input(b);
    let g = b.global_table_with::<Option<String>, String, _, _, _, _>(
        "global",
        Consumed::new(),
        Materialized::named("gstore"),
    );
    s.left_join_global_with(&g, |_k, v| fk_of(v), left_joined, "gj")
        .to("output");
}

fn st_rekey_select_key(b: &StreamsBuilder) {
    let s = input(b).select_key(|_k, v| first(v));
    let t = table(b);
    s.join(&t, joined).to("output");
}

fn st_rekey_map_named(b: &StreamsBuilder) {
    // `map` sees null values too (`k + "/" + v` in Java).
    let s = b
        .stream::<Option<String>, Option<String>>("input")
        .map(|k, v| {
            (
                v.as_deref().and_then(fk_of),
                format!("{}/{}", java(&k), java(&v)),
            )
        });
    let t = named_table(b, "tbl");
    s.left_join_with(&t, left_joined, Joined::named("rkj"))
        .to("output");
}

/// The golden tool's versioned table: `Stores.persistentVersionedKeyValueStore("vtable", 30 s)`.
fn versioned_table(b: &StreamsBuilder) -> KTable<Option<String>, String> {
    b.table_with(
        "table",
        Consumed::new(),
        Materialized::named("vtable").versioned(Duration::from_secs(30)),
    )
}

fn st_versioned_grace(b: &StreamsBuilder) {
    let s = input(b);
    let t = versioned_table(b);
    let grace = Joined::new().with_grace_period(Duration::from_secs(5));
    s.join_with(&t, joined, grace).to("output");
}

fn st_versioned_grace_left(b: &StreamsBuilder) {
    let s = input(b);
    let t = versioned_table(b);
    let grace = Joined::named("vj").with_grace_period(Duration::from_secs(5));
    s.left_join_with(&t, left_joined, grace).to("output");
}

fn st_versioned_no_grace(b: &StreamsBuilder) {
    let s = input(b);
    let t = versioned_table(b);
    s.left_join(&t, left_joined).to("output");
}

/// `l + "+" + r` with either side missing.
fn outer_joined(l: Option<String>, r: Option<String>) -> String {
    format!("{}+{}", java(&l), java(&r))
}

fn tables(b: &StreamsBuilder) -> (KTable<String, String>, KTable<String, String>) {
    (b.table("left"), b.table("right"))
}

fn tt_inner(b: &StreamsBuilder) {
    let (l, r) = tables(b);
    l.join(&r, joined).to_stream().to("output");
}

fn tt_left(b: &StreamsBuilder) {
    let (l, r) = tables(b);
    l.left_join(&r, left_joined).to_stream().to("output");
}

fn tt_outer(b: &StreamsBuilder) {
    let (l, r) = tables(b);
    l.outer_join(&r, outer_joined).to_stream().to("output");
}

fn tt_named_materialized(b: &StreamsBuilder) {
    let l: KTable<String, String> =
        b.table_with("left", Consumed::new(), Materialized::named("left-store"));
    let r = b.table::<String, String>("right");
    l.named("ttj")
        .outer_join_with(&r, outer_joined, Materialized::named("tt-joined"))
        .named("tt-ts")
        .to_stream()
        .to("output");
}

/// Both sides of a stream-stream join see nulls as Kafka Streams does (a null value still
/// moves the join's time on).
type NullableStream = KStream<Option<String>, Option<String>>;

fn sides(b: &StreamsBuilder) -> (NullableStream, NullableStream) {
    (b.stream("left"), b.stream("right"))
}

fn ss_joined(l: Option<String>, r: Option<String>) -> String {
    format!("{}+{}", java(&l), java(&r))
}

fn ss_left_joined(l: Option<String>, r: Option<Option<String>>) -> String {
    ss_joined(l, r.flatten())
}

fn ss_outer_joined(l: Option<Option<String>>, r: Option<Option<String>>) -> String {
    ss_joined(l.flatten(), r.flatten())
}

fn no_grace(secs: u64) -> JoinWindows {
    JoinWindows::of_time_difference_with_no_grace(Duration::from_secs(secs))
}

fn grace(secs: u64, grace: u64) -> JoinWindows {
    JoinWindows::of_time_difference_and_grace(Duration::from_secs(secs), Duration::from_secs(grace))
}

fn ss_inner_no_grace(b: &StreamsBuilder) {
    let (l, r) = sides(b);
    l.join_stream(&r, ss_joined, no_grace(5)).to("output");
}

fn ss_inner_grace(b: &StreamsBuilder) {
    let (l, r) = sides(b);
    l.join_stream(&r, ss_joined, grace(5, 3)).to("output");
}

fn ss_left_grace(b: &StreamsBuilder) {
    let (l, r) = sides(b);
    l.left_join_stream(&r, ss_left_joined, grace(5, 3))
        .to("output");
}

fn ss_left_no_grace(b: &StreamsBuilder) {
    let (l, r) = sides(b);
    l.left_join_stream(&r, ss_left_joined, no_grace(5))
        .to("output");
}

fn ss_outer_grace(b: &StreamsBuilder) {
    let (l, r) = sides(b);
    l.outer_join_stream(&r, ss_outer_joined, grace(5, 3))
        .to("output");
}

fn ss_asymmetric_inner(b: &StreamsBuilder) {
    let (l, r) = sides(b);
    let windows = grace(5, 2)
        .before(Duration::from_secs(1))
        .after(Duration::from_secs(4));
    l.join_stream(&r, ss_joined, windows).to("output");
}

fn ss_asymmetric_outer(b: &StreamsBuilder) {
    let (l, r) = sides(b);
    let windows = no_grace(1).after(Duration::from_secs(4));
    l.outer_join_stream(&r, ss_outer_joined, windows)
        .to("output");
}

fn ss_self_join(b: &StreamsBuilder) {
    let s: NullableStream = b.stream("input");
    s.join_stream(&s, ss_joined, no_grace(5)).to("output");
}

fn ss_named_inner(b: &StreamsBuilder) {
    let (l, r) = sides(b);
    let joined = StreamJoined::new()
        .with_store_name("sj-store")
        .with_name("sj");
    l.join_stream_with(&r, ss_joined, grace(5, 3), joined)
        .to("output");
}

fn ss_named_outer(b: &StreamsBuilder) {
    let (l, r) = sides(b);
    let joined = StreamJoined::new()
        .with_name("oj")
        .with_store_name("oj-store");
    l.outer_join_stream_with(&r, ss_outer_joined, grace(5, 3), joined)
        .to("output");
}

fn ss_rekey_unnamed(b: &StreamsBuilder) {
    let l: NullableStream = b.stream("left");
    let l = l.select_key(|_k, v| v.as_deref().and_then(first));
    let r: NullableStream = b.stream("right");
    l.join_stream(&r, ss_joined, no_grace(5)).to("output");
}

fn ss_rekey_named(b: &StreamsBuilder) {
    let (l, r) = sides(b);
    let r = r.map(|k, v| {
        (
            v.as_deref().and_then(first),
            Some(format!("{}/{}", java(&k), java(&v))),
        )
    });
    let joined = StreamJoined::new()
        .with_store_name("rk-store")
        .with_name("rk");
    l.left_join_stream_with(&r, ss_left_joined, grace(5, 1), joined)
        .to("output");
}

fn ss_in_memory_stores(b: &StreamsBuilder) {
    let (l, r) = sides(b);
    let joined = StreamJoined::new()
        .with_this_store_in_memory("mem-this")
        .with_other_store_in_memory("mem-other");
    l.left_join_stream_with(&r, ss_left_joined, grace(5, 3), joined)
        .to("output");
}

fn ss_logging_disabled(b: &StreamsBuilder) {
    let (l, r) = sides(b);
    let joined = StreamJoined::new()
        .with_store_name("nolog")
        .with_logging_disabled();
    l.outer_join_stream_with(&r, ss_outer_joined, no_grace(2), joined)
        .to("output");
}

// ---- cogroup (`in1`, `in2`, `in3` -> `output`; the aggregators append `|a:v`, `|b:v`, `|c:v`)

/// Keys and values may be null (`Option`): the cogroup's processors see them as Kafka Streams'
/// do.
type Grouped = KGroupedStream<Option<String>, Option<String>, Nullable<Utf8>, Nullable<Utf8>>;

fn grouped(b: &StreamsBuilder, topic: &str) -> Grouped {
    b.stream_with(
        topic,
        streams_core::dsl::Consumed::with(Nullable(Utf8), Nullable(Utf8)),
    )
    .group_by_key()
}

/// The Java aggregator `agg + "|<tag>:" + v`.
fn append(tag: &'static str) -> impl Fn(&Option<String>, Option<String>, String) -> String {
    move |_k, v, agg| format!("{agg}|{tag}:{}", java(&v))
}

fn cogroup_two(b: &StreamsBuilder) {
    let (g1, g2) = (grouped(b, "in1"), grouped(b, "in2"));
    g1.cogroup(append("a"))
        .cogroup(&g2, append("b"))
        .aggregate(String::new)
        .to_stream()
        .to("output");
}

fn cogroup_three_named(b: &StreamsBuilder) {
    let (g1, g2, g3) = (grouped(b, "in1"), grouped(b, "in2"), grouped(b, "in3"));
    g1.cogroup(append("a"))
        .cogroup(&g2, append("b"))
        .cogroup(&g3, append("c"))
        .named("cog")
        .aggregate_with(|| "init".to_string(), Materialized::named("cog-store"))
        .to_stream()
        .to("output");
}

fn cogroup_repartition(b: &StreamsBuilder) {
    let g1 = grouped(b, "in1");
    let g2 = b
        .stream_with(
            "in2",
            streams_core::dsl::Consumed::with(Nullable(Utf8), Nullable(Utf8)),
        )
        .group_by_with(
            |_k, v: &Option<String>| v.as_deref().and_then(first),
            streams_core::dsl::Grouped::named("by-first").with_key_codec(Nullable(Utf8)),
        );
    g1.cogroup(append("a"))
        .cogroup(&g2, append("b"))
        .aggregate(String::new)
        .to_stream()
        .to("output");
}

fn windowed_output() -> Produced<
    streams_core::dsl::Explicit<TimeWindowedCodec<Nullable<Utf8>>>,
    streams_core::dsl::Explicit<Nullable<Utf8>>,
> {
    Produced::with(
        TimeWindowedCodec::new(Nullable(Utf8), 10_000),
        Nullable(Utf8),
    )
}

fn cogroup_windowed(b: &StreamsBuilder) {
    let (g1, g2) = (grouped(b, "in1"), grouped(b, "in2"));
    g1.cogroup(append("a"))
        .cogroup(&g2, append("b"))
        .windowed_by(TimeWindows::of_size_and_grace(
            Duration::from_secs(10),
            Duration::from_secs(2),
        ))
        .aggregate_with(String::new, Materialized::with(Nullable(Utf8), Utf8))
        .to_stream()
        .to_with("output", windowed_output());
}

fn cogroup_hopping_three(b: &StreamsBuilder) {
    let (g1, g2, g3) = (grouped(b, "in1"), grouped(b, "in2"), grouped(b, "in3"));
    let c = g1
        .cogroup(append("a"))
        .cogroup(&g2, append("b"))
        .cogroup(&g3, append("c"));
    c.windowed_by(
        TimeWindows::of_size_with_no_grace(Duration::from_secs(10))
            .advance_by(Duration::from_secs(5)),
    )
    .named("hop")
    .aggregate_with(
        String::new,
        Materialized::named("hop-store").with_retention(Duration::from_secs(30)),
    )
    .to_stream()
    .to_with("output", windowed_output());
}

fn fk_inner(b: &StreamsBuilder) {
    let (l, r) = tables(b);
    l.join_foreign_key(&r, |_k, v| fk_of(v), joined)
        .to_stream()
        .to("output");
}

fn fk_left(b: &StreamsBuilder) {
    let (l, r) = tables(b);
    l.left_join_foreign_key(&r, |_k, v| fk_of(v), left_joined)
        .to_stream()
        .to("output");
}

fn fk_named(b: &StreamsBuilder) {
    let (l, r) = tables(b);
    l.join_foreign_key_with(
        &r,
        |_k, v| fk_of(v),
        joined,
        TableJoined::named("fkj"),
        Materialized::named("fk-result"),
    )
    .to_stream()
    .to("output");
}

fn fk_left_key_extractor(b: &StreamsBuilder) {
    let (l, r) = tables(b);
    l.left_join_foreign_key(&r, |k, v| fk_of(v).or_else(|| Some(k.clone())), left_joined)
        .to_stream()
        .to("output");
}

#[test]
fn every_golden_program_is_mirrored_or_pending() {
    goldens().check_all_mirrored();
}

#[test]
fn describe_matches_kafka_streams() {
    goldens().check_describe();
}

#[test]
fn outputs_match_kafka_streams_with_and_without_cache() {
    goldens().check_outputs();
}
