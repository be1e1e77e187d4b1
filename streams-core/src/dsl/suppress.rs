//! What [`KTable::suppress`](super::KTable::suppress) takes — Kafka Streams' `Suppressed` and
//! `Suppressed.BufferConfig`.

use std::time::Duration;

use crate::state::Windowed;

use super::processors::suppress::SuppressSpec;

/// A buffer that is full emits its oldest entries early — Kafka Streams' `EagerBufferConfig`.
///
/// ```
/// use streams_core::dsl::{BufferConfig, EmitEarlyWhenFull};
/// let eager: BufferConfig<EmitEarlyWhenFull> = BufferConfig::max_records(100);
/// # let _ = eager;
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EmitEarlyWhenFull;

/// A buffer that is full stops the application with an error — Kafka Streams'
/// `StrictBufferConfig` (what final results need: an early emission would not be final).
///
/// ```
/// use streams_core::dsl::{BufferConfig, ShutDownWhenFull};
/// let strict: BufferConfig<ShutDownWhenFull> = BufferConfig::max_bytes(1 << 20).shut_down_when_full();
/// # let _ = strict;
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ShutDownWhenFull;

/// The limits of a suppression's buffer and what happens when it is full — Kafka Streams'
/// `Suppressed.BufferConfig`. The strategy is in the type (`F`), so
/// [`Suppressed::until_window_closes`] accepts only buffers that never emit early.
///
/// The buffer lives in memory and is restored from its changelog topic
/// (`<application.id>-<store>-changelog`) unless logging is disabled.
///
/// ```
/// use streams_core::dsl::BufferConfig;
/// let eager = BufferConfig::max_records(1_000).with_max_bytes(1 << 20).emit_early_when_full();
/// let strict = BufferConfig::unbounded().with_logging_disabled();
/// # let _ = (eager, strict);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BufferConfig<F = EmitEarlyWhenFull> {
    max_records: u64,
    max_bytes: u64,
    logging: bool,
    when_full: F,
}

impl BufferConfig {
    /// At most `records` entries; when full, emit the oldest early.
    pub fn max_records(records: u64) -> BufferConfig<EmitEarlyWhenFull> {
        BufferConfig {
            max_records: records,
            max_bytes: u64::MAX,
            logging: true,
            when_full: EmitEarlyWhenFull,
        }
    }

    /// At most `bytes` of entries (keys, values and record context, estimated as Kafka Streams
    /// does); when full, emit the oldest early.
    pub fn max_bytes(bytes: u64) -> BufferConfig<EmitEarlyWhenFull> {
        BufferConfig {
            max_records: u64::MAX,
            max_bytes: bytes,
            logging: true,
            when_full: EmitEarlyWhenFull,
        }
    }

    /// No limit (memory permitting): never emits early.
    pub fn unbounded() -> BufferConfig<ShutDownWhenFull> {
        BufferConfig {
            max_records: u64::MAX,
            max_bytes: u64::MAX,
            logging: true,
            when_full: ShutDownWhenFull,
        }
    }
}

impl<F> BufferConfig<F> {
    /// Limits the number of entries.
    pub fn with_max_records(mut self, records: u64) -> Self {
        self.max_records = records;
        self
    }

    /// Limits the bytes of entries.
    pub fn with_max_bytes(mut self, bytes: u64) -> Self {
        self.max_bytes = bytes;
        self
    }

    /// Removes both limits (Kafka Streams' `withNoBound`).
    pub fn with_no_bound(self) -> BufferConfig<ShutDownWhenFull> {
        BufferConfig {
            max_records: u64::MAX,
            max_bytes: u64::MAX,
            logging: self.logging,
            when_full: ShutDownWhenFull,
        }
    }

    /// When full, emit the oldest entries early.
    pub fn emit_early_when_full(self) -> BufferConfig<EmitEarlyWhenFull> {
        self.with_strategy(EmitEarlyWhenFull)
    }

    /// When full, fail the task (the application stops with an error).
    pub fn shut_down_when_full(self) -> BufferConfig<ShutDownWhenFull> {
        self.with_strategy(ShutDownWhenFull)
    }

