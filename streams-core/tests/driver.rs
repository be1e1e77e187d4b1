//! `TopologyTestDriver` behaviour: piping, reading, time, stores, routing, and every error on the
//! per-record path.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use streams_core::codec::{Bytes, Codec, CodecError, I64, Nullable, Utf8};
use streams_core::error::{ProcessorError, RecordPart, StreamsError};
use streams_core::processor::{Processor, ProcessorContext};
use streams_core::record::{Headers, Record, RecordMetadata};
use streams_core::state::{KeyValueStore, StoreError, Stores};
use streams_core::testing::{ReadError, TopologyTestDriver};
use streams_core::timestamp::InvalidTimestampPolicy;
use streams_core::topology::{RecordContext, SourceSpec, Topology, TopologyBuilder};

type Log<T> = Arc<Mutex<Vec<T>>>;

fn taken<T>(log: &Log<T>) -> Vec<T> {
    std::mem::take(&mut *log.lock().unwrap())
}

fn s(text: &str) -> String {
    text.to_string()
}

fn at(topic: &str, offset: i64) -> RecordMetadata {
    RecordMetadata {
        topic: Arc::from(topic),
        partition: 0,
        offset,
    }
}

// ---------------------------------------------------------------------------------------------
// Helper processors
// ---------------------------------------------------------------------------------------------

/// Forwards every record unchanged.
struct Pass<K, V>(PhantomData<fn() -> (K, V)>);

fn pass<K, V>() -> Pass<K, V> {
    Pass(PhantomData)
}

impl<K: Clone + 'static, V: Clone + 'static> Processor for Pass<K, V> {
    type KIn = K;
    type VIn = V;
    type KOut = K;
    type VOut = V;

    fn process(
        &mut self,
        record: Record<K, V>,
        ctx: &mut ProcessorContext<'_, K, V>,
    ) -> Result<(), ProcessorError> {
        ctx.forward(record)
    }
}

/// Upper-cases values.
struct Upper;

impl Processor for Upper {
    type KIn = String;
    type VIn = String;
    type KOut = String;
    type VOut = String;

    fn process(
        &mut self,
        record: Record<String, String>,
        ctx: &mut ProcessorContext<'_, String, String>,
    ) -> Result<(), ProcessorError> {
        ctx.forward(record.map_value(|v| v.to_uppercase()))
    }
}

/// Swaps key and value (a re-key before a repartition).
struct Swap;

impl Processor for Swap {
    type KIn = String;
    type VIn = String;
    type KOut = String;
    type VOut = String;

    fn process(
        &mut self,
        record: Record<String, String>,
        ctx: &mut ProcessorContext<'_, String, String>,
    ) -> Result<(), ProcessorError> {
        ctx.forward(record.map(|k, v| (v, k)))
    }
}

/// Counts records per key in a key-value store fetched in `init`, and forwards the new count.
struct Counter {
    store_name: &'static str,
    store: Option<KeyValueStore<String, i64>>,
}

fn counter(store_name: &'static str) -> Counter {
    Counter {
        store_name,
        store: None,
    }
}

impl Processor for Counter {
    type KIn = String;
    type VIn = String;
    type KOut = String;
    type VOut = i64;

    fn init(&mut self, ctx: &mut ProcessorContext<'_, String, i64>) -> Result<(), ProcessorError> {
        self.store = Some(ctx.key_value_store(self.store_name)?);
        Ok(())
    }

    fn process(
        &mut self,
        record: Record<String, String>,
        ctx: &mut ProcessorContext<'_, String, i64>,
    ) -> Result<(), ProcessorError> {
        let store = self.store.as_ref().expect("init ran");
        let count = store.get(&record.key)?.unwrap_or(0) + 1;
        store.put(&record.key, &count)?;
        ctx.forward(record.with_value(count))
    }
}

/// Asks in `init` for a store, logs the outcome, and optionally fails `init` with it.
struct StoreProbe {
    store_name: &'static str,
    fail_init: bool,
    log: Log<Result<(), StoreError>>,
}

impl Processor for StoreProbe {
    type KIn = String;
    type VIn = String;
    type KOut = String;
    type VOut = String;

    fn init(
        &mut self,
        ctx: &mut ProcessorContext<'_, String, String>,
    ) -> Result<(), ProcessorError> {
        let result = ctx.key_value_store::<String, i64>(self.store_name);
        if self.fail_init {
            result?;
            return Ok(());
        }
        self.log.lock().unwrap().push(result.map(drop));
        Ok(())
    }

    fn process(
        &mut self,
        _record: Record<String, String>,
        _ctx: &mut ProcessorContext<'_, String, String>,
    ) -> Result<(), ProcessorError> {
        Ok(())
    }
}

/// What a processor saw for one record.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    metadata: Option<RecordMetadata>,
    stream_time: i64,
    timestamp: i64,
}

/// Logs record metadata, stream time and timestamp, then forwards.
struct Observer {
    log: Log<Seen>,
}

impl Processor for Observer {
    type KIn = String;
    type VIn = String;
    type KOut = String;
    type VOut = String;

    fn process(
        &mut self,
        record: Record<String, String>,
        ctx: &mut ProcessorContext<'_, String, String>,
    ) -> Result<(), ProcessorError> {
        self.log.lock().unwrap().push(Seen {
            metadata: ctx.record_metadata().cloned(),
            stream_time: ctx.current_stream_time(),
            timestamp: record.timestamp,
        });
        ctx.forward(record)
    }
}

/// Sends each record to the child named by its key, logging its children's names in `init`.
struct Router {
    children: Log<String>,
}

impl Processor for Router {
    type KIn = String;
    type VIn = String;
    type KOut = String;
    type VOut = String;

    fn init(
        &mut self,
        ctx: &mut ProcessorContext<'_, String, String>,
    ) -> Result<(), ProcessorError> {
        let names: Vec<String> = ctx.child_names().map(str::to_string).collect();
        self.children.lock().unwrap().extend(names);
        Ok(())
    }

    fn process(
        &mut self,
        record: Record<String, String>,
        ctx: &mut ProcessorContext<'_, String, String>,
    ) -> Result<(), ProcessorError> {
        let child = record.key.clone();
        ctx.forward_to(&child, record)
    }
}

/// Fails on the value "fail", forwards anything else.
struct FailOn;

impl Processor for FailOn {
    type KIn = String;
    type VIn = String;
    type KOut = String;
    type VOut = String;

    fn process(
        &mut self,
        record: Record<String, String>,
        ctx: &mut ProcessorContext<'_, String, String>,
    ) -> Result<(), ProcessorError> {
        if record.value == "fail" {
            return Err(ProcessorError::msg("boom"));
        }
        ctx.forward(record)
    }
}

/// Forwards the value "neg" with timestamp -7, anything else unchanged.
struct Backdate;

impl Processor for Backdate {
    type KIn = String;
    type VIn = String;
    type KOut = String;
    type VOut = String;

    fn process(
        &mut self,
        record: Record<String, String>,
        ctx: &mut ProcessorContext<'_, String, String>,
    ) -> Result<(), ProcessorError> {
        if record.value == "neg" {
            return ctx.forward(record.with_timestamp(-7));
        }
        ctx.forward(record)
    }
}

/// A string codec that cannot encode the empty string.
#[derive(Debug, Clone, Copy)]
struct NonEmpty;

