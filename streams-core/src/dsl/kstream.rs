//! `KStream`: an unbounded stream of records.

use std::marker::PhantomData;
use std::rc::Rc;
use std::sync::Arc;

use crate::codec::{Codec, Inferred};
use crate::processor::{
    FixedKeyAdapter, FixedKeyProcessor, FixedKeyProcessorSupplier, Processor, ProcessorSupplier,
};
use crate::topology::{StreamPartitioner, TopicNameExtractor};

use super::graph::{Shared, add_repartition};
use super::grouped_stream::KGroupedStream;
use super::ktable::{KTable, TableState};
use super::names;
use super::options::{CodecChoice, Grouped, Materialized, Produced, Repartitioned};
use super::processors::stateless::{
    Filter, FilterNot, FlatMap, FlatMapValues, Foreach, Map, MapValues, PassThrough, Peek,
    SelectKey,
};
use super::processors::table::{Materialization, TableSource};
use super::processors::versioned_table::VersionedTableSource;
use super::split::BranchedKStream;

/// A stream of records — Kafka Streams' `KStream<K, V>`, with the codecs it carries in its type
/// (`KC`, `VC`: the ones it was read with, or the types' default codecs once an operation made
/// new keys or values).
///
/// Operations take `&self`, so one stream can feed several (each a child of its node, as in
/// Kafka Streams). User logic is plain closures; they run on the stream threads, so they are
/// `Send + Sync`.
///
/// **Naming.** [`named`](Self::named) names the node of the next operation (Kafka Streams'
/// `Named.as`); without it a name like `KSTREAM-FILTER-0000000003` is generated from the
/// builder's one index.
///
/// **Nulls.** Kafka Streams passes null keys and values to operators; here a null is a value of
/// an `Option<_>` type. Aggregations drop records whose key or value their codec writes as null
/// (Kafka's null), with a warning and the `dropped-records` metric, as Kafka Streams does.
///
/// ```
/// use streams_core::codec::{I64, Utf8};
/// use streams_core::dsl::{Produced, StreamsBuilder};
/// use streams_core::testing::TopologyTestDriver;
///
/// let builder = StreamsBuilder::new();
/// let orders = builder.stream::<String, String>("orders");
/// orders
///     .filter(|_id, line| !line.starts_with('#'))
///     .map(|id, line| (line.split(',').next().unwrap_or_default().to_string(), id))
///     .map_values(|id| id.len() as i64)
///     .to_with("by-customer", Produced::with(Utf8, I64));
/// let driver = TopologyTestDriver::new(builder.build().unwrap()).unwrap();
/// driver
///     .create_input_topic("orders", Utf8, Utf8)
///     .pipe_input("o-17".to_string(), "ann,3 books".to_string())
///     .unwrap();
/// let out = driver.create_output_topic("by-customer", Utf8, I64);
/// assert_eq!(out.read_key_value().unwrap(), ("ann".to_string(), 4));
/// ```
pub struct KStream<K, V, KC = Inferred, VC = Inferred> {
    pub(crate) graph: Shared,
    pub(crate) node: String,
    pub(crate) key_codec: KC,
    pub(crate) value_codec: VC,
    /// Whether an upstream operation may have changed the key since the last repartition.
    pub(crate) repartition_required: bool,
    /// The name for the next operation's node.
    pub(crate) next_name: Option<String>,
    types: PhantomData<fn() -> (K, V)>,
}

impl<K, V, KC: Clone, VC: Clone> Clone for KStream<K, V, KC, VC> {
    fn clone(&self) -> Self {
        KStream {
            graph: Rc::clone(&self.graph),
            node: self.node.clone(),
            key_codec: self.key_codec.clone(),
            value_codec: self.value_codec.clone(),
            repartition_required: self.repartition_required,
            next_name: self.next_name.clone(),
            types: PhantomData,
        }
    }
}

impl<K, V, KC, VC> std::fmt::Debug for KStream<K, V, KC, VC> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KStream")
            .field("node", &self.node)
            .field("repartition_required", &self.repartition_required)
            .finish_non_exhaustive()
    }
}

