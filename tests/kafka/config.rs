//! `StreamsConfig`: names, checks, passthrough, secrets. No broker needed.

use std::time::Duration;

use streams::config::{
    AutoOffsetReset, ConfigError, DeserializationHandler, ProductionHandler, StreamsConfig,
};

fn base() -> Vec<(&'static str, &'static str)> {
    vec![
        ("application.id", "app"),
        ("bootstrap.servers", "localhost:9092"),
    ]
}

fn with(extra: &[(&'static str, &'static str)]) -> Result<StreamsConfig, ConfigError> {
    let mut props = base();
    props.extend_from_slice(extra);
    StreamsConfig::from_properties(props)
}

#[test]
fn kafka_streams_names_and_defaults() {
    let c = with(&[]).unwrap();
    assert_eq!(c.application_id(), "app");
    assert_eq!(c.num_stream_threads(), 1);
    assert_eq!(c.commit_interval(), Duration::from_secs(30));
    assert_eq!(c.max_task_idle_ms(), 0);
    assert_eq!(c.auto_offset_reset(), AutoOffsetReset::Earliest);
    assert_eq!(c.poll_interval(), Duration::from_millis(100));
    assert_eq!(c.replication_factor(), -1);
    assert_eq!(
        c.deserialization_handler(),
        DeserializationHandler::LogAndFail
    );
    // Kafka Streams' DefaultProductionExceptionHandler: retry retriable errors, fail on others.
    assert_eq!(c.production_handler(), ProductionHandler::Default);
    let named = |name: &'static str| {
        with(&[("production.exception.handler", name)])
            .unwrap()
            .production_handler()
    };
    assert_eq!(named("fail"), ProductionHandler::Fail);
    assert_eq!(
        named("org.apache.kafka.streams.errors.DefaultProductionExceptionHandler"),
        ProductionHandler::Default
    );

    let c = with(&[
        ("num.stream.threads", "4"),
        ("commit.interval.ms", "250"),
        ("max.task.idle.ms", "-1"),
        ("auto.offset.reset", "latest"),
        (
            "default.deserialization.exception.handler",
            "org.apache.kafka.streams.errors.LogAndContinueExceptionHandler",
        ),
        ("production.exception.handler", "continue"),
        ("state.dir", "/tmp/x"),
        ("replication.factor", "3"),
    ])
    .unwrap();
    assert_eq!(c.num_stream_threads(), 4);
    assert_eq!(c.commit_interval(), Duration::from_millis(250));
    assert_eq!(c.max_task_idle_ms(), -1);
    assert_eq!(c.auto_offset_reset(), AutoOffsetReset::Latest);
    assert_eq!(
        c.deserialization_handler(),
        DeserializationHandler::LogAndContinue
    );
    assert_eq!(c.production_handler(), ProductionHandler::Continue);
    assert_eq!(c.state_dir(), std::path::Path::new("/tmp/x"));
    assert_eq!(c.replication_factor(), 3);
}

