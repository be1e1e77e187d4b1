//! Every `#[processor]` shape compiles.
use std::time::Duration;

use streams::error::ProcessorError;
use streams::processor::{ProcessorContext, Punctuation};
use streams::record::Record;
use streams::state::KeyValueStore;
use streams::processor;

#[processor]
fn value_map(v: String) -> usize {
    v.len()
}

#[processor]
fn key_value_map(k: String, v: i64) -> (i64, String) {
    (v, k)
}

#[processor]
fn value_filter(v: &str) -> bool {
    !v.is_empty()
}

#[processor]
fn key_value_filter(k: &String, v: &i64) -> bool {
    k.len() as i64 == *v
}

#[processor]
fn value_flat_map(v: String) -> impl IntoIterator<Item = char> {
    v.chars().collect::<Vec<_>>()
}

#[processor]
fn key_value_flat_map(k: String, v: String) -> impl IntoIterator<Item = (String, String)> {
    vec![(k.clone(), v.clone()), (v, k)]
}

#[processor]
fn fallible_map(v: String) -> Result<i64, std::num::ParseIntError> {
    v.parse()
}

#[processor]
fn fallible_filter(v: &String) -> Result<bool, String> {
    if v.len() > 3 { Ok(true) } else { Err(format!("too short: {v}")) }
}

#[processor(name = "full-control", punctuate(every = Duration::from_secs(1), clock = wall_clock, call = tick))]
fn full(
    record: Record<String, i64>,
    ctx: &mut ProcessorContext<'_, String, i64>,
    totals: &KeyValueStore<String, i64>,
) -> Result<(), ProcessorError> {
    totals.put(&record.key, &record.value)?;
    ctx.forward(record)
}

fn tick(
    p: Punctuation,
    ctx: &mut ProcessorContext<'_, String, i64>,
    totals: &KeyValueStore<String, i64>,
) -> Result<(), ProcessorError> {
    let n = totals.approximate_num_entries() as i64;
    ctx.forward(Record::new("entries".into(), n, p.timestamp))
}

#[processor(crate = ::streams)]
fn with_crate_path(v: i64) -> i64 {
    v + 1
}

fn main() {
    // The functions stay plain functions.
    assert_eq!(value_map("abc".into()), 3);
    assert!(value_filter("x"));
}
