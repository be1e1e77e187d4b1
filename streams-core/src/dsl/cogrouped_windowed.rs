//! Windowed cogroups: `TimeWindowedCogroupedKStream` (tumbling, hopping or sliding windows) and
//! `SessionWindowedCogroupedKStream` — Kafka Streams' types of the same names, made by
//! [`CogroupedKStream::windowed_by`].

use std::rc::Rc;
use std::sync::Arc;

use crate::codec::{Codec, Inferred};
use crate::state::Windowed;
use crate::topology::MinimumRetention;

use super::cogrouped_stream::{CogroupKind, CogroupedKStream};
use super::ktable::{KTable, TableState};
use super::options::{CodecChoice, Materialized};
use super::session_stream::add_session_store;
use super::windowed_codec::{SessionWindowedCodec, TimeWindowedCodec};
use super::windowed_stream::{Windowing, add_window_store, retention_ms};
use super::windows::{
    CogroupWindowedBy, EmitStrategy, SessionWindows, SlidingWindows, TimeWindows,
};

/// A cogroup in time windows — Kafka Streams' `TimeWindowedCogroupedKStream`, made by
/// [`CogroupedKStream::windowed_by`] with [`TimeWindows`] or [`SlidingWindows`].
///
/// Its aggregation makes a [`KTable`] with one row per key and window (keys [`Windowed<K>`],
/// written as Kafka Streams' time-windowed serde writes them), kept in one timestamped window
/// store whose retention is what the windows need (the size plus the grace period for time
/// windows) unless [`Materialized::with_retention`] says more. As in Kafka Streams:
///
/// - each input's processor closes windows by its own stream time (the newest timestamp of
///   that input), so a record late for one input may still be aggregated from another;
/// - null keys are dropped, null values reach the aggregator (sliding windows drop them);
/// - every update is emitted (there is no emit strategy for cogroups); a record in hopping
///   windows updates each of its windows, oldest first.
///
/// ```
/// use std::time::Duration;
/// use streams_core::codec::{Nullable, Utf8};
/// use streams_core::dsl::{StreamsBuilder, TimeWindowedCodec, TimeWindows};
/// use streams_core::testing::TopologyTestDriver;
///
/// let builder = StreamsBuilder::new();
/// let logins = builder.stream::<String, String>("logins").group_by_key();
/// let logouts = builder.stream::<String, String>("logouts").group_by_key();
/// logins
///     .cogroup(|_user, _at, events: String| events + "+")
///     .cogroup(&logouts, |_user, _at, events| events + "-")
///     .windowed_by(TimeWindows::of_size_with_no_grace(Duration::from_secs(10)))
///     .aggregate(String::new)
///     .to_stream()
///     .to("sessions-per-10s");
/// let driver = TopologyTestDriver::new(builder.build().unwrap()).unwrap();
/// let logins = driver.create_input_topic("logins", Utf8, Utf8);
/// let logouts = driver.create_input_topic("logouts", Utf8, Utf8);
/// logins.pipe_input_at("ann".to_string(), "web".to_string(), 1_000).unwrap();
/// logouts.pipe_input_at("ann".to_string(), "web".to_string(), 4_000).unwrap();
/// logins.pipe_input_at("ann".to_string(), "app".to_string(), 12_000).unwrap();
/// let out = driver.create_output_topic("sessions-per-10s", TimeWindowedCodec::new(Utf8, 10_000), Nullable(Utf8));
/// let rows: Vec<(i64, String)> = out
///     .read_key_values_to_list()
///     .unwrap()
///     .into_iter()
///     .map(|(k, v)| (k.window.start_ms, v.unwrap_or_default()))
///     .collect();
/// assert_eq!(rows, [(0, "+".to_string()), (0, "+-".to_string()), (10_000, "+".to_string())]);
/// ```
#[must_use = "a windowed cogroup does nothing until it is aggregated"]
pub struct TimeWindowedCogroupedKStream<K, VA, KC> {
    cogroup: CogroupedKStream<K, VA, KC>,
    windows: Windowing,
}

impl<K, VA, KC: Clone> Clone for TimeWindowedCogroupedKStream<K, VA, KC> {
    fn clone(&self) -> Self {
        TimeWindowedCogroupedKStream {
            cogroup: self.cogroup.clone(),
            windows: self.windows,
        }
    }
}

