//! Window definitions — Kafka Streams' `TimeWindows`, `SlidingWindows` and `SessionWindows` —
//! and the emit strategy of windowed aggregations.
//!
//! A window definition says which windows a record falls into and how long a window stays open
//! for out-of-order records after it ends (the *grace period*): a window *closes* when stream
//! time (the highest record timestamp an aggregation has seen) passes its end plus the grace
//! period; later records for it are dropped, logged and counted in `dropped-records`.

use std::time::Duration;

use crate::state::Window;
use crate::topology::TopologyError;

use super::cogrouped_stream::CogroupedKStream;
use super::grouped_stream::KGroupedStream;

/// A duration in whole milliseconds, as Kafka Streams' `Duration.toMillis()`, saturating.
fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Fixed-size windows by record time — Kafka Streams' `TimeWindows`: *tumbling* (adjacent,
/// one window per record) by default, *hopping* (overlapping, advancing by less than their size)
/// with [`advance_by`](Self::advance_by). Windows are aligned to the epoch: they start at
/// multiples of the advance, and include their start and exclude their end.
///
/// Windows must have a size larger than zero and advance by more than zero and at most their
/// size. Kafka Streams throws when such windows are made; here they can be made, and an
/// aggregation over them makes [`StreamsBuilder::build`](super::StreamsBuilder::build) fail
/// with [`TopologyError::WindowSizeZero`] or [`TopologyError::InvalidWindowAdvance`].
///
/// ```
/// use std::time::Duration;
/// use streams_core::dsl::TimeWindows;
/// use streams_core::state::Window;
///
/// let hopping = TimeWindows::of_size_and_grace(Duration::from_secs(10), Duration::from_secs(5))
///     .advance_by(Duration::from_secs(5));
/// assert_eq!(
///     hopping.windows_for(7_000),
///     [Window { start_ms: 0, end_ms: 10_000 }, Window { start_ms: 5_000, end_ms: 15_000 }]
/// );
/// assert_eq!(hopping.grace_ms(), 5_000);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeWindows {
    size_ms: i64,
    advance_ms: i64,
    grace_ms: i64,
}

impl TimeWindows {
    /// Tumbling windows of `size` with no grace period: a window closes as soon as stream time
    /// reaches its end.
    pub fn of_size_with_no_grace(size: Duration) -> Self {
        Self::of_size_and_grace(size, Duration::ZERO)
    }

    /// Tumbling windows of `size` that accept out-of-order records until stream time passes
    /// their end by `grace`.
    pub fn of_size_and_grace(size: Duration, grace: Duration) -> Self {
        let size_ms = ms(size);
        TimeWindows {
            size_ms,
            advance_ms: size_ms,
            grace_ms: ms(grace),
        }
    }

    /// Hopping windows: a new window starts every `advance` (each record falls into
    /// `size / advance` windows). The advance must be more than zero and at most the window
    /// size.
    pub fn advance_by(self, advance: Duration) -> Self {
        TimeWindows {
            advance_ms: ms(advance),
            ..self
        }
    }

    fn is_valid(&self) -> bool {
        self.size_ms > 0 && self.advance_ms > 0 && self.advance_ms <= self.size_ms
    }

    /// What is wrong with these windows, if anything, for the aggregation `node`.
    pub(crate) fn problem(&self, node: &str) -> Option<TopologyError> {
        if self.size_ms <= 0 {
            Some(TopologyError::WindowSizeZero {
                node: node.to_string(),
            })
        } else if self.advance_ms <= 0 || self.advance_ms > self.size_ms {
            Some(TopologyError::InvalidWindowAdvance {
                node: node.to_string(),
                size_ms: self.size_ms,
                advance_ms: self.advance_ms,
            })
        } else {
            None
        }
    }

    /// The window size (ms).
    pub fn size_ms(&self) -> i64 {
        self.size_ms
    }

    /// How far consecutive windows start apart (ms); the size for tumbling windows.
    pub fn advance_ms(&self) -> i64 {
        self.advance_ms
    }

    /// The grace period (ms).
    pub fn grace_ms(&self) -> i64 {
        self.grace_ms
    }

    /// The windows a record at `timestamp` falls into, oldest first — Kafka Streams'
    /// `windowsFor`: those starting at a multiple of the advance in `(timestamp − size,
    /// timestamp]`, never before 0. None for invalid windows (size zero, advance zero or larger
    /// than the size).
    pub fn windows_for(&self, timestamp: i64) -> Vec<Window> {
        if !self.is_valid() {
            return Vec::new();
        }
        let first = timestamp
            .saturating_sub(self.size_ms)
            .saturating_add(self.advance_ms)
            .max(0);
        let mut start = first / self.advance_ms * self.advance_ms;
        let mut windows = Vec::with_capacity((self.size_ms / self.advance_ms) as usize);
        while start <= timestamp {
            windows.push(Window {
                start_ms: start,
                end_ms: start.saturating_add(self.size_ms),
            });
            match start.checked_add(self.advance_ms) {
                Some(next) => start = next,
                None => break,
            }
        }
        windows
    }
}

