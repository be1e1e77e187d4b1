use streams::topology;

fn main() {
    let _ = topology! {
        source lines: <String, String> = "lines" as utf8;
        sink out: <String, String> = "out" as utf8;
        lines -> no_such_processor -> out;
    };
}
