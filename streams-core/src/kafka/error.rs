//! What the admin calls made at start can fail with.

use std::time::Duration;

use rdkafka::error::{KafkaError, RDKafkaErrorCode};

use crate::config::ConfigError;

use super::EmbeddedKafkaError;

/// An admin call (topic metadata, topic creation) failed; the underlying librdkafka error is
/// the [`source`](std::error::Error::source).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AdminError {
    /// No broker answered within the bound.
    #[error(
        "no Kafka broker reachable at `{bootstrap_servers}` within {timeout:?} ({source}); \
         check `bootstrap.servers`, that the cluster is up, and the security settings"
    )]
    BrokerUnreachable {
        /// `bootstrap.servers`.
        bootstrap_servers: String,
        /// How long it waited (`default.api.timeout.ms`).
        timeout: Duration,
        /// librdkafka's error.
        source: KafkaError,
    },
    /// A call the cluster refused.
    #[error("{operation} failed: {source}")]
    Kafka {
        /// What was being done.
        operation: &'static str,
        /// librdkafka's error.
        source: KafkaError,
    },
    /// The cluster refused to create a topic.
    #[error("cannot create topic `{topic}`: {source}")]
    CreateTopic {
        /// The topic.
        topic: String,
        /// The broker's error code.
        source: RDKafkaErrorCode,
    },
    /// The embedded cluster could not create a topic.
    #[error("cannot create topic `{topic}` on the embedded cluster: {source}")]
    CreateEmbeddedTopic {
        /// The topic.
        topic: String,
        /// The mock cluster's error.
        source: EmbeddedKafkaError,
    },
    /// A created topic did not show in the metadata in time.
    #[error("topic `{topic}` was created but is not visible in the metadata after {timeout:?}")]
    TopicNotVisible {
        /// The topic.
        topic: String,
        /// How long it waited.
        timeout: Duration,
    },
    /// The admin client's configuration was refused.
    #[error("configuring the admin client: {source}")]
    Config {
        /// Why.
        #[from]
        source: ConfigError,
    },
}
