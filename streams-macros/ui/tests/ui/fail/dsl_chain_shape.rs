use streams::topology;

fn main() {
    let _ = topology! {
        source views: <String, String> = "views" as utf8;
        source clicks: <String, String> = "clicks" as utf8;
        sink out: <String, String> = "out" as utf8;
        views -> .filter(|_k: &String, v: &String| !v.is_empty()) -> out;
        [views, clicks] -> .peek(|_k: &String, _v: &String| {}) -> out;
        nowhere -> out;
    };
}
