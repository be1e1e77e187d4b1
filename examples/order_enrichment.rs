//! Order enrichment with joins: each order is joined with its customer (a stream-table join)
//! and, through the product id it refers to, with its product (a foreign-key join) — Kafka
//! Streams' `KStream#join(KTable)` and `KTable#join(KTable, foreignKeyExtractor, joiner)`.
//!
//! Topics (created by the example): `<app>-customers` (customer id → name), `<app>-products`
//! (product id → name), `<app>-orders` (order id → `customer,product,quantity`), and the output
//! `<app>-enriched-orders` (order id → `quantity x product for customer`).
//!
//! The orders stream is keyed by order id; to join it with the customers table it is re-keyed by
//! customer (`select_key`), which repartitions it through `<app>-orders-by-customer-repartition`
//! (created with the customers topic's partition count: the two are co-partitioned). The joined
//! orders are keyed by order id again and kept as a table (`orders-with-customers`), and that
//! table is joined with the products table by the product id in each order: the foreign-key join
//! sends each order's subscription to the product's partition
//! (`<app>-order-product-subscription-registration-topic`) and the answer back
//! (`<app>-order-product-subscription-response-topic`), so the tables need not be co-partitioned.
//! When a product changes, every order referring to it is joined again; when an order moves to
//! another product, the old product no longer answers it.
//!
//! The example writes customers, products and orders, waits for every order's result, then
//! renames a product and moves an order to another product, and checks that the results follow;
//! it exits with an error if any result differs from the one computed here.
//!
//! Delivery guarantee: at-least-once by default (`--processing-guarantee exactly_once_v2` for
//! exactly-once): after a crash, orders since the last commit are joined again and their results
//! written twice — the same values, so the table of results is the same.
//!
//! ```text
//! cargo run --example order_enrichment                                 # in-process broker
//! cargo run --example order_enrichment -- --bootstrap-servers HOST:PORT [--threads N]
//! ```

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use streams::config::StreamsConfig;
use streams::dsl::{Joined, Materialized, StreamsBuilder, TableJoined};
use streams::runtime::KafkaStreams;
use streams::topology::Topology;

use support::{Args, Cluster, Result};

/// The input topics' partitions (the products topic has fewer: a foreign-key join does not need
/// co-partitioning).
const PARTITIONS: i32 = 3;
const PRODUCT_PARTITIONS: i32 = 2;

const CUSTOMERS: &[(&str, &str)] = &[("c1", "Ada"), ("c2", "Brian"), ("c3", "Chen")];
const PRODUCTS: &[(&str, &str)] = &[("p1", "pencil"), ("p2", "paper"), ("p3", "eraser")];
/// (order id, customer, product, quantity).
const ORDERS: &[(&str, &str, &str, u32)] = &[
    ("o1", "c1", "p1", 3),
    ("o2", "c2", "p2", 500),
    ("o3", "c1", "p3", 1),
    ("o4", "c3", "p1", 12),
    ("o5", "c2", "p3", 2),
    ("o6", "c3", "p2", 100),
];

/// The `n`-th comma-separated field of `s`.
fn field(s: &str, n: usize) -> Option<String> {
    s.split(',').nth(n).map(str::to_string)
}

/// Orders → by customer → join customers → by order → table → join products by product id.
fn topology(orders: &str, customers: &str, products: &str, output: &str) -> Result<Topology> {
    let builder = StreamsBuilder::new();
    let customers = builder.table::<String, String>(customers);
    let products = builder.table::<String, String>(products);
    builder
        .stream::<String, String>(orders)
        // "customer,product,quantity" keyed by order id -> "order,product,quantity" by customer.
        .map(|order_id, order| {
            let customer = field(&order, 0).unwrap_or_default();
            let rest = order
                .split_once(',')
                .map_or("", |(_, rest)| rest)
                .to_string();
            (customer, format!("{order_id},{rest}"))
        })
        .join_with(
            &customers,
            |order, customer| format!("{order},{customer}"),
            Joined::named("orders-by-customer"),
        )
        // "order,product,quantity,customer" keyed by order id again.
        .map(|_customer, order| {
            let id = field(&order, 0).unwrap_or_default();
            let rest = order
                .split_once(',')
                .map_or("", |(_, rest)| rest)
                .to_string();
            (id, rest)
        })
        .to_table_with(Materialized::named("orders-with-customers"))
        .join_foreign_key_with(
            &products,
            |_id, order| field(order, 0),
            |order, product| {
                let quantity = field(&order, 1).unwrap_or_default();
                let customer = field(&order, 2).unwrap_or_default();
                format!("{quantity} x {product} for {customer}")
            },
            TableJoined::named("order-product"),
            Materialized::named("enriched-orders"),
        )
        .to_stream()
        .to(output);
    Ok(builder.build()?)
}

