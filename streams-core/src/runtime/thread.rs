//! A stream thread: one consumer, one producer, the tasks the group assigns it, and an
//! explicit step loop — poll → route records to tasks → process → punctuate → commit when due.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use rdkafka::consumer::Consumer;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use tracing::{error, info, warn};

use crate::config::StreamsConfig;
use crate::kafka::client;
use crate::topology::Topology;

use super::RuntimeError;
use super::collector::{DeliveryReports, Producer};
use super::consumer::{StreamConsumer, StreamsConsumerContext};
use super::restore::{RestoreConsumer, Restorer, StateRestoreListener};
use super::state::{Shared, StreamsState, ThreadState};
use super::task_manager::{self, TaskManager, with_task_manager};

/// Records polled per step before processing what is buffered. Well below
/// `buffered.records.per.partition` (1000 by default): a partition whose buffer fills is
/// paused, and librdkafka drops what it prefetched for a paused partition, so a poll burst
/// that fills buffers makes every step refetch (tasks with several inputs ran 5× slower).
const MAX_POLL_RECORDS: usize = 250;

/// What a stream thread needs.
pub(crate) struct ThreadSetup {
    pub(crate) index: usize,
    pub(crate) name: String,
    pub(crate) topology: Topology,
    pub(crate) config: StreamsConfig,
    pub(crate) topics: Vec<String>,
    pub(crate) shared: Arc<Shared>,
    pub(crate) shutdown: Arc<AtomicBool>,
    /// Interactive queries for this thread's tasks.
    pub(crate) queries: std::sync::mpsc::Receiver<super::query::QueryJob>,
    pub(crate) restore_listener: Option<Arc<dyn StateRestoreListener>>,
}

/// Starts a stream thread.
pub(crate) fn spawn(setup: ThreadSetup) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name(setup.name.clone())
        .spawn(move || run(&setup))
}

fn run(setup: &ThreadSetup) {
    info!(thread = %setup.name, "stream thread starting");
    let result = match catch_unwind(AssertUnwindSafe(|| run_inner(setup))) {
        Ok(result) => result,
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            // Its tasks were closed without a commit while unwinding; drop what is left.
            drop(task_manager::uninstall());
            Err(RuntimeError::Panic {
                thread: setup.name.clone(),
                message,
            })
        }
    };
    let shared = &setup.shared;
    if let Err(e) = result {
        error!(thread = %setup.name, error = %e, "stream thread failed");
        shared.update(|inner| {
            if inner.error.is_none() {
                inner.error = Some(Arc::new(e));
            }
            if inner.state.can_transition_to(StreamsState::PendingError) {
                inner.state = StreamsState::PendingError;
            }
        });
        // Kafka Streams' default: a failed thread shuts the whole client down.
        setup.shutdown.store(true, Ordering::Release);
    }
    shared.set_thread_state(setup.index, ThreadState::Dead);
    if let Some(m) = shared.lock().metrics.get_mut(setup.index) {
        m.state = ThreadState::Dead;
    }
    info!(thread = %setup.name, "stream thread stopped");
}

fn kafka_error(operation: &str, e: &KafkaError) -> RuntimeError {
    RuntimeError::Kafka {
        operation: operation.to_string(),
        reason: e.to_string(),
    }
}