impl Codec<String> for NonEmpty {
    fn encode(&self, value: &String, buf: &mut Vec<u8>) -> Result<(), CodecError> {
        if value.is_empty() {
            return Err(CodecError::custom("empty string"));
        }
        Utf8.encode(value, buf)
    }

    fn decode(&self, bytes: &[u8]) -> Result<String, CodecError> {
        Utf8.decode(bytes)
    }
}

// ---------------------------------------------------------------------------------------------
// Topologies
// ---------------------------------------------------------------------------------------------

/// `in` -> upper -> `out`.
fn upper_topology() -> Topology {
    let mut b = TopologyBuilder::new();
    b.add_source("src", ["in"], Utf8, Utf8)
        .add_processor("upper", || Upper, ["src"])
        .add_sink("sink", "out", Utf8, Utf8, ["upper"]);
    b.build().unwrap()
}

/// `in` -> pass -> `out`, the source using the given codecs.
fn pass_topology_with<KC, VC>(key_codec: KC, value_codec: VC) -> Topology
where
    KC: Codec<String>,
    VC: Codec<String>,
{
    let mut b = TopologyBuilder::new();
    b.add_source("src", ["in"], key_codec, value_codec)
        .add_processor("pass", pass::<String, String>, ["src"])
        .add_sink("sink", "out", Utf8, Utf8, ["pass"]);
    b.build().unwrap()
}

/// `in` -> observer -> `out`, with the source declared by `spec`.
fn observed<TE>(spec: SourceSpec<String, String, Utf8, Utf8, TE>, log: &Log<Seen>) -> Topology
where
    TE: streams_core::timestamp::TimestampExtractor<String, String>,
{
    let log = Arc::clone(log);
    let mut b = TopologyBuilder::new();
    b.add_source_spec(spec)
        .add_processor(
            "observer",
            move || Observer {
                log: Arc::clone(&log),
            },
            ["src"],
        )
        .add_sink("sink", "out", Utf8, Utf8, ["observer"]);
    b.build().unwrap()
}

fn spec() -> SourceSpec<String, String, Utf8, Utf8> {
    SourceSpec::new("src", ["in"], Utf8, Utf8)
}

fn driver(topology: Topology) -> TopologyTestDriver {
    TopologyTestDriver::new(topology).expect("driver")
}

// ---------------------------------------------------------------------------------------------
// Piping and reading
// ---------------------------------------------------------------------------------------------

#[test]
fn pipe_input_at_keeps_explicit_timestamps() {
    let d = driver(upper_topology());
    let input = d.create_input_topic("in", Utf8, Utf8);
    let output = d.create_output_topic("out", Utf8, Utf8);
    input.pipe_input_at(s("a"), s("x"), 42).unwrap();
    input.pipe_input_at(s("b"), s("y"), 7).unwrap();
    let first = output.read_record().unwrap();
    assert_eq!(
        (first.key.as_str(), first.value.as_str(), first.timestamp),
        ("a", "X", 42)
    );
    let second = output.read_record().unwrap();
    assert_eq!(
        (second.key.as_str(), second.value.as_str(), second.timestamp),
        ("b", "Y", 7)
    );
    assert!(output.is_empty());
}

#[test]
fn plain_input_topic_starts_at_zero_without_advancing() {
    let d = driver(upper_topology());
    let input = d.create_input_topic("in", Utf8, Utf8);
    let output = d.create_output_topic("out", Utf8, Utf8);
    input.pipe_input(s("a"), s("x")).unwrap();
    input.pipe_input(s("b"), s("y")).unwrap();
    let times: Vec<i64> = output
        .read_records_to_list()
        .unwrap()
        .iter()
        .map(|r| r.timestamp)
        .collect();
    assert_eq!(times, [0, 0]);
}

#[test]
fn headers_are_preserved_to_the_output() {
    let d = driver(upper_topology());
    let input = d.create_input_topic("in", Utf8, Utf8);
    let output = d.create_output_topic("out", Utf8, Utf8);
    let mut headers = Headers::new();
    headers
        .add("trace-id", b"abc".to_vec())
        .add_null("empty")
        .add("trace-id", b"def".to_vec());
    input
        .pipe_record(Record::new(s("k"), s("v"), 99).with_headers(headers.clone()))
        .unwrap();
    let record = output.read_record().unwrap();
    assert_eq!(record.headers, headers);
    assert_eq!(record.headers.len(), 3);
    assert_eq!(record.headers.last_value("trace-id"), Some(&b"def"[..]));
    assert_eq!(record.headers.last("empty").unwrap().value, None);
    assert_eq!(record.value, "V");
    assert_eq!(record.timestamp, 99);
}

#[test]
fn auto_advancing_input_time() {
    let d = driver(upper_topology());
    let input = d.create_input_topic_with_time("in", Utf8, Utf8, 1_000, Duration::from_millis(10));
    let output = d.create_output_topic("out", Utf8, Utf8);
    input.pipe_input(s("a"), s("1")).unwrap(); // 1000
    input.pipe_input(s("b"), s("2")).unwrap(); // 1010
    input.pipe_value(s("3")).unwrap_err(); // 1020 (a null key: Utf8 rejects it, time still moves)
    input.pipe_input_at(s("c"), s("4"), 5).unwrap(); // explicit, no advance
    input.pipe_input(s("d"), s("5")).unwrap(); // 1030
    input.advance_time(Duration::from_millis(100));
    input.pipe_input(s("e"), s("6")).unwrap(); // 1140
    let times: Vec<(String, i64)> = output
        .read_records_to_list()
        .unwrap()
        .into_iter()
        .map(|r| (r.key, r.timestamp))
        .collect();
    assert_eq!(
        times,
        [
            (s("a"), 1_000),
            (s("b"), 1_010),
            (s("c"), 5),
            (s("d"), 1_030),
            (s("e"), 1_140)
        ]
    );
}

#[test]
fn batches_of_pairs_and_records() {
    let d = driver(upper_topology());
    let input = d.create_input_topic_with_time("in", Utf8, Utf8, 100, Duration::from_millis(5));
    let output = d.create_output_topic("out", Utf8, Utf8);
    input
        .pipe_key_value_list([(s("a"), s("x")), (s("b"), s("y")), (s("c"), s("z"))])
        .unwrap();
    input
        .pipe_records([
            Record::new(s("d"), s("p"), 7),
            Record::new(s("e"), s("q"), 3),
        ])
        .unwrap();
    // pipe_records uses the records' own timestamps and does not move the topic's time.
    input.pipe_input(s("f"), s("r")).unwrap();
    let got: Vec<(String, String, i64)> = output
        .read_records_to_list()
        .unwrap()
        .into_iter()
        .map(|r| (r.key, r.value, r.timestamp))
        .collect();
    assert_eq!(
        got,
        [
            (s("a"), s("X"), 100),
            (s("b"), s("Y"), 105),
            (s("c"), s("Z"), 110),
            (s("d"), s("P"), 7),
            (s("e"), s("Q"), 3),
            (s("f"), s("R"), 115),
        ]
    );
}

