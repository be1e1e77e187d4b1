//! The body of the `driver_chain` benches (system allocator and mimalloc).

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput};
use streams::codec::Bytes;
use streams::testing::TopologyTestDriver;

use crate::chain;

const BATCH: usize = 10_000;

/// The `driver_chain` benchmark group.
pub(crate) fn bench(c: &mut Criterion) {
    let driver = TopologyTestDriver::new(chain::hand_written()).expect("driver");
    let input = driver.create_input_topic("input", Bytes, Bytes);
    let output = driver.create_output_topic("output", Bytes, Bytes);
    let records = chain::records(BATCH);
    let mut group = c.benchmark_group("driver_chain");
    group.throughput(Throughput::Elements(BATCH as u64));
    let kept = BATCH - BATCH / 10;
    group.bench_function("process", |b| {
        b.iter_batched(
            || {
                let written = output.read_records_to_list().expect("read");
                // Criterion may run several iterations between two setups.
                assert_eq!(written.len() % kept, 0);
                records.clone()
            },
            |batch| input.pipe_key_value_list(batch).expect("pipe"),
            BatchSize::LargeInput,
        )
    });
    // What the last `process` iterations wrote.
    output.read_records_to_list().expect("read");
    group.bench_function("round_trip", |b| {
        b.iter_batched(
            || records.clone(),
            |batch| {
                input.pipe_key_value_list(batch).expect("pipe");
                let written = output.read_records_to_list().expect("read");
                assert_eq!(written.len(), kept);
                black_box(written)
            },
            BatchSize::LargeInput,
        )
    });
    // The DSL form of the same chain, in a driver of its own.
    let dsl_driver = TopologyTestDriver::new(chain::dsl()).expect("driver");
    let dsl_input = dsl_driver.create_input_topic("input", Bytes, Bytes);
    let dsl_output = dsl_driver.create_output_topic("output", Bytes, Bytes);
    group.bench_function("process_dsl", |b| {
        b.iter_batched(
            || {
                let written = dsl_output.read_records_to_list().expect("read");
                assert_eq!(written.len() % kept, 0);
                records.clone()
            },
            |batch| dsl_input.pipe_key_value_list(batch).expect("pipe"),
            BatchSize::LargeInput,
        )
    });
    group.finish();
}
