//! `KGroupedStream`: a stream grouped by key, ready to aggregate.

use std::marker::PhantomData;
use std::rc::Rc;
use std::sync::Arc;

use crate::codec::{Codec, Inferred};

use super::cogrouped_stream::CogroupedKStream;
use super::graph::{Shared, add_kv_store, add_repartition};
use super::ktable::{KTable, TableState};
use super::names;
use super::options::{CodecChoice, Materialized};
use super::processors::aggregate::{
    CountAggregator, InitAggregator, ReduceAggregator, StreamAggregate, StreamAggregator,
};
use super::windowed_stream::GroupedSource;
use super::windows::WindowedBy;

/// A stream grouped by key — Kafka Streams' `KGroupedStream`. Its aggregations make a
/// [`KTable`] of one row per key, kept in a timestamped key-value store (named by
/// [`Materialized`], else generated) with a changelog. If an upstream operation changed the
/// key, the aggregation first repartitions through `<grouped name or store name>-repartition`.
///
/// ```
/// use streams_core::codec::{I64, Nullable, Utf8};
/// use streams_core::dsl::{Materialized, StreamsBuilder};
/// use streams_core::testing::TopologyTestDriver;
///
/// let builder = StreamsBuilder::new();
/// builder
///     .stream::<String, i64>("payments")
///     .group_by_key()
///     .reduce_with(|total, amount| total + amount, Materialized::named("totals"))
///     .to_stream()
///     .to("totals-out");
/// let driver = TopologyTestDriver::new(builder.build().unwrap()).unwrap();
/// let payments = driver.create_input_topic("payments", Utf8, I64);
/// payments.pipe_input("ann".to_string(), 5).unwrap();
/// payments.pipe_input("ann".to_string(), 7).unwrap();
/// let totals = driver.create_output_topic("totals-out", Utf8, Nullable(I64));
/// assert_eq!(totals.read_values_to_list().unwrap(), [Some(5), Some(12)]);
/// assert_eq!(driver.timestamped_key_value_store::<String, i64>("totals").is_some(), true);
/// ```
pub struct KGroupedStream<K, V, KC, VC> {
    graph: Shared,
    node: String,
    key_codec: KC,
    value_codec: VC,
    repartition_required: bool,
    grouped_name: Option<String>,
    next_name: Option<String>,
    /// Which grouped stream this is (clones are the same one): a cogroup keeps one aggregator
    /// per grouped stream, as Kafka Streams keys them by the `KGroupedStream` object.
    identity: Rc<()>,
    types: PhantomData<fn() -> (K, V)>,
}

impl<K, V, KC: Clone, VC: Clone> Clone for KGroupedStream<K, V, KC, VC> {
    fn clone(&self) -> Self {
        KGroupedStream {
            graph: Rc::clone(&self.graph),
            node: self.node.clone(),
            key_codec: self.key_codec.clone(),
            value_codec: self.value_codec.clone(),
            repartition_required: self.repartition_required,
            grouped_name: self.grouped_name.clone(),
            next_name: self.next_name.clone(),
            identity: Rc::clone(&self.identity),
            types: PhantomData,
        }
    }
}