impl<K, VA, KC> std::fmt::Debug for TimeWindowedCogroupedKStream<K, VA, KC> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TimeWindowedCogroupedKStream")
            .field("cogroup", &self.cogroup)
            .field("windows", &self.windows)
            .finish()
    }
}

impl<K, VA, KC> CogroupWindowedBy<K, VA, KC> for TimeWindows
where
    K: Clone + 'static,
    VA: Clone + 'static,
    KC: Codec<K>,
{
    type Stream = TimeWindowedCogroupedKStream<K, VA, KC>;

    fn cogroup_windowed(self, cogrouped: &CogroupedKStream<K, VA, KC>) -> Self::Stream {
        TimeWindowedCogroupedKStream {
            cogroup: cogrouped.clone(),
            windows: Windowing::Fixed(self),
        }
    }
}

impl<K, VA, KC> CogroupWindowedBy<K, VA, KC> for SlidingWindows
where
    K: Clone + 'static,
    VA: Clone + 'static,
    KC: Codec<K>,
{
    type Stream = TimeWindowedCogroupedKStream<K, VA, KC>;

    fn cogroup_windowed(self, cogrouped: &CogroupedKStream<K, VA, KC>) -> Self::Stream {
        TimeWindowedCogroupedKStream {
            cogroup: cogrouped.clone(),
            windows: Windowing::Sliding(self),
        }
    }
}

impl<K, VA, KC> TimeWindowedCogroupedKStream<K, VA, KC>
where
    K: Clone + 'static,
    VA: Clone + 'static,
    KC: Codec<K>,
{
    /// Names the aggregation (Kafka Streams' `Named`): see [`CogroupedKStream::named`].
    pub fn named(&self, name: impl Into<String>) -> Self {
        TimeWindowedCogroupedKStream {
            cogroup: self.cogroup.named(name),
            windows: self.windows,
        }
    }

    /// The inputs' records folded into one aggregate per key and window, each window starting
    /// from `initializer()`.
    pub fn aggregate<I>(
        &self,
        initializer: I,
    ) -> KTable<Windowed<K>, VA, TimeWindowedCodec<KC>, Inferred>
    where
        I: Fn() -> VA + Send + Sync + 'static,
        Inferred: Codec<VA>,
    {
        self.aggregate_with(initializer, Materialized::new())
    }

    /// [`aggregate`](Self::aggregate), kept as `materialized` says.
    ///
    /// Windows of size zero or advancing by zero or more than their size, and a retention
    /// shorter than the windows need, make [`StreamsBuilder::build`](super::StreamsBuilder::build)
    /// fail ([`TopologyError::WindowSizeZero`](crate::topology::TopologyError::WindowSizeZero),
    /// [`InvalidWindowAdvance`](crate::topology::TopologyError::InvalidWindowAdvance),
    /// [`RetentionTooShort`](crate::topology::TopologyError::RetentionTooShort)).
    pub fn aggregate_with<I, MK, MV>(
        &self,
        initializer: I,
        materialized: Materialized<MK, MV>,
    ) -> KTable<Windowed<K>, VA, TimeWindowedCodec<MK::Codec>, MV::Codec>
    where
        I: Fn() -> VA + Send + Sync + 'static,
        MK: CodecChoice<K, KC>,
        MV: CodecChoice<VA, Inferred>,
        MK::Codec: Clone,
        MV::Codec: Clone,
    {
        let cogroup = &self.cogroup;
        let mut graph = cogroup.graph().borrow_mut();
        let (store, queryable) = cogroup.store_name(&mut graph, materialized.name);
        let windows = self.windows;
        let retention_ms = retention_ms(
            &mut graph,
            &store,
            materialized.more.retention,
            windows.minimum_retention(),
        );
        let key_codec = materialized.key_codec.choose(cogroup.key_codec().clone());
        let value_codec = materialized.value_codec.choose(Inferred);
        let state = Rc::new(TableState::windowed_aggregate(windows.grace_ms()));
        let (kc, vc, options) = (key_codec.clone(), value_codec.clone(), materialized.more);
        let caching = options.caching && windows.caching(EmitStrategy::OnWindowUpdate);
        let kind = match windows {
            Windowing::Fixed(w) => CogroupKind::Time(w),
            Windowing::Sliding(w) => CogroupKind::Sliding(w),
        };
        let store_name = store.clone();
        let merge = cogroup.write::<Windowed<K>, _>(
            &mut graph,
            &store,
            Rc::clone(&state),
            Arc::new(initializer),
            kind,
            move |b, processors| {
                if let Some((first, others)) = processors.split_first() {
                    add_window_store::<K, VA, _, _>(
                        b,
                        &store_name,
                        kc,
                        vc,
                        options,
                        retention_ms,
                        windows.size_ms(),
                        caching,
                        first,
                    );
                    for other in others {
                        b.connect_processor_and_state_stores(other, [&store_name]);
                    }
                }
            },
        );
        if let Windowing::Fixed(w) = windows
            && let Some(problem) = w.problem(&merge)
        {
            graph.error(problem);
        }
        drop(graph);
        KTable::new(
            Rc::clone(cogroup.graph()),
            merge,
            TimeWindowedCodec::new(key_codec, windows.size_ms()),
            value_codec,
            queryable.then_some(store),
            state,
        )
    }
}

