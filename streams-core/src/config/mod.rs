//! `StreamsConfig`: an application's settings, with Kafka Streams' names.
//!
//! Settings come from code ([`StreamsConfig::builder`]), from (key, value) pairs
//! ([`StreamsConfig::from_properties`]) or from a Java-style properties file
//! ([`StreamsConfig::from_file`]). Every key and value is checked when the config is built: an
//! unknown key, a bad value or a key this runtime does not implement yet is a [`ConfigError`]
//! naming the key, the value and what is accepted, with a "did you mean" for near-miss typos.
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `application.id` | required | consumer group id, prefix of internal topics |
//! | `bootstrap.servers` | required | `host:port` list of the Kafka cluster |
//! | `num.stream.threads` | 1 | stream threads of this instance |
//! | `commit.interval.ms` | 30000 (100 under `exactly_once_v2`) | how often offsets are committed (a transaction, under exactly-once) |
//! | `max.task.idle.ms` | 0 | how long a task with several inputs waits for an empty one (-1: never wait, 0: wait only while data is known to be on the way) |
//! | `auto.offset.reset` | `earliest` | `earliest`, `latest` or `none` |
//! | `processing.guarantee` | `at_least_once` | or `exactly_once_v2` (transactions; `transaction.timeout.ms` 10000 unless `producer.transaction.timeout.ms` is set, and the commit interval must not exceed it) |
//! | `state.dir` | `<tmp>/kafka-streams` | where local state lives |
//! | `poll.ms` | 100 | how long a thread blocks in poll when it has nothing to do |
//! | `client.id` | `<application.id>-<process>` | prefix of the clients' `client.id` |
//! | `replication.factor` | -1 (broker default) | of the internal topics created |
//! | `deserialization.exception.handler` | `log-and-fail` | or `log-and-continue` |
//! | `processing.exception.handler` | `log-and-fail` | or `log-and-continue` |
//! | `production.exception.handler` | `default` | retry retriable errors (the thread's tasks start again from their committed offsets) and fail on others; or `fail`, `continue`; or code: [`StreamsConfigBuilder::production_exception_handler_with`] |
//! | `buffered.records.per.partition` | 1000 | records buffered per partition before it is paused |
//! | `default.api.timeout.ms` | 60000 | bound of the admin calls at start (topic checks) |
//! | `errors.dead.letter.queue.topic.name` | none | a topic (that exists) to write records the deserialization or processing handler gave up on: raw key, value and headers plus `__streams.errors.exception`, `.message`, `.stacktrace`, `.topic`, `.partition`, `.offset`; under exactly-once, in the transaction |
//!
//! Client settings pass through to librdkafka: `security.protocol`, `sasl.*` and `ssl.*` go to
//! every client; anything prefixed `consumer.`, `producer.` or `admin.` goes to that client
//! only (e.g. `producer.linger.ms=5`). They are checked by librdkafka when the config is built.
//! The runtime's own client defaults, each overridable that way: producer `linger.ms=100`
//! (Kafka Streams' default) and `enable.idempotence=true` (the Java producer's); stream threads'
//! consumer `fetch.queue.backoff.ms=10`, `queued.min.messages=10000`,
//! `queued.max.messages.kbytes=8192` (librdkafka's 1 s, 100 000 and 64 MiB make a thread run in
//! bursts and hold most of its memory in prefetched records).
//! Secrets (`sasl.password`, `ssl.*password*`, `sasl.jaas.config`, private keys) never appear in
//! `Debug`, `Display`, errors or logs.
//!
//! ```
//! use std::time::Duration;
//! use streams_core::config::{ConfigError, StreamsConfig};
//!
//! let config = StreamsConfig::builder()
//!     .application_id("wordcount")
//!     .bootstrap_servers("localhost:9092")
//!     .num_stream_threads(2)
//!     .commit_interval(Duration::from_millis(500))
//!     .set("producer.linger.ms", "5")
//!     .set("sasl.password", "hunter2")
//!     .build()?;
//! assert_eq!(config.num_stream_threads(), 2);
//! assert!(!format!("{config:?}").contains("hunter2"));
//!
//! let typo = StreamsConfig::from_properties([("num.streams.threads", "2")]).unwrap_err();
//! assert!(matches!(typo, ConfigError::UnknownKey { .. }));
//! assert!(typo.to_string().contains("did you mean `num.stream.threads`?"));
//! # Ok::<(), ConfigError>(())
//! ```

