//! `StreamsBuilder`: where a DSL program starts.

use std::cell::RefCell;
use std::marker::PhantomData;
use std::rc::Rc;

use crate::codec::{Codec, Inferred, Nullable};
use crate::processor::ProcessorSupplier;
use crate::state::StoreBuilder;
use crate::topology::{SourceSpec, Topology, TopologyBuilder, TopologyErrors};

use super::global_table::GlobalKTable;
use super::graph::{Graph, Shared, add_kv_store, add_versioned_store, kv_store_builder};
use super::kstream::KStream;
use super::ktable::{KTable, TableState};
use super::options::{CodecChoice, Consumed, Materialized};
use super::processors::table::{Materialization, TableSource};
use super::processors::versioned_table::VersionedTableSource;

/// A store builder with logging turned off: Kafka Streams turns it off for global stores, whose
/// topic is their changelog (global stores are built without a changelog layer whatever the
/// builder says, so only what the builder reports changes).
struct WithoutLogging<B>(B);

impl<B: StoreBuilder> StoreBuilder for WithoutLogging<B> {
    fn name(&self) -> &str {
        self.0.name()
    }

    fn kind(&self) -> crate::state::StoreKind {
        self.0.kind()
    }

    fn persistent(&self) -> bool {
        self.0.persistent()
    }

    fn logging(&self) -> bool {
        false
    }

    fn caching(&self) -> bool {
        self.0.caching()
    }

    fn retention(&self) -> Option<std::time::Duration> {
        self.0.retention()
    }

    fn build(
        &self,
        ctx: &crate::state::StoreContext,
    ) -> Result<crate::state::BuiltStore, crate::state::StoreError> {
        self.0.build(ctx)
    }
}

/// Builds a topology with the DSL — Kafka Streams' `StreamsBuilder`.
///
/// Streams and tables made from a builder share it; [`build`](Self::build) turns the whole
/// program into a [`Topology`] whose node, store and topic names are the ones Kafka Streams
/// generates for the same program, so `describe()` prints the same text.
///
/// ```
/// use streams_core::dsl::StreamsBuilder;
/// use streams_core::testing::TopologyTestDriver;
/// use streams_core::codec::{I64, Nullable, Utf8};
///
/// let builder = StreamsBuilder::new();
/// builder
///     .stream::<String, String>("text-input")
///     .flat_map_values(|line| line.split(' ').map(str::to_string).collect::<Vec<_>>())
///     .group_by(|_key, word| word.clone())
///     .count()
///     .to_stream()
///     .to("wordcount-output");
/// let topology = builder.build().unwrap();
///
/// let driver = TopologyTestDriver::new(topology).unwrap();
/// let input = driver.create_input_topic("text-input", Utf8, Utf8);
/// input.pipe_input("k".to_string(), "a b a".to_string()).unwrap();
/// let output = driver.create_output_topic("wordcount-output", Utf8, Nullable(I64));
/// let counts = output.read_key_values_to_map().unwrap();
/// assert_eq!(counts["a"], Some(2));
/// assert_eq!(counts["b"], Some(1));
/// ```
pub struct StreamsBuilder {
    graph: Shared,
}

impl Default for StreamsBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for StreamsBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamsBuilder").finish_non_exhaustive()
    }
}

impl StreamsBuilder {
    /// An empty program.
    pub fn new() -> Self {
        StreamsBuilder {
            graph: Rc::new(RefCell::new(Graph::default())),
        }
    }

    /// A stream of the records of `topic`, read with the default codecs of `K` and `V`.
    ///
    /// A record whose null key or value the types cannot hold is dropped with a warning and
    /// counted in `dropped-records`; declare `Option<_>` types to receive nulls as Kafka Streams
    /// passes them.
    pub fn stream<K, V>(&self, topic: &str) -> KStream<K, V>
    where
        K: Clone + 'static,
        V: Clone + 'static,
        Inferred: Codec<K> + Codec<V>,
    {
        self.stream_with(topic, Consumed::new())
    }

    /// A stream of the records of `topic`, read as `consumed` says.
    pub fn stream_with<K, V, KC, VC>(
        &self,
        topic: &str,
        consumed: Consumed<KC, VC>,
    ) -> KStream<K, V, KC, VC>
    where
        K: Clone + 'static,
        V: Clone + 'static,
        KC: Codec<K>,
        VC: Codec<V>,
    {
        self.stream_from_topics([topic], consumed)
    }

