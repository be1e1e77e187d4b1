//! The runtime library behind [`streams`](https://docs.rs/streams): typed records and codecs,
//! the Processor API, topologies with Kafka Streams' `describe()`, state stores and the
//! `TopologyTestDriver`.
//!
//! Applications depend on the `streams` facade crate, which re-exports this crate and the
//! macros; the modules are documented here.

pub mod codec;
#[cfg(feature = "kafka")]
pub mod config;
pub mod dsl;
pub mod error;
#[cfg(feature = "kafka")]
pub mod guarantees;
#[cfg(feature = "kafka")]
pub mod kafka;
pub mod processor;
pub mod record;
#[cfg(feature = "kafka")]
pub mod runtime;
pub mod state;
mod task_id;
pub mod testing;
pub mod timestamp;
pub mod topology;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

/// The names most applications use.
pub mod prelude {
    pub use crate::codec::{
        Bincode, Bool, Bytes, Codec, F32, F64, I16, I32, I64, Json, Nullable, Utf8, Void,
    };
    pub use crate::dsl::{
        Branched, Consumed, GlobalKTable, Grouped, KGroupedStream, KGroupedTable, KStream, KTable,
        Materialized, Produced, Repartitioned, StreamsBuilder,
    };
    pub use crate::error::{ProcessorError, StreamsError};
    pub use crate::processor::{Processor, ProcessorContext, Punctuation, PunctuationType};
    pub use crate::record::{Headers, Record};
    pub use crate::state::{KeyValueStore, Stores};
    pub use crate::testing::TopologyTestDriver;
    pub use crate::topology::{Topology, TopologyBuilder};

    #[cfg(feature = "kafka")]
    pub use crate::config::StreamsConfig;
    #[cfg(feature = "kafka")]
    pub use crate::runtime::{KafkaStreams, StreamsState};
}