/// A cogroup in session windows — Kafka Streams' `SessionWindowedCogroupedKStream`, made by
/// [`CogroupedKStream::windowed_by`] with [`SessionWindows`].
///
/// Its aggregation makes a [`KTable`] with one row per key and session (keys [`Windowed<K>`],
/// written as Kafka Streams' session-windowed serde writes them), kept in one session store
/// whose retention is the inactivity gap plus the grace period unless
/// [`Materialized::with_retention`] says more. The records of all inputs make the sessions;
/// when a record joins two sessions, their aggregates are combined with the merger. Each input's
/// processor closes sessions by its own stream time; null keys are dropped, null values reach
/// the aggregator.
///
/// ```
/// use std::time::Duration;
/// use streams_core::codec::{Nullable, Utf8};
/// use streams_core::dsl::{SessionWindowedCodec, SessionWindows, StreamsBuilder};
/// use streams_core::testing::TopologyTestDriver;
///
/// let builder = StreamsBuilder::new();
/// let views = builder.stream::<String, String>("views").group_by_key();
/// let likes = builder.stream::<String, String>("likes").group_by_key();
/// views
///     .cogroup(|_user, page, visit: String| format!("{visit}v:{page} "))
///     .cogroup(&likes, |_user, page, visit| format!("{visit}l:{page} "))
///     .windowed_by(SessionWindows::of_inactivity_gap_with_no_grace(Duration::from_secs(60)))
///     .aggregate(String::new, |_user, earlier, later| earlier + &later)
///     .to_stream()
///     .to("visits");
/// let driver = TopologyTestDriver::new(builder.build().unwrap()).unwrap();
/// let views = driver.create_input_topic("views", Utf8, Utf8);
/// let likes = driver.create_input_topic("likes", Utf8, Utf8);
/// views.pipe_input_at("ann".to_string(), "a".to_string(), 0).unwrap();
/// likes.pipe_input_at("ann".to_string(), "a".to_string(), 30_000).unwrap();
/// let visits = driver.create_output_topic("visits", SessionWindowedCodec::new(Utf8), Nullable(Utf8));
/// let last = visits.read_key_values_to_list().unwrap().pop().unwrap();
/// assert_eq!((last.0.window.start_ms, last.0.window.end_ms), (0, 30_000));
/// assert_eq!(last.1.as_deref(), Some("v:a l:a "));
/// ```
#[must_use = "a windowed cogroup does nothing until it is aggregated"]
pub struct SessionWindowedCogroupedKStream<K, VA, KC> {
    cogroup: CogroupedKStream<K, VA, KC>,
    windows: SessionWindows,
}

impl<K, VA, KC: Clone> Clone for SessionWindowedCogroupedKStream<K, VA, KC> {
    fn clone(&self) -> Self {
        SessionWindowedCogroupedKStream {
            cogroup: self.cogroup.clone(),
            windows: self.windows,
        }
    }
}

impl<K, VA, KC> std::fmt::Debug for SessionWindowedCogroupedKStream<K, VA, KC> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionWindowedCogroupedKStream")
            .field("cogroup", &self.cogroup)
            .field("windows", &self.windows)
            .finish()
    }
}

