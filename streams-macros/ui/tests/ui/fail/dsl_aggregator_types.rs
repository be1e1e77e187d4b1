use streams::topology;

fn main() {
    let _ = topology! {
        source views: <String, String> = "views" as utf8;
        sink out: <String, Option<i64>> = "out" as utf8, default;
        views -> .group_by_key()
            -> .aggregate(|| 0i64, |_user: &String, page: String, total: i64| page)
            -> .to_stream()
            -> out;
    };
}