/// Windows of a maximum time difference between records — Kafka Streams' `SlidingWindows`.
///
/// Two records fall into a common window when their timestamps differ by at most the time
/// difference; both window ends are inclusive. An aggregation keeps one window per distinct
/// combination of records: each record makes the window that ends at it (its *left* window) and
/// the one that starts just after it (its *right* window, when later records fall into it), so
/// windows change only where records do, unlike hopping windows.
///
/// ```
/// use std::time::Duration;
/// use streams_core::dsl::SlidingWindows;
///
/// let windows = SlidingWindows::of_time_difference_and_grace(Duration::from_secs(5), Duration::from_secs(10));
/// assert_eq!((windows.time_difference_ms(), windows.grace_ms()), (5_000, 10_000));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SlidingWindows {
    time_difference_ms: i64,
    grace_ms: i64,
}

impl SlidingWindows {
    /// Sliding windows for records at most `time_difference` apart, with no grace period.
    pub fn of_time_difference_with_no_grace(time_difference: Duration) -> Self {
        Self::of_time_difference_and_grace(time_difference, Duration::ZERO)
    }

    /// Sliding windows for records at most `time_difference` apart, accepting out-of-order
    /// records until stream time passes a window's end by `grace`.
    pub fn of_time_difference_and_grace(time_difference: Duration, grace: Duration) -> Self {
        SlidingWindows {
            time_difference_ms: ms(time_difference),
            grace_ms: ms(grace),
        }
    }

    /// The maximum time difference between the records of a window (ms): the window size.
    pub fn time_difference_ms(&self) -> i64 {
        self.time_difference_ms
    }

    /// The grace period (ms).
    pub fn grace_ms(&self) -> i64 {
        self.grace_ms
    }
}

/// Sessions: windows of activity separated by gaps — Kafka Streams' `SessionWindows`.
///
/// A key's records belong to one session while each follows the previous one within the
/// inactivity gap; a record that falls within the gap of two sessions merges them. A session
/// window spans its first to its last record time, both inclusive.
///
/// ```
/// use std::time::Duration;
/// use streams_core::dsl::SessionWindows;
///
/// let sessions = SessionWindows::of_inactivity_gap_with_no_grace(Duration::from_secs(300));
/// assert_eq!((sessions.inactivity_gap_ms(), sessions.grace_ms()), (300_000, 0));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionWindows {
    gap_ms: i64,
    grace_ms: i64,
}

impl SessionWindows {
    /// Sessions ending after `gap` without records, with no grace period.
    pub fn of_inactivity_gap_with_no_grace(gap: Duration) -> Self {
        Self::of_inactivity_gap_and_grace(gap, Duration::ZERO)
    }

    /// Sessions ending after `gap` without records, accepting out-of-order records until stream
    /// time passes a session's end by the gap plus `grace`.
    ///
    /// A gap of zero is allowed, as in Kafka Streams 4.x: a session then holds the records of
    /// one timestamp. It needs a grace period (or a retention given with
    /// [`Materialized::with_retention`](super::Materialized::with_retention)): without one the
    /// session store would keep sessions for 0 ms, and building the program fails with
    /// [`TopologyError::RetentionZero`].
    pub fn of_inactivity_gap_and_grace(gap: Duration, grace: Duration) -> Self {
        SessionWindows {
            gap_ms: ms(gap),
            grace_ms: ms(grace),
        }
    }

    /// The inactivity gap (ms).
    pub fn inactivity_gap_ms(&self) -> i64 {
        self.gap_ms
    }

    /// The grace period (ms).
    pub fn grace_ms(&self) -> i64 {
        self.grace_ms
    }
}

/// When a windowed aggregation emits its results — Kafka Streams' `EmitStrategy`.
///
/// ```
/// use std::time::Duration;
/// use streams_core::dsl::{EmitStrategy, StreamsBuilder, TimeWindows};
///
/// let builder = StreamsBuilder::new();
/// let finals = builder
///     .stream::<String, String>("clicks")
///     .group_by_key()
///     .windowed_by(TimeWindows::of_size_with_no_grace(Duration::from_secs(60)))
///     .emit_strategy(EmitStrategy::OnWindowClose)
///     .count();
/// # let _ = finals;
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum EmitStrategy {
    /// Every update of a window, as it happens (folded per window by the record cache when the
    /// store is cached) — the default.
    #[default]
    OnWindowUpdate,
    /// Only each window's final result, once, when the window closes (stream time passes its
    /// end plus the grace period).
    ///
    /// Two differences from Kafka Streams: it throttles the check for closed windows to once
    /// per second of wall-clock time (an internal setting its test driver turns off), where
    /// this implementation checks on every record; and it commits the last emission's close
    /// time with the input offsets, where this implementation keeps it in memory, so after a
    /// restart windows that closed before and are still stored can be emitted again.
    OnWindowClose,
}