impl<K, VA, KC> CogroupWindowedBy<K, VA, KC> for SessionWindows
where
    K: Clone + 'static,
    VA: Clone + 'static,
    KC: Codec<K>,
{
    type Stream = SessionWindowedCogroupedKStream<K, VA, KC>;

    fn cogroup_windowed(self, cogrouped: &CogroupedKStream<K, VA, KC>) -> Self::Stream {
        SessionWindowedCogroupedKStream {
            cogroup: cogrouped.clone(),
            windows: self,
        }
    }
}

impl<K, VA, KC> SessionWindowedCogroupedKStream<K, VA, KC>
where
    K: Clone + 'static,
    VA: Clone + 'static,
    KC: Codec<K>,
{
    /// Names the aggregation (Kafka Streams' `Named`): see [`CogroupedKStream::named`].
    pub fn named(&self, name: impl Into<String>) -> Self {
        SessionWindowedCogroupedKStream {
            cogroup: self.cogroup.named(name),
            windows: self.windows,
        }
    }

    /// The inputs' records folded into one aggregate per key and session, each session
    /// starting from `initializer()`; sessions a record joins are combined with
    /// `merger(key, aggregate, session)`.
    pub fn aggregate<I, M>(
        &self,
        initializer: I,
        merger: M,
    ) -> KTable<Windowed<K>, VA, SessionWindowedCodec<KC>, Inferred>
    where
        I: Fn() -> VA + Send + Sync + 'static,
        M: Fn(&K, VA, VA) -> VA + Send + Sync + 'static,
        Inferred: Codec<VA>,
    {
        self.aggregate_with(initializer, merger, Materialized::new())
    }

    /// [`aggregate`](Self::aggregate), kept as `materialized` says. A retention shorter than
    /// the sessions need makes [`StreamsBuilder::build`](super::StreamsBuilder::build) fail
    /// ([`TopologyError::RetentionTooShort`](crate::topology::TopologyError::RetentionTooShort)).
    pub fn aggregate_with<I, M, MK, MV>(
        &self,
        initializer: I,
        merger: M,
        materialized: Materialized<MK, MV>,
    ) -> KTable<Windowed<K>, VA, SessionWindowedCodec<MK::Codec>, MV::Codec>
    where
        I: Fn() -> VA + Send + Sync + 'static,
        M: Fn(&K, VA, VA) -> VA + Send + Sync + 'static,
        MK: CodecChoice<K, KC>,
        MV: CodecChoice<VA, Inferred>,
        MK::Codec: Clone,
        MV::Codec: Clone,
    {
        let cogroup = &self.cogroup;
        let mut graph = cogroup.graph().borrow_mut();
        let (store, queryable) = cogroup.store_name(&mut graph, materialized.name);
        let windows = self.windows;
        let minimum = MinimumRetention::SessionWindows {
            gap_ms: windows.inactivity_gap_ms(),
            grace_ms: windows.grace_ms(),
        };
        let needed = minimum.ms();
        let retention_ms = retention_ms(&mut graph, &store, materialized.more.retention, minimum);
        let key_codec = materialized.key_codec.choose(cogroup.key_codec().clone());
        let value_codec = materialized.value_codec.choose(Inferred);
        let state = Rc::new(TableState::windowed_aggregate(needed));
        let (kc, vc, options) = (key_codec.clone(), value_codec.clone(), materialized.more);
        let caching = options.caching;
        let store_name = store.clone();
        let merge = cogroup.write::<Windowed<K>, _>(
            &mut graph,
            &store,
            Rc::clone(&state),
            Arc::new(initializer),
            CogroupKind::Session(windows, Arc::new(merger)),
            move |b, processors| {
                if let Some((first, others)) = processors.split_first() {
                    add_session_store::<K, VA, _, _>(
                        b,
                        &store_name,
                        kc,
                        vc,
                        options,
                        retention_ms,
                        caching,
                        first,
                    );
                    for other in others {
                        b.connect_processor_and_state_stores(other, [&store_name]);
                    }
                }
            },
        );
        drop(graph);
        KTable::new(
            Rc::clone(cogroup.graph()),
            merge,
            SessionWindowedCodec::new(key_codec),
            value_codec,
            queryable.then_some(store),
            state,
        )
    }
}
