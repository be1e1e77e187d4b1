//! source → map → filter → sink in the `TopologyTestDriver`, with `Bytes` codecs: the cost of
//! the per-record path through codecs and processors, without a broker. Each iteration pipes
//! 10 000 records that the (untimed) setup built:
//!
//! - `process`: piping, decoding at the source, both processors, encoding at the sink and the
//!   driver's capture of the output, timed; the output is read back (decoded) and checked in
//!   the next iteration's untimed setup.
//! - `round_trip`: the same plus reading the output back into typed records, timed, as a test
//!   does it.
//! - `process_dsl`: `process` for the same chain written with the DSL (`map_values`, `filter`).
//!
//! This binary uses the system allocator; `driver_chain_mimalloc` runs the same with mimalloc
//! as the global allocator, as a throughput-minded application might.
//!
//! `cargo bench --bench driver_chain`

#[path = "support/chain.rs"]
mod chain;
#[path = "support/driver_chain.rs"]
mod driver_chain;

criterion::criterion_group!(benches, driver_chain::bench);
criterion::criterion_main!(benches);
