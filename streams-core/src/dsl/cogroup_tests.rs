//! Cogroups on the paths the golden programs of `tests/join_golden.rs` do not reach: sliding and
//! session windows, a cogroup of one input (which must behave as the grouped stream's own
//! aggregation), when evicted updates are forwarded, old values for a downstream table
//! aggregation, suppression, a join with a cogrouped table, an input cogrouped twice, two
//! aggregations of one cogroup, and the errors.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::codec::{Bytes, Nullable, Utf8};
use crate::testing::{DriverOptions, TopologyTestDriver};
use crate::topology::{MinimumRetention, TopologyError};

use super::{
    BufferConfig, Consumed, KGroupedStream, Materialized, Produced, SessionWindowedCodec,
    SessionWindows, SlidingWindows, StreamsBuilder, Suppressed, TimeWindowedCodec, TimeWindows,
};

type Grouped = KGroupedStream<String, String, Utf8, Utf8>;

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn grouped(b: &StreamsBuilder, topic: &str) -> Grouped {
    b.stream_with(topic, Consumed::with(Utf8, Utf8))
        .group_by_key()
}

fn append(tag: &'static str) -> impl Fn(&String, String, String) -> String {
    move |_k, v, agg| format!("{agg}|{tag}:{v}")
}

const CACHE_OFF: usize = 0;
const CACHE_ON: usize = 10 * 1024 * 1024;

/// Runs `script` (`topic key value time`, space-separated; the value `null` is null) through
/// `program`; one line per record of `output`, as `key-hex=value@time` (values are UTF-8).
fn run(program: impl FnOnce(&StreamsBuilder), script: &[&str], cache: usize) -> Vec<String> {
    let builder = StreamsBuilder::new();
    program(&builder);
    let driver = TopologyTestDriver::with_options(
        builder.build().expect("the program builds"),
        DriverOptions {
            cache_max_bytes: cache,
            ..DriverOptions::default()
        },
    )
    .expect("driver");
    let output = driver.create_output_topic("output", Bytes, Nullable(Utf8));
    let mut lines = Vec::new();
    for line in script {
        let f: Vec<&str> = line.split(' ').collect();
        let input = driver.create_input_topic(f[0], Utf8, Nullable(Utf8));
        let time = f[3].parse().expect("time");
        let value = (f[2] != "null").then(|| f[2].to_string());
        input
            .pipe_input_at(f[1].to_string(), value, time)
            .expect("pipe");
        for r in output.read_records_to_list().expect("read") {
            let key: String = r.key.iter().map(|b| format!("{b:02x}")).collect();
            let value = r.value.unwrap_or_else(|| "null".into());
            lines.push(format!("{key}={value}@{}", r.timestamp));
        }
    }
    lines
}

/// Out-of-order and late records, two keys, one input.
const ONE_INPUT: &[&str] = &[
    "in1 A x1 1000",
    "in1 A x2 6000",
    "in1 B y1 3000",
    "in1 A x3 4000",
    "in1 A x4 12000",
    "in1 A x5 2000",
    "in1 B y2 30000",
    "in1 A x6 11000",
];

fn same_outputs(grouped_program: fn(&StreamsBuilder), cogroup_program: fn(&StreamsBuilder)) {
    for cache in [CACHE_OFF, CACHE_ON] {
        let expected = run(grouped_program, ONE_INPUT, cache);
        assert!(!expected.is_empty());
        assert_eq!(
            run(cogroup_program, ONE_INPUT, cache),
            expected,
            "cache {cache}"
        );
    }
}

#[test]
fn a_cogroup_of_one_input_aggregates_as_the_grouped_stream_does() {
    same_outputs(
        |b| {
            grouped(b, "in1")
                .aggregate(String::new, append("a"))
                .to_stream()
                .to("output")
        },
        |b| {
            grouped(b, "in1")
                .cogroup(append("a"))
                .aggregate(String::new)
                .to_stream()
                .to("output")
        },
    );
}

fn time_windowed()
-> Produced<super::Explicit<TimeWindowedCodec<Utf8>>, super::Explicit<Nullable<Utf8>>> {
    Produced::with(TimeWindowedCodec::new(Utf8, 10_000), Nullable(Utf8))
}

#[test]
fn a_cogroup_of_one_input_in_hopping_windows_aggregates_as_the_grouped_stream_does() {
    fn windows() -> TimeWindows {
        TimeWindows::of_size_and_grace(secs(10), secs(3)).advance_by(secs(5))
    }
    same_outputs(
        |b| {
            grouped(b, "in1")
                .windowed_by(windows())
                .aggregate(String::new, append("a"))
                .to_stream()
                .to_with("output", time_windowed())
        },
        |b| {
            grouped(b, "in1")
                .cogroup(append("a"))
                .windowed_by(windows())
                .aggregate(String::new)
                .to_stream()
                .to_with("output", time_windowed())
        },
    );
}

