//! A stream thread: one consumer, one producer, the tasks the group assigns it, and an
//! explicit step loop that reads top to bottom — poll → rebalance → restore → process →
//! punctuate → commit — see [`StreamThread::step`].

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rdkafka::consumer::Consumer;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use tracing::{error, info, warn};

use crate::config::StreamsConfig;
use crate::config::clients as client;
use crate::error::StreamsError;
use crate::processor::TaskId;
use crate::state::StoreContext;
use crate::state::global::{GlobalAccess, GlobalEngines};
use crate::topology::Topology;
use crate::topology::instance::global_store_views;

use super::RuntimeError;
use super::collector::{DeliveryReports, Producer};
use super::consumer::{StreamConsumer, StreamsConsumerContext};
use super::query::{self, QueryJob};
use super::restore::{RestoreConsumer, Restorer, StateRestoreListener};
use super::shutdown_requests;
use super::state::{Shared, ThreadState};
use super::task_manager::{TaskManager, ThreadProducer};
use super::transaction;

/// Records polled per step before processing what is buffered. Well below
/// `buffered.records.per.partition` (1000 by default): a partition whose buffer fills is
/// paused, and librdkafka drops what it prefetched for a paused partition, so a poll burst
/// that fills buffers makes every step refetch (tasks with several inputs ran 5× slower).
const MAX_POLL_RECORDS: usize = 250;

/// The longest an idle stream thread waits in `poll` before answering interactive queries.
const QUERY_POLL_SLICE: Duration = Duration::from_millis(5);

/// What a stream thread needs.
pub(crate) struct ThreadSetup {
    pub(crate) index: usize,
    pub(crate) name: String,
    /// The producer's `transactional.id`, under exactly-once.
    pub(crate) transactional_id: Option<String>,
    pub(crate) topology: Topology,
    pub(crate) config: StreamsConfig,
    pub(crate) topics: Vec<String>,
    pub(crate) shared: Arc<Shared>,
    pub(crate) shutdown: Arc<AtomicBool>,
    /// Interactive queries for this thread's tasks.
    pub(crate) queries: std::sync::mpsc::Receiver<QueryJob>,
    pub(crate) restore_listener: Option<Arc<dyn StateRestoreListener>>,
    /// What to do when the thread fails (default: shut the client down).
    pub(crate) exception_handler: Option<UncaughtExceptionHandler>,
    /// The global stores' engines, if the topology has global stores (restored by then).
    pub(crate) global_engines: Option<GlobalEngines>,
}

/// What to do when a stream thread fails — Kafka Streams'
/// `StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse` (KIP-671).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StreamThreadExceptionResponse {
    /// Start the thread again: new clients, its tasks made again from the committed offsets
    /// (their records since then are processed again; under exactly-once nothing of the failed
    /// attempt is visible). A record that fails every time makes the thread fail every time.
    ReplaceThread,
    /// Shut this instance down: its state goes to `Error` (the default).
    ShutdownClient,
    /// Shut every instance of the application down (those with the same `application.id`
    /// that have an uncaught exception handler): each goes to `Error`, the others with
    /// [`RuntimeError::ShutdownRequested`]. The request travels through the internal topic
    /// `<application.id>-shutdown-requests`.
    ShutdownApplication,
}

/// A handler of stream thread failures (see `KafkaStreams::set_uncaught_exception_handler`).
pub(crate) type UncaughtExceptionHandler =
    Arc<dyn Fn(&RuntimeError) -> StreamThreadExceptionResponse + Send + Sync>;

/// A stream thread's producer; transactional ones track their open transaction.
pub(crate) fn new_producer(
    config: &rdkafka::ClientConfig,
    transactional: bool,
) -> Result<Producer, RuntimeError> {
    let context = if transactional {
        DeliveryReports::transactional()
    } else {
        DeliveryReports::default()
    };
    config
        .create_with_context(context)
        .map_err(|source| RuntimeError::Kafka {
            operation: "creating the producer",
            source,
        })
}

/// Starts a stream thread.
pub(crate) fn spawn(setup: ThreadSetup) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name(setup.name.clone())
        .spawn(move || run(&setup))
}

/// A running stream thread — Kafka Streams' `StreamThread`. It owns its consumer (and through
/// it the group membership), and its [`TaskManager`] (the tasks, the producer, the restorer).
struct StreamThread<'s> {
    setup: &'s ThreadSetup,
    consumer: StreamConsumer,
    tasks: TaskManager,
    /// Records processed in the last step: the next poll does not wait while there is work.
    processed_last: usize,
}