#[test]
fn output_topic_read_methods() {
    let d = driver(upper_topology());
    let input = d.create_input_topic("in", Utf8, Utf8);
    let output = d.create_output_topic("out", Utf8, Utf8);
    for (k, v) in [("a", "1"), ("b", "2"), ("a", "3"), ("c", "4"), ("b", "5")] {
        input.pipe_input(s(k), s(v)).unwrap();
    }
    assert_eq!(output.queue_size(), 5);
    assert!(!output.is_empty());

    assert_eq!(output.read_key_value().unwrap(), (s("a"), s("1")));
    assert_eq!(output.queue_size(), 4);
    let record = output.read_record().unwrap();
    assert_eq!((record.key, record.value), (s("b"), s("2")));
    assert_eq!(output.read_value().unwrap(), "3");
    assert_eq!(output.queue_size(), 2);
    assert_eq!(output.read_values_to_list().unwrap(), ["4", "5"]);
    assert!(output.is_empty());
    assert_eq!(output.queue_size(), 0);

    for (k, v) in [("a", "1"), ("b", "2"), ("a", "3")] {
        input.pipe_input(s(k), s(v)).unwrap();
    }
    assert_eq!(
        output.read_key_values_to_list().unwrap(),
        [(s("a"), s("1")), (s("b"), s("2")), (s("a"), s("3"))]
    );
    assert!(output.is_empty());

    for (k, v) in [("a", "1"), ("b", "2"), ("a", "3")] {
        input.pipe_input(s(k), s(v)).unwrap();
    }
    let map = output.read_key_values_to_map().unwrap();
    assert_eq!(
        map,
        HashMap::from([(s("a"), s("3")), (s("b"), s("2"))]),
        "the latest value per key wins"
    );
    assert!(output.is_empty());
}

#[test]
fn reading_an_empty_topic_is_read_error_empty() {
    let d = driver(upper_topology());
    let input = d.create_input_topic("in", Utf8, Utf8);
    let output = d.create_output_topic("out", Utf8, Utf8);
    match output.read_record() {
        Err(ReadError::Empty { topic }) => assert_eq!(topic, "out"),
        other => panic!("{other:?}"),
    }
    input.pipe_input(s("k"), s("v")).unwrap();
    output.read_key_value().unwrap();
    assert!(matches!(output.read_value(), Err(ReadError::Empty { .. })));
    assert!(matches!(
        output.read_key_value(),
        Err(ReadError::Empty { .. })
    ));
    // The list readers give an empty list, not an error.
    assert!(output.read_values_to_list().unwrap().is_empty());
    assert!(output.read_key_values_to_map().unwrap().is_empty());
}

