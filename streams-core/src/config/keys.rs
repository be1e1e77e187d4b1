//! The keys `StreamsConfig` knows, and how each value is checked and stored.

use std::path::PathBuf;
use std::time::Duration;

use super::error::ConfigError;
use super::production::{PRODUCTION_HANDLERS, ProductionHandler};
use super::secret::shown;
use super::values::{
    AutoOffsetReset, DESERIALIZATION_HANDLERS, DeserializationHandler, OFFSET_RESETS,
    PROCESSING_HANDLERS, ProcessingGuarantee, ProcessingHandler, accepted, choose,
};

pub(crate) const APPLICATION_ID: &str = "application.id";
pub(crate) const BOOTSTRAP_SERVERS: &str = "bootstrap.servers";
pub(crate) const NUM_STREAM_THREADS: &str = "num.stream.threads";
pub(crate) const COMMIT_INTERVAL_MS: &str = "commit.interval.ms";
pub(crate) const MAX_TASK_IDLE_MS: &str = "max.task.idle.ms";
/// Kafka Streams' internal setting of how often (wall-clock ms) a left or outer stream-stream
/// join looks for records whose window closed (its `TopologyTestDriver` sets 0).
pub(crate) const OUTER_JOIN_EMIT_INTERVAL_MS: &str =
    "__emit.interval.ms.kstreams.outer.join.spurious.results.fix__";
pub(crate) const AUTO_OFFSET_RESET: &str = "auto.offset.reset";
pub(crate) const PROCESSING_GUARANTEE: &str = "processing.guarantee";
pub(crate) const STATE_DIR: &str = "state.dir";
pub(crate) const POLL_MS: &str = "poll.ms";
pub(crate) const CLIENT_ID: &str = "client.id";
pub(crate) const REPLICATION_FACTOR: &str = "replication.factor";
pub(crate) const DESERIALIZATION_HANDLER: &str = "deserialization.exception.handler";
pub(crate) const DEFAULT_DESERIALIZATION_HANDLER: &str =
    "default.deserialization.exception.handler";
pub(crate) const PRODUCTION_HANDLER: &str = "production.exception.handler";
pub(crate) const DEFAULT_PRODUCTION_HANDLER: &str = "default.production.exception.handler";
pub(crate) const PROCESSING_HANDLER: &str = "processing.exception.handler";
pub(crate) const BUFFERED_RECORDS: &str = "buffered.records.per.partition";
pub(crate) const API_TIMEOUT_MS: &str = "default.api.timeout.ms";
pub(crate) const NUM_STANDBY_REPLICAS: &str = "num.standby.replicas";
pub(crate) const CACHE_MAX_BYTES: &str = "statestore.cache.max.bytes";
pub(crate) const CACHE_MAX_BYTES_BUFFERING: &str = "cache.max.bytes.buffering";
pub(crate) const ROCKSDB_MEMORY_BYTES: &str = "rocksdb.memory.max.bytes";
pub(crate) const DEAD_LETTER_QUEUE: &str = "errors.dead.letter.queue.topic.name";

/// Every streams-level key, for "did you mean".
pub(crate) const STREAMS_KEYS: &[&str] = &[
    DEAD_LETTER_QUEUE,
    APPLICATION_ID,
    BOOTSTRAP_SERVERS,
    NUM_STREAM_THREADS,
    COMMIT_INTERVAL_MS,
    MAX_TASK_IDLE_MS,
    AUTO_OFFSET_RESET,
    PROCESSING_GUARANTEE,
    STATE_DIR,
    POLL_MS,
    CLIENT_ID,
    REPLICATION_FACTOR,
    DESERIALIZATION_HANDLER,
    DEFAULT_DESERIALIZATION_HANDLER,
    PRODUCTION_HANDLER,
    DEFAULT_PRODUCTION_HANDLER,
    PROCESSING_HANDLER,
    BUFFERED_RECORDS,
    API_TIMEOUT_MS,
    CACHE_MAX_BYTES,
    CACHE_MAX_BYTES_BUFFERING,
    ROCKSDB_MEMORY_BYTES,
    NUM_STANDBY_REPLICAS,
    "security.protocol",
    "consumer.",
    "producer.",
    "admin.",
];