pub(crate) mod clients;
mod error;
pub(crate) mod keys;
mod production;
mod properties;
mod secret;
mod suggest;
mod values;

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use error::ConfigError;
pub(crate) use production::respond as production_response;
pub use production::{
    ProductionErrorHandler, ProductionFailure, ProductionHandler, ProductionResponse,
};
pub use values::{
    AutoOffsetReset, DeserializationHandler, HandlerResponse, ProcessingGuarantee,
    ProcessingHandler, RecordErrorHandler,
};

pub(crate) use keys::{ClientScope, ClientSetting};
pub(crate) use secret::is_secret;

use keys::Settings;

/// An application's checked settings. See the [module docs](self) for the keys.
#[derive(Clone)]
pub struct StreamsConfig {
    settings: Settings,
    /// Every (key, value) as given, in order, for `Display`.
    given: Vec<(String, String)>,
    handlers: UserHandlers,
}

/// Exception handlers given as code rather than names.
#[derive(Clone, Default)]
pub(crate) struct UserHandlers {
    pub(crate) deserialization: Option<std::sync::Arc<dyn RecordErrorHandler>>,
    pub(crate) processing: Option<std::sync::Arc<dyn RecordErrorHandler>>,
    pub(crate) production: Option<std::sync::Arc<dyn ProductionErrorHandler>>,
}

impl StreamsConfig {
    /// A builder; set keys with its typed setters or [`set`](StreamsConfigBuilder::set).
    pub fn builder() -> StreamsConfigBuilder {
        StreamsConfigBuilder::default()
    }

    /// A config from (key, value) pairs, e.g. a `HashMap` or a `Vec` of tuples; later pairs
    /// win.
    pub fn from_properties<I, K, V>(properties: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut builder = Self::builder();
        for (k, v) in properties {
            builder = builder.set(k.as_ref(), v.as_ref());
        }
        builder.build()
    }

    /// A config from a Java-style properties file (`key=value` lines, `#` comments).
    ///
    /// ```no_run
    /// # use streams_core::config::StreamsConfig;
    /// let config = StreamsConfig::from_file("app.properties")?;
    /// # Ok::<(), streams_core::config::ConfigError>(())
    /// ```
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Io {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        Self::from_properties_text(&text, path)
    }

    /// A config from properties text; `origin` names it in errors.
    pub fn from_properties_text(text: &str, origin: impl AsRef<Path>) -> Result<Self, ConfigError> {
        Self::from_properties(properties::parse(text, origin.as_ref())?)
    }

    /// `application.id`.
    pub fn application_id(&self) -> &str {
        self.settings.application_id.as_deref().unwrap_or_default()
    }

    /// `bootstrap.servers`.
    pub fn bootstrap_servers(&self) -> &str {
        self.settings
            .bootstrap_servers
            .as_deref()
            .unwrap_or_default()
    }

    /// `num.stream.threads`.
    pub fn num_stream_threads(&self) -> usize {
        self.settings.num_stream_threads
    }

    /// `commit.interval.ms`.
    pub fn commit_interval(&self) -> Duration {
        self.settings.commit_interval
    }

    /// `max.task.idle.ms` (-1: never wait for empty inputs).
    pub fn max_task_idle_ms(&self) -> i64 {
        self.settings.max_task_idle_ms
    }

    /// How often (wall-clock ms) a left or outer stream-stream join looks for records whose
    /// window closed — Kafka Streams' internal
    /// `__emit.interval.ms.kstreams.outer.join.spurious.results.fix__` (1000; Kafka Streams'
    /// `TopologyTestDriver` and ours use 0).
    pub fn outer_join_emit_interval_ms(&self) -> i64 {
        self.settings.outer_join_emit_interval_ms
    }

    /// `auto.offset.reset`.
    pub fn auto_offset_reset(&self) -> AutoOffsetReset {
        self.settings.auto_offset_reset
    }