#[test]
fn a_cogroup_of_one_input_in_sliding_windows_aggregates_as_the_grouped_stream_does() {
    fn windows() -> SlidingWindows {
        SlidingWindows::of_time_difference_and_grace(secs(5), secs(4))
    }
    fn output()
    -> Produced<super::Explicit<TimeWindowedCodec<Utf8>>, super::Explicit<Nullable<Utf8>>> {
        Produced::with(TimeWindowedCodec::new(Utf8, 5_000), Nullable(Utf8))
    }
    same_outputs(
        |b| {
            grouped(b, "in1")
                .windowed_by(windows())
                .aggregate(String::new, append("a"))
                .to_stream()
                .to_with("output", output())
        },
        |b| {
            grouped(b, "in1")
                .cogroup(append("a"))
                .windowed_by(windows())
                .aggregate(String::new)
                .to_stream()
                .to_with("output", output())
        },
    );
}

#[test]
fn a_cogroup_of_one_input_in_session_windows_aggregates_as_the_grouped_stream_does() {
    fn windows() -> SessionWindows {
        SessionWindows::of_inactivity_gap_and_grace(secs(2), secs(3))
    }
    fn merge(_k: &String, left: String, right: String) -> String {
        format!("{left}+{right}")
    }
    fn output()
    -> Produced<super::Explicit<SessionWindowedCodec<Utf8>>, super::Explicit<Nullable<Utf8>>> {
        Produced::with(SessionWindowedCodec::new(Utf8), Nullable(Utf8))
    }
    same_outputs(
        |b| {
            grouped(b, "in1")
                .windowed_by(windows())
                .aggregate(String::new, append("a"), merge)
                .to_stream()
                .to_with("output", output())
        },
        |b| {
            grouped(b, "in1")
                .cogroup(append("a"))
                .windowed_by(windows())
                .aggregate(String::new, merge)
                .to_stream()
                .to_with("output", output())
        },
    );
}

#[test]
fn sessions_of_two_inputs_merge_and_close_by_each_inputs_stream_time() {
    let program = |b: &StreamsBuilder| {
        grouped(b, "in1")
            .cogroup(append("a"))
            .cogroup(&grouped(b, "in2"), append("b"))
            .windowed_by(SessionWindows::of_inactivity_gap_with_no_grace(secs(2)))
            // The store keeps sessions long after they close, so only each input's own stream
            // time decides what is late.
            .aggregate_with(
                String::new,
                |_k, left, right| format!("{left}+{right}"),
                Materialized::with(Utf8, Utf8).with_retention(secs(60)),
            )
            .to_stream()
            .to_with(
                "output",
                Produced::with(SessionWindowedCodec::new(Utf8), Nullable(Utf8)),
            )
    };
    let script = [
        "in1 A x1 1000",
        "in2 A y1 4000",
        // Within the gap of both sessions: they merge (merger(initializer(), session) per
        // session, as Kafka Streams does).
        "in2 A y2 2500",
        "in1 A x2 9000",
        // Late for in1 (stream time 9000: sessions ending before 7000 are closed).
        "in1 A x3 3000",
        // Not late for in2 (stream time 4000: sessions ending from 2000 on are open).
        "in2 A y3 5000",
    ];
    // Session keys: the key, then the end and the start (8 bytes each); removed sessions are
    // stamped with their end.
    let s = |start: u64, end: u64| format!("41{end:016x}{start:016x}");
    let expected = [
        format!("{}=|a:x1@1000", s(1000, 1000)),
        format!("{}=|b:y1@4000", s(4000, 4000)),
        format!("{}=null@1000", s(1000, 1000)),
        format!("{}=null@4000", s(4000, 4000)),
        format!("{}=+|a:x1+|b:y1|b:y2@4000", s(1000, 4000)),
        format!("{}=|a:x2@9000", s(9000, 9000)),
        format!("{}=null@4000", s(1000, 4000)),
        format!("{}=++|a:x1+|b:y1|b:y2|b:y3@5000", s(1000, 5000)),
    ];
    assert_eq!(run(program, &script, CACHE_OFF), expected);
}