/// Kafka Streams 4.4 keys this runtime does not implement (yet): set one and you get a clear
/// error, not an "unknown key" and not a setting that silently does nothing.
const NOT_YET: &[(&str, &str)] = &[
    (
        "default.key.serde",
        "codecs are given per source, sink and store in the topology",
    ),
    (
        "default.value.serde",
        "codecs are given per source, sink and store in the topology",
    ),
    (
        "default.list.key.serde.inner",
        "codecs are given per source, sink and store in the topology",
    ),
    (
        "default.list.key.serde.type",
        "codecs are given per source, sink and store in the topology",
    ),
    (
        "default.list.value.serde.inner",
        "codecs are given per source, sink and store in the topology",
    ),
    (
        "default.list.value.serde.type",
        "codecs are given per source, sink and store in the topology",
    ),
    (
        "window.size.ms",
        "windowed keys are decoded by the codecs given in the topology",
    ),
    (
        "windowed.inner.class.serde",
        "windowed keys are decoded by the codecs given in the topology",
    ),
    (
        "default.timestamp.extractor",
        "timestamp extractors are given per source (SourceSpec::timestamp_extractor)",
    ),
    (
        "topology.optimization",
        "topology optimization is not implemented",
    ),
    (
        "default.dsl.store",
        "the DSL is not implemented yet; stores are declared one by one in the topology",
    ),
    (
        "dsl.store.format",
        "the DSL is not implemented yet; stores are declared one by one in the topology",
    ),
    (
        "dsl.store.suppliers.class",
        "the DSL is not implemented yet; stores are declared one by one in the topology",
    ),
    (
        "ensure.explicit.internal.resource.naming",
        "topologies name every node, store and internal topic explicitly",
    ),
    (
        "processor.wrapper.class",
        "processor wrappers are not supported; wrap a processor in a Processor of your own",
    ),
    (
        "application.server",
        "remote interactive queries are not implemented; query this instance's stores \
         with KafkaStreams::store",
    ),
    (
        "default.interactive.query.isolation.level",
        "interactive queries read the stores as the stream threads left them",
    ),
    (
        "rocksdb.config.setter",
        "RocksDB options are not configurable per store; the memory of all RocksDB stores \
         is bounded by `rocksdb.memory.max.bytes`",
    ),
    (
        "enable.transactional.statestores",
        "transactional state stores are not implemented",
    ),
    (
        "statestore.uncommitted.max.bytes",
        "transactional state stores are not implemented",
    ),
    (
        "processing.exception.handler.global.enabled",
        "the processing exception handler does not apply to global stores: a record their \
         processors fail on fails the instance (deserialization errors go to the \
         deserialization handler)",
    ),
    (
        "group.protocol",
        "only the classic consumer-group protocol is supported (tasks are assigned by \
         librdkafka's range assignor)",
    ),
    (
        "task.assignor.class",
        "tasks are assigned by librdkafka's range assignor, one task per input partition",
    ),
    (
        "acceptable.recovery.lag",
        "warm-up and standby tasks are not implemented: tasks restore where they are assigned",
    ),
    (
        "max.warmup.replicas",
        "warm-up and standby tasks are not implemented: tasks restore where they are assigned",
    ),
    (
        "probing.rebalance.interval.ms",
        "warm-up and standby tasks are not implemented: tasks restore where they are assigned",
    ),
    (
        "rack.aware.assignment.strategy",
        "rack-aware assignment is not implemented",
    ),
    (
        "rack.aware.assignment.tags",
        "rack-aware assignment is not implemented",
    ),
    (
        "rack.aware.assignment.traffic_cost",
        "rack-aware assignment is not implemented",
    ),
    (
        "rack.aware.assignment.non_overlap_cost",
        "rack-aware assignment is not implemented",
    ),
    (
        "state.cleanup.delay.ms",
        "state directories of tasks that moved away are not cleaned up yet",
    ),
    (
        "state.cleanup.dir.max.age.ms",
        "state directories of tasks that moved away are not cleaned up yet",
    ),
    (
        "allow.os.group.write.access",
        "state directories are created with the process's umask",
    ),
    (
        "windowstore.changelog.additional.retention.ms",
        "window store changelogs keep the store's retention plus one day",
    ),
    (
        "repartition.purge.interval.ms",
        "repartition topics are not purged; they keep the broker's retention",
    ),
    (
        "task.timeout.ms",
        "client calls are retried within `default.api.timeout.ms`",
    ),
    (
        "log.summary.interval.ms",
        "the stream threads' periodic summary log is not implemented",
    ),
    (
        "upgrade.from",
        "rolling upgrades from a Kafka Streams application are not supported",
    ),
    (
        "built.in.metrics.version",
        "metrics are read from KafkaStreams; there are no metric reporters",
    ),
    (
        "metric.reporters",
        "metrics are read from KafkaStreams; there are no metric reporters",
    ),
    (
        "metrics.num.samples",
        "metrics are read from KafkaStreams; there are no metric reporters",
    ),
    (
        "metrics.recording.level",
        "metrics are read from KafkaStreams; there are no metric reporters",
    ),
    (
        "metrics.sample.window.ms",
        "metrics are read from KafkaStreams; there are no metric reporters",
    ),
    (
        "enable.metrics.push",
        "metrics are read from KafkaStreams; there are no metric reporters",
    ),
    (
        "topology.description.push.enabled",
        "metrics are read from KafkaStreams; there are no metric reporters",
    ),
    ("config.providers", "config providers are not supported"),
    (
        "default.client.supplier",
        "the clients are librdkafka's; tune them with `consumer.`, `producer.` and `admin.` \
         settings",
    ),
    ("connections.max.idle.ms", CLIENT_LEVEL),
    ("metadata.max.age.ms", CLIENT_LEVEL),
    ("metadata.recovery.strategy", CLIENT_LEVEL),
    ("metadata.recovery.rebootstrap.trigger.ms", CLIENT_LEVEL),
    ("metadata.cluster.check.enable", CLIENT_LEVEL),
    ("receive.buffer.bytes", CLIENT_LEVEL),
    ("send.buffer.bytes", CLIENT_LEVEL),
    ("reconnect.backoff.ms", CLIENT_LEVEL),
    ("reconnect.backoff.max.ms", CLIENT_LEVEL),
    ("request.timeout.ms", CLIENT_LEVEL),
    ("retry.backoff.ms", CLIENT_LEVEL),
];

