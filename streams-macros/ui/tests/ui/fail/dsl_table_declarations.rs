use streams::{processor, topology};

#[processor]
fn by_name(_id: String, name: String) -> (String, String) {
    (name.clone(), name)
}

fn main() {
    let _ = topology! {
        source orders: <String, String> = "orders" as utf8;
        source customers: <String, String> = "customers" as utf8;
        table names: <String, String> = "customers" as utf8;
        table orders: <String, String> = "all orders" as utf8;
        table regions: <String, String> = "regions" as utf8;
        sink out: <String, String> = "out" as utf8;

        // `by_name` is made by the next chain, which comes too late.
        orders -> .join_stream(&by_name, |o: String, n: String| o + &n, streams::dsl::JoinWindows::of_time_difference_with_no_grace(std::time::Duration::from_secs(1))) -> out;
        customers -> by_name;
        // A sink has no stream, a table reads its topic, and `regions` is used nowhere.
        orders -> .merge(&out) -> names;
    };
}
