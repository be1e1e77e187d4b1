//! `KafkaStreams`: runs a topology on a Kafka cluster with `num.stream.threads` threads.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tracing::{info, warn};

use crate::config::StreamsConfig;
use crate::kafka::admin::Admin;
use crate::topology::Topology;

use super::global_thread::{self, GlobalPhase, GlobalSetup, GlobalStatus};
use super::metrics::{StreamsMetrics, ThreadMetrics};
use super::query::{GlobalQueries, QueryRouter};
use super::restore::StateRestoreListener;
use super::state::{Shared, StreamsState, ThreadState};
use super::stream_thread::{
    self, StreamThreadExceptionResponse, ThreadSetup, UncaughtExceptionHandler,
};
use super::{GlobalThreadError, RuntimeError, StartError, shutdown_requests, topics};
use crate::kafka::admin::TopicSpec;
use crate::state::global::GlobalEngines;

/// A running streams application instance — Kafka Streams' `KafkaStreams`.
///
/// [`new`](Self::new) takes a topology and a config; [`start`](Self::start) checks the
/// topics (missing sources, co-partitioning, internal topics to create) and starts
/// `num.stream.threads` stream threads, which join the consumer group `application.id` and
/// run one task per (sub-topology, input partition) they are assigned. Start several
/// instances with the same `application.id` to share the work. [`close`](Self::close)
/// commits and stops.
///
/// ```no_run
/// use std::time::Duration;
/// use streams_core::codec::Utf8;
/// use streams_core::config::StreamsConfig;
/// use streams_core::runtime::KafkaStreams;
/// use streams_core::topology::TopologyBuilder;
///
/// let mut builder = TopologyBuilder::new();
/// builder
///     .add_source("in", ["input"], Utf8, Utf8)
///     .add_sink("out", "output", Utf8, Utf8, ["in"]);
/// let config = StreamsConfig::builder()
///     .application_id("copy")
///     .bootstrap_servers("localhost:9092")
///     .build()?;
/// let streams = KafkaStreams::new(builder.build()?, config)?;
/// streams.set_state_listener(|new, old| println!("{old:?} -> {new:?}"))?;
/// streams.start()?;
/// // ... until asked to stop:
/// streams.close(Duration::from_secs(30));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct KafkaStreams {
    topology: Topology,
    config: StreamsConfig,
    client_id: String,
    shared: Arc<Shared>,
    shutdown: Arc<AtomicBool>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    /// Watches for other instances' requests to shut the application down (only with an
    /// uncaught exception handler).
    shutdown_listener: Mutex<Option<JoinHandle<()>>>,
    /// Sends interactive queries to the stream threads.
    pub(super) queries: Arc<QueryRouter>,
    restore_listener: Mutex<Option<Arc<dyn StateRestoreListener>>>,
    exception_handler: Mutex<Option<UncaughtExceptionHandler>>,
    /// The lock on `<state.dir>/<application.id>/.lock`, held until the instance is closed
    /// (when the topology has persistent stores, or under exactly-once).
    state_lock: Mutex<Option<std::fs::File>>,
    /// `<application.id>-<process id>` under exactly-once: thread `n`'s producer's
    /// `transactional.id` is `<prefix>-<n>`.
    transactional_prefix: Option<String>,
    /// The engines of the global stores, shared by the global thread, the stream threads and
    /// interactive queries (empty without global stores).
    engines: GlobalEngines,
    global_status: Arc<GlobalStatus>,
    /// The global stream thread, if the topology has global stores.
    global_thread: Mutex<Option<JoinHandle<()>>>,
}

/// Locks the application's state directory, so that two instances cannot share it.
/// The process id kept in `dir` (Kafka Streams' `kafka-streams-process-metadata`), made and
/// stored on first use: a restarted instance gets the same transactional ids, so its producers
/// fence the previous incarnation's and abort its open transactions at once.
fn stored_process_id(dir: &std::path::Path) -> std::io::Result<String> {
    let file = dir.join("kafka-streams-process-metadata");
    if let Ok(text) = std::fs::read_to_string(&file)
        && let Some(id) = text
            .split('"')
            .skip_while(|part| *part != "processId")
            .nth(2)
            .filter(|id| !id.is_empty())
    {
        return Ok(id.to_string());
    }
    let id = random_uuid();
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join("kafka-streams-process-metadata.tmp");
    std::fs::write(&tmp, format!("{{\"version\":1,\"processId\":\"{id}\"}}"))?;
    std::fs::rename(&tmp, &file)?;
    Ok(id)
}

