use streams::topology;

fn main() {
    let _ = topology! {
        table customers: <String, String> = ["customers-eu", "customers-us"] as utf8;
        sink out: <String, Option<String>> = "out" as utf8, default;
        customers -> .to_stream() -> out;
    };
}