impl<K, V, KC, VC> KStream<K, V, KC, VC>
where
    K: Clone + 'static,
    V: Clone + 'static,
    KC: Clone + 'static,
    VC: Clone + 'static,
{
    pub(crate) fn new(
        graph: Shared,
        node: String,
        key_codec: KC,
        value_codec: VC,
        repartition_required: bool,
    ) -> Self {
        KStream {
            graph,
            node,
            key_codec,
            value_codec,
            repartition_required,
            next_name: None,
            types: PhantomData,
        }
    }

    /// The name of the node that produces this stream.
    pub fn node_name(&self) -> &str {
        &self.node
    }

    /// Names the node of the next operation on the returned stream (Kafka Streams' `Named`).
    ///
    /// ```
    /// use streams_core::dsl::StreamsBuilder;
    /// let builder = StreamsBuilder::new();
    /// let long = builder
    ///     .stream::<String, String>("input")
    ///     .named("long-lines")
    ///     .filter(|_k, v| v.len() > 80);
    /// assert_eq!(long.node_name(), "long-lines");
    /// ```
    pub fn named(&self, name: impl Into<String>) -> Self {
        let mut named = self.clone();
        named.next_name = Some(name.into());
        named
    }

    /// Adds a processor after this stream's node; returns its name.
    fn add<S: ProcessorSupplier>(&self, prefix: &str, supplier: S) -> String {
        let mut graph = self.graph.borrow_mut();
        let name = graph.name_or(self.next_name.clone(), prefix);
        let (node, parent) = (name.clone(), self.node.clone());
        graph.step(move |b| {
            b.add_processor(node, supplier, [parent]);
        });
        name
    }

    pub(crate) fn derive<K2, V2, KC2, VC2>(
        &self,
        node: String,
        key_codec: KC2,
        value_codec: VC2,
        repartition_required: bool,
    ) -> KStream<K2, V2, KC2, VC2> {
        KStream {
            graph: Rc::clone(&self.graph),
            node,
            key_codec,
            value_codec,
            repartition_required,
            next_name: None,
            types: PhantomData,
        }
    }

    /// The records `predicate` accepts.
    pub fn filter<F>(&self, predicate: F) -> Self
    where
        F: Fn(&K, &V) -> bool + Send + Sync + 'static,
    {
        let f = Arc::new(predicate);
        let node = self.add(names::FILTER, move || {
            Filter::<K, V, F>::new(Arc::clone(&f))
        });
        self.derive(
            node,
            self.key_codec.clone(),
            self.value_codec.clone(),
            self.repartition_required,
        )
    }

    /// The records `predicate` rejects.
    pub fn filter_not<F>(&self, predicate: F) -> Self
    where
        F: Fn(&K, &V) -> bool + Send + Sync + 'static,
    {
        let f = Arc::new(predicate);
        let node = self.add(names::FILTER, move || {
            FilterNot::<K, V, F>::new(Arc::clone(&f))
        });
        self.derive(
            node,
            self.key_codec.clone(),
            self.value_codec.clone(),
            self.repartition_required,
        )
    }

    /// A new key and value for each record. Marks the stream for repartitioning before the next
    /// grouping or join.
    pub fn map<KR, VR, F>(&self, mapper: F) -> KStream<KR, VR>
    where
        KR: Clone + 'static,
        VR: Clone + 'static,
        F: Fn(K, V) -> (KR, VR) + Send + Sync + 'static,
    {
        let f = Arc::new(mapper);
        let node = self.add(names::MAP, move || {
            Map::<K, V, KR, VR, F>::new(Arc::clone(&f))
        });
        self.derive(node, Inferred, Inferred, true)
    }

    /// A new value for each record.
    pub fn map_values<VR, F>(&self, mapper: F) -> KStream<K, VR, KC, Inferred>
    where
        VR: Clone + 'static,
        F: Fn(V) -> VR + Send + Sync + 'static,
    {
        self.map_values_with_key(move |_key, value| mapper(value))
    }

    /// A new value for each record, computed from the key too.
    pub fn map_values_with_key<VR, F>(&self, mapper: F) -> KStream<K, VR, KC, Inferred>
    where
        VR: Clone + 'static,
        F: Fn(&K, V) -> VR + Send + Sync + 'static,
    {
        let f = Arc::new(mapper);
        let node = self.add(names::MAP_VALUES, move || {
            MapValues::<K, V, VR, F>::new(Arc::clone(&f))
        });
        self.derive(
            node,
            self.key_codec.clone(),
            Inferred,
            self.repartition_required,
        )
    }

    /// A new key for each record. Marks the stream for repartitioning.
    pub fn select_key<KR, F>(&self, selector: F) -> KStream<KR, V, Inferred, VC>
    where
        KR: Clone + 'static,
        F: Fn(&K, &V) -> KR + Send + Sync + 'static,
    {
        let f = Arc::new(selector);
        let node = self.add(names::KEY_SELECT, move || {
            SelectKey::<K, V, KR, F>::new(Arc::clone(&f))
        });
        self.derive(node, Inferred, self.value_codec.clone(), true)
    }

    /// Any number of records for each record. Marks the stream for repartitioning.
    pub fn flat_map<KR, VR, I, F>(&self, mapper: F) -> KStream<KR, VR>
    where
        KR: Clone + 'static,
        VR: Clone + 'static,
        I: IntoIterator<Item = (KR, VR)> + 'static,
        F: Fn(K, V) -> I + Send + Sync + 'static,
    {
        let f = Arc::new(mapper);
        let node = self.add(names::FLAT_MAP, move || {
            FlatMap::<K, V, KR, VR, I, F>::new(Arc::clone(&f))
        });
        self.derive(node, Inferred, Inferred, true)
    }

    /// Any number of values for each record, each under the record's key.
    pub fn flat_map_values<VR, I, F>(&self, mapper: F) -> KStream<K, VR, KC, Inferred>
    where
        VR: Clone + 'static,
        I: IntoIterator<Item = VR> + 'static,
        F: Fn(V) -> I + Send + Sync + 'static,
    {
        self.flat_map_values_with_key(move |_key, value| mapper(value))
    }

    /// Any number of values for each record, computed from the key too.
    pub fn flat_map_values_with_key<VR, I, F>(&self, mapper: F) -> KStream<K, VR, KC, Inferred>
    where
        VR: Clone + 'static,
        I: IntoIterator<Item = VR> + 'static,
        F: Fn(&K, V) -> I + Send + Sync + 'static,
    {
        let f = Arc::new(mapper);
        let node = self.add(names::FLAT_MAP_VALUES, move || {
            FlatMapValues::<K, V, VR, I, F>::new(Arc::clone(&f))
        });
        self.derive(
            node,
            self.key_codec.clone(),
            Inferred,
            self.repartition_required,
        )
    }

    /// Calls `action` on each record and passes it on unchanged.
    pub fn peek<F>(&self, action: F) -> Self
    where
        F: Fn(&K, &V) + Send + Sync + 'static,
    {
        let f = Arc::new(action);
        let node = self.add(names::PEEK, move || Peek::<K, V, F>::new(Arc::clone(&f)));
        self.derive(
            node,
            self.key_codec.clone(),
            self.value_codec.clone(),
            self.repartition_required,
        )
    }

    /// Calls `action` on each record (a terminal operation).
    pub fn foreach<F>(&self, action: F)
    where
        F: Fn(&K, &V) + Send + Sync + 'static,
    {
        let f = Arc::new(action);
        self.add(names::FOREACH, move || {
            Foreach::<K, V, F>::new(Arc::clone(&f))
        });
    }

    /// The records of this stream and `other`, as they come.
    pub fn merge<KC2, VC2>(&self, other: &KStream<K, V, KC2, VC2>) -> KStream<K, V> {
        let mut graph = self.graph.borrow_mut();
        let name = graph.name_or(self.next_name.clone(), names::MERGE);
        let (node, parents) = (name.clone(), [self.node.clone(), other.node.clone()]);
        graph.step(move |b| {
            b.add_processor(node, PassThrough::<K, V>::new, parents);
        });
        drop(graph);
        self.derive(
            name,
            Inferred,
            Inferred,
            self.repartition_required || other.repartition_required,
        )
    }

    /// Splits the stream into named branches by predicates (Kafka Streams' `split`).
    pub fn split(&self) -> BranchedKStream<K, V, KC, VC> {
        BranchedKStream::new(self)
    }

    /// Writes the stream to `topic` with the stream's codecs.
    pub fn to(&self, topic: &str)
    where
        KC: Codec<K>,
        VC: Codec<V>,
    {
        self.to_with(topic, Produced::new());
    }

    /// Writes the stream to `topic` as `produced` says.
    pub fn to_with<PK, PV>(&self, topic: &str, produced: Produced<PK, PV>)
    where
        PK: CodecChoice<K, KC>,
        PV: CodecChoice<V, VC>,
    {
        let kc = produced.key_codec.choose(self.key_codec.clone());
        let vc = produced.value_codec.choose(self.value_codec.clone());
        let mut graph = self.graph.borrow_mut();
        let name = graph.name_or(produced.name.or(self.next_name.clone()), names::SINK);
        let (topic, parent) = (topic.to_string(), self.node.clone());
        graph.step(move |b| {
            b.add_sink(name, topic, kc, vc, [parent]);
        });
    }

    /// Writes the stream to `topic` as `produced` says, each record to the partition
    /// `partitioner` picks (Kafka Streams' `Produced.streamPartitioner`).
    ///
    /// ```
    /// use streams_core::dsl::{Produced, StreamsBuilder};
    /// let builder = StreamsBuilder::new();
    /// builder.stream::<String, i64>("amounts").to_partitioned(
    ///     "amounts-by-size",
    ///     Produced::new(),
    ///     |_topic: &str, _key: &String, amount: &i64, partitions: i32| {
    ///         Some(if *amount > 1_000 { 0 } else { 1 % partitions })
    ///     },
    /// );
    /// assert!(builder.build().is_ok());
    /// ```
    pub fn to_partitioned<PK, PV, SP>(
        &self,
        topic: &str,
        produced: Produced<PK, PV>,
        partitioner: SP,
    ) where
        PK: CodecChoice<K, KC>,
        PV: CodecChoice<V, VC>,
        SP: StreamPartitioner<K, V>,
    {
        let kc = produced.key_codec.choose(self.key_codec.clone());
        let vc = produced.value_codec.choose(self.value_codec.clone());
        let mut graph = self.graph.borrow_mut();
        let name = graph.name_or(produced.name.or(self.next_name.clone()), names::SINK);
        let (topic, parent) = (topic.to_string(), self.node.clone());
        graph.step(move |b| {
            b.add_sink_with_partitioner(name, topic, kc, vc, partitioner, [parent]);
        });
    }

    /// Writes each record to the topic `extractor` picks, with the stream's codecs.
    pub fn to_extractor<E>(&self, extractor: E)
    where
        KC: Codec<K>,
        VC: Codec<V>,
        E: TopicNameExtractor<K, V>,
    {
        self.to_extractor_with(extractor, Produced::new());
    }

    /// Writes each record to the topic `extractor` picks, as `produced` says.
    pub fn to_extractor_with<E, PK, PV>(&self, extractor: E, produced: Produced<PK, PV>)
    where
        E: TopicNameExtractor<K, V>,
        PK: CodecChoice<K, KC>,
        PV: CodecChoice<V, VC>,
    {
        let kc = produced.key_codec.choose(self.key_codec.clone());
        let vc = produced.value_codec.choose(self.value_codec.clone());
        let mut graph = self.graph.borrow_mut();
        let name = graph.name_or(produced.name.or(self.next_name.clone()), names::SINK);
        let parent = self.node.clone();
        graph.step(move |b| {
            b.add_sink_with_extractor(name, extractor, kc, vc, [parent]);
        });
    }

    /// Repartitions the stream through an internal topic by its current key.
    pub fn repartition(&self) -> Self
    where
        KC: Codec<K>,
        VC: Codec<V>,
    {
        self.repartition_with(Repartitioned::new())
    }

    /// Repartitions the stream through an internal topic, named, with codecs and a partition
    /// count as `repartitioned` says.
    pub fn repartition_with<RK, RV>(
        &self,
        repartitioned: Repartitioned<RK, RV>,
    ) -> KStream<K, V, RK::Codec, RV::Codec>
    where
        RK: CodecChoice<K, KC>,
        RV: CodecChoice<V, VC>,
        RK::Codec: Clone,
        RV::Codec: Clone,
    {
        let kc = repartitioned.key_codec.choose(self.key_codec.clone());
        let vc = repartitioned.value_codec.choose(self.value_codec.clone());
        let mut graph = self.graph.borrow_mut();
        let name = match repartitioned.name {
            Some(name) => name,
            None => graph.processor_name(names::REPARTITION),
        };
        let source = add_repartition::<K, V, _, _>(
            &mut graph,
            self.node.clone(),
            &name,
            kc.clone(),
            vc.clone(),
            repartitioned.more.partitions,
        );
        drop(graph);
        self.derive(source, kc, vc, false)
    }

    /// The stream as a table: each record the latest value of its key (a value its codec
    /// writes as null deletes the key). Repartitions first if the key was changed.
    pub fn to_table(&self) -> KTable<K, V, KC, VC>
    where
        KC: Codec<K>,
        VC: Codec<V>,
    {
        self.to_table_with(Materialized::new())
    }

    /// The stream as a table kept as `materialized` says.
    pub fn to_table_with<MK, MV>(&self, materialized: Materialized<MK, MV>) -> KTable<K, V, KC, VC>
    where
        KC: Codec<K>,
        VC: Codec<V>,
        MK: CodecChoice<K, KC>,
        MV: CodecChoice<V, VC>,
    {
        let mut graph = self.graph.borrow_mut();
        let name = graph.name_or(self.next_name.clone(), names::TO_TABLE);
        let queryable = materialized.name.is_some();
        let store = match materialized.name {
            Some(store) => store,
            None => graph.store_name(names::TO_TABLE),
        };
        let (kc, vc) = (self.key_codec.clone(), self.value_codec.clone());
        let store_kc = materialized.key_codec.choose(kc.clone());
        let store_vc = materialized.value_codec.choose(vc.clone());
        let parent = if self.repartition_required {
            add_repartition::<K, V, _, _>(
                &mut graph,
                self.node.clone(),
                &name,
                kc.clone(),
                vc.clone(),
                None,
            )
        } else {
            self.node.clone()
        };
        let mut state = TableState::source(true).with_store(&store);
        if materialized.more.versioned.is_some() {
            state = state.versioned();
        }
        let state = Rc::new(state);
        let options = materialized.more;
        let (node, table_state, store_name) = (name.clone(), Rc::clone(&state), store.clone());
        graph.step(move |b| {
            let send_old_values = table_state.sends_old_values();
            let store_arc: Arc<str> = Arc::from(store_name.as_str());
            let (row_codec, key_codec) = (vc.clone(), kc.clone());
            if let Some(history) = options.versioned {
                b.add_processor(
                    node.clone(),
                    move || VersionedTableSource::<K, V, V, KC, _> {
                        to_row: Arc::new({
                            let codec = row_codec.clone();
                            move |v: V| (!codec.is_null(&v)).then_some(v)
                        }),
                        key_codec: key_codec.clone(),
                        store_name: Arc::clone(&store_arc),
                        store: None,
                        send_old_values,
                        types: PhantomData,
                    },
                    [parent],
                );
                super::graph::add_versioned_store::<K, V, _, _>(
                    b,
                    &store_name,
                    store_kc,
                    store_vc,
                    &options,
                    history,
                    &node,
                );
                return;
            }
            b.add_processor(
                node.clone(),
                move || TableSource::<K, V, V, KC, _> {
                    to_row: Arc::new({
                        let codec = row_codec.clone();
                        move |v: V| (!codec.is_null(&v)).then_some(v)
                    }),
                    key_codec: key_codec.clone(),
                    materialized: Materialization::new(Some(Arc::clone(&store_arc))),
                    send_old_values,
                    types: PhantomData,
                },
                [parent],
            );
            super::graph::add_kv_store::<K, V, _, _>(
                b,
                &store_name,
                store_kc,
                store_vc,
                options,
                &node,
            );
        });
        drop(graph);
        KTable::new(
            Rc::clone(&self.graph),
            name,
            self.key_codec.clone(),
            self.value_codec.clone(),
            queryable.then_some(store),
            state,
        )
    }

    /// Groups the records by their key, for an aggregation. Repartitions first (when
    /// aggregating) if an upstream operation changed the key.
    pub fn group_by_key(&self) -> KGroupedStream<K, V, KC, VC>
    where
        KC: Codec<K>,
        VC: Codec<V>,
    {
        self.group_by_key_with(Grouped::new())
    }

    /// Groups the records by their key, with the codecs and name of `grouped`.
    pub fn group_by_key_with<GK, GV>(
        &self,
        grouped: Grouped<GK, GV>,
    ) -> KGroupedStream<K, V, GK::Codec, GV::Codec>
    where
        GK: CodecChoice<K, KC>,
        GV: CodecChoice<V, VC>,
    {
        KGroupedStream::new(
            Rc::clone(&self.graph),
            self.node.clone(),
            grouped.key_codec.choose(self.key_codec.clone()),
            grouped.value_codec.choose(self.value_codec.clone()),
            self.repartition_required,
            grouped.name,
        )
    }

    /// Groups the records by a new key, for an aggregation (which repartitions by it).
    pub fn group_by<KR, F>(&self, selector: F) -> KGroupedStream<KR, V, Inferred, VC>
    where
        KR: Clone + 'static,
        F: Fn(&K, &V) -> KR + Send + Sync + 'static,
        VC: Codec<V>,
        Inferred: Codec<KR>,
    {
        self.group_by_with(selector, Grouped::new())
    }

    /// Groups the records by a new key, with the codecs and name of `grouped` (the name also
    /// names the key-selecting node and the repartition topic).
    pub fn group_by_with<KR, F, GK, GV>(
        &self,
        selector: F,
        grouped: Grouped<GK, GV>,
    ) -> KGroupedStream<KR, V, GK::Codec, GV::Codec>
    where
        KR: Clone + 'static,
        F: Fn(&K, &V) -> KR + Send + Sync + 'static,
        GK: CodecChoice<KR, Inferred>,
        GV: CodecChoice<V, VC>,
    {
        let f = Arc::new(selector);
        let mut graph = self.graph.borrow_mut();
        let name = graph.name_or(grouped.name.clone(), names::KEY_SELECT);
        let (node, parent) = (name.clone(), self.node.clone());
        graph.step(move |b| {
            b.add_processor(
                node,
                move || SelectKey::<K, V, KR, F>::new(Arc::clone(&f)),
                [parent],
            );
        });
        drop(graph);
        KGroupedStream::new(
            Rc::clone(&self.graph),
            name,
            grouped.key_codec.choose(Inferred),
            grouped.value_codec.choose(self.value_codec.clone()),
            true,
            grouped.name,
        )
    }

    /// Runs a Processor API processor on each record (Kafka Streams' `process`), connected to
    /// the named stores (added with [`StreamsBuilder::add_state_store`](super::StreamsBuilder::add_state_store)).
    /// Marks the stream for repartitioning (the processor may change keys).
    pub fn process<S>(
        &self,
        supplier: S,
        stores: &[&str],
    ) -> KStream<<S::Processor as Processor>::KOut, <S::Processor as Processor>::VOut>
    where
        S: ProcessorSupplier,
        S::Processor: Processor<KIn = K, VIn = V>,
        <S::Processor as Processor>::KOut: Clone,
        <S::Processor as Processor>::VOut: Clone,
    {
        let mut graph = self.graph.borrow_mut();
        let name = match self.next_name.clone() {
            Some(name) => name,
            None => graph.processor_name(names::PROCESSOR),
        };
        let (node, parent) = (name.clone(), self.node.clone());
        let stores: Vec<String> = stores.iter().map(|s| s.to_string()).collect();
        graph.step(move |b| {
            b.add_processor(node.clone(), supplier, [parent]);
            b.connect_processor_and_state_stores(&node, stores);
        });
        drop(graph);
        self.derive(name, Inferred, Inferred, true)
    }

    /// Runs a [`FixedKeyProcessor`] on each record (Kafka Streams' `processValues`): it can
    /// change values, not keys, so the stream needs no repartition after it.
    pub fn process_values<S>(
        &self,
        supplier: S,
        stores: &[&str],
    ) -> KStream<K, <S::Processor as FixedKeyProcessor>::VOut, KC, Inferred>
    where
        S: FixedKeyProcessorSupplier,
        S::Processor: FixedKeyProcessor<K = K, VIn = V>,
    {
        let mut graph = self.graph.borrow_mut();
        let name = match self.next_name.clone() {
            Some(name) => name,
            None => graph.processor_name(names::PROCESS_VALUES),
        };
        let (node, parent) = (name.clone(), self.node.clone());
        let stores: Vec<String> = stores.iter().map(|s| s.to_string()).collect();
        graph.step(move |b| {
            b.add_processor(
                node.clone(),
                move || FixedKeyAdapter::new(supplier.get()),
                [parent],
            );
            b.connect_processor_and_state_stores(&node, stores);
        });
        drop(graph);
        self.derive(
            name,
            self.key_codec.clone(),
            Inferred,
            self.repartition_required,
        )
    }
}