impl<K, V, KC, VC> KGroupedStream<K, V, KC, VC>
where
    K: Clone + 'static,
    V: Clone + 'static,
    KC: Codec<K>,
    VC: Codec<V>,
{
    pub(crate) fn new(
        graph: Shared,
        node: String,
        key_codec: KC,
        value_codec: VC,
        repartition_required: bool,
        grouped_name: Option<String>,
    ) -> Self {
        KGroupedStream {
            graph,
            node,
            key_codec,
            value_codec,
            repartition_required,
            grouped_name,
            next_name: None,
            identity: Rc::new(()),
            types: PhantomData,
        }
    }

    /// Names the aggregation's node (Kafka Streams' `Named`).
    pub fn named(&self, name: impl Into<String>) -> Self {
        let mut named = self.clone();
        named.next_name = Some(name.into());
        named
    }

    /// The number of records per key.
    ///
    /// ```
    /// use streams_core::codec::{I64, Nullable, Utf8};
    /// use streams_core::dsl::StreamsBuilder;
    /// use streams_core::testing::TopologyTestDriver;
    ///
    /// let builder = StreamsBuilder::new();
    /// builder.stream::<String, String>("clicks").group_by_key().count().to_stream().to("counts");
    /// let driver = TopologyTestDriver::new(builder.build().unwrap()).unwrap();
    /// let clicks = driver.create_input_topic("clicks", Utf8, Utf8);
    /// for page in ["a", "b", "a"] {
    ///     clicks.pipe_input(page.to_string(), "x".to_string()).unwrap();
    /// }
    /// let counts = driver.create_output_topic("counts", Utf8, Nullable(I64));
    /// assert_eq!(counts.read_values_to_list().unwrap(), [Some(1), Some(1), Some(2)]);
    /// ```
    pub fn count(&self) -> KTable<K, i64, KC, Inferred> {
        self.aggregate_into(
            names::AGGREGATE,
            CountAggregator,
            Materialized::new(),
            Inferred,
        )
    }

    /// The number of records per key, kept as `materialized` says.
    ///
    /// Without a store name this uses one more index of the generated names than
    /// [`count`](Self::count), as Kafka Streams' `count(Materialized)` does (for compatibility
    /// with topologies of its older versions): the names after it are those Kafka Streams gives.
    pub fn count_with<MK, MV>(
        &self,
        materialized: Materialized<MK, MV>,
    ) -> KTable<K, i64, MK::Codec, MV::Codec>
    where
        MK: CodecChoice<K, KC>,
        MV: CodecChoice<i64, Inferred>,
        MK::Codec: Clone,
        MV::Codec: Clone,
    {
        if materialized.name.is_none() {
            self.graph.borrow_mut().store_name(names::AGGREGATE);
        }
        self.aggregate_into(names::AGGREGATE, CountAggregator, materialized, Inferred)
    }

    /// Each key's values combined with `reducer(aggregate, value)`, starting from its first.
    pub fn reduce<F>(&self, reducer: F) -> KTable<K, V, KC, VC>
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
    ) -> KTable<K, V, MK::Codec, MV::Codec>
    where
        F: Fn(V, V) -> V + Send + Sync + 'static,
        MK: CodecChoice<K, KC>,
        MV: CodecChoice<V, VC>,
        MK::Codec: Clone,
        MV::Codec: Clone,
    {
        let inherited = self.value_codec.clone();
        self.aggregate_into(
            names::REDUCE,
            ReduceAggregator(reducer),
            materialized,
            inherited,
        )
    }

    /// Each key's values folded with `aggregator(key, value, aggregate)`, starting from
    /// `initializer()`.
    pub fn aggregate<VA, I, F>(&self, initializer: I, aggregator: F) -> KTable<K, VA, KC, Inferred>
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
    ) -> KTable<K, VA, MK::Codec, MV::Codec>
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

    /// Windows the stream for a windowed aggregation — Kafka Streams' `windowedBy`: by
    /// [`TimeWindows`](super::TimeWindows) (tumbling or hopping) or
    /// [`SlidingWindows`](super::SlidingWindows), giving a
    /// [`TimeWindowedKStream`](super::TimeWindowedKStream), or by
    /// [`SessionWindows`](super::SessionWindows), giving a
    /// [`SessionWindowedKStream`](super::SessionWindowedKStream).
    ///
    /// ```
    /// use std::time::Duration;
    /// use streams_core::dsl::{SessionWindows, SlidingWindows, StreamsBuilder, TimeWindows};
    ///
    /// let builder = StreamsBuilder::new();
    /// let clicks = builder.stream::<String, String>("clicks").group_by_key();
    /// let per_minute = clicks.windowed_by(TimeWindows::of_size_with_no_grace(Duration::from_secs(60))).count();
    /// let per_5s_apart = clicks.windowed_by(SlidingWindows::of_time_difference_with_no_grace(Duration::from_secs(5))).count();
    /// let per_visit = clicks.windowed_by(SessionWindows::of_inactivity_gap_with_no_grace(Duration::from_secs(1800))).count();
    /// # let _ = (per_minute, per_5s_apart, per_visit);
    /// ```
    pub fn windowed_by<W: WindowedBy<K, V, KC, VC>>(&self, windows: W) -> W::Stream {
        windows.windowed(self)
    }

    /// Starts a cogroup with this stream as its first input, folded into the aggregate with
    /// `aggregator(key, value, aggregate)` — Kafka Streams' `cogroup(aggregator)`. Add more
    /// grouped streams of the same key type, each with its own aggregator, with
    /// [`CogroupedKStream::cogroup`], then [`aggregate`](CogroupedKStream::aggregate) them all
    /// into one table (or [`windowed_by`](CogroupedKStream::windowed_by) first). The table
    /// inherits this stream's key codec; a name given with [`named`](Self::named) names the
    /// cogroup's nodes.
    ///
    /// ```
    /// use streams_core::codec::{I64, Nullable, Utf8};
    /// use streams_core::dsl::{Materialized, StreamsBuilder};
    /// use streams_core::testing::TopologyTestDriver;
    ///
    /// let builder = StreamsBuilder::new();
    /// let deposits = builder.stream::<String, i64>("deposits").group_by_key();
    /// let withdrawals = builder.stream::<String, i64>("withdrawals").group_by_key();
    /// deposits
    ///     .cogroup(|_account, amount, balance: i64| balance + amount)
    ///     .cogroup(&withdrawals, |_account, amount, balance| balance - amount)
    ///     .aggregate_with(|| 0, Materialized::named("balances"))
    ///     .to_stream()
    ///     .to("balance-updates");
    /// let driver = TopologyTestDriver::new(builder.build().unwrap()).unwrap();
    /// let deposits = driver.create_input_topic("deposits", Utf8, I64);
    /// let withdrawals = driver.create_input_topic("withdrawals", Utf8, I64);
    /// deposits.pipe_input("acc-1".to_string(), 100).unwrap();
    /// withdrawals.pipe_input("acc-1".to_string(), 30).unwrap();
    /// deposits.pipe_input("acc-1".to_string(), 5).unwrap();
    /// let balances = driver.create_output_topic("balance-updates", Utf8, Nullable(I64));
    /// assert_eq!(balances.read_values_to_list().unwrap(), [Some(100), Some(70), Some(75)]);
    /// ```
    pub fn cogroup<VA, F>(&self, aggregator: F) -> CogroupedKStream<K, VA, KC>
    where
        VA: Clone + 'static,
        F: Fn(&K, V, VA) -> VA + Send + Sync + 'static,
    {
        CogroupedKStream::new(self, aggregator)
    }

    /// Which grouped stream this is (see [`CogroupedKStream::cogroup`]).
    pub(crate) fn identity(&self) -> &Rc<()> {
        &self.identity
    }

    /// What a windowed stream made by [`windowed_by`](Self::windowed_by) keeps of this one.
    pub(crate) fn source(&self) -> GroupedSource<K, V, KC, VC> {
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

    fn aggregate_into<VA, S, MK, MV, IV>(
        &self,
        prefix: &str,
        aggregator: S,
        materialized: Materialized<MK, MV>,
        inherited_value_codec: IV,
    ) -> KTable<K, VA, MK::Codec, MV::Codec>
    where
        VA: Clone + 'static,
        S: StreamAggregator<K, V, VA>,
        MK: CodecChoice<K, KC>,
        MV: CodecChoice<VA, IV>,
        MK::Codec: Clone,
        MV::Codec: Clone,
    {
        let mut graph = self.graph.borrow_mut();
        let queryable = materialized.name.is_some();
        let store = match materialized.name {
            Some(name) => name,
            None => graph.store_name(prefix),
        };
        let name = graph.name_or(self.next_name.clone(), prefix);
        let parent = if self.repartition_required {
            let topic_prefix = self.grouped_name.clone().unwrap_or_else(|| store.clone());
            add_repartition::<K, V, _, _>(
                &mut graph,
                self.node.clone(),
                &topic_prefix,
                self.key_codec.clone(),
                self.value_codec.clone(),
                None,
            )
        } else {
            self.node.clone()
        };
        let key_codec = materialized.key_codec.choose(self.key_codec.clone());
        let value_codec = materialized.value_codec.choose(inherited_value_codec);
        let state = Rc::new(TableState::aggregate().with_store(&store));
        let aggregator = Arc::new(aggregator);
        let (kc, vc, options) = (key_codec.clone(), value_codec.clone(), materialized.more);
        let (null_kc, null_vc) = (self.key_codec.clone(), self.value_codec.clone());
        let (node, table_state, store_name) = (name.clone(), Rc::clone(&state), store.clone());
        graph.step(move |b| {
            let send_old_values = table_state.sends_old_values();
            let store_arc: Arc<str> = Arc::from(store_name.as_str());
            b.add_processor(
                node.clone(),
                move || StreamAggregate::<K, V, VA, S, KC, VC> {
                    store: Arc::clone(&store_arc),
                    aggregator: Arc::clone(&aggregator),
                    key_codec: null_kc.clone(),
                    value_codec: null_vc.clone(),
                    send_old_values,
                    shared_store: false,
                    forwarder: None,
                    types: PhantomData,
                },
                [parent],
            );
            add_kv_store::<K, VA, _, _>(b, &store_name, kc, vc, options, &node);
        });
        drop(graph);
        KTable::new(
            Rc::clone(&self.graph),
            name,
            key_codec,
            value_codec,
            queryable.then_some(store),
            state,
        )
    }
}