    /// `processing.guarantee`.
    pub fn processing_guarantee(&self) -> ProcessingGuarantee {
        self.settings.processing_guarantee
    }

    /// `state.dir`.
    pub fn state_dir(&self) -> &Path {
        &self.settings.state_dir
    }

    /// `poll.ms`.
    pub fn poll_interval(&self) -> Duration {
        self.settings.poll
    }

    /// `client.id`, if set.
    pub fn client_id(&self) -> Option<&str> {
        self.settings.client_id.as_deref()
    }

    /// `replication.factor` of created internal topics (-1: the broker's default).
    pub fn replication_factor(&self) -> i32 {
        self.settings.replication_factor
    }

    /// A production exception handler of your own (instead of `production.exception.handler`):
    /// it sees each record the producer could not send or deliver and answers whether to fail,
    /// drop it or produce it again. See [`ProductionErrorHandler`].
    pub fn production_exception_handler_with(
        mut self,
        handler: impl ProductionErrorHandler,
    ) -> Self {
        self.handlers.production = Some(std::sync::Arc::new(handler));
        self
    }

    /// `deserialization.exception.handler`.
    pub fn deserialization_handler(&self) -> DeserializationHandler {
        self.settings.deserialization_handler
    }

    /// `processing.exception.handler`.
    pub fn processing_handler(&self) -> ProcessingHandler {
        self.settings.processing_handler
    }

    /// The exception handlers given as code.
    pub(crate) fn user_handlers(&self) -> &UserHandlers {
        &self.handlers
    }

    /// `production.exception.handler`.
    pub fn production_handler(&self) -> ProductionHandler {
        self.settings.production_handler
    }

    /// `buffered.records.per.partition`.
    pub fn buffered_records_per_partition(&self) -> usize {
        self.settings.buffered_records_per_partition
    }

    /// `statestore.cache.max.bytes` (alias `cache.max.bytes.buffering`; default 10 MiB): the
    /// record cache of the whole instance, split evenly over its stream threads.
    pub fn statestore_cache_max_bytes(&self) -> usize {
        self.settings.cache_max_bytes
    }

    /// `rocksdb.memory.max.bytes` (ours; default 64 MiB): one budget for the block cache and
    /// memtables of every RocksDB store of the process, set by the first instance started.
    pub fn rocksdb_memory_max_bytes(&self) -> usize {
        self.settings.rocksdb_memory_bytes
    }

    /// `default.api.timeout.ms`: bound of the admin calls made at start.
    pub fn api_timeout(&self) -> Duration {
        self.settings.api_timeout
    }

    /// The passthrough client settings that apply to `scope`, in the order given.
    /// `errors.dead.letter.queue.topic.name`: where records a handler gives up on are written
    /// (raw key, value and headers, plus `__streams.errors.*` headers saying why).
    pub fn dead_letter_queue(&self) -> Option<&str> {
        self.settings.dead_letter_queue.as_deref()
    }

    /// The producer's `transaction.timeout.ms` under exactly-once (10 s unless
    /// `producer.transaction.timeout.ms` is set).
    pub fn transaction_timeout(&self) -> Result<Duration, ConfigError> {
        match self
            .client_settings(ClientScope::Producer)
            .filter(|s| s.key == "transaction.timeout.ms")
            .last()
        {
            None => Ok(EOS_TRANSACTION_TIMEOUT),
            Some(s) => s
                .value
                .trim()
                .parse::<u64>()
                .map(Duration::from_millis)
                .map_err(|_| ConfigError::InvalidValue {
                    key: s.given.clone(),
                    value: format!("`{}`", s.value),
                    reason: "not an integer".to_string(),
                    accepted: "milliseconds".to_string(),
                }),
        }
    }

    pub(crate) fn client_settings(
        &self,
        scope: ClientScope,
    ) -> impl Iterator<Item = &ClientSetting> + '_ {
        self.settings
            .clients
            .iter()
            .filter(move |(s, _)| *s == ClientScope::All || *s == scope)
            .map(|(_, c)| c)
    }
}

