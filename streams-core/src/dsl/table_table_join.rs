//! Joining two tables: `KTable::join`, `left_join`, `outer_join` and their `_with` forms (Kafka
//! Streams' `KTable#join(KTable, ..)`, `leftJoin`, `outerJoin`).

use std::rc::Rc;
use std::sync::Arc;

use crate::codec::{Codec, Inferred};
use crate::topology::TopologyError;

use super::graph::{ResultStore, result_store};
use super::ktable::{KTable, TableState};
use super::names;
use super::options::{CodecChoice, Materialized};
use super::processors::table::Materialization;
use super::processors::table_table_join::{SideJoiner, SideKind, TableJoinMerge, TableJoinSide};

/// Inner, left or outer.
#[derive(Clone, Copy)]
enum JoinKind {
    Inner,
    Left,
    Outer,
}

impl<K, V, KC, VC> KTable<K, V, KC, VC>
where
    K: Clone + 'static,
    V: Clone + 'static,
    KC: Codec<K> + Clone + 'static,
    VC: Clone + 'static,
{
    /// Joins this table with `other` by key (an inner join): a row wherever both have one,
    /// updated whenever either side changes, with the later of the two rows' timestamps; a
    /// row that loses its partner becomes a delete.
    ///
    /// ```
    /// use streams_core::codec::{Nullable, Utf8};
    /// use streams_core::dsl::StreamsBuilder;
    /// use streams_core::testing::TopologyTestDriver;
    ///
    /// let builder = StreamsBuilder::new();
    /// let names = builder.table::<String, String>("names");
    /// let emails = builder.table::<String, String>("emails");
    /// names
    ///     .join(&emails, |name, email| format!("{name} <{email}>"))
    ///     .to_stream()
    ///     .to("contacts");
    /// let driver = TopologyTestDriver::new(builder.build().unwrap()).unwrap();
    /// let n = driver.create_input_topic("names", Utf8, Utf8);
    /// let e = driver.create_input_topic("emails", Utf8, Utf8);
    /// n.pipe_input("u1".to_string(), "Ann".to_string()).unwrap();
    /// e.pipe_input("u1".to_string(), "ann@example.com".to_string()).unwrap();
    /// let contacts = driver.create_output_topic("contacts", Utf8, Nullable(Utf8));
    /// assert_eq!(
    ///     contacts.read_values_to_list().unwrap(),
    ///     [Some("Ann <ann@example.com>".to_string())]
    /// );
    /// ```
    pub fn join<VO, VR, OKC, OVC, F>(
        &self,
        other: &KTable<K, VO, OKC, OVC>,
        joiner: F,
    ) -> KTable<K, VR, KC, Inferred>
    where
        VO: Clone + 'static,
        VR: Clone + 'static,
        OKC: Clone + 'static,
        OVC: Clone + 'static,
        F: Fn(V, VO) -> VR + Send + Sync + 'static,
    {
        let (this, that) = inner_joiners(joiner);
        self.table_join(other, JoinKind::Inner, this, that, Inferred, None)
    }

    /// [`join`](Self::join), kept in a store as `materialized` says (named: queryable).
    pub fn join_with<VO, VR, OKC, OVC, F, MK, MV>(
        &self,
        other: &KTable<K, VO, OKC, OVC>,
        joiner: F,
        materialized: Materialized<MK, MV>,
    ) -> KTable<K, VR, KC, MV::Codec>
    where
        VO: Clone + 'static,
        VR: Clone + 'static,
        OKC: Clone + 'static,
        OVC: Clone + 'static,
        F: Fn(V, VO) -> VR + Send + Sync + 'static,
        MK: CodecChoice<K, KC>,
        MV: CodecChoice<VR, Inferred>,
        MK::Codec: Clone + 'static,
        MV::Codec: Clone + 'static,
    {
        let (this, that) = inner_joiners(joiner);
        let (value_codec, store) = result_store(materialized, self.key_codec.clone());
        self.table_join(other, JoinKind::Inner, this, that, value_codec, Some(store))
    }

    /// Joins this table with `other` by key, keeping every row of this table (a left join):
    /// the joiner gets `None` where `other` has no row.
    pub fn left_join<VO, VR, OKC, OVC, F>(
        &self,
        other: &KTable<K, VO, OKC, OVC>,
        joiner: F,
    ) -> KTable<K, VR, KC, Inferred>
    where
        VO: Clone + 'static,
        VR: Clone + 'static,
        OKC: Clone + 'static,
        OVC: Clone + 'static,
        F: Fn(V, Option<VO>) -> VR + Send + Sync + 'static,
    {
        let (this, that) = left_joiners(joiner);
        self.table_join(other, JoinKind::Left, this, that, Inferred, None)
    }

    /// [`left_join`](Self::left_join), kept in a store as `materialized` says.
    pub fn left_join_with<VO, VR, OKC, OVC, F, MK, MV>(
        &self,
        other: &KTable<K, VO, OKC, OVC>,
        joiner: F,
        materialized: Materialized<MK, MV>,
    ) -> KTable<K, VR, KC, MV::Codec>
    where
        VO: Clone + 'static,
        VR: Clone + 'static,
        OKC: Clone + 'static,
        OVC: Clone + 'static,
        F: Fn(V, Option<VO>) -> VR + Send + Sync + 'static,
        MK: CodecChoice<K, KC>,
        MV: CodecChoice<VR, Inferred>,
        MK::Codec: Clone + 'static,
        MV::Codec: Clone + 'static,
    {
        let (this, that) = left_joiners(joiner);
        let (value_codec, store) = result_store(materialized, self.key_codec.clone());
        self.table_join(other, JoinKind::Left, this, that, value_codec, Some(store))
    }

    /// Joins this table with `other` by key, keeping every row of both (an outer join): the
    /// joiner gets `None` for the side that has no row.
    ///
    /// ```
    /// use streams_core::codec::{Nullable, Utf8};
    /// use streams_core::dsl::StreamsBuilder;
    /// use streams_core::testing::TopologyTestDriver;
    ///
    /// let builder = StreamsBuilder::new();
    /// let a = builder.table::<String, String>("a");
    /// let b = builder.table::<String, String>("b");
    /// a.outer_join(&b, |x: Option<String>, y: Option<String>| {
    ///     format!("{}|{}", x.unwrap_or_default(), y.unwrap_or_default())
    /// })
    /// .to_stream()
    /// .to("both");
    /// let driver = TopologyTestDriver::new(builder.build().unwrap()).unwrap();
    /// driver.create_input_topic("b", Utf8, Utf8).pipe_input("k".into(), "y".into()).unwrap();
    /// let both = driver.create_output_topic("both", Utf8, Nullable(Utf8));
    /// assert_eq!(both.read_values_to_list().unwrap(), [Some("|y".to_string())]);
    /// ```
    pub fn outer_join<VO, VR, OKC, OVC, F>(
        &self,
        other: &KTable<K, VO, OKC, OVC>,
        joiner: F,
    ) -> KTable<K, VR, KC, Inferred>
    where
        VO: Clone + 'static,
        VR: Clone + 'static,
        OKC: Clone + 'static,
        OVC: Clone + 'static,
        F: Fn(Option<V>, Option<VO>) -> VR + Send + Sync + 'static,
    {
        let (this, that) = outer_joiners(joiner);
        self.table_join(other, JoinKind::Outer, this, that, Inferred, None)
    }

    /// [`outer_join`](Self::outer_join), kept in a store as `materialized` says.
    pub fn outer_join_with<VO, VR, OKC, OVC, F, MK, MV>(
        &self,
        other: &KTable<K, VO, OKC, OVC>,
        joiner: F,
        materialized: Materialized<MK, MV>,
    ) -> KTable<K, VR, KC, MV::Codec>
    where
        VO: Clone + 'static,
        VR: Clone + 'static,
        OKC: Clone + 'static,
        OVC: Clone + 'static,
        F: Fn(Option<V>, Option<VO>) -> VR + Send + Sync + 'static,
        MK: CodecChoice<K, KC>,
        MV: CodecChoice<VR, Inferred>,
        MK::Codec: Clone + 'static,
        MV::Codec: Clone + 'static,
    {
        let (this, that) = outer_joiners(joiner);
        let (value_codec, store) = result_store(materialized, self.key_codec.clone());
        self.table_join(other, JoinKind::Outer, this, that, value_codec, Some(store))
    }

    /// Writes a table-table join: Kafka Streams' `KTableImpl#doJoin` (its names, in its
    /// order: the merge node, then the two sides).
    fn table_join<VO, VR, OKC, OVC, VRC>(
        &self,
        other: &KTable<K, VO, OKC, OVC>,
        kind: JoinKind,
        this_joiner: SideJoiner<V, VO, VR>,
        other_joiner: SideJoiner<VO, V, VR>,
        value_codec: VRC,
        store: Option<ResultStore>,
    ) -> KTable<K, VR, KC, VRC>
    where
        VO: Clone + 'static,
        VR: Clone + 'static,
        OKC: Clone + 'static,
        OVC: Clone + 'static,
        VRC: Clone + 'static,
    {
        let mut graph = self.graph.borrow_mut();
        // An unnamed `Materialized` still materializes, under a generated store name.
        let store_spec = store.map(|(name, add)| {
            let queryable = name.is_some();
            let name = name.unwrap_or_else(|| graph.store_name(names::TABLE_MERGE));
            (name, queryable, add)
        });
        let named = self.next_name.clone();
        let merge = graph.name_or(named.clone(), names::TABLE_MERGE);
        let this_name = graph.suffixed_or(named.as_deref(), "-join-this", names::TABLE_JOIN_THIS);
        let other_name =
            graph.suffixed_or(named.as_deref(), "-join-other", names::TABLE_JOIN_OTHER);
        let (this_kind, other_kind) = match kind {
            JoinKind::Inner => (SideKind::Inner, SideKind::Inner),
            JoinKind::Left => (SideKind::Left, SideKind::Right),
            JoinKind::Outer => (SideKind::Outer, SideKind::Outer),
        };
        // A left (outer) side needs its own old values to tell a delete of a row it had.
        if matches!(kind, JoinKind::Left | JoinKind::Outer) {
            self.state.enable_sending_old_values(true);
        }
        if matches!(kind, JoinKind::Outer) {
            other.state.enable_sending_old_values(true);
        }
        let (this_store, other_store) = (self.state.lookup_store(), other.state.lookup_store());
        let (this_versioned, other_versioned) =
            (self.state.is_versioned(), other.state.is_versioned());
        let mut state = TableState::join(
            store_spec.is_some(),
            Rc::clone(&self.state),
            Rc::clone(&other.state),
        );
        if let Some((store, ..)) = &store_spec {
            state = state.with_store(store);
        }
        let state = Rc::new(state);
        let queryable = store_spec
            .as_ref()
            .filter(|spec| spec.1)
            .map(|spec| spec.0.clone());
        match (this_store, other_store) {
            (Some(this_store), Some(other_store)) => {
                let (this_node, other_node) = (self.node.clone(), other.node.clone());
                let (key_codec, join_state) = (self.key_codec.clone(), Rc::clone(&state));
                let (merge_node, this_side, other_side) = (merge.clone(), this_name, other_name);
                graph.step(move |b| {
                    let send_old_values = join_state.sends_old_values();
                    // A materialized join takes old results from its own store.
                    let sides_send_old = send_old_values && store_spec.is_none();
                    let (kc, store_name) =
                        (key_codec.clone(), Arc::<str>::from(other_store.as_str()));
                    b.add_processor(
                        this_side.clone(),
                        move || TableJoinSide {
                            kind: this_kind,
                            joiner: Arc::clone(&this_joiner),
                            other_store_name: Arc::clone(&store_name),
                            other_versioned,
                            other_store: None,
                            send_old_values: sides_send_old,
                            key_codec: kc.clone(),
                            types: Default::default(),
                        },
                        [this_node],
                    );
                    b.connect_processor_and_state_stores(&this_side, [other_store.clone()]);
                    let (kc, store_name) = (key_codec, Arc::<str>::from(this_store.as_str()));
                    b.add_processor(
                        other_side.clone(),
                        move || TableJoinSide {
                            kind: other_kind,
                            joiner: Arc::clone(&other_joiner),
                            other_store_name: Arc::clone(&store_name),
                            other_versioned: this_versioned,
                            other_store: None,
                            send_old_values: sides_send_old,
                            key_codec: kc.clone(),
                            types: Default::default(),
                        },
                        [other_node],
                    );
                    b.connect_processor_and_state_stores(&other_side, [this_store]);
                    b.copartition([this_side.clone(), other_side.clone()]);
                    let store_arc = store_spec
                        .as_ref()
                        .map(|spec| Arc::<str>::from(spec.0.as_str()));
                    b.add_processor(
                        merge_node.clone(),
                        move || TableJoinMerge::<K, VR> {
                            materialized: Materialization::new(store_arc.clone()),
                            send_old_values,
                        },
                        [this_side, other_side],
                    );
                    if let Some((store, _, add)) = store_spec {
                        add(b, &store, &merge_node);
                    }
                });
            }
            (this_store, _) => {
                let table = if this_store.is_none() {
                    self.node.clone()
                } else {
                    other.node.clone()
                };
                graph.error(TopologyError::JoinTableNotMaterialized {
                    join: merge.clone(),
                    table,
                });
            }
        }
        drop(graph);
        KTable::new(
            Rc::clone(&self.graph),
            merge,
            self.key_codec.clone(),
            value_codec,
            queryable,
            state,
        )
    }
}

