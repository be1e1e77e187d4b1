//! The macros end to end: every `#[processor]` shape and `topology!` syntax, run through the
//! `TopologyTestDriver`, and a macro topology against the same topology built by hand.

use std::collections::HashMap;
use std::time::Duration;

use streams::codec::{I64, Utf8};
use streams::error::ProcessorError;
use streams::processor::{Processor, ProcessorContext, Punctuation};
use streams::record::Record;
use streams::state::{KeyValueStore, Stores};
use streams::testing::TopologyTestDriver;
use streams::topology::TopologyBuilder;
use streams::{processor, topology};

/// Value map.
#[processor]
fn shout(line: String) -> String {
    line.to_uppercase()
}

/// Value filter.
#[processor]
fn not_empty(line: &str) -> bool {
    !line.trim().is_empty()
}

/// Value flat map.
#[processor]
fn words(line: String) -> impl IntoIterator<Item = String> {
    line.split_whitespace()
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
}

/// Key-value map.
#[processor(name = "by-word")]
fn by_word(_key: String, word: String) -> (String, i64) {
    (word, 1)
}

/// Full control with a store and a punctuation.
#[processor(punctuate(every = Duration::from_millis(100), clock = stream_time, call = emit_total))]
fn count(
    record: Record<String, i64>,
    ctx: &mut ProcessorContext<'_, String, i64>,
    counts: &KeyValueStore<String, i64>,
) -> Result<(), ProcessorError> {
    let total = counts.get(&record.key)?.unwrap_or(0) + record.value;
    counts.put(&record.key, &total)?;
    ctx.forward(record.with_value(total))
}

fn emit_total(
    punctuation: Punctuation,
    ctx: &mut ProcessorContext<'_, String, i64>,
    counts: &KeyValueStore<String, i64>,
) -> Result<(), ProcessorError> {
    let total: i64 = counts
        .all()
        .map(|e| e.map(|(_, v)| v))
        .sum::<Result<i64, _>>()?;
    ctx.forward(Record::new("*".to_string(), total, punctuation.timestamp))
}

/// Fallible value map.
#[processor]
fn parse_amount(text: String) -> Result<i64, std::num::ParseIntError> {
    text.trim().parse()
}

/// Key-value filter.
#[processor]
fn keyed(key: &str, _value: &i64) -> bool {
    !key.is_empty()
}

/// Key-value flat map.
#[processor]
fn explode(key: String, n: i64) -> impl IntoIterator<Item = (String, i64)> {
    (0..n).map(move |i| (format!("{key}-{i}"), i))
}

#[test]
fn word_count_from_functions() {
    let app = topology! {
        source lines: <String, String> = "text-input" as utf8;
        sink counts_out: <String, i64> = "word-counts" as utf8, default;
        sink to_words: <String, i64> = "words-repartition" as utf8, default;
        source words_by_key: <String, i64> = "words-repartition" as utf8, default;
        store counts: key_value<String, i64> as utf8, default;

        lines -> not_empty -> words -> by_word -> to_words;
        words_by_key -> count(counts) -> counts_out;
    }
    .expect("valid topology");
    let driver = TopologyTestDriver::new(app.topology).unwrap();
    let input = driver.input(&app.lines);
    let output = driver.output(&app.counts_out);
    input
        .pipe_input_at("1".into(), "Hello hello".into(), 10)
        .unwrap();
    input.pipe_input_at("2".into(), "   ".into(), 20).unwrap();
    input
        .pipe_input_at("3".into(), "world".into(), 150)
        .unwrap();
    let got = output.read_key_values_to_list().unwrap();
    assert_eq!(
        got,
        vec![
            ("hello".to_string(), 1),
            ("hello".to_string(), 2),
            // stream time 10 passes the first due time (0): the punctuation fires after the
            // input record, before the driver feeds back the repartitioned words (as Kafka
            // Streams' driver does), so it sees no count yet
            ("*".to_string(), 0),
            // "   " is filtered out; 150 passes the next due time (100), before "world" is back
            ("world".to_string(), 1),
            ("*".to_string(), 2),
        ]
    );
    let store = driver.key_value_store::<String, i64>("counts").unwrap();
    assert_eq!(store.get(&"hello".to_string()).unwrap(), Some(2));
}

