use streams::{processor, topology};

#[processor]
fn shout(line: String) -> String {
    line.to_uppercase()
}

fn build() -> Result<streams::topology::Topology, Box<dyn std::error::Error>> {
    let app = topology! {
        source lines: <String, String> = "lines" as utf8;
        sink out: <String, String> = "out" as utf8;
        sink unused: <String, String> = "unused" as utf8;
        lines -> shout -> out;
    }?;
    let _handle = &app.out;
    Ok(app.topology)
}

fn main() {
    let _ = build();
}
