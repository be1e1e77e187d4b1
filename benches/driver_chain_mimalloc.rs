//! `driver_chain` with mimalloc as the global allocator: what the allocator is worth on the
//! per-record path (the source decodes into fresh `Vec`s, reading back decodes again).
//!
//! `cargo bench --bench driver_chain_mimalloc`

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "support/chain.rs"]
mod chain;
#[path = "support/driver_chain.rs"]
mod driver_chain;

criterion::criterion_group!(benches, driver_chain::bench);
criterion::criterion_main!(benches);