/// The thread's body: runs the step loop until shutdown or an error, then leaves the group
/// and reports how it ended. A failure goes to the uncaught exception handler, which may
/// replace the thread (new clients and tasks, the same index) or shut the client down (the
/// default).
fn run(setup: &ThreadSetup) {
    info!(thread = %setup.name, "stream thread starting");
    let shared = &setup.shared;
    loop {
        let Err(e) = run_once(setup) else {
            break;
        };
        error!(thread = %setup.name, error = %e, "stream thread failed");
        let response = match &setup.exception_handler {
            Some(handler) if !setup.shutdown.load(Ordering::Acquire) => {
                catch_unwind(AssertUnwindSafe(|| handler(&e)))
                    .unwrap_or(StreamThreadExceptionResponse::ShutdownClient)
            }
            _ => StreamThreadExceptionResponse::ShutdownClient,
        };
        match response {
            StreamThreadExceptionResponse::ReplaceThread => {
                warn!(thread = %setup.name, "replacing the failed stream thread");
                shared.set_thread_state(setup.index, ThreadState::Starting);
                continue;
            }
            StreamThreadExceptionResponse::ShutdownClient => {
                shared.fail(e);
                // The whole client shuts down (Kafka Streams' default, SHUTDOWN_CLIENT).
                setup.shutdown.store(true, Ordering::Release);
                break;
            }
            StreamThreadExceptionResponse::ShutdownApplication => {
                let message = shutdown_requests::describe(&e);
                shared.fail(e);
                shutdown_requests::request(&setup.config, &setup.name, &message);
                setup.shutdown.store(true, Ordering::Release);
                break;
            }
        }
    }
    shared.set_thread_state(setup.index, ThreadState::Dead);
    if let Some(m) = shared.lock().metrics.get_mut(setup.index) {
        m.state = ThreadState::Dead;
    }
    info!(thread = %setup.name, "stream thread stopped");
}

/// One life of the thread: its clients and tasks, until shutdown or an error (a panic
/// included).
fn run_once(setup: &ThreadSetup) -> Result<(), RuntimeError> {
    match catch_unwind(AssertUnwindSafe(|| {
        StreamThread::new(setup).and_then(StreamThread::run)
    })) {
        Ok(result) => result,
        Err(panic) => {
            // Its tasks were dropped without a commit while unwinding.
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            Err(RuntimeError::Panic {
                thread: setup.name.clone(),
                message,
            })
        }
    }
}

impl<'s> StreamThread<'s> {
    /// Creates the thread's clients and subscribes to its topics.
    fn new(setup: &'s ThreadSetup) -> Result<Self, RuntimeError> {
        let kafka = |operation| move |source| RuntimeError::Kafka { operation, source };
        let producer_config = client::producer(
            &setup.config,
            &format!("{}-producer", setup.name),
            setup.transactional_id.as_deref(),
        );
        let producer = Arc::new(new_producer(
            &producer_config,
            setup.transactional_id.is_some(),
        )?);
        if setup.transactional_id.is_some() {
            // Fences this thread's previous incarnation and aborts its open transaction.
            transaction::init(&producer, setup.config.api_timeout())
                .map_err(|source| RuntimeError::Transaction { source })?;
        }
        let restore_consumer: RestoreConsumer =
            client::restore_consumer(&setup.config, &format!("{}-restore-consumer", setup.name))
                .create()
                .map_err(kafka("creating the restore consumer"))?;
        // Under exactly-once the restore consumer reads committed records, and the changelogs'
        // ends come from a client that sees uncommitted ones.
        let end_offsets: Option<RestoreConsumer> = if setup.transactional_id.is_some() {
            Some(
                client::end_offsets_consumer(&setup.config, &format!("{}-end-offsets", setup.name))
                    .create()
                    .map_err(kafka("creating the end-offset client"))?,
            )
        } else {
            None
        };
        let restorer = Restorer::new(
            restore_consumer,
            end_offsets,
            setup.restore_listener.clone(),
            setup.config.api_timeout(),
        );
        let mut tasks = TaskManager::new(
            setup.index,
            Arc::from(setup.name.as_str()),
            setup.topology.clone(),
            &setup.config,
            ThreadProducer {
                producer,
                transactional_config: setup.transactional_id.is_some().then_some(producer_config),
            },
            Arc::clone(&setup.shared),
            restorer,
        );
        tasks.stop_waiting_on(Arc::clone(&setup.shutdown));
        if let Some(engines) = &setup.global_engines {
            // Every task of the thread reads the global stores through these handles.
            let access = GlobalAccess {
                engines: engines.clone(),
                writable: false,
            };
            let context = StoreContext::global(
                setup.config.application_id(),
                setup.config.state_dir(),
                access,
            );
            let views =
                global_store_views(&setup.topology, &context).map_err(|e| RuntimeError::Task {
                    task: TaskId::GLOBAL,
                    source: StreamsError::Instantiate {
                        task: TaskId::GLOBAL,
                        reason: e.to_string(),
                    },
                })?;
            tasks.set_global_stores(Rc::new(views));
        }
        let consumer: StreamConsumer =
            client::consumer(&setup.config, &format!("{}-consumer", setup.name))
                .create_with_context(StreamsConsumerContext::default())
                .map_err(kafka("creating the consumer"))?;
        let topics: Vec<&str> = setup.topics.iter().map(String::as_str).collect();
        consumer.subscribe(&topics).map_err(kafka("subscribing"))?;
        Ok(StreamThread {
            setup,
            consumer,
            tasks,
            processed_last: 0,
        })
    }

