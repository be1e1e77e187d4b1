//! `KGroupedTable`: a table re-grouped by a new key, ready to aggregate.

use std::marker::PhantomData;
use std::rc::Rc;
use std::sync::Arc;

use crate::codec::{Codec, Inferred};

use super::change::ChangeCodec;
use super::graph::{Shared, add_kv_store};
use super::ktable::{KTable, TableState};
use super::names;
use super::options::{CodecChoice, Materialized};
use super::processors::aggregate::{
    TableAggregate, TableAggregateFns, TableAggregator, TableCount, TableReduce,
};

/// A table grouped by a new key — Kafka Streams' `KGroupedTable`. Its aggregations read the
/// groups' changes from the repartition topic `<grouped name or store name>-repartition` (old
/// and new values in one record, as Kafka Streams writes them) and keep one row per group.
///
/// ```
/// use streams_core::codec::{I64, Nullable, Utf8};
/// use streams_core::dsl::StreamsBuilder;
/// use streams_core::testing::TopologyTestDriver;
///
/// // Users per city, from a table of user → city.
/// let builder = StreamsBuilder::new();
/// builder
///     .table::<String, String>("user-city")
///     .group_by(|_user, city| (city.clone(), city))
///     .count()
///     .to_stream()
///     .to("users-per-city");
/// let driver = TopologyTestDriver::new(builder.build().unwrap()).unwrap();
/// let moves = driver.create_input_topic("user-city", Utf8, Nullable(Utf8));
/// moves.pipe_input("ann".to_string(), Some("Oslo".to_string())).unwrap();
/// moves.pipe_input("ann".to_string(), Some("Rome".to_string())).unwrap(); // ann moves
/// let counts = driver.create_output_topic("users-per-city", Utf8, Nullable(I64));
/// let counts = counts.read_key_values_to_map().unwrap();
/// assert_eq!((counts["Oslo"], counts["Rome"]), (Some(0), Some(1)));
/// ```
pub struct KGroupedTable<K, V, KC, VC> {
    graph: Shared,
    node: String,
    key_codec: KC,
    value_codec: VC,
    grouped_name: Option<String>,
    next_name: Option<String>,
    types: PhantomData<fn() -> (K, V)>,
}

impl<K, V, KC: Clone, VC: Clone> Clone for KGroupedTable<K, V, KC, VC> {
    fn clone(&self) -> Self {
        KGroupedTable {
            graph: Rc::clone(&self.graph),
            node: self.node.clone(),
            key_codec: self.key_codec.clone(),
            value_codec: self.value_codec.clone(),
            grouped_name: self.grouped_name.clone(),
            next_name: self.next_name.clone(),
            types: PhantomData,
        }
    }
}