/// A window definition a grouped stream can be windowed by — [`TimeWindows`] and
/// [`SlidingWindows`] make a [`TimeWindowedKStream`](super::TimeWindowedKStream),
/// [`SessionWindows`] a [`SessionWindowedKStream`](super::SessionWindowedKStream) (Kafka Streams'
/// overloads of `windowedBy`). See [`KGroupedStream::windowed_by`].
///
/// ```
/// use std::time::Duration;
/// use streams_core::dsl::{KGroupedStream, SessionWindows, WindowedBy};
///
/// // A helper that windows any grouped stream by whatever window definition it is given.
/// fn windowed<K, V, KC, VC, W: WindowedBy<K, V, KC, VC>>(
///     grouped: &KGroupedStream<K, V, KC, VC>,
///     windows: W,
/// ) -> W::Stream
/// where
///     K: Clone + 'static,
///     V: Clone + 'static,
///     KC: streams_core::codec::Codec<K>,
///     VC: streams_core::codec::Codec<V>,
/// {
///     grouped.windowed_by(windows)
/// }
/// let builder = streams_core::dsl::StreamsBuilder::new();
/// let grouped = builder.stream::<String, String>("clicks").group_by_key();
/// let sessions = windowed(&grouped, SessionWindows::of_inactivity_gap_with_no_grace(Duration::from_secs(60)));
/// # let _ = sessions;
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a window definition",
    note = "window a grouped stream by `TimeWindows`, `SlidingWindows` or `SessionWindows`"
)]
pub trait WindowedBy<K, V, KC, VC>: sealed::Sealed {
    /// The windowed stream.
    type Stream;

    /// Windows `grouped`.
    #[doc(hidden)]
    fn windowed(self, grouped: &KGroupedStream<K, V, KC, VC>) -> Self::Stream;
}

/// A window definition a cogrouped stream can be windowed by — [`TimeWindows`] and
/// [`SlidingWindows`] make a
/// [`TimeWindowedCogroupedKStream`](super::TimeWindowedCogroupedKStream), [`SessionWindows`] a
/// [`SessionWindowedCogroupedKStream`](super::SessionWindowedCogroupedKStream) (Kafka Streams'
/// overloads of `CogroupedKStream#windowedBy`). See
/// [`CogroupedKStream::windowed_by`](super::CogroupedKStream::windowed_by).
///
/// ```
/// use std::time::Duration;
/// use streams_core::codec::Utf8;
/// use streams_core::dsl::{CogroupWindowedBy, CogroupedKStream, SlidingWindows, StreamsBuilder};
///
/// // A helper that windows a cogroup by whatever window definition it is given.
/// fn windowed<W: CogroupWindowedBy<String, String, Utf8>>(
///     cogrouped: &CogroupedKStream<String, String, Utf8>,
///     windows: W,
/// ) -> W::Stream {
///     cogrouped.windowed_by(windows)
/// }
/// let builder = StreamsBuilder::new();
/// let a = builder.stream_with("a", streams_core::dsl::Consumed::with(Utf8, Utf8)).group_by_key();
/// let both = a.cogroup(|_k: &String, v: String, agg: String| agg + &v);
/// let sliding = windowed(&both, SlidingWindows::of_time_difference_with_no_grace(Duration::from_secs(5)));
/// # let _ = sliding;
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a window definition",
    note = "window a cogrouped stream by `TimeWindows`, `SlidingWindows` or `SessionWindows`"
)]
pub trait CogroupWindowedBy<K, VA, KC>: sealed::Sealed {
    /// The windowed cogroup.
    type Stream;

    /// Windows `cogrouped`.
    #[doc(hidden)]
    fn cogroup_windowed(self, cogrouped: &CogroupedKStream<K, VA, KC>) -> Self::Stream;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::TimeWindows {}
    impl Sealed for super::SlidingWindows {}
    impl Sealed for super::SessionWindows {}
}

#[cfg(test)]
mod tests {
    use super::*;

    fn starts(w: &TimeWindows, t: i64) -> Vec<i64> {
        w.windows_for(t).iter().map(|w| w.start_ms).collect()
    }

    #[test]
    fn tumbling_windows_are_aligned_to_the_epoch() {
        let w = TimeWindows::of_size_with_no_grace(Duration::from_secs(10));
        assert_eq!(starts(&w, 0), [0]);
        assert_eq!(starts(&w, 9_999), [0]);
        assert_eq!(starts(&w, 10_000), [10_000]);
        assert_eq!(w.windows_for(12_345)[0].end_ms, 20_000);
    }

