use streams::processor;

#[processor]
fn len(value: &String) -> usize {
    value.len()
}

fn main() {}
