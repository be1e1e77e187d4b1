//! The DSL against Kafka Streams itself: for each program of `tools/kafka-streams-golden`
//! (`DslGolden.java`), the same program written with our DSL must print the same `describe()`
//! and, fed the same input script, write the same records (key and value bytes, timestamps, in
//! order) as Kafka Streams' `TopologyTestDriver`, with the record cache on and off.

use std::time::Duration;

use streams_core::codec::{I64, Nullable, Utf8};
use streams_core::dsl::{
    Branched, BufferConfig, Consumed, EmitStrategy, Grouped, KStream, Materialized, Produced,
    Repartitioned, SessionWindowedCodec, SessionWindows, SlidingWindows, StreamsBuilder,
    Suppressed, TimeWindowedCodec, TimeWindows,
};
use streams_core::error::ProcessorError;
use streams_core::processor::{
    FixedKeyContext, FixedKeyProcessor, FixedKeyRecord, Processor, ProcessorContext,
};
use streams_core::record::Record;
use streams_core::state::Stores;
use streams_core::topology::{RecordContext, TopicNameExtractor};

mod golden_support;

use golden_support::{Goldens, Program};

/// The programs, named as their golden files.
fn goldens() -> Goldens {
    Goldens {
        dir: "dsl",
        programs: programs(),
        pending: &[],
    }
}

fn programs() -> Vec<(&'static str, Program)> {
    vec![
        ("stateless_chain", stateless_chain),
        ("flat_map", flat_map),
        ("merge_split", merge_split),
        ("split_unnamed", split_unnamed),
        ("named_ops", named_ops),
        ("to_extractor", to_extractor),
        ("process_stores", process_stores),
        ("count", count),
        ("count_named", count_named),
        ("count_materialized_unnamed", count_materialized_unnamed),
        (
            "aggregations_materialized_unnamed",
            aggregations_materialized_unnamed,
        ),
        ("wordcount", wordcount),
        ("reduce", reduce),
        ("aggregate", aggregate),
        ("map_then_count", map_then_count),
        ("select_key_grouped_reduce", select_key_grouped_reduce),
        ("map_values_count", map_values_count),
        ("repartition_explicit", repartition_explicit),
        ("two_aggregations_after_map", two_aggregations_after_map),
        ("table_filter_map_values", table_filter_map_values),
        ("table_unmaterialized", table_unmaterialized),
        ("table_group_by_count", table_group_by_count),
        ("table_group_by_reduce", table_group_by_reduce),
        ("table_group_by_aggregate", table_group_by_aggregate),
        ("stream_to_table", stream_to_table),
        ("nulls", nulls),
        ("tumbling_count", tumbling_count),
        ("hopping_reduce", hopping_reduce),
        ("sliding_count", sliding_count),
        ("session_count", session_count),
        ("session_aggregate", session_aggregate),
        ("session_zero_gap", session_zero_gap),
        ("suppress_window_close", suppress_window_close),
        ("suppress_time_limit", suppress_time_limit),
        ("emit_on_window_close", emit_on_window_close),
    ]
}

fn input(b: &StreamsBuilder) -> KStream<String, String> {
    b.stream::<String, String>("input")
}

fn stateless_chain(b: &StreamsBuilder) {
    input(b)
        .filter(|_k, v| v.chars().count() > 2)
        .filter_not(|_k, v| v.starts_with('x'))
        .map_values(|v| java_upper(&v))
        .map_values_with_key(|k, v| format!("{k}:{v}"))
        .map(|k, v| (v, k))
        .select_key(|k, _v| java_lower(k))
        .to("output");
}

fn flat_map(b: &StreamsBuilder) {
    let s = input(b);
    s.flat_map_values(|v| java_split(&v))
        .flat_map(|k: String, v: String| [(k.clone(), v.clone()), (v, k)])
        .peek(|_k, _v| {})
        .to("output");
    s.foreach(|_k, _v| {});
}

fn merge_split(b: &StreamsBuilder) {
    let a = input(b);
    let c = b.stream::<String, String>("input2");
    let m = a
        .merge(&c)
        .named("sp-")
        .split()
        .branch_with(|_k, v| v.starts_with('a'), Branched::named("a"))
        .branch_with(
            |_k, v| v.starts_with('b'),
            Branched::with_consumer(|ks| ks.to("out-b")),
        )
        .default_branch_with(Branched::named("rest"));
    assert_eq!(m.keys().collect::<Vec<_>>(), ["sp-a", "sp-rest"]);
    m["sp-a"].to("out-a");
    m["sp-rest"].map_values(|v| v + "!").to("out-rest");
}

