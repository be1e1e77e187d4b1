//! `CogroupedKStream`: grouped streams of one key type, each folded by its own aggregator into
//! one aggregate per key — Kafka Streams' `KGroupedStream#cogroup` and `CogroupedKStream`.
//!
//! Each input gets its own aggregate processor (named `COGROUPKSTREAM-AGGREGATE-<n>`, or
//! `<name>-cogroup-agg-<i>`), all writing one store; a merge node (`COGROUPKSTREAM-MERGE-<n>` or
//! `<name>-cogroup-merge`) passes their updates on as the table's.

use std::cell::RefCell;
use std::marker::PhantomData;
use std::rc::Rc;
use std::sync::Arc;

use crate::codec::{Codec, Inferred};
use crate::dsl::Change;
use crate::topology::{TopologyBuilder, TopologyError};

use super::graph::{Graph, Shared, add_kv_store, add_repartition};
use super::grouped_stream::KGroupedStream;
use super::ktable::{KTable, TableState};
use super::names;
use super::options::{CodecChoice, Materialized};
use super::processors::Types;
use super::processors::aggregate::StreamAggregate;
use super::processors::cogroup::{CogroupAggregator, CogroupSessionAggregator, InitFn, MergeFn};
use super::processors::session_aggregate::SessionWindowAggregate;
use super::processors::stateless::PassThrough;
use super::processors::window_aggregate::{
    SlidingWindowAggregate, TimeWindowAggregate, WindowedCore,
};
use super::windows::{
    CogroupWindowedBy, EmitStrategy, SessionWindows, SlidingWindows, TimeWindows,
};

/// The aggregation each input's processor makes (Kafka Streams' four `build` overloads of
/// `CogroupedStreamAggregateBuilder`).
pub(crate) enum CogroupKind<K, VA> {
    /// `KStreamAggregate`: one row per key.
    Plain,
    /// `KStreamWindowAggregate`: tumbling or hopping windows.
    Time(TimeWindows),
    /// `KStreamSlidingWindowAggregate`.
    Sliding(SlidingWindows),
    /// `KStreamSessionWindowAggregate`, with the session merger.
    Session(SessionWindows, MergeFn<K, VA>),
}

/// What the aggregate processors of one cogroup aggregation share.
struct AggregateSpec<K, VA> {
    store: Arc<str>,
    initializer: InitFn<VA>,
    kind: CogroupKind<K, VA>,
    send_old_values: bool,
}

/// One input of a cogroup with its value type, codecs and aggregator erased: it writes its
/// repartition and its aggregate processor. It holds no reference to the graph (the graph's
/// steps hold it).
trait InputWriter<K, VA> {
    /// Writes the repartition through `<prefix>-repartition`; returns its source node.
    fn add_repartition(&self, graph: &mut Graph, parent: String, prefix: &str) -> String;

    /// Adds this input's aggregate processor, `node`, reading from `parent`.
    fn add_aggregate(
        &self,
        b: &mut TopologyBuilder,
        node: String,
        parent: String,
        spec: &AggregateSpec<K, VA>,
    );
}

struct Writer<V, KC, VC, F> {
    key_codec: KC,
    value_codec: VC,
    aggregator: Arc<F>,
    types: Types<V>,
}

