use streams::{processor, topology};

#[processor]
fn length(v: String) -> i64 {
    v.len() as i64
}

#[processor]
fn shout(v: String) -> String {
    v.to_uppercase()
}

fn main() {
    let _ = topology! {
        source lines: <String, String> = "lines" as utf8;
        sink out: <String, String> = "out" as utf8;
        lines -> length -> shout -> out;
    };
}