/// The two sides' joiners of an inner join.
fn inner_joiners<V, VO, VR, F>(joiner: F) -> (SideJoiner<V, VO, VR>, SideJoiner<VO, V, VR>)
where
    F: Fn(V, VO) -> VR + Send + Sync + 'static,
{
    let joiner = Arc::new(joiner);
    let reversed = Arc::clone(&joiner);
    (
        Arc::new(move |v, o| Some(joiner(v?, o?))),
        Arc::new(move |o, v| Some(reversed(v?, o?))),
    )
}

/// The two sides' joiners of a left join: the right side joins only while the left has a row.
fn left_joiners<V, VO, VR, F>(joiner: F) -> (SideJoiner<V, VO, VR>, SideJoiner<VO, V, VR>)
where
    F: Fn(V, Option<VO>) -> VR + Send + Sync + 'static,
{
    let joiner = Arc::new(joiner);
    let reversed = Arc::clone(&joiner);
    (
        Arc::new(move |v, o| Some(joiner(v?, o))),
        Arc::new(move |o, v| Some(reversed(v?, o))),
    )
}

/// The two sides' joiners of an outer join.
fn outer_joiners<V, VO, VR, F>(joiner: F) -> (SideJoiner<V, VO, VR>, SideJoiner<VO, V, VR>)
where
    F: Fn(Option<V>, Option<VO>) -> VR + Send + Sync + 'static,
{
    let joiner = Arc::new(joiner);
    let reversed = Arc::clone(&joiner);
    (
        Arc::new(move |v, o| Some(joiner(v, o))),
        Arc::new(move |o, v| Some(reversed(v, o))),
    )
}
