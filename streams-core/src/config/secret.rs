//! Which settings are secrets, and how they are shown: never.

use std::fmt;

/// Whether a client key holds a secret (after any `consumer.`/`producer.`/`admin.` prefix).
pub(crate) fn is_secret(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    key.contains("password")
        || key.contains("secret")
        || key.ends_with("sasl.jaas.config")
        || key.contains("ssl.key.pem")
        || key.ends_with("ssl_key")
        || key.ends_with("ssl.keystore.key")
        || key.ends_with("sasl.oauthbearer.config")
}

/// A value shown as `[redacted]` if its key is a secret, else quoted.
pub(crate) struct Shown<'a> {
    pub(crate) key: &'a str,
    pub(crate) value: &'a str,
}

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if is_secret(self.key) {
            f.write_str("[redacted]")
        } else {
            write!(f, "{:?}", self.value)
        }
    }
}

/// A value for the error messages: quoted, or `[redacted]`.
pub(crate) fn shown(key: &str, value: &str) -> String {
    Shown { key, value }.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets() {
        for key in [
            "sasl.password",
            "ssl.key.password",
            "consumer.ssl.keystore.password",
            "sasl.jaas.config",
            "ssl.key.pem",
            "sasl.oauthbearer.client.secret",
        ] {
            assert!(is_secret(key), "{key}");
            assert_eq!(shown(key, "hunter2"), "[redacted]");
        }
        assert!(!is_secret("sasl.username"));
        assert_eq!(shown("sasl.username", "alice"), "\"alice\"");
    }
}
