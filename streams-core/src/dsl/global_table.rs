//! `GlobalKTable` and joining a stream with one: `KStream::join_global`, `left_join_global` and
//! their `_with` forms (Kafka Streams' `KStream#join(GlobalKTable, ..)`,
//! `leftJoin(GlobalKTable, ..)`).

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use crate::codec::{Codec, Inferred};

use super::kstream::KStream;
use super::names;
use super::processors::stream_global_join::{KeySelector, StreamGlobalJoin};
use super::processors::stream_table_join::RowJoiner;

/// The types a global table is of, marked without being owned.
type Types<K, V, VC> = PhantomData<fn() -> (K, V, VC)>;

/// A table replicated in full on every instance of the application — Kafka Streams'
/// `GlobalKTable<K, V>`. Made by [`StreamsBuilder::global_table`](super::StreamsBuilder::global_table).
///
/// Each instance's global stream thread reads every partition of the table's topic into a
/// global store before any task processes (from the store's checkpoint, or from the beginning),
/// then keeps it up to date. So a stream can be joined with it by any key computed from its
/// records ([`KStream::join_global`]), without repartitioning and without the topics being
/// co-partitioned. Table updates join nothing, as in a stream-table join; the store is read
/// whenever a stream record arrives, so a record sees the table as the global thread has read
/// it so far (not as of the record's timestamp).
///
/// ```
/// use streams_core::codec::Utf8;
/// use streams_core::dsl::StreamsBuilder;
/// use streams_core::testing::TopologyTestDriver;
///
/// let builder = StreamsBuilder::new();
/// let products = builder.global_table::<String, String>("products");
/// builder
///     .stream::<String, String>("orders") // keyed by order id, valued "<product>:<quantity>"
///     .join_global(
///         &products,
///         |_order, line| line.split(':').next().unwrap_or_default().to_string(),
///         |line, product| format!("{line} ({product})"),
///     )
///     .to("order-lines");
/// let driver = TopologyTestDriver::new(builder.build().unwrap()).unwrap();
/// let products = driver.create_input_topic("products", Utf8, Utf8);
/// products.pipe_input("p1".to_string(), "pencil".to_string()).unwrap();
/// let orders = driver.create_input_topic("orders", Utf8, Utf8);
/// orders.pipe_input("o1".to_string(), "p1:3".to_string()).unwrap();
/// orders.pipe_input("o2".to_string(), "p9:1".to_string()).unwrap(); // no product p9
/// let lines = driver.create_output_topic("order-lines", Utf8, Utf8);
/// assert_eq!(lines.read_key_values_to_list().unwrap(), [("o1".to_string(), "p1:3 (pencil)".to_string())]);
/// ```
pub struct GlobalKTable<K, V, KC = Inferred, VC = Inferred> {
    store: String,
    queryable: bool,
    pub(crate) key_codec: KC,
    types: Types<K, V, VC>,
}

impl<K, V, KC: Clone, VC> Clone for GlobalKTable<K, V, KC, VC> {
    fn clone(&self) -> Self {
        GlobalKTable {
            store: self.store.clone(),
            queryable: self.queryable,
            key_codec: self.key_codec.clone(),
            types: PhantomData,
        }
    }
}

impl<K, V, KC, VC> fmt::Debug for GlobalKTable<K, V, KC, VC> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GlobalKTable")
            .field("store", &self.store)
            .field("queryable", &self.queryable)
            .finish_non_exhaustive()
    }
}

impl<K, V, KC, VC> GlobalKTable<K, V, KC, VC> {
    pub(crate) fn new(store: String, queryable: bool, key_codec: KC) -> Self {
        GlobalKTable {
            store,
            queryable,
            key_codec,
            types: PhantomData,
        }
    }

    /// The name of the store the table is kept in, if it was named with
    /// [`Materialized::named`](super::Materialized::named) — Kafka Streams'
    /// `queryableStoreName()`.
    pub fn queryable_store_name(&self) -> Option<&str> {
        self.queryable.then_some(self.store.as_str())
    }