    /// A stream of the records of several topics, read as `consumed` says.
    pub fn stream_from_topics<K, V, KC, VC, T>(
        &self,
        topics: impl IntoIterator<Item = T>,
        consumed: Consumed<KC, VC>,
    ) -> KStream<K, V, KC, VC>
    where
        K: Clone + 'static,
        V: Clone + 'static,
        KC: Codec<K>,
        VC: Codec<V>,
        T: Into<String>,
    {
        let topics: Vec<String> = topics.into_iter().map(Into::into).collect();
        let mut graph = self.graph.borrow_mut();
        let name = graph.name_or(consumed.name, super::names::SOURCE);
        let (kc, vc) = (consumed.key_codec.clone(), consumed.value_codec.clone());
        let source = name.clone();
        graph.step(move |b| {
            b.add_source_spec(SourceSpec::new(source, topics, kc, vc).skip_unrepresentable_nulls());
        });
        drop(graph);
        KStream::new(
            Rc::clone(&self.graph),
            name,
            consumed.key_codec,
            consumed.value_codec,
            false,
        )
    }

    /// A table of the latest value per key of `topic` (a changelog: a null value deletes its
    /// key), read with the default codecs.
    pub fn table<K, V>(&self, topic: &str) -> KTable<K, V>
    where
        K: Clone + 'static,
        V: Clone + 'static,
        Inferred: Codec<K> + Codec<V>,
    {
        self.table_with(topic, Consumed::new(), Materialized::new())
    }

