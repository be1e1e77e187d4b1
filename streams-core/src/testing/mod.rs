//! Testing topologies without a broker: Kafka Streams' `TopologyTestDriver`.
//!
//! The driver runs the whole topology as one task, synchronously: each piped record goes
//! through the source's codecs, the processors and the sinks' codecs before `pipe_input`
//! returns, then due stream-time punctuations fire. Records a sink writes to a topic that a
//! source of the same topology reads are fed back in, as repartition topics are in a real run.
//! Wall-clock time is a mock clock moved by
//! [`advance_wall_clock_time`](TopologyTestDriver::advance_wall_clock_time).
//!
//! Global stores (`GlobalKTable`s) are kept by a task of their own, as in Kafka Streams'
//! driver: a record piped into (or written by a sink to) a global store's topic is applied to
//! the store at once, emits nothing, and leaves the other task's stream time and punctuations
//! alone; every processor reads the store from then on.
//!
//! ```
//! use streams_core::codec::Utf8;
//! use streams_core::error::ProcessorError;
//! use streams_core::processor::{Processor, ProcessorContext};
//! use streams_core::record::Record;
//! use streams_core::testing::TopologyTestDriver;
//! use streams_core::topology::TopologyBuilder;
//!
//! struct Upper;
//! impl Processor for Upper {
//!     type KIn = String;
//!     type VIn = String;
//!     type KOut = String;
//!     type VOut = String;
//!     fn process(&mut self, r: Record<String, String>, ctx: &mut ProcessorContext<'_, String, String>)
//!         -> Result<(), ProcessorError> {
//!         ctx.forward(r.map_value(|v| v.to_uppercase()))
//!     }
//! }
//!
//! let mut builder = TopologyBuilder::new();
//! builder
//!     .add_source("in", ["input"], Utf8, Utf8)
//!     .add_processor("upper", || Upper, ["in"])
//!     .add_sink("out", "output", Utf8, Utf8, ["upper"]);
//! let driver = TopologyTestDriver::new(builder.build().unwrap()).unwrap();
//! let input = driver.create_input_topic("input", Utf8, Utf8);
//! let output = driver.create_output_topic("output", Utf8, Utf8);
//! input.pipe_input("k".to_string(), "hello".to_string()).unwrap();
//! assert_eq!(output.read_key_value().unwrap(), ("k".to_string(), "HELLO".to_string()));
//! assert!(output.is_empty());
//! ```

mod captured;
mod driver;
mod input;
mod output;

pub use driver::{DriverOptions, TopologyTestDriver};
pub use input::TestInputTopic;
pub use output::{ReadError, TestOutputTopic};
