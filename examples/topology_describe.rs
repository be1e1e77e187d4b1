//! Builds a two-sub-topology graph with the low-level `TopologyBuilder` and prints its
//! `describe()` — byte-for-byte the text Kafka Streams prints for the same topology — followed by
//! a Mermaid picture of it.
//!
//! The first sub-topology parses orders and re-keys them by user into a repartition topic; the
//! second reads that topic and keeps a count per user in a state store.
//!
//! No broker is needed: nothing runs, the topology is only built and described.
//!
//! ```text
//! cargo run --example topology_describe
//! ```

use streams::codec::{I64, Utf8};
use streams::error::ProcessorError;
use streams::processor::{Processor, ProcessorContext};
use streams::record::Record;
use streams::state::{KeyValueStore, Stores};
use streams::topology::TopologyBuilder;

/// `"user,item"` → key `user`, value `item`.
struct ParseOrder;

impl Processor for ParseOrder {
    type KIn = String;
    type VIn = String;
    type KOut = String;
    type VOut = String;

    fn process(
        &mut self,
        record: Record<String, String>,
        ctx: &mut ProcessorContext<'_, String, String>,
    ) -> Result<(), ProcessorError> {
        let Some((user, item)) = record.value.split_once(',') else {
            return Err(ProcessorError::msg(format!(
                "not `user,item`: {:?}",
                record.value
            )));
        };
        let (user, item) = (user.to_string(), item.to_string());
        ctx.forward(record.with_key(user).with_value(item))
    }
}

/// Counts orders per user in the `orders-per-user` store and forwards the new count.
#[derive(Default)]
struct CountPerUser {
    store: Option<KeyValueStore<String, i64>>,
}

impl Processor for CountPerUser {
    type KIn = String;
    type VIn = String;
    type KOut = String;
    type VOut = i64;

    fn init(&mut self, ctx: &mut ProcessorContext<'_, String, i64>) -> Result<(), ProcessorError> {
        self.store = Some(ctx.key_value_store("orders-per-user")?);
        Ok(())
    }

    fn process(
        &mut self,
        record: Record<String, String>,
        ctx: &mut ProcessorContext<'_, String, i64>,
    ) -> Result<(), ProcessorError> {
        let store = self
            .store
            .as_ref()
            .ok_or_else(|| ProcessorError::msg("not initialised"))?;
        let count = store.get(&record.key)?.unwrap_or(0) + 1;
        store.put(&record.key, &count)?;
        ctx.forward(record.with_value(count))
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut builder = TopologyBuilder::new();
    builder
        .add_source("orders-source", ["orders"], Utf8, Utf8)
        .add_processor("parse", || ParseOrder, ["orders-source"])
        .add_sink(
            "to-repartition",
            "app-by-user-repartition",
            Utf8,
            Utf8,
            ["parse"],
        )
        .add_source(
            "repartition-source",
            ["app-by-user-repartition"],
            Utf8,
            Utf8,
        )
        .add_processor("count", CountPerUser::default, ["repartition-source"])
        .add_state_store(
            Stores::in_memory_key_value("orders-per-user", Utf8, I64),
            ["count"],
        )
        .add_sink("counts-sink", "order-counts", Utf8, I64, ["count"]);
    let topology = builder.build()?;

    println!("{}", topology.describe());
    println!("{}", topology.to_mermaid());
    Ok(())
}
