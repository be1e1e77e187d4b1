//! Joins declared in `topology!`: a stream with a `table` and with another stream, a table with a
//! table, and a foreign-key join. Each builds the topology the same program written with the DSL
//! builds (compared with `describe()`), and runs in the `TopologyTestDriver`.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use streams::codec::{I64, Nullable, Utf8};
use streams::dsl::{Consumed, JoinWindows, Materialized, Produced, StreamsBuilder};
use streams::testing::TopologyTestDriver;
use streams::topology;

/// Orders keyed by customer: a stream-table join with the customers, a left stream-stream join
/// with the payments within a minute, and a table-table join of the customers with their regions.
#[test]
fn stream_and_table_joins_equal_the_dsl_program() {
    let app = topology! {
        source orders: <String, String> = "orders" as utf8;
        source payments: <String, i64> = "payments" as utf8, default;
        table customers: <String, String> = "customers" as utf8;
        table regions: <String, String> = "regions" as utf8;
        sink enriched: <String, String> = "enriched" as utf8;
        sink paid: <String, String> = "paid" as utf8;
        sink profiles: <String, Option<String>> = "profiles" as utf8, default;

        orders -> .join(&customers, |item: String, name: String| format!("{item} for {name}"))
            -> enriched;
        orders -> .left_join_stream(
                &payments,
                |item: String, amount: Option<i64>| match amount {
                    Some(amount) => format!("{item} paid {amount}"),
                    None => format!("{item} unpaid"),
                },
                JoinWindows::of_time_difference_with_no_grace(Duration::from_secs(60)),
            )
            -> paid;
        customers -> .join(&regions, |name: String, region: String| format!("{name} in {region}"))
            -> .to_stream()
            -> profiles;
    }
    .expect("valid topology");

    let builder = StreamsBuilder::new();
    let orders = builder.stream_with::<String, String, _, _>(
        "orders",
        Consumed::with(Utf8, Utf8).with_name("orders"),
    );
    let payments = builder.stream_with::<String, i64, _, _>(
        "payments",
        Consumed::with(Utf8, I64).with_name("payments"),
    );
    let customers = builder.table_with::<String, String, _, _, _, _>(
        "customers",
        Consumed::with(Utf8, Utf8).with_name("customers"),
        Materialized::new(),
    );
    let regions = builder.table_with::<String, String, _, _, _, _>(
        "regions",
        Consumed::with(Utf8, Utf8).with_name("regions"),
        Materialized::new(),
    );
    orders
        .join(&customers, |item: String, name: String| {
            format!("{item} for {name}")
        })
        .to_with("enriched", Produced::with(Utf8, Utf8).with_name("enriched"));
    orders
        .left_join_stream(
            &payments,
            |item: String, amount: Option<i64>| match amount {
                Some(amount) => format!("{item} paid {amount}"),
                None => format!("{item} unpaid"),
            },
            JoinWindows::of_time_difference_with_no_grace(Duration::from_secs(60)),
        )
        .to_with("paid", Produced::with(Utf8, Utf8).with_name("paid"));
    customers
        .join(&regions, |name: String, region: String| {
            format!("{name} in {region}")
        })
        .to_stream()
        .to_with(
            "profiles",
            Produced::with(Utf8, Nullable(Utf8)).with_name("profiles"),
        );
    let by_dsl = builder.build().expect("valid program");
    assert_eq!(
        app.topology.describe().to_string(),
        by_dsl.describe().to_string()
    );

    // The macro's handles: a table's carries `Option<V>` (None deletes the row).
    let driver = TopologyTestDriver::new(app.topology).unwrap();
    let customers = driver.input(&app.customers);
    let regions = driver.input(&app.regions);
    let orders = driver.input(&app.orders);
    let payments = driver.input(&app.payments);
    customers
        .pipe_input_at("c1".into(), Some("Ann".into()), 0)
        .unwrap();
    regions
        .pipe_input_at("c1".into(), Some("Europe".into()), 0)
        .unwrap();
    orders
        .pipe_input_at("c1".into(), "book".into(), 1_000)
        .unwrap();
    orders
        .pipe_input_at("c2".into(), "pen".into(), 2_000)
        .unwrap(); // no customer c2
    payments.pipe_input_at("c1".into(), 12, 30_000).unwrap();
    customers.pipe_input_at("c1".into(), None, 40_000).unwrap(); // deletes Ann
    orders
        .pipe_input_at("c1".into(), "lamp".into(), 50_000)
        .unwrap();
    // Stream time 200 000 closes the windows of the orders without a payment.
    payments.pipe_input_at("c9".into(), 1, 200_000).unwrap();

    assert_eq!(
        driver
            .output(&app.enriched)
            .read_key_values_to_list()
            .unwrap(),
        [("c1".to_string(), "book for Ann".to_string())]
    );
    assert_eq!(
        driver.output(&app.paid).read_key_values_to_list().unwrap(),
        [
            ("c1".to_string(), "book paid 12".to_string()),
            ("c1".to_string(), "lamp paid 12".to_string()),
            ("c2".to_string(), "pen unpaid".to_string()),
        ]
    );
    assert_eq!(
        driver
            .output(&app.profiles)
            .read_key_values_to_list()
            .unwrap(),
        [
            ("c1".to_string(), Some("Ann in Europe".to_string())),
            ("c1".to_string(), None),
        ]
    );
    drop(driver);

    // The DSL program gives the same results.
    let driver = TopologyTestDriver::new(by_dsl).unwrap();
    let customers = driver.create_input_topic("customers", Utf8, Nullable(Utf8));
    let regions = driver.create_input_topic("regions", Utf8, Nullable(Utf8));
    let orders = driver.create_input_topic("orders", Utf8, Utf8);
    let payments = driver.create_input_topic("payments", Utf8, I64);
    customers
        .pipe_input_at("c1".into(), Some("Ann".into()), 0)
        .unwrap();
    regions
        .pipe_input_at("c1".into(), Some("Europe".into()), 0)
        .unwrap();
    orders
        .pipe_input_at("c1".into(), "book".into(), 1_000)
        .unwrap();
    orders
        .pipe_input_at("c2".into(), "pen".into(), 2_000)
        .unwrap();
    payments.pipe_input_at("c1".into(), 12, 30_000).unwrap();
    customers.pipe_input_at("c1".into(), None, 40_000).unwrap();
    orders
        .pipe_input_at("c1".into(), "lamp".into(), 50_000)
        .unwrap();
    payments.pipe_input_at("c9".into(), 1, 200_000).unwrap();
    assert_eq!(
        driver
            .create_output_topic("paid", Utf8, Utf8)
            .read_values_to_list()
            .unwrap(),
        ["book paid 12", "lamp paid 12", "pen unpaid"]
    );
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Order {
    product: String,
    quantity: i64,
}

/// A foreign-key join of orders (by order id) with the products they name, in the item form,
/// with the product table materialized under a name of its own.
mod foreign_key {
    use streams::codec::{Json, Utf8};
    use streams::dsl::{Consumed, Materialized, Produced, StreamsBuilder};
    use streams::testing::TopologyTestDriver;
    use streams::topology;

    use super::Order;

    topology! {
        pub struct OrderLines;
        table orders: <String, Order> = "orders" as utf8, json;
        table products: <String, String> = "products" as utf8
            with Materialized::named("products-store");
        sink lines: <String, Option<String>> = "order-lines" as utf8, default;

        orders -> .join_foreign_key(
                &products,
                |_id: &String, order: &Order| Some(order.product.clone()),
                |order: Order, name: String| format!("{} x {name}", order.quantity),
            )
            -> .to_stream()
            -> lines;
    }

    #[test]
    fn equals_the_dsl_program_and_follows_both_tables() {
        let app = OrderLines::build().expect("valid topology");

        let builder = StreamsBuilder::new();
        let orders = builder.table_with::<String, Order, _, _, _, _>(
            "orders",
            Consumed::with(Utf8, Json::<Order>::new()).with_name("orders"),
            Materialized::new(),
        );
        let products = builder.table_with::<String, String, _, _, _, _>(
            "products",
            Consumed::with(Utf8, Utf8).with_name("products"),
            Materialized::named("products-store"),
        );
        orders
            .join_foreign_key(
                &products,
                |_id: &String, order: &Order| Some(order.product.clone()),
                |order: Order, name: String| format!("{} x {name}", order.quantity),
            )
            .to_stream()
            .to_with(
                "order-lines",
                Produced::with(Utf8, streams::codec::Nullable(Utf8)).with_name("lines"),
            );
        let by_dsl = builder.build().expect("valid program");
        assert_eq!(
            app.topology.describe().to_string(),
            by_dsl.describe().to_string()
        );

        let driver = TopologyTestDriver::new(app.topology).unwrap();
        let orders = driver.input(&app.orders);
        let products = driver.input(&app.products);
        products
            .pipe_input("p1".into(), Some("pencil".into()))
            .unwrap();
        let order = |product: &str, quantity| {
            Some(Order {
                product: product.into(),
                quantity,
            })
        };
        orders.pipe_input("o1".into(), order("p1", 3)).unwrap();
        orders.pipe_input("o2".into(), order("p2", 1)).unwrap(); // no product p2 yet
        products
            .pipe_input("p2".into(), Some("eraser".into()))
            .unwrap();
        products
            .pipe_input("p1".into(), Some("blue pencil".into()))
            .unwrap();
        orders.pipe_input("o2".into(), None).unwrap();
        assert_eq!(
            driver.output(&app.lines).read_key_values_to_list().unwrap(),
            [
                ("o1".to_string(), Some("3 x pencil".to_string())),
                ("o2".to_string(), Some("1 x eraser".to_string())),
                ("o1".to_string(), Some("3 x blue pencil".to_string())),
                ("o2".to_string(), None),
            ]
        );
        let store = driver
            .timestamped_key_value_store::<String, String>("products-store")
            .expect("the named store of the products table");
        let row = store.get(&"p2".to_string()).unwrap().expect("a row for p2");
        assert_eq!(row.value, "eraser");
    }
}