impl<K, V, KC, VC> KGroupedTable<K, V, KC, VC>
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
        grouped_name: Option<String>,
    ) -> Self {
        KGroupedTable {
            graph,
            node,
            key_codec,
            value_codec,
            grouped_name,
            next_name: None,
            types: PhantomData,
        }
    }

    /// Names the aggregation's node; its repartition sink and source become `<name>-sink` and
    /// `<name>-source` (Kafka Streams' `Named`).
    pub fn named(&self, name: impl Into<String>) -> Self {
        let mut named = self.clone();
        named.next_name = Some(name.into());
        named
    }

    /// The number of rows per group.
    pub fn count(&self) -> KTable<K, i64, KC, Inferred> {
        self.count_with(Materialized::new())
    }

    /// The number of rows per group, kept as `materialized` says.
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
        self.aggregate_into(names::TABLE_AGGREGATE, TableCount, materialized, Inferred)
    }

    /// Each group's values combined with `adder(aggregate, value)` as rows join the group and
    /// `subtractor(aggregate, value)` as they leave it.
    pub fn reduce<A, S>(&self, adder: A, subtractor: S) -> KTable<K, V, KC, VC>
    where
        A: Fn(V, V) -> V + Send + Sync + 'static,
        S: Fn(V, V) -> V + Send + Sync + 'static,
    {
        self.reduce_with(adder, subtractor, Materialized::new())
    }

    /// [`reduce`](Self::reduce), kept as `materialized` says.
    pub fn reduce_with<A, S, MK, MV>(
        &self,
        adder: A,
        subtractor: S,
        materialized: Materialized<MK, MV>,
    ) -> KTable<K, V, MK::Codec, MV::Codec>
    where
        A: Fn(V, V) -> V + Send + Sync + 'static,
        S: Fn(V, V) -> V + Send + Sync + 'static,
        MK: CodecChoice<K, KC>,
        MV: CodecChoice<V, VC>,
        MK::Codec: Clone,
        MV::Codec: Clone,
    {
        let inherited = self.value_codec.clone();
        // Kafka Streams names a table reduce's store like an aggregate's.
        let reduce = TableReduce { adder, subtractor };
        self.aggregate_into(names::TABLE_REDUCE, reduce, materialized, inherited)
    }

    /// Each group's values folded from `initializer()` with `adder(key, value, aggregate)` as
    /// rows join and `subtractor(key, value, aggregate)` as they leave.
    pub fn aggregate<VA, I, A, S>(
        &self,
        initializer: I,
        adder: A,
        subtractor: S,
    ) -> KTable<K, VA, KC, Inferred>
    where
        VA: Clone + 'static,
        I: Fn() -> VA + Send + Sync + 'static,
        A: Fn(&K, V, VA) -> VA + Send + Sync + 'static,
        S: Fn(&K, V, VA) -> VA + Send + Sync + 'static,
        Inferred: Codec<VA>,
    {
        self.aggregate_with(initializer, adder, subtractor, Materialized::new())
    }

    /// [`aggregate`](Self::aggregate), kept as `materialized` says.
    pub fn aggregate_with<VA, I, A, S, MK, MV>(
        &self,
        initializer: I,
        adder: A,
        subtractor: S,
        materialized: Materialized<MK, MV>,
    ) -> KTable<K, VA, MK::Codec, MV::Codec>
    where
        VA: Clone + 'static,
        I: Fn() -> VA + Send + Sync + 'static,
        A: Fn(&K, V, VA) -> VA + Send + Sync + 'static,
        S: Fn(&K, V, VA) -> VA + Send + Sync + 'static,
        MK: CodecChoice<K, KC>,
        MV: CodecChoice<VA, Inferred>,
        MK::Codec: Clone,
        MV::Codec: Clone,
    {
        let fns = TableAggregateFns {
            initializer,
            adder,
            subtractor,
        };
        self.aggregate_into(names::TABLE_AGGREGATE, fns, materialized, Inferred)
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
        S: TableAggregator<K, V, VA>,
        MK: CodecChoice<K, KC>,
        MV: CodecChoice<VA, IV>,
        MK::Codec: Clone,
        MV::Codec: Clone,
    {
        let mut graph = self.graph.borrow_mut();
        let queryable = materialized.name.is_some();
        let store = match materialized.name {
            Some(name) => name,
            None => graph.store_name(names::TABLE_AGGREGATE),
        };
        let sink = graph.suffixed_or(self.next_name.as_deref(), "-sink", names::SINK);
        let source = graph.suffixed_or(self.next_name.as_deref(), "-source", names::SOURCE);
        let name = graph.name_or(self.next_name.clone(), prefix);
        let topic = format!(
            "{}{}",
            self.grouped_name.as_deref().unwrap_or(&store),
            names::REPARTITION_SUFFIX
        );
        let key_codec = materialized.key_codec.choose(self.key_codec.clone());
        let value_codec = materialized.value_codec.choose(inherited_value_codec);
        let state = Rc::new(TableState::aggregate().with_store(&store));
        let aggregator = Arc::new(aggregator);
        let (kc, vc, options) = (key_codec.clone(), value_codec.clone(), materialized.more);
        let (topic_kc, topic_vc) = (
            self.key_codec.clone(),
            ChangeCodec(self.value_codec.clone()),
        );
        let (node, parent, table_state, store_name) = (
            name.clone(),
            self.node.clone(),
            Rc::clone(&state),
            store.clone(),
        );
        graph.step(move |b| {
            b.add_internal_topic(&topic, None);
            b.add_sink(
                sink.clone(),
                topic.clone(),
                topic_kc.clone(),
                topic_vc.clone(),
                [parent],
            );
            b.add_source(source.clone(), [topic], topic_kc, topic_vc);
            let send_old_values = table_state.sends_old_values();
            let store_arc: Arc<str> = Arc::from(store_name.as_str());
            b.add_processor(
                node.clone(),
                move || TableAggregate::<K, V, VA, S> {
                    store: Arc::clone(&store_arc),
                    aggregator: Arc::clone(&aggregator),
                    send_old_values,
                    forwarder: None,
                    types: PhantomData,
                },
                [source],
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
