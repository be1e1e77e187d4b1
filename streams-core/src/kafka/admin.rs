//! Admin calls made at start: topic metadata and internal topic creation, each bounded by
//! `default.api.timeout.ms`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures_executor::block_on;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use tracing::{info, warn};

use crate::config::StreamsConfig;
use crate::runtime::StartError;

/// The admin side of a streams application.
pub(crate) struct Admin {
    client: AdminClient<DefaultClientContext>,
    bootstrap: String,
    timeout: Duration,
    replication_factor: i32,
}

impl Admin {
    pub(crate) fn new(config: &StreamsConfig, client_id: &str) -> Result<Self, StartError> {
        let client = super::client::admin(config, client_id)
            .create()
            .map_err(|e| StartError::Kafka {
                operation: "creating the admin client".to_string(),
                reason: e.to_string(),
            })?;
        Ok(Admin {
            client,
            bootstrap: config.bootstrap_servers().to_string(),
            timeout: config.api_timeout(),
            replication_factor: config.replication_factor(),
        })
    }

    /// Every topic of the cluster and its partition count.
    pub(crate) fn partition_counts(&self) -> Result<HashMap<String, i32>, StartError> {
        let metadata = self
            .client
            .inner()
            .fetch_metadata(None, self.timeout)
            .map_err(|e| self.metadata_error(e))?;
        Ok(metadata
            .topics()
            .iter()
            .filter(|t| t.error().is_none())
            .map(|t| (t.name().to_string(), t.partitions().len() as i32))
            .collect())
    }

    fn metadata_error(&self, error: KafkaError) -> StartError {
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
            StartError::BrokerUnreachable {
                bootstrap_servers: self.bootstrap.clone(),
                timeout: self.timeout,
                reason: error.to_string(),
            }
        } else {
            StartError::Kafka {
                operation: format!("reading topic metadata from `{}`", self.bootstrap),
                reason: error.to_string(),
            }
        }
    }

    /// Creates `topics` (name, partitions) and waits until the cluster shows them.
    pub(crate) fn create_topics(&self, topics: &[(String, i32)]) -> Result<(), StartError> {
        if topics.is_empty() {
            return Ok(());
        }
        for (name, partitions) in topics {
            info!(topic = %name, partitions, "creating topic");
        }
        let embedded: Vec<_> = topics
            .iter()
            .filter_map(|(name, partitions)| {
                super::embedded::create_if_embedded(&self.bootstrap, name, *partitions)
                    .map(|r| (name, r))
            })
            .collect();
        if embedded.is_empty() {
            self.create_with_admin(topics)?;
        } else {
            for (name, result) in embedded {
                result.map_err(|e| StartError::CreateTopic {
                    topic: name.clone(),
                    reason: e.to_string(),
                })?;
            }
        }
        self.await_topics(topics)
    }

    fn create_with_admin(&self, topics: &[(String, i32)]) -> Result<(), StartError> {
        let new_topics: Vec<NewTopic<'_>> = topics
            .iter()
            .map(|(name, partitions)| {
                NewTopic::new(
                    name,
                    *partitions,
                    TopicReplication::Fixed(self.replication_factor),
                )
            })
            .collect();
        let options = AdminOptions::new()
            .operation_timeout(Some(self.timeout))
            .request_timeout(Some(self.timeout));
        let results = block_on(self.client.create_topics(&new_topics, &options)).map_err(|e| {
            StartError::Kafka {
                operation: "creating internal topics".to_string(),
                reason: e.to_string(),
            }
        })?;
        for result in results {
            match result {
                Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                Err((topic, code)) => {
                    return Err(StartError::CreateTopic {
                        topic,
                        reason: code.to_string(),
                    });
                }
            }
        }
        Ok(())
    }

    fn await_topics(&self, topics: &[(String, i32)]) -> Result<(), StartError> {
        let deadline = Instant::now() + self.timeout;
        loop {
            let counts = self.partition_counts()?;
            let missing: Vec<&String> = topics
                .iter()
                .filter(|(name, n)| counts.get(name) != Some(n))
                .map(|(name, _)| name)
                .collect();
            if missing.is_empty() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(StartError::CreateTopic {
                    topic: missing[0].clone(),
                    reason: format!("not visible in the metadata after {:?}", self.timeout),
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
/// # Ok::<(), streams_core::runtime::StartError>(())
/// ```
pub fn create_topics(
    bootstrap_servers: &str,
    topics: &[(&str, i32)],
    timeout: Duration,
) -> Result<(), StartError> {
    let config = StreamsConfig::builder()
        .application_id("streams-admin")
        .bootstrap_servers(bootstrap_servers)
        .api_timeout(timeout)
        .build()
        .map_err(|e| StartError::Kafka {
            operation: "configuring the admin client".to_string(),
            reason: e.to_string(),
        })?;
    let admin = Admin::new(&config, "streams-admin")?;
    let existing = admin.partition_counts()?;
    let missing: Vec<(String, i32)> = topics
        .iter()
        .filter(|(name, _)| !existing.contains_key(*name))
        .map(|(name, n)| (name.to_string(), *n))
        .collect();
    admin.create_topics(&missing)
}
