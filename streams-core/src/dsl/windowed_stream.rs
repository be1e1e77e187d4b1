//! `TimeWindowedKStream`: a grouped stream in time windows (tumbling, hopping or sliding), ready
//! to aggregate per key and window.

use std::marker::PhantomData;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use crate::codec::{Codec, Inferred};
use crate::state::{Stores, Windowed};
use crate::topology::{MinimumRetention, TopologyBuilder, TopologyError};

use super::graph::{Graph, Shared, add_repartition};
use super::grouped_stream::KGroupedStream;
use super::ktable::{KTable, TableState};
use super::names;
use super::options::{CodecChoice, Materialized, StoreOptions, StoreType};
use super::processors::aggregate::{CountAggregator, InitAggregator, ReduceAggregator};
use super::processors::window_aggregate::{
    SlidingWindowAggregate, TimeWindowAggregate, WindowAggregator, WindowedCore,
};
use super::windowed_codec::TimeWindowedCodec;
use super::windows::{EmitStrategy, SlidingWindows, TimeWindows, WindowedBy};

/// What a windowed stream needs of the grouped stream it came from.
pub(crate) struct GroupedSource<K, V, KC, VC> {
    pub(crate) graph: Shared,
    pub(crate) node: String,
    pub(crate) key_codec: KC,
    pub(crate) value_codec: VC,
    pub(crate) repartition_required: bool,
    pub(crate) grouped_name: Option<String>,
    pub(crate) next_name: Option<String>,
    pub(crate) types: PhantomData<fn() -> (K, V)>,
}

impl<K, V, KC: Clone, VC: Clone> Clone for GroupedSource<K, V, KC, VC> {
    fn clone(&self) -> Self {
        GroupedSource {
            graph: Rc::clone(&self.graph),
            node: self.node.clone(),
            key_codec: self.key_codec.clone(),
            value_codec: self.value_codec.clone(),
            repartition_required: self.repartition_required,
            grouped_name: self.grouped_name.clone(),
            next_name: self.next_name.clone(),
            types: PhantomData,
        }
    }
}

/// The names of an aggregation's store and node and the node it reads from.
pub(crate) struct AggregateNames {
    pub(crate) store: String,
    pub(crate) queryable: bool,
    pub(crate) node: String,
    pub(crate) parent: String,
}

impl<K, V, KC, VC> GroupedSource<K, V, KC, VC>
where
    K: Clone + 'static,
    V: Clone + 'static,
    KC: Codec<K>,
    VC: Codec<V>,
{
    /// Names the store and the node as Kafka Streams does (the store's generated name first,
    /// then the node's), then writes the repartition through `<grouped name or store
    /// name>-repartition` if an upstream operation changed the key.
    pub(crate) fn names(
        &self,
        graph: &mut Graph,
        prefix: &str,
        store: Option<String>,
    ) -> AggregateNames {
        let queryable = store.is_some();
        let store = match store {
            Some(name) => name,
            None => graph.store_name(prefix),
        };
        let node = graph.name_or(self.next_name.clone(), prefix);
        let parent = if self.repartition_required {
            let topic_prefix = self.grouped_name.clone().unwrap_or_else(|| store.clone());
            add_repartition::<K, V, _, _>(
                graph,
                self.node.clone(),
                &topic_prefix,
                self.key_codec.clone(),
                self.value_codec.clone(),
                None,
            )
        } else {
            self.node.clone()
        };
        AggregateNames {
            store,
            queryable,
            node,
            parent,
        }
    }
}

/// A duration in whole milliseconds, saturating.
pub(crate) fn duration_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// A windowed store's retention: as `Materialized` says, else the minimum the windows need. A
/// given retention shorter than that is recorded as an error (Kafka Streams throws
/// `IllegalArgumentException`), and so is a retention of 0 (see
/// [`TopologyError::RetentionZero`]; time windows of size 0 are reported as such instead).
pub(crate) fn retention_ms(
    graph: &mut Graph,
    store: &str,
    retention: Option<Duration>,
    minimum: MinimumRetention,
) -> i64 {
    let retention_ms = match retention.map(duration_ms) {
        Some(retention_ms) if retention_ms < minimum.ms() => {
            graph.error(TopologyError::RetentionTooShort {
                store: store.to_string(),
                retention_ms,
                minimum,
            });
            return retention_ms;
        }
        Some(retention_ms) => retention_ms,
        None => minimum.ms(),
    };
    if retention_ms == 0 && !matches!(minimum, MinimumRetention::TimeWindows { .. }) {
        graph.error(TopologyError::RetentionZero {
            store: store.to_string(),
        });
    }
    retention_ms
}

