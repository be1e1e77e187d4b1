//! `SessionWindowedKStream`: a grouped stream in session windows, ready to aggregate per key and
//! session.

use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use crate::codec::{Codec, Inferred};
use crate::state::{Stores, Windowed};
use crate::topology::{MinimumRetention, TopologyBuilder};

use super::grouped_stream::KGroupedStream;
use super::ktable::{KTable, TableState};
use super::names;
use super::options::{CodecChoice, Materialized, StoreOptions, StoreType};
use super::processors::aggregate::{CountAggregator, InitAggregator, ReduceAggregator};
use super::processors::session_aggregate::{SessionAggregator, SessionFns, SessionWindowAggregate};
use super::windowed_codec::SessionWindowedCodec;
use super::windowed_stream::{GroupedSource, retention_ms};
use super::windows::{EmitStrategy, SessionWindows, WindowedBy};

/// Adds the session store of a session aggregation, connected to `processor`.
#[expect(clippy::too_many_arguments, reason = "one store declaration")]
pub(crate) fn add_session_store<K, VA, KC, VC>(
    b: &mut TopologyBuilder,
    name: &str,
    key_codec: KC,
    value_codec: VC,
    options: StoreOptions,
    retention_ms: i64,
    caching: bool,
    processor: &str,
) where
    K: 'static,
    VA: 'static,
    KC: Codec<K>,
    VC: Codec<VA>,
{
    let retention = Duration::from_millis(u64::try_from(retention_ms).unwrap_or(0));
    let store = match options.store_type {
        #[cfg(feature = "rocksdb")]
        StoreType::RocksDb => {
            Stores::persistent_session_store::<K, VA, _, _>(name, retention, key_codec, value_codec)
        }
        #[cfg(not(feature = "rocksdb"))]
        StoreType::RocksDb => {
            Stores::in_memory_session_store::<K, VA, _, _>(name, retention, key_codec, value_codec)
        }
        StoreType::InMemory => {
            Stores::in_memory_session_store::<K, VA, _, _>(name, retention, key_codec, value_codec)
        }
    };
    options.add_configured(b, store, caching, processor);
}

/// A grouped stream in session windows — Kafka Streams' `SessionWindowedKStream`, made by
/// [`KGroupedStream::windowed_by`] with [`SessionWindows`]. Its aggregations make a [`KTable`]
/// with one row per key and session (keys [`Windowed<K>`], written as Kafka Streams' session
/// windowed serde writes them), kept in a session store whose retention is the inactivity gap
/// plus the grace period unless [`Materialized::with_retention`] says more.
///
/// When a record merges sessions, the merged sessions are deleted (an update to `None`
/// downstream) and the new session is added; updates carry the session's end as timestamp.
///
/// ```
/// use std::time::Duration;
/// use streams_core::codec::{I64, Nullable, Utf8};
/// use streams_core::dsl::{SessionWindowedCodec, SessionWindows, StreamsBuilder};
/// use streams_core::testing::TopologyTestDriver;
///
/// let builder = StreamsBuilder::new();
/// builder
///     .stream::<String, String>("clicks")
///     .group_by_key()
///     .windowed_by(SessionWindows::of_inactivity_gap_with_no_grace(Duration::from_secs(5)))
///     .count()
///     .to_stream()
///     .to("sessions");
/// let driver = TopologyTestDriver::new(builder.build().unwrap()).unwrap();
/// let clicks = driver.create_input_topic("clicks", Utf8, Utf8);
/// for t in [1_000, 3_000] {
///     clicks.pipe_input_at("ann".to_string(), "x".to_string(), t).unwrap();
/// }
/// let sessions = driver.create_output_topic("sessions", SessionWindowedCodec::new(Utf8), Nullable(I64));
/// let updates: Vec<((i64, i64), Option<i64>)> = sessions
///     .read_key_values_to_list()
///     .unwrap()
///     .into_iter()
///     .map(|(k, v)| ((k.window.start_ms, k.window.end_ms), v))
///     .collect();
/// // The second click extends the session: the old one is deleted, the merged one added.
/// assert_eq!(updates, [((1_000, 1_000), Some(1)), ((1_000, 1_000), None), ((1_000, 3_000), Some(2))]);
/// ```
pub struct SessionWindowedKStream<K, V, KC, VC> {
    source: GroupedSource<K, V, KC, VC>,
    windows: SessionWindows,
    emit: EmitStrategy,
}

