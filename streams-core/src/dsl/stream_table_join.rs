//! Joining a stream with a table: `KStream::join`, `left_join` and their `_with` forms (Kafka
//! Streams' `KStream#join(KTable, ..)`, `leftJoin(KTable, ..)`).

use std::sync::Arc;

use crate::codec::{Codec, Inferred};
use crate::topology::TopologyError;

use super::graph::add_repartition;
use super::kstream::KStream;
use super::ktable::KTable;
use super::names;
use super::options::{CodecChoice, Joined};
use super::processors::join_buffer::buffer_store;
use super::processors::stream_table_join::{Grace, RowJoiner, StreamTableJoin};
use super::windowed_stream::duration_ms;

impl<K, V, KC, VC> KStream<K, V, KC, VC>
where
    K: Clone + 'static,
    V: Clone + 'static,
    KC: Codec<K> + Clone + 'static,
    VC: Codec<V> + Clone + 'static,
{
    /// Joins each record with the table's current row for its key (an inner join: records
    /// without a row, or with a null key or value, give nothing). The result keeps the stream
    /// record's key and timestamp; table updates join nothing. A versioned table
    /// ([`Materialized::versioned`](super::Materialized::versioned)) is looked up as of the
    /// stream record's timestamp instead, and with [`Joined::with_grace_period`] stream records
    /// wait for late table updates. If an upstream operation changed the key, the stream is
    /// repartitioned first, so the stream and the table must be co-partitioned (same partition
    /// count, same partitioner).
    ///
    /// ```
    /// use streams_core::codec::Utf8;
    /// use streams_core::dsl::StreamsBuilder;
    /// use streams_core::testing::TopologyTestDriver;
    ///
    /// let builder = StreamsBuilder::new();
    /// let customers = builder.table::<String, String>("customers");
    /// builder
    ///     .stream::<String, String>("orders")
    ///     .join(&customers, |order, name| format!("{order} for {name}"))
    ///     .to("enriched");
    /// let driver = TopologyTestDriver::new(builder.build().unwrap()).unwrap();
    /// let customers = driver.create_input_topic("customers", Utf8, Utf8);
    /// customers.pipe_input("c1".to_string(), "Ann".to_string()).unwrap();
    /// let orders = driver.create_input_topic("orders", Utf8, Utf8);
    /// orders.pipe_input("c1".to_string(), "2 books".to_string()).unwrap();
    /// orders.pipe_input("c2".to_string(), "a pen".to_string()).unwrap(); // no customer c2
    /// let enriched = driver.create_output_topic("enriched", Utf8, Utf8);
    /// assert_eq!(enriched.read_values_to_list().unwrap(), ["2 books for Ann"]);
    /// ```
    pub fn join<VT, VR, TKC, TVC, F>(
        &self,
        table: &KTable<K, VT, TKC, TVC>,
        joiner: F,
    ) -> KStream<K, VR, KC, Inferred>
    where
        VT: Clone + 'static,
        VR: Clone + 'static,
        TKC: Clone + 'static,
        TVC: Clone + 'static,
        F: Fn(V, VT) -> VR + Send + Sync + 'static,
    {
        self.join_with(table, joiner, Joined::new())
    }

    /// [`join`](Self::join) named, and with the repartition topic's codecs, as `joined` says.
    pub fn join_with<VT, VR, TKC, TVC, F, JK, JV>(
        &self,
        table: &KTable<K, VT, TKC, TVC>,
        joiner: F,
        joined: Joined<JK, JV>,
    ) -> KStream<K, VR, JK::Codec, Inferred>
    where
        VT: Clone + 'static,
        VR: Clone + 'static,
        TKC: Clone + 'static,
        TVC: Clone + 'static,
        F: Fn(V, VT) -> VR + Send + Sync + 'static,
        JK: CodecChoice<K, KC>,
        JV: CodecChoice<V, VC>,
        JK::Codec: Clone + 'static,
        JV::Codec: Clone + 'static,
    {
        let joiner: RowJoiner<V, VT, VR> = Arc::new(move |v, row| row.map(|t| joiner(v, t)));
        self.table_join(table, joiner, false, joined)
    }

    /// Joins each record with the table's row for its key, or with `None` when there is none
    /// (a left join: records with a null key are joined with `None` too; records with a null
    /// value give nothing).
    ///
    /// ```
    /// use streams_core::codec::Utf8;
    /// use streams_core::dsl::StreamsBuilder;
    /// use streams_core::testing::TopologyTestDriver;
    ///
    /// let builder = StreamsBuilder::new();
    /// let customers = builder.table::<String, String>("customers");
    /// builder
    ///     .stream::<String, String>("orders")
    ///     .left_join(&customers, |order, name: Option<String>| {
    ///         format!("{order} for {}", name.unwrap_or_else(|| "?".into()))
    ///     })
    ///     .to("enriched");
    /// let driver = TopologyTestDriver::new(builder.build().unwrap()).unwrap();
    /// let orders = driver.create_input_topic("orders", Utf8, Utf8);
    /// orders.pipe_input("c2".to_string(), "a pen".to_string()).unwrap();
    /// let enriched = driver.create_output_topic("enriched", Utf8, Utf8);
    /// assert_eq!(enriched.read_values_to_list().unwrap(), ["a pen for ?"]);
    /// ```
    pub fn left_join<VT, VR, TKC, TVC, F>(
        &self,
        table: &KTable<K, VT, TKC, TVC>,
        joiner: F,
    ) -> KStream<K, VR, KC, Inferred>
    where
        VT: Clone + 'static,
        VR: Clone + 'static,
        TKC: Clone + 'static,
        TVC: Clone + 'static,
        F: Fn(V, Option<VT>) -> VR + Send + Sync + 'static,
    {
        self.left_join_with(table, joiner, Joined::new())
    }

    /// [`left_join`](Self::left_join) named, and with the repartition topic's codecs, as
    /// `joined` says.
    pub fn left_join_with<VT, VR, TKC, TVC, F, JK, JV>(
        &self,
        table: &KTable<K, VT, TKC, TVC>,
        joiner: F,
        joined: Joined<JK, JV>,
    ) -> KStream<K, VR, JK::Codec, Inferred>
    where
        VT: Clone + 'static,
        VR: Clone + 'static,
        TKC: Clone + 'static,
        TVC: Clone + 'static,
        F: Fn(V, Option<VT>) -> VR + Send + Sync + 'static,
        JK: CodecChoice<K, KC>,
        JV: CodecChoice<V, VC>,
        JK::Codec: Clone + 'static,
        JV::Codec: Clone + 'static,
    {
        let joiner: RowJoiner<V, VT, VR> = Arc::new(move |v, row| Some(joiner(v, row)));
        self.table_join(table, joiner, true, joined)
    }

    /// Writes a stream-table join (after a repartition if the key changed): Kafka Streams'
    /// `doStreamTableJoin`.
    fn table_join<VT, VR, TKC, TVC, JK, JV>(
        &self,
        table: &KTable<K, VT, TKC, TVC>,
        joiner: RowJoiner<V, VT, VR>,
        left: bool,
        joined: Joined<JK, JV>,
    ) -> KStream<K, VR, JK::Codec, Inferred>
    where
        VT: Clone + 'static,
        VR: Clone + 'static,
        TKC: Clone + 'static,
        TVC: Clone + 'static,
        JK: CodecChoice<K, KC>,
        JV: CodecChoice<V, VC>,
        JK::Codec: Clone + 'static,
        JV::Codec: Clone + 'static,
    {
        let kc = joined.key_codec.choose(self.key_codec.clone());
        let vc = joined.value_codec.choose(self.value_codec.clone());
        let store = table.state.lookup_store();
        let versioned = table.state.is_versioned();
        let grace = joined.more.grace;
        let mut graph = self.graph.borrow_mut();
        let parent = if self.repartition_required {
            let prefix = joined.name.clone().unwrap_or_else(|| self.node.clone());
            add_repartition::<K, V, _, _>(
                &mut graph,
                self.node.clone(),
                &prefix,
                kc.clone(),
                vc.clone(),
                None,
            )
        } else {
            self.node.clone()
        };
        let prefix = if left { names::LEFT_JOIN } else { names::JOIN };
        let name = graph.name_or(joined.name.or(self.next_name.clone()), prefix);
        if grace.is_some() && !versioned {
            graph.error(TopologyError::GraceWithoutVersionedTable {
                join: name.clone(),
                table: table.node.clone(),
            });
        }
        // Kafka Streams names the buffer after the join, burning no index.
        let grace = grace.filter(|_| versioned).map(|grace| Grace {
            grace_ms: duration_ms(grace),
            store: Arc::from(format!("{name}-Buffer").as_str()),
        });
        match store {
            Some(store) => {
                let (node, null_kc, null_vc) = (name.clone(), kc.clone(), vc);
                let table_node = table.node.clone();
                graph.step(move |b| {
                    let store_name: Arc<str> = Arc::from(store.as_str());
                    let buffer = grace.as_ref().map(|g| g.store.to_string());
                    b.add_processor(
                        node.clone(),
                        move || StreamTableJoin {
                            store_name: Arc::clone(&store_name),
                            versioned,
                            joiner: Arc::clone(&joiner),
                            left,
                            key_codec: null_kc.clone(),
                            value_codec: null_vc.clone(),
                            grace: grace.clone(),
                            rows: None,
                            buffer: None,
                            types: Default::default(),
                        },
                        [parent],
                    );
                    b.connect_processor_and_state_stores(&node, [store]);
                    if let Some(buffer) = buffer {
                        b.add_state_store(buffer_store(&buffer), [&node]);
                    }
                    b.copartition([node, table_node]);
                });
            }
            None => graph.error(TopologyError::JoinTableNotMaterialized {
                join: name.clone(),
                table: table.node.clone(),
            }),
        }
        drop(graph);
        self.derive(name, kc, Inferred, false)
    }
}
