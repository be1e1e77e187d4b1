//! Kafka for the runtime: the admin calls made at start and [`EmbeddedKafka`], an in-process
//! cluster for examples and tests. (The librdkafka configurations of the clients are built in
//! [`config`](crate::config).)

pub(crate) mod admin;
mod embedded;
mod error;

pub use admin::create_topics;
pub use embedded::{EmbeddedKafka, EmbeddedKafkaError};
pub use error::AdminError;
