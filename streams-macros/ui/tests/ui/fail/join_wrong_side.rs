use std::time::Duration;

use streams::dsl::JoinWindows;
use streams::topology;

fn main() {
    let names = vec!["ann".to_string()];
    let _ = topology! {
        source orders: <String, String> = "orders" as utf8;
        source customers: <String, String> = "customers" as utf8;
        table regions: <String, String> = "regions" as utf8;
        sink out: <String, String> = "out" as utf8;
        // A stream where a table belongs: two streams join with `.join_stream`.
        orders -> .join(&customers, |order: String, name: String| format!("{order} for {name}")) -> out;
        // A table where a stream belongs.
        customers -> .join_stream(&regions, |name: String, region: String| format!("{name} in {region}"), JoinWindows::of_time_difference_with_no_grace(Duration::from_secs(5)))
            -> out;
        // Not a stream or a table at all.
        orders -> .left_join(&names, |order: String, name: Option<String>| format!("{order} for {name:?}")) -> out;
    };
}