#[test]
fn errors_name_the_key_the_value_and_what_is_accepted() {
    let e = with(&[("auto.offset.reset", "oldest")]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid value \"oldest\" for config key `auto.offset.reset`: unknown value; \
         accepted: `earliest`, `latest`, `none`"
    );
    let e = with(&[("bootstrap.servers", "localhost")]).unwrap_err();
    assert!(matches!(&e, ConfigError::InvalidValue { key, .. } if key == "bootstrap.servers"));
    let e = with(&[("application.id", "has space")]).unwrap_err();
    assert!(e.to_string().contains("[a-zA-Z0-9._-]"), "{e}");
    let e = with(&[("num.stream.threads", "0")]).unwrap_err();
    assert!(e.to_string().contains("out of range"), "{e}");
    let e = StreamsConfig::from_properties([("bootstrap.servers", "a:1")]).unwrap_err();
    assert!(
        matches!(
            e,
            ConfigError::Missing {
                key: "application.id",
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn typos_get_a_suggestion_and_unknown_keys_a_hint() {
    let e = with(&[("aplication.id", "x")]).unwrap_err();
    assert!(
        e.to_string().contains("did you mean `application.id`?"),
        "{e}"
    );
    let e = with(&[("session.timeout.ms", "10000")]).unwrap_err();
    assert!(
        matches!(
            &e,
            ConfigError::UnknownKey {
                suggestion: None,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("`consumer.`"), "{e}");
}

#[test]
fn exactly_once_defaults_and_unimplemented_keys_are_refused_not_ignored() {
    // exactly_once_v2: Kafka Streams' defaults, and a commit interval a transaction outlives
    // is refused.
    let c = with(&[("processing.guarantee", "exactly_once_v2")]).unwrap();
    assert_eq!(c.commit_interval(), Duration::from_millis(100));
    assert_eq!(c.transaction_timeout().unwrap(), Duration::from_secs(10));
    let c = with(&[
        ("processing.guarantee", "exactly_once_v2"),
        ("commit.interval.ms", "5000"),
    ])
    .unwrap();
    assert_eq!(c.commit_interval(), Duration::from_secs(5));
    let e = with(&[
        ("processing.guarantee", "exactly_once_v2"),
        ("commit.interval.ms", "20000"),
    ])
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid value `20000` for config key `commit.interval.ms`: larger than \
         transaction.timeout.ms (10000 ms): under exactly_once_v2 each commit interval is one \
         transaction, which must commit before it times out; accepted: at most \
         transaction.timeout.ms (set it with `producer.transaction.timeout.ms`)"
    );
    assert!(
        with(&[
            ("processing.guarantee", "exactly_once_v2"),
            ("commit.interval.ms", "20000"),
            ("producer.transaction.timeout.ms", "60000"),
        ])
        .is_ok()
    );
    let e = with(&[("producer.transactional.id", "mine")]).unwrap_err();
    assert!(matches!(e, ConfigError::Managed { .. }), "{e}");
    let e = with(&[("processing.guarantee", "exactly_once")]).unwrap_err();
    assert!(
        e.to_string().contains("removed in Kafka Streams 4.0"),
        "{e}"
    );
    let e = with(&[("topology.optimization", "all")]).unwrap_err();
    assert!(matches!(e, ConfigError::NotSupported { .. }), "{e}");
    let c = with(&[("statestore.cache.max.bytes", "1000")]).unwrap();
    assert_eq!(c.statestore_cache_max_bytes(), 1000);
    let e = with(&[("rocksdb.memory.max.bytes", "10")]).unwrap_err();
    assert!(e.to_string().contains("rocksdb.memory.max.bytes"), "{e}");
    assert!(with(&[("num.standby.replicas", "0")]).is_ok());
    assert!(with(&[("num.standby.replicas", "1")]).is_err());
}

#[test]
fn client_passthrough_is_checked_by_librdkafka() {
    assert!(
        with(&[
            ("consumer.session.timeout.ms", "10000"),
            ("producer.linger.ms", "5"),
            ("admin.request.timeout.ms", "5000"),
            ("security.protocol", "plaintext"),
            ("sasl.username", "alice"),
        ])
        .is_ok()
    );
    let e = with(&[("producer.linger.ms", "soon")]).unwrap_err();
    assert!(
        matches!(&e, ConfigError::Client { key, client: "producer", .. } if key == "producer.linger.ms"),
        "{e}"
    );
    let e = with(&[("consumer.no.such.thing", "1")]).unwrap_err();
    assert!(
        matches!(&e, ConfigError::Client { key, .. } if key == "consumer.no.such.thing"),
        "{e}"
    );
    let e = with(&[("consumer.group.id", "other")]).unwrap_err();
    assert!(matches!(e, ConfigError::Managed { .. }), "{e}");
    let e = with(&[("consumer.enable.auto.commit", "true")]).unwrap_err();
    assert!(matches!(e, ConfigError::Managed { .. }), "{e}");
}

#[test]
fn secrets_never_show() {
    let c = with(&[
        ("sasl.password", "hunter2"),
        ("producer.sasl.password", "hunter3"),
        ("admin.sasl.password", "hunter4"),
    ])
    .unwrap();
    for shown in [format!("{c:?}"), c.to_string()] {
        for secret in ["hunter2", "hunter3", "hunter4"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.contains("[redacted]"), "{shown}");
    }
    // librdkafka is built with OpenSSL: TLS settings pass through, secrets stay hidden.
    let c = with(&[
        ("security.protocol", "SASL_SSL"),
        ("sasl.mechanism", "SCRAM-SHA-512"),
        ("ssl.key.password", "hunter6"),
    ])
    .unwrap();
    for shown in [format!("{c:?}"), c.to_string()] {
        assert!(!shown.contains("hunter6"), "{shown}");
    }

    // Java's JAAS config has no librdkafka equivalent: refused, and not echoed.
    let e = with(&[("sasl.jaas.config", "org.Foo required password=\"hunter5\";")]).unwrap_err();
    assert!(matches!(e, ConfigError::NotSupported { .. }), "{e}");
    assert!(!e.to_string().contains("hunter5"), "{e}");
    let builder = StreamsConfig::builder().set("sasl.password", "hunter2");
    assert!(!format!("{builder:?}").contains("hunter2"));
}

#[test]
fn properties_files() {
    let dir = std::env::temp_dir().join(format!("streams-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("app.properties");
    std::fs::write(
        &path,
        "# word count\napplication.id = wordcount\nbootstrap.servers: localhost:9092\n\
         num.stream.threads 3\n",
    )
    .unwrap();
    let c = StreamsConfig::from_file(&path).unwrap();
    assert_eq!(c.application_id(), "wordcount");
    assert_eq!(c.num_stream_threads(), 3);

    std::fs::write(
        &path,
        "application.id=a\nbootstrap.servers=b:1\nnum.stream.thread=2\n",
    )
    .unwrap();
    let e = StreamsConfig::from_file(&path).unwrap_err();
    assert!(
        e.to_string().contains("did you mean `num.stream.threads`?"),
        "{e}"
    );
    let e = StreamsConfig::from_file(dir.join("missing.properties")).unwrap_err();
    assert!(matches!(e, ConfigError::Io { .. }), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}
