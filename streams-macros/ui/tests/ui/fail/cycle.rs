use streams::{processor, topology};

#[processor]
fn a(v: String) -> String {
    v
}

#[processor]
fn b(v: String) -> String {
    v
}

fn main() {
    let _ = topology! {
        source lines: <String, String> = "lines" as utf8;
        sink out: <String, String> = "out" as utf8;
        lines -> a -> b -> out;
        b -> a;
    };
}
