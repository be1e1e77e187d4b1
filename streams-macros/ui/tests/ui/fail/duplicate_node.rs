use streams::topology;

fn main() {
    let _ = topology! {
        source lines: <String, String> = "lines" as utf8;
        sink lines: <String, String> = "out" as utf8;
        lines -> lines;
    };
}
