//! The foreign-key join: `KTable::join_foreign_key`, `left_join_foreign_key` and their `_with`
//! forms (Kafka Streams' `KTable#join(KTable, foreignKeyExtractor, joiner)`, KIP-213), written
//! as Kafka Streams' `KTableImpl#doJoinOnForeignKey` writes it: its names, in its order.

use std::marker::PhantomData;
use std::rc::Rc;
use std::sync::Arc;

use crate::codec::{Bytes, Codec, Inferred, Nullable};
use crate::state::Stores;
use crate::topology::{TopologyBuilder, TopologyError};

use super::graph::{ResultStore, add_kv_store, result_store};
use super::ktable::{KTable, TableState};
use super::names;
use super::options::{CodecChoice, Materialized, TableJoined};
use super::processors::foreign_key_join::{
    Extractor, ForeignJoinSubscription, ResponseCodec, ResponseResolver, RowsJoiner,
    SubscriptionCodec, SubscriptionJoinForeign, SubscriptionReceive, SubscriptionSend,
    ToPrimaryPartition,
};
use super::processors::table::{Materialization, TableSource};

/// The result table's value codec, and how to keep its rows.
type ResultCodecAndStore<VRC> = (VRC, ResultStore);

impl<K, V, KC, VC> KTable<K, V, KC, VC>
where
    K: Clone + 'static,
    V: Clone + 'static,
    KC: Codec<K> + Clone + 'static,
    VC: Codec<V> + Clone + 'static,
{
    /// Joins each row with the row of `other` whose key `extractor` finds in it — a foreign-key
    /// join (an inner join: rows whose foreign key is `None` or has no row in `other` have no
    /// result). The result is keyed by this table's key; it changes when a row of either table
    /// changes (a change in `other` re-joins every row referring to it). The two tables need
    /// not be co-partitioned: rows travel through two internal topics.
    ///
    /// ```
    /// use streams_core::codec::{Nullable, Utf8};
    /// use streams_core::dsl::StreamsBuilder;
    /// use streams_core::testing::TopologyTestDriver;
    ///
    /// let builder = StreamsBuilder::new();
    /// let orders = builder.table::<String, String>("orders"); // "product-id,quantity"
    /// let products = builder.table::<String, String>("products");
    /// orders
    ///     .join_foreign_key(
    ///         &products,
    ///         |_id, order| order.split(',').next().map(str::to_string),
    ///         |order, product| format!("{order} of {product}"),
    ///     )
    ///     .to_stream()
    ///     .to("orders-with-products");
    /// let driver = TopologyTestDriver::new(builder.build().unwrap()).unwrap();
    /// let p = driver.create_input_topic("products", Utf8, Utf8);
    /// let o = driver.create_input_topic("orders", Utf8, Utf8);
    /// p.pipe_input("p1".into(), "pencils".into()).unwrap();
    /// o.pipe_input("o1".into(), "p1,3".into()).unwrap();
    /// let out = driver.create_output_topic("orders-with-products", Utf8, Nullable(Utf8));
    /// assert_eq!(out.read_values_to_list().unwrap(), [Some("p1,3 of pencils".to_string())]);
    /// ```
    pub fn join_foreign_key<KO, VO, VR, OKC, OVC, FX, F>(
        &self,
        other: &KTable<KO, VO, OKC, OVC>,
        extractor: FX,
        joiner: F,
    ) -> KTable<K, VR, KC, Inferred>
    where
        KO: Clone + 'static,
        VO: Clone + 'static,
        VR: Clone + 'static,
        OKC: Codec<KO> + Clone + 'static,
        OVC: Codec<VO> + Clone + 'static,
        FX: Fn(&K, &V) -> Option<KO> + Send + Sync + 'static,
        F: Fn(V, VO) -> VR + Send + Sync + 'static,
        Inferred: Codec<VR>,
    {
        let store = default_result_store::<K, VR, KC>(self.key_codec.clone());
        let joiner: RowsJoiner<V, VO, VR> = Arc::new(move |v, o| Some(joiner(v?, o?)));
        self.foreign_key_join(
            other,
            Arc::new(extractor),
            joiner,
            false,
            TableJoined::new(),
            store,
        )
    }

    /// [`join_foreign_key`](Self::join_foreign_key) named as `joined` says and kept in a store
    /// as `materialized` says (named: queryable).
    pub fn join_foreign_key_with<KO, VO, VR, OKC, OVC, FX, F, MK, MV>(
        &self,
        other: &KTable<KO, VO, OKC, OVC>,
        extractor: FX,
        joiner: F,
        joined: TableJoined,
        materialized: Materialized<MK, MV>,
    ) -> KTable<K, VR, KC, MV::Codec>
    where
        KO: Clone + 'static,
        VO: Clone + 'static,
        VR: Clone + 'static,
        OKC: Codec<KO> + Clone + 'static,
        OVC: Codec<VO> + Clone + 'static,
        FX: Fn(&K, &V) -> Option<KO> + Send + Sync + 'static,
        F: Fn(V, VO) -> VR + Send + Sync + 'static,
        MK: CodecChoice<K, KC>,
        MV: CodecChoice<VR, Inferred>,
        MK::Codec: Clone + 'static,
        MV::Codec: Clone + 'static,
    {
        let store = result_store::<K, VR, KC, MK, MV>(materialized, self.key_codec.clone());
        let joiner: RowsJoiner<V, VO, VR> = Arc::new(move |v, o| Some(joiner(v?, o?)));
        self.foreign_key_join(other, Arc::new(extractor), joiner, false, joined, store)
    }

    /// A foreign-key left join: every row has a result, joined with `None` where its foreign
    /// key is `None` or has no row in `other`.
    pub fn left_join_foreign_key<KO, VO, VR, OKC, OVC, FX, F>(
        &self,
        other: &KTable<KO, VO, OKC, OVC>,
        extractor: FX,
        joiner: F,
    ) -> KTable<K, VR, KC, Inferred>
    where
        KO: Clone + 'static,
        VO: Clone + 'static,
        VR: Clone + 'static,
        OKC: Codec<KO> + Clone + 'static,
        OVC: Codec<VO> + Clone + 'static,
        FX: Fn(&K, &V) -> Option<KO> + Send + Sync + 'static,
        F: Fn(V, Option<VO>) -> VR + Send + Sync + 'static,
        Inferred: Codec<VR>,
    {
        let store = default_result_store::<K, VR, KC>(self.key_codec.clone());
        let joiner: RowsJoiner<V, VO, VR> = Arc::new(move |v, o| Some(joiner(v?, o)));
        self.foreign_key_join(
            other,
            Arc::new(extractor),
            joiner,
            true,
            TableJoined::new(),
            store,
        )
    }

    /// [`left_join_foreign_key`](Self::left_join_foreign_key) named as `joined` says and kept
    /// in a store as `materialized` says.
    pub fn left_join_foreign_key_with<KO, VO, VR, OKC, OVC, FX, F, MK, MV>(
        &self,
        other: &KTable<KO, VO, OKC, OVC>,
        extractor: FX,
        joiner: F,
        joined: TableJoined,
        materialized: Materialized<MK, MV>,
    ) -> KTable<K, VR, KC, MV::Codec>
    where
        KO: Clone + 'static,
        VO: Clone + 'static,
        VR: Clone + 'static,
        OKC: Codec<KO> + Clone + 'static,
        OVC: Codec<VO> + Clone + 'static,
        FX: Fn(&K, &V) -> Option<KO> + Send + Sync + 'static,
        F: Fn(V, Option<VO>) -> VR + Send + Sync + 'static,
        MK: CodecChoice<K, KC>,
        MV: CodecChoice<VR, Inferred>,
        MK::Codec: Clone + 'static,
        MV::Codec: Clone + 'static,
    {
        let store = result_store::<K, VR, KC, MK, MV>(materialized, self.key_codec.clone());
        let joiner: RowsJoiner<V, VO, VR> = Arc::new(move |v, o| Some(joiner(v?, o)));
        self.foreign_key_join(other, Arc::new(extractor), joiner, true, joined, store)
    }

    #[allow(clippy::too_many_lines)]
    fn foreign_key_join<KO, VO, VR, OKC, OVC, VRC>(
        &self,
        other: &KTable<KO, VO, OKC, OVC>,
        extractor: Extractor<K, V, KO>,
        joiner: RowsJoiner<V, VO, VR>,
        left: bool,
        joined: TableJoined,
        (value_codec, (store_name, add_store)): ResultCodecAndStore<VRC>,
    ) -> KTable<K, VR, KC, VRC>
    where
        KO: Clone + 'static,
        VO: Clone + 'static,
        VR: Clone + 'static,
        OKC: Codec<KO> + Clone + 'static,
        OVC: Codec<VO> + Clone + 'static,
        VRC: Clone + 'static,
    {
        // Both sides send old values: the subscription side to unsubscribe old foreign keys,
        // the foreign side so that a change reaches the subscribers.
        other.state.enable_sending_old_values(true);
        self.state.enable_sending_old_values(true);
        let mut graph = self.graph.borrow_mut();
        let named = joined.name.or_else(|| self.next_name.clone());
        let named = named.as_deref();
        let mut next = |suffix: &str, prefix: &str| graph.suffixed_or(named, suffix, prefix);
        let subscription_topic = format!(
            "{}-topic",
            next(
                "-subscription-registration",
                names::FK_SUBSCRIPTION_REGISTRATION
            )
        );
        let send = next(
            "-subscription-registration-processor",
            names::FK_SUBSCRIPTION_REGISTRATION,
        );
        let subscription_sink = next("-subscription-registration-sink", names::TABLE_SINK);
        let subscription_source = next("-subscription-registration-source", names::TABLE_SOURCE);
        let subscription_store = next("-subscription-store", names::FK_SUBSCRIPTION_STORE);
        let receive = next("-subscription-receive", names::FK_SUBSCRIPTION_PROCESSOR);
        let join_foreign = next(
            "-subscription-join-foreign",
            names::FK_SUBSCRIPTION_PROCESSOR,
        );
        let foreign_join = next(
            "-foreign-join-subscription",
            names::FK_SUBSCRIPTION_PROCESSOR,
        );
        let response_topic = format!(
            "{}-topic",
            next("-subscription-response", names::FK_SUBSCRIPTION_RESPONSE)
        );
        let response_sink = next("-subscription-response-sink", names::TABLE_SINK);
        let response_source = next("-subscription-response-source", names::TABLE_SOURCE);
        let resolver = next(
            "-subscription-response-resolver",
            names::FK_RESPONSE_RESOLVER,
        );
        let result = next("-result", names::FK_OUTPUT);
        let queryable = store_name.is_some();
        let result_store = match store_name {
            Some(name) => name,
            None => graph.store_name(names::FK_OUTPUT),
        };
        let state = Rc::new(TableState::source(queryable).with_store(&result_store));
        let (left_store, right_store) = (self.state.lookup_store(), other.state.lookup_store());
        let (Some(left_store), Some(right_store)) = (left_store, right_store) else {
            let table = if self.state.lookup_store().is_none() {
                self.node.clone()
            } else {
                other.node.clone()
            };
            graph.error(TopologyError::JoinTableNotMaterialized {
                join: result.clone(),
                table,
            });
            drop(graph);
            return KTable::new(
                Rc::clone(&self.graph),
                result,
                self.key_codec.clone(),
                value_codec,
                None,
                state,
            );
        };
        let (kc, vc) = (self.key_codec.clone(), self.value_codec.clone());
        let (okc, ovc) = (other.key_codec.clone(), other.value_codec.clone());
        let (this_node, other_node) = (self.node.clone(), other.node.clone());
        let (result_node, result_state) = (result.clone(), Rc::clone(&state));
        let queryable_store = queryable.then(|| result_store.clone());
        graph.step(move |b| {
            b.add_processor(
                send.clone(),
                {
                    let (vc, okc) = (vc.clone(), okc.clone());
                    move || SubscriptionSend::<K, V, KO, VC, OKC> {
                        extractor: Arc::clone(&extractor),
                        left,
                        value_codec: vc.clone(),
                        foreign_key_codec: okc.clone(),
                    }
                },
                [this_node.clone()],
            );
            b.add_internal_topic(&subscription_topic, None);
            b.add_sink(
                subscription_sink,
                subscription_topic.clone(),
                Nullable(okc.clone()),
                SubscriptionCodec(kc.clone()),
                [send],
            );
            b.copartition([other_node.clone(), subscription_source.clone()]);
            b.add_source(
                subscription_source.clone(),
                [subscription_topic],
                Nullable(okc.clone()),
                SubscriptionCodec(kc.clone()),
            );
            b.add_processor(
                receive.clone(),
                {
                    let (store, kc, okc) = (
                        Arc::<str>::from(subscription_store.as_str()),
                        kc.clone(),
                        okc.clone(),
                    );
                    move || SubscriptionReceive::<K, KO, KC, OKC> {
                        store_name: Arc::clone(&store),
                        store: None,
                        key_codec: kc.clone(),
                        foreign_key_codec: okc.clone(),
                        types: PhantomData,
                    }
                },
                [subscription_source],
            );
            #[cfg(feature = "rocksdb")]
            let store = Stores::persistent_timestamped_key_value::<Vec<u8>, _, _, _>(
                &subscription_store,
                Bytes,
                SubscriptionCodec(kc.clone()),
            );
            #[cfg(not(feature = "rocksdb"))]
            let store = Stores::in_memory_timestamped_key_value::<Vec<u8>, _, _, _>(
                &subscription_store,
                Bytes,
                SubscriptionCodec(kc.clone()),
            );
            b.add_state_store(store, [receive.clone()]);
            b.add_processor(
                join_foreign.clone(),
                {
                    let store = Arc::<str>::from(right_store.as_str());
                    move || SubscriptionJoinForeign::<K, KO, VO> {
                        store_name: Arc::clone(&store),
                        store: None,
                        types: PhantomData,
                    }
                },
                [receive],
            );
            b.connect_processor_and_state_stores(&join_foreign, [right_store]);
            b.add_processor(
                foreign_join.clone(),
                {
                    let (store, kc, okc) = (
                        Arc::<str>::from(subscription_store.as_str()),
                        kc.clone(),
                        okc.clone(),
                    );
                    move || ForeignJoinSubscription::<K, KO, VO, KC, OKC> {
                        store_name: Arc::clone(&store),
                        store: None,
                        key_codec: kc.clone(),
                        foreign_key_codec: okc.clone(),
                        types: PhantomData,
                    }
                },
                [other_node.clone()],
            );
            b.connect_processor_and_state_stores(&foreign_join, [subscription_store]);
            b.add_internal_topic(&response_topic, None);
            b.add_sink_with_partitioner(
                response_sink,
                response_topic.clone(),
                kc.clone(),
                ResponseCodec(ovc.clone()),
                ToPrimaryPartition,
                [join_foreign, foreign_join],
            );
            b.copartition([this_node.clone(), response_source.clone()]);
            b.add_source(
                response_source.clone(),
                [response_topic],
                kc.clone(),
                ResponseCodec(ovc),
            );
            b.add_processor(
                resolver.clone(),
                {
                    let (store, vc) = (Arc::<str>::from(left_store.as_str()), vc.clone());
                    move || ResponseResolver::<K, V, VO, VR, VC> {
                        store_name: Arc::clone(&store),
                        store: None,
                        value_codec: vc.clone(),
                        joiner: Arc::clone(&joiner),
                        left,
                    }
                },
                [response_source],
            );
            b.connect_processor_and_state_stores(&resolver, [left_store]);
            let materialize = result_state.is_materialized();
            let send_old_values = result_state.sends_old_values();
            let store_arc = materialize.then(|| Arc::<str>::from(result_store.as_str()));
            b.add_processor(
                result_node.clone(),
                move || TableSource::<K, VR, Option<VR>, KC, _> {
                    to_row: Arc::new(|v: Option<VR>| v),
                    key_codec: kc.clone(),
                    materialized: Materialization::new(store_arc.clone()),
                    send_old_values,
                    types: PhantomData,
                },
                [resolver],
            );
            if materialize {
                add_store(b, &result_store, &result_node);
            }
        });
        drop(graph);
        KTable::new(
            Rc::clone(&self.graph),
            result,
            self.key_codec.clone(),
            value_codec,
            queryable_store,
            state,
        )
    }
}

/// The store of an unmaterialized join's result, should a later operation need one.
fn default_result_store<K, VR, KC>(key_codec: KC) -> ResultCodecAndStore<Inferred>
where
    K: Clone + 'static,
    VR: Clone + 'static,
    KC: Codec<K>,
    Inferred: Codec<VR>,
{
    let add = move |b: &mut TopologyBuilder, store: &str, node: &str| {
        add_kv_store::<K, VR, _, _>(b, store, key_codec, Inferred, Default::default(), node);
    };
    (Inferred, (None, Box::new(add)))
}