/// Why a client setting Kafka Streams applies to every client is refused unprefixed.
const CLIENT_LEVEL: &str = "a setting for all clients at once is not supported; give it to \
    each client with the `consumer.`, `producer.` or `admin.` prefix (librdkafka's name for it \
    may differ)";

/// Client settings the runtime sets itself (after the client prefix is removed).
const MANAGED: &[(&str, &str)] = &[
    ("group.id", "the consumer group is the `application.id`"),
    (
        "bootstrap.servers",
        "set `bootstrap.servers` once, without a prefix",
    ),
    (
        "enable.auto.commit",
        "offsets are committed by the runtime after the outputs are acknowledged",
    ),
    (
        "enable.auto.offset.store",
        "offsets are stored by the runtime after records are processed",
    ),
    (
        "partition.assignment.strategy",
        "tasks need the `range` assignor so co-partitioned topics land together",
    ),
    ("isolation.level", "it follows `processing.guarantee`"),
    (
        "transactional.id",
        "under `exactly_once_v2` each stream thread's producer gets \
         `<application.id>-<process id>-<thread index>`",
    ),
];

/// A client setting to pass through, with the key as given (for messages).
#[derive(Clone)]
pub(crate) struct ClientSetting {
    pub(crate) given: String,
    pub(crate) key: String,
    pub(crate) value: String,
}

