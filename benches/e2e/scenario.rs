//! The scenarios, the records they read, and what this project's runtime can run today.

/// One benchmark scenario (DESIGN.md §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Scenario {
    /// `mapValues(v -> v)` on byte values.
    Passthrough,
    /// Keep values whose 16th character is an even digit (half of them), upper-case them.
    FilterMap,
    /// `groupByKey().count()`: RocksDB store with changelog, caching on.
    Count,
    /// `count()` in 1 s tumbling windows.
    WindowedCount,
    /// The stream joined with a table topic (one row per key).
    Join,
    /// A windowed stream-stream join: the input's records split in two sides by a digit of
    /// their index ([`join_left_side`]), joined by key within 100 ms.
    StreamJoin,
}

impl Scenario {
    pub(crate) const ALL: [Scenario; 6] = [
        Scenario::Passthrough,
        Scenario::FilterMap,
        Scenario::Count,
        Scenario::WindowedCount,
        Scenario::Join,
        Scenario::StreamJoin,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Scenario::Passthrough => "passthrough",
            Scenario::FilterMap => "filter_map",
            Scenario::Count => "count",
            Scenario::WindowedCount => "windowed_count",
            Scenario::Join => "join",
            Scenario::StreamJoin => "stream_join",
        }
    }

    pub(crate) fn parse(s: &str) -> Result<Self, String> {
        let s = s.replace('-', "_");
        Scenario::ALL
            .into_iter()
            .find(|c| c.name() == s || (s == "filter" && *c == Scenario::FilterMap))
            .ok_or_else(|| {
                format!(
                    "unknown scenario `{s}` (passthrough, filter_map, count, windowed_count, join, \
                     stream_join)"
                )
            })
    }

    /// Whether the scenario reads a table topic besides the stream.
    pub(crate) fn needs_table(self) -> bool {
        self == Scenario::Join
    }

    /// Whether this project's runtime can run the scenario; `Err` says what is missing.
    ///
    /// Checked against streams-core as it is: the runtime runs Processor API topologies with
    /// changelogged stores (no DSL yet, so each scenario is a few processors). A scenario is
    /// only run for "ours" when it can be built with the same semantics as the Kafka Streams
    /// peer — never approximated.
    pub(crate) fn ours_support(self) -> Result<(), &'static str> {
        // Every scenario is built with the same operations as the peer (see runners.rs):
        // count, windowed_count, join and stream_join with the DSL, as the peer's program.
        Ok(())
    }
}

/// How many pre-loaded input records share one millisecond of event time: 500, so event time
/// runs at 500 000 records per second, about the rate at which the harness loads them on the
/// 2-core machine of `BENCHMARKS.md` (the timestamps were the load's wall clock before, which
/// made the stream_join's output 2.6 to 5.8 records per input depending on the load's speed).
/// With 10 000 keys a key comes back every 20 ms of event time, on alternate join sides, so
/// the 100 ms stream_join joins a record with the 3 earlier records of the other side within
/// its window: 810 000 results for 300 000 input records (2.7 per input).
pub(crate) const EVENT_RECORDS_PER_MS: u64 = 500;

/// The key of input record `i`: `key-<i mod keys>`.
pub(crate) fn key(i: u64, keys: u64) -> String {
    format!("key-{}", i % keys)
}

/// The value of input record `i`: its index as 16 digits, padded with `x` to `size` bytes.
pub(crate) fn value(i: u64, size: usize, buf: &mut Vec<u8>) {
    use std::io::Write;
    buf.clear();
    let _ = write!(buf, "{:016}", i % 10_000_000_000_000_000);
    buf.resize(size.max(16), b'x');
}

/// The value of table row `k` (join scenario).
pub(crate) fn table_value(k: u64) -> String {
    format!("profile-{k:08}-region-{}", k % 17)
}

/// Which side of the stream_join scenario a value is on: the left one when the digit of its
/// index's 10^4 place is even (the low digits are the key's: `key-<i mod keys>`), the same rule
/// as the Java peer.
pub(crate) fn join_left_side(value: &str) -> bool {
    value
        .as_bytes()
        .get(11)
        .is_some_and(|d| d.is_ascii_digit() && (d - b'0').is_multiple_of(2))
}

/// Whether filter_map keeps a value (same rule as the Java peer).
pub(crate) fn filter_keeps(value: &str) -> bool {
    value
        .as_bytes()
        .get(15)
        .is_some_and(|d| d.is_ascii_digit() && (d - b'0').is_multiple_of(2))
}