/// `commit.interval.ms` under exactly-once unless given (Kafka Streams' default).
const EOS_COMMIT_INTERVAL: Duration = Duration::from_millis(100);

/// `transaction.timeout.ms` under exactly-once unless given (Kafka Streams' default).
const EOS_TRANSACTION_TIMEOUT: Duration = Duration::from_secs(10);

impl fmt::Debug for StreamsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (k, v) in &self.given {
            map.entry(k, &secret::Shown { key: k, value: v }.to_string());
        }
        map.finish()
    }
}

/// One `key = value` line per setting given, sorted, secrets redacted — what a stream
/// application logs at start.
impl fmt::Display for StreamsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut lines: Vec<&(String, String)> = self.given.iter().collect();
        lines.sort_by(|a, b| a.0.cmp(&b.0));
        for (k, v) in lines {
            if is_secret(k) {
                writeln!(f, "{k} = [redacted]")?;
            } else {
                writeln!(f, "{k} = {v}")?;
            }
        }
        Ok(())
    }
}

/// Builds a [`StreamsConfig`]; [`build`](Self::build) checks everything.
///
/// ```
/// use std::time::Duration;
/// use streams_core::config::{ConfigError, StreamsConfig};
/// let eos = StreamsConfig::builder()
///     .application_id("app")
///     .bootstrap_servers("localhost:9092")
///     .set("processing.guarantee", "exactly_once_v2")
///     .build()
///     .unwrap();
/// assert_eq!(eos.commit_interval(), Duration::from_millis(100));
///
/// // A transaction must commit before it times out.
/// let err = StreamsConfig::builder()
///     .application_id("app")
///     .bootstrap_servers("localhost:9092")
///     .set("processing.guarantee", "exactly_once_v2")
///     .set("commit.interval.ms", "20000")
///     .build()
///     .unwrap_err();
/// assert!(matches!(err, ConfigError::InvalidValue { .. }));
/// ```
#[derive(Default, Clone)]
pub struct StreamsConfigBuilder {
    given: Vec<(String, String)>,
    handlers: UserHandlers,
}

impl fmt::Debug for StreamsConfigBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (k, v) in &self.given {
            map.entry(k, &secret::Shown { key: k, value: v }.to_string());
        }
        map.finish()
    }
}

impl StreamsConfigBuilder {
    /// Sets any key (streams or client passthrough); checked by [`build`](Self::build).
    pub fn set(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.given.push((key.into(), value.into()));
        self
    }

    /// `application.id`.
    pub fn application_id(self, id: impl Into<String>) -> Self {
        self.set(keys::APPLICATION_ID, id)
    }

    /// `bootstrap.servers`.
    pub fn bootstrap_servers(self, servers: impl Into<String>) -> Self {
        self.set(keys::BOOTSTRAP_SERVERS, servers)
    }

    /// `num.stream.threads`.
    pub fn num_stream_threads(self, threads: usize) -> Self {
        self.set(keys::NUM_STREAM_THREADS, threads.to_string())
    }

    /// `commit.interval.ms`.
    pub fn commit_interval(self, interval: Duration) -> Self {
        self.set(keys::COMMIT_INTERVAL_MS, interval.as_millis().to_string())
    }

    /// `max.task.idle.ms`.
    pub fn max_task_idle_ms(self, ms: i64) -> Self {
        self.set(keys::MAX_TASK_IDLE_MS, ms.to_string())
    }

    /// `auto.offset.reset`.
    pub fn auto_offset_reset(self, reset: AutoOffsetReset) -> Self {
        self.set(keys::AUTO_OFFSET_RESET, reset.to_string())
    }

    /// `state.dir`.
    pub fn state_dir(self, dir: impl Into<PathBuf>) -> Self {
        self.set(keys::STATE_DIR, dir.into().to_string_lossy().into_owned())
    }

    /// `poll.ms`.
    pub fn poll_interval(self, poll: Duration) -> Self {
        self.set(keys::POLL_MS, poll.as_millis().to_string())
    }

    /// `client.id`.
    pub fn client_id(self, id: impl Into<String>) -> Self {
        self.set(keys::CLIENT_ID, id)
    }