    /// The name of the store the table is kept in: the one given, or the generated
    /// `<topic>-STATE-STORE-<n>` (interactive queries read it by this name too).
    ///
    /// ```
    /// use streams_core::dsl::StreamsBuilder;
    /// let builder = StreamsBuilder::new();
    /// let rates = builder.global_table::<String, String>("rates");
    /// assert_eq!(rates.store_name(), "rates-STATE-STORE-0000000000");
    /// assert_eq!(rates.queryable_store_name(), None);
    /// ```
    pub fn store_name(&self) -> &str {
        &self.store
    }
}

impl<K, V, KC, VC> KStream<K, V, KC, VC>
where
    K: Clone + 'static,
    V: Clone + 'static,
    KC: Codec<K> + Clone + 'static,
    VC: Codec<V> + Clone + 'static,
{
    /// Joins each record with the global table's current row for the key `key_selector`
    /// computes from it (an inner join: records without a row, with a null value, or whose
    /// selected key is null, give nothing). The result keeps the stream record's key (which may
    /// be null) and timestamp; table updates join nothing. No repartition is needed, whatever
    /// the key: every instance has the whole table.
    ///
    /// The node is named `KSTREAM-LEFTJOIN-<n>` (Kafka Streams names the inner global join so
    /// too), or as [`named`](Self::named) or [`join_global_with`](Self::join_global_with) say.
    ///
    /// ```
    /// use streams_core::codec::Utf8;
    /// use streams_core::dsl::StreamsBuilder;
    /// use streams_core::testing::TopologyTestDriver;
    ///
    /// let builder = StreamsBuilder::new();
    /// let countries = builder.global_table::<String, String>("countries");
    /// builder
    ///     .stream::<String, String>("visits") // keyed by user, valued by country code
    ///     .join_global(&countries, |_user, code| code.clone(), |code, name| format!("{code}: {name}"))
    ///     .to("visits-by-country");
    /// let driver = TopologyTestDriver::new(builder.build().unwrap()).unwrap();
    /// driver
    ///     .create_input_topic("countries", Utf8, Utf8)
    ///     .pipe_input("fr".to_string(), "France".to_string())
    ///     .unwrap();
    /// driver
    ///     .create_input_topic("visits", Utf8, Utf8)
    ///     .pipe_input("ann".to_string(), "fr".to_string())
    ///     .unwrap();
    /// let out = driver.create_output_topic("visits-by-country", Utf8, Utf8);
    /// assert_eq!(out.read_value().unwrap(), "fr: France");
    /// ```
    pub fn join_global<KG, VG, VR, GKC, GVC, S, F>(
        &self,
        global: &GlobalKTable<KG, VG, GKC, GVC>,
        key_selector: S,
        joiner: F,
    ) -> KStream<K, VR, KC, Inferred>
    where
        KG: 'static,
        VG: Clone + 'static,
        VR: Clone + 'static,
        GKC: Codec<KG>,
        S: Fn(&K, &V) -> KG + Send + Sync + 'static,
        F: Fn(V, VG) -> VR + Send + Sync + 'static,
    {
        let joiner: RowJoiner<V, VG, VR> = Arc::new(move |v, row| row.map(|g| joiner(v, g)));
        self.global_join(global, Arc::new(key_selector), joiner, false, None)
    }

    /// [`join_global`](Self::join_global) with its node named `name` (Kafka Streams'
    /// `Named.as(name)`).
    pub fn join_global_with<KG, VG, VR, GKC, GVC, S, F>(
        &self,
        global: &GlobalKTable<KG, VG, GKC, GVC>,
        key_selector: S,
        joiner: F,
        name: impl Into<String>,
    ) -> KStream<K, VR, KC, Inferred>
    where
        KG: 'static,
        VG: Clone + 'static,
        VR: Clone + 'static,
        GKC: Codec<KG>,
        S: Fn(&K, &V) -> KG + Send + Sync + 'static,
        F: Fn(V, VG) -> VR + Send + Sync + 'static,
    {
        let joiner: RowJoiner<V, VG, VR> = Arc::new(move |v, row| row.map(|g| joiner(v, g)));
        self.global_join(
            global,
            Arc::new(key_selector),
            joiner,
            false,
            Some(name.into()),
        )
    }

    /// Joins each record with the global table's current row for the key `key_selector`
    /// computes from it, or with `None` when there is none or the selected key is null (a left
    /// join; records with a null value give nothing).
    ///
    /// ```
    /// use streams_core::codec::Utf8;
    /// use streams_core::dsl::StreamsBuilder;
    /// use streams_core::testing::TopologyTestDriver;
    ///
    /// let builder = StreamsBuilder::new();
    /// let countries = builder.global_table::<String, String>("countries");
    /// builder
    ///     .stream::<String, String>("visits")
    ///     .left_join_global(&countries, |_user, code| code.clone(), |code, name: Option<String>| {
    ///         format!("{code}: {}", name.unwrap_or_else(|| "?".into()))
    ///     })
    ///     .to("visits-by-country");
    /// let driver = TopologyTestDriver::new(builder.build().unwrap()).unwrap();
    /// driver
    ///     .create_input_topic("visits", Utf8, Utf8)
    ///     .pipe_input("ann".to_string(), "xx".to_string())
    ///     .unwrap();
    /// let out = driver.create_output_topic("visits-by-country", Utf8, Utf8);
    /// assert_eq!(out.read_value().unwrap(), "xx: ?");
    /// ```
    pub fn left_join_global<KG, VG, VR, GKC, GVC, S, F>(
        &self,
        global: &GlobalKTable<KG, VG, GKC, GVC>,
        key_selector: S,
        joiner: F,
    ) -> KStream<K, VR, KC, Inferred>
    where
        KG: 'static,
        VG: Clone + 'static,
        VR: Clone + 'static,
        GKC: Codec<KG>,
        S: Fn(&K, &V) -> KG + Send + Sync + 'static,
        F: Fn(V, Option<VG>) -> VR + Send + Sync + 'static,
    {
        let joiner: RowJoiner<V, VG, VR> = Arc::new(move |v, row| Some(joiner(v, row)));
        self.global_join(global, Arc::new(key_selector), joiner, true, None)
    }

    /// [`left_join_global`](Self::left_join_global) with its node named `name`.
    pub fn left_join_global_with<KG, VG, VR, GKC, GVC, S, F>(
        &self,
        global: &GlobalKTable<KG, VG, GKC, GVC>,
        key_selector: S,
        joiner: F,
        name: impl Into<String>,
    ) -> KStream<K, VR, KC, Inferred>
    where
        KG: 'static,
        VG: Clone + 'static,
        VR: Clone + 'static,
        GKC: Codec<KG>,
        S: Fn(&K, &V) -> KG + Send + Sync + 'static,
        F: Fn(V, Option<VG>) -> VR + Send + Sync + 'static,
    {
        let joiner: RowJoiner<V, VG, VR> = Arc::new(move |v, row| Some(joiner(v, row)));
        self.global_join(
            global,
            Arc::new(key_selector),
            joiner,
            true,
            Some(name.into()),
        )
    }

    /// Writes a stream-GlobalKTable join: Kafka Streams' `globalTableJoin`, which names inner
    /// and left joins alike `KSTREAM-LEFTJOIN-<n>` and keeps the stream's need to repartition.
    fn global_join<KG, VG, VR, GKC, GVC>(
        &self,
        global: &GlobalKTable<KG, VG, GKC, GVC>,
        selector: KeySelector<K, V, KG>,
        joiner: RowJoiner<V, VG, VR>,
        left: bool,
        name: Option<String>,
    ) -> KStream<K, VR, KC, Inferred>
    where
        KG: 'static,
        VG: Clone + 'static,
        VR: Clone + 'static,
        GKC: Codec<KG>,
    {
        let mut graph = self.graph.borrow_mut();
        let node = graph.name_or(name.or(self.next_name.clone()), names::LEFT_JOIN);
        let (join, parent) = (node.clone(), self.node.clone());
        let store_name: Arc<str> = Arc::from(global.store.as_str());
        let (value_codec, table_key_codec) = (self.value_codec.clone(), global.key_codec.clone());
        graph.step(move |b| {
            b.add_processor(
                join,
                move || StreamGlobalJoin {
                    store_name: Arc::clone(&store_name),
                    selector: Arc::clone(&selector),
                    joiner: Arc::clone(&joiner),
                    left,
                    value_codec: value_codec.clone(),
                    table_key_codec: table_key_codec.clone(),
                    store: None,
                    types: Default::default(),
                },
                [parent],
            );
        });
        drop(graph);
        self.derive(
            node,
            self.key_codec.clone(),
            Inferred,
            self.repartition_required,
        )
    }
}
