use streams::topology;

fn main() {
    let _ = topology! {
        source views: <String, String> = "views" as utf8;
        sink out: <String, String> = "out" as utf8;
        views -> .group_by_key() -> .count() -> .to_stream() -> out;
    };
}