/// Which client a passthrough setting goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClientScope {
    All,
    Consumer,
    Producer,
    Admin,
}

/// The checked values of a configuration.
#[derive(Clone)]
pub(crate) struct Settings {
    pub(crate) application_id: Option<String>,
    pub(crate) bootstrap_servers: Option<String>,
    pub(crate) num_stream_threads: usize,
    pub(crate) commit_interval: Duration,
    /// Whether `commit.interval.ms` was given (its default depends on the guarantee).
    pub(crate) commit_interval_set: bool,
    pub(crate) max_task_idle_ms: i64,
    pub(crate) outer_join_emit_interval_ms: i64,
    pub(crate) auto_offset_reset: AutoOffsetReset,
    pub(crate) processing_guarantee: ProcessingGuarantee,
    pub(crate) state_dir: PathBuf,
    pub(crate) poll: Duration,
    pub(crate) client_id: Option<String>,
    pub(crate) replication_factor: i32,
    pub(crate) deserialization_handler: DeserializationHandler,
    pub(crate) production_handler: ProductionHandler,
    pub(crate) processing_handler: ProcessingHandler,
    pub(crate) buffered_records_per_partition: usize,
    pub(crate) api_timeout: Duration,
    pub(crate) cache_max_bytes: usize,
    pub(crate) rocksdb_memory_bytes: usize,
    /// `errors.dead.letter.queue.topic.name`.
    pub(crate) dead_letter_queue: Option<String>,
    pub(crate) clients: Vec<(ClientScope, ClientSetting)>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            application_id: None,
            bootstrap_servers: None,
            num_stream_threads: 1,
            commit_interval: Duration::from_secs(30),
            commit_interval_set: false,
            max_task_idle_ms: 0,
            outer_join_emit_interval_ms: 1000,
            auto_offset_reset: AutoOffsetReset::Earliest,
            processing_guarantee: ProcessingGuarantee::AtLeastOnce,
            state_dir: std::env::temp_dir().join("kafka-streams"),
            poll: Duration::from_millis(100),
            client_id: None,
            replication_factor: -1,
            deserialization_handler: DeserializationHandler::LogAndFail,
            production_handler: ProductionHandler::Default,
            processing_handler: ProcessingHandler::LogAndFail,
            buffered_records_per_partition: 1000,
            api_timeout: Duration::from_secs(60),
            cache_max_bytes: 10 * 1024 * 1024,
            rocksdb_memory_bytes: 64 * 1024 * 1024,
            dead_letter_queue: None,
            clients: Vec::new(),
        }
    }
}

fn invalid(
    key: &str,
    value: &str,
    reason: impl Into<String>,
    accepted: impl Into<String>,
) -> ConfigError {
    ConfigError::InvalidValue {
        key: key.to_string(),
        value: shown(key, value),
        reason: reason.into(),
        accepted: accepted.into(),
    }
}

fn int<T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy>(
    key: &str,
    value: &str,
    min: T,
    max: T,
) -> Result<T, ConfigError> {
    let range = format!("an integer from {min} to {max}");
    match value.trim().parse::<T>() {
        Ok(v) if v >= min && v <= max => Ok(v),
        Ok(_) => Err(invalid(key, value, "out of range", range)),
        // An integer the type cannot hold (`-1` for a count) is out of range, not malformed.
        Err(_) if value.trim().parse::<i128>().is_ok() => {
            Err(invalid(key, value, "out of range", range))
        }
        Err(_) => Err(invalid(key, value, "not an integer", range)),
    }
}

fn millis(key: &str, value: &str, min: u64) -> Result<Duration, ConfigError> {
    int::<u64>(key, value, min, i64::MAX as u64).map(Duration::from_millis)
}

