use streams::error::ProcessorError;
use streams::processor::ProcessorContext;
use streams::record::Record;
use streams::state::KeyValueStore;
use streams::{processor, topology};

#[processor]
fn count(
    r: Record<String, String>,
    ctx: &mut ProcessorContext<'_, String, i64>,
    counts: &KeyValueStore<String, i64>,
) -> Result<(), ProcessorError> {
    let n = counts.get(&r.key)?.unwrap_or(0) + 1;
    counts.put(&r.key, &n)?;
    ctx.forward(r.with_value(n))
}

fn main() {
    let _ = topology! {
        source lines: <String, String> = "lines" as utf8;
        sink out: <String, i64> = "out" as utf8, default;
        store counts: key_value<String, String> as utf8;
        lines -> count(counts) -> out;
    };
}
