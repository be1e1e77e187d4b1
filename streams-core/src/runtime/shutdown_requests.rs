//! Shutting the whole application down ([`ShutdownApplication`]): a failing instance asks
//! every instance with the same `application.id` to stop.
//!
//! Kafka Streams carries the request in its consumer group's assignment protocol, which
//! librdkafka does not let an application extend. Here it travels through an internal topic,
//! `<application.id>-shutdown-requests` (one partition), created at start by every instance
//! that has an uncaught exception handler. Each such instance watches the topic from where its
//! end was when it started: a record there — key: the requesting thread, value: its error —
//! stops the instance in [`Error`](super::StreamsState::Error). Requests older than an
//! instance do not concern it, as in Kafka Streams, where only the members of the group at
//! the time of the request shut down.
//!
//! [`ShutdownApplication`]: super::StreamThreadExceptionResponse::ShutdownApplication

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use rdkafka::ClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer as _, ProducerContext};
use rdkafka::{Offset, TopicPartitionList};
use tracing::{error, info, warn};

use crate::config::StreamsConfig;
use crate::config::clients;

use super::state::Shared;
use super::{RuntimeError, StartError};

/// The internal topic the requests travel through.
pub(crate) fn topic(application_id: &str) -> String {
    format!("{application_id}-shutdown-requests")
}

/// How long the listener's poll blocks, so it sees `close()` soon.
const POLL: Duration = Duration::from_millis(100);

/// Starts watching for requests, from the topic's current end: returns the listening thread,
/// which ends when `shutdown` is set (by `close()`, a failure, or a request it received).
pub(crate) fn listen(
    config: &StreamsConfig,
    client_id: &str,
    shared: Arc<Shared>,
    shutdown: Arc<AtomicBool>,
) -> Result<JoinHandle<()>, StartError> {
    let topic = topic(config.application_id());
    let kafka = |operation| move |source| StartError::Kafka { operation, source };
    let mut c = clients::restore_consumer(config, &format!("{client_id}-shutdown-listener"));
    // An idle topic: no prefetching.
    c.set("queued.min.messages", "1")
        .set("isolation.level", "read_uncommitted");
    let consumer: BaseConsumer = c
        .create()
        .map_err(kafka("creating the shutdown request listener"))?;
    let (_, end) = consumer
        .fetch_watermarks(&topic, 0, config.api_timeout())
        .map_err(kafka("reading the end of the shutdown request topic"))?;
    let mut assignment = TopicPartitionList::new();
    assignment
        .add_partition_offset(&topic, 0, Offset::Offset(end))
        .map_err(kafka("assigning the shutdown request topic"))?;
    consumer
        .assign(&assignment)
        .map_err(kafka("assigning the shutdown request topic"))?;
    std::thread::Builder::new()
        .name(format!("{client_id}-shutdown-listener"))
        .spawn(move || watch(&consumer, &shared, &shutdown))
        .map_err(|source| StartError::Spawn { source })
}

fn watch(consumer: &BaseConsumer, shared: &Shared, shutdown: &AtomicBool) {
    while !shutdown.load(Ordering::Acquire) {
        match consumer.poll(POLL) {
            None => {}
            Some(Err(e)) => warn!(error = %e, "reading shutdown requests failed; retrying"),
            Some(Ok(message)) => {
                let text = |bytes: Option<&[u8]>| {
                    String::from_utf8_lossy(bytes.unwrap_or_default()).into_owned()
                };
                let requested_by = text(message.key());
                let message = text(message.payload());
                error!(%requested_by, error = %message,
                    "another instance asked the application to shut down: shutting down");
                shared.fail(RuntimeError::ShutdownRequested {
                    requested_by,
                    message,
                });
                shutdown.store(true, Ordering::Release);
            }
        }
    }
}

/// What a request says about `error`: its message and its causes, one per line.
pub(crate) fn describe(error: &RuntimeError) -> String {
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(e) = source {
        message.push_str("\ncaused by: ");
        message.push_str(&e.to_string());
        source = e.source();
    }
    message
}

/// Asks every instance of the application to shut down because thread `thread` failed
/// ([`describe`]d by `message`). Waits at most `default.api.timeout.ms` for the request to be
/// written; a request that cannot be written is logged (this instance shuts down anyway).
pub(crate) fn request(config: &StreamsConfig, thread: &str, message: &str) {
    let topic = topic(config.application_id());
    let sent = clients::producer(config, &format!("{thread}-shutdown-request"), None)
        .create_with_context::<_, BaseProducer<Delivery>>(Delivery::default())
        .and_then(|producer| {
            producer
                .send(BaseRecord::to(&topic).key(thread).payload(message))
                .map_err(|(e, _)| e)?;
            producer.flush(config.api_timeout())?;
            let outcome = producer
                .context()
                .0
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take();
            outcome.unwrap_or(Err(KafkaError::Canceled))
        });
    match sent {
        Ok(()) => info!(%topic, "asked every instance of the application to shut down"),
        Err(e) => error!(%topic, error = %e,
            "could not ask the other instances to shut down; only this one does"),
    }
}

/// The outcome of the request's delivery.
#[derive(Default)]
struct Delivery(Mutex<Option<Result<(), KafkaError>>>);

impl ClientContext for Delivery {}

impl ProducerContext for Delivery {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        let outcome = result.as_ref().map(|_| ()).map_err(|(e, _)| e.clone());
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(outcome);
    }
}