fn millis(ms: i64) -> Duration {
    Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

/// Adds the timestamped window store of a windowed aggregation, connected to `processor`.
#[expect(clippy::too_many_arguments, reason = "one store declaration")]
pub(crate) fn add_window_store<K, VA, KC, VC>(
    b: &mut TopologyBuilder,
    name: &str,
    key_codec: KC,
    value_codec: VC,
    options: StoreOptions,
    retention_ms: i64,
    size_ms: i64,
    caching: bool,
    processor: &str,
) where
    K: 'static,
    VA: 'static,
    KC: Codec<K>,
    VC: Codec<VA>,
{
    // A store needs windows of at least 1 ms (sliding windows may have a time difference of 0;
    // the aggregation computes window ends itself).
    let (retention, size) = (millis(retention_ms), millis(size_ms.max(1)));
    let store = match options.store_type {
        #[cfg(feature = "rocksdb")]
        StoreType::RocksDb => Stores::persistent_timestamped_window_store::<K, VA, _, _>(
            name,
            retention,
            size,
            key_codec,
            value_codec,
        ),
        #[cfg(not(feature = "rocksdb"))]
        StoreType::RocksDb => Stores::in_memory_timestamped_window_store::<K, VA, _, _>(
            name,
            retention,
            size,
            key_codec,
            value_codec,
        ),
        StoreType::InMemory => Stores::in_memory_timestamped_window_store::<K, VA, _, _>(
            name,
            retention,
            size,
            key_codec,
            value_codec,
        ),
    };
    options.add_configured(b, store, caching, processor);
}

/// The windows of a [`TimeWindowedKStream`].
#[derive(Debug, Clone, Copy)]
pub(crate) enum Windowing {
    Fixed(TimeWindows),
    Sliding(SlidingWindows),
}

impl Windowing {
    /// The size of the windows (a sliding window's is its time difference).
    pub(crate) fn size_ms(self) -> i64 {
        match self {
            Windowing::Fixed(w) => w.size_ms(),
            Windowing::Sliding(w) => w.time_difference_ms(),
        }
    }

    pub(crate) fn grace_ms(self) -> i64 {
        match self {
            Windowing::Fixed(w) => w.grace_ms(),
            Windowing::Sliding(w) => w.grace_ms(),
        }
    }

    /// The shortest retention the store may have (Kafka Streams' `WindowStoreMaterializer` /
    /// `SlidingWindowStoreMaterializer`).
    pub(crate) fn minimum_retention(self) -> MinimumRetention {
        match self {
            Windowing::Fixed(w) => MinimumRetention::TimeWindows {
                size_ms: w.size_ms(),
                grace_ms: w.grace_ms(),
            },
            Windowing::Sliding(w) => MinimumRetention::SlidingWindows {
                time_difference_ms: w.time_difference_ms(),
                grace_ms: w.grace_ms(),
            },
        }
    }

    /// Whether the store may be cached: Kafka Streams turns the cache off for sliding windows
    /// that emit final results only (time windows keep it).
    pub(crate) fn caching(self, emit: EmitStrategy) -> bool {
        matches!(self, Windowing::Fixed(_)) || emit == EmitStrategy::OnWindowUpdate
    }
}

/// A grouped stream in time windows — Kafka Streams' `TimeWindowedKStream`, made by
/// [`KGroupedStream::windowed_by`] with [`TimeWindows`] or [`SlidingWindows`]. Its aggregations
/// make a [`KTable`] with one row per key and window (keys [`Windowed<K>`], written as Kafka
/// Streams' time-windowed serde writes them), kept in a timestamped window store whose
/// retention is the window size plus the grace period unless
/// [`Materialized::with_retention`] says more.
///
/// ```
/// use std::time::Duration;
/// use streams_core::codec::{I64, Nullable, Utf8};
/// use streams_core::dsl::{StreamsBuilder, TimeWindowedCodec, TimeWindows};
/// use streams_core::testing::TopologyTestDriver;
///
/// let builder = StreamsBuilder::new();
/// builder
///     .stream::<String, String>("clicks")
///     .group_by_key()
///     .windowed_by(TimeWindows::of_size_with_no_grace(Duration::from_secs(10)))
///     .count()
///     .to_stream()
///     .to("clicks-per-10s");
/// let driver = TopologyTestDriver::new(builder.build().unwrap()).unwrap();
/// let clicks = driver.create_input_topic("clicks", Utf8, Utf8);
/// for t in [1_000, 4_000, 12_000] {
///     clicks.pipe_input_at("page".to_string(), "x".to_string(), t).unwrap();
/// }
/// let counts = driver.create_output_topic("clicks-per-10s", TimeWindowedCodec::new(Utf8, 10_000), Nullable(I64));
/// let counts: Vec<(i64, Option<i64>)> = counts
///     .read_key_values_to_list()
///     .unwrap()
///     .into_iter()
///     .map(|(k, v)| (k.window.start_ms, v))
///     .collect();
/// assert_eq!(counts, [(0, Some(1)), (0, Some(2)), (10_000, Some(1))]);
/// ```
pub struct TimeWindowedKStream<K, V, KC, VC> {
    source: GroupedSource<K, V, KC, VC>,
    windows: Windowing,
    emit: EmitStrategy,
}

impl<K, V, KC: Clone, VC: Clone> Clone for TimeWindowedKStream<K, V, KC, VC> {
    fn clone(&self) -> Self {
        TimeWindowedKStream {
            source: self.source.clone(),
            windows: self.windows,
            emit: self.emit,
        }
    }
}

impl<K, V, KC, VC> std::fmt::Debug for TimeWindowedKStream<K, V, KC, VC> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TimeWindowedKStream")
            .field("node", &self.source.node)
            .field("windows", &self.windows)
            .field("emit", &self.emit)
            .finish_non_exhaustive()
    }
}