fn pick<T: Copy>(key: &str, value: &str, names: &[(&str, T)]) -> Result<T, ConfigError> {
    choose(value, names).ok_or_else(|| invalid(key, value, "unknown value", accepted(names)))
}

/// Whether `value` is a valid `host:port[,host:port…]` list (optionally `scheme://host:port`).
fn valid_servers(value: &str) -> bool {
    !value.trim().is_empty()
        && value.split(',').all(|server| {
            let server = server.trim();
            let server = server.split_once("://").map_or(server, |(_, rest)| rest);
            match server.rsplit_once(':') {
                Some((host, port)) => !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0),
                None => false,
            }
        })
}

fn valid_application_id(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 200
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
}

impl Settings {
    /// Checks one key and value and stores it.
    pub(crate) fn apply(&mut self, key: &str, value: &str) -> Result<(), ConfigError> {
        let k = key.trim();
        match k {
            APPLICATION_ID => {
                let v = value.trim();
                if !valid_application_id(v) {
                    return Err(invalid(
                        k,
                        value,
                        "it names the consumer group and prefixes internal topics",
                        "1 to 200 characters from [a-zA-Z0-9._-]",
                    ));
                }
                self.application_id = Some(v.to_string());
            }
            BOOTSTRAP_SERVERS => {
                if !valid_servers(value) {
                    return Err(invalid(
                        k,
                        value,
                        "not a list of host:port",
                        "a comma-separated list of host:port, e.g. `localhost:9092,broker2:9092`",
                    ));
                }
                self.bootstrap_servers = Some(value.trim().to_string());
            }
            NUM_STREAM_THREADS => self.num_stream_threads = int(k, value, 1usize, 1024)?,
            COMMIT_INTERVAL_MS => {
                self.commit_interval = millis(k, value, 0)?;
                self.commit_interval_set = true;
            }
            MAX_TASK_IDLE_MS => self.max_task_idle_ms = int(k, value, -1i64, i64::MAX)?,
            OUTER_JOIN_EMIT_INTERVAL_MS => {
                self.outer_join_emit_interval_ms = int(k, value, 0i64, i64::MAX)?;
            }
            AUTO_OFFSET_RESET => self.auto_offset_reset = pick(k, value, OFFSET_RESETS)?,
            PROCESSING_GUARANTEE => {
                self.processing_guarantee = match value.trim() {
                    "at_least_once" => ProcessingGuarantee::AtLeastOnce,
                    "exactly_once_v2" => ProcessingGuarantee::ExactlyOnceV2,
                    _ => {
                        return Err(invalid(
                            k,
                            value,
                            "unknown value (`exactly_once` and `exactly_once_beta` were removed \
                             in Kafka Streams 4.0)",
                            "`at_least_once`, `exactly_once_v2`",
                        ));
                    }
                }
            }
            STATE_DIR => {
                if value.trim().is_empty() {
                    return Err(invalid(k, value, "empty", "a directory path"));
                }
                self.state_dir = PathBuf::from(value.trim());
            }
            POLL_MS => self.poll = millis(k, value, 0)?,
            DEAD_LETTER_QUEUE => {
                let topic = value.trim();
                if !crate::topology::valid_topic_name(topic) {
                    return Err(invalid(
                        k,
                        value,
                        "not a valid topic name",
                        "up to 249 ASCII letters, digits, `.`, `_` and `-`",
                    ));
                }
                self.dead_letter_queue = Some(topic.to_string());
            }
            CLIENT_ID => self.client_id = Some(value.trim().to_string()),
            REPLICATION_FACTOR => {
                let rf = int(k, value, -1i32, i32::from(i16::MAX))?;
                if rf == 0 {
                    return Err(invalid(
                        k,
                        value,
                        "zero replicas",
                        "-1 (broker default) or at least 1",
                    ));
                }
                self.replication_factor = rf;
            }
            DESERIALIZATION_HANDLER | DEFAULT_DESERIALIZATION_HANDLER => {
                self.deserialization_handler = pick(k, value, DESERIALIZATION_HANDLERS)?;
            }
            PRODUCTION_HANDLER | DEFAULT_PRODUCTION_HANDLER => {
                self.production_handler = pick(k, value, PRODUCTION_HANDLERS)?;
            }
            PROCESSING_HANDLER => self.processing_handler = pick(k, value, PROCESSING_HANDLERS)?,
            BUFFERED_RECORDS => {
                self.buffered_records_per_partition = int(k, value, 1usize, usize::MAX)?
            }
            API_TIMEOUT_MS => self.api_timeout = millis(k, value, 1)?,
            CACHE_MAX_BYTES | CACHE_MAX_BYTES_BUFFERING => {
                self.cache_max_bytes = int(k, value, 0usize, usize::MAX)?;
            }
            ROCKSDB_MEMORY_BYTES => {
                self.rocksdb_memory_bytes = int(k, value, 1usize << 20, usize::MAX)?;
            }
            NUM_STANDBY_REPLICAS => {
                if int(k, value, 0u32, 1024)? != 0 {
                    return Err(ConfigError::NotSupported {
                        key: k.to_string(),
                        value: shown(k, value),
                        reason: "standby replicas are not implemented yet; use 0",
                    });
                }
            }
            _ => return self.apply_client(k, value),
        }
        Ok(())
    }

