use std::path::PathBuf;

/// A configuration that cannot be used: every variant names the key at fault.
///
/// Secret values (passwords, JAAS configs, private keys) never appear in these messages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A key that neither Kafka Streams nor the client passthrough knows.
    #[error("unknown config key `{key}`{}{}", suggestion_suffix(.suggestion), UNKNOWN_KEY_HINT)]
    UnknownKey {
        /// The key as given.
        key: String,
        /// A known key close to it, if any.
        suggestion: Option<String>,
    },
    /// A known key with a value it cannot take.
    #[error("invalid value {value} for config key `{key}`: {reason}; accepted: {accepted}")]
    InvalidValue {
        /// The key.
        key: String,
        /// The value as given, quoted (or `[redacted]` for a secret).
        value: String,
        /// What is wrong with it.
        reason: String,
        /// The values the key accepts.
        accepted: String,
    },
    /// A required key is not set.
    #[error("config key `{key}` is required: {hint}")]
    Missing {
        /// The key.
        key: &'static str,
        /// How to set it.
        hint: &'static str,
    },
    /// A key or value that Kafka Streams accepts but this runtime does not implement yet.
    #[error("config key `{key}` = {value} is not supported yet: {reason}")]
    NotSupported {
        /// The key.
        key: String,
        /// The value as given, quoted (or `[redacted]` for a secret).
        value: String,
        /// What to do instead.
        reason: &'static str,
    },
    /// A client setting that the runtime manages itself and must not be overridden.
    #[error("config key `{key}` is managed by the streams runtime and cannot be set: {reason}")]
    Managed {
        /// The key as given.
        key: String,
        /// Why.
        reason: &'static str,
    },
    /// librdkafka refused a client (`consumer.`, `producer.`, `admin.` or passthrough) setting.
    #[error("client config key `{key}` (for the {client}) was refused by librdkafka: {reason}")]
    Client {
        /// The key as given.
        key: String,
        /// Which client: consumer, producer or admin client.
        client: &'static str,
        /// librdkafka's message (without the value if it is a secret).
        reason: String,
    },
    /// A properties file could not be read.
    #[error("cannot read the properties file {}: {reason}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error, as text.
        reason: String,
    },
    /// A line of a properties file is malformed.
    #[error("{}:{line}: {reason}", .path.display())]
    Parse {
        /// The file (or `<properties>` for text).
        path: PathBuf,
        /// The 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
}

const UNKNOWN_KEY_HINT: &str = "; client settings go under the `consumer.`, `producer.` or \
    `admin.` prefix (security.protocol, sasl.* and ssl.* apply to every client as they are)";

fn suggestion_suffix(suggestion: &Option<String>) -> String {
    match suggestion {
        Some(s) => format!(" (did you mean `{s}`?)"),
        None => String::new(),
    }
}
