//! source → map → filter → sink in the `TopologyTestDriver`, with `Bytes` codecs: the cost of
//! the per-record path through codecs and processors, without a broker. Each iteration pipes
//! 10 000 records (cloning each key and value, as a test would) and reads the output back.
//!
//! `cargo bench --bench driver_chain`

#[path = "support/chain.rs"]
mod chain;

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use streams::codec::Bytes;
use streams::testing::TopologyTestDriver;

const BATCH: usize = 10_000;

fn bench(c: &mut Criterion) {
    let driver = TopologyTestDriver::new(chain::hand_written()).expect("driver");
    let input = driver.create_input_topic("input", Bytes, Bytes);
    let output = driver.create_output_topic("output", Bytes, Bytes);
    let records = chain::records(BATCH);
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
