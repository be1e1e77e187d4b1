use streams::topology;

fn main() {
    let _ = topology! {
        source amounts: <String, i64> = "amounts" as utf8;
        sink out: <String, i64> = "out" as utf8, default;
        amounts -> out;
    };
}
