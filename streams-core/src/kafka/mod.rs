//! Kafka clients for the runtime: librdkafka configurations, the admin calls made at start,
//! and [`EmbeddedKafka`], an in-process cluster for examples and tests.

pub(crate) mod admin;
pub(crate) mod client;
mod embedded;

pub use admin::create_topics;
pub use embedded::{EmbeddedKafka, EmbeddedKafkaError};