    /// A table of `topic`, read as `consumed` says and kept as `materialized` says (a named
    /// store makes it queryable).
    pub fn table_with<K, V, KC, VC, MK, MV>(
        &self,
        topic: &str,
        consumed: Consumed<KC, VC>,
        materialized: Materialized<MK, MV>,
    ) -> KTable<K, V, KC, VC>
    where
        K: Clone + 'static,
        V: Clone + 'static,
        KC: Codec<K>,
        VC: Codec<V>,
        MK: CodecChoice<K, KC>,
        MV: CodecChoice<V, VC>,
    {
        let mut graph = self.graph.borrow_mut();
        let versioned = materialized.more.versioned;
        // A versioned store is always materialized (Kafka Streams: a store supplier names it).
        let queryable = materialized.name.is_some() || versioned.is_some();
        let store = materialized
            .name
            .clone()
            .unwrap_or_else(|| graph.store_name(&format!("{topic}-")));
        let source = graph.suffixed_or(consumed.name.as_deref(), "-source", super::names::SOURCE);
        let name = graph.name_or(consumed.name.clone(), super::names::TABLE_SOURCE);
        let mut state = TableState::source(queryable).with_store(&store);
        if versioned.is_some() {
            state = state.versioned();
        }
        let state = Rc::new(state);
        let (kc, vc) = (consumed.key_codec.clone(), consumed.value_codec.clone());
        let store_kc = materialized.key_codec.choose(kc.clone());
        let store_vc = materialized.value_codec.choose(vc.clone());
        let options = materialized.more;
        let topic = topic.to_string();
        let (node, table_state, store_name) = (name.clone(), Rc::clone(&state), store.clone());
        graph.step(move |b| {
            b.add_source_spec(
                SourceSpec::new(source.clone(), [topic], kc.clone(), Nullable(vc))
                    .skip_unrepresentable_nulls(),
            );
            let send_old_values = table_state.sends_old_values();
            if let Some(history) = options.versioned {
                let store_arc: std::sync::Arc<str> = std::sync::Arc::from(store_name.as_str());
                b.add_processor(
                    node.clone(),
                    move || VersionedTableSource::<K, V, Option<V>, KC, _> {
                        to_row: std::sync::Arc::new(|v: Option<V>| v),
                        key_codec: kc.clone(),
                        store_name: std::sync::Arc::clone(&store_arc),
                        store: None,
                        send_old_values,
                        types: PhantomData,
                    },
                    [source],
                );
                add_versioned_store::<K, V, _, _>(
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
            let materialize = table_state.is_materialized();
            let store_arc = materialize.then(|| std::sync::Arc::from(store_name.as_str()));
            b.add_processor(
                node.clone(),
                move || TableSource::<K, V, Option<V>, KC, _> {
                    to_row: std::sync::Arc::new(|v: Option<V>| v),
                    key_codec: kc.clone(),
                    materialized: Materialization::new(store_arc.clone()),
                    send_old_values,
                    types: PhantomData,
                },
                [source],
            );
            if materialize {
                add_kv_store::<K, V, _, _>(b, &store_name, store_kc, store_vc, options, &node);
            }
        });
        drop(graph);
        KTable::new(
            Rc::clone(&self.graph),
            name,
            consumed.key_codec,
            consumed.value_codec,
            queryable.then_some(store),
            state,
        )
    }

    /// A table of `topic` replicated in full on every instance, read with the default codecs —
    /// Kafka Streams' `globalTable`. See [`GlobalKTable`].
    ///
    /// Its store is named `<topic>-STATE-STORE-<n>`; name it with
    /// [`global_table_with`](Self::global_table_with) to query it by a name of your own.
    pub fn global_table<K, V>(&self, topic: &str) -> GlobalKTable<K, V>
    where
        K: Clone + 'static,
        V: Clone + 'static,
        Inferred: Codec<K> + Codec<V>,
    {
        self.global_table_with(topic, Consumed::new(), Materialized::new())
    }

    /// A global table of `topic`, read as `consumed` says and kept as `materialized` says (a
    /// named store makes it queryable by that name; `in_memory()` keeps it in memory, restored
    /// from the topic's beginning on every start).
    ///
    /// As in Kafka Streams, the store has no changelog (the topic is one: a compacted topic
    /// suits it) and `materialized`'s logging options are ignored; it has no record cache
    /// either, so every update is visible to the tasks at once.
    ///
    /// ```
    /// use streams_core::dsl::{Consumed, Materialized, StreamsBuilder};
    ///
    /// let builder = StreamsBuilder::new();
    /// let rates = builder.global_table_with::<String, f64, _, _, _, _>(
    ///     "exchange-rates",
    ///     Consumed::new(),
    ///     Materialized::named("rates").in_memory(),
    /// );
    /// assert_eq!(rates.queryable_store_name(), Some("rates"));
    /// let topology = builder.build().unwrap();
    /// assert_eq!(topology.global_store_names().collect::<Vec<_>>(), ["rates"]);
    /// ```
    pub fn global_table_with<K, V, KC, VC, MK, MV>(
        &self,
        topic: &str,
        consumed: Consumed<KC, VC>,
        materialized: Materialized<MK, MV>,
    ) -> GlobalKTable<K, V, KC, VC>
    where
        K: Clone + 'static,
        V: Clone + 'static,
        KC: Codec<K>,
        VC: Codec<V>,
        MK: CodecChoice<K, KC>,
        MV: CodecChoice<V, VC>,
    {
        let mut graph = self.graph.borrow_mut();
        let queryable = materialized.name.is_some();
        let store = materialized
            .name
            .clone()
            .unwrap_or_else(|| graph.store_name(&format!("{topic}-")));
        let source = graph.suffixed_or(consumed.name.as_deref(), "-source", super::names::SOURCE);
        let name = graph.name_or(consumed.name.clone(), super::names::TABLE_SOURCE);
        let (kc, vc) = (consumed.key_codec.clone(), consumed.value_codec.clone());
        let store_kc = materialized.key_codec.choose(kc.clone());
        let store_vc = materialized.value_codec.choose(vc.clone());
        let options = materialized.more;
        let topic = topic.to_string();
        let (node, store_name) = (name, store.clone());
        graph.step(move |b| {
            // Kafka Streams turns logging off for global stores; they write through.
            let builder = kv_store_builder::<K, V, _, _>(&store_name, store_kc, store_vc, &options)
                .with_logging_disabled()
                .with_caching_disabled();
            let store_arc: std::sync::Arc<str> = std::sync::Arc::from(store_name.as_str());
            let key_codec = kc.clone();
            b.add_global_store(
                builder,
                SourceSpec::new(source, [topic], kc, Nullable(vc)).skip_unrepresentable_nulls(),
                node,
                move || TableSource::<K, V, Option<V>, KC, _> {
                    to_row: std::sync::Arc::new(|v: Option<V>| v),
                    key_codec: key_codec.clone(),
                    materialized: Materialization::new(Some(std::sync::Arc::clone(&store_arc))),
                    send_old_values: false,
                    types: PhantomData,
                },
            );
        });
        drop(graph);
        GlobalKTable::new(store, queryable, consumed.key_codec)
    }

    /// Adds a global store kept by a processor of your own — Kafka Streams'
    /// `StreamsBuilder#addGlobalStore`: `store` is filled from `topic` (read as `consumed` says)
    /// by the processor `supplier` makes, on every instance, and every processor reads it by
    /// name (see [`TopologyBuilder::add_global_store`](crate::topology::TopologyBuilder::add_global_store)).
    /// As Kafka Streams does, the store's logging is turned off (the topic is its changelog).
    ///
    /// The source is named `<consumed name>-source` or `KSTREAM-SOURCE-<n>`, the processor
    /// `<consumed name>` or `KTABLE-SOURCE-<n>`.
    ///
    /// ```
    /// use streams_core::codec::Utf8;
    /// use streams_core::dsl::{Consumed, StreamsBuilder};
    /// use streams_core::error::ProcessorError;
    /// use streams_core::processor::{Processor, ProcessorContext};
    /// use streams_core::record::Record;
    /// use streams_core::state::{KeyValueStore, Stores};
    ///
    /// /// Keeps the upper-cased value of every key.
    /// #[derive(Default)]
    /// struct Upper(Option<KeyValueStore<String, String>>);
    /// impl Processor for Upper {
    ///     type KIn = String;
    ///     type VIn = String;
    ///     type KOut = String;
    ///     type VOut = String;
    ///     fn init(&mut self, ctx: &mut ProcessorContext<'_, String, String>) -> Result<(), ProcessorError> {
    ///         self.0 = Some(ctx.key_value_store("upper")?);
    ///         Ok(())
    ///     }
    ///     fn process(&mut self, r: Record<String, String>, _: &mut ProcessorContext<'_, String, String>)
    ///         -> Result<(), ProcessorError> {
    ///         self.0.as_ref().expect("init").put(&r.key, &r.value.to_uppercase())?;
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let builder = StreamsBuilder::new();
    /// builder.add_global_store(
    ///     Stores::in_memory_key_value("upper", Utf8, Utf8),
    ///     "names",
    ///     Consumed::with(Utf8, Utf8),
    ///     Upper::default,
    /// );
    /// builder.stream::<String, String>("input").to("output");
    /// let topology = builder.build().unwrap();
    /// let text = topology.describe().to_string();
    /// assert!(text.contains("Source: KSTREAM-SOURCE-0000000000 (topics: [names])"));
    /// assert!(text.contains("Processor: KTABLE-SOURCE-0000000001 (stores: [upper])"));
    /// ```
    pub fn add_global_store<K, V, KC, VC, S>(
        &self,
        store: impl StoreBuilder,
        topic: &str,
        consumed: Consumed<KC, VC>,
        supplier: S,
    ) -> &Self
    where
        K: Clone + 'static,
        V: Clone + 'static,
        KC: Codec<K>,
        VC: Codec<V>,
        S: ProcessorSupplier,
    {
        let mut graph = self.graph.borrow_mut();
        let source = graph.suffixed_or(consumed.name.as_deref(), "-source", super::names::SOURCE);
        let name = graph.name_or(consumed.name.clone(), super::names::TABLE_SOURCE);
        let topic = topic.to_string();
        graph.step(move |b| {
            b.add_global_store(
                WithoutLogging(store),
                SourceSpec::new(source, [topic], consumed.key_codec, consumed.value_codec),
                name,
                supplier,
            );
        });
        self
    }

    /// Adds a state store for [`KStream::process`] to use (connect it by naming it there).
    pub fn add_state_store(&self, store: impl StoreBuilder) -> &Self {
        self.graph.borrow_mut().step(move |b| {
            b.add_state_store(store, std::iter::empty::<&str>());
        });
        self
    }

    /// Builds the topology, checked whole (see [`TopologyBuilder::build`]).
    ///
    /// Problems with the operations — invalid windows, a window store's retention shorter than
    /// its windows, a suppression waiting for windows no windowed aggregation made (where Kafka
    /// Streams throws while the program is built) — are reported here, first, together with the
    /// topology's own checks.
    ///
    /// ```
    /// use std::time::Duration;
    /// use streams_core::dsl::{StreamsBuilder, TimeWindows};
    /// use streams_core::topology::TopologyError;
    ///
    /// let builder = StreamsBuilder::new();
    /// builder
    ///     .stream::<String, String>("clicks")
    ///     .group_by_key()
    ///     .windowed_by(TimeWindows::of_size_with_no_grace(Duration::ZERO))
    ///     .count();
    /// let errors = builder.build().unwrap_err();
    /// assert!(matches!(errors.errors(), [TopologyError::WindowSizeZero { .. }]));
    /// ```
    pub fn build(self) -> Result<Topology, TopologyErrors> {
        let mut builder = TopologyBuilder::new();
        let graph = std::mem::take(&mut *self.graph.borrow_mut());
        let mut errors = graph.write(&mut builder);
        match builder.build() {
            Ok(topology) if errors.is_empty() => Ok(topology),
            Ok(_) => Err(TopologyErrors(errors)),
            Err(TopologyErrors(more)) => {
                errors.extend(more);
                Err(TopologyErrors(errors))
            }
        }
    }
}