fn run_inner(setup: &ThreadSetup) -> Result<(), RuntimeError> {
    let producer: Producer = client::producer(&setup.config, &format!("{}-producer", setup.name))
        .create_with_context(DeliveryReports::default())
        .map_err(|e| kafka_error("creating the producer", &e))?;
    let producer = Arc::new(producer);
    let restore_consumer: RestoreConsumer =
        client::restore_consumer(&setup.config, &format!("{}-restore-consumer", setup.name))
            .create()
            .map_err(|e| kafka_error("creating the restore consumer", &e))?;
    let restorer = Restorer::new(
        restore_consumer,
        setup.restore_listener.clone(),
        setup.config.api_timeout(),
    );
    task_manager::install(TaskManager::new(
        setup.index,
        Arc::from(setup.name.as_str()),
        setup.topology.clone(),
        &setup.config,
        Arc::clone(&producer),
        Arc::clone(&setup.shared),
        restorer,
    ));
    let consumer: StreamConsumer =
        match client::consumer(&setup.config, &format!("{}-consumer", setup.name))
            .create_with_context(StreamsConsumerContext::default())
        {
            Ok(c) => c,
            Err(e) => {
                task_manager::uninstall();
                return Err(kafka_error("creating the consumer", &e));
            }
        };
    let topics: Vec<&str> = setup.topics.iter().map(String::as_str).collect();
    let mut result = consumer
        .subscribe(&topics)
        .map_err(|e| kafka_error("subscribing", &e));
    if result.is_ok() {
        result = step_loop(&consumer, setup);
    }
    setup
        .shared
        .set_thread_state(setup.index, ThreadState::PendingShutdown);
    match &result {
        Ok(()) => {
            // Clean shutdown: commit what was processed.
            if let Some(Err(e)) = with_task_manager(|tm| tm.commit(&consumer)) {
                result = Err(e);
            }
        }
        Err(_) => {
            with_task_manager(|tm| tm.failed = true);
        }
    }
    if result.is_err() {
        with_task_manager(|tm| tm.failed = true);
    }
    with_task_manager(|tm| tm.publish(&consumer, Some(ThreadState::PendingShutdown)));
    // Leaving the group runs the revocation callback, which closes the tasks.
    drop(consumer);
    if let Some(mut tm) = task_manager::uninstall() {
        if !tm.failed {
            tm.flush_producer();
        }
        tm.close_all();
    }
    result
}

fn step_loop(consumer: &StreamConsumer, setup: &ThreadSetup) -> Result<(), RuntimeError> {
    let poll = setup.config.poll_interval();
    let mut processed_last = 0;
    while !setup.shutdown.load(Ordering::Acquire) {
        let buffered = with_task_manager(|tm| tm.has_buffered()).unwrap_or(false);
        let mut timeout = if processed_last > 0 {
            Duration::ZERO
        } else if buffered {
            Duration::from_millis(1).min(poll)
        } else {
            poll
        };
        for _ in 0..MAX_POLL_RECORDS {
            match poll_serving_queries(consumer, timeout, &setup.queries) {
                None => break,
                Some(Ok(message)) => {
                    if let Some(Err(e)) = with_task_manager(|tm| tm.add(&message, consumer)) {
                        return Err(e);
                    }
                }
                Some(Err(e)) => on_poll_error(&e)?,
            }
            timeout = Duration::ZERO;
        }
        processed_last = with_task_manager(|tm| tm.step(consumer)).unwrap_or(Ok(0))?;
        super::query::serve(&setup.queries);
    }
    Ok(())
}

/// The longest an idle stream thread waits in `poll` before answering interactive queries.
const QUERY_POLL_SLICE: Duration = Duration::from_millis(5);

/// `consumer.poll(timeout)` in slices of at most [`QUERY_POLL_SLICE`], answering waiting
/// interactive queries between them (librdkafka's poll cannot be woken up from outside). Like
/// `poll`, returns `None` early when a slice returns early without a message (it consumed an
/// event: a rebalance, a commit).
fn poll_serving_queries<'c>(
    consumer: &'c StreamConsumer,
    timeout: Duration,
    queries: &std::sync::mpsc::Receiver<super::query::QueryJob>,
) -> Option<rdkafka::error::KafkaResult<rdkafka::message::BorrowedMessage<'c>>> {
    if timeout.is_zero() {
        // The busy path (one call per record): no clock reads of our own.
        return consumer.poll(Duration::ZERO);
    }
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let started = std::time::Instant::now();
        let slice = deadline
            .saturating_duration_since(started)
            .min(QUERY_POLL_SLICE);
        let polled = consumer.poll(slice);
        if polled.is_some() || started.elapsed() < slice || slice < QUERY_POLL_SLICE {
            return polled;
        }
        super::query::serve(queries);
    }
}

fn on_poll_error(e: &KafkaError) -> Result<(), RuntimeError> {
    let fatal = matches!(
        e.rdkafka_error_code(),
        Some(
            RDKafkaErrorCode::UnknownTopicOrPartition
                | RDKafkaErrorCode::UnknownTopic
                | RDKafkaErrorCode::TopicAuthorizationFailed
                | RDKafkaErrorCode::GroupAuthorizationFailed
                | RDKafkaErrorCode::Fatal
        )
    );
    if fatal {
        Err(kafka_error("consuming", e))
    } else {
        warn!(error = %e, "consumer error");
        Ok(())
    }
}