impl<K, V, VA, KC, VC, F> InputWriter<K, VA> for Writer<V, KC, VC, F>
where
    K: Clone + 'static,
    V: Clone + 'static,
    VA: Clone + 'static,
    KC: Codec<K>,
    VC: Codec<V>,
    F: Fn(&K, V, VA) -> VA + Send + Sync + 'static,
{
    fn add_repartition(&self, graph: &mut Graph, parent: String, prefix: &str) -> String {
        add_repartition::<K, V, _, _>(
            graph,
            parent,
            prefix,
            self.key_codec.clone(),
            self.value_codec.clone(),
            None,
        )
    }

    fn add_aggregate(
        &self,
        b: &mut TopologyBuilder,
        node: String,
        parent: String,
        spec: &AggregateSpec<K, VA>,
    ) {
        let fold = || CogroupAggregator {
            initializer: Arc::clone(&spec.initializer),
            aggregator: Arc::clone(&self.aggregator),
        };
        let store = Arc::clone(&spec.store);
        let (kc, vc) = (self.key_codec.clone(), self.value_codec.clone());
        let send_old_values = spec.send_old_values;
        let core = {
            let (store, kc) = (Arc::clone(&store), kc.clone());
            move || {
                WindowedCore::new(
                    Arc::clone(&store),
                    kc.clone(),
                    EmitStrategy::OnWindowUpdate,
                    send_old_values,
                )
                .sharing_its_store()
            }
        };
        match &spec.kind {
            CogroupKind::Plain => {
                let aggregator = Arc::new(fold());
                b.add_processor(
                    node,
                    move || StreamAggregate::<K, V, VA, _, KC, VC> {
                        store: Arc::clone(&store),
                        aggregator: Arc::clone(&aggregator),
                        key_codec: kc.clone(),
                        value_codec: vc.clone(),
                        send_old_values,
                        shared_store: true,
                        forwarder: None,
                        types: PhantomData,
                    },
                    [parent],
                );
            }
            CogroupKind::Time(windows) => {
                let (windows, aggregator) = (*windows, Arc::new(fold()));
                b.add_processor(
                    node,
                    move || TimeWindowAggregate::<K, V, VA, _, KC> {
                        windows,
                        aggregator: Arc::clone(&aggregator),
                        core: core(),
                        types: PhantomData,
                    },
                    [parent],
                );
            }
            CogroupKind::Sliding(windows) => {
                let (windows, aggregator) = (*windows, Arc::new(fold()));
                b.add_processor(
                    node,
                    move || SlidingWindowAggregate::<K, V, VA, _, KC, VC> {
                        windows,
                        aggregator: Arc::clone(&aggregator),
                        value_codec: vc.clone(),
                        core: core(),
                        types: PhantomData,
                    },
                    [parent],
                );
            }
            CogroupKind::Session(windows, merger) => {
                let windows = *windows;
                let aggregator = Arc::new(CogroupSessionAggregator {
                    fold: fold(),
                    merger: Arc::clone(merger),
                });
                b.add_processor(
                    node,
                    move || {
                        SessionWindowAggregate::<K, V, VA, _, KC>::new(
                            windows,
                            Arc::clone(&aggregator),
                            Arc::clone(&store),
                            kc.clone(),
                            EmitStrategy::OnWindowUpdate,
                            send_old_values,
                        )
                        .sharing_its_store()
                    },
                    [parent],
                );
            }
        }
    }
}

/// An input of a cogroup: where its records come from, and how its processor is written.
struct CogroupInput<K, VA> {
    graph: Shared,
    node: String,
    repartition_required: bool,
    grouped_name: Option<String>,
    /// The grouped stream's identity: Kafka Streams keys a cogroup's inputs by grouped stream.
    identity: Rc<()>,
    writer: Rc<dyn InputWriter<K, VA>>,
}

impl<K, VA> Clone for CogroupInput<K, VA> {
    fn clone(&self) -> Self {
        CogroupInput {
            graph: Rc::clone(&self.graph),
            node: self.node.clone(),
            repartition_required: self.repartition_required,
            grouped_name: self.grouped_name.clone(),
            identity: Rc::clone(&self.identity),
            writer: Rc::clone(&self.writer),
        }
    }
}

impl<K, VA> CogroupInput<K, VA>
where
    K: Clone + 'static,
    VA: Clone + 'static,
{
    fn of<V, KC, VC, F>(grouped: &KGroupedStream<K, V, KC, VC>, aggregator: F) -> Self
    where
        V: Clone + 'static,
        KC: Codec<K>,
        VC: Codec<V>,
        F: Fn(&K, V, VA) -> VA + Send + Sync + 'static,
    {
        let source = grouped.source();
        CogroupInput {
            graph: source.graph,
            node: source.node,
            repartition_required: source.repartition_required,
            grouped_name: source.grouped_name,
            identity: Rc::clone(grouped.identity()),
            writer: Rc::new(Writer {
                key_codec: source.key_codec,
                value_codec: source.value_codec,
                aggregator: Arc::new(aggregator),
                types: PhantomData,
            }),
        }
    }
}

/// The repartition source node written for each grouped stream (by identity).
type Repartitions = Rc<RefCell<Vec<(Rc<()>, String)>>>;

