//! `KTable`: the latest value per key, as a changelog of updates.

use std::cell::Cell;
use std::marker::PhantomData;
use std::rc::Rc;
use std::sync::Arc;

use crate::codec::{Codec, Inferred, Nullable};

use super::graph::{Shared, add_kv_store};
use super::grouped_table::KGroupedTable;
use super::kstream::KStream;
use super::names;
use super::options::{CodecChoice, Grouped, Materialized};
use super::processors::stateless::ToStream;
use super::processors::suppress::{Suppress, SuppressBufferBuilder};
use super::processors::table::{Materialization, TableFilter, TableMapValues, TableSelect};
use super::suppress::{SuppressSpecs, Suppressed, Suppression};
use crate::topology::TopologyError;

/// What a table node needs to know after it was made: whether it is materialized and whether
/// it sends old values (both can be asked for by later operations, as in Kafka Streams).
pub(crate) struct TableState {
    kind: TableKind,
    send_old_values: Cell<bool>,
    /// The grace period after which the windows of a windowed aggregation close (what
    /// `Suppressed::until_window_closes` waits for); `None` for other tables.
    window_grace_ms: Option<i64>,
    /// The store the table's rows are (or, for a source table, would be) kept in.
    store: std::cell::RefCell<Option<String>>,
    /// The table's rows are kept in a versioned store (a source table materialized with
    /// `Materialized::versioned`).
    versioned: bool,
}

enum TableKind {
    /// `builder.table` / `to_table`: materialized when named, or when old values are needed.
    Source { materialized: Cell<bool> },
    /// An aggregation: always materialized.
    Aggregate,
    /// `filter` / `map_values`: old values come from its own store or from its parent's.
    Derived {
        materialized: bool,
        parent: Rc<TableState>,
    },
    /// A table-table join: old values come from its own store, or from both sides.
    Join {
        materialized: bool,
        sides: [Rc<TableState>; 2],
    },
}

impl TableState {
    pub(crate) fn source(materialized: bool) -> Self {
        TableState {
            kind: TableKind::Source {
                materialized: Cell::new(materialized),
            },
            send_old_values: Cell::new(false),
            window_grace_ms: None,
            store: std::cell::RefCell::new(None),
            versioned: false,
        }
    }

    pub(crate) fn aggregate() -> Self {
        TableState {
            kind: TableKind::Aggregate,
            send_old_values: Cell::new(false),
            window_grace_ms: None,
            store: std::cell::RefCell::new(None),
            versioned: false,
        }
    }

    fn derived(materialized: bool, parent: Rc<TableState>) -> Self {
        TableState {
            kind: TableKind::Derived {
                materialized,
                parent,
            },
            send_old_values: Cell::new(false),
            window_grace_ms: None,
            store: std::cell::RefCell::new(None),
            versioned: false,
        }
    }

    /// A join of two tables, kept in a store of its own if `materialized`.
    pub(crate) fn join(materialized: bool, this: Rc<TableState>, other: Rc<TableState>) -> Self {
        TableState {
            kind: TableKind::Join {
                materialized,
                sides: [this, other],
            },
            send_old_values: Cell::new(false),
            window_grace_ms: None,
            store: std::cell::RefCell::new(None),
            versioned: false,
        }
    }

    /// A windowed aggregation whose windows close `grace_ms` after they end.
    pub(crate) fn windowed_aggregate(grace_ms: i64) -> Self {
        TableState {
            window_grace_ms: Some(grace_ms),
            ..TableState::aggregate()
        }
    }

    /// The grace period of the windowed aggregation this table derives from, as Kafka Streams'
    /// `GraphGraceSearchUtil` finds it.
    pub(crate) fn window_grace_ms(&self) -> Option<i64> {
        match (&self.kind, self.window_grace_ms) {
            (_, Some(grace)) => Some(grace),
            (TableKind::Derived { parent, .. }, None) => parent.window_grace_ms(),
            _ => None,
        }
    }

    /// Marks the table's store as versioned.
    pub(crate) fn versioned(mut self) -> Self {
        self.versioned = true;
        self
    }

