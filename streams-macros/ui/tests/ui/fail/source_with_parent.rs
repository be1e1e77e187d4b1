use streams::topology;

fn main() {
    let _ = topology! {
        source first: <String, String> = "first" as utf8;
        source second: <String, String> = "second" as utf8;
        sink out: <String, String> = "out" as utf8;
        first -> second -> out;
        out -> first;
    };
}
