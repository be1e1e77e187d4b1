use streams::error::ProcessorError;
use streams::processor::ProcessorContext;
use streams::record::Record;
use streams::state::KeyValueStore;
use streams::{processor, topology};

#[processor]
fn by_word(_line: String, word: String) -> (String, i64) {
    (word, 1)
}

#[processor]
fn count(
    word: Record<String, i64>,
    ctx: &mut ProcessorContext<'_, String, i64>,
    counts: &KeyValueStore<String, i64>,
) -> Result<(), ProcessorError> {
    let n = counts.get(&word.key)?.unwrap_or(0) + word.value;
    counts.put(&word.key, &n)?;
    ctx.forward(word.with_value(n))
}

fn main() {
    let _ = topology! {
        source lines: <String, String> = "lines" as utf8;
        sink out: <String, i64> = "out" as utf8, default;
        store counts: key_value<String, i64> as utf8, default;
        lines -> by_word -> count(counts) -> out;
    };
}
