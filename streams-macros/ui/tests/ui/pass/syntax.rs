//! Every `topology!` form compiles: sources on several topics, every codec keyword, a user codec,
//! stores, chains, fan-out and fan-in groups, aliases and hand-written processors.
use streams::codec::{Codec, CodecError, I64};
use streams::error::ProcessorError;
use streams::processor::{Processor, ProcessorContext};
use streams::record::Record;
use streams::{processor, topology};

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
struct View {
    page: String,
}

/// A user codec: a `Default` type implementing `Codec`.
#[derive(Clone, Copy, Default)]
struct Reversed;

impl Codec<String> for Reversed {
    fn encode(&self, value: &String, buf: &mut Vec<u8>) -> Result<(), CodecError> {
        buf.extend(value.bytes().rev());
        Ok(())
    }
    fn decode(&self, bytes: &[u8]) -> Result<String, CodecError> {
        let mut b = bytes.to_vec();
        b.reverse();
        String::from_utf8(b).map_err(CodecError::custom)
    }
}

#[processor]
fn page(v: View) -> String {
    v.page
}

#[processor]
fn length(v: String) -> i64 {
    v.len() as i64
}

#[processor]
fn remember(
    record: Record<String, i64>,
    ctx: &mut ProcessorContext<'_, String, i64>,
    seen: &streams::state::KeyValueStore<String, i64>,
) -> Result<(), ProcessorError> {
    seen.put(&record.key, &record.value)?;
    ctx.forward(record)
}

#[derive(Default)]
struct Passthrough;

impl Processor for Passthrough {
    type KIn = String;
    type VIn = i64;
    type KOut = String;
    type VOut = i64;
    fn process(&mut self, r: Record<String, i64>, ctx: &mut ProcessorContext<'_, String, i64>) -> Result<(), ProcessorError> {
        ctx.forward(r)
    }
}

fn main() {
    let app = topology! {
        crate = ::streams;
        source views: <String, View> = ["views-a", "views-b"] as utf8, json;
        source binary_views: <String, View> = "views-bin" as utf8, bincode;
        source raw: <Vec<u8>, Vec<u8>> = "raw" as bytes;
        source reversed: <String, String> = "reversed" as Reversed;
        sink lengths: <String, i64> = "lengths" as default;
        sink totals: <String, i64> = "totals" as utf8, I64;
        sink raw_out: <Vec<u8>, Vec<u8>> = "raw-out" as bytes;
        store seen: key_value<String, i64> as utf8, default;
        processor pass: Passthrough;
        processor pass_again: Passthrough = || Passthrough;
        processor length_again = length;

        [views, binary_views] -> page -> [length -> [lengths, pass -> totals], length_again -> pass_again -> totals];
        reversed -> length;
        pass -> remember(seen) -> totals;
        raw -> raw_out;
    };
    let app = app.expect("valid");
    assert_eq!(app.views.topics(), ["views-a", "views-b"]);
    assert_eq!(app.lengths.topic(), "lengths");
    let _ = app.topology.describe();
}