#[test]
fn reading_with_the_wrong_codec_is_read_error_decode() {
    let d = driver(upper_topology());
    let input = d.create_input_topic("in", Utf8, Utf8);
    let output = d.create_output_topic("out", Utf8, I64);
    input.pipe_input(s("k"), s("abc")).unwrap();
    match output.read_record() {
        Err(ReadError::Decode {
            topic,
            part,
            source: CodecError::Size {
                expected, actual, ..
            },
        }) => {
            assert_eq!(topic, "out");
            assert_eq!(part, RecordPart::Value);
            assert_eq!((expected, actual), (8, 3));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn reading_an_unwritten_topic_does_not_make_it_a_produced_topic() {
    let d = driver(upper_topology());
    assert!(
        d.create_output_topic("never-written", Utf8, Utf8)
            .is_empty()
    );
    assert!(d.produced_topic_names().is_empty());
    d.create_input_topic("in", Utf8, Utf8)
        .pipe_input(s("k"), s("v"))
        .unwrap();
    assert_eq!(d.produced_topic_names(), ["out"]);
}

#[test]
fn a_record_that_does_not_decode_leaves_the_later_ones_queued() {
    let d = driver(upper_topology());
    let input = d.create_input_topic("in", Utf8, Utf8);
    for value in ["12345678", "abc", "87654321"] {
        input.pipe_input(s("k"), s(value)).unwrap();
    }
    // Read as i64: the first (8 bytes) decodes, the second (3 bytes) does not.
    let output = d.create_output_topic("out", Utf8, I64);
    assert!(matches!(
        output.read_values_to_list(),
        Err(ReadError::Decode { .. })
    ));
    assert_eq!(
        output.queue_size(),
        1,
        "the record after the bad one is still there"
    );
    assert_eq!(
        output.read_value().unwrap(),
        i64::from_be_bytes(*b"87654321")
    );
}

// ---------------------------------------------------------------------------------------------
// Feedback through a topic: two sub-topologies
// ---------------------------------------------------------------------------------------------

#[test]
fn records_written_to_a_topic_the_topology_reads_are_fed_back() {
    let mut b = TopologyBuilder::new();
    b.add_source("orders", ["orders"], Utf8, Utf8)
        .add_processor("by-item", || Swap, ["orders"])
        .add_sink(
            "to-repartition",
            "by-item-repartition",
            Utf8,
            Utf8,
            ["by-item"],
        )
        .add_source("repartitioned", ["by-item-repartition"], Utf8, Utf8)
        .add_processor("count", || counter("counts"), ["repartitioned"])
        .add_state_store(Stores::in_memory_key_value("counts", Utf8, I64), ["count"])
        .add_sink("counts-out", "item-counts", Utf8, I64, ["count"]);
    let topology = b.build().unwrap();
    assert_eq!(topology.describe().subtopologies().len(), 2);

    let d = driver(topology);
    let input = d.create_input_topic("orders", Utf8, Utf8);
    let counts = d.create_output_topic("item-counts", Utf8, I64);
    let repartition = d.create_output_topic("by-item-repartition", Utf8, Utf8);
    input.pipe_input_at(s("alice"), s("apple"), 10).unwrap();
    input.pipe_input_at(s("bob"), s("pear"), 20).unwrap();
    input.pipe_input_at(s("carol"), s("apple"), 30).unwrap();

    let got: Vec<(String, i64, i64)> = counts
        .read_records_to_list()
        .unwrap()
        .into_iter()
        .map(|r| (r.key, r.value, r.timestamp))
        .collect();
    assert_eq!(
        got,
        [(s("apple"), 1, 10), (s("pear"), 1, 20), (s("apple"), 2, 30)]
    );
    // The intermediate topic is an output too.
    assert_eq!(
        repartition.read_key_values_to_list().unwrap(),
        [
            (s("apple"), s("alice")),
            (s("pear"), s("bob")),
            (s("apple"), s("carol"))
        ]
    );
    let store = d.key_value_store::<String, i64>("counts").unwrap();
    assert_eq!(store.get(&s("apple")).unwrap(), Some(2));
    assert_eq!(store.get(&s("pear")).unwrap(), Some(1));
}

#[test]
fn fed_back_records_are_processed_depth_first() {
    // `fan` writes each record to `loop` (read back, upper-cased, written to `out`) and then
    // straight to `out`. As in Kafka Streams' driver, the fed-back record is processed before
    // the records written after it are placed: `out` gets the upper-cased copy first.
    let mut b = TopologyBuilder::new();
    b.add_source("in", ["in"], Utf8, Utf8)
        .add_processor("fan", pass::<String, String>, ["in"])
        .add_sink("to-loop", "loop", Utf8, Utf8, ["fan"])
        .add_sink("direct", "out", Utf8, Utf8, ["fan"])
        .add_source("looped", ["loop"], Utf8, Utf8)
        .add_processor("upper", || Upper, ["looped"])
        .add_sink("from-loop", "out", Utf8, Utf8, ["upper"]);
    let d = driver(b.build().unwrap());
    let input = d.create_input_topic("in", Utf8, Utf8);
    let out = d.create_output_topic("out", Utf8, Utf8);
    input.pipe_input(s("k"), s("a")).unwrap();
    input.pipe_input(s("k"), s("b")).unwrap();
    assert_eq!(out.read_values_to_list().unwrap(), ["A", "a", "B", "b"]);
    assert_eq!(
        d.produced_topic_names(),
        [s("loop"), s("out")],
        "both topics were written"
    );
}

// ---------------------------------------------------------------------------------------------
// State stores
// ---------------------------------------------------------------------------------------------

fn counting_topology() -> Topology {
    let mut b = TopologyBuilder::new();
    b.add_source("words", ["words"], Utf8, Utf8)
        .add_processor("count", || counter("counts"), ["words"])
        .add_state_store(Stores::in_memory_key_value("counts", Utf8, I64), ["count"])
        .add_sink("sink", "word-counts", Utf8, I64, ["count"]);
    b.build().unwrap()
}

#[test]
fn counting_processor_with_a_key_value_store() {
    let d = driver(counting_topology());
    let input = d.create_input_topic("words", Utf8, Utf8);
    let output = d.create_output_topic("word-counts", Utf8, I64);
    for w in ["b", "a", "b", "c", "b"] {
        input.pipe_input(s(w), s("")).unwrap();
    }
    assert_eq!(
        output.read_key_values_to_list().unwrap(),
        [
            (s("b"), 1_i64),
            (s("a"), 1),
            (s("b"), 2),
            (s("c"), 1),
            (s("b"), 3)
        ]
    );

    let store = d
        .key_value_store::<String, i64>("counts")
        .expect("the store, by name and types");
    assert_eq!(store.name(), "counts");
    assert_eq!(store.get(&s("b")).unwrap(), Some(3));
    assert_eq!(store.get(&s("zzz")).unwrap(), None);
    assert_eq!(store.approximate_num_entries(), 3);
    let all: Vec<(String, i64)> = store.all().map(Result::unwrap).collect();
    assert_eq!(all, [(s("a"), 1), (s("b"), 3), (s("c"), 1)]);

    // The driver's handle is the processor's store: a write through it is seen by the processor.
    store.put(&s("a"), &10).unwrap();
    input.pipe_input(s("a"), s("")).unwrap();
    assert_eq!(output.read_key_value().unwrap(), (s("a"), 11));
}

#[test]
fn driver_store_lookup_needs_the_right_name_and_types() {
    let d = driver(counting_topology());
    assert!(d.key_value_store::<String, i64>("counts").is_some());
    assert!(d.key_value_store::<String, i64>("nope").is_none());
    assert!(d.key_value_store::<String, String>("counts").is_none());
}

fn probe_topology(
    probe_store: &'static str,
    fail_init: bool,
    log: &Log<Result<(), StoreError>>,
) -> Topology {
    let log = Arc::clone(log);
    let mut b = TopologyBuilder::new();
    b.add_source("words", ["words"], Utf8, Utf8)
        .add_processor("count", || counter("counts"), ["words"])
        .add_processor(
            "probe",
            move || StoreProbe {
                store_name: probe_store,
                fail_init,
                log: Arc::clone(&log),
            },
            ["words"],
        )
        .add_state_store(Stores::in_memory_key_value("counts", Utf8, I64), ["count"])
        .add_state_store(Stores::in_memory_key_value("own", Utf8, I64), ["probe"]);
    b.build().unwrap()
}

#[test]
fn a_store_not_connected_to_the_processor_is_not_connected() {
    let log = Log::default();
    let _d = driver(probe_topology("counts", false, &log));
    match taken(&log).as_slice() {
        [
            Err(StoreError::NotConnected {
                processor,
                store,
                connected,
            }),
        ] => {
            assert_eq!(processor, "probe");
            assert_eq!(store, "counts");
            assert_eq!(connected, &[s("own")]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_connected_store_is_reachable_and_a_missing_one_is_not() {
    let log = Log::default();
    let _d = driver(probe_topology("own", false, &log));
    assert!(matches!(taken(&log).as_slice(), [Ok(())]));
    let _d = driver(probe_topology("never-added", false, &log));
    assert!(matches!(
        taken(&log).as_slice(),
        [Err(StoreError::NotConnected { store, .. })] if store == "never-added"
    ));
}

#[test]
fn a_store_asked_for_with_other_types_is_wrong_type() {
    struct WrongTypes(Log<String>);
    impl Processor for WrongTypes {
        type KIn = String;
        type VIn = String;
        type KOut = String;
        type VOut = String;
        fn init(
            &mut self,
            ctx: &mut ProcessorContext<'_, String, String>,
        ) -> Result<(), ProcessorError> {
            match ctx.key_value_store::<String, String>("counts") {
                Err(StoreError::WrongType { store, requested }) => {
                    self.0.lock().unwrap().push(format!("{store}: {requested}"));
                    Ok(())
                }
                other => Err(ProcessorError::msg(format!("unexpected: {other:?}"))),
            }
        }
        fn process(
            &mut self,
            _r: Record<String, String>,
            _ctx: &mut ProcessorContext<'_, String, String>,
        ) -> Result<(), ProcessorError> {
            Ok(())
        }
    }
    let log = Log::default();
    let l = Arc::clone(&log);
    let mut b = TopologyBuilder::new();
    b.add_source("words", ["words"], Utf8, Utf8)
        .add_processor("wrong", move || WrongTypes(Arc::clone(&l)), ["words"])
        .add_state_store(Stores::in_memory_key_value("counts", Utf8, I64), ["wrong"]);
    let _d = driver(b.build().unwrap());
    let seen = taken(&log);
    assert_eq!(seen.len(), 1);
    assert!(seen[0].starts_with("counts: "), "{seen:?}");
}

#[test]
fn a_store_error_in_init_fails_driver_creation_naming_the_processor() {
    let log = Log::default();
    match TopologyTestDriver::new(probe_topology("counts", true, &log)) {
        Err(StreamsError::Processing {
            node,
            metadata,
            source,
        }) => {
            assert_eq!(node, "probe");
            assert_eq!(metadata, None, "no record is being processed in init");
            let text = StreamsError::Processing {
                node,
                metadata: None,
                source: "x".into(),
            }
            .to_string();
            assert!(text.contains("in init or a punctuation"), "{text}");
            assert!(
                matches!(
                    source.downcast_ref::<StoreError>(),
                    Some(StoreError::NotConnected { .. })
                ),
                "{source:?}"
            );
        }
        Err(other) => panic!("{other:?}"),
        Ok(_) => panic!("expected init to fail"),
    }
}

// ---------------------------------------------------------------------------------------------
// Routing
// ---------------------------------------------------------------------------------------------

fn router_topology(children: &Log<String>) -> Topology {
    let children = Arc::clone(children);
    let mut b = TopologyBuilder::new();
    b.add_source("src", ["in"], Utf8, Utf8)
        .add_processor(
            "router",
            move || Router {
                children: Arc::clone(&children),
            },
            ["src"],
        )
        .add_sink("left", "left-topic", Utf8, Utf8, ["router"])
        .add_sink("right", "right-topic", Utf8, Utf8, ["router"]);
    b.build().unwrap()
}

#[test]
fn forward_to_sends_only_to_the_named_child() {
    let children = Log::default();
    let d = driver(router_topology(&children));
    assert_eq!(taken(&children), ["left", "right"]);
    let input = d.create_input_topic("in", Utf8, Utf8);
    let left = d.create_output_topic("left-topic", Utf8, Utf8);
    let right = d.create_output_topic("right-topic", Utf8, Utf8);
    input.pipe_input(s("left"), s("1")).unwrap();
    input.pipe_input(s("right"), s("2")).unwrap();
    input.pipe_input(s("left"), s("3")).unwrap();
    assert_eq!(left.read_values_to_list().unwrap(), ["1", "3"]);
    assert_eq!(right.read_values_to_list().unwrap(), ["2"]);
}

#[test]
fn forward_to_an_unknown_child_is_an_error_of_the_forwarding_processor() {
    let d = driver(router_topology(&Log::default()));
    let input = d.create_input_topic("in", Utf8, Utf8);
    let left = d.create_output_topic("left-topic", Utf8, Utf8);
    let right = d.create_output_topic("right-topic", Utf8, Utf8);
    match input.pipe_input(s("middle"), s("1")) {
        Err(StreamsError::Processing {
            node,
            metadata,
            source,
        }) => {
            assert_eq!(node, "router");
            assert_eq!(metadata, Some(at("in", 0)));
            let message = source.to_string();
            assert!(message.contains("no child named `middle`"), "{message}");
            assert!(
                message.contains("left") && message.contains("right"),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(left.is_empty() && right.is_empty());
    // Still usable.
    input.pipe_input(s("right"), s("2")).unwrap();
    assert_eq!(right.read_value().unwrap(), "2");
}

#[test]
fn topic_name_extractor_routes_to_two_topics() {
    let contexts: Log<(Option<RecordMetadata>, i64)> = Log::default();
    let seen = Arc::clone(&contexts);
    let mut b = TopologyBuilder::new();
    b.add_source("src", ["in"], Utf8, Utf8)
        .add_sink_with_extractor(
            "dynamic",
            move |key: &String, _value: &String, ctx: &RecordContext<'_>| {
                seen.lock()
                    .unwrap()
                    .push((ctx.metadata.cloned(), ctx.timestamp));
                if key.starts_with('a') {
                    s("a-topic")
                } else {
                    s("other-topic")
                }
            },
            Utf8,
            Utf8,
            ["src"],
        );
    let d = driver(b.build().unwrap());
    let input = d.create_input_topic("in", Utf8, Utf8);
    input.pipe_input_at(s("apple"), s("1"), 5).unwrap();
    input.pipe_input_at(s("berry"), s("2"), 6).unwrap();
    input.pipe_input_at(s("avocado"), s("3"), 7).unwrap();
    assert_eq!(d.produced_topic_names(), ["a-topic", "other-topic"]);
    let a = d.create_output_topic("a-topic", Utf8, Utf8);
    let other = d.create_output_topic("other-topic", Utf8, Utf8);
    assert_eq!(
        a.read_key_values_to_list().unwrap(),
        [(s("apple"), s("1")), (s("avocado"), s("3"))]
    );
    assert_eq!(
        other.read_key_values_to_list().unwrap(),
        [(s("berry"), s("2"))]
    );
    assert_eq!(
        taken(&contexts),
        [
            (Some(at("in", 0)), 5),
            (Some(at("in", 1)), 6),
            (Some(at("in", 2)), 7)
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Record metadata and time
// ---------------------------------------------------------------------------------------------

#[test]
fn record_metadata_reports_topic_partition_and_offsets_in_order() {
    let log = Log::default();
    let d = driver(observed(spec(), &log));
    let input = d.create_input_topic("in", Utf8, Utf8);
    for v in ["a", "b", "c"] {
        input.pipe_input(s("k"), s(v)).unwrap();
    }
    let metadata: Vec<Option<RecordMetadata>> =
        taken(&log).into_iter().map(|s| s.metadata).collect();
    assert_eq!(
        metadata,
        [Some(at("in", 0)), Some(at("in", 1)), Some(at("in", 2))]
    );
}

#[test]
fn offsets_are_counted_per_topic() {
    let log = Log::default();
    let l = Arc::clone(&log);
    let mut b = TopologyBuilder::new();
    b.add_source("src", ["in", "in2"], Utf8, Utf8)
        .add_processor(
            "observer",
            move || Observer {
                log: Arc::clone(&l),
            },
            ["src"],
        );
    let d = driver(b.build().unwrap());
    let in1 = d.create_input_topic("in", Utf8, Utf8);
    let in2 = d.create_input_topic("in2", Utf8, Utf8);
    in1.pipe_input(s("k"), s("v")).unwrap();
    in2.pipe_input(s("k"), s("v")).unwrap();
    in1.pipe_input(s("k"), s("v")).unwrap();
    in2.pipe_input(s("k"), s("v")).unwrap();
    let metadata: Vec<RecordMetadata> = taken(&log)
        .into_iter()
        .map(|s| s.metadata.unwrap())
        .collect();
    assert_eq!(
        metadata,
        [at("in", 0), at("in2", 0), at("in", 1), at("in2", 1)]
    );
}

#[test]
fn current_stream_time_is_the_highest_timestamp_seen() {
    let log = Log::default();
    let d = driver(observed(spec(), &log));
    assert_eq!(d.stream_time(), -1);
    let input = d.create_input_topic("in", Utf8, Utf8);
    for ts in [10, 5, 20, 15] {
        input.pipe_input_at(s("k"), s("v"), ts).unwrap();
    }
    let seen: Vec<(i64, i64)> = taken(&log)
        .into_iter()
        .map(|s| (s.timestamp, s.stream_time))
        .collect();
    assert_eq!(seen, [(10, 10), (5, 10), (20, 20), (15, 20)]);
    assert_eq!(d.stream_time(), 20);
}

#[test]
fn custom_timestamp_extractor_takes_event_time_from_the_value() {
    let partition_times: Log<i64> = Log::default();
    let pt = Arc::clone(&partition_times);
    let log = Log::default();
    let spec = spec().timestamp_extractor(
        move |_k: &String, v: &String, record_ts: i64, partition_time: i64| {
            pt.lock().unwrap().push(partition_time);
            v.split(',')
                .next()
                .and_then(|t| t.parse().ok())
                .unwrap_or(record_ts)
        },
    );
    let d = driver(observed(spec, &log));
    let input = d.create_input_topic("in", Utf8, Utf8);
    let output = d.create_output_topic("out", Utf8, Utf8);
    input.pipe_input_at(s("k"), s("1234,click"), 1).unwrap();
    input.pipe_input_at(s("k"), s("1000,click"), 2).unwrap();
    input.pipe_input_at(s("k"), s("no-time"), 3).unwrap();
    let times: Vec<i64> = output
        .read_records_to_list()
        .unwrap()
        .iter()
        .map(|r| r.timestamp)
        .collect();
    assert_eq!(times, [1234, 1000, 3]);
    assert_eq!(taken(&partition_times), [-1, 1234, 1234]);
    assert_eq!(d.stream_time(), 1234);
}

// ---------------------------------------------------------------------------------------------
// Invalid timestamps
// ---------------------------------------------------------------------------------------------

#[test]
fn negative_timestamp_fails_by_default() {
    let log = Log::default();
    let d = driver(observed(spec(), &log));
    let input = d.create_input_topic("in", Utf8, Utf8);
    let output = d.create_output_topic("out", Utf8, Utf8);
    input.pipe_input_at(s("k"), s("ok"), 1).unwrap();
    match input.pipe_input_at(s("k"), s("bad"), -5) {
        Err(StreamsError::InvalidTimestamp {
            node,
            metadata,
            timestamp,
        }) => {
            assert_eq!(node, "src");
            assert_eq!(metadata, at("in", 1));
            assert_eq!(timestamp, -5);
        }
        other => panic!("{other:?}"),
    }
    input.pipe_input_at(s("k"), s("after"), 2).unwrap();
    assert_eq!(output.read_values_to_list().unwrap(), ["ok", "after"]);
    assert_eq!(taken(&log).len(), 2);
}

#[test]
fn negative_timestamp_log_and_skip_drops_the_record() {
    let log = Log::default();
    let d = driver(observed(
        spec().on_invalid_timestamp(InvalidTimestampPolicy::LogAndSkip),
        &log,
    ));
    let input = d.create_input_topic("in", Utf8, Utf8);
    let output = d.create_output_topic("out", Utf8, Utf8);
    input.pipe_input_at(s("k"), s("dropped"), -5).unwrap();
    assert!(output.is_empty());
    assert_eq!(d.stream_time(), -1);
    input.pipe_input_at(s("k"), s("kept"), 8).unwrap();
    let record = output.read_record().unwrap();
    assert_eq!((record.value.as_str(), record.timestamp), ("kept", 8));
    // The skipped record used offset 0.
    let seen = taken(&log);
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].metadata, Some(at("in", 1)));
}

#[test]
fn negative_timestamp_use_partition_time_takes_the_previous_max() {
    let log = Log::default();
    let d = driver(observed(
        spec().on_invalid_timestamp(InvalidTimestampPolicy::UsePartitionTime),
        &log,
    ));
    let input = d.create_input_topic("in", Utf8, Utf8);
    let output = d.create_output_topic("out", Utf8, Utf8);

    // Before any record the partition has no time: the record fails.
    match input.pipe_input_at(s("k"), s("first"), -1) {
        Err(StreamsError::InvalidTimestamp {
            metadata,
            timestamp,
            ..
        }) => {
            assert_eq!(metadata, at("in", 0));
            assert_eq!(timestamp, -1);
        }
        other => panic!("{other:?}"),
    }
    input.pipe_input_at(s("k"), s("a"), 100).unwrap();
    input.pipe_input_at(s("k"), s("b"), -1).unwrap();
    input.pipe_input_at(s("k"), s("c"), 50).unwrap();
    input.pipe_input_at(s("k"), s("d"), -9).unwrap();
    let got: Vec<(String, i64)> = output
        .read_records_to_list()
        .unwrap()
        .into_iter()
        .map(|r| (r.value, r.timestamp))
        .collect();
    assert_eq!(
        got,
        [(s("a"), 100), (s("b"), 100), (s("c"), 50), (s("d"), 100)]
    );
}

#[test]
fn negative_output_timestamp_at_a_sink_is_an_error() {
    let mut b = TopologyBuilder::new();
    b.add_source("src", ["in"], Utf8, Utf8)
        .add_processor("backdate", || Backdate, ["src"])
        .add_sink("out-sink", "out", Utf8, Utf8, ["backdate"]);
    let d = driver(b.build().unwrap());
    let input = d.create_input_topic("in", Utf8, Utf8);
    let output = d.create_output_topic("out", Utf8, Utf8);
    match input.pipe_input_at(s("k"), s("neg"), 10) {
        Err(StreamsError::NegativeOutputTimestamp {
            node,
            topic,
            timestamp,
        }) => {
            assert_eq!(node, "out-sink");
            assert_eq!(topic, "out");
            assert_eq!(timestamp, -7);
        }
        other => panic!("{other:?}"),
    }
    assert!(output.is_empty());
    input.pipe_input_at(s("k"), s("fine"), 11).unwrap();
    assert_eq!(output.read_value().unwrap(), "fine");
}

// ---------------------------------------------------------------------------------------------
// Errors on the per-record path
// ---------------------------------------------------------------------------------------------

#[test]
fn piping_to_an_unknown_topic_is_unknown_topic() {
    let d = driver(upper_topology());
    let input = d.create_input_topic("nobody-reads-this", Utf8, Utf8);
    match input.pipe_input(s("k"), s("v")) {
        Err(StreamsError::UnknownTopic { topic, .. }) => assert_eq!(topic, "nobody-reads-this"),
        other => panic!("{other:?}"),
    }
    // An output topic is not an input.
    let output_as_input = d.create_input_topic("out", Utf8, Utf8);
    assert!(matches!(
        output_as_input.pipe_input(s("k"), s("v")),
        Err(StreamsError::UnknownTopic { .. })
    ));
}

fn numbers_topology() -> Topology {
    let mut b = TopologyBuilder::new();
    b.add_source("numbers-src", ["numbers"], Utf8, I64)
        .add_processor("pass", pass::<String, i64>, ["numbers-src"])
        .add_sink("sink", "numbers-out", Utf8, I64, ["pass"]);
    b.build().unwrap()
}

#[test]
fn malformed_value_bytes_are_a_deserialization_error_at_the_right_offset() {
    let d = driver(numbers_topology());
    let raw = d.create_input_topic::<String, Vec<u8>, _, _>("numbers", Utf8, Bytes);
    let output = d.create_output_topic("numbers-out", Utf8, I64);
    raw.pipe_input(s("a"), 1_i64.to_be_bytes().to_vec())
        .unwrap();
    raw.pipe_input(s("b"), 2_i64.to_be_bytes().to_vec())
        .unwrap();
    match raw.pipe_input(s("c"), vec![1, 2, 3]) {
        Err(StreamsError::Deserialization {
            node,
            metadata,
            part,
            source,
        }) => {
            assert_eq!(node, "numbers-src");
            assert_eq!(metadata, at("numbers", 2));
            assert_eq!(part, RecordPart::Value);
            assert!(
                matches!(
                    source,
                    CodecError::Size {
                        type_name: "i64",
                        expected: 8,
                        actual: 3
                    }
                ),
                "{source:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    raw.pipe_input(s("d"), 4_i64.to_be_bytes().to_vec())
        .unwrap();
    assert_eq!(
        output.read_key_values_to_list().unwrap(),
        [(s("a"), 1_i64), (s("b"), 2), (s("d"), 4)]
    );
}

#[test]
fn deserialization_error_message_names_the_record() {
    let d = driver(numbers_topology());
    let raw = d.create_input_topic::<String, Vec<u8>, _, _>("numbers", Utf8, Bytes);
    let error = raw.pipe_input(s("c"), vec![1, 2, 3]).unwrap_err();
    let message = error.to_string();
    assert!(message.contains("numbers-0@0"), "{message}");
    assert!(message.contains("value"), "{message}");
    assert!(message.contains("numbers-src"), "{message}");
}

#[test]
fn a_null_key_into_a_utf8_key_source_is_a_key_deserialization_error() {
    let d = driver(pass_topology_with(Utf8, Utf8));
    let input = d.create_input_topic("in", Utf8, Utf8);
    let output = d.create_output_topic("out", Utf8, Utf8);
    match input.pipe_value(s("v")) {
        Err(StreamsError::Deserialization {
            node,
            metadata,
            part,
            source,
        }) => {
            assert_eq!(node, "src");
            assert_eq!(metadata, at("in", 0));
            assert_eq!(part, RecordPart::Key);
            match source {
                CodecError::Null { type_name } => {
                    assert_eq!(type_name, std::any::type_name::<String>())
                }
                other => panic!("{other:?}"),
            }
        }
        other => panic!("{other:?}"),
    }
    assert!(output.is_empty());
    input.pipe_input(s("k"), s("v")).unwrap();
    assert_eq!(output.read_key_value().unwrap(), (s("k"), s("v")));
}

#[test]
fn a_null_key_into_a_nullable_key_source_is_none() {
    let mut b = TopologyBuilder::new();
    b.add_source("src", ["in"], Nullable(Utf8), Utf8)
        .add_processor("pass", pass::<Option<String>, String>, ["src"])
        .add_sink("sink", "out", Nullable(Utf8), Utf8, ["pass"]);
    let d = driver(b.build().unwrap());
    let input = d.create_input_topic("in", Utf8, Utf8);
    let output = d.create_output_topic("out", Nullable(Utf8), Utf8);
    input.pipe_value(s("no key")).unwrap();
    input.pipe_input(s("k"), s("keyed")).unwrap();
    assert_eq!(
        output.read_key_values_to_list().unwrap(),
        [(None, s("no key")), (Some(s("k")), s("keyed"))]
    );
}

#[test]
fn a_processor_error_is_a_processing_error_naming_the_node_and_record() {
    let mut b = TopologyBuilder::new();
    b.add_source("src", ["in"], Utf8, Utf8)
        .add_processor("upper", || Upper, ["src"])
        .add_processor("fail-on-fail", || FailOn, ["src"])
        .add_sink("sink", "out", Utf8, Utf8, ["fail-on-fail"]);
    let d = driver(b.build().unwrap());
    let input = d.create_input_topic("in", Utf8, Utf8);
    let output = d.create_output_topic("out", Utf8, Utf8);
    input.pipe_input(s("k"), s("one")).unwrap();
    input.pipe_input(s("k"), s("two")).unwrap();
    let error = input.pipe_input(s("k"), s("fail")).unwrap_err();
    let message = error.to_string();
    match error {
        StreamsError::Processing {
            node,
            metadata,
            source,
        } => {
            assert_eq!(node, "fail-on-fail");
            assert_eq!(metadata, Some(at("in", 2)));
            assert_eq!(source.to_string(), "boom");
        }
        other => panic!("{other:?}"),
    }
    assert!(
        message.contains("fail-on-fail") && message.contains("in-0@2"),
        "{message}"
    );
    input.pipe_input(s("k"), s("three")).unwrap();
    assert_eq!(
        output.read_values_to_list().unwrap(),
        ["one", "two", "three"]
    );
}

#[test]
fn an_error_deep_in_the_graph_names_the_failing_processor_not_its_parent() {
    let mut b = TopologyBuilder::new();
    b.add_source("src", ["in"], Utf8, Utf8)
        .add_processor("first", pass::<String, String>, ["src"])
        .add_processor("second", pass::<String, String>, ["first"])
        .add_processor("failing", || FailOn, ["second"]);
    let d = driver(b.build().unwrap());
    let input = d.create_input_topic("in", Utf8, Utf8);
    match input.pipe_input(s("k"), s("fail")) {
        Err(StreamsError::Processing { node, .. }) => assert_eq!(node, "failing"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_sink_that_cannot_encode_is_a_serialization_error() {
    let mut b = TopologyBuilder::new();
    b.add_source("src", ["in"], Utf8, Utf8)
        .add_sink("strict-sink", "out", Utf8, NonEmpty, ["src"]);
    let d = driver(b.build().unwrap());
    let input = d.create_input_topic("in", Utf8, Utf8);
    let output = d.create_output_topic("out", Utf8, Utf8);
    match input.pipe_input(s("k"), s("")) {
        Err(StreamsError::Serialization {
            node,
            topic,
            part,
            source,
        }) => {
            assert_eq!(node, "strict-sink");
            assert_eq!(topic, "out");
            assert_eq!(part, RecordPart::Value);
            assert!(matches!(source, CodecError::Custom(_)), "{source:?}");
        }
        other => panic!("{other:?}"),
    }
    input.pipe_input(s("k"), s("x")).unwrap();
    assert_eq!(output.read_value().unwrap(), "x");
}

#[test]
fn an_input_topic_that_cannot_encode_is_a_serialization_error_before_piping() {
    let log = Log::default();
    let d = driver(observed(spec(), &log));
    let input = d.create_input_topic("in", Utf8, NonEmpty);
    assert!(matches!(
        input.pipe_input(s("k"), s("")),
        Err(StreamsError::Serialization {
            part: RecordPart::Value,
            ..
        })
    ));
    assert!(taken(&log).is_empty(), "nothing reached the topology");
    // No offset was used.
    input.pipe_input(s("k"), s("v")).unwrap();
    assert_eq!(taken(&log)[0].metadata, Some(at("in", 0)));
}

#[test]
fn the_driver_stays_usable_after_each_kind_of_error() {
    let mut b = TopologyBuilder::new();
    b.add_source("src", ["in"], Utf8, Utf8)
        .add_processor("fail", || FailOn, ["src"])
        .add_processor("backdate", || Backdate, ["fail"])
        .add_sink("sink", "out", Utf8, Utf8, ["backdate"]);
    let d = driver(b.build().unwrap());
    let input = d.create_input_topic("in", Utf8, Utf8);
    let bad_topic = d.create_input_topic("nope", Utf8, Utf8);
    let output = d.create_output_topic("out", Utf8, Utf8);

    input.pipe_input_at(s("k"), s("1"), 1).unwrap();
    assert!(matches!(
        bad_topic.pipe_input(s("k"), s("v")),
        Err(StreamsError::UnknownTopic { .. })
    ));
    input.pipe_input_at(s("k"), s("2"), 2).unwrap();
    assert!(matches!(
        input.pipe_value(s("v")),
        Err(StreamsError::Deserialization { .. })
    ));
    input.pipe_input_at(s("k"), s("3"), 3).unwrap();
    assert!(matches!(
        input.pipe_input_at(s("k"), s("v"), -1),
        Err(StreamsError::InvalidTimestamp { .. })
    ));
    input.pipe_input_at(s("k"), s("4"), 4).unwrap();
    assert!(matches!(
        input.pipe_input_at(s("k"), s("fail"), 5),
        Err(StreamsError::Processing { .. })
    ));
    input.pipe_input_at(s("k"), s("5"), 6).unwrap();
    assert!(matches!(
        input.pipe_input_at(s("k"), s("neg"), 7),
        Err(StreamsError::NegativeOutputTimestamp { .. })
    ));
    input.pipe_input_at(s("k"), s("6"), 8).unwrap();

    let got: Vec<(String, i64)> = output
        .read_records_to_list()
        .unwrap()
        .into_iter()
        .map(|r| (r.value, r.timestamp))
        .collect();
    assert_eq!(
        got,
        [
            (s("1"), 1),
            (s("2"), 2),
            (s("3"), 3),
            (s("4"), 4),
            (s("5"), 6),
            (s("6"), 8)
        ]
    );
    assert_eq!(d.stream_time(), 8);
}

#[test]
fn a_tombstone_into_a_utf8_value_source_is_a_value_deserialization_error() {
    let d = driver(pass_topology_with(Utf8, Utf8));
    let input = d.create_input_topic("in", Utf8, Nullable(Utf8));
    match input.pipe_input(s("k"), None) {
        Err(StreamsError::Deserialization {
            part,
            metadata,
            source: CodecError::Null { .. },
            ..
        }) => {
            assert_eq!(part, RecordPart::Value);
            assert_eq!(metadata, at("in", 0));
        }
        other => panic!("{other:?}"),
    }
    input.pipe_input(s("k"), Some(s("v"))).unwrap();
    let output = d.create_output_topic("out", Utf8, Utf8);
    assert_eq!(output.read_key_value().unwrap(), (s("k"), s("v")));
}

/// Logs `close` calls.
struct Closing(Log<&'static str>);

impl Processor for Closing {
    type KIn = String;
    type VIn = String;
    type KOut = String;
    type VOut = String;

    fn process(
        &mut self,
        _record: Record<String, String>,
        _ctx: &mut ProcessorContext<'_, String, String>,
    ) -> Result<(), ProcessorError> {
        self.0.lock().unwrap().push("process");
        Ok(())
    }

    fn close(&mut self) {
        self.0.lock().unwrap().push("close");
    }
}

#[test]
fn processors_are_closed_when_the_driver_is_dropped() {
    let log = Log::default();
    let l = Arc::clone(&log);
    let mut b = TopologyBuilder::new();
    b.add_source("src", ["in"], Utf8, Utf8).add_processor(
        "closing",
        move || Closing(Arc::clone(&l)),
        ["src"],
    );
    let d = driver(b.build().unwrap());
    d.create_input_topic("in", Utf8, Utf8)
        .pipe_input(s("k"), s("v"))
        .unwrap();
    assert_eq!(taken(&log), ["process"]);
    drop(d);
    assert_eq!(taken(&log), ["close"]);
}

// ---------------------------------------------------------------------------------------------
// Global stores
// ---------------------------------------------------------------------------------------------

/// Writes every record into the global store `g` (as Kafka Streams' global processors do).
#[derive(Default)]
struct LoadGlobal(Option<KeyValueStore<String, String>>);

impl Processor for LoadGlobal {
    type KIn = String;
    type VIn = String;
    type KOut = String;
    type VOut = String;

    fn init(
        &mut self,
        ctx: &mut ProcessorContext<'_, String, String>,
    ) -> Result<(), ProcessorError> {
        self.0 = Some(ctx.key_value_store("g")?);
        Ok(())
    }

    fn process(
        &mut self,
        r: Record<String, String>,
        _ctx: &mut ProcessorContext<'_, String, String>,
    ) -> Result<(), ProcessorError> {
        self.0.as_ref().expect("init").put(&r.key, &r.value)?;
        Ok(())
    }
}

/// Forwards each record with the global store's value for its value appended, and the task's
/// stream time; a value starting with `write:` writes the global store instead.
#[derive(Default)]
struct ReadGlobal(Option<KeyValueStore<String, String>>);

impl Processor for ReadGlobal {
    type KIn = String;
    type VIn = String;
    type KOut = String;
    type VOut = String;

    fn init(
        &mut self,
        ctx: &mut ProcessorContext<'_, String, String>,
    ) -> Result<(), ProcessorError> {
        self.0 = Some(ctx.key_value_store("g")?);
        Ok(())
    }

    fn process(
        &mut self,
        r: Record<String, String>,
        ctx: &mut ProcessorContext<'_, String, String>,
    ) -> Result<(), ProcessorError> {
        let store = self.0.as_ref().expect("init");
        if let Some(value) = r.value.strip_prefix("write:") {
            store.put(&r.key, &value.to_string())?;
            return Ok(());
        }
        let found = store.get(&r.value)?.unwrap_or_else(|| s("-"));
        let time = ctx.current_stream_time();
        ctx.forward(r.map_value(|v| format!("{v}={found}@{time}")))
    }
}

fn global_topology() -> Topology {
    let mut b = TopologyBuilder::new();
    b.add_global_store(
        Stores::in_memory_key_value("g", Utf8, Utf8).with_logging_disabled(),
        SourceSpec::new("g-src", ["global"], Utf8, Utf8),
        "g-load",
        LoadGlobal::default,
    )
    .add_source("in", ["input"], Utf8, Utf8)
    .add_processor("read", ReadGlobal::default, ["in"])
    .add_sink("out", "output", Utf8, Utf8, ["read"]);
    b.build().expect("valid topology")
}

#[test]
fn global_records_are_applied_at_once_without_moving_the_tasks_stream_time() {
    let driver = TopologyTestDriver::new(global_topology()).expect("driver");
    let global = driver.create_input_topic("global", Utf8, Utf8);
    let input = driver.create_input_topic("input", Utf8, Utf8);
    let output = driver.create_output_topic("output", Utf8, Utf8);
    input.pipe_input_at(s("a"), s("x"), 100).expect("pipe");
    global.pipe_input_at(s("x"), s("X1"), 5_000).expect("pipe");
    // The global record is in the store at once; the task's stream time is still 100.
    assert_eq!(driver.stream_time(), 100);
    input.pipe_input_at(s("b"), s("x"), 50).expect("pipe");
    global.pipe_input_at(s("x"), s("X2"), 1).expect("pipe");
    input.pipe_input_at(s("c"), s("x"), 200).expect("pipe");
    assert_eq!(
        output.read_values_to_list().expect("read"),
        ["x=-@100", "x=X1@100", "x=X2@200"]
    );
    // The driver reads (and seeds) global stores like any other.
    let g = driver
        .key_value_store::<String, String>("g")
        .expect("global store");
    assert_eq!(g.get(&s("x")).expect("get"), Some(s("X2")));
}

#[test]
fn a_task_cannot_write_a_global_store() {
    let driver = TopologyTestDriver::new(global_topology()).expect("driver");
    let input = driver.create_input_topic("input", Utf8, Utf8);
    let error = input
        .pipe_input(s("k"), s("write:v"))
        .expect_err("global stores are read-only for tasks");
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&error);
    let mut read_only = false;
    while let Some(e) = source {
        read_only |= matches!(
            e.downcast_ref::<StoreError>(),
            Some(StoreError::ReadOnly { store }) if store == "g"
        );
        source = e.source();
    }
    assert!(read_only, "{error}");
}

#[test]
fn records_written_to_a_global_topic_reach_the_global_store() {
    // As Kafka Streams' driver: a sink's record to a global store's topic is applied to it.
    let mut b = TopologyBuilder::new();
    b.add_global_store(
        Stores::in_memory_key_value("g", Utf8, Utf8).with_logging_disabled(),
        SourceSpec::new("g-src", ["global"], Utf8, Utf8),
        "g-load",
        LoadGlobal::default,
    )
    .add_source("updates", ["updates"], Utf8, Utf8)
    .add_sink("to-global", "global", Utf8, Utf8, ["updates"])
    .add_source("in", ["input"], Utf8, Utf8)
    .add_processor("read", ReadGlobal::default, ["in"])
    .add_sink("out", "output", Utf8, Utf8, ["read"]);
    let driver = TopologyTestDriver::new(b.build().expect("valid")).expect("driver");
    driver
        .create_input_topic("updates", Utf8, Utf8)
        .pipe_input_at(s("x"), s("X"), 10)
        .expect("pipe");
    driver
        .create_input_topic("input", Utf8, Utf8)
        .pipe_input_at(s("a"), s("x"), 20)
        .expect("pipe");
    let global = driver.create_output_topic("global", Utf8, Utf8);
    assert_eq!(
        global.read_key_values_to_list().expect("read"),
        [(s("x"), s("X"))]
    );
    let output = driver.create_output_topic("output", Utf8, Utf8);
    assert_eq!(output.read_values_to_list().expect("read"), ["x=X@20"]);
}