fn split_unnamed(b: &StreamsBuilder) {
    let m = input(b)
        .split()
        .branch(|_k, v| v.starts_with('a'))
        .branch(|_k, v| v.starts_with('b'))
        .default_branch();
    for (i, branch) in m.values().enumerate() {
        branch.to(&format!("out-{i}"));
    }
}

fn named_ops(b: &StreamsBuilder) {
    b.stream_with::<String, String, _, _>("input", Consumed::named("src"))
        .named("f1")
        .filter(|_k, v| v.chars().count() > 2)
        .named("f2")
        .filter_not(|_k, v| v.starts_with('x'))
        .named("mv")
        .map_values(|v| java_upper(&v))
        .named("m")
        .map(|k, v| (v, k))
        .named("sk")
        .select_key(|k, _v| java_lower(k))
        .to_with("output", Produced::named("sink"));
}

struct FirstLetterExtractor;

impl TopicNameExtractor<String, String> for FirstLetterExtractor {
    fn extract(&self, _key: &String, value: &String, _ctx: &RecordContext<'_>) -> String {
        if value.starts_with('a') {
            "out-a".into()
        } else if value.starts_with('b') {
            "out-b".into()
        } else {
            "out-other".into()
        }
    }
}

fn to_extractor(b: &StreamsBuilder) {
    input(b).to_extractor(FirstLetterExtractor);
}

/// Counts records per key in `proc-store` and appends `#<count>` to the value (the golden
/// tool's `CountingProcessor`).
struct CountingProcessor;

impl Processor for CountingProcessor {
    type KIn = String;
    type VIn = String;
    type KOut = String;
    type VOut = String;

    fn process(
        &mut self,
        record: Record<String, String>,
        ctx: &mut ProcessorContext<'_, String, String>,
    ) -> Result<(), ProcessorError> {
        let store = ctx.key_value_store::<String, i64>("proc-store")?;
        let n = store.get(&record.key)?.unwrap_or(0) + 1;
        store.put(&record.key, &n)?;
        let value = format!("{}#{n}", record.value);
        ctx.forward(record.with_value(value))
    }
}

/// Appends `!` to the value (the golden tool's `SuffixProcessor`).
struct SuffixProcessor;

impl FixedKeyProcessor for SuffixProcessor {
    type K = String;
    type VIn = String;
    type VOut = String;

    fn process(
        &mut self,
        record: FixedKeyRecord<String, String>,
        ctx: &mut FixedKeyContext<'_, '_, String, String>,
    ) -> Result<(), ProcessorError> {
        let value = format!("{}!", record.value());
        ctx.forward(record.with_value(value))
    }
}

fn process_stores(b: &StreamsBuilder) {
    b.add_state_store(Stores::in_memory_key_value("proc-store", Utf8, I64));
    input(b)
        .process(|| CountingProcessor, &["proc-store"])
        .process_values(|| SuffixProcessor, &[])
        .to_with("output", Produced::with(Utf8, Utf8));
}

fn count(b: &StreamsBuilder) {
    input(b).group_by_key().count().to_stream().to("output");
}

fn count_named(b: &StreamsBuilder) {
    b.stream_with::<String, String, _, _>("input", Consumed::named("src"))
        .group_by_key_with(Grouped::named("grp"))
        .named("cnt")
        .count_with(Materialized::named("counts"))
        .named("ts")
        .to_stream()
        .to_with(
            "output",
            Produced::with(Utf8, Nullable(I64)).with_name("sink"),
        );
}

/// `count_with` without a store name uses one more index than `count` (Kafka Streams'
/// `count(Materialized)`), also when the node is named; the repartition topic is named after the
/// generated store.
fn count_materialized_unnamed(b: &StreamsBuilder) {
    let s = input(b);
    s.group_by_key()
        .count_with(Materialized::with(Utf8, I64))
        .to_stream()
        .to("out1");
    s.select_key(|_k, v| v.clone())
        .group_by_key()
        .named("cnt")
        .count_with(Materialized::with(Utf8, I64))
        .to_stream()
        .to("out2");
}

/// `reduce_with`, `aggregate_with` and a grouped table's `count_with` without a store name use
/// no extra index.
fn aggregations_materialized_unnamed(b: &StreamsBuilder) {
    let s = input(b);
    s.group_by_key()
        .reduce_with(|a, v| a + &v, Materialized::with(Utf8, Utf8))
        .to_stream()
        .to("out1");
    s.group_by_key()
        .aggregate_with(
            String::new,
            |_k, v, agg| format!("{agg}{}", java_len(&v)),
            Materialized::with(Utf8, Utf8),
        )
        .to_stream()
        .to("out2");
    b.table::<String, String>("input2")
        .group_by(|k, v| (v, k.clone()))
        .count_with(Materialized::with(Utf8, I64))
        .to_stream()
        .to("out3");
}