#[test]
fn sliding_windows_of_two_inputs_drop_null_values_and_close_by_each_inputs_stream_time() {
    let program = |b: &StreamsBuilder| {
        let in2 = b
            .stream_with("in2", Consumed::with(Utf8, Nullable(Utf8)))
            .group_by_key();
        grouped(b, "in1")
            .cogroup(append("a"))
            .cogroup(&in2, |_k, v: Option<String>, agg: String| {
                format!("{agg}|b:{}", v.unwrap_or_default())
            })
            .windowed_by(SlidingWindows::of_time_difference_with_no_grace(secs(5)))
            .aggregate(String::new)
            .to_stream()
            .to_with(
                "output",
                Produced::with(TimeWindowedCodec::new(Utf8, 5_000), Nullable(Utf8)),
            )
    };
    let script = [
        "in1 A x1 10000",
        "in2 A y1 12000",
        "in1 A x2 20000",
        // A null value: dropped.
        "in2 A null 13000",
        // Late for in1 (stream time 20000), not for in2 (stream time 12000).
        "in1 A x3 14000",
        "in2 A y2 14000",
    ];
    // Window keys: the key, then the start (8 bytes).
    let w = |start: u64| format!("41{start:016x}");
    let expected = [
        format!("{}=|a:x1@10000", w(5000)),
        // x1's right window, then y1's left window (holding x1).
        format!("{}=|b:y1@12000", w(10001)),
        format!("{}=|a:x1|b:y1@12000", w(7000)),
        format!("{}=|a:x2@20000", w(15000)),
        format!("{}=|b:y1|b:y2@14000", w(10001)),
        format!("{}=|b:y2@14000", w(12001)),
        format!("{}=|a:x1|b:y1|b:y2@14000", w(9000)),
    ];
    assert_eq!(run(program, &script, CACHE_OFF), expected);
}

#[test]
fn updates_evicted_from_the_cache_are_forwarded_by_the_processor_that_wrote_them() {
    // Kafka Streams forwards an evicted update while the write that evicted it is made; with a
    // cache of 0 bytes every write is evicted at once, so each window's update is forwarded
    // before the aggregator is called for the next window, by whichever input wrote it.
    let log = Arc::new(Mutex::new(Vec::<String>::new()));
    let (l1, l2, l3) = (Arc::clone(&log), Arc::clone(&log), Arc::clone(&log));
    let program = move |b: &StreamsBuilder| {
        grouped(b, "in1")
            .cogroup(move |_k, v, agg: String| {
                l1.lock().unwrap().push(format!("aggregate {v}"));
                agg + &v
            })
            .cogroup(&grouped(b, "in2"), move |_k, v, agg| {
                l2.lock().unwrap().push(format!("aggregate {v}"));
                agg + &v
            })
            .windowed_by(TimeWindows::of_size_with_no_grace(secs(10)).advance_by(secs(5)))
            .aggregate(String::new)
            .to_stream()
            .foreach(move |k, v| {
                let v = v.clone().unwrap_or_default();
                l3.lock()
                    .unwrap()
                    .push(format!("forward {}={v}", k.window.start_ms));
            });
    };
    let builder = StreamsBuilder::new();
    program(&builder);
    let driver = TopologyTestDriver::with_options(
        builder.build().expect("builds"),
        DriverOptions {
            cache_max_bytes: CACHE_OFF,
            ..DriverOptions::default()
        },
    )
    .expect("driver");
    for (topic, value) in [("in1", "x"), ("in2", "y")] {
        driver
            .create_input_topic(topic, Utf8, Utf8)
            .pipe_input_at("A".to_string(), value.to_string(), 7000)
            .expect("pipe");
    }
    assert_eq!(
        *log.lock().unwrap(),
        [
            "aggregate x",
            "forward 0=x",
            "aggregate x",
            "forward 5000=x",
            "aggregate y",
            "forward 0=xy",
            "aggregate y",
            "forward 5000=xy",
        ]
    );
}

#[test]
fn a_downstream_table_aggregation_gets_old_values() {
    // The latest value per key, from either input, counted per value: a key moving from one
    // value to another is subtracted from the old value's count.
    let program = |b: &StreamsBuilder| {
        grouped(b, "in1")
            .cogroup(|_k, v, _latest: String| v)
            .cogroup(&grouped(b, "in2"), |_k, v, _latest| v)
            .aggregate(String::new)
            .group_by(|k, v| (v, k.clone()))
            .count()
            .to_stream()
            .map_values(|count| count.map(|c| c.to_string()))
            .to_with("output", Produced::with(Utf8, Nullable(Utf8)));
    };
    let script = ["in1 k1 x 1000", "in2 k1 y 2000", "in1 k2 y 3000"];
    for cache in [CACHE_OFF, CACHE_ON] {
        assert_eq!(
            run(program, &script, cache),
            ["78=1@1000", "78=0@2000", "79=1@2000", "79=2@3000"],
            "cache {cache}"
        );
    }
}