    /// Whether the table's rows are kept in a versioned store (looked up as of a time).
    pub(crate) fn is_versioned(&self) -> bool {
        self.versioned
    }

    /// Names the store the table's rows are kept in (for a source table: would be, once
    /// something needs them).
    pub(crate) fn with_store(self, store: impl Into<String>) -> Self {
        *self.store.borrow_mut() = Some(store.into());
        self
    }

    /// The store a join looks the table's rows up in: a source table is materialized for it
    /// (Kafka Streams' value getter does the same). `None` for a table that keeps no rows of its
    /// own (an unmaterialized `filter` or `map_values`).
    pub(crate) fn lookup_store(&self) -> Option<String> {
        if let TableKind::Source { materialized } = &self.kind {
            materialized.set(true);
        }
        self.is_materialized()
            .then(|| self.store.borrow().clone())
            .flatten()
    }

    pub(crate) fn is_materialized(&self) -> bool {
        match &self.kind {
            TableKind::Source { materialized } => materialized.get(),
            TableKind::Aggregate => true,
            TableKind::Derived { materialized, .. } | TableKind::Join { materialized, .. } => {
                *materialized
            }
        }
    }

    pub(crate) fn sends_old_values(&self) -> bool {
        self.send_old_values.get()
    }

    /// Kafka Streams' `enableSendingOldValues(forceMaterialization)`.
    pub(crate) fn enable_sending_old_values(&self, force_materialization: bool) -> bool {
        if self.send_old_values.get() {
            return true;
        }
        match &self.kind {
            TableKind::Source { materialized } => {
                if !force_materialization && !materialized.get() {
                    return false;
                }
                materialized.set(true);
            }
            TableKind::Aggregate => {}
            TableKind::Derived {
                materialized,
                parent,
            } => {
                if !materialized && !parent.enable_sending_old_values(force_materialization) {
                    return false;
                }
            }
            TableKind::Join {
                materialized,
                sides,
            } => {
                if !materialized {
                    // Each side computes old results from its own old values and the other
                    // side's row.
                    for side in sides {
                        side.enable_sending_old_values(true);
                    }
                }
            }
        }
        self.send_old_values.set(true);
        true
    }
}

/// A table — Kafka Streams' `KTable<K, V>`: the latest value per key, flowing downstream as
/// updates ([`Change`](super::Change)s). A delete is an update to `None`; a table read from a
/// topic treats null values (tombstones) as deletes.
///
/// ```
/// use streams_core::codec::{Nullable, Utf8};
/// use streams_core::dsl::StreamsBuilder;
/// use streams_core::testing::TopologyTestDriver;
///
/// let builder = StreamsBuilder::new();
/// builder
///     .table::<String, String>("users")
///     .filter(|_id, name| !name.is_empty())
///     .map_values(|name| name.to_uppercase())
///     .to_stream()
///     .to("user-names");
/// let driver = TopologyTestDriver::new(builder.build().unwrap()).unwrap();
/// let users = driver.create_input_topic("users", Utf8, Nullable(Utf8));
/// users.pipe_input("u1".to_string(), Some("ann".to_string())).unwrap();
/// users.pipe_input("u1".to_string(), None).unwrap(); // a tombstone deletes u1
/// let names = driver.create_output_topic("user-names", Utf8, Nullable(Utf8));
/// assert_eq!(names.read_values_to_list().unwrap(), [Some("ANN".to_string()), None]);
/// ```
pub struct KTable<K, V, KC = Inferred, VC = Inferred> {
    pub(crate) graph: Shared,
    pub(crate) node: String,
    pub(crate) key_codec: KC,
    pub(crate) value_codec: VC,
    store: Option<String>,
    pub(crate) state: Rc<TableState>,
    pub(crate) next_name: Option<String>,
    types: PhantomData<fn() -> (K, V)>,
}

impl<K, V, KC: Clone, VC: Clone> Clone for KTable<K, V, KC, VC> {
    fn clone(&self) -> Self {
        KTable {
            graph: Rc::clone(&self.graph),
            node: self.node.clone(),
            key_codec: self.key_codec.clone(),
            value_codec: self.value_codec.clone(),
            store: self.store.clone(),
            state: Rc::clone(&self.state),
            next_name: self.next_name.clone(),
            types: PhantomData,
        }
    }
}

