use streams::topology;

fn main() {
    let _ = topology! {
        source orders: <String, String> = "orders" as utf8;
        table customers: <String, String> = "customers" as utf8;
        sink out: <String, String> = "out" as utf8;
        orders -> .group_by_key() -> .join(&customers, |order: String, name: String| format!("{order} for {name}")) -> out;
    };
}