impl<K, V, KC, VC> WindowedBy<K, V, KC, VC> for TimeWindows
where
    K: Clone + 'static,
    V: Clone + 'static,
    KC: Codec<K>,
    VC: Codec<V>,
{
    type Stream = TimeWindowedKStream<K, V, KC, VC>;

    fn windowed(self, grouped: &KGroupedStream<K, V, KC, VC>) -> Self::Stream {
        TimeWindowedKStream {
            source: grouped.source(),
            windows: Windowing::Fixed(self),
            emit: EmitStrategy::OnWindowUpdate,
        }
    }
}

impl<K, V, KC, VC> WindowedBy<K, V, KC, VC> for SlidingWindows
where
    K: Clone + 'static,
    V: Clone + 'static,
    KC: Codec<K>,
    VC: Codec<V>,
{
    type Stream = TimeWindowedKStream<K, V, KC, VC>;

    fn windowed(self, grouped: &KGroupedStream<K, V, KC, VC>) -> Self::Stream {
        TimeWindowedKStream {
            source: grouped.source(),
            windows: Windowing::Sliding(self),
            emit: EmitStrategy::OnWindowUpdate,
        }
    }
}

impl<K, V, KC, VC> TimeWindowedKStream<K, V, KC, VC>
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

    /// When the aggregation emits: every update (the default) or each window's final result
    /// when it closes ([`EmitStrategy::OnWindowClose`]).
    pub fn emit_strategy(&self, emit: EmitStrategy) -> Self {
        let mut with = self.clone();
        with.emit = emit;
        with
    }

    /// The number of records per key and window.
    pub fn count(&self) -> KTable<Windowed<K>, i64, TimeWindowedCodec<KC>, Inferred> {
        self.aggregate_into(
            names::AGGREGATE,
            CountAggregator,
            Materialized::new(),
            Inferred,
        )
    }

    /// The number of records per key and window, kept as `materialized` says.
    pub fn count_with<MK, MV>(
        &self,
        materialized: Materialized<MK, MV>,
    ) -> KTable<Windowed<K>, i64, TimeWindowedCodec<MK::Codec>, MV::Codec>
    where
        MK: CodecChoice<K, KC>,
        MV: CodecChoice<i64, Inferred>,
        MK::Codec: Clone,
        MV::Codec: Clone,
    {
        // Kafka Streams burns an index here for an unnamed store of time windows, for
        // compatibility with older topologies (not for sliding windows).
        if materialized.name.is_none() && matches!(self.windows, Windowing::Fixed(_)) {
            self.source.graph.borrow_mut().store_name(names::AGGREGATE);
        }
        self.aggregate_into(names::AGGREGATE, CountAggregator, materialized, Inferred)
    }

    /// Each key's values per window combined with `reducer(aggregate, value)`, starting from its
    /// first.
    pub fn reduce<F>(&self, reducer: F) -> KTable<Windowed<K>, V, TimeWindowedCodec<KC>, VC>
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
    ) -> KTable<Windowed<K>, V, TimeWindowedCodec<MK::Codec>, MV::Codec>
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

    /// Each key's values per window folded with `aggregator(key, value, aggregate)`, starting
    /// from `initializer()`.
    pub fn aggregate<VA, I, F>(
        &self,
        initializer: I,
        aggregator: F,
    ) -> KTable<Windowed<K>, VA, TimeWindowedCodec<KC>, Inferred>
    where
        VA: Clone + 'static,
        I: Fn() -> VA + Send + Sync + 'static,
        F: Fn(&K, V, VA) -> VA + Send + Sync + 'static,
        Inferred: Codec<VA>,
    {
        self.aggregate_with(initializer, aggregator, Materialized::new())
    }

    /// [`aggregate`](Self::aggregate), kept as `materialized` says.
    pub fn aggregate_with<VA, I, F, MK, MV>(
        &self,
        initializer: I,
        aggregator: F,
        materialized: Materialized<MK, MV>,
    ) -> KTable<Windowed<K>, VA, TimeWindowedCodec<MK::Codec>, MV::Codec>
    where
        VA: Clone + 'static,
        I: Fn() -> VA + Send + Sync + 'static,
        F: Fn(&K, V, VA) -> VA + Send + Sync + 'static,
        MK: CodecChoice<K, KC>,
        MV: CodecChoice<VA, Inferred>,
        MK::Codec: Clone,
        MV::Codec: Clone,
    {
        let fold = InitAggregator {
            initializer,
            aggregator,
        };
        self.aggregate_into(names::AGGREGATE, fold, materialized, Inferred)
    }

    fn aggregate_into<VA, A, MK, MV, IV>(
        &self,
        prefix: &str,
        aggregator: A,
        materialized: Materialized<MK, MV>,
        inherited_value_codec: IV,
    ) -> KTable<Windowed<K>, VA, TimeWindowedCodec<MK::Codec>, MV::Codec>
    where
        VA: Clone + 'static,
        A: WindowAggregator<K, V, VA>,
        MK: CodecChoice<K, KC>,
        MV: CodecChoice<VA, IV>,
        MK::Codec: Clone,
        MV::Codec: Clone,
    {
        let mut graph = self.source.graph.borrow_mut();
        let names = self.source.names(&mut graph, prefix, materialized.name);
        let windows = self.windows;
        if let Windowing::Fixed(w) = windows
            && let Some(problem) = w.problem(&names.node)
        {
            graph.error(problem);
        }
        let retention_ms = retention_ms(
            &mut graph,
            &names.store,
            materialized.more.retention,
            windows.minimum_retention(),
        );
        let key_codec = materialized.key_codec.choose(self.source.key_codec.clone());
        let value_codec = materialized.value_codec.choose(inherited_value_codec);
        let state = Rc::new(TableState::windowed_aggregate(windows.grace_ms()));
        let aggregator = Arc::new(aggregator);
        let (kc, vc, options) = (key_codec.clone(), value_codec.clone(), materialized.more);
        let (null_kc, null_vc) = (
            self.source.key_codec.clone(),
            self.source.value_codec.clone(),
        );
        let emit = self.emit;
        let caching = options.caching && windows.caching(emit);
        // Kafka Streams keeps the windows of a RocksDB aggregation that emits on close in a
        // time-ordered store, which still shows a window starting exactly `retention` before
        // its stream time (the key-ordered store, like this one, hides it): one more
        // millisecond of retention shows the same windows.
        let retention_ms =
            if emit == EmitStrategy::OnWindowClose && options.store_type == StoreType::RocksDb {
                retention_ms.saturating_add(1)
            } else {
                retention_ms
            };
        let (node, parent, store_name) = (
            names.node.clone(),
            names.parent.clone(),
            names.store.clone(),
        );
        let table_state = Rc::clone(&state);
        graph.step(move |b| {
            let send_old_values = table_state.sends_old_values();
            let store: Arc<str> = Arc::from(store_name.as_str());
            let core = move || {
                WindowedCore::new(Arc::clone(&store), null_kc.clone(), emit, send_old_values)
            };
            match windows {
                Windowing::Fixed(windows) => {
                    b.add_processor(
                        node.clone(),
                        move || TimeWindowAggregate::<K, V, VA, A, KC> {
                            windows,
                            aggregator: Arc::clone(&aggregator),
                            core: core(),
                            types: PhantomData,
                        },
                        [parent],
                    );
                }
                Windowing::Sliding(windows) => {
                    b.add_processor(
                        node.clone(),
                        move || SlidingWindowAggregate::<K, V, VA, A, KC, VC> {
                            windows,
                            aggregator: Arc::clone(&aggregator),
                            value_codec: null_vc.clone(),
                            core: core(),
                            types: PhantomData,
                        },
                        [parent],
                    );
                }
            }
            add_window_store::<K, VA, _, _>(
                b,
                &store_name,
                kc,
                vc,
                options,
                retention_ms,
                windows.size_ms(),
                caching,
                &node,
            );
        });
        drop(graph);
        KTable::new(
            Rc::clone(&self.source.graph),
            names.node,
            TimeWindowedCodec::new(key_codec, self.windows.size_ms()),
            value_codec,
            names.queryable.then_some(names.store),
            state,
        )
    }
}
