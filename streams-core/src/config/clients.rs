//! librdkafka client configurations for a streams application: what Kafka Streams sets for its
//! consumers, producers and admin client, plus the user's passthrough settings.

use rdkafka::ClientConfig;
use rdkafka::error::KafkaError;

use crate::config::{ClientScope, ConfigError, StreamsConfig, is_secret};

/// How often consumers report statistics (consumer lag, high watermarks).
pub(crate) const STATISTICS_INTERVAL_MS: &str = "1000";

fn base(config: &StreamsConfig, client_id: &str, scope: ClientScope) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", config.bootstrap_servers())
        .set("client.id", client_id);
    for setting in config.client_settings(scope) {
        c.set(&setting.key, &setting.value);
    }
    c
}

/// The main consumer of a stream thread: group = application id, `range` assignor so that
/// co-partitioned topics land on the same member, offsets committed only by the runtime.
pub(crate) fn consumer(config: &StreamsConfig, client_id: &str) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", config.bootstrap_servers())
        .set("client.id", client_id)
        .set("auto.offset.reset", config.auto_offset_reset().as_str())
        .set("statistics.interval.ms", STATISTICS_INTERVAL_MS)
        // librdkafka stops fetching for `fetch.queue.backoff.ms` (1 s by default) whenever
        // `queued.min.messages` wait: a thread a little slower than the fetcher then runs
        // in bursts. A user's `consumer.*` setting overrides this.
        .set("fetch.queue.backoff.ms", "10")
        // librdkafka prefetches until 100 000 records per partition or 64 MiB are queued:
        // most of a thread's memory, for no throughput (measured in BENCHMARKS.md: peak RSS
        // 86 → 46 MiB, throughput unchanged). 10 000 records or 8 MiB still cover tens of ms
        // of processing at full speed.
        .set("queued.min.messages", "10000")
        .set("queued.max.messages.kbytes", "8192");
    for setting in config.client_settings(ClientScope::Consumer) {
        c.set(&setting.key, &setting.value);
    }
    c.set("group.id", config.application_id())
        .set("partition.assignment.strategy", "range")
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("isolation.level", isolation_level(config));
    c
}

/// `read_committed` under exactly-once (aborted transactions are never read), else
/// `read_uncommitted`.
fn isolation_level(config: &StreamsConfig) -> &'static str {
    if config.processing_guarantee().is_exactly_once() {
        "read_committed"
    } else {
        "read_uncommitted"
    }
}

/// A client that reads changelogs' end offsets as written, uncommitted records included:
/// librdkafka's watermarks on a `read_committed` handle are the last stable offset, which stays
/// behind while a transaction is open.
pub(crate) fn end_offsets_consumer(config: &StreamsConfig, client_id: &str) -> ClientConfig {
    let mut c = restore_consumer(config, client_id);
    c.set(
        "group.id",
        format!("{}-end-offsets", config.application_id()),
    )
    .set("isolation.level", "read_uncommitted");
    c
}

/// A stream thread's restore consumer: partitions assigned by hand, read from the given
/// offsets (the earliest if out of range). It never joins a group nor commits; librdkafka
/// still wants a `group.id` to assign partitions, so it gets `<application.id>-restore`.
pub(crate) fn restore_consumer(config: &StreamsConfig, client_id: &str) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", config.bootstrap_servers())
        .set("client.id", client_id);
    // Defaults that a user's `consumer.*` settings override. librdkafka backs its fetcher off
    // for `fetch.queue.backoff.ms` (1 s by default) whenever `queued.min.messages` are
    // waiting: that capped restoration at ~130 k records/s.
    c.set("fetch.queue.backoff.ms", "5")
        .set("queued.min.messages", "200000")
        .set("max.partition.fetch.bytes", "8388608");
    for setting in config.client_settings(ClientScope::Consumer) {
        c.set(&setting.key, &setting.value);
    }
    c.set("group.id", format!("{}-restore", config.application_id()))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("enable.partition.eof", "false")
        .set("isolation.level", isolation_level(config));
    c
}