#[test]
fn branches_merges_and_fallible_stages() {
    let app = topology! {
        source amounts: <String, String> = "amounts" as utf8;
        source more: <String, String> = ["more-a", "more-b"] as utf8;
        sink parsed: <String, i64> = "parsed" as utf8, default;
        sink exploded: <String, i64> = "exploded" as utf8, default;
        sink loud: <String, String> = "loud" as utf8;

        [amounts, more] -> parse_amount -> keyed -> [parsed, explode -> exploded];
        amounts -> shout -> loud;
    }
    .unwrap();
    let driver = TopologyTestDriver::new(app.topology).unwrap();
    driver
        .input(&app.amounts)
        .pipe_input("a".into(), "2".into())
        .unwrap();
    driver
        .create_input_topic("more-b", Utf8, Utf8)
        .pipe_input("b".into(), "1".into())
        .unwrap();
    assert_eq!(
        driver
            .output(&app.parsed)
            .read_key_values_to_list()
            .unwrap(),
        vec![("a".to_string(), 2), ("b".to_string(), 1)]
    );
    assert_eq!(
        driver
            .output(&app.exploded)
            .read_key_values_to_list()
            .unwrap(),
        vec![
            ("a-0".to_string(), 0),
            ("a-1".to_string(), 1),
            ("b-0".to_string(), 0)
        ]
    );
    assert_eq!(driver.output(&app.loud).read_value().unwrap(), "2");

    // A fallible stage's error becomes a processing error naming the node and the record.
    let err = driver
        .input(&app.amounts)
        .pipe_input("c".into(), "x".into())
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("parse_amount"), "{text}");
    assert!(text.contains("amounts-0@1"), "{text}");
}

/// A hand-written processor, used in `topology!` with `processor NAME: TYPE = supplier`.
struct Tagger {
    tag: String,
}

impl Processor for Tagger {
    type KIn = String;
    type VIn = String;
    type KOut = String;
    type VOut = String;

    fn process(
        &mut self,
        record: Record<String, String>,
        ctx: &mut ProcessorContext<'_, String, String>,
    ) -> Result<(), ProcessorError> {
        let tagged = format!("{}:{}", self.tag, record.value);
        ctx.forward(record.with_value(tagged))
    }
}

#[test]
fn topic_names_computed_at_run_time() {
    let app_id = "orders-app".to_string();
    let app = topology! {
        source input: <String, String> = { format!("{app_id}-input") } as utf8;
        sink out: <String, String> = { format!("{app_id}-output") } as utf8;
        input -> shout -> out;
    }
    .unwrap();
    assert_eq!(app.input.topic(), "orders-app-input");
    let driver = TopologyTestDriver::new(app.topology).unwrap();
    driver
        .input(&app.input)
        .pipe_input("k".into(), "v".into())
        .unwrap();
    assert_eq!(driver.output(&app.out).read_value().unwrap(), "V");
}

#[test]
fn hand_written_processors_and_aliases() {
    let app = topology! {
        source input: <String, String> = "in" as utf8;
        sink out: <String, String> = "out" as utf8;
        processor tag: Tagger = || Tagger { tag: "t".to_string() };
        processor shout_again = shout;

        input -> shout -> tag -> shout_again -> out;
    }
    .unwrap();
    let names: Vec<String> = app.topology.describe().subtopologies()[0]
        .nodes
        .iter()
        .map(|n| n.name.clone())
        .collect();
    assert_eq!(names, ["input", "shout", "tag", "shout_again", "out"]);
    let driver = TopologyTestDriver::new(app.topology).unwrap();
    driver
        .input(&app.input)
        .pipe_input("k".into(), "v".into())
        .unwrap();
    assert_eq!(driver.output(&app.out).read_value().unwrap(), "T:V");
}

/// The word count again, by hand with the builder and hand-written processors.
fn word_count_by_hand() -> streams::topology::Topology {
    let mut b = TopologyBuilder::new();
    b.add_source("lines", ["text-input"], Utf8, Utf8)
        .add_processor("not_empty", not_empty::<String>::default, ["lines"])
        .add_processor("words", words::<String>::default, ["not_empty"])
        .add_processor("by-word", by_word::default, ["words"])
        .add_sink("to_words", "words-repartition", Utf8, I64, ["by-word"])
        .add_source("words_by_key", ["words-repartition"], Utf8, I64)
        .add_processor("count", count::default, ["words_by_key"])
        .add_state_store(Stores::in_memory_key_value("counts", Utf8, I64), ["count"])
        .add_sink("counts_out", "word-counts", Utf8, I64, ["count"]);
    b.build().unwrap()
}

