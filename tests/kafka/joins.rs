//! Joins on the real broker: a stream-table join whose stream side is re-keyed (its
//! repartition topic gets the table's partition count, not the stream's) and a foreign-key
//! join across tables of different partition counts, both checked against the expected
//! results; a stream-stream join over several partitions.

use std::collections::BTreeMap;
use std::time::Duration;

use streams::config::StreamsConfig;
use streams::dsl::{JoinWindows, StreamsBuilder};
use streams::runtime::KafkaStreams;

use super::support::*;

fn config(app: &str) -> StreamsConfig {
    StreamsConfig::builder()
        .application_id(app)
        .bootstrap_servers(bootstrap())
        .num_stream_threads(2)
        .commit_interval(Duration::from_millis(100))
        .state_dir(std::env::temp_dir().join(unique("joins-state")))
        .build()
        .expect("valid config")
}

/// The latest value per key of `records` (a null value deletes).
fn latest(records: &[(Vec<u8>, Option<Vec<u8>>)]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (k, v) in records {
        let k = String::from_utf8_lossy(k).into_owned();
        match v {
            Some(v) => out.insert(k, String::from_utf8_lossy(v).into_owned()),
            None => out.remove(&k),
        };
    }
    out
}

fn text(records: &[(&str, &str)]) -> Records {
    records
        .iter()
        .map(|(k, v)| (Some(k.to_string()), v.as_bytes().to_vec()))
        .collect()
}

/// Clicks keyed by click id carry `user,page`; re-keyed by user they join the users table
/// (2 partitions), although the clicks topic has 4.
#[test]
fn a_rekeyed_stream_joins_a_table_through_a_repartition_topic() {
    let kafka = bootstrap();
    let app = unique("st-join");
    let (clicks, users, output) = (
        format!("{app}-clicks"),
        format!("{app}-users"),
        format!("{app}-out"),
    );
    create_topics(&kafka, &[(&clicks, 4), (&users, 2), (&output, 2)]);
    let names: Vec<(String, String)> = (0..20)
        .map(|u| (format!("u{u}"), format!("name-{u}")))
        .collect();
    let user_records: Vec<(&str, &str)> = names
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    produce(&kafka, &users, &text(&user_records));

    let builder = StreamsBuilder::new();
    let users_table = builder.table::<String, String>(&users);
    builder
        .stream::<String, String>(&clicks)
        .select_key(|_id, click| click.split(',').next().unwrap_or_default().to_string())
        .join(&users_table, |click, name| format!("{click} by {name}"))
        .to(&output);
    let streams = KafkaStreams::new(builder.build().unwrap(), config(&app)).unwrap();
    streams.start().unwrap();
    wait_running(&streams);
    assert_eq!(
        partition_count(
            &kafka,
            &format!("{app}-KSTREAM-KEY-SELECT-0000000004-repartition")
        ),
        2
    );

    let click_values: Vec<(String, String)> = (0..200)
        .map(|i| (format!("c{i}"), format!("u{},p{i}", i % 20)))
        .collect();
    let click_records: Vec<(&str, &str)> = click_values
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    produce(&kafka, &clicks, &text(&click_records));

    let reader = Reader::new(&kafka, &output);
    let mut out = Vec::new();
    assert!(
        reader.read_until(&mut out, Duration::from_secs(120), |r| r.len() >= 200),
        "{} of 200, error {:?}",
        out.len(),
        streams.error()
    );
    let mut got: Vec<String> = out
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                String::from_utf8_lossy(k),
                String::from_utf8_lossy(v)
            )
        })
        .collect();
    got.sort();
    let mut expected: Vec<String> = (0..200)
        .map(|i| format!("u{}=u{},p{i} by name-{}", i % 20, i % 20, i % 20))
        .collect();
    expected.sort();
    assert_eq!(got, expected);
    assert!(streams.close(Duration::from_secs(60)));
}