/// The global stream thread's consumer — Kafka Streams' global consumer: every partition of
/// the global stores' topics assigned by hand, read from the stores' checkpoint (or the
/// earliest offset), outside the consumer group; it never commits. librdkafka still wants a
/// `group.id` to assign partitions, so it gets `<application.id>-global`.
pub(crate) fn global_consumer(config: &StreamsConfig, client_id: &str) -> ClientConfig {
    let mut c = restore_consumer(config, client_id);
    c.set("group.id", format!("{}-global", config.application_id()));
    c
}

/// A stream thread's producer: Java's default partitioner (`murmur2_random`) so keys land
/// where Java producers put them, Kafka Streams' `linger.ms=100`, and idempotence on (the Java
/// producer's default since Kafka 3.0: a retried send never writes a record twice), unless
/// overridden. Under exactly-once it is transactional: `transactional_id`, Kafka Streams'
/// `transaction.timeout.ms` of 10 s unless overridden, idempotence always on.
pub(crate) fn producer(
    config: &StreamsConfig,
    client_id: &str,
    transactional_id: Option<&str>,
) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", config.bootstrap_servers())
        .set("client.id", client_id)
        .set("partitioner", "murmur2_random")
        .set("linger.ms", "100")
        .set("enable.idempotence", "true");
    if transactional_id.is_some() {
        c.set("transaction.timeout.ms", "10000");
    }
    for setting in config.client_settings(ClientScope::Producer) {
        c.set(&setting.key, &setting.value);
    }
    if let Some(id) = transactional_id {
        c.set("transactional.id", id)
            .set("enable.idempotence", "true");
    }
    c
}

/// The admin client (topic checks and creation at start).
pub(crate) fn admin(config: &StreamsConfig, client_id: &str) -> ClientConfig {
    base(config, client_id, ClientScope::Admin)
}

/// Checks the passthrough settings with librdkafka itself, per client.
pub(crate) fn validate(config: &StreamsConfig) -> Result<(), ConfigError> {
    for (scope, name) in [
        (ClientScope::Consumer, "consumer"),
        (ClientScope::Producer, "producer"),
        (ClientScope::Admin, "admin client"),
    ] {
        let c = base(config, "validate", scope);
        if let Err(e) = c.create_native_config() {
            return Err(client_error(config, scope, name, e));
        }
    }
    Ok(())
}

fn client_error(
    config: &StreamsConfig,
    scope: ClientScope,
    client: &'static str,
    error: KafkaError,
) -> ConfigError {
    let KafkaError::ClientConfig(_, description, key, value) = error else {
        return ConfigError::Client {
            key: "?".to_string(),
            client,
            reason: error.to_string(),
        };
    };
    let given = config
        .client_settings(scope)
        .filter(|s| s.key == key)
        .last()
        .map_or_else(|| key.clone(), |s| s.given.clone());
    let reason = if is_secret(&key) && !value.is_empty() {
        description.replace(&value, "[redacted]")
    } else {
        description
    };
    ConfigError::Client {
        key: given,
        client,
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(extra: &[(&str, &str)]) -> StreamsConfig {
        extra
            .iter()
            .fold(
                StreamsConfig::builder()
                    .application_id("app")
                    .bootstrap_servers("localhost:9092"),
                |b, (k, v)| b.set(*k, *v),
            )
            .build()
            .expect("valid config")
    }

    #[test]
    fn stream_consumer_prefetch_is_bounded_unless_the_user_says_otherwise() {
        let c = consumer(&config(&[]), "c");
        assert_eq!(c.get("queued.min.messages"), Some("10000"));
        assert_eq!(c.get("queued.max.messages.kbytes"), Some("8192"));
        assert_eq!(c.get("fetch.queue.backoff.ms"), Some("10"));

        let c = consumer(
            &config(&[("consumer.queued.max.messages.kbytes", "65536")]),
            "c",
        );
        assert_eq!(c.get("queued.max.messages.kbytes"), Some("65536"));
    }
}
