use std::time::Duration;

use streams::dsl::JoinWindows;
use streams::topology;

fn main() {
    // The table's values are `i64`, not `String`.
    let _ = topology! {
        source orders: <String, String> = "orders" as utf8;
        table customers: <String, i64> = "customers" as utf8, default;
        sink out: <String, String> = "out" as utf8;
        orders -> .join(&customers, |order: String, name: String| format!("{order} for {name}")) -> out;
    };
    // An outer join's joiner takes both values as `Option`s.
    let _ = topology! {
        source views: <String, String> = "views" as utf8;
        source clicks: <String, i64> = "clicks" as utf8, default;
        sink out: <String, String> = "out" as utf8;
        views -> .outer_join_stream(&clicks, |view: String, click: Option<i64>| format!("{view} {click:?}"), JoinWindows::of_time_difference_with_no_grace(Duration::from_secs(5)))
            -> out;
    };
}