    /// Keeps a changelog of the buffer, so it survives a restart or a move (the default).
    pub fn with_logging_enabled(mut self) -> Self {
        self.logging = true;
        self
    }

    /// Keeps no changelog: buffered updates are lost with the task's state.
    pub fn with_logging_disabled(mut self) -> Self {
        self.logging = false;
        self
    }

    fn with_strategy<G>(self, when_full: G) -> BufferConfig<G> {
        BufferConfig {
            max_records: self.max_records,
            max_bytes: self.max_bytes,
            logging: self.logging,
            when_full,
        }
    }
}

/// How a suppression's buffer behaves when full; see [`BufferConfig`].
///
/// ```
/// use streams_core::dsl::{EmitEarlyWhenFull, ShutDownWhenFull, WhenFull};
/// assert!(ShutDownWhenFull::SHUT_DOWN && !EmitEarlyWhenFull::SHUT_DOWN);
/// ```
pub trait WhenFull: Copy + sealed::Sealed {
    /// Whether a full buffer fails the task rather than emitting early.
    const SHUT_DOWN: bool;
}

impl WhenFull for EmitEarlyWhenFull {
    const SHUT_DOWN: bool = false;
}

impl WhenFull for ShutDownWhenFull {
    const SHUT_DOWN: bool = true;
}

/// Final results: each window's last update, once the window closes — see
/// [`Suppressed::until_window_closes`].
///
/// ```
/// use streams_core::dsl::{BufferConfig, Suppressed, UntilWindowCloses};
/// let finals: Suppressed<UntilWindowCloses> = Suppressed::until_window_closes(BufferConfig::unbounded());
/// # let _ = finals;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UntilWindowCloses {
    buffer: BufferConfig<ShutDownWhenFull>,
}

/// Rate limiting: each key's latest update, a fixed time after its first — see
/// [`Suppressed::until_time_limit`].
///
/// ```
/// use std::time::Duration;
/// use streams_core::dsl::{BufferConfig, Suppressed, UntilTimeLimit};
/// let limited: Suppressed<UntilTimeLimit> =
///     Suppressed::until_time_limit(Duration::from_secs(60), BufferConfig::max_records(10_000))
///         .with_name("rate-limit");
/// # let _ = limited;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UntilTimeLimit {
    time_to_wait_ms: i64,
    max_records: u64,
    max_bytes: u64,
    logging: bool,
    shut_down_when_full: bool,
}

/// Holds back a table's updates — Kafka Streams' `Suppressed`: until a window closes (final
/// results of a windowed aggregation) or for a time limit per key (rate limiting). Give it to
/// [`KTable::suppress`](super::KTable::suppress).
///
/// Time is stream time, as the suppression sees it (the highest timestamp of the updates it
/// received): nothing is emitted while no new updates arrive, whatever the wall clock says.
///
/// ```
/// use std::time::Duration;
/// use streams_core::dsl::{BufferConfig, StreamsBuilder, Suppressed, TimeWindows};
///
/// let builder = StreamsBuilder::new();
/// builder
///     .stream::<String, String>("clicks")
///     .group_by_key()
///     .windowed_by(TimeWindows::of_size_and_grace(Duration::from_secs(60), Duration::from_secs(10)))
///     .count()
///     .suppress(Suppressed::until_window_closes(BufferConfig::unbounded()))
///     .to_stream()
///     .to("clicks-per-minute");
/// let topology = builder.build().unwrap();
/// assert!(topology.describe().to_string().contains("KTABLE-SUPPRESS-0000000003"));
/// ```
///
/// Final results need windowed keys; this does not compile:
///
/// ```compile_fail
/// use streams_core::dsl::{BufferConfig, StreamsBuilder, Suppressed};
/// let builder = StreamsBuilder::new();
/// builder
///     .stream::<String, String>("clicks")
///     .group_by_key()
///     .count()
///     .suppress(Suppressed::until_window_closes(BufferConfig::unbounded()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppressed<S> {
    pub(crate) name: Option<String>,
    pub(crate) kind: S,
}