/// What every order's result must be, for the given products and orders.
fn expected(
    products: &BTreeMap<&str, &str>,
    orders: &[(&str, &str, &str, u32)],
) -> BTreeMap<String, String> {
    let customers: BTreeMap<&str, &str> = CUSTOMERS.iter().copied().collect();
    orders
        .iter()
        .map(|&(id, customer, product, quantity)| {
            (
                id.to_string(),
                format!(
                    "{quantity} x {} for {}",
                    products[product], customers[customer]
                ),
            )
        })
        .collect()
}

fn produce(cluster: &Cluster, topic: &str, records: &[(String, String)]) -> Result<()> {
    support::produce(
        cluster.bootstrap_servers(),
        topic,
        records
            .iter()
            .map(|(k, v)| (Some(k.as_bytes()), v.as_bytes())),
    )?;
    Ok(())
}

/// Reads `output` from the beginning into `results` (the latest value per order) until they are
/// `want`, or two minutes pass.
fn wait_for(
    cluster: &Cluster,
    output: &str,
    stop: &std::sync::atomic::AtomicBool,
    results: &mut BTreeMap<String, String>,
    want: &BTreeMap<String, String>,
) -> Result<()> {
    support::read_until(
        cluster.bootstrap_servers(),
        output,
        Duration::from_secs(120),
        stop,
        |key, value| {
            let key = String::from_utf8_lossy(key.unwrap_or_default()).into_owned();
            match value {
                Some(v) => results.insert(key, String::from_utf8_lossy(v).into_owned()),
                None => results.remove(&key),
            };
            results == want
        },
    )?;
    Ok(())
}

fn order_records(orders: &[(&str, &str, &str, u32)]) -> Vec<(String, String)> {
    orders
        .iter()
        .map(|(id, c, p, q)| (id.to_string(), format!("{c},{p},{q}")))
        .collect()
}

fn main() -> Result<()> {
    support::init_logging();
    let args = Args::parse()?;
    let stop = support::stop_on_signal()?;
    let cluster = Cluster::connect(args.bootstrap_servers.clone())?;
    let app = if cluster.is_embedded() {
        "order-enrichment".to_string()
    } else {
        format!("order-enrichment-{}", support::run_id())
    };
    let topic = |name: &str| format!("{app}-{name}");
    let (orders, customers, products, output) = (
        topic("orders"),
        topic("customers"),
        topic("products"),
        topic("enriched-orders"),
    );
    cluster.create_topics(&[
        (&orders, PARTITIONS),
        (&customers, PARTITIONS),
        (&products, PRODUCT_PARTITIONS),
        (&output, PARTITIONS),
    ])?;
    let pairs = |rows: &[(&str, &str)]| -> Vec<(String, String)> {
        rows.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    produce(&cluster, &customers, &pairs(CUSTOMERS))?;
    produce(&cluster, &products, &pairs(PRODUCTS))?;

    let config = StreamsConfig::builder()
        .application_id(app.as_str())
        .bootstrap_servers(cluster.bootstrap_servers())
        .set("processing.guarantee", args.guarantee())
        .num_stream_threads(args.threads.unwrap_or(1))
        .commit_interval(Duration::from_millis(200))
        .build()?;
    let streams = KafkaStreams::new(topology(&orders, &customers, &products, &output)?, config)?;
    streams.set_state_listener(|new, old| println!("state: {old:?} -> {new:?}"))?;
    streams.start()?;
    produce(&cluster, &orders, &order_records(ORDERS))?;

    // Every order's latest result, as the output topic tells it.
    let mut results: BTreeMap<String, String> = BTreeMap::new();
    let mut product_names: BTreeMap<&str, &str> = PRODUCTS.iter().copied().collect();
    let first = expected(&product_names, ORDERS);
    wait_for(&cluster, &output, &stop, &mut results, &first)?;
    println!("enriched orders:");
    for (id, result) in &results {
        println!("  {id}: {result}");
    }

    // A product is renamed: its orders are joined again. An order moves to another product.
    produce(&cluster, &products, &pairs(&[("p1", "blue pencil")]))?;
    produce(&cluster, &orders, &order_records(&[("o3", "c1", "p2", 1)]))?;
    product_names.insert("p1", "blue pencil");
    let mut orders_now: Vec<_> = ORDERS.to_vec();
    orders_now[2] = ("o3", "c1", "p2", 1);
    let second = expected(&product_names, &orders_now);
    wait_for(&cluster, &output, &stop, &mut results, &second)?;
    println!("after renaming p1 and moving o3 to p2:");
    for (id, result) in &results {
        println!("  {id}: {result}");
    }
    let closed = streams.close(Duration::from_secs(30));
    println!("closed cleanly: {closed}");
    if stop.load(std::sync::atomic::Ordering::SeqCst) {
        println!("stopped by signal");
        return Ok(());
    }
    if results != second {
        return Err(
            format!("results differ from the expected ones: {results:?} vs {second:?}").into(),
        );
    }
    println!("all {} orders enriched as expected", second.len());
    Ok(())
}
