use streams::processor;

#[processor]
async fn fetch(value: String) -> String {
    value
}

fn main() {}
