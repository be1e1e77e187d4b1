//! `describe()` is byte-identical to Kafka Streams' `TopologyDescription.toString()`.
//!
//! The golden files under `tests/golden/describe/` were written by the real Kafka Streams 4.4.0
//! (`tools/kafka-streams-golden`); each test builds the same topology with the same calls.

use std::marker::PhantomData;

use streams_core::codec::Utf8;
use streams_core::error::ProcessorError;
use streams_core::processor::{Processor, ProcessorContext};
use streams_core::record::Record;
use streams_core::state::Stores;
use streams_core::topology::{RecordContext, SourceSpec, Topology, TopologyBuilder};

/// Forwards every record unchanged.
struct Pass(PhantomData<()>);

impl Processor for Pass {
    type KIn = String;
    type VIn = String;
    type KOut = String;
    type VOut = String;

    fn process(
        &mut self,
        record: Record<String, String>,
        ctx: &mut ProcessorContext<'_, String, String>,
    ) -> Result<(), ProcessorError> {
        ctx.forward(record)
    }
}

fn pass() -> Pass {
    Pass(PhantomData)
}

fn golden(name: &str) -> String {
    let path = format!(
        "{}/tests/golden/describe/{name}.txt",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn check(name: &str, topology: Topology) {
    let expected = golden(name);
    let actual = topology.describe().to_string();
    assert_eq!(
        actual, expected,
        "describe() of `{name}` differs from Kafka Streams'"
    );
}

trait Add {
    fn source(&mut self, name: &str, topics: &[&str]) -> &mut Self;
    fn processor(&mut self, name: &str, parents: &[&str]) -> &mut Self;
    fn sink(&mut self, name: &str, topic: &str, parents: &[&str]) -> &mut Self;
    fn store(&mut self, name: &str, processors: &[&str]) -> &mut Self;
}

impl Add for TopologyBuilder {
    fn source(&mut self, name: &str, topics: &[&str]) -> &mut Self {
        self.add_source(name, topics.iter().copied(), Utf8, Utf8)
    }

    fn processor(&mut self, name: &str, parents: &[&str]) -> &mut Self {
        self.add_processor(name, pass, parents)
    }

    fn sink(&mut self, name: &str, topic: &str, parents: &[&str]) -> &mut Self {
        self.add_sink(name, topic, Utf8, Utf8, parents)
    }

    fn store(&mut self, name: &str, processors: &[&str]) -> &mut Self {
        self.add_state_store(Stores::in_memory_key_value(name, Utf8, Utf8), processors)
    }
}

#[test]
fn simple() {
    let mut b = TopologyBuilder::new();
    b.source("Source", &["input"])
        .processor("Upper", &["Source"])
        .sink("Sink", "output", &["Upper"]);
    check("simple", b.build().unwrap());
}

#[test]
fn two_subtopologies() {
    let mut b = TopologyBuilder::new();
    b.source("orders-source", &["orders"])
        .processor("parse", &["orders-source"])
        .sink("to-repartition", "app-by-user-repartition", &["parse"])
        .source("repartition-source", &["app-by-user-repartition"])
        .processor("count", &["repartition-source"])
        .store("counts", &["count"])
        .sink("counts-sink", "counts", &["count"]);
    check("two_subtopologies", b.build().unwrap());
}

#[test]
fn fan_out_merge() {
    let mut b = TopologyBuilder::new();
    b.source("S1", &["a", "b"])
        .source("S2", &["c"])
        .processor("P1", &["S1"])
        .processor("P2", &["S1"])
        .processor("M", &["P1", "P2", "S2"])
        .store("st1", &["M"])
        .store("st2", &["M"])
        .sink("K1", "x", &["M"])
        .sink("K2", "y", &["P2"]);
    check("fan_out_merge", b.build().unwrap());
}

#[test]
fn shared_store() {
    let mut b = TopologyBuilder::new();
    b.source("A", &["ta"])
        .processor("PA", &["A"])
        .source("B", &["tb"])
        .processor("PB", &["B"])
        .store("shared", &["PA", "PB"])
        .source("C", &["tc"])
        .sink("KC", "tc-out", &["C"]);
    check("shared_store", b.build().unwrap());
}

#[test]
fn ordering() {
    let mut b = TopologyBuilder::new();
    b.source("zeta", &["t1"])
        .processor("b-proc", &["zeta"])
        .processor("a-proc", &["zeta"])
        .processor("c-proc", &["zeta"])
        .sink("sink-1", "o1", &["a-proc"])
        .processor("d-proc", &["c-proc"])
        .sink("sink-0", "o0", &["d-proc"])
        .source("alpha", &["t0"])
        .processor("e-proc", &["alpha"])
        .sink("sink-2", "o2", &["e-proc"]);
    check("ordering", b.build().unwrap());
}

#[test]
fn dsl_wordcount_shape() {
    // The nodes Kafka Streams' DSL word count builds, added by hand in the same order.
    let mut b = TopologyBuilder::new();
    b.source("KSTREAM-SOURCE-0000000000", &["text-input"])
        .processor(
            "KSTREAM-FLATMAPVALUES-0000000001",
            &["KSTREAM-SOURCE-0000000000"],
        )
        .processor(
            "KSTREAM-KEY-SELECT-0000000002",
            &["KSTREAM-FLATMAPVALUES-0000000001"],
        )
        .processor(
            "counts-store-repartition-filter",
            &["KSTREAM-KEY-SELECT-0000000002"],
        )
        .sink(
            "counts-store-repartition-sink",
            "counts-store-repartition",
            &["counts-store-repartition-filter"],
        )
        .source(
            "counts-store-repartition-source",
            &["counts-store-repartition"],
        )
        .processor(
            "KSTREAM-AGGREGATE-0000000003",
            &["counts-store-repartition-source"],
        )
        .store("counts-store", &["KSTREAM-AGGREGATE-0000000003"])
        .processor(
            "KTABLE-TOSTREAM-0000000007",
            &["KSTREAM-AGGREGATE-0000000003"],
        )
        .sink(
            "KSTREAM-SINK-0000000008",
            "wordcount-output",
            &["KTABLE-TOSTREAM-0000000007"],
        );
    check("dsl_wordcount", b.build().unwrap());
}

struct TopicByKeyExtractor;

impl streams_core::topology::TopicNameExtractor<String, String> for TopicByKeyExtractor {
    fn extract(&self, key: &String, _value: &String, _ctx: &RecordContext<'_>) -> String {
        key.clone()
    }
}

#[test]
fn sink_extractor_named() {
    let mut b = TopologyBuilder::new();
    b.source("in", &["input"]).add_sink_with_extractor(
        "dyn",
        TopicByKeyExtractor,
        Utf8,
        Utf8,
        ["in"],
    );
    check("sink_extractor_named", b.build().unwrap());
}

#[test]
fn global_store() {
    // A global store between two ordinary sub-topologies: it takes id 1, the next one 2, and
    // Kafka Streams prints no blank line after a global store.
    let mut b = TopologyBuilder::new();
    b.source("first-source", &["first"])
        .processor("first-proc", &["first-source"])
        .add_global_store(
            Stores::in_memory_key_value("global-store", Utf8, Utf8).with_logging_disabled(),
            SourceSpec::new("global-source", ["global-topic"], Utf8, Utf8),
            "global-proc",
            pass,
        );
    b.source("second-source", &["second"])
        .processor("second-proc", &["second-source"])
        .sink("second-sink", "second-out", &["second-proc"]);
    let topology = b.build().unwrap();
    let description = topology.describe();
    assert_eq!(description.subtopologies().len(), 2);
    assert_eq!(description.global_stores()[0].id, 1);
    // The pictures draw the global store's sub-topology too.
    let mermaid = topology.to_mermaid();
    assert!(
        mermaid.contains("subgraph sub1[\"Sub-topology: 1 (global store)\"]"),
        "{mermaid}"
    );
    assert!(mermaid.contains("[/\"global-source\"/]"), "{mermaid}");
    assert!(
        topology
            .to_dot()
            .contains("label=\"Sub-topology: 1 (global store)\";")
    );
    check("global_store", topology);
}

#[test]
fn hash_order() {
    let mut b = TopologyBuilder::new();
    b.source(
        "src",
        &["zebra", "apple", "mango", "b", "Topic-10", "topic-9"],
    )
    .processor("proc", &["src"]);
    for s in [
        "zeta-store",
        "alpha",
        "counts",
        "m",
        "B",
        "store-10",
        "store-9",
    ] {
        b.store(s, &["proc"]);
    }
    check("hash_order", b.build().unwrap());
}

#[test]
fn wide() {
    let mut b = TopologyBuilder::new();
    b.source("root", &["wide-in"]);
    for (i, k) in ["k5", "k1", "k4", "k2", "k3", "k0"].into_iter().enumerate() {
        b.processor(k, &["root"]);
        let mut prev = k.to_string();
        for j in 0..i {
            let n = format!("{k}-c{j}");
            b.processor(&n, &[&prev]);
            prev = n;
        }
    }
    b.processor("join", &["k5", "k1-c0", "k4-c1", "k3-c3", "k0-c4"])
        .sink("out", "wide-out", &["join", "k2"]);
    check("wide", b.build().unwrap());
}

#[test]
fn diamond() {
    let mut b = TopologyBuilder::new();
    b.source("s", &["d-in"])
        .processor("y", &["s"])
        .processor("x", &["s"])
        .processor("y2", &["y"])
        .processor("m", &["y2", "x"])
        .processor("n", &["x", "y"])
        .sink("o", "d-out", &["m", "n"]);
    check("diamond", b.build().unwrap());
}

#[test]
fn nodes_can_be_added_before_their_parents() {
    let mut b = TopologyBuilder::new();
    b.sink("Sink", "output", &["Upper"])
        .processor("Upper", &["Source"])
        .source("Source", &["input"]);
    let description = b.build().unwrap().describe();
    let nodes = &description.subtopologies()[0].nodes;
    assert_eq!(nodes[0].name, "Source");
    assert_eq!(nodes[0].successors, ["Upper"]);
    assert_eq!(nodes[2].predecessors, ["Upper"]);
}