    fn apply_client(&mut self, key: &str, value: &str) -> Result<(), ConfigError> {
        if let Some(&(_, reason)) = NOT_YET.iter().find(|(k, _)| *k == key) {
            return Err(ConfigError::NotSupported {
                key: key.to_string(),
                value: shown(key, value),
                reason,
            });
        }
        let (scope, client_key) = if let Some(rest) = key
            .strip_prefix("main.consumer.")
            .or_else(|| key.strip_prefix("consumer."))
        {
            (ClientScope::Consumer, rest)
        } else if let Some(rest) = key.strip_prefix("producer.") {
            (ClientScope::Producer, rest)
        } else if let Some(rest) = key.strip_prefix("admin.") {
            (ClientScope::Admin, rest)
        } else if key == "security.protocol" || key.starts_with("sasl.") || key.starts_with("ssl.")
        {
            (ClientScope::All, key)
        } else {
            return Err(ConfigError::UnknownKey {
                key: key.to_string(),
                suggestion: super::suggest::closest(key, STREAMS_KEYS.iter().copied())
                    .map(str::to_string),
            });
        };
        if client_key.is_empty() {
            return Err(ConfigError::UnknownKey {
                key: key.to_string(),
                suggestion: None,
            });
        }
        if let Some(&(_, reason)) = MANAGED.iter().find(|(k, _)| *k == client_key) {
            return Err(ConfigError::Managed {
                key: key.to_string(),
                reason,
            });
        }
        if client_key == "sasl.jaas.config" {
            return Err(ConfigError::NotSupported {
                key: key.to_string(),
                value: shown(key, value),
                reason: "librdkafka has no JAAS; use `sasl.mechanism`, `sasl.username` and \
                         `sasl.password` (or `sasl.oauthbearer.*`)",
            });
        }
        let setting = ClientSetting {
            given: key.to_string(),
            key: client_key.to_string(),
            value: value.to_string(),
        };
        self.clients
            .retain(|(s, c)| !(*s == scope && c.key == setting.key));
        self.clients.push((scope, setting));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(key: &str, value: &str) -> String {
        Settings::default()
            .apply(key, value)
            .expect_err("refused")
            .to_string()
    }

    /// `StreamsConfig.configDef().names()` of Kafka Streams 4.4.
    const KAFKA_STREAMS_KEYS: &[&str] = &[
        "acceptable.recovery.lag",
        "allow.os.group.write.access",
        "application.id",
        "application.server",
        "bootstrap.servers",
        "buffered.records.per.partition",
        "built.in.metrics.version",
        "cache.max.bytes.buffering",
        "client.id",
        "commit.interval.ms",
        "config.providers",
        "connections.max.idle.ms",
        "default.client.supplier",
        "default.deserialization.exception.handler",
        "default.dsl.store",
        "default.interactive.query.isolation.level",
        "default.key.serde",
        "default.list.key.serde.inner",
        "default.list.key.serde.type",
        "default.list.value.serde.inner",
        "default.list.value.serde.type",
        "default.production.exception.handler",
        "default.timestamp.extractor",
        "default.value.serde",
        "deserialization.exception.handler",
        "dsl.store.format",
        "dsl.store.suppliers.class",
        "enable.metrics.push",
        "enable.transactional.statestores",
        "ensure.explicit.internal.resource.naming",
        "errors.dead.letter.queue.topic.name",
        "group.protocol",
        "log.summary.interval.ms",
        "max.task.idle.ms",
        "max.warmup.replicas",
        "metadata.cluster.check.enable",
        "metadata.max.age.ms",
        "metadata.recovery.rebootstrap.trigger.ms",
        "metadata.recovery.strategy",
        "metric.reporters",
        "metrics.num.samples",
        "metrics.recording.level",
        "metrics.sample.window.ms",
        "num.standby.replicas",
        "num.stream.threads",
        "poll.ms",
        "probing.rebalance.interval.ms",
        "processing.exception.handler",
        "processing.exception.handler.global.enabled",
        "processing.guarantee",
        "processor.wrapper.class",
        "production.exception.handler",
        "rack.aware.assignment.non_overlap_cost",
        "rack.aware.assignment.strategy",
        "rack.aware.assignment.tags",
        "rack.aware.assignment.traffic_cost",
        "receive.buffer.bytes",
        "reconnect.backoff.max.ms",
        "reconnect.backoff.ms",
        "repartition.purge.interval.ms",
        "replication.factor",
        "request.timeout.ms",
        "retry.backoff.ms",
        "rocksdb.config.setter",
        "security.protocol",
        "send.buffer.bytes",
        "state.cleanup.delay.ms",
        "state.cleanup.dir.max.age.ms",
        "state.dir",
        "statestore.cache.max.bytes",
        "statestore.uncommitted.max.bytes",
        "task.assignor.class",
        "task.timeout.ms",
        "topology.description.push.enabled",
        "topology.optimization",
        "upgrade.from",
        "window.size.ms",
        "windowed.inner.class.serde",
        "windowstore.changelog.additional.retention.ms",
    ];

    #[test]
    fn every_kafka_streams_key_is_known() {
        for key in KAFKA_STREAMS_KEYS {
            let mut settings = Settings::default();
            if let Err(err) = settings.apply(key, "1") {
                assert!(
                    !matches!(err, ConfigError::UnknownKey { .. }),
                    "{key}: {err}"
                );
            }
        }
        assert_eq!(
            message("enable.transactional.statestores", "true"),
            "config key `enable.transactional.statestores` = \"true\" is not supported yet: \
             transactional state stores are not implemented"
        );
    }

    #[test]
    fn integers_outside_the_range_are_out_of_range() {
        assert_eq!(
            message("num.stream.threads", "-1"),
            "invalid value \"-1\" for config key `num.stream.threads`: out of range; \
             accepted: an integer from 1 to 1024"
        );
        assert!(message("commit.interval.ms", "-5").contains("out of range"));
        assert!(message("commit.interval.ms", "5s").contains("not an integer"));
        assert!(message("num.stream.threads", "99999999999999999999999").contains("out of range"));
    }

    #[test]
    fn servers() {
        assert!(valid_servers("localhost:9092"));
        assert!(valid_servers("a:1, b:2"));
        assert!(valid_servers("PLAINTEXT://127.0.0.1:9092"));
        assert!(!valid_servers("localhost"));
        assert!(!valid_servers("localhost:port"));
        assert!(!valid_servers(""));
    }
}