fn wordcount(b: &StreamsBuilder) {
    b.stream::<String, String>("text-input")
        .flat_map_values(|v| java_split(&v))
        .group_by(|_k, w| w.clone())
        .count_with(Materialized::named("counts-store"))
        .to_stream()
        .to("wordcount-output");
}

fn reduce(b: &StreamsBuilder) {
    input(b)
        .group_by_key()
        .reduce(|a, v| format!("{a},{v}"))
        .to_stream()
        .to("output");
}

fn aggregate(b: &StreamsBuilder) {
    input(b)
        .group_by_key()
        .aggregate(|| 0i64, |_k, v, agg| agg + java_len(&v))
        .to_stream()
        .to("output");
}

fn map_then_count(b: &StreamsBuilder) {
    input(b)
        .map(|k, v| (v, k))
        .group_by_key()
        .count()
        .to_stream()
        .to("output");
}

fn select_key_grouped_reduce(b: &StreamsBuilder) {
    input(b)
        .select_key(|_k, v| java_substring1(v))
        .group_by_key_with(Grouped::named("rekey"))
        .reduce_with(|a, v| a + &v, Materialized::named("reduced"))
        .to_stream()
        .to("output");
}

fn map_values_count(b: &StreamsBuilder) {
    input(b)
        .map_values(|v| java_upper(&v))
        .group_by_key()
        .count()
        .to_stream()
        .to("output");
}

fn repartition_explicit(b: &StreamsBuilder) {
    let s = input(b);
    s.repartition_with(Repartitioned::named("rp").with_partitions(3))
        .group_by_key()
        .count()
        .to_stream()
        .to("output");
    s.repartition().to("output2");
}

fn two_aggregations_after_map(b: &StreamsBuilder) {
    let m = input(b).map(|k, v| (v, k));
    m.group_by_key().count().to_stream().to("out1");
    m.group_by_key()
        .reduce(|a, v| a + &v)
        .to_stream()
        .to("out2");
}

fn table_filter_map_values(b: &StreamsBuilder) {
    b.table_with::<String, String, _, _, _, _>(
        "input",
        Consumed::new(),
        Materialized::named("tbl"),
    )
    .filter(|_k, v| java_len(v) > 2)
    .map_values(|v| java_upper(&v))
    .to_stream()
    .to("output");
}

fn table_unmaterialized(b: &StreamsBuilder) {
    let t = b.table::<String, String>("input");
    t.filter_not(|_k, v| v.starts_with('x'))
        .to_stream()
        .to("output");
    t.filter_with(|_k, v| java_len(v) > 2, Materialized::named("filtered"))
        .to_stream()
        .to("output2");
}

fn table_group_by_count(b: &StreamsBuilder) {
    b.table::<String, String>("input")
        .group_by(|k, v| (v, k.clone()))
        .count()
        .to_stream()
        .to("output");
}

fn table_group_by_reduce(b: &StreamsBuilder) {
    b.table::<String, String>("input")
        .group_by(|_k, v| (java_substring1(&v), java_len(&v)))
        .reduce(|a, v| a + v, |a, v| a - v)
        .to_stream()
        .to("output");
}

fn table_group_by_aggregate(b: &StreamsBuilder) {
    b.table::<String, String>("input")
        .group_by_with(|_k, v| (java_substring1(&v), v), Grouped::named("by-first"))
        .aggregate_with(
            String::new,
            |_k, v, agg| format!("{agg}+{v}"),
            |_k, v, agg| format!("{agg}-{v}"),
            Materialized::named("agg"),
        )
        .to_stream()
        .to("output");
}

fn stream_to_table(b: &StreamsBuilder) {
    b.stream::<String, Option<String>>("input")
        .to_table_with(Materialized::named("tt"))
        .to_stream()
        .to("output");
}

