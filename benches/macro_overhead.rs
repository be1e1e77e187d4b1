//! The same chain — source → map → filter → sink — declared with `#[processor]` functions and
//! `topology!`, and written by hand as `Processor` impls wired with `TopologyBuilder`, run in the
//! `TopologyTestDriver` with `Bytes` codecs. The macros should cost nothing.
//!
//! `cargo bench --bench macro_overhead`

#[path = "support/chain.rs"]
mod chain;

use std::hint::black_box;

use chain::Bin;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use streams::codec::Bytes;
use streams::testing::TopologyTestDriver;
use streams::topology::Topology;
use streams::{processor, topology};

#[processor]
fn upper(mut value: Bin) -> Bin {
    value.make_ascii_uppercase();
    value
}

#[processor]
fn no_comments(value: &[u8]) -> bool {
    value.first() != Some(&b'#')
}

fn macro_topology() -> Topology {
    topology! {
        source input: <Bin, Bin> = "input" as bytes;
        sink output: <Bin, Bin> = "output" as bytes;
        input -> upper -> no_comments -> output;
    }
    .expect("valid topology")
    .topology
}

const BATCH: usize = 10_000;

fn run(c: &mut Criterion) {
    let records = chain::records(BATCH);
    let mut group = c.benchmark_group("macro_overhead");
    group.throughput(Throughput::Elements(BATCH as u64));
    for (name, topology) in [
        ("hand_written", chain::hand_written()),
        ("macro", macro_topology()),
    ] {
        assert_eq!(
            topology.describe().to_string(),
            chain::hand_written().describe().to_string(),
            "both declare the same graph"
        );
        let driver = TopologyTestDriver::new(topology).expect("driver");
        let input = driver.create_input_topic("input", Bytes, Bytes);
        let output = driver.create_output_topic("output", Bytes, Bytes);
        group.bench_function(name, |b| {
            b.iter(|| {
                for (k, v) in &records {
                    input.pipe_input(k.clone(), v.clone()).expect("pipe");
                }
                black_box(output.read_records_to_list().expect("read").len())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, run);
criterion_main!(benches);
