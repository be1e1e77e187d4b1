use streams::{processor, topology};

#[processor]
fn shout(line: String) -> String {
    line.to_uppercase()
}

fn main() {
    let _ = topology! {
        source views: <String, String> = "views" as utf8;
        sink out: <String, String> = "out" as utf8;
        views -> .map_values(|page: String| page.len() as i64) -> shout -> out;
    };
}
