//! Admin calls made at start: topic metadata and internal topic creation, each bounded by
//! `default.api.timeout.ms`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures_executor::block_on;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use tracing::{info, warn};

use super::AdminError;
use crate::config::StreamsConfig;

/// A topic to create: name, partition count and topic configs (`cleanup.policy`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TopicSpec {
    pub(crate) name: String,
    pub(crate) partitions: i32,
    pub(crate) configs: Vec<(String, String)>,
}

impl TopicSpec {
    pub(crate) fn new(name: &str, partitions: i32) -> Self {
        TopicSpec {
            name: name.to_string(),
            partitions,
            configs: Vec::new(),
        }
    }

    pub(crate) fn with_config(mut self, key: &str, value: &str) -> Self {
        self.configs.push((key.to_string(), value.to_string()));
        self
    }
}

/// The admin side of a streams application.
pub(crate) struct Admin {
    client: AdminClient<DefaultClientContext>,
    bootstrap: String,
    timeout: Duration,
    replication_factor: i32,
}

impl Admin {
    pub(crate) fn new(config: &StreamsConfig, client_id: &str) -> Result<Self, AdminError> {
        let client = crate::config::clients::admin(config, client_id)
            .create()
            .map_err(|source| AdminError::Kafka {
                operation: "creating the admin client",
                source,
            })?;
        Ok(Admin {
            client,
            bootstrap: config.bootstrap_servers().to_string(),
            timeout: config.api_timeout(),
            replication_factor: config.replication_factor(),
        })
    }

    /// Every topic of the cluster and its partition count.
    ///
    /// A dropped connection (`BrokerTransportFailure`, e.g. a broker too busy to answer) is
    /// retried until `default.api.timeout.ms` has passed, as Kafka's admin client retries.
    pub(crate) fn partition_counts(&self) -> Result<HashMap<String, i32>, AdminError> {
        let deadline = Instant::now() + self.timeout;
        let metadata = loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            match self.client.inner().fetch_metadata(None, remaining) {
                Ok(metadata) => break metadata,
                Err(e)
                    if e.rdkafka_error_code() == Some(RDKafkaErrorCode::BrokerTransportFailure)
                        && deadline.saturating_duration_since(Instant::now())
                            > Duration::from_millis(500) =>
                {
                    warn!(bootstrap = %self.bootstrap, error = %e, "reading topic metadata failed; retrying");
                    std::thread::sleep(Duration::from_millis(200));
                }
                Err(e) => return Err(self.metadata_error(e)),
            }
        };
        Ok(metadata
            .topics()
            .iter()
            .filter(|t| t.error().is_none())
            .map(|t| (t.name().to_string(), t.partitions().len() as i32))
            .collect())
    }

    fn metadata_error(&self, error: KafkaError) -> AdminError {
        let unreachable = matches!(
            error.rdkafka_error_code(),
            Some(
                RDKafkaErrorCode::OperationTimedOut
                    | RDKafkaErrorCode::BrokerTransportFailure
                    | RDKafkaErrorCode::AllBrokersDown
                    | RDKafkaErrorCode::Resolve
            )
        );
        if unreachable {
            AdminError::BrokerUnreachable {
                bootstrap_servers: self.bootstrap.clone(),
                timeout: self.timeout,
                source: error,
            }
        } else {
            AdminError::Kafka {
                operation: "reading topic metadata",
                source: error,
            }
        }
    }

    /// Creates `topics` and waits until the cluster shows them. (The embedded mock cluster
    /// ignores topic configs.)
    pub(crate) fn create_topics(&self, topics: &[TopicSpec]) -> Result<(), AdminError> {
        if topics.is_empty() {
            return Ok(());
        }
        for t in topics {
            info!(topic = %t.name, partitions = t.partitions, configs = ?t.configs, "creating topic");
        }
        let embedded: Vec<_> = topics
            .iter()
            .filter_map(|t| {
                super::embedded::create_if_embedded(&self.bootstrap, &t.name, t.partitions)
                    .map(|r| (&t.name, r))
            })
            .collect();
        if embedded.is_empty() {
            self.create_with_admin(topics)?;
        } else {
            for (name, result) in embedded {
                result.map_err(|source| AdminError::CreateEmbeddedTopic {
                    topic: name.clone(),
                    source,
                })?;
            }
        }
        self.await_topics(topics)
    }

    fn create_with_admin(&self, topics: &[TopicSpec]) -> Result<(), AdminError> {
        let new_topics: Vec<NewTopic<'_>> = topics
            .iter()
            .map(|t| {
                t.configs.iter().fold(
                    NewTopic::new(
                        &t.name,
                        t.partitions,
                        TopicReplication::Fixed(self.replication_factor),
                    ),
                    |topic, (key, value)| topic.set(key, value),
                )
            })
            .collect();
        let options = AdminOptions::new()
            .operation_timeout(Some(self.timeout))
            .request_timeout(Some(self.timeout));
        let results =
            block_on(self.client.create_topics(&new_topics, &options)).map_err(|source| {
                AdminError::Kafka {
                    operation: "creating topics",
                    source,
                }
            })?;
        for result in results {
            match result {
                Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                Err((topic, code)) => {
                    return Err(AdminError::CreateTopic {
                        topic,
                        source: code,
                    });
                }
            }
        }
        Ok(())
    }

    fn await_topics(&self, topics: &[TopicSpec]) -> Result<(), AdminError> {
        let deadline = Instant::now() + self.timeout;
        loop {
            let counts = self.partition_counts()?;
            let missing: Vec<&String> = topics
                .iter()
                .filter(|t| counts.get(&t.name) != Some(&t.partitions))
                .map(|t| &t.name)
                .collect();
            if missing.is_empty() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(AdminError::TopicNotVisible {
                    topic: missing[0].clone(),
                    timeout: self.timeout,
                });
            }
            warn!(
                ?missing,
                "waiting for created topics to appear in the metadata"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// Creates topics (name, partitions) on the cluster at `bootstrap_servers` — an
/// [`EmbeddedKafka`](super::EmbeddedKafka)'s too — with the broker's default replication
/// factor, and waits until the cluster shows them; a topic that already exists is left as it
/// is. Each admin call is bounded by `timeout`.
///
/// ```no_run
/// use std::time::Duration;
/// streams_core::kafka::create_topics("localhost:9092", &[("lines", 4), ("counts", 4)], Duration::from_secs(30))?;
/// # Ok::<(), streams_core::kafka::AdminError>(())
/// ```
pub fn create_topics(
    bootstrap_servers: &str,
    topics: &[(&str, i32)],
    timeout: Duration,
) -> Result<(), AdminError> {
    let config = StreamsConfig::builder()
        .application_id("streams-admin")
        .bootstrap_servers(bootstrap_servers)
        .api_timeout(timeout)
        .build()?;
    let admin = Admin::new(&config, "streams-admin")?;
    let existing = admin.partition_counts()?;
    let missing: Vec<TopicSpec> = topics
        .iter()
        .filter(|(name, _)| !existing.contains_key(*name))
        .map(|(name, n)| TopicSpec::new(name, *n))
        .collect();
    admin.create_topics(&missing)
}