/// Grouped streams with one key type, each with its own aggregator, aggregated together into
/// one table — Kafka Streams' `CogroupedKStream`, started by [`KGroupedStream::cogroup`].
///
/// Every input folds its records into the same aggregate per key: a record of input `i` is
/// added with input `i`'s aggregator, starting from the initializer given to
/// [`aggregate`](Self::aggregate). The table has one row per key, kept in one timestamped
/// key-value store (named by [`Materialized`], else generated) with a changelog; a row's
/// timestamp is the largest record timestamp seen for its key. Records with a null key or value
/// are dropped. The inputs must be co-partitioned; an input whose key changed upstream is first
/// repartitioned through `<grouped name or store name>-repartition`.
///
/// [`windowed_by`](Self::windowed_by) aggregates per window instead.
///
/// ```
/// use streams_core::codec::{I64, Nullable, Utf8};
/// use streams_core::dsl::StreamsBuilder;
/// use streams_core::testing::TopologyTestDriver;
///
/// let builder = StreamsBuilder::new();
/// let clicks = builder.stream::<String, String>("clicks").group_by_key();
/// let purchases = builder.stream::<String, i64>("purchases").group_by_key();
/// clicks
///     .cogroup(|_user, _page, summary: String| summary + "c")
///     .cogroup(&purchases, |_user, cents, summary| format!("{summary}${cents}"))
///     .aggregate(String::new)
///     .to_stream()
///     .to("activity");
/// let driver = TopologyTestDriver::new(builder.build().unwrap()).unwrap();
/// let clicks = driver.create_input_topic("clicks", Utf8, Utf8);
/// let purchases = driver.create_input_topic("purchases", Utf8, I64);
/// clicks.pipe_input("ann".to_string(), "/home".to_string()).unwrap();
/// purchases.pipe_input("ann".to_string(), 250).unwrap();
/// clicks.pipe_input("ann".to_string(), "/cart".to_string()).unwrap();
/// let activity = driver.create_output_topic("activity", Utf8, Nullable(Utf8));
/// let summaries: Vec<_> = activity.read_values_to_list().unwrap().into_iter().flatten().collect();
/// assert_eq!(summaries, ["c", "c$250", "c$250c"]);
/// ```
#[must_use = "a cogroup does nothing until it is aggregated"]
pub struct CogroupedKStream<K, VA, KC> {
    graph: Shared,
    key_codec: KC,
    inputs: Vec<CogroupInput<K, VA>>,
    /// The repartition source written for each input that needed one — Kafka Streams'
    /// `parentNodes`, shared by every aggregation of this cogroup (later ones burn the names
    /// again but read the repartition written first).
    repartitions: Repartitions,
    next_name: Option<String>,
}

impl<K, VA, KC: Clone> Clone for CogroupedKStream<K, VA, KC> {
    fn clone(&self) -> Self {
        CogroupedKStream {
            graph: Rc::clone(&self.graph),
            key_codec: self.key_codec.clone(),
            inputs: self.inputs.clone(),
            repartitions: Rc::clone(&self.repartitions),
            next_name: self.next_name.clone(),
        }
    }
}

impl<K, VA, KC> std::fmt::Debug for CogroupedKStream<K, VA, KC> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CogroupedKStream")
            .field(
                "inputs",
                &self.inputs.iter().map(|i| &i.node).collect::<Vec<_>>(),
            )
            .field("name", &self.next_name)
            .finish_non_exhaustive()
    }
}

