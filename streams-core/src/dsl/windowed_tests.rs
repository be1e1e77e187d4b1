//! Windowed aggregations and suppression against Kafka Streams 4.4, on the paths the golden
//! programs of `tests/dsl_golden.rs` do not reach: sliding windows' early records, final
//! results of hopping, sliding and session windows, merging sessions with a reducer, and a
//! suppression buffer emitting early when full.
//!
//! Each expected output was captured from Kafka Streams 4.4.0's `TopologyTestDriver` running
//! the same program (a one-off Java program): per input record `key@time[=value]`, the output
//! records as `key-hex=value-hex@timestamp`.

use std::time::Duration;

use crate::codec::{Bytes, I64, Nullable, Utf8};
use crate::testing::{DriverOptions, TopologyTestDriver};

use super::{
    BufferConfig, EmitStrategy, Grouped, Materialized, Produced, SessionWindowedCodec,
    SessionWindows, SlidingWindows, StreamsBuilder, Suppressed, TimeWindowedCodec, TimeWindows,
};

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn hex(bytes: &Option<Vec<u8>>) -> String {
    match bytes {
        Some(b) => b.iter().map(|b| format!("{b:02x}")).collect(),
        None => "null".to_string(),
    }
}

/// Runs `script` (records `key@time` or `key@time=value`; the value defaults to `v`) through
/// `program` with the given cache size; one line per record as the capture prints it.
fn run(program: fn(&StreamsBuilder), script: &[&str], cache_max_bytes: usize) -> Vec<String> {
    let builder = StreamsBuilder::new();
    program(&builder);
    let topology = builder.build().expect("the program builds");
    let driver = TopologyTestDriver::with_options(
        topology,
        DriverOptions {
            application_id: "x".to_string(),
            cache_max_bytes,
            ..DriverOptions::default()
        },
    )
    .expect("driver");
    let input = driver.create_input_topic("input", Utf8, Utf8);
    let output = driver.create_output_topic("output", Nullable(Bytes), Nullable(Bytes));
    let mut lines = Vec::new();
    for &record in script {
        let (key, rest) = record.split_once('@').expect("key@time");
        let (time, value) = rest.split_once('=').unwrap_or((rest, "v"));
        let time: i64 = time.parse().expect("time");
        input
            .pipe_input_at(key.to_string(), value.to_string(), time)
            .expect("pipe");
        let mut line = format!("{record}:");
        for r in output.read_records_to_list().expect("read") {
            line.push_str(&format!(
                " {}={}@{}",
                hex(&r.key),
                hex(&r.value),
                r.timestamp
            ));
        }
        lines.push(line);
    }
    lines
}

const CACHE_OFF: usize = 0;
const CACHE_ON: usize = 10 * 1024 * 1024;

fn check(program: fn(&StreamsBuilder), script: &[&str], caches: &[usize], expected: &[&str]) {
    for &cache in caches {
        assert_eq!(run(program, script, cache), expected, "cache {cache}");
    }
}

