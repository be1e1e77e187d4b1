use streams::{processor, topology};

#[processor]
fn shout(v: String) -> String {
    v.to_uppercase()
}

fn main() {
    let _ = topology! {
        source lines: <String, String> = "lines" as utf8;
        source unused: <String, String> = "unused" as utf8;
        sink out: <String, String> = "out" as utf8;
        sink never: <String, String> = "never" as utf8;
        store idle: key_value<String, i64> as utf8, default;
        lines -> out;
        shout -> out;
    };
}