    /// `replication.factor` of internal topics.
    pub fn replication_factor(self, factor: i32) -> Self {
        self.set(keys::REPLICATION_FACTOR, factor.to_string())
    }

    /// A deserialization exception handler of your own (instead of
    /// `deserialization.exception.handler`): it sees each record that does not decode and
    /// answers whether to go on.
    pub fn deserialization_exception_handler_with(
        mut self,
        handler: impl RecordErrorHandler,
    ) -> Self {
        self.handlers.deserialization = Some(std::sync::Arc::new(handler));
        self
    }

    /// A processing exception handler of your own (instead of `processing.exception.handler`):
    /// it sees each record a processor failed on and answers whether to go on.
    pub fn processing_exception_handler_with(mut self, handler: impl RecordErrorHandler) -> Self {
        self.handlers.processing = Some(std::sync::Arc::new(handler));
        self
    }

    /// A production exception handler of your own (instead of `production.exception.handler`):
    /// it sees each record the producer could not send or deliver and answers whether to fail,
    /// drop it or produce it again. See [`ProductionErrorHandler`].
    pub fn production_exception_handler_with(
        mut self,
        handler: impl ProductionErrorHandler,
    ) -> Self {
        self.handlers.production = Some(std::sync::Arc::new(handler));
        self
    }

    /// `deserialization.exception.handler`.
    pub fn deserialization_handler(self, handler: DeserializationHandler) -> Self {
        let name = match handler {
            DeserializationHandler::LogAndFail => "log-and-fail",
            DeserializationHandler::LogAndContinue => "log-and-continue",
        };
        self.set(keys::DESERIALIZATION_HANDLER, name)
    }

    /// `processing.exception.handler`.
    pub fn processing_handler(self, handler: ProcessingHandler) -> Self {
        let name = match handler {
            ProcessingHandler::LogAndFail => "log-and-fail",
            ProcessingHandler::LogAndContinue => "log-and-continue",
        };
        self.set(keys::PROCESSING_HANDLER, name)
    }

    /// `production.exception.handler`.
    pub fn production_handler(self, handler: ProductionHandler) -> Self {
        self.set(keys::PRODUCTION_HANDLER, handler.name())
    }

    /// `default.api.timeout.ms`.
    pub fn api_timeout(self, timeout: Duration) -> Self {
        self.set(keys::API_TIMEOUT_MS, timeout.as_millis().to_string())
    }

    /// Checks every setting; the first problem, in the order given, is the error.
    pub fn build(self) -> Result<StreamsConfig, ConfigError> {
        let mut settings = Settings::default();
        for (k, v) in &self.given {
            settings.apply(k, v)?;
        }
        if settings.application_id.is_none() {
            return Err(ConfigError::Missing {
                key: keys::APPLICATION_ID,
                hint: "it names the consumer group; set it with `.application_id(\"my-app\")`",
            });
        }
        if settings.bootstrap_servers.is_none() {
            return Err(ConfigError::Missing {
                key: keys::BOOTSTRAP_SERVERS,
                hint: "the Kafka cluster, e.g. `localhost:9092` (or an EmbeddedKafka's \
                       `bootstrap_servers()`)",
            });
        }
        let mut config = StreamsConfig {
            settings,
            given: self.given,
            handlers: self.handlers,
        };
        if config.settings.processing_guarantee.is_exactly_once() {
            if !config.settings.commit_interval_set {
                config.settings.commit_interval = EOS_COMMIT_INTERVAL;
            }
            let timeout = config.transaction_timeout()?;
            if config.settings.commit_interval > timeout {
                return Err(ConfigError::InvalidValue {
                    key: keys::COMMIT_INTERVAL_MS.to_string(),
                    value: format!("`{}`", config.settings.commit_interval.as_millis()),
                    reason: format!(
                        "larger than transaction.timeout.ms ({} ms): under exactly_once_v2 each \
                         commit interval is one transaction, which must commit before it times out",
                        timeout.as_millis()
                    ),
                    accepted: "at most transaction.timeout.ms (set it with \
                               `producer.transaction.timeout.ms`)"
                        .to_string(),
                });
            }
        }
        clients::validate(&config)?;
        Ok(config)
    }
}