impl<K, V, KC, VC> std::fmt::Debug for KTable<K, V, KC, VC> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KTable")
            .field("node", &self.node)
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl<K, V, KC, VC> KTable<K, V, KC, VC>
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
        store: Option<String>,
        state: Rc<TableState>,
    ) -> Self {
        KTable {
            graph,
            node,
            key_codec,
            value_codec,
            store,
            state,
            next_name: None,
            types: PhantomData,
        }
    }

    /// The name of the node that produces this table.
    pub fn node_name(&self) -> &str {
        &self.node
    }

    /// The store to query this table by (interactive queries), if it was materialized under a
    /// name.
    pub fn queryable_store_name(&self) -> Option<&str> {
        self.store.as_deref()
    }

    /// Names the node of the next operation (Kafka Streams' `Named`).
    pub fn named(&self, name: impl Into<String>) -> Self {
        let mut named = self.clone();
        named.next_name = Some(name.into());
        named
    }

    /// The rows `predicate` accepts; a row it rejects becomes a delete downstream.
    pub fn filter<F>(&self, predicate: F) -> Self
    where
        F: Fn(&K, &V) -> bool + Send + Sync + 'static,
        KC: Codec<K>,
        VC: Codec<V>,
    {
        self.do_filter(predicate, false, None::<Materialized>)
    }

    /// [`filter`](Self::filter), materialized as `materialized` says (a store only when it is
    /// named, as in Kafka Streams).
    pub fn filter_with<F, MK, MV>(&self, predicate: F, materialized: Materialized<MK, MV>) -> Self
    where
        F: Fn(&K, &V) -> bool + Send + Sync + 'static,
        MK: CodecChoice<K, KC>,
        MV: CodecChoice<V, VC>,
    {
        self.do_filter(predicate, false, Some(materialized))
    }

    /// The rows `predicate` rejects; a row it accepts becomes a delete downstream.
    pub fn filter_not<F>(&self, predicate: F) -> Self
    where
        F: Fn(&K, &V) -> bool + Send + Sync + 'static,
        KC: Codec<K>,
        VC: Codec<V>,
    {
        self.do_filter(predicate, true, None::<Materialized>)
    }

    /// [`filter_not`](Self::filter_not), materialized as `materialized` says.
    pub fn filter_not_with<F, MK, MV>(
        &self,
        predicate: F,
        materialized: Materialized<MK, MV>,
    ) -> Self
    where
        F: Fn(&K, &V) -> bool + Send + Sync + 'static,
        MK: CodecChoice<K, KC>,
        MV: CodecChoice<V, VC>,
    {
        self.do_filter(predicate, true, Some(materialized))
    }

    fn do_filter<F, MK, MV>(
        &self,
        predicate: F,
        not: bool,
        materialized: Option<Materialized<MK, MV>>,
    ) -> Self
    where
        F: Fn(&K, &V) -> bool + Send + Sync + 'static,
        MK: CodecChoice<K, KC>,
        MV: CodecChoice<V, VC>,
    {
        let f = Arc::new(predicate);
        // A filter of a materialized table sends old values, so rows that never passed it make
        // no tombstones (Kafka Streams' `KTableFilter` asks its parent at creation).
        let parent_sends_old_values = self.state.enable_sending_old_values(false);
        let (kc, vc) = (self.key_codec.clone(), self.value_codec.clone());
        let (name, store, state) = self.derived_node(
            names::TABLE_FILTER,
            materialized,
            kc,
            vc,
            move |m, send_old_values| {
                let f = Arc::clone(&f);
                move || TableFilter::<K, V, F> {
                    predicate: Arc::clone(&f),
                    not,
                    materialized: Materialization::new(m.clone()),
                    send_old_values,
                }
            },
        );
        if parent_sends_old_values {
            state.send_old_values.set(true);
        }
        KTable::new(
            Rc::clone(&self.graph),
            name,
            self.key_codec.clone(),
            self.value_codec.clone(),
            store,
            state,
        )
    }

    /// A new value for each row.
    pub fn map_values<VR, F>(&self, mapper: F) -> KTable<K, VR, KC, Inferred>
    where
        VR: Clone + 'static,
        F: Fn(V) -> VR + Send + Sync + 'static,
        KC: Codec<K>,
        Inferred: Codec<VR>,
    {
        self.map_values_with_key(move |_k, v| mapper(v))
    }

    /// A new value for each row, computed from the key too.
    pub fn map_values_with_key<VR, F>(&self, mapper: F) -> KTable<K, VR, KC, Inferred>
    where
        VR: Clone + 'static,
        F: Fn(&K, V) -> VR + Send + Sync + 'static,
        KC: Codec<K>,
        Inferred: Codec<VR>,
    {
        self.do_map_values(mapper, None::<Materialized>)
    }

    /// [`map_values`](Self::map_values), materialized as `materialized` says.
    pub fn map_values_with<VR, F, MK, MV>(
        &self,
        mapper: F,
        materialized: Materialized<MK, MV>,
    ) -> KTable<K, VR, KC, Inferred>
    where
        VR: Clone + 'static,
        F: Fn(V) -> VR + Send + Sync + 'static,
        MK: CodecChoice<K, KC>,
        MV: CodecChoice<VR, Inferred>,
    {
        self.do_map_values(move |_k: &K, v| mapper(v), Some(materialized))
    }

    fn do_map_values<VR, F, MK, MV>(
        &self,
        mapper: F,
        materialized: Option<Materialized<MK, MV>>,
    ) -> KTable<K, VR, KC, Inferred>
    where
        VR: Clone + 'static,
        F: Fn(&K, V) -> VR + Send + Sync + 'static,
        MK: CodecChoice<K, KC>,
        MV: CodecChoice<VR, Inferred>,
    {
        let f = Arc::new(mapper);
        let kc = self.key_codec.clone();
        let (name, store, state) = self.derived_node(
            names::TABLE_MAP_VALUES,
            materialized,
            kc,
            Inferred,
            move |m, send_old_values| {
                let f = Arc::clone(&f);
                move || TableMapValues::<K, V, VR, F> {
                    mapper: Arc::clone(&f),
                    materialized: Materialization::new(m.clone()),
                    send_old_values,
                    types: PhantomData,
                }
            },
        );
        KTable::new(
            Rc::clone(&self.graph),
            name,
            self.key_codec.clone(),
            Inferred,
            store,
            state,
        )
    }

    /// Adds a filter or map-values node: Kafka Streams' naming (an unnamed `Materialized`
    /// burns a store index and materializes nothing), then the node and its store.
    fn derived_node<VR, MK, MV, IK, IV, S, P>(
        &self,
        prefix: &str,
        materialized: Option<Materialized<MK, MV>>,
        inherited_key_codec: IK,
        inherited_value_codec: IV,
        supplier: impl FnOnce(Option<Arc<str>>, bool) -> S + 'static,
    ) -> (String, Option<String>, Rc<TableState>)
    where
        VR: Clone + 'static,
        MK: CodecChoice<K, IK>,
        MV: CodecChoice<VR, IV>,
        S: crate::processor::ProcessorSupplier<Processor = P>,
        P: crate::processor::Processor<
                KIn = K,
                VIn = super::Change<V>,
                KOut = K,
                VOut = super::Change<VR>,
            >,
    {
        let mut graph = self.graph.borrow_mut();
        let mut store = None;
        let mut store_spec = None;
        if let Some(m) = materialized {
            match m.name {
                Some(name) => {
                    store = Some(name.clone());
                    store_spec = Some((
                        name,
                        m.key_codec.choose(inherited_key_codec),
                        m.value_codec.choose(inherited_value_codec),
                        m.more,
                    ));
                }
                None => {
                    graph.store_name(prefix);
                }
            }
        }
        let name = graph.name_or(self.next_name.clone(), prefix);
        let mut state = TableState::derived(store.is_some(), Rc::clone(&self.state));
        if let Some(store) = &store {
            state = state.with_store(store);
        }
        let state = Rc::new(state);
        let (node, parent, table_state) = (name.clone(), self.node.clone(), Rc::clone(&state));
        graph.step(move |b| {
            let store_arc = store_spec
                .as_ref()
                .map(|(n, ..)| Arc::<str>::from(n.as_str()));
            b.add_processor(
                node.clone(),
                supplier(store_arc, table_state.sends_old_values()),
                [parent],
            );
            if let Some((store_name, kc, vc, options)) = store_spec {
                add_kv_store::<K, VR, _, _>(b, &store_name, kc, vc, options, &node);
            }
        });
        (name, store, state)
    }

    /// Holds back updates as `suppressed` says — Kafka Streams' `suppress`: only the final
    /// result of each window ([`Suppressed::until_window_closes`], for the tables of windowed
    /// aggregations), or each key's latest update once per time limit
    /// ([`Suppressed::until_time_limit`]). The updates wait in an in-memory buffer (the store
    /// `<name>-store`, or a generated `KTABLE-SUPPRESS-STATE-STORE-…`), restored from its
    /// changelog; each is emitted with the timestamp and headers of the update it is.
    ///
    /// ```
    /// use std::time::Duration;
    /// use streams_core::codec::{I64, Nullable, Utf8};
    /// use streams_core::dsl::{BufferConfig, StreamsBuilder, Suppressed};
    /// use streams_core::testing::TopologyTestDriver;
    ///
    /// let builder = StreamsBuilder::new();
    /// builder
    ///     .stream::<String, String>("clicks")
    ///     .group_by_key()
    ///     .count()
    ///     .suppress(Suppressed::until_time_limit(Duration::from_secs(10), BufferConfig::max_records(1_000)))
    ///     .to_stream()
    ///     .to("click-counts");
    /// let driver = TopologyTestDriver::new(builder.build().unwrap()).unwrap();
    /// let clicks = driver.create_input_topic("clicks", Utf8, Utf8);
    /// let counts = driver.create_output_topic("click-counts", Utf8, Nullable(I64));
    /// for t in [0, 4_000, 8_000] {
    ///     clicks.pipe_input_at("page".to_string(), "x".to_string(), t).unwrap();
    /// }
    /// assert!(counts.read_values_to_list().unwrap().is_empty(), "held back");
    /// clicks.pipe_input_at("other".to_string(), "x".to_string(), 10_000).unwrap();
    /// assert_eq!(counts.read_values_to_list().unwrap(), [Some(3)], "10 s after the first");
    /// ```
    ///
    /// [`Suppressed::until_window_closes`] on a windowed table that no windowed aggregation made
    /// (e.g. one read from a topic) has no grace period to wait for: building the program then
    /// fails with [`TopologyError::WindowCloseUndefined`](crate::topology::TopologyError::WindowCloseUndefined)
    /// (Kafka Streams throws `TopologyException`).
    pub fn suppress<S>(&self, suppressed: Suppressed<S>) -> Self
    where
        S: Suppression<K>,
        KC: Codec<K>,
        VC: Codec<V>,
    {
        let mut graph = self.graph.borrow_mut();
        let name = match &suppressed.name {
            Some(name) => name.clone(),
            None => graph.processor_name(names::TABLE_SUPPRESS),
        };
        let Some(SuppressSpecs(spec)) = suppressed.kind.spec(self.state.window_grace_ms()) else {
            graph.error(TopologyError::WindowCloseUndefined {
                node: name,
                table: self.node.clone(),
            });
            // Nothing is suppressed; what follows hangs off this table, so the topology's own
            // checks still see a connected graph.
            drop(graph);
            return KTable::new(
                Rc::clone(&self.graph),
                self.node.clone(),
                self.key_codec.clone(),
                self.value_codec.clone(),
                None,
                Rc::clone(&self.state),
            );
        };
        let store = match &suppressed.name {
            Some(name) => format!("{name}-store"),
            None => graph.store_name(names::TABLE_SUPPRESS),
        };
        // The buffer keeps the value before a key's first buffered update.
        self.state.enable_sending_old_values(true);
        let state = Rc::new(TableState::derived(false, Rc::clone(&self.state)));
        let (kc, vc) = (self.key_codec.clone(), self.value_codec.clone());
        let (node, parent) = (name.clone(), self.node.clone());
        let buffer_time: fn(&K, i64) -> i64 = S::buffer_time;
        graph.step(move |b| {
            let store_arc: Arc<str> = Arc::from(store.as_str());
            b.add_processor(
                node.clone(),
                move || Suppress::<K, V, KC, VC> {
                    store: Arc::clone(&store_arc),
                    spec,
                    buffer_time,
                    key_codec: kc.clone(),
                    value_codec: vc.clone(),
                    buffer: None,
                    observed: super::processors::window_aggregate::NO_TIMESTAMP,
                    types: PhantomData,
                },
                [parent],
            );
            b.add_state_store(
                SuppressBufferBuilder {
                    name: store,
                    logging: spec.logging,
                },
                [node],
            );
        });
        drop(graph);
        KTable::new(
            Rc::clone(&self.graph),
            name,
            self.key_codec.clone(),
            self.value_codec.clone(),
            None,
            state,
        )
    }

    /// The table's updates as a stream: each update's new value, `None` for a delete.
    pub fn to_stream(&self) -> KStream<K, Option<V>, KC, Nullable<VC>> {
        let mut graph = self.graph.borrow_mut();
        let name = graph.name_or(self.next_name.clone(), names::TABLE_TO_STREAM);
        let (node, parent) = (name.clone(), self.node.clone());
        graph.step(move |b| {
            b.add_processor(node, ToStream::<K, V>::new, [parent]);
        });
        drop(graph);
        KStream::new(
            Rc::clone(&self.graph),
            name,
            self.key_codec.clone(),
            Nullable(self.value_codec.clone()),
            false,
        )
    }

    /// Groups the rows by a new key and value, for an aggregation (which repartitions by the
    /// new key). Each update removes the old row from its group and adds the new one.
    pub fn group_by<KR, VR, F>(&self, selector: F) -> KGroupedTable<KR, VR, Inferred, Inferred>
    where
        KR: Clone + PartialEq + 'static,
        VR: Clone + 'static,
        F: Fn(&K, V) -> (KR, VR) + Send + Sync + 'static,
        Inferred: Codec<KR> + Codec<VR>,
    {
        self.group_by_with(selector, Grouped::new())
    }

    /// [`group_by`](Self::group_by) with the codecs and name of `grouped` (the name also names
    /// the selecting node and the repartition topic).
    pub fn group_by_with<KR, VR, F, GK, GV>(
        &self,
        selector: F,
        grouped: Grouped<GK, GV>,
    ) -> KGroupedTable<KR, VR, GK::Codec, GV::Codec>
    where
        KR: Clone + PartialEq + 'static,
        VR: Clone + 'static,
        F: Fn(&K, V) -> (KR, VR) + Send + Sync + 'static,
        GK: CodecChoice<KR, Inferred>,
        GV: CodecChoice<VR, Inferred>,
        GK::Codec: Clone,
        GV::Codec: Clone,
    {
        let key_codec = grouped.key_codec.choose(Inferred);
        let value_codec = grouped.value_codec.choose(Inferred);
        let f = Arc::new(selector);
        let mut graph = self.graph.borrow_mut();
        let name = graph.name_or(grouped.name.clone(), names::TABLE_SELECT);
        let (node, parent) = (name.clone(), self.node.clone());
        let (kc, vc) = (key_codec.clone(), value_codec.clone());
        graph.step(move |b| {
            b.add_processor(
                node,
                move || TableSelect {
                    selector: Arc::clone(&f),
                    key_codec: kc.clone(),
                    value_codec: vc.clone(),
                    types: PhantomData,
                },
                [parent],
            );
        });
        drop(graph);
        self.state.enable_sending_old_values(true);
        KGroupedTable::new(
            Rc::clone(&self.graph),
            name,
            key_codec,
            value_codec,
            grouped.name,
        )
    }
}
