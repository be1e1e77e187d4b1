//! source → map → filter → sink in the `TopologyTestDriver`, with `Bytes` codecs: the cost of
//! the per-record path through codecs and processors, without a broker.
//!
//! `cargo bench --bench driver_chain`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use streams::codec::Bytes;
use streams::error::ProcessorError;
use streams::processor::{Processor, ProcessorContext};
use streams::record::Record;
use streams::testing::TopologyTestDriver;
use streams::topology::{Topology, TopologyBuilder};

type Bin = Vec<u8>;

/// Upper-cases ASCII in place.
struct Upper;

impl Processor for Upper {
    type KIn = Bin;
    type VIn = Bin;
    type KOut = Bin;
    type VOut = Bin;

    fn process(
        &mut self,
        mut r: Record<Bin, Bin>,
        ctx: &mut ProcessorContext<'_, Bin, Bin>,
    ) -> Result<(), ProcessorError> {
        r.value.make_ascii_uppercase();
        ctx.forward(r)
    }
}

/// Drops values starting with `#`.
struct DropComments;

impl Processor for DropComments {
    type KIn = Bin;
    type VIn = Bin;
    type KOut = Bin;
    type VOut = Bin;

    fn process(
        &mut self,
        r: Record<Bin, Bin>,
        ctx: &mut ProcessorContext<'_, Bin, Bin>,
    ) -> Result<(), ProcessorError> {
        if r.value.first() == Some(&b'#') {
            return Ok(());
        }
        ctx.forward(r)
    }
}

fn topology() -> Topology {
    let mut b = TopologyBuilder::new();
    b.add_source("source", ["input"], Bytes, Bytes)
        .add_processor("map", || Upper, ["source"])
        .add_processor("filter", || DropComments, ["map"])
        .add_sink("sink", "output", Bytes, Bytes, ["filter"]);
    b.build().expect("valid topology")
}

const BATCH: usize = 10_000;

fn bench(c: &mut Criterion) {
    let driver = TopologyTestDriver::new(topology()).expect("driver");
    let input = driver.create_input_topic("input", Bytes, Bytes);
    let output = driver.create_output_topic("output", Bytes, Bytes);
    let records: Vec<(Bin, Bin)> = (0..BATCH)
        .map(|i| {
            let value = if i % 10 == 0 {
                b"#comment".to_vec()
            } else {
                format!("value-{i:08}-padding-to-64-bytes-of-payload-for-a-realistic-record")
                    .into_bytes()
            };
            (format!("key-{i}").into_bytes(), value)
        })
        .collect();
    let mut group = c.benchmark_group("driver_chain");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("source_map_filter_sink_bytes", |b| {
        b.iter(|| {
            for (k, v) in &records {
                input.pipe_input(k.clone(), v.clone()).expect("pipe");
            }
            black_box(output.read_records_to_list().expect("read").len())
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