#[test]
fn sliding_windows_put_early_records_in_the_first_window() {
    fn program(b: &StreamsBuilder) {
        b.stream::<String, String>("input")
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
    check(
        program,
        &[
            "A@1000", "A@3000", "A@2000", "A@7000", "A@4000", "A@6000", "A@0",
        ],
        &[CACHE_OFF, CACHE_ON],
        &[
            "A@1000: 410000000000000000=0000000000000001@1000",
            "A@3000: 4100000000000003e9=0000000000000001@3000 410000000000000000=0000000000000002@3000",
            "A@2000: 4100000000000003e9=0000000000000002@3000 4100000000000007d1=0000000000000001@3000 410000000000000000=0000000000000003@3000",
            "A@7000: 4100000000000007d1=0000000000000002@7000 410000000000000bb9=0000000000000001@7000 4100000000000007d0=0000000000000003@7000",
            "A@4000: 4100000000000003e9=0000000000000003@4000 4100000000000007d0=0000000000000004@7000 4100000000000007d1=0000000000000003@7000 410000000000000bb9=0000000000000002@7000 410000000000000fa1=0000000000000001@7000 410000000000000000=0000000000000004@4000",
            "A@6000: 410000000000000fa1=0000000000000002@7000 410000000000000bb9=0000000000000003@7000 4100000000000007d1=0000000000000004@7000 4100000000000007d0=0000000000000005@7000 4100000000000003e9=0000000000000004@6000 4100000000000003e8=0000000000000005@6000 410000000000001771=0000000000000001@7000",
            "A@0: 410000000000000001=0000000000000004@4000 410000000000000000=0000000000000005@4000",
        ],
    );
}

#[test]
fn sliding_windows_emit_final_results_in_window_order() {
    fn program(b: &StreamsBuilder) {
        b.stream::<String, String>("input")
            .group_by_key()
            .windowed_by(SlidingWindows::of_time_difference_and_grace(
                secs(5),
                secs(2),
            ))
            .emit_strategy(EmitStrategy::OnWindowClose)
            .count()
            .to_stream()
            .to_with(
                "output",
                Produced::with(TimeWindowedCodec::new(Utf8, 5_000), Nullable(I64)),
            );
    }
    check(
        program,
        &[
            "A@10000", "A@12000", "A@11000", "B@11000", "A@20000", "B@21000", "A@40000",
        ],
        &[CACHE_OFF, CACHE_ON],
        &[
            "A@10000:",
            "A@12000:",
            "A@11000:",
            "B@11000:",
            "A@20000: 410000000000001388=0000000000000001@10000 410000000000001770=0000000000000002@11000 420000000000001770=0000000000000001@11000 410000000000001b58=0000000000000003@12000 410000000000002711=0000000000000002@12000 410000000000002af9=0000000000000001@12000",
            "B@21000:",
            "A@40000:",
        ],
    );
}

#[test]
fn hopping_windows_emit_final_results_once_per_closed_window() {
    fn program(b: &StreamsBuilder) {
        b.stream::<String, String>("input")
            .group_by_key()
            .windowed_by(TimeWindows::of_size_with_no_grace(secs(10)).advance_by(secs(5)))
            .emit_strategy(EmitStrategy::OnWindowClose)
            .count()
            .to_stream()
            .to_with(
                "output",
                Produced::with(TimeWindowedCodec::new(Utf8, 10_000), Nullable(I64)),
            );
    }
    // With the cache on, Kafka Streams also emits windows its store has already expired (they
    // linger in its record cache); this store layer's cache keeps no expired windows.
    check(
        program,
        &[
            "B@1000", "A@1000", "B@6000", "A@7000", "C@16000", "A@26000", "AB@27000", "A@28000",
            "Z@41000",
        ],
        &[CACHE_OFF],
        &[
            "B@1000:",
            "A@1000:",
            "B@6000:",
            "A@7000:",
            // [0, 10000) expired (start 0 < stream time 15000 − retention 10000); [5000, 15000)
            // is still there in Kafka Streams' time-ordered store.
            "C@16000: 410000000000001388=0000000000000001@7000 420000000000001388=0000000000000001@6000",
            "A@26000: 430000000000003a98=0000000000000001@16000",
            "AB@27000:",
            "A@28000:",
            "Z@41000:",
        ],
    );
}

#[test]
fn sessions_emit_final_results_by_end_time() {
    fn program(b: &StreamsBuilder) {
        b.stream::<String, String>("input")
            .group_by_key()
            .windowed_by(SessionWindows::of_inactivity_gap_and_grace(
                secs(5),
                secs(1),
            ))
            .emit_strategy(EmitStrategy::OnWindowClose)
            .count()
            .to_stream()
            .to_with(
                "output",
                Produced::with(SessionWindowedCodec::new(Utf8), Nullable(I64)),
            );
    }
    check(
        program,
        &[
            "A@1000", "A@3000", "B@2000", "A@20000", "C@19000", "A@30000", "B@31000", "Z@60000",
        ],
        &[CACHE_OFF, CACHE_ON],
        &[
            "A@1000:",
            "A@3000:",
            "B@2000:",
            "A@20000: 4200000000000007d000000000000007d0=0000000000000001@2000 410000000000000bb800000000000003e8=0000000000000002@3000",
            "C@19000:",
            "A@30000: 430000000000004a380000000000004a38=0000000000000001@19000 410000000000004e200000000000004e20=0000000000000001@20000",
            "B@31000:",
            "Z@60000: 4100000000000075300000000000007530=0000000000000001@30000 4200000000000079180000000000007918=0000000000000001@31000",
        ],
    );
}

#[test]
fn session_aggregates_emit_merged_final_results() {
    fn program(b: &StreamsBuilder) {
        b.stream::<String, String>("input")
            .group_by_key()
            .windowed_by(SessionWindows::of_inactivity_gap_with_no_grace(secs(5)))
            .emit_strategy(EmitStrategy::OnWindowClose)
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
    check(
        program,
        &[
            "A@1000=a",
            "A@3000=b",
            "A@9000=c",
            "A@6000=d",
            "A@20000=e",
            "A@40000=f",
        ],
        &[CACHE_OFF, CACHE_ON],
        &[
            "A@1000=a:",
            "A@3000=b:",
            "A@9000=c: 410000000000000bb800000000000003e8=7c6162@3000",
            "A@6000=d:",
            "A@20000=e: 4100000000000023280000000000001770=7c6364@9000",
            "A@40000=f: 410000000000004e200000000000004e20=65@20000",
        ],
    );
}

#[test]
fn session_reduce_merges_sessions_with_the_reducer() {
    fn program(b: &StreamsBuilder) {
        b.stream::<String, String>("input")
            .group_by_key()
            .windowed_by(SessionWindows::of_inactivity_gap_with_no_grace(secs(5)))
            .reduce(|a, v| format!("{a},{v}"))
            .to_stream()
            .to_with(
                "output",
                Produced::with(SessionWindowedCodec::new(Utf8), Nullable(Utf8)),
            );
    }
    // Kafka Streams' cache-on run differs: its cache still shows the expired session [0, 0]
    // (retention is gap + grace = 5 s), which this store layer's cache does not keep.
    check(
        program,
        &["A@0=x", "A@10000=z", "A@5000=y", "A@12000=w"],
        &[CACHE_OFF],
        &[
            "A@0=x: 4100000000000000000000000000000000=78@0",
            "A@10000=z: 4100000000000027100000000000002710=7a@10000",
            "A@5000=y: 4100000000000027100000000000002710=null@10000 4100000000000027100000000000001388=7a2c79@10000",
            "A@12000=w: 4100000000000027100000000000001388=null@10000 410000000000002ee00000000000001388=7a2c792c77@12000",
        ],
    );
}

#[test]
fn a_full_suppression_buffer_emits_its_oldest_entries_early() {
    fn program(b: &StreamsBuilder) {
        b.stream::<String, String>("input")
            .group_by_key()
            .count()
            .suppress(Suppressed::until_time_limit(
                secs(10),
                BufferConfig::max_records(2),
            ))
            .to_stream()
            .to_with("output", Produced::with(Utf8, Nullable(I64)));
    }
    check(
        program,
        &["A@0", "B@1", "C@2", "A@3", "D@4", "E@20000", "A@20001"],
        &[CACHE_OFF, CACHE_ON],
        &[
            "A@0:",
            "B@1:",
            "C@2: 41=0000000000000001@0",
            "A@3: 42=0000000000000001@1",
            "D@4: 43=0000000000000001@2",
            "E@20000: 41=0000000000000002@3 44=0000000000000001@4",
            "A@20001:",
        ],
    );
}

#[test]
fn a_full_strict_suppression_buffer_fails_the_task() {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("input")
        .group_by_key()
        .count()
        .suppress(Suppressed::until_time_limit(
            secs(10),
            BufferConfig::max_records(1).shut_down_when_full(),
        ))
        .to_stream()
        .to("output");
    let driver = TopologyTestDriver::new(builder.build().unwrap()).unwrap();
    let input = driver.create_input_topic("input", Utf8, Utf8);
    input.pipe_input_at("a".into(), "v".into(), 0).unwrap();
    let err = input.pipe_input_at("b".into(), "v".into(), 1).unwrap_err();
    assert!(
        err.to_string().contains("exceeded its max capacity")
            || format!("{err:?}").contains("exceeded its max capacity"),
        "{err:?}"
    );
}

#[test]
fn windowed_tables_write_kafka_streams_windowed_keys_by_default() {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("input")
        .group_by_key()
        .windowed_by(TimeWindows::of_size_with_no_grace(secs(10)))
        .count()
        .to_stream()
        .to("output");
    let driver = TopologyTestDriver::new(builder.build().unwrap()).unwrap();
    driver
        .create_input_topic("input", Utf8, Utf8)
        .pipe_input_at("A".into(), "v".into(), 12_000)
        .unwrap();
    let out = driver.create_output_topic("output", Nullable(Bytes), Nullable(Bytes));
    let r = out.read_records_to_list().unwrap().remove(0);
    assert_eq!(hex(&r.key), "410000000000002710");
    assert_eq!(hex(&r.value), "0000000000000001");
}

/// Index burns and names: `count(Materialized)` burns an index for time and session windows but
/// not for sliding ones; a named aggregation still burns one; a repartition before a windowed
/// aggregation is named by the grouping or the store; a named suppression burns none.
#[test]
fn windowed_names_are_kafka_streams_names() {
    let b = StreamsBuilder::new();
    let input = b.stream::<String, String>("input");
    input
        .group_by_key()
        .windowed_by(SlidingWindows::of_time_difference_with_no_grace(secs(5)))
        .count_with(Materialized::with(Utf8, I64))
        .to_stream()
        .to("o1");
    input
        .group_by_key()
        .windowed_by(SessionWindows::of_inactivity_gap_with_no_grace(secs(5)))
        .count_with(Materialized::with(Utf8, I64))
        .to_stream()
        .to("o2");
    input
        .map(|k, v| (v, k))
        .group_by_key_with(Grouped::named("g"))
        .windowed_by(TimeWindows::of_size_with_no_grace(secs(5)))
        .reduce(|x, y| x + &y)
        .suppress(Suppressed::until_window_closes(BufferConfig::unbounded()).with_name("fin"))
        .to_stream()
        .to("o3");
    input
        .map(|k, v| (v, k))
        .group_by_key()
        .windowed_by(SessionWindows::of_inactivity_gap_with_no_grace(secs(5)))
        .named("sess")
        .aggregate(String::new, |_k, v, x| x + &v, |_k, x, y| x + &y)
        .to_stream()
        .to("o4");
    // Kafka Streams 4.4's `describe()` of the same program.
    let expected = r#"Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000000 (topics: [input])
      --> KSTREAM-AGGREGATE-0000000002, KSTREAM-MAP-0000000018, KSTREAM-AGGREGATE-0000000007, KSTREAM-MAP-0000000010
    Processor: KSTREAM-AGGREGATE-0000000002 (stores: [KSTREAM-AGGREGATE-STATE-STORE-0000000001])
      --> KTABLE-TOSTREAM-0000000003
      <-- KSTREAM-SOURCE-0000000000
    Processor: KSTREAM-AGGREGATE-0000000007 (stores: [KSTREAM-AGGREGATE-STATE-STORE-0000000006])
      --> KTABLE-TOSTREAM-0000000008
      <-- KSTREAM-SOURCE-0000000000
    Processor: KSTREAM-MAP-0000000010 (stores: [])
      --> g-repartition-filter
      <-- KSTREAM-SOURCE-0000000000
    Processor: KSTREAM-MAP-0000000018 (stores: [])
      --> KSTREAM-FILTER-0000000022
      <-- KSTREAM-SOURCE-0000000000
    Processor: KSTREAM-FILTER-0000000022 (stores: [])
      --> KSTREAM-SINK-0000000021
      <-- KSTREAM-MAP-0000000018
    Processor: KTABLE-TOSTREAM-0000000003 (stores: [])
      --> KSTREAM-SINK-0000000004
      <-- KSTREAM-AGGREGATE-0000000002
    Processor: KTABLE-TOSTREAM-0000000008 (stores: [])
      --> KSTREAM-SINK-0000000009
      <-- KSTREAM-AGGREGATE-0000000007
    Processor: g-repartition-filter (stores: [])
      --> g-repartition-sink
      <-- KSTREAM-MAP-0000000010
    Sink: KSTREAM-SINK-0000000004 (topic: o1)
      <-- KTABLE-TOSTREAM-0000000003
    Sink: KSTREAM-SINK-0000000009 (topic: o2)
      <-- KTABLE-TOSTREAM-0000000008
    Sink: KSTREAM-SINK-0000000021 (topic: KSTREAM-AGGREGATE-STATE-STORE-0000000019-repartition)
      <-- KSTREAM-FILTER-0000000022
    Sink: g-repartition-sink (topic: g-repartition)
      <-- g-repartition-filter

  Sub-topology: 1
    Source: g-repartition-source (topics: [g-repartition])
      --> KSTREAM-REDUCE-0000000012
    Processor: KSTREAM-REDUCE-0000000012 (stores: [KSTREAM-REDUCE-STATE-STORE-0000000011])
      --> fin
      <-- g-repartition-source
    Processor: fin (stores: [fin-store])
      --> KTABLE-TOSTREAM-0000000016
      <-- KSTREAM-REDUCE-0000000012
    Processor: KTABLE-TOSTREAM-0000000016 (stores: [])
      --> KSTREAM-SINK-0000000017
      <-- fin
    Sink: KSTREAM-SINK-0000000017 (topic: o3)
      <-- KTABLE-TOSTREAM-0000000016

  Sub-topology: 2
    Source: KSTREAM-SOURCE-0000000023 (topics: [KSTREAM-AGGREGATE-STATE-STORE-0000000019-repartition])
      --> sess
    Processor: sess (stores: [KSTREAM-AGGREGATE-STATE-STORE-0000000019])
      --> KTABLE-TOSTREAM-0000000024
      <-- KSTREAM-SOURCE-0000000023
    Processor: KTABLE-TOSTREAM-0000000024 (stores: [])
      --> KSTREAM-SINK-0000000025
      <-- sess
    Sink: KSTREAM-SINK-0000000025 (topic: o4)
      <-- KTABLE-TOSTREAM-0000000024
"#;
    let ours = b.build().unwrap().describe().to_string();
    assert_eq!(ours.trim_end(), expected.trim_end());
}