#[test]
fn a_windowed_cogroup_can_be_suppressed_until_its_windows_close() {
    let program = |b: &StreamsBuilder| {
        grouped(b, "in1")
            .cogroup(append("a"))
            .cogroup(&grouped(b, "in2"), append("b"))
            .windowed_by(TimeWindows::of_size_and_grace(secs(10), secs(1)))
            .aggregate_with(String::new, Materialized::with(Utf8, Utf8))
            .suppress(Suppressed::until_window_closes(BufferConfig::unbounded()))
            .to_stream()
            .to_with("output", time_windowed())
    };
    let script = ["in1 A x 1000", "in2 A y 2000", "in2 A z 11000"];
    assert_eq!(
        run(program, &script, CACHE_ON),
        [format!("41{:016x}=|a:x|b:y@2000", 0)]
    );
}

#[test]
fn a_stream_joins_a_cogrouped_table() {
    let program = |b: &StreamsBuilder| {
        let table = grouped(b, "in1")
            .cogroup(append("a"))
            .cogroup(&grouped(b, "in2"), append("b"))
            .aggregate(String::new);
        b.stream_with("in3", Consumed::with(Utf8, Utf8))
            .join(&table, |v, row| format!("{v}+{row}"))
            .to("output");
    };
    let script = [
        "in1 A x 1000",
        "in3 A s 2000",
        "in2 A y 3000",
        "in3 A t 4000",
        "in3 B u 5000",
    ];
    for cache in [CACHE_OFF, CACHE_ON] {
        assert_eq!(
            run(program, &script, cache),
            ["41=s+|a:x@2000", "41=t+|a:x|b:y@4000"],
            "cache {cache}"
        );
    }
}

fn describe(program: impl FnOnce(&StreamsBuilder)) -> String {
    let builder = StreamsBuilder::new();
    program(&builder);
    builder.build().expect("builds").describe().to_string()
}

#[test]
fn a_grouped_stream_cogrouped_again_gets_the_new_aggregator_in_its_place() {
    // Kafka Streams keeps a cogroup's inputs in a map keyed by grouped stream.
    let program = |b: &StreamsBuilder| {
        let g1 = grouped(b, "in1");
        let same = g1.clone();
        g1.cogroup(append("a"))
            .cogroup(&grouped(b, "in2"), append("b"))
            .cogroup(&same, append("c"))
            .aggregate(String::new)
            .to_stream()
            .to_with("output", Produced::with(Utf8, Nullable(Utf8)));
    };
    let described = describe(program);
    assert!(described.contains(
        "Processor: COGROUPKSTREAM-AGGREGATE-0000000003 (stores: [COGROUPKSTREAM-AGGREGATE-STATE-STORE-0000000002])\n      \
         --> COGROUPKSTREAM-MERGE-0000000005\n      <-- KSTREAM-SOURCE-0000000000"
    ), "{described}");
    assert!(!described.contains("AGGREGATE-0000000006"), "{described}");
    assert_eq!(
        run(program, &["in1 A x 1000", "in2 A y 2000"], CACHE_OFF),
        ["41=|c:x@1000", "41=|c:x|b:y@2000"]
    );
}

#[test]
fn a_name_given_to_the_first_grouped_stream_names_the_cogroup() {
    let described = describe(|b| {
        grouped(b, "in1")
            .named("both")
            .cogroup(append("a"))
            .cogroup(&grouped(b, "in2").named("ignored"), append("b"))
            .aggregate(String::new);
    });
    for node in [
        "both-cogroup-agg-0",
        "both-cogroup-agg-1",
        "both-cogroup-merge",
    ] {
        assert!(
            described.contains(&format!("Processor: {node} ")),
            "{described}"
        );
    }
    assert!(!described.contains("ignored"), "{described}");
}

