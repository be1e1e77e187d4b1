//! The hand-written source → map → filter → sink chain shared by the driver benches.

use streams::codec::Bytes;
use streams::dsl::{Consumed, Produced, StreamsBuilder};
use streams::error::ProcessorError;
use streams::processor::{Processor, ProcessorContext};
use streams::record::Record;
use streams::topology::{Topology, TopologyBuilder};

/// Raw bytes.
pub(crate) type Bin = Vec<u8>;

/// Upper-cases ASCII in place.
pub(crate) struct Upper;

impl Processor for Upper {
    type KIn = Bin;
    type VIn = Bin;
    type KOut = Bin;
    type VOut = Bin;

    fn process(
        &mut self,
        mut r: Record<Bin, Bin>,
        ctx: &mut ProcessorContext<'_, Bin, Bin>,
    ) -> Result<(), ProcessorError> {
        r.value.make_ascii_uppercase();
        ctx.forward(r)
    }
}

/// Drops values starting with `#`.
pub(crate) struct NoComments;

impl Processor for NoComments {
    type KIn = Bin;
    type VIn = Bin;
    type KOut = Bin;
    type VOut = Bin;

    fn process(
        &mut self,
        r: Record<Bin, Bin>,
        ctx: &mut ProcessorContext<'_, Bin, Bin>,
    ) -> Result<(), ProcessorError> {
        if r.value.first() == Some(&b'#') {
            return Ok(());
        }
        ctx.forward(r)
    }
}

/// `input` → upper → no_comments → `output`, by hand.
pub(crate) fn hand_written() -> Topology {
    let mut b = TopologyBuilder::new();
    b.add_source("input", ["input"], Bytes, Bytes)
        .add_processor("upper", || Upper, ["input"])
        .add_processor("no_comments", || NoComments, ["upper"])
        .add_sink("output", "output", Bytes, Bytes, ["no_comments"]);
    b.build().expect("valid topology")
}

/// The same chain with the DSL (`map_values`, `filter`), which must cost the same per record.
#[allow(
    dead_code,
    reason = "macro_overhead shares this module and uses the hand-written chain only"
)]
pub(crate) fn dsl() -> Topology {
    let builder = StreamsBuilder::new();
    builder
        .stream_with::<Bin, Bin, _, _>("input", Consumed::with(Bytes, Bytes))
        .map_values(|mut value: Bin| {
            value.make_ascii_uppercase();
            value
        })
        .filter(|_key, value| value.first() != Some(&b'#'))
        .to_with("output", Produced::with(Bytes, Bytes));
    builder.build().expect("valid topology")
}

/// `n` records of ~70 bytes, one in ten a comment the filter drops.
pub(crate) fn records(n: usize) -> Vec<(Bin, Bin)> {
    (0..n)
        .map(|i| {
            let value = if i % 10 == 0 {
                b"#comment".to_vec()
            } else {
                format!("value-{i:08}-padding-to-64-bytes-of-payload-for-a-realistic-record")
                    .into_bytes()
            };
            (format!("key-{i}").into_bytes(), value)
        })
        .collect()
}
