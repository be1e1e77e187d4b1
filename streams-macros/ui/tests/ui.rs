//! Compile-time checks of the macros: `tests/ui/pass` must compile, and each file in
//! `tests/ui/fail` must fail with exactly the message in the `.stderr` beside it.
//!
//! The messages are pinned for the toolchain in `rust-toolchain.toml`. After an intended change,
//! regenerate them with `TRYBUILD=overwrite cargo test -p streams-macros-ui --test ui` and review
//! the diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
