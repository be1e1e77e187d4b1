//! Every join form in `topology!`: tables declared with a `Materialized` (a versioned one for a
//! join with a grace period), the `_with` forms, a chain's `.to_table()` as the left side, a
//! processor's stream as the other side, a foreign-key left join, a table on a computed topic.
use std::time::Duration;

use streams::dsl::{JoinWindows, Joined, Materialized, StreamJoined, TableJoined};
use streams::testing::TopologyTestDriver;
use streams::{processor, topology};

#[processor]
fn by_page(_user: String, page: String) -> (String, String) {
    (page.clone(), page)
}

topology! {
    pub struct Shop(env: &str);
    source orders: <String, String> = "orders" as utf8;
    source clicks: <String, String> = "clicks" as utf8;
    source views: <String, String> = "views" as utf8;
    table prices: <String, i64> = "prices" as utf8, default
        with Materialized::named("prices").versioned(Duration::from_secs(60));
    table users: <String, String> = { format!("{env}-users") } as utf8;
    table pages: <String, String> = "pages" as utf8;
    sink priced: <String, String> = "priced" as utf8;
    sink seen: <String, Option<String>> = "seen" as utf8, default;
    sink paths: <String, String> = "paths" as utf8;
    sink owners: <String, Option<String>> = "owners" as utf8, default;
    processor views_by_page = by_page;

    orders -> .join_with(
            &prices,
            |order: String, price: i64| format!("{order} at {price}"),
            Joined::named("pricing").with_grace_period(Duration::from_secs(5)),
        )
        -> priced;
    clicks -> .to_table()
        -> .outer_join_with(
            &users,
            |click: Option<String>, user: Option<String>| format!("{click:?} by {user:?}"),
            Materialized::named("clicks-by-user"),
        )
        -> .to_stream()
        -> seen;
    views -> views_by_page;
    clicks -> .select_key(|_user: &String, page: &String| page.clone())
        -> .left_join_stream_with(
            &views_by_page,
            |click: String, view: Option<String>| format!("{click} after {view:?}"),
            JoinWindows::of_time_difference_and_grace(Duration::from_secs(10), Duration::from_secs(1)),
            StreamJoined::new().with_name("click-view"),
        )
        -> paths;
    pages -> .left_join_foreign_key_with(
            &users,
            |_page: &String, owner: &String| Some(owner.clone()),
            |owner_id: String, owner: Option<String>| format!("{owner_id}: {owner:?}"),
            TableJoined::named("page-owner"),
            Materialized::named("page-owners"),
        )
        -> .to_stream()
        -> owners;
}

fn main() {
    let app = Shop::build("test").expect("valid");
    assert_eq!(app.users.topic(), "test-users");
    let description = app.topology.describe().to_string();
    for name in ["pricing", "pricing-Buffer", "clicks-by-user", "click-view", "page-owner"] {
        assert!(description.contains(name), "{name} in {description}");
    }
    let driver = TopologyTestDriver::new(app.topology).expect("driver");
    driver
        .input(&app.pages)
        .pipe_input("home".into(), Some("ann".into()))
        .expect("piped");
    driver
        .input(&app.users)
        .pipe_input("ann".into(), Some("Ann".into()))
        .expect("piped");
    assert_eq!(
        driver.output(&app.owners).read_key_values_to_list().expect("read"),
        [
            ("home".to_string(), Some("ann: None".to_string())),
            ("home".to_string(), Some("ann: Some(\"Ann\")".to_string())),
        ]
    );
}