#[test]
fn macro_topology_equals_the_hand_built_one() {
    let app = topology! {
        source lines: <String, String> = "text-input" as utf8;
        sink counts_out: <String, i64> = "word-counts" as utf8, default;
        sink to_words: <String, i64> = "words-repartition" as utf8, default;
        source words_by_key: <String, i64> = "words-repartition" as utf8, default;
        store counts: key_value<String, i64> as utf8, default;

        lines -> not_empty -> words -> by_word -> to_words;
        words_by_key -> count(counts) -> counts_out;
    }
    .unwrap();
    let by_hand = word_count_by_hand();
    assert_eq!(
        app.topology.describe().to_string(),
        by_hand.describe().to_string()
    );

    let run = |topology| -> HashMap<String, i64> {
        let driver = TopologyTestDriver::new(topology).unwrap();
        let input = driver.create_input_topic("text-input", Utf8, Utf8);
        for (i, line) in ["a b a", "", "c a b", "b"].iter().enumerate() {
            input
                .pipe_input_at(i.to_string(), line.to_string(), i as i64 * 40)
                .unwrap();
        }
        driver
            .create_output_topic("word-counts", Utf8, I64)
            .read_key_values_to_map()
            .unwrap()
    };
    let from_macro = run(app.topology);
    assert_eq!(from_macro, run(by_hand));
    assert_eq!(from_macro["a"], 3);
    // The last punctuation (stream time 120) runs before the last line's word is fed back.
    assert_eq!(from_macro["*"], 6);
}

/// Puts a record into every persistent store kind.
#[cfg(feature = "rocksdb")]
#[processor]
fn persist_all(
    record: Record<String, i64>,
    ctx: &mut ProcessorContext<'_, String, i64>,
    totals: &KeyValueStore<String, i64>,
    table: &streams::state::TimestampedKeyValueStore<String, i64>,
    windows: &streams::state::WindowStore<String, i64>,
    sessions: &streams::state::SessionStore<String, i64>,
) -> Result<(), ProcessorError> {
    use streams::state::{ValueAndTimestamp, Window, Windowed};
    let t = record.timestamp;
    totals.put(&record.key, &record.value)?;
    table.put(&record.key, &ValueAndTimestamp::make(record.value, t))?;
    windows.put(&record.key, &record.value, t - t % 1_000)?;
    let session = Windowed {
        key: record.key.clone(),
        window: Window {
            start_ms: t,
            end_ms: t,
        },
    };
    sessions.put(&session, &record.value)?;
    ctx.forward(record)
}

#[cfg(feature = "rocksdb")]
#[test]
fn persistent_store_kinds() {
    let app = topology! {
        source input: <String, i64> = "input" as utf8, default;
        sink output: <String, i64> = "output" as utf8, default;
        store totals: persistent_key_value<String, i64> as utf8, default;
        store table: persistent_timestamped_key_value<String, i64> as utf8, default;
        store windows: persistent_window<String, i64>(60_000, 1_000) as utf8, default;
        store sessions: persistent_session<String, i64>(60_000) as utf8, default;
        input -> persist_all(totals, table, windows, sessions) -> output;
    }
    .expect("valid");
    let driver = TopologyTestDriver::new(app.topology).expect("driver");
    driver
        .create_input_topic("input", Utf8, I64)
        .pipe_input_at("k".to_string(), 7, 1_500)
        .expect("processed");
    let windows = driver
        .window_store::<String, i64>("windows")
        .expect("window store");
    let fetched: Vec<_> = windows
        .fetch(&"k".to_string(), 0, 2_000)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(fetched, [(1_000, 7)]);
    let totals = driver
        .key_value_store::<String, i64>("totals")
        .expect("key-value store");
    assert_eq!(totals.get(&"k".to_string()).unwrap(), Some(7));
}