    /// Steps until shutdown, then closes: a final commit when the loop ended cleanly, the
    /// tasks closed, the group left.
    fn run(mut self) -> Result<(), RuntimeError> {
        let mut result = Ok(());
        while result.is_ok() && !self.setup.shutdown.load(Ordering::Acquire) {
            result = self.step();
        }
        self.setup
            .shared
            .set_thread_state(self.setup.index, ThreadState::PendingShutdown);
        // A rebalance that came with the last poll is handled before the tasks are closed.
        while result.is_ok()
            && let Some(event) = self.consumer.context().take_rebalance()
        {
            result = self.tasks.on_rebalance(event, &self.consumer);
        }
        if result.is_ok() {
            result = self.tasks.commit(&self.consumer).map(|_| ());
        }
        if result.is_err() {
            self.tasks.fail();
        }
        self.tasks
            .publish(&self.consumer, Some(ThreadState::PendingShutdown));
        self.tasks.flush_producer();
        self.tasks.close_all(&self.consumer, true);
        // Leaving the group revokes everything: the tasks are closed, nothing is left to do.
        self.consumer.context().leave();
        drop(self.consumer);
        result
    }

    /// One turn of the loop.
    fn step(&mut self) -> Result<(), RuntimeError> {
        // Poll: records go to their tasks, processed at once or buffered.
        self.poll()?;
        // Rebalance: the group changed the assignment during the poll; revoked tasks are
        // committed and closed, assigned ones created, before librdkafka is told.
        while let Some(event) = self.consumer.context().take_rebalance() {
            self.tasks.on_rebalance(event, &self.consumer)?;
        }
        // Restore: new tasks read their stores back from their changelogs, a slice at a time.
        let restoring = self.tasks.restore(&self.consumer)?;
        // Process what is buffered, lowest timestamp first.
        let processed = self.tasks.process(&self.consumer)?;
        // Punctuate by wall-clock time (stream-time punctuations fire as records go by).
        let commit_requested = self.tasks.punctuate()?;
        // Commit: delivery reports are served on every turn, a commit whose records are all
        // acknowledged commits its offsets, and a new one starts when due or asked for.
        let now = Instant::now();
        self.tasks.serve_deliveries(&self.consumer)?;
        self.tasks.finish_commit(&self.consumer)?;
        if commit_requested || self.tasks.commit_due(now) {
            self.tasks.begin_commit(&self.consumer)?;
        }
        query::serve(&self.setup.queries, self.tasks.tasks());
        self.tasks.publish_if_due(&self.consumer, now);
        // While restoring, report work done so that the next poll does not wait.
        self.processed_last = processed.max(usize::from(restoring));
        Ok(())
    }

    /// Polls up to [`MAX_POLL_RECORDS`] records into their tasks. Waits for records only when
    /// there is no other work, in slices that let interactive queries through.
    fn poll(&mut self) -> Result<(), RuntimeError> {
        let poll = self.setup.config.poll_interval();
        let mut timeout = if self.processed_last > 0 {
            Duration::ZERO
        } else if self.tasks.has_buffered() {
            Duration::from_millis(1).min(poll)
        } else {
            poll
        };
        for _ in 0..MAX_POLL_RECORDS {
            match poll_serving_queries(&self.consumer, timeout, &self.setup.queries, &self.tasks) {
                None => break,
                Some(Ok(message)) => self.tasks.add(&message, &self.consumer)?,
                Some(Err(e)) => on_poll_error(e)?,
            }
            timeout = Duration::ZERO;
        }
        Ok(())
    }
}

/// `consumer.poll(timeout)` in slices of at most [`QUERY_POLL_SLICE`], answering waiting
/// interactive queries between them (librdkafka's poll cannot be woken up from outside). Like
/// `poll`, returns `None` early when a slice returns early without a message (it consumed an
/// event: a rebalance, a commit).
fn poll_serving_queries<'c>(
    consumer: &'c StreamConsumer,
    timeout: Duration,
    queries: &std::sync::mpsc::Receiver<QueryJob>,
    tasks: &TaskManager,
) -> Option<rdkafka::error::KafkaResult<rdkafka::message::BorrowedMessage<'c>>> {
    if timeout.is_zero() {
        // The busy path (one call per record): no clock reads of our own.
        return consumer.poll(Duration::ZERO);
    }
    let deadline = Instant::now() + timeout;
    loop {
        let started = Instant::now();
        let slice = deadline
            .saturating_duration_since(started)
            .min(QUERY_POLL_SLICE);
        let polled = consumer.poll(slice);
        if polled.is_some() || started.elapsed() < slice || slice < QUERY_POLL_SLICE {
            return polled;
        }
        query::serve(queries, tasks.tasks());
    }
}

/// A consumer error: fatal ones stop the thread, others are logged (librdkafka retries).
fn on_poll_error(e: KafkaError) -> Result<(), RuntimeError> {
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
        Err(RuntimeError::Kafka {
            operation: "consuming",
            source: e,
        })
    } else {
        warn!(error = %e, "consumer error");
        Ok(())
    }
}