    #[test]
    fn hopping_windows_never_start_before_zero() {
        let w = TimeWindows::of_size_and_grace(Duration::from_secs(10), Duration::ZERO)
            .advance_by(Duration::from_secs(3));
        assert_eq!(starts(&w, 0), [0]);
        assert_eq!(starts(&w, 4_000), [0, 3_000]);
        assert_eq!(starts(&w, 12_000), [3_000, 6_000, 9_000, 12_000]);
        // (timestamp - size, timestamp]: a window starting exactly `size` before is excluded.
        assert_eq!(starts(&w, 13_000), [6_000, 9_000, 12_000]);
        let w = TimeWindows::of_size_with_no_grace(Duration::from_millis(5))
            .advance_by(Duration::from_millis(1));
        assert_eq!(starts(&w, 7), [3, 4, 5, 6, 7]);
    }

    #[test]
    fn windows_near_the_end_of_time_do_not_overflow() {
        let w = TimeWindows::of_size_with_no_grace(Duration::from_millis(10));
        let last = w.windows_for(i64::MAX);
        assert_eq!(last.len(), 1);
        assert_eq!(last[0].end_ms, i64::MAX);
    }

    #[test]
    fn invalid_windows_hold_no_records() {
        let too_far = TimeWindows::of_size_with_no_grace(Duration::from_secs(1))
            .advance_by(Duration::from_secs(2));
        let still =
            TimeWindows::of_size_with_no_grace(Duration::from_secs(1)).advance_by(Duration::ZERO);
        let empty = TimeWindows::of_size_with_no_grace(Duration::ZERO);
        for w in [too_far, still, empty] {
            assert!(w.problem("agg").is_some(), "{w:?}");
            assert_eq!(w.windows_for(1_500), []);
        }
        let fine = TimeWindows::of_size_with_no_grace(Duration::from_secs(1))
            .advance_by(Duration::from_secs(1));
        assert_eq!(fine.problem("agg"), None);
    }
}

/// How close in time two records must be to join — Kafka Streams' `JoinWindows`: a record at
/// `t` of the left stream joins the right stream's records of the same key from
/// `t − before` to `t + after` (both included); records that arrive more than the grace period
/// after their window closed join nothing. A left or outer join emits a record without partner
/// once its window closed (its time plus `after`, plus the grace period).
///
/// ```
/// use std::time::Duration;
/// use streams_core::dsl::JoinWindows;
///
/// let within_a_minute = JoinWindows::of_time_difference_and_grace(
///     Duration::from_secs(60),
///     Duration::from_secs(10),
/// );
/// assert_eq!((within_a_minute.before_ms(), within_a_minute.after_ms()), (60_000, 60_000));
/// // Only right records after the left one, up to 30 s.
/// let after_only = JoinWindows::of_time_difference_with_no_grace(Duration::from_secs(30))
///     .before(Duration::ZERO);
/// assert_eq!((after_only.before_ms(), after_only.after_ms(), after_only.grace_ms()), (0, 30_000, 0));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct JoinWindows {
    before_ms: i64,
    after_ms: i64,
    grace_ms: i64,
}

impl JoinWindows {
    /// Records at most `time_difference` apart join; records later than `grace` after their
    /// window closed are dropped.
    pub fn of_time_difference_and_grace(time_difference: Duration, grace: Duration) -> Self {
        JoinWindows {
            before_ms: ms(time_difference),
            after_ms: ms(time_difference),
            grace_ms: ms(grace),
        }
    }

    /// Records at most `time_difference` apart join; no grace period.
    pub fn of_time_difference_with_no_grace(time_difference: Duration) -> Self {
        Self::of_time_difference_and_grace(time_difference, Duration::ZERO)
    }

    /// A left record joins right records up to `time_difference` older than it.
    pub fn before(self, time_difference: Duration) -> Self {
        JoinWindows {
            before_ms: ms(time_difference),
            ..self
        }
    }

    /// A left record joins right records up to `time_difference` newer than it.
    pub fn after(self, time_difference: Duration) -> Self {
        JoinWindows {
            after_ms: ms(time_difference),
            ..self
        }
    }

    /// How much older a right record may be (ms).
    pub fn before_ms(&self) -> i64 {
        self.before_ms
    }

    /// How much newer a right record may be (ms).
    pub fn after_ms(&self) -> i64 {
        self.after_ms
    }

    /// The grace period (ms).
    pub fn grace_ms(&self) -> i64 {
        self.grace_ms
    }

    /// The size of the windows the join stores keep: `before + after`.
    pub(crate) fn size_ms(&self) -> i64 {
        self.before_ms.saturating_add(self.after_ms)
    }
}