/// DSL operations in a `topology!` chain: the same topology, names and results as the program
/// written with `StreamsBuilder` (the macro's nodes named as declared).
#[test]
fn dsl_operations_in_a_chain_equal_the_dsl_program() {
    use streams::codec::Nullable;
    use streams::dsl::{Consumed, Materialized, Produced, StreamsBuilder};

    let app = topology! {
        source lines: <String, String> = "text-input" as utf8;
        sink counts: <String, Option<i64>> = "word-counts" as utf8, default;

        lines -> not_empty -> words
            -> .group_by(|_line: &String, word: &String| word.to_lowercase())
            -> .count_with(Materialized::named("counts-store"))
            -> .to_stream()
            -> counts;
    }
    .expect("valid topology");

    let builder = StreamsBuilder::new();
    builder
        .stream_with::<String, String, _, _>(
            "text-input",
            Consumed::with(Utf8, Utf8).with_name("lines"),
        )
        .named("not_empty")
        .process(not_empty::<String>::default, &[])
        .named("words")
        .process(words::<String>::default, &[])
        .group_by(|_line: &String, word: &String| word.to_lowercase())
        .count_with(Materialized::named("counts-store"))
        .to_stream()
        .to_with(
            "word-counts",
            Produced::with(Utf8, Nullable(I64)).with_name("counts"),
        );
    let by_dsl = builder.build().expect("valid program");
    assert_eq!(
        app.topology.describe().to_string(),
        by_dsl.describe().to_string()
    );

    let run = |topology| -> Vec<(String, Option<i64>)> {
        let driver = TopologyTestDriver::new(topology).unwrap();
        let input = driver.create_input_topic("text-input", Utf8, Utf8);
        for line in ["a B a", " ", "b"] {
            input.pipe_input("k".into(), line.to_string()).unwrap();
        }
        driver
            .create_output_topic("word-counts", Utf8, Nullable(I64))
            .read_key_values_to_list()
            .unwrap()
    };
    let from_macro = run(app.topology);
    assert_eq!(from_macro, run(by_dsl));
    assert_eq!(
        from_macro,
        [
            ("a".to_string(), Some(1)),
            ("b".to_string(), Some(1)),
            ("a".to_string(), Some(2)),
            ("b".to_string(), Some(2)),
        ]
    );
}

/// The item form with DSL operations: a nameable windowed count.
mod windowed {
    use std::time::Duration;

    use streams::dsl::{BufferConfig, Suppressed, TimeWindows, Windowed};
    use streams::testing::TopologyTestDriver;
    use streams::topology;

    topology! {
        pub struct ViewsPerMinute;
        source views: <String, String> = "page-views" as utf8;
        sink per_minute: <String, i64> = "views-per-minute" as utf8, default;

        views -> .group_by_key()
            -> .windowed_by(TimeWindows::of_size_and_grace(Duration::from_secs(60), Duration::from_secs(10)))
            -> .count()
            -> .suppress(Suppressed::until_window_closes(BufferConfig::unbounded()))
            -> .to_stream()
            -> .map(|w: Windowed<String>, n: Option<i64>| (format!("{}@{}", w.key, w.window.start_ms), n.unwrap_or(0)))
            -> per_minute;
    }

    #[test]
    fn counts_once_per_closed_window() {
        let app = ViewsPerMinute::build().expect("valid");
        let driver = TopologyTestDriver::new(app.topology).unwrap();
        let views = driver.input(&app.views);
        for (user, ts) in [
            ("ann", 1_000),
            ("bob", 2_000),
            ("ann", 59_000),
            ("ann", 65_000),
        ] {
            views.pipe_input_at(user.into(), "/".into(), ts).unwrap();
        }
        // Stream time 75 000 closes [0, 60 000) (its end 60 000 + grace 10 000 <= 75 000).
        views
            .pipe_input_at("bob".into(), "/".into(), 75_000)
            .unwrap();
        let counts = driver
            .output(&app.per_minute)
            .read_key_values_to_list()
            .unwrap();
        assert_eq!(counts, [("ann@0".to_string(), 2), ("bob@0".to_string(), 1)]);
    }
}

/// Joins declared in `topology!`.
#[path = "macros/joins.rs"]
mod joins;
