//! An in-process Kafka cluster for examples and tests: librdkafka's mock cluster.
//!
//! The mock speaks the Kafka protocol on loopback (produce, fetch, consumer groups, offsets),
//! so applications run against it unchanged. It has no CreateTopics API: topics are created
//! through [`EmbeddedKafka::create_topic`], and a [`KafkaStreams`](crate::runtime::KafkaStreams)
//! whose `bootstrap.servers` are an embedded cluster's creates its internal topics that way.
//! It does not filter aborted transactional data nor compact topics.

use std::sync::Mutex;
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::JoinHandle;

use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::mocking::MockCluster;
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};
use tracing::{debug, info};

/// Why the embedded cluster could not do something.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EmbeddedKafkaError {
    /// The mock cluster could not be started.
    #[error("cannot start the embedded Kafka cluster: {0}")]
    Start(String),
    /// A topic could not be created.
    #[error("cannot create topic `{topic}` on the embedded Kafka cluster: {reason}")]
    CreateTopic {
        /// The topic.
        topic: String,
        /// librdkafka's reason.
        reason: String,
    },
    /// The cluster's thread is gone.
    #[error("the embedded Kafka cluster has stopped")]
    Stopped,
}

enum Command {
    RequestErrors {
        api: RDKafkaApiKey,
        errors: Vec<RDKafkaRespErr>,
    },
    CreateTopic {
        name: String,
        partitions: i32,
        reply: Sender<Result<(), EmbeddedKafkaError>>,
    },
}

/// Embedded clusters of this process by bootstrap servers, so the runtime can create internal
/// topics on them.
static REGISTRY: Mutex<Vec<(String, Sender<Command>)>> = Mutex::new(Vec::new());

/// An in-process Kafka cluster (librdkafka's mock cluster), running until dropped.
///
/// ```
/// use streams_core::kafka::EmbeddedKafka;
/// let kafka = EmbeddedKafka::start()?;
/// kafka.create_topic("lines", 4)?;
/// assert!(kafka.bootstrap_servers().contains("127.0.0.1"));
/// # Ok::<(), streams_core::kafka::EmbeddedKafkaError>(())
/// ```
pub struct EmbeddedKafka {
    bootstrap: String,
    commands: Sender<Command>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for EmbeddedKafka {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedKafka")
            .field("bootstrap_servers", &self.bootstrap)
            .finish()
    }
}

impl EmbeddedKafka {
    /// Starts a one-broker cluster.
    pub fn start() -> Result<Self, EmbeddedKafkaError> {
        Self::with_brokers(1)
    }

    /// Starts a cluster of `brokers` brokers.
    pub fn with_brokers(brokers: i32) -> Result<Self, EmbeddedKafkaError> {
        let (commands, inbox) = mpsc::channel();
        let (ready_tx, ready) = mpsc::channel();
        // The mock cluster is not `Send`: one thread owns it and serves requests.
        let thread = std::thread::Builder::new()
            .name("embedded-kafka".to_string())
            .spawn(move || serve(brokers, &ready_tx, &inbox))
            .map_err(|e| EmbeddedKafkaError::Start(e.to_string()))?;
        let bootstrap = match ready.recv() {
            Ok(Ok(bootstrap)) => bootstrap,
            Ok(Err(reason)) => return Err(EmbeddedKafkaError::Start(reason)),
            Err(_) => return Err(EmbeddedKafkaError::Start("its thread died".to_string())),
        };
        info!(bootstrap_servers = %bootstrap, brokers, "embedded Kafka cluster started");
        if let Ok(mut registry) = REGISTRY.lock() {
            registry.push((bootstrap.clone(), commands.clone()));
        }
        Ok(EmbeddedKafka {
            bootstrap,
            commands,
            thread: Some(thread),
        })
    }

    /// The cluster's `bootstrap.servers`.
    pub fn bootstrap_servers(&self) -> &str {
        &self.bootstrap
    }

