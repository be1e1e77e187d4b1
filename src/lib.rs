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

/// What an application needs, in one import: the Processor API, records, codecs, stores,
/// topologies, the test driver, the macros and (with the `kafka` feature) `KafkaStreams` and
/// `StreamsConfig`.
///
/// ```
/// use streams::prelude::*;
///
/// #[processor]
/// fn shout(line: String) -> String {
///     line.to_uppercase()
/// }
///
/// let app = topology! {
///     source lines: <String, String> = "lines" as utf8;
///     sink loud: <String, String> = "loud" as utf8;
///     lines -> shout -> loud;
/// }?;
/// let driver = TopologyTestDriver::new(app.topology)?;
/// driver.input(&app.lines).pipe_input("k".into(), "hi".into())?;
/// assert_eq!(driver.output(&app.loud).read_value()?, "HI");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub mod prelude {
    #[doc(inline)]
    pub use streams_core::prelude::*;
    #[cfg(feature = "macros")]
    #[doc(inline)]
    pub use streams_macros::{processor, topology};
}

/// The examples of `#[processor]`'s documentation, run as doc-tests of this crate.
#[cfg(all(doctest, feature = "macros"))]
#[doc = include_str!("../streams-macros/docs/processor.md")]
struct ProcessorDocs;

/// The examples of `topology!`'s documentation, run as doc-tests of this crate.
#[cfg(all(doctest, feature = "macros"))]
#[doc = include_str!("../streams-macros/docs/topology.md")]
struct TopologyDocs;