#[test]
fn a_second_aggregation_burns_the_repartition_names_and_reads_the_first_repartition() {
    // Kafka Streams' `CogroupedStreamAggregateBuilder` names every repartition again (using up
    // three indexes) but writes it once per cogroup.
    let described = describe(|b| {
        let by_value = b
            .stream_with("in2", Consumed::with(Utf8, Utf8))
            .group_by(|_k, v| v.clone());
        let both = grouped(b, "in1")
            .cogroup(append("a"))
            .cogroup(&by_value, append("b"));
        both.aggregate(String::new).to_stream().to("out1");
        both.windowed_by(TimeWindows::of_size_with_no_grace(secs(10)))
            .aggregate(String::new)
            .to_stream()
            .to_with("out2", time_windowed());
    });
    let topic = "COGROUPKSTREAM-AGGREGATE-STATE-STORE-0000000003-repartition";
    assert_eq!(
        described.matches(&format!("Sink: {topic}-sink")).count(),
        1,
        "{described}"
    );
    for (node, store) in [
        ("COGROUPKSTREAM-AGGREGATE-0000000008", "0000000003"),
        ("COGROUPKSTREAM-AGGREGATE-0000000017", "0000000012"),
    ] {
        assert!(
            described.contains(&format!(
                "Processor: {node} (stores: [COGROUPKSTREAM-AGGREGATE-STATE-STORE-{store}])\n      \
                 --> COGROUPKSTREAM-MERGE-"
            )),
            "{described}"
        );
    }
    assert!(
        described.contains(&format!(
            "Source: {topic}-source (topics: [{topic}])\n      --> COGROUPKSTREAM-AGGREGATE-0000000008, COGROUPKSTREAM-AGGREGATE-0000000017"
        )),
        "{described}"
    );
}

/// The errors of the program `build` writes.
fn errors(build: impl FnOnce(&StreamsBuilder)) -> Vec<TopologyError> {
    let builder = StreamsBuilder::new();
    build(&builder);
    match builder.build() {
        Ok(topology) => panic!("built:\n{}", topology.describe()),
        Err(errors) => errors.errors().to_vec(),
    }
}

#[test]
fn inputs_of_another_builder_are_refused() {
    let other = StreamsBuilder::new();
    let foreign = grouped(&other, "in2");
    let builder = StreamsBuilder::new();
    grouped(&builder, "in1")
        .cogroup(append("a"))
        .cogroup(&foreign, append("b"))
        .aggregate(String::new);
    let errors = builder.build().expect_err("refused");
    assert_eq!(
        errors.errors(),
        [TopologyError::CogroupAcrossBuilders {
            node: "COGROUPKSTREAM-MERGE-0000000003".into()
        }]
    );
    assert_eq!(
        errors.to_string(),
        "invalid topology: cogroup `COGROUPKSTREAM-MERGE-0000000003` combines grouped streams of \
         different StreamsBuilders; every input of a cogroup must come from the builder of its \
         first one"
    );
}

#[test]
fn windows_of_size_zero_are_refused() {
    let errors = errors(|b| {
        grouped(b, "in1")
            .cogroup(append("a"))
            .windowed_by(TimeWindows::of_size_with_no_grace(Duration::ZERO))
            .named("w")
            .aggregate(String::new);
    });
    assert_eq!(
        errors,
        [TopologyError::WindowSizeZero {
            node: "w-cogroup-merge".into()
        }]
    );
}

#[test]
fn a_retention_shorter_than_the_windows_is_refused() {
    let time_errors = errors(|b| {
        grouped(b, "in1")
            .cogroup(append("a"))
            .windowed_by(TimeWindows::of_size_and_grace(secs(10), secs(5)))
            .aggregate_with(
                String::new,
                Materialized::named("s").with_retention(secs(12)),
            );
    });
    assert_eq!(
        time_errors,
        [TopologyError::RetentionTooShort {
            store: "s".into(),
            retention_ms: 12_000,
            minimum: MinimumRetention::TimeWindows {
                size_ms: 10_000,
                grace_ms: 5_000
            },
        }]
    );
    let session_errors = errors(|b| {
        grouped(b, "in1")
            .cogroup(append("a"))
            .windowed_by(SessionWindows::of_inactivity_gap_with_no_grace(secs(10)))
            .aggregate_with(
                String::new,
                |_k, l, r| l + &r,
                Materialized::named("s").with_retention(secs(1)),
            );
    });
    assert!(
        matches!(&session_errors[..], [TopologyError::RetentionTooShort { store, .. }] if store == "s"),
        "{session_errors:?}"
    );
}

#[test]
fn two_inputs_repartitioned_through_one_generated_topic_are_refused() {
    // Both repartitions are named after the store, as in Kafka Streams (which throws: the
    // repartition's nodes are added twice); name one with `Grouped` to avoid it.
    let errors = errors(|b| {
        let by_value = |topic: &str| {
            b.stream_with(topic, Consumed::with(Utf8, Utf8))
                .group_by(|_k, v| v.clone())
        };
        by_value("in1")
            .cogroup(append("a"))
            .cogroup(&by_value("in2"), append("b"))
            .aggregate(String::new);
    });
    assert!(
        errors
            .iter()
            .any(|e| matches!(e, TopologyError::DuplicateName { name } if name.ends_with("-repartition-sink"))),
        "{errors:?}"
    );
}
