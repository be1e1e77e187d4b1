use streams::topology;

#[derive(Clone)]
struct PageView {
    page: String,
}

fn main() {
    let _ = topology! {
        source views: <String, PageView> = "views" as utf8, json;
        sink out: <String, PageView> = "out" as utf8, json;
        views -> out;
    };
}