fn nulls(b: &StreamsBuilder) {
    let s = b.stream::<Option<String>, Option<String>>("input");
    s.group_by_key().count().to_stream().to("out1");
    s.filter(|_k, _v| true).to("out2");
    b.table::<Option<String>, String>("input2")
        .to_stream()
        .to("out3");
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn tumbling_count(b: &StreamsBuilder) {
    input(b)
        .group_by_key()
        .windowed_by(TimeWindows::of_size_with_no_grace(secs(10)))
        .count()
        .to_stream()
        .to_with(
            "output",
            Produced::with(TimeWindowedCodec::new(Utf8, 10_000), Nullable(I64)),
        );
}

fn hopping_reduce(b: &StreamsBuilder) {
    input(b)
        .group_by_key()
        .windowed_by(TimeWindows::of_size_and_grace(secs(10), secs(5)).advance_by(secs(5)))
        .reduce_with(
            |a, v| a + &v,
            Materialized::named("hop").with_retention(Duration::from_secs(60)),
        )
        .to_stream()
        .to_with(
            "output",
            Produced::with(TimeWindowedCodec::new(Utf8, 10_000), Nullable(Utf8)),
        );
}

fn sliding_count(b: &StreamsBuilder) {
    input(b)
        .group_by_key()
        .windowed_by(SlidingWindows::of_time_difference_and_grace(
            secs(5),
            secs(10),
        ))
        .count()
        .to_stream()
        .to_with(
            "output",
            Produced::with(TimeWindowedCodec::new(Utf8, 5_000), Nullable(I64)),
        );
}

fn session_count(b: &StreamsBuilder) {
    input(b)
        .group_by_key()
        .windowed_by(SessionWindows::of_inactivity_gap_and_grace(
            secs(5),
            secs(10),
        ))
        .count()
        .to_stream()
        .to_with(
            "output",
            Produced::with(SessionWindowedCodec::new(Utf8), Nullable(I64)),
        );
}

fn session_aggregate(b: &StreamsBuilder) {
    input(b)
        .group_by_key()
        .windowed_by(SessionWindows::of_inactivity_gap_with_no_grace(secs(5)))
        .aggregate_with(
            String::new,
            |_k, v, agg| agg + &v,
            |_k, left, right| format!("{left}|{right}"),
            Materialized::with(Utf8, Utf8),
        )
        .to_stream()
        .to_with(
            "output",
            Produced::with(SessionWindowedCodec::new(Utf8), Nullable(Utf8)),
        );
}

/// Sessions with an inactivity gap of zero (valid in Kafka Streams 4.x): one timestamp each.
/// Without a grace period the store needs a retention (else building fails: `RetentionZero`).
fn session_zero_gap(b: &StreamsBuilder) {
    let g = input(b).group_by_key();
    g.windowed_by(SessionWindows::of_inactivity_gap_with_no_grace(
        Duration::ZERO,
    ))
    .count_with(Materialized::with(Utf8, I64).with_retention(secs(10)))
    .to_stream()
    .to_with(
        "out1",
        Produced::with(SessionWindowedCodec::new(Utf8), Nullable(I64)),
    );
    g.windowed_by(SessionWindows::of_inactivity_gap_and_grace(
        Duration::ZERO,
        secs(2),
    ))
    .count()
    .to_stream()
    .to_with(
        "out2",
        Produced::with(SessionWindowedCodec::new(Utf8), Nullable(I64)),
    );
}

fn suppress_window_close(b: &StreamsBuilder) {
    input(b)
        .group_by_key()
        .windowed_by(TimeWindows::of_size_and_grace(secs(10), secs(5)))
        .count_with(Materialized::with(Utf8, I64))
        .suppress(Suppressed::until_window_closes(BufferConfig::unbounded()))
        .to_stream()
        .to_with(
            "output",
            Produced::with(TimeWindowedCodec::new(Utf8, 10_000), Nullable(I64)),
        );
}

fn suppress_time_limit(b: &StreamsBuilder) {
    b.table::<String, String>("input")
        .group_by(|k, v| (v, k.clone()))
        .count()
        .suppress(
            Suppressed::until_time_limit(
                secs(5),
                BufferConfig::max_records(100).emit_early_when_full(),
            )
            .with_name("sup"),
        )
        .to_stream()
        .to_with("output", Produced::with(Utf8, Nullable(I64)));
}

fn emit_on_window_close(b: &StreamsBuilder) {
    input(b)
        .group_by_key()
        .windowed_by(TimeWindows::of_size_and_grace(secs(10), secs(2)))
        .emit_strategy(EmitStrategy::OnWindowClose)
        .count()
        .to_stream()
        .to_with(
            "output",
            Produced::with(TimeWindowedCodec::new(Utf8, 10_000), Nullable(I64)),
        );
}

// ---- Java's string functions, where Rust's differ.

/// `String.length()`: UTF-16 code units.
fn java_len(s: &str) -> i64 {
    s.encode_utf16().count() as i64
}

fn java_upper(s: &str) -> String {
    s.to_uppercase()
}

fn java_lower(s: &str) -> String {
    s.to_lowercase()
}

/// `s.substring(0, 1)`.
fn java_substring1(s: &str) -> String {
    s.chars().take(1).collect()
}

/// `Arrays.asList(s.split(" "))`: trailing empty strings removed.
fn java_split(s: &str) -> Vec<String> {
    let mut parts: Vec<String> = s.split(' ').map(str::to_string).collect();
    while parts.len() > 1 && parts.last().is_some_and(String::is_empty) {
        parts.pop();
    }
    if parts.len() == 1 && parts[0].is_empty() && !s.is_empty() {
        parts.clear();
    }
    parts
}

// ---- the harness

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
