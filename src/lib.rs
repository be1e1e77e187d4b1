// The README (its tour is doc-tested) needs the runtime; without it, a short summary.
#![cfg_attr(feature = "kafka", doc = include_str!("../README.md"))]
#![cfg_attr(
    not(feature = "kafka"),
    doc = "Kafka Streams, rebuilt in Rust. Built without the `kafka` feature: topologies, \
           state stores and the `TopologyTestDriver`, no runtime. See the README."
)]

#[doc(inline)]
pub use streams_core::*;

#[cfg(feature = "macros")]
#[doc(inline)]
pub use streams_macros::{processor, topology};

/// The examples of `#[processor]`'s documentation, run as doc-tests of this crate.
#[cfg(all(doctest, feature = "macros"))]
#[doc = include_str!("../streams-macros/docs/processor.md")]
struct ProcessorDocs;

/// The examples of `topology!`'s documentation, run as doc-tests of this crate.
#[cfg(all(doctest, feature = "macros"))]
#[doc = include_str!("../streams-macros/docs/topology.md")]
struct TopologyDocs;