/// A random (version 4) UUID, from the standard library's per-process random keys and the
/// clock.
fn random_uuid() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut bytes = [0u8; 16];
    for (i, chunk) in bytes.chunks_mut(8).enumerate() {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        h.write_usize(i);
        h.write_u32(std::process::id());
        chunk.copy_from_slice(&h.finish().to_be_bytes());
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

fn lock_state_dir(config: &StreamsConfig) -> Result<std::fs::File, StartError> {
    let dir = config.state_dir().join(config.application_id());
    let failed = |source: std::io::Error| StartError::StateDir {
        path: dir.clone(),
        source,
    };
    std::fs::create_dir_all(&dir).map_err(failed)?;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(".lock"))
        .map_err(failed)?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(StartError::StateDirLocked { path: dir }),
        Err(std::fs::TryLockError::Error(e)) => Err(failed(e)),
    }
}

impl std::fmt::Debug for KafkaStreams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaStreams")
            .field("application_id", &self.config.application_id())
            .field("client_id", &self.client_id)
            .field("state", &self.state())
            .finish_non_exhaustive()
    }
}

/// A process-unique id for default client ids, like Kafka Streams' process UUID.
fn process_id() -> String {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "{:x}{:08x}-{}",
        std::process::id(),
        nanos,
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

impl KafkaStreams {
    /// An instance in state [`StreamsState::Created`]; nothing connects to Kafka yet.
    ///
    /// If the topology has persistent stores, the instance locks its state directory
    /// `<state.dir>/<application.id>` until it is closed (or dropped): a second instance on the same
    /// directory gets [`StartError::StateDirLocked`].
    pub fn new(topology: Topology, config: StreamsConfig) -> Result<Self, StartError> {
        let topology = topology.for_application(config.application_id());
        let client_id = match config.client_id() {
            Some(id) if !id.is_empty() => id.to_string(),
            _ => format!("{}-{}", config.application_id(), process_id()),
        };
        let persistent = topology.stores().iter().any(|s| s.builder.persistent());
        let exactly_once = config.processing_guarantee().is_exactly_once();
        // Under exactly-once the state directory also keeps the process id the transactional
        // ids are made of, so the directory is this instance's alone.
        let state_lock = if persistent || exactly_once {
            Some(lock_state_dir(&config)?)
        } else {
            None
        };
        let transactional_prefix = if exactly_once {
            let dir = config.state_dir().join(config.application_id());
            let id = stored_process_id(&dir).map_err(|source| StartError::StateDir {
                path: dir.clone(),
                source,
            })?;
            Some(format!("{}-{id}", config.application_id()))
        } else {
            None
        };
        let shared = Arc::new(Shared::new());
        let engines = GlobalEngines::default();
        let global_status = Arc::new(GlobalStatus::default());
        let global_queries =
            topology
                .global_store_names()
                .next()
                .is_some()
                .then(|| GlobalQueries {
                    topology: topology.clone(),
                    application_id: config.application_id().to_string(),
                    state_dir: config.state_dir().to_path_buf(),
                    engines: engines.clone(),
                    status: Arc::clone(&global_status),
                });
        let queries = Arc::new(
            QueryRouter::for_topology(Arc::clone(&shared), &topology, config.api_timeout())
                .with_global(global_queries),
        );
        Ok(KafkaStreams {
            restore_listener: Mutex::new(None),
            exception_handler: Mutex::new(None),
            state_lock: Mutex::new(state_lock),
            transactional_prefix,
            topology,
            config,
            client_id,
            shared,
            queries,
            shutdown: Arc::new(AtomicBool::new(false)),
            threads: Mutex::new(Vec::new()),
            shutdown_listener: Mutex::new(None),
            engines,
            global_status,
            global_thread: Mutex::new(None),
        })
    }

    /// The current state.
    pub fn state(&self) -> StreamsState {
        self.shared.state()
    }

    /// Calls `listener(new_state, old_state)` on every state change, on the thread that made
    /// it. Only before [`start`](Self::start). The listener must not call
    /// [`close`](Self::close).
    pub fn set_state_listener(
        &self,
        listener: impl Fn(StreamsState, StreamsState) + Send + Sync + 'static,
    ) -> Result<(), StartError> {
        let state = self.state();
        if state != StreamsState::Created {
            return Err(StartError::IllegalState {
                operation: "set a state listener",
                state,
            });
        }
        self.shared.set_listener(Box::new(listener));
        Ok(())
    }

    /// Sets what happens when a stream thread fails — Kafka Streams'
    /// `setUncaughtExceptionHandler` (KIP-671): the handler sees the error and answers
    /// [`StreamThreadExceptionResponse::ReplaceThread`] (the thread starts again, its tasks from
    /// the committed offsets), [`StreamThreadExceptionResponse::ShutdownClient`] (this
    /// instance shuts down and its state becomes [`Error`](StreamsState::Error), the default
    /// without a handler) or [`StreamThreadExceptionResponse::ShutdownApplication`] (every
    /// instance of the application does). Only before [`start`](Self::start).
    ///
    /// The handler is not asked about the global stream thread (global stores): its failure
    /// always shuts the client down, as Kafka Streams cannot replace a global thread either.
    ///
    /// With a handler, the instance creates the internal topic
    /// `<application.id>-shutdown-requests` (one partition) at start and watches it: Kafka
    /// Streams sends `ShutdownApplication` through its group protocol, which librdkafka cannot
    /// extend, so the request travels there. Instances without a handler do not watch it.
    ///
    /// ```no_run
    /// # use streams_core::runtime::{KafkaStreams, RuntimeError, StreamThreadExceptionResponse};
    /// # fn set(streams: &KafkaStreams) -> Result<(), streams_core::runtime::StartError> {
    /// streams.set_uncaught_exception_handler(|error: &RuntimeError| {
    ///     match error {
    ///         // A thread that lost its broker connection for good can start over.
    ///         RuntimeError::Kafka { .. } => StreamThreadExceptionResponse::ReplaceThread,
    ///         _ => StreamThreadExceptionResponse::ShutdownClient,
    ///     }
    /// })
    /// # }
    /// ```
    pub fn set_uncaught_exception_handler(
        &self,
        handler: impl Fn(&RuntimeError) -> StreamThreadExceptionResponse + Send + Sync + 'static,
    ) -> Result<(), StartError> {
        let state = self.state();
        if state != StreamsState::Created {
            return Err(StartError::IllegalState {
                operation: "set an uncaught exception handler",
                state,
            });
        }
        *self
            .exception_handler
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(handler));
        Ok(())
    }

    /// Sets the listener told about state restoration (start, each batch, end, per changelog
    /// partition, and per partition of a global store's topic) — Kafka Streams'
    /// `setGlobalStateRestoreListener`. Only before [`start`](Self::start).
    pub fn set_global_state_restore_listener(
        &self,
        listener: impl StateRestoreListener + 'static,
    ) -> Result<(), StartError> {
        let state = self.state();
        if state != StreamsState::Created {
            return Err(StartError::IllegalState {
                operation: "set a restore listener",
                state,
            });
        }
        *self
            .restore_listener
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(listener));
        Ok(())
    }

    /// Checks the cluster's topics against the topology, creates the internal topics, and
    /// starts the stream threads. Returns once they are started; they then join the group
    /// (state [`Rebalancing`](StreamsState::Rebalancing), then
    /// [`Running`](StreamsState::Running)).
    ///
    /// With global stores (`GlobalKTable`s), the global stream thread starts first and `start`
    /// waits until it has restored every global store up to its topic's end (state
    /// `Rebalancing` meanwhile), as Kafka Streams' `start` does; if that fails, `start` returns
    /// [`StartError::GlobalThread`] and the state is [`Error`](StreamsState::Error).
    ///
    /// Fails within `default.api.timeout.ms` if no broker answers.
    pub fn start(&self) -> Result<(), StartError> {
        let state = self.state();
        if state != StreamsState::Created {
            return Err(StartError::IllegalState {
                operation: "start",
                state,
            });
        }
        info!(application_id = self.config.application_id(), client_id = %self.client_id,
            "starting; StreamsConfig values:\n{}", self.config);
        let admin = Admin::new(&self.config, &format!("{}-admin", self.client_id))?;
        let existing = admin.partition_counts()?;
        let plan = topics::plan(&self.topology, self.config.application_id(), &existing)?;
        for sink in &plan.missing_sinks {
            warn!(topic = %sink, "output topic does not exist (yet); records written to it \
                will fail unless the broker creates topics automatically");
        }
        admin.create_topics(&plan.create)?;
        let handler = self
            .exception_handler
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if handler.is_some() {
            // Any thread may ask the whole application to shut down: watch for requests.
            let topic = shutdown_requests::topic(self.config.application_id());
            if !existing.contains_key(&topic) {
                admin.create_topics(&[TopicSpec::new(&topic, 1)])?;
            }
            let listener = shutdown_requests::listen(
                &self.config,
                &self.client_id,
                Arc::clone(&self.shared),
                Arc::clone(&self.shutdown),
            )?;
            *self
                .shutdown_listener
                .lock()
                .unwrap_or_else(|p| p.into_inner()) = Some(listener);
        }
        drop(admin);

        if !self.shared.transition(StreamsState::Rebalancing) {
            return Err(StartError::IllegalState {
                operation: "start",
                state: self.state(),
            });
        }
        let restore_listener = self
            .restore_listener
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let has_global = self.topology.global_store_names().next().is_some();
        if has_global && !self.start_global_thread(restore_listener.clone())? {
            // Closed while the global stores were restoring.
            return Ok(());
        }

        let threads = self.config.num_stream_threads();
        self.shared.update(|inner| {
            inner.threads = vec![ThreadState::Starting; threads];
            inner.metrics = (1..=threads)
                .map(|n| ThreadMetrics::new(self.thread_name(n)))
                .collect();
        });
        let mut handles = self.threads.lock().unwrap_or_else(|p| p.into_inner());
        for n in 1..=threads {
            let setup = ThreadSetup {
                index: n - 1,
                name: self.thread_name(n),
                transactional_id: self
                    .transactional_prefix
                    .as_ref()
                    .map(|prefix| format!("{prefix}-{n}")),
                topology: self.topology.clone(),
                config: self.config.clone(),
                topics: plan.subscribe.clone(),
                shared: Arc::clone(&self.shared),
                shutdown: Arc::clone(&self.shutdown),
                queries: self.queries.add_thread(),
                restore_listener: restore_listener.clone(),
                exception_handler: handler.clone(),
                global_engines: has_global.then(|| self.engines.clone()),
            };
            match stream_thread::spawn(setup) {
                Ok(handle) => handles.push(handle),
                Err(e) => {
                    self.shutdown.store(true, Ordering::Release);
                    self.shared.update(|inner| {
                        for t in inner.threads.iter_mut().skip(n - 1) {
                            *t = ThreadState::Dead;
                        }
                    });
                    return Err(StartError::Spawn { source: e });
                }
            }
        }
        Ok(())
    }

    /// Starts the global stream thread and waits until it has restored the global stores:
    /// `Ok(true)` then, `Ok(false)` if the instance was closed meanwhile.
    fn start_global_thread(
        &self,
        restore_listener: Option<Arc<dyn StateRestoreListener>>,
    ) -> Result<bool, StartError> {
        let setup = GlobalSetup {
            name: format!("{}-GlobalStreamThread", self.client_id),
            client_id: self.client_id.clone(),
            topology: self.topology.clone(),
            config: self.config.clone(),
            engines: self.engines.clone(),
            shared: Arc::clone(&self.shared),
            shutdown: Arc::clone(&self.shutdown),
            status: Arc::clone(&self.global_status),
            restore_listener,
        };
        {
            // Held while spawning: a concurrent `close` finds the thread to join.
            let mut slot = self.global_thread.lock().unwrap_or_else(|p| p.into_inner());
            let handle = global_thread::spawn(setup).map_err(|source| {
                self.shutdown.store(true, Ordering::Release);
                StartError::Spawn { source }
            })?;
            *slot = Some(handle);
        }
        match self.global_status.wait_past_restoring(None) {
            GlobalPhase::Running => Ok(true),
            GlobalPhase::Failed => {
                let source = self.shared.lock().error.clone().unwrap_or_else(|| {
                    Arc::new(RuntimeError::GlobalThread {
                        thread: format!("{}-GlobalStreamThread", self.client_id),
                        source: Box::new(GlobalThreadError::Panic {
                            message: "failed without an error".to_string(),
                        }),
                    })
                });
                Err(StartError::GlobalThread { source })
            }
            GlobalPhase::Restoring | GlobalPhase::Stopped => Ok(false),
        }
    }

    fn thread_name(&self, n: usize) -> String {
        format!("{}-StreamThread-{n}", self.client_id)
    }

    /// Commits and stops every stream thread, waiting at most `timeout`. Returns `true` if
    /// all stopped in time (state [`NotRunning`](StreamsState::NotRunning), or
    /// [`Error`](StreamsState::Error) after a failure), `false` if some are still stopping.
    #[must_use = "`false` means some stream threads were still stopping at the timeout"]
    pub fn close(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        if self.state() == StreamsState::Created {
            self.shared.transition(StreamsState::PendingShutdown);
            self.shared.transition(StreamsState::NotRunning);
            return true;
        }
        self.shared.transition(StreamsState::PendingShutdown);
        self.shutdown.store(true, Ordering::Release);
        let stopped = self.shared.wait_until(deadline, |inner| {
            inner.threads.iter().all(|t| *t == ThreadState::Dead)
        });
        if !stopped {
            warn!(?timeout, "stream threads did not stop in time");
            return false;
        }
        let handles: Vec<_> = self
            .threads
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
            .collect();
        let listener = self
            .shutdown_listener
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        for handle in handles.into_iter().chain(listener) {
            let _ = handle.join();
        }
        // The global thread goes after the stream threads, whose tasks read its stores until
        // they are closed; then the stores.
        let global = self
            .global_thread
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(handle) = global {
            if !self.global_status.wait_ended(deadline) {
                warn!(?timeout, "the global stream thread did not stop in time");
                *self.global_thread.lock().unwrap_or_else(|p| p.into_inner()) = Some(handle);
                return false;
            }
            let _ = handle.join();
        }
        if let Err(e) = self.engines.close_all() {
            warn!(error = %e, "closing the global stores failed");
        }
        // The threads are gone: another instance may use the state directory now.
        self.state_lock
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        self.shared.transition(StreamsState::NotRunning);
        info!(state = ?self.state(), "closed");
        true
    }

    /// Waits until the state is `state`, or the timeout; returns whether it got there. Stops
    /// waiting early if the instance reaches [`NotRunning`](StreamsState::NotRunning) or
    /// [`Error`](StreamsState::Error) instead.
    #[must_use = "`false` means the state was not reached in time"]
    pub fn wait_for_state(&self, state: StreamsState, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        self.shared.wait_until(deadline, |inner| {
            inner.state == state
                || matches!(inner.state, StreamsState::NotRunning | StreamsState::Error)
        });
        self.state() == state
    }

    /// What made a stream thread fail, if one did.
    pub fn error(&self) -> Option<Arc<RuntimeError>> {
        self.shared.lock().error.clone()
    }

    /// The latest metrics of every stream thread.
    pub fn metrics(&self) -> StreamsMetrics {
        StreamsMetrics {
            threads: self.shared.lock().metrics.clone(),
        }
    }

    /// The application's config.
    pub fn config(&self) -> &StreamsConfig {
        &self.config
    }
}

impl Drop for KafkaStreams {
    fn drop(&mut self) {
        if !matches!(
            self.state(),
            StreamsState::Created | StreamsState::NotRunning | StreamsState::Error
        ) && !self.close(self.config.api_timeout())
        {
            tracing::warn!("dropped while stream threads were still stopping");
        }
    }
}