impl<K, V, KC: Clone, VC: Clone> Clone for SessionWindowedKStream<K, V, KC, VC> {
    fn clone(&self) -> Self {
        SessionWindowedKStream {
            source: self.source.clone(),
            windows: self.windows,
            emit: self.emit,
        }
    }
}

impl<K, V, KC, VC> std::fmt::Debug for SessionWindowedKStream<K, V, KC, VC> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionWindowedKStream")
            .field("node", &self.source.node)
            .field("windows", &self.windows)
            .field("emit", &self.emit)
            .finish_non_exhaustive()
    }
}

impl<K, V, KC, VC> WindowedBy<K, V, KC, VC> for SessionWindows
where
    K: Clone + 'static,
    V: Clone + 'static,
    KC: Codec<K>,
    VC: Codec<V>,
{
    type Stream = SessionWindowedKStream<K, V, KC, VC>;

    fn windowed(self, grouped: &KGroupedStream<K, V, KC, VC>) -> Self::Stream {
        SessionWindowedKStream {
            source: grouped.source(),
            windows: self,
            emit: EmitStrategy::OnWindowUpdate,
        }
    }
}

impl<K, V, KC, VC> SessionWindowedKStream<K, V, KC, VC>
where
    K: Clone + 'static,
    V: Clone + 'static,
    KC: Codec<K>,
    VC: Codec<V>,
{
    /// Names the aggregation's node (Kafka Streams' `Named`).
    pub fn named(&self, name: impl Into<String>) -> Self {
        let mut named = self.clone();
        named.source.next_name = Some(name.into());
        named
    }

    /// When the aggregation emits: every update (the default) or each session's final result
    /// once stream time passes its end plus the gap and grace period
    /// ([`EmitStrategy::OnWindowClose`]; the store is then not cached).
    pub fn emit_strategy(&self, emit: EmitStrategy) -> Self {
        let mut with = self.clone();
        with.emit = emit;
        with
    }

    /// The number of records per key and session.
    pub fn count(&self) -> KTable<Windowed<K>, i64, SessionWindowedCodec<KC>, Inferred> {
        self.aggregate_into(
            names::AGGREGATE,
            CountAggregator,
            Materialized::new(),
            Inferred,
        )
    }

    /// The number of records per key and session, kept as `materialized` says.
    pub fn count_with<MK, MV>(
        &self,
        materialized: Materialized<MK, MV>,
    ) -> KTable<Windowed<K>, i64, SessionWindowedCodec<MK::Codec>, MV::Codec>
    where
        MK: CodecChoice<K, KC>,
        MV: CodecChoice<i64, Inferred>,
        MK::Codec: Clone,
        MV::Codec: Clone,
    {
        // Kafka Streams burns an index here for an unnamed store, for compatibility.
        if materialized.name.is_none() {
            self.source.graph.borrow_mut().store_name(names::AGGREGATE);
        }
        self.aggregate_into(names::AGGREGATE, CountAggregator, materialized, Inferred)
    }

    /// Each key's values per session combined with `reducer(aggregate, value)`, starting from
    /// its first; merged sessions are combined with the reducer too.
    pub fn reduce<F>(&self, reducer: F) -> KTable<Windowed<K>, V, SessionWindowedCodec<KC>, VC>
    where
        F: Fn(V, V) -> V + Send + Sync + 'static,
    {
        self.reduce_with(reducer, Materialized::new())
    }

    /// [`reduce`](Self::reduce), kept as `materialized` says.
    pub fn reduce_with<F, MK, MV>(
        &self,
        reducer: F,
        materialized: Materialized<MK, MV>,
    ) -> KTable<Windowed<K>, V, SessionWindowedCodec<MK::Codec>, MV::Codec>
    where
        F: Fn(V, V) -> V + Send + Sync + 'static,
        MK: CodecChoice<K, KC>,
        MV: CodecChoice<V, VC>,
        MK::Codec: Clone,
        MV::Codec: Clone,
    {
        let inherited = self.source.value_codec.clone();
        self.aggregate_into(
            names::REDUCE,
            ReduceAggregator(reducer),
            materialized,
            inherited,
        )
    }

    /// Each key's values per session folded with `aggregator(key, value, aggregate)` from
    /// `initializer()`; when a record merges sessions, their aggregates are combined with
    /// `merger(key, aggregate, session_aggregate)`, starting from `initializer()`.
    pub fn aggregate<VA, I, F, M>(
        &self,
        initializer: I,
        aggregator: F,
        merger: M,
    ) -> KTable<Windowed<K>, VA, SessionWindowedCodec<KC>, Inferred>
    where
        VA: Clone + 'static,
        I: Fn() -> VA + Send + Sync + 'static,
        F: Fn(&K, V, VA) -> VA + Send + Sync + 'static,
        M: Fn(&K, VA, VA) -> VA + Send + Sync + 'static,
        Inferred: Codec<VA>,
    {
        self.aggregate_with(initializer, aggregator, merger, Materialized::new())
    }

    /// [`aggregate`](Self::aggregate), kept as `materialized` says.
    pub fn aggregate_with<VA, I, F, M, MK, MV>(
        &self,
        initializer: I,
        aggregator: F,
        merger: M,
        materialized: Materialized<MK, MV>,
    ) -> KTable<Windowed<K>, VA, SessionWindowedCodec<MK::Codec>, MV::Codec>
    where
        VA: Clone + 'static,
        I: Fn() -> VA + Send + Sync + 'static,
        F: Fn(&K, V, VA) -> VA + Send + Sync + 'static,
        M: Fn(&K, VA, VA) -> VA + Send + Sync + 'static,
        MK: CodecChoice<K, KC>,
        MV: CodecChoice<VA, Inferred>,
        MK::Codec: Clone,
        MV::Codec: Clone,
    {
        let fns = SessionFns {
            fold: InitAggregator {
                initializer,
                aggregator,
            },
            merger,
        };
        self.aggregate_into(names::AGGREGATE, fns, materialized, Inferred)
    }

    fn aggregate_into<VA, A, MK, MV, IV>(
        &self,
        prefix: &str,
        aggregator: A,
        materialized: Materialized<MK, MV>,
        inherited_value_codec: IV,
    ) -> KTable<Windowed<K>, VA, SessionWindowedCodec<MK::Codec>, MV::Codec>
    where
        VA: Clone + 'static,
        A: SessionAggregator<K, V, VA>,
        MK: CodecChoice<K, KC>,
        MV: CodecChoice<VA, IV>,
        MK::Codec: Clone,
        MV::Codec: Clone,
    {
        let mut graph = self.source.graph.borrow_mut();
        let names = self.source.names(&mut graph, prefix, materialized.name);
        let windows = self.windows;
        let minimum = MinimumRetention::SessionWindows {
            gap_ms: windows.inactivity_gap_ms(),
            grace_ms: windows.grace_ms(),
        };
        let needed = minimum.ms();
        let retention_ms = retention_ms(
            &mut graph,
            &names.store,
            materialized.more.retention,
            minimum,
        );
        let key_codec = materialized.key_codec.choose(self.source.key_codec.clone());
        let value_codec = materialized.value_codec.choose(inherited_value_codec);
        let state = Rc::new(TableState::windowed_aggregate(needed));
        let aggregator = Arc::new(aggregator);
        let (kc, vc, options) = (key_codec.clone(), value_codec.clone(), materialized.more);
        let null_kc = self.source.key_codec.clone();
        let emit = self.emit;
        // Kafka Streams does not cache the store of an aggregation that emits final results.
        let caching = options.caching && emit == EmitStrategy::OnWindowUpdate;
        let (node, parent, store_name) = (
            names.node.clone(),
            names.parent.clone(),
            names.store.clone(),
        );
        let table_state = Rc::clone(&state);
        graph.step(move |b| {
            let send_old_values = table_state.sends_old_values();
            let store: Arc<str> = Arc::from(store_name.as_str());
            b.add_processor(
                node.clone(),
                move || {
                    SessionWindowAggregate::<K, V, VA, A, KC>::new(
                        windows,
                        Arc::clone(&aggregator),
                        Arc::clone(&store),
                        null_kc.clone(),
                        emit,
                        send_old_values,
                    )
                },
                [parent],
            );
            add_session_store::<K, VA, _, _>(
                b,
                &store_name,
                kc,
                vc,
                options,
                retention_ms,
                caching,
                &node,
            );
        });
        drop(graph);
        KTable::new(
            Rc::clone(&self.source.graph),
            names.node,
            SessionWindowedCodec::new(key_codec),
            value_codec,
            names.queryable.then_some(names.store),
            state,
        )
    }
}