/// Orders (3 partitions, `product,quantity`) joined with products (2 partitions) by the product
/// id in the order: updates of a product re-join its orders, an order moving to another product
/// leaves the old one, a deleted order deletes its result.
#[test]
fn a_foreign_key_join_follows_both_tables() {
    let kafka = bootstrap();
    let app = unique("fk-join");
    let (orders, products, output) = (
        format!("{app}-orders"),
        format!("{app}-products"),
        format!("{app}-out"),
    );
    create_topics(&kafka, &[(&orders, 3), (&products, 2), (&output, 3)]);
    produce(
        &kafka,
        &products,
        &text(&[("p1", "pencil"), ("p2", "paper"), ("p3", "pen")]),
    );

    let builder = StreamsBuilder::new();
    let orders_table = builder.table::<String, String>(&orders);
    let products_table = builder.table::<String, String>(&products);
    orders_table
        .join_foreign_key(
            &products_table,
            |_id, order| order.split(',').next().map(str::to_string),
            |order, product| format!("{order}:{product}"),
        )
        .to_stream()
        .to(&output);
    let streams = KafkaStreams::new(builder.build().unwrap(), config(&app)).unwrap();
    streams.start().unwrap();
    wait_running(&streams);

    let order_values: Vec<(String, String)> = (0..30)
        .map(|i| (format!("o{i}"), format!("p{},{i}", i % 3 + 1)))
        .collect();
    let order_records: Vec<(&str, &str)> = order_values
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    produce(&kafka, &orders, &text(&order_records));

    let reader = Reader::new(&kafka, &output);
    let mut out: Vec<(Vec<u8>, Option<Vec<u8>>)> = Vec::new();
    let expected_first: BTreeMap<String, String> = (0..30)
        .map(|i| {
            let product = ["pencil", "paper", "pen"][i % 3];
            (format!("o{i}"), format!("p{},{i}:{product}", i % 3 + 1))
        })
        .collect();
    assert!(
        reader.read_nullable_until(&mut out, Duration::from_secs(120), |r| latest(r)
            == expected_first),
        "{:?}, error {:?}",
        latest(&out),
        streams.error()
    );

    // A product changes, an order changes product, an order is deleted.
    produce(&kafka, &products, &text(&[("p1", "blue pencil")]));
    produce(&kafka, &orders, &text(&[("o1", "p3,1")]));
    produce_tombstone(&kafka, &orders, "o2");
    let mut expected = expected_first.clone();
    for i in (0..30).filter(|i| i % 3 == 0) {
        expected.insert(format!("o{i}"), format!("p1,{i}:blue pencil"));
    }
    expected.insert("o1".into(), "p3,1:pen".into());
    expected.remove("o2");
    assert!(
        reader.read_nullable_until(&mut out, Duration::from_secs(120), |r| latest(r)
            == expected),
        "{:?}, error {:?}",
        latest(&out),
        streams.error()
    );
    assert!(streams.close(Duration::from_secs(60)));
}

/// Impressions and clicks on 3 partitions, joined within 10 s per ad.
#[test]
fn a_stream_stream_join_pairs_records_within_the_window() {
    let kafka = bootstrap();
    let app = unique("ss-join");
    let (views, clicks, output) = (
        format!("{app}-views"),
        format!("{app}-clicks"),
        format!("{app}-out"),
    );
    create_topics(&kafka, &[(&views, 3), (&clicks, 3), (&output, 3)]);
    let builder = StreamsBuilder::new();
    let views_stream = builder.stream::<String, String>(&views);
    builder
        .stream::<String, String>(&clicks)
        .join_stream(
            &views_stream,
            |click, view| format!("{click}<-{view}"),
            JoinWindows::of_time_difference_with_no_grace(Duration::from_secs(10)),
        )
        .to(&output);
    let streams = KafkaStreams::new(builder.build().unwrap(), config(&app)).unwrap();
    streams.start().unwrap();
    wait_running(&streams);
    let v: Vec<(String, String)> = (0..30)
        .map(|i| (format!("ad{i}"), format!("v{i}")))
        .collect();
    let c: Vec<(String, String)> = (0..30)
        .map(|i| (format!("ad{i}"), format!("c{i}")))
        .collect();
    produce(
        &kafka,
        &views,
        &text(
            &v.iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect::<Vec<_>>(),
        ),
    );
    produce(
        &kafka,
        &clicks,
        &text(
            &c.iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect::<Vec<_>>(),
        ),
    );
    let reader = Reader::new(&kafka, &output);
    let mut out = Vec::new();
    assert!(
        reader.read_until(&mut out, Duration::from_secs(120), |r| seen(r).len() == 30),
        "{:?}, error {:?}",
        seen(&out),
        streams.error()
    );
    let expected: std::collections::BTreeSet<String> =
        (0..30).map(|i| format!("c{i}<-v{i}")).collect();
    assert_eq!(seen(&out), expected);
    assert!(streams.close(Duration::from_secs(60)));
}
