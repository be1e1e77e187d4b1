use streams::topology;

fn main() {
    let _ = topology! {
        source lines: <String, String> = "my topic!" as utf8;
        sink out: <String, String> = "out" as utf8;
        lines -> out;
    };
}