impl<K, VA, KC> CogroupedKStream<K, VA, KC>
where
    K: Clone + 'static,
    VA: Clone + 'static,
    KC: Codec<K>,
{
    /// Kafka Streams' `KGroupedStream#cogroup(aggregator)`.
    pub(crate) fn new<V, VC, F>(grouped: &KGroupedStream<K, V, KC, VC>, aggregator: F) -> Self
    where
        V: Clone + 'static,
        VC: Codec<V>,
        F: Fn(&K, V, VA) -> VA + Send + Sync + 'static,
    {
        let source = grouped.source();
        CogroupedKStream {
            graph: Rc::clone(&source.graph),
            key_codec: source.key_codec.clone(),
            inputs: vec![CogroupInput::of(grouped, aggregator)],
            repartitions: Rc::default(),
            next_name: source.next_name,
        }
    }

    /// Adds `grouped` as another input, folded into the aggregate with
    /// `aggregator(key, value, aggregate)` — Kafka Streams' `CogroupedKStream#cogroup`. Its
    /// values may have any type; its keys are those of the other inputs.
    ///
    /// As in Kafka Streams, a grouped stream (or a clone of it) that is an input already keeps
    /// its place and gets `aggregator` instead of its earlier one. A name given to `grouped`
    /// with [`KGroupedStream::named`] is not used: name the cogroup with
    /// [`named`](Self::named).
    pub fn cogroup<V, KC2, VC2, F>(
        mut self,
        grouped: &KGroupedStream<K, V, KC2, VC2>,
        aggregator: F,
    ) -> Self
    where
        V: Clone + 'static,
        KC2: Codec<K>,
        VC2: Codec<V>,
        F: Fn(&K, V, VA) -> VA + Send + Sync + 'static,
    {
        let input = CogroupInput::of(grouped, aggregator);
        match self
            .inputs
            .iter_mut()
            .find(|i| Rc::ptr_eq(&i.identity, &input.identity))
        {
            Some(existing) => *existing = input,
            None => self.inputs.push(input),
        }
        self
    }

    /// Names the aggregation (Kafka Streams' `Named`): its nodes become
    /// `<name>-cogroup-agg-<i>` (one per input, in the order they were added) and
    /// `<name>-cogroup-merge`.
    pub fn named(&self, name: impl Into<String>) -> Self {
        let mut named = self.clone();
        named.next_name = Some(name.into());
        named
    }

    /// The inputs' records folded into one aggregate per key, starting from `initializer()` —
    /// Kafka Streams' `aggregate(initializer)`.
    pub fn aggregate<I>(&self, initializer: I) -> KTable<K, VA, KC, Inferred>
    where
        I: Fn() -> VA + Send + Sync + 'static,
        Inferred: Codec<VA>,
    {
        self.aggregate_with(initializer, Materialized::new())
    }

    /// [`aggregate`](Self::aggregate), kept as `materialized` says (the store's name, codecs,
    /// type, logging and cache).
    ///
    /// ```
    /// use streams_core::dsl::{Materialized, StreamsBuilder};
    ///
    /// let builder = StreamsBuilder::new();
    /// let a = builder.stream::<String, String>("a").group_by_key();
    /// let b = builder.stream::<String, String>("b").group_by_key();
    /// a.cogroup(|_k, v, agg: String| agg + &v)
    ///     .cogroup(&b, |_k, v, agg| agg + &v)
    ///     .named("both")
    ///     .aggregate_with(String::new, Materialized::named("both-store"));
    /// let described = builder.build().unwrap().describe().to_string();
    /// assert!(described.contains("Processor: both-cogroup-agg-1 (stores: [both-store])"));
    /// assert!(described.contains("Processor: both-cogroup-merge (stores: [])"));
    /// ```
    pub fn aggregate_with<I, MK, MV>(
        &self,
        initializer: I,
        materialized: Materialized<MK, MV>,
    ) -> KTable<K, VA, MK::Codec, MV::Codec>
    where
        I: Fn() -> VA + Send + Sync + 'static,
        MK: CodecChoice<K, KC>,
        MV: CodecChoice<VA, Inferred>,
        MK::Codec: Clone,
        MV::Codec: Clone,
    {
        let mut graph = self.graph.borrow_mut();
        let (store, queryable) = self.store_name(&mut graph, materialized.name);
        let key_codec = materialized.key_codec.choose(self.key_codec.clone());
        let value_codec = materialized.value_codec.choose(Inferred);
        let state = Rc::new(TableState::aggregate().with_store(&store));
        let (kc, vc, options) = (key_codec.clone(), value_codec.clone(), materialized.more);
        let store_name = store.clone();
        let merge = self.write::<K, _>(
            &mut graph,
            &store,
            Rc::clone(&state),
            Arc::new(initializer),
            CogroupKind::Plain,
            move |b, processors| {
                if let Some((first, others)) = processors.split_first() {
                    add_kv_store::<K, VA, _, _>(b, &store_name, kc, vc, options, first);
                    for other in others {
                        b.connect_processor_and_state_stores(other, [&store_name]);
                    }
                }
            },
        );
        drop(graph);
        KTable::new(
            Rc::clone(&self.graph),
            merge,
            key_codec,
            value_codec,
            queryable.then_some(store),
            state,
        )
    }

    /// Windows the cogroup for a windowed aggregation — Kafka Streams' `windowedBy`: by
    /// [`TimeWindows`] (tumbling or hopping) or [`SlidingWindows`], giving a
    /// [`TimeWindowedCogroupedKStream`](super::TimeWindowedCogroupedKStream), or by
    /// [`SessionWindows`], giving a
    /// [`SessionWindowedCogroupedKStream`](super::SessionWindowedCogroupedKStream).
    ///
    /// ```
    /// use std::time::Duration;
    /// use streams_core::dsl::{SessionWindows, StreamsBuilder, TimeWindows};
    ///
    /// let builder = StreamsBuilder::new();
    /// let a = builder.stream::<String, String>("a").group_by_key();
    /// let b = builder.stream::<String, String>("b").group_by_key();
    /// let both = a.cogroup(|_k, v, agg: String| agg + &v).cogroup(&b, |_k, v, agg| agg + &v);
    /// let per_minute = both
    ///     .windowed_by(TimeWindows::of_size_with_no_grace(Duration::from_secs(60)))
    ///     .aggregate(String::new);
    /// let per_visit = both
    ///     .windowed_by(SessionWindows::of_inactivity_gap_with_no_grace(Duration::from_secs(1800)))
    ///     .aggregate(String::new, |_k, left, right| left + &right);
    /// # let _ = (per_minute, per_visit);
    /// ```
    pub fn windowed_by<W: CogroupWindowedBy<K, VA, KC>>(&self, windows: W) -> W::Stream {
        windows.cogroup_windowed(self)
    }

    /// The graph the cogroup is written into (its first input's).
    pub(crate) fn graph(&self) -> &Shared {
        &self.graph
    }

    /// The key codec of the first input, which the result inherits.
    pub(crate) fn key_codec(&self) -> &KC {
        &self.key_codec
    }

    /// The store's name: given (and then queryable), or generated as Kafka Streams'
    /// `MaterializedInternal` generates it (an index used).
    pub(crate) fn store_name(&self, graph: &mut Graph, given: Option<String>) -> (String, bool) {
        match given {
            Some(name) => (name, true),
            None => (graph.store_name(names::COGROUP_AGGREGATE), false),
        }
    }

    /// Writes one aggregation of the cogroup whose store is named already, in Kafka Streams'
    /// order (`CogroupedStreamAggregateBuilder.build`): the repartitions, a name per input's
    /// aggregate processor, the merge node's name; then a step adds the processors, the store
    /// (`add_store`, given the aggregate processors) and the merge node, whose output keys are
    /// `KO`. Returns the merge node's name, the table's node.
    pub(crate) fn write<KO, S>(
        &self,
        graph: &mut Graph,
        store: &str,
        state: Rc<TableState>,
        initializer: InitFn<VA>,
        kind: CogroupKind<K, VA>,
        add_store: S,
    ) -> String
    where
        KO: Clone + 'static,
        S: FnOnce(&mut TopologyBuilder, &[String]) + 'static,
    {
        let (local, foreign): (Vec<&CogroupInput<K, VA>>, Vec<_>) = self
            .inputs
            .iter()
            .partition(|i| Rc::ptr_eq(&i.graph, &self.graph));
        let parents = self.parents(graph, &local, store);
        let name = self.next_name.as_deref();
        let aggregates: Vec<String> = (0..local.len())
            .map(|i| {
                let suffix = format!("{}{i}", names::COGROUP_AGGREGATE_SUFFIX);
                graph.suffixed_or(name, &suffix, names::COGROUP_AGGREGATE)
            })
            .collect();
        let merge = graph.suffixed_or(name, names::COGROUP_MERGE_SUFFIX, names::COGROUP_MERGE);
        if !foreign.is_empty() {
            graph.error(TopologyError::CogroupAcrossBuilders {
                node: merge.clone(),
            });
        }
        let writers: Vec<Rc<dyn InputWriter<K, VA>>> =
            local.iter().map(|i| Rc::clone(&i.writer)).collect();
        let (merge_node, store) = (merge.clone(), Arc::<str>::from(store));
        graph.step(move |b| {
            let spec = AggregateSpec {
                store,
                initializer,
                kind,
                send_old_values: state.sends_old_values(),
            };
            for ((writer, node), parent) in writers.iter().zip(&aggregates).zip(parents) {
                writer.add_aggregate(b, node.clone(), parent, &spec);
            }
            add_store(b, &aggregates);
            b.add_processor(merge_node, PassThrough::<KO, Change<VA>>::new, &aggregates);
        });
        merge
    }

    /// The node each input's aggregate processor reads from — Kafka Streams'
    /// `processRepartitions`: an input whose key changed upstream reads from a repartition
    /// through `<grouped name or store name>-repartition`. The repartition's three names are
    /// made (their indexes used) for every aggregation, but it is written only for the first.
    fn parents(
        &self,
        graph: &mut Graph,
        inputs: &[&CogroupInput<K, VA>],
        store: &str,
    ) -> Vec<String> {
        let mut written = self.repartitions.borrow_mut();
        inputs
            .iter()
            .map(|input| {
                if !input.repartition_required {
                    return input.node.clone();
                }
                if let Some((_, source)) = written
                    .iter()
                    .find(|(id, _)| Rc::ptr_eq(id, &input.identity))
                {
                    graph.processor_name(names::SINK);
                    graph.processor_name(names::FILTER);
                    graph.processor_name(names::SOURCE);
                    return source.clone();
                }
                let prefix = input.grouped_name.as_deref().unwrap_or(store);
                let source = input
                    .writer
                    .add_repartition(graph, input.node.clone(), prefix);
                written.push((Rc::clone(&input.identity), source.clone()));
                source
            })
            .collect()
    }
}