    /// Makes the next requests of kind `api` fail, one per error in `errors`, in order
    /// (librdkafka's `rd_kafka_mock_push_request_errors`): for tests of the error paths, e.g.
    /// fencing (`InvalidProducerEpoch` on `EndTxn`) or an unavailable coordinator.
    ///
    /// ```
    /// use streams_core::kafka::EmbeddedKafka;
    /// use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};
    /// let kafka = EmbeddedKafka::start()?;
    /// kafka.fail_requests(
    ///     RDKafkaApiKey::EndTxn,
    ///     &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE],
    /// )?;
    /// # Ok::<(), streams_core::kafka::EmbeddedKafkaError>(())
    /// ```
    pub fn fail_requests(
        &self,
        api: RDKafkaApiKey,
        errors: &[RDKafkaRespErr],
    ) -> Result<(), EmbeddedKafkaError> {
        self.commands
            .send(Command::RequestErrors {
                api,
                errors: errors.to_vec(),
            })
            .map_err(|_| EmbeddedKafkaError::Stopped)
    }

    /// Creates a topic with `partitions` partitions (replication factor 1). Creating an
    /// existing topic again does nothing.
    pub fn create_topic(&self, name: &str, partitions: i32) -> Result<(), EmbeddedKafkaError> {
        create_on(&self.commands, name, partitions)
    }
}

impl Drop for EmbeddedKafka {
    fn drop(&mut self) {
        if let Ok(mut registry) = REGISTRY.lock() {
            registry.retain(|(b, _)| *b != self.bootstrap);
        }
        // Closing the channel ends the serving thread, which drops the mock cluster.
        let (closed, _) = mpsc::channel();
        self.commands = closed;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        info!(bootstrap_servers = %self.bootstrap, "embedded Kafka cluster stopped");
    }
}

fn serve(brokers: i32, ready: &Sender<Result<String, String>>, inbox: &Receiver<Command>) {
    let cluster = match MockCluster::new(brokers) {
        Ok(cluster) => cluster,
        Err(e) => {
            let _ = ready.send(Err(e.to_string()));
            return;
        }
    };
    if ready.send(Ok(cluster.bootstrap_servers())).is_err() {
        return;
    }
    while let Ok(command) = inbox.recv() {
        match command {
            Command::RequestErrors { api, errors } => {
                debug!(?api, ?errors, "embedded Kafka: injecting request errors");
                cluster.request_errors(api, &errors);
            }
            Command::CreateTopic {
                name,
                partitions,
                reply,
            } => {
                debug!(topic = %name, partitions, "embedded Kafka: creating topic");
                let result = match cluster.create_topic(&name, partitions, 1) {
                    Ok(()) | Err(KafkaError::MockCluster(RDKafkaErrorCode::TopicAlreadyExists)) => {
                        Ok(())
                    }
                    Err(e) => Err(EmbeddedKafkaError::CreateTopic {
                        topic: name.clone(),
                        reason: e.to_string(),
                    }),
                };
                let _ = reply.send(result);
            }
        }
    }
}

fn create_on(
    commands: &Sender<Command>,
    name: &str,
    partitions: i32,
) -> Result<(), EmbeddedKafkaError> {
    let (reply, answer) = mpsc::channel();
    commands
        .send(Command::CreateTopic {
            name: name.to_string(),
            partitions,
            reply,
        })
        .map_err(|_| EmbeddedKafkaError::Stopped)?;
    answer.recv().map_err(|_| EmbeddedKafkaError::Stopped)?
}

/// Creates a topic if `bootstrap` is an embedded cluster of this process; `None` if it is not.
pub(crate) fn create_if_embedded(
    bootstrap: &str,
    name: &str,
    partitions: i32,
) -> Option<Result<(), EmbeddedKafkaError>> {
    let commands = REGISTRY
        .lock()
        .ok()?
        .iter()
        .find(|(b, _)| b == bootstrap)
        .map(|(_, c)| c.clone())?;
    Some(create_on(&commands, name, partitions))
}
