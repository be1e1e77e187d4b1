//! The item form: a nameable struct that helper functions can return, with its handles.
use streams::testing::TopologyTestDriver;
use streams::topology::TopologyErrors;
use streams::{processor, topology};

#[processor]
fn shout(line: String) -> String {
    line.to_uppercase()
}

topology! {
    pub struct Shouting(input: &str, output: &str);
    source lines: <String, String> = { input } as utf8;
    sink loud: <String, String> = { output } as utf8;
    lines -> shout -> loud;
}

fn app() -> Result<Shouting, TopologyErrors> {
    Shouting::build("lines", "loud")
}

fn main() {
    let app = app().expect("valid");
    let driver = TopologyTestDriver::new(app.topology).expect("driver");
    driver
        .input(&app.lines)
        .pipe_input("k".into(), "hi".into())
        .expect("piped");
    assert_eq!(driver.output(&app.loud).read_value().expect("read"), "HI");
}
