use streams::processor;

#[processor]
fn mixed(key: &String, value: String) -> String {
    format!("{key}{value}")
}

fn main() {}
