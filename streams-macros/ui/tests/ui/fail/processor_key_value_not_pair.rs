use streams::processor;

#[processor]
fn joined(key: String, value: String) -> String {
    key + &value
}

fn main() {}