impl Suppressed<UntilWindowCloses> {
    /// Only each window's final result: an update is held until stream time passes its window's
    /// end plus the grace period (of the windowed aggregation upstream), then emitted if it is
    /// still the window's latest. Updates that delete are dropped. The buffer must not emit
    /// early, so it takes a [`ShutDownWhenFull`] configuration
    /// ([`BufferConfig::unbounded`], or limits with
    /// [`shut_down_when_full`](BufferConfig::shut_down_when_full)).
    pub fn until_window_closes(buffer: BufferConfig<ShutDownWhenFull>) -> Self {
        Suppressed {
            name: None,
            kind: UntilWindowCloses { buffer },
        }
    }
}

impl Suppressed<UntilTimeLimit> {
    /// Each key's latest update, `time_to_wait` (stream time) after the key's first buffered
    /// update — at most one update per key per period. Deletes are emitted too.
    pub fn until_time_limit<F: WhenFull>(time_to_wait: Duration, buffer: BufferConfig<F>) -> Self {
        Suppressed {
            name: None,
            kind: UntilTimeLimit {
                time_to_wait_ms: i64::try_from(time_to_wait.as_millis()).unwrap_or(i64::MAX),
                max_records: buffer.max_records,
                max_bytes: buffer.max_bytes,
                logging: buffer.logging,
                shut_down_when_full: F::SHUT_DOWN,
            },
        }
    }
}

impl<S> Suppressed<S> {
    /// Names the suppression's node; its buffer store is then `<name>-store`.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
}

/// A suppression that applies to tables with keys `K`: every suppression for any keys, final
/// results only for windowed keys.
///
/// ```
/// use streams_core::dsl::{Suppression, UntilTimeLimit, UntilWindowCloses, Windowed};
/// fn applies<S: Suppression<K>, K>() {}
/// applies::<UntilTimeLimit, String>();
/// applies::<UntilWindowCloses, Windowed<String>>();
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot suppress a table with keys `{K}`",
    label = "final results need a windowed table",
    note = "`Suppressed::until_window_closes` applies to the tables of windowed aggregations (keys `Windowed<_>`); use `Suppressed::until_time_limit` for other tables"
)]
pub trait Suppression<K>: sealed::Sealed {
    /// The time an update of `key` with record time `timestamp` is buffered under.
    #[doc(hidden)]
    fn buffer_time(key: &K, timestamp: i64) -> i64;

    /// How it buffers; `window_grace_ms` is the grace period of the windowed aggregation
    /// upstream (final results need one).
    #[doc(hidden)]
    fn spec(&self, window_grace_ms: Option<i64>) -> Option<SuppressSpecs>;
}

/// The resolved buffering of a suppression (opaque).
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct SuppressSpecs(pub(crate) SuppressSpec);

impl<K> Suppression<K> for UntilTimeLimit {
    fn buffer_time(_key: &K, timestamp: i64) -> i64 {
        timestamp
    }

    fn spec(&self, _window_grace_ms: Option<i64>) -> Option<SuppressSpecs> {
        Some(SuppressSpecs(SuppressSpec {
            duration_ms: self.time_to_wait_ms,
            max_records: self.max_records,
            max_bytes: self.max_bytes,
            shut_down_when_full: self.shut_down_when_full,
            safe_to_drop_tombstones: false,
            logging: self.logging,
        }))
    }
}

impl<K> Suppression<Windowed<K>> for UntilWindowCloses {
    fn buffer_time(key: &Windowed<K>, _timestamp: i64) -> i64 {
        key.window.end_ms
    }

    fn spec(&self, window_grace_ms: Option<i64>) -> Option<SuppressSpecs> {
        Some(SuppressSpecs(SuppressSpec {
            duration_ms: window_grace_ms?,
            max_records: self.buffer.max_records,
            max_bytes: self.buffer.max_bytes,
            shut_down_when_full: true,
            safe_to_drop_tombstones: true,
            logging: self.buffer.logging,
        }))
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::EmitEarlyWhenFull {}
    impl Sealed for super::ShutDownWhenFull {}
    impl Sealed for super::UntilWindowCloses {}
    impl Sealed for super::UntilTimeLimit {}
}
