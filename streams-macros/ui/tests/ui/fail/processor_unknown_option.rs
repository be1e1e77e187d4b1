use streams::processor;

#[processor(nmae = "typo")]
fn shout(value: String) -> String {
    value.to_uppercase()
}

fn main() {}
