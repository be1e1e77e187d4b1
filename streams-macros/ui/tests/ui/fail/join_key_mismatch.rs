use std::time::Duration;

use streams::dsl::JoinWindows;
use streams::topology;

fn main() {
    // A stream with a table, keyed by `String` and by `i64`.
    let _ = topology! {
        source orders: <String, String> = "orders" as utf8;
        table customers: <i64, String> = "customers" as default, utf8;
        sink out: <String, String> = "out" as utf8;
        orders -> .join(&customers, |order: String, name: String| format!("{order} for {name}")) -> out;
    };
    // Two streams.
    let _ = topology! {
        source views: <String, String> = "views" as utf8;
        source clicks: <i64, String> = "clicks" as default, utf8;
        sink out: <String, String> = "out" as utf8;
        views -> .join_stream(&clicks, |view, click| format!("{view} {click}"), JoinWindows::of_time_difference_with_no_grace(Duration::from_secs(5)))
            -> out;
    };
    // Two tables.
    let _ = topology! {
        table users: <String, String> = "users" as utf8;
        table scores: <i64, i64> = "scores" as default;
        sink out: <String, Option<String>> = "out" as utf8, default;
        users -> .left_join(&scores, |name: String, score: Option<i64>| format!("{name}: {score:?}"))
            -> .to_stream()
            -> out;
    };
}
