//! Our codecs against the bytes and values of Kafka 4.4.0's Java serdes.
//!
//! `tests/golden/codecs.txt` was written by the real Java serdes (`tools/kafka-streams-golden`).
//! Every line for a serde we have a codec for is checked here, driven by the file: serialize
//! lines must give the same bytes, deserialize lines the same value or an error. The few places
//! where we differ from Java on purpose are listed in `KNOWN_DIFFERENCES` and asserted, not
//! skipped. Serdes we have no codec for (`NOT_COVERED`) are counted, so a new line in the file
//! cannot go unchecked silently.

use std::any::{TypeId, type_name};
use std::fmt::Debug;

use serde::{Deserialize, Serialize};
use streams_core::codec::{
    Bincode, Bool, Bytes, Codec, CodecError, DefaultCodec, F32, F64, I16, I32, I64, Json, Nullable,
    Utf8, Void,
};

// ---------------------------------------------------------------------------------------------
// The golden file
// ---------------------------------------------------------------------------------------------

/// Java serdes we have no codec for: their lines are counted but not checked.
const NOT_COVERED: &[&str] = &["UUID", "ByteBuffer"];

/// Deserialize lines (serde, input hex) where we differ from Java on purpose; each is asserted
/// by `deliberate_difference`.
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[
    // Java's StringDeserializer replaces invalid UTF-8 with U+FFFD; `Utf8` rejects it.
    ("String", "fffe41"),
];

/// What a Java serializer wrote.
#[derive(Debug)]
enum Written {
    /// These bytes (possibly none: `EMPTY`).
    Bytes(Vec<u8>),
    /// Kafka's null (`NULL`).
    Null,
}

/// What a Java deserializer returned.
#[derive(Debug)]
enum Outcome {
    /// `null`.
    Null,
    /// A value, as `<Java class>:<toString>`.
    Value { class: String, text: String },
    /// An exception.
    Error { class: String, message: String },
}

#[derive(Debug)]
enum Kind {
    Serialize {
        value: String,
        written: Written,
    },
    Deserialize {
        input: Option<Vec<u8>>,
        outcome: Outcome,
    },
}

#[derive(Debug)]
struct Line {
    number: usize,
    text: String,
    serde: String,
    kind: Kind,
}

impl Line {
    fn at(&self) -> String {
        format!("codecs.txt:{}: `{}`", self.number, self.text)
    }
}

fn hex(text: &str) -> Vec<u8> {
    assert!(text.len().is_multiple_of(2), "odd-length hex `{text}`");
    (0..text.len())
        .step_by(2)
        .map(|i| {
            u8::from_str_radix(&text[i..i + 2], 16).unwrap_or_else(|e| panic!("hex `{text}`: {e}"))
        })
        .collect()
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn parse_line(number: usize, text: &str) -> Line {
    let (serde, rest) = text
        .split_once(' ')
        .unwrap_or_else(|| panic!("line {number}: no serde name in `{text}`"));
    let kind = if let Some(rest) = rest.strip_prefix("deserialize(") {
        let (input, result) = rest
            .split_once(") ")
            .unwrap_or_else(|| panic!("line {number}: unterminated deserialize( in `{text}`"));
        let input = match input {
            "null" => None,
            "EMPTY" => Some(Vec::new()),
            h => Some(hex(h)),
        };
        let outcome = if result == "NULL" {
            Outcome::Null
        } else if let Some(error) = result.strip_prefix("ERROR:") {
            let (class, message) = error.split_once(':').unwrap_or((error, ""));
            Outcome::Error {
                class: class.to_string(),
                message: message.to_string(),
            }
        } else {
            let (class, value) = result
                .split_once(':')
                .unwrap_or_else(|| panic!("line {number}: result `{result}` is not Type:value"));
            Outcome::Value {
                class: class.to_string(),
                text: value.to_string(),
            }
        };
        Kind::Deserialize { input, outcome }
    } else {
        let (value, written) = rest
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("line {number}: no output in `{text}`"));
        let written = match written {
            "NULL" => Written::Null,
            "EMPTY" => Written::Bytes(Vec::new()),
            w if w.starts_with("ERROR:") => {
                panic!(
                    "line {number}: a serializer error is new in the golden file; handle it: `{text}`"
                )
            }
            h => Written::Bytes(hex(h)),
        };
        Kind::Serialize {
            value: value.to_string(),
            written,
        }
    };
    Line {
        number,
        text: text.to_string(),
        serde: serde.to_string(),
        kind,
    }
}

fn golden_lines() -> Vec<Line> {
    let path = format!("{}/tests/golden/codecs.txt", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut lines = text.lines().enumerate();
    let (_, header) = lines.next().expect("codecs.txt is empty");
    assert!(
        header.starts_with("# Kafka 4.4.0 serdes.") && header.contains("deserialize("),
        "unexpected header (the format may have changed): {header}"
    );
    lines
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|(i, l)| parse_line(i + 1, l))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Java values
// ---------------------------------------------------------------------------------------------

fn java_int<T>(text: &str, specials: &[(&str, T)]) -> T
where
    T: Copy + std::str::FromStr,
    T::Err: Debug,
{
    specials
        .iter()
        .find(|(name, _)| *name == text)
        .map(|(_, v)| *v)
        .unwrap_or_else(|| {
            text.parse()
                .unwrap_or_else(|e| panic!("Java integer `{text}`: {e:?}"))
        })
}

fn java_long(text: &str) -> i64 {
    java_int(
        text,
        &[("Long.MIN_VALUE", i64::MIN), ("Long.MAX_VALUE", i64::MAX)],
    )
}

fn java_integer(text: &str) -> i32 {
    java_int(
        text,
        &[
            ("Integer.MIN_VALUE", i32::MIN),
            ("Integer.MAX_VALUE", i32::MAX),
        ],
    )
}

fn java_short(text: &str) -> i16 {
    java_int(
        text,
        &[("Short.MIN_VALUE", i16::MIN), ("Short.MAX_VALUE", i16::MAX)],
    )
}

fn java_double(text: &str) -> f64 {
    match text {
        "NaN" | "Double.NaN" => f64::NAN,
        "Infinity" | "Double.POSITIVE_INFINITY" => f64::INFINITY,
        "-Infinity" | "Double.NEGATIVE_INFINITY" => f64::NEG_INFINITY,
        "Double.MAX_VALUE" => f64::MAX,
        // Java's MIN_VALUE is the smallest positive value, not the most negative one.
        "Double.MIN_VALUE" => f64::from_bits(1),
        "Double.MIN_NORMAL" => f64::MIN_POSITIVE,
        t => t
            .parse()
            .unwrap_or_else(|e| panic!("Java double `{t}`: {e}")),
    }
}

fn java_float(text: &str) -> f32 {
    match text {
        "NaN" | "Float.NaN" => f32::NAN,
        "Infinity" | "Float.POSITIVE_INFINITY" => f32::INFINITY,
        "-Infinity" | "Float.NEGATIVE_INFINITY" => f32::NEG_INFINITY,
        "Float.MAX_VALUE" => f32::MAX,
        "Float.MIN_VALUE" => f32::from_bits(1),
        "Float.MIN_NORMAL" => f32::MIN_POSITIVE,
        t => t
            .parse()
            .unwrap_or_else(|e| panic!("Java float `{t}`: {e}")),
    }
}

fn java_boolean(text: &str) -> bool {
    match text {
        "true" => true,
        "false" => false,
        t => panic!("Java boolean `{t}`"),
    }
}

/// A Java string literal as the golden file prints it: `"..."`.
fn java_string_literal(text: &str) -> String {
    text.strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or_else(|| panic!("Java string literal `{text}` is not quoted"))
        .to_string()
}

/// A Java `byte[]` literal: `{1,2,-3}`.
fn java_byte_array_literal(text: &str) -> Vec<u8> {
    let inner = text
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .unwrap_or_else(|| panic!("Java byte[] literal `{text}`"));
    inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<i8>()
                .unwrap_or_else(|e| panic!("byte `{s}`: {e}")) as u8
        })
        .collect()
}

/// `Arrays`-free printing of a deserialized `byte[]` by the golden tool: `EMPTY` or hex.
fn java_bytes_value(text: &str) -> Vec<u8> {
    if text == "EMPTY" {
        Vec::new()
    } else {
        hex(text)
    }
}

/// Kafka's `Bytes.toString()`: printable ASCII as is (except `\`), everything else `\xHH`.
fn java_kafka_bytes_to_string(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && bytes.get(i + 1) == Some(&b'x') {
            out.push(u8::from_str_radix(&text[i + 2..i + 4], 16).expect("\\xHH"));
            i += 4;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

/// Equality that treats floats by bits (so NaN equals NaN and -0.0 differs from 0.0).
trait Same {
    fn same(&self, other: &Self) -> bool;
}

macro_rules! same_by_eq {
    ($($t:ty),*) => {$(impl Same for $t {
        fn same(&self, other: &Self) -> bool { self == other }
    })*};
}
same_by_eq!(i16, i32, i64, bool, String, Vec<u8>);

impl Same for f64 {
    fn same(&self, other: &Self) -> bool {
        self.to_bits() == other.to_bits() || (self.is_nan() && other.is_nan())
    }
}

impl Same for f32 {
    fn same(&self, other: &Self) -> bool {
        self.to_bits() == other.to_bits() || (self.is_nan() && other.is_nan())
    }
}

// ---------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------

fn encoded<T, C: Codec<T>>(codec: &C, value: &T) -> Option<Vec<u8>> {
    let mut buf = vec![0xAA; 3]; // encode_nullable must clear the buffer first
    codec
        .encode_nullable(value, &mut buf)
        .unwrap_or_else(|e| panic!("encoding failed: {e}"))
        .map(<[u8]>::to_vec)
}

fn show(bytes: &Option<Vec<u8>>) -> String {
    match bytes {
        Some(b) if b.is_empty() => "EMPTY".to_string(),
        Some(b) => to_hex(b),
        None => "NULL".to_string(),
    }
}

/// A serialize line: Java's value `text` (`null` = Java null) through `codec` must give the
/// bytes Java wrote; the same value through `Nullable(codec)` too.
fn check_serialize<T, C>(
    line: &Line,
    codec: C,
    value: &str,
    written: &Written,
    parse: fn(&str) -> T,
) where
    T: Debug,
    C: Codec<T>,
{
    let expected = match written {
        Written::Bytes(b) => Some(b.clone()),
        Written::Null => None,
    };
    let nullable = Nullable(codec.clone());
    if value == "null" {
        let actual = encoded(&nullable, &None::<T>);
        assert_eq!(
            show(&actual),
            show(&expected),
            "{}: Nullable(..) of None",
            line.at()
        );
        return;
    }
    let value = parse(value);
    let actual = encoded(&codec, &value);
    assert_eq!(show(&actual), show(&expected), "{}: {value:?}", line.at());
    let actual = encoded(&nullable, &Some(value));
    assert_eq!(
        show(&actual),
        show(&expected),
        "{}: Nullable(..) of Some",
        line.at()
    );
}

/// The error a Java exception message stands for, for input of `len` bytes.
fn assert_error_matches(line: &Line, error: &CodecError, java_message: &str, len: usize) {
    // Java throws SerializationException for bad data, IllegalArgumentException for Void.
    if let Some(rest) = java_message.strip_prefix("Size of data received by ") {
        let expected: usize = rest
            .rsplit_once("is not ")
            .and_then(|(_, n)| n.trim().parse().ok())
            .unwrap_or_else(|| panic!("{}: size message `{java_message}`", line.at()));
        assert!(
            matches!(error, CodecError::Size { expected: e, actual, .. } if *e == expected && *actual == len),
            "{}: expected CodecError::Size {{ expected: {expected}, actual: {len} }}, got {error:?}",
            line.at()
        );
    } else if let Some(byte) =
        java_message.strip_prefix("Unexpected byte received by BooleanDeserializer: ")
    {
        let byte: u8 = byte.trim().parse().expect("byte");
        assert!(
            matches!(error, CodecError::Bool(b) if *b == byte),
            "{}: expected CodecError::Bool({byte}), got {error:?}",
            line.at()
        );
    } else if java_message.starts_with("Data should be null for a VoidDeserializer") {
        assert!(
            matches!(error, CodecError::NotNull(n) if *n == len),
            "{}: expected CodecError::NotNull({len}), got {error:?}",
            line.at()
        );
    } else {
        panic!(
            "{}: a Java error we have no mapping for: `{java_message}`",
            line.at()
        );
    }
}

/// A deserialize line for a codec of a non-null type `T` (Java class `java_class`).
fn check_deserialize<T, C>(
    line: &Line,
    codec: C,
    input: Option<&[u8]>,
    outcome: &Outcome,
    java_class: &str,
    parse: fn(&str) -> T,
) where
    T: Debug + Same + 'static,
    C: Codec<T>,
{
    let nullable = Nullable(codec.clone());
    let ours = codec.decode_nullable(input);
    let ours_nullable = nullable.decode_nullable(input);
    match outcome {
        Outcome::Null => {
            assert!(
                input.is_none(),
                "{}: Java gave null for non-null input",
                line.at()
            );
            // Deliberate difference: Java turns null into null; a non-Option type cannot.
            match ours {
                Err(CodecError::Null { type_name: t }) => {
                    assert_eq!(t, type_name::<T>(), "{}", line.at())
                }
                other => panic!("{}: expected CodecError::Null, got {other:?}", line.at()),
            }
            assert!(
                matches!(ours_nullable, Ok(None)),
                "{}: Nullable(..) must map null to None, got {ours_nullable:?}",
                line.at()
            );
        }
        Outcome::Value { class, text } => {
            assert_eq!(class, java_class, "{}: Java class", line.at());
            let expected = parse(text);
            match ours {
                Ok(v) => assert!(
                    v.same(&expected),
                    "{}: got {v:?}, Java {expected:?}",
                    line.at()
                ),
                Err(e) => panic!("{}: Java gave {expected:?}, we failed: {e}", line.at()),
            }
            match ours_nullable {
                Ok(Some(v)) => assert!(v.same(&expected), "{}: Nullable got {v:?}", line.at()),
                other => panic!("{}: Nullable(..) gave {other:?}", line.at()),
            }
        }
        Outcome::Error { class, message } => {
            assert!(
                class.ends_with("SerializationException")
                    || class.ends_with("IllegalArgumentException"),
                "{}: unexpected Java exception {class}",
                line.at()
            );
            let len = input.map_or(0, <[u8]>::len);
            match ours {
                Err(e) => assert_error_matches(line, &e, message, len),
                Ok(v) => panic!("{}: Java failed ({message}), we decoded {v:?}", line.at()),
            }
            match ours_nullable {
                Err(e) => assert_error_matches(line, &e, message, len),
                Ok(v) => panic!("{}: Java failed, Nullable(..) decoded {v:?}", line.at()),
            }
        }
    }
}

fn check_void_deserialize(line: &Line, input: Option<&[u8]>, outcome: &Outcome) {
    let ours = Void.decode_nullable(input);
    match outcome {
        Outcome::Null => assert!(matches!(ours, Ok(())), "{}: got {ours:?}", line.at()),
        Outcome::Error { message, .. } => match ours {
            Err(e) => assert_error_matches(line, &e, message, input.map_or(0, <[u8]>::len)),
            Ok(()) => panic!("{}: Java failed, Void accepted", line.at()),
        },
        Outcome::Value { .. } => panic!("{}: Java's Void gave a value", line.at()),
    }
}

/// A known, deliberate difference: asserted here.
fn deliberate_difference(line: &Line, input: Option<&[u8]>, outcome: &Outcome) {
    match (line.serde.as_str(), outcome) {
        ("String", Outcome::Value { class, text }) => {
            assert_eq!(class, "String", "{}", line.at());
            assert!(
                text.contains('\u{FFFD}'),
                "{}: Java is expected to replace invalid UTF-8 with U+FFFD",
                line.at()
            );
            let ours = Utf8.decode_nullable(input);
            assert!(
                matches!(ours, Err(CodecError::Utf8(_))),
                "{}: Utf8 must reject invalid UTF-8, got {ours:?}",
                line.at()
            );
            let ours = Nullable(Utf8).decode_nullable(input);
            assert!(
                matches!(ours, Err(CodecError::Utf8(_))),
                "{}: got {ours:?}",
                line.at()
            );
        }
        _ => panic!(
            "{}: listed as a known difference but not asserted",
            line.at()
        ),
    }
}

#[derive(Debug, Default)]
struct Tally {
    serialize: usize,
    deserialize: usize,
    differences: usize,
    not_covered: usize,
}

/// Checks one line; returns what kind of check it got.
fn check_line(line: &Line, tally: &mut Tally) {
    if NOT_COVERED.contains(&line.serde.as_str()) {
        tally.not_covered += 1;
        return;
    }
    match &line.kind {
        Kind::Serialize { value, written } => {
            tally.serialize += 1;
            match line.serde.as_str() {
                "Long" => check_serialize(line, I64, value, written, java_long),
                "Integer" => check_serialize(line, I32, value, written, java_integer),
                "Short" => check_serialize(line, I16, value, written, java_short),
                "Double" => check_serialize(line, F64, value, written, java_double),
                "Float" => check_serialize(line, F32, value, written, java_float),
                "Boolean" => check_serialize(line, Bool, value, written, java_boolean),
                "String" => check_serialize(line, Utf8, value, written, java_string_literal),
                // Kafka's `Bytes` wrapper has the same wire format as `byte[]`.
                "ByteArray" | "Bytes" => {
                    check_serialize(line, Bytes, value, written, java_byte_array_literal)
                }
                "Void" => {
                    assert_eq!(value, "null", "{}: Void only has null", line.at());
                    let actual = encoded(&Void, &());
                    let expected = match written {
                        Written::Null => None,
                        Written::Bytes(b) => Some(b.clone()),
                    };
                    assert_eq!(show(&actual), show(&expected), "{}", line.at());
                }
                other => panic!("{}: unknown serde `{other}`", line.at()),
            }
        }
        Kind::Deserialize { input, outcome } => {
            let input = input.as_deref();
            if let Some(h) = input.map(to_hex)
                && KNOWN_DIFFERENCES.contains(&(line.serde.as_str(), h.as_str()))
            {
                tally.differences += 1;
                deliberate_difference(line, input, outcome);
                return;
            }
            tally.deserialize += 1;
            match line.serde.as_str() {
                "Long" => check_deserialize(line, I64, input, outcome, "Long", java_long),
                "Integer" => check_deserialize(line, I32, input, outcome, "Integer", java_integer),
                "Short" => check_deserialize(line, I16, input, outcome, "Short", java_short),
                "Double" => check_deserialize(line, F64, input, outcome, "Double", java_double),
                "Float" => check_deserialize(line, F32, input, outcome, "Float", java_float),
                "Boolean" => check_deserialize(line, Bool, input, outcome, "Boolean", java_boolean),
                "String" => check_deserialize(line, Utf8, input, outcome, "String", str::to_string),
                "ByteArray" => {
                    check_deserialize(line, Bytes, input, outcome, "bytes", java_bytes_value)
                }
                "Bytes" => check_deserialize(
                    line,
                    Bytes,
                    input,
                    outcome,
                    "Bytes",
                    java_kafka_bytes_to_string,
                ),
                "Void" => check_void_deserialize(line, input, outcome),
                other => panic!("{}: unknown serde `{other}`", line.at()),
            }
        }
    }
}

#[test]
fn every_golden_line_matches_java_or_is_a_listed_difference() {
    let lines = golden_lines();
    let mut tally = Tally::default();
    for line in &lines {
        check_line(line, &mut tally);
    }
    assert_eq!(
        tally.serialize + tally.deserialize + tally.differences + tally.not_covered,
        lines.len()
    );
    assert_eq!(
        tally.differences,
        KNOWN_DIFFERENCES.len(),
        "every known difference must still be in the golden file: {tally:?}"
    );
    // The file as of Kafka 4.4.0: make sure the checks actually ran.
    assert!(tally.serialize >= 30, "{tally:?}");
    assert!(tally.deserialize >= 30, "{tally:?}");
}

#[test]
fn only_uuid_and_bytebuffer_lines_are_not_covered() {
    let lines = golden_lines();
    let mut uncovered: Vec<&str> = lines
        .iter()
        .map(|l| l.serde.as_str())
        .filter(|s| NOT_COVERED.contains(s))
        .collect();
    uncovered.sort_unstable();
    uncovered.dedup();
    assert_eq!(uncovered, ["ByteBuffer", "UUID"]);
    // Every other serde in the file is one we check.
    for line in &lines {
        assert!(
            NOT_COVERED.contains(&line.serde.as_str())
                || [
                    "Long",
                    "Integer",
                    "Short",
                    "Double",
                    "Float",
                    "Boolean",
                    "String",
                    "ByteArray",
                    "Bytes",
                    "Void"
                ]
                .contains(&line.serde.as_str()),
            "{}",
            line.at()
        );
    }
}

#[test]
fn serialize_lines_compare_real_bytes() {
    // A sanity check that the data-driven comparison can fail: a wrong value gives other bytes.
    let lines = golden_lines();
    let line = lines
        .iter()
        .find(|l| {
            l.serde == "Long" && matches!(&l.kind, Kind::Serialize { value, .. } if value == "42")
        })
        .expect("`Long 42` line");
    let Kind::Serialize {
        written: Written::Bytes(expected),
        ..
    } = &line.kind
    else {
        panic!("{}", line.at());
    };
    assert_eq!(encoded(&I64, &42).as_deref(), Some(&expected[..]));
    assert_ne!(encoded(&I64, &43).as_deref(), Some(&expected[..]));
    assert_ne!(encoded(&I32, &42).as_deref(), Some(&expected[..]));
}

// ---------------------------------------------------------------------------------------------
// Deliberate differences, spelled out
// ---------------------------------------------------------------------------------------------

#[test]
fn invalid_utf8_is_an_error_where_java_replaces_it() {
    let bytes = [0xff, 0xfe, 0x41];
    assert!(matches!(Utf8.decode(&bytes), Err(CodecError::Utf8(_))));
    assert!(matches!(
        Nullable(Utf8).decode(&bytes),
        Err(CodecError::Utf8(_))
    ));
    // A truncated multi-byte sequence too.
    assert!(matches!(
        Utf8.decode(&[0x68, 0xc3]),
        Err(CodecError::Utf8(_))
    ));
}

fn assert_null_error<T: Debug + 'static, C: Codec<T>>(codec: C) {
    match codec.decode_nullable(None) {
        Err(CodecError::Null { type_name: t }) => assert_eq!(t, type_name::<T>()),
        other => panic!(
            "{}: expected CodecError::Null, got {other:?}",
            type_name::<T>()
        ),
    }
    let err = codec.decode_null().unwrap_err();
    assert!(err.to_string().contains("Option<_>"), "{err}");
}

#[test]
fn null_is_an_error_for_non_option_types() {
    assert_null_error::<i64, _>(I64);
    assert_null_error::<i32, _>(I32);
    assert_null_error::<i16, _>(I16);
    assert_null_error::<f64, _>(F64);
    assert_null_error::<f32, _>(F32);
    assert_null_error::<bool, _>(Bool);
    assert_null_error::<String, _>(Utf8);
    assert_null_error::<Vec<u8>, _>(Bytes);
    assert_null_error::<Probe, _>(Json::<Probe>::new());
    assert_null_error::<Probe, _>(Bincode::<Probe>::new());
}

#[test]
fn nullable_maps_null_to_none_and_none_to_null() {
    assert_eq!(Nullable(Utf8).decode_nullable(None).unwrap(), None);
    assert_eq!(Nullable(I64).decode_nullable(None).unwrap(), None::<i64>);
    assert_eq!(Nullable(Bytes).decode_nullable(None).unwrap(), None);
    assert_eq!(
        Nullable(Json::<Probe>::new())
            .decode_nullable(None)
            .unwrap(),
        None
    );
    assert_eq!(
        Nullable(Utf8).decode_nullable(Some(b"")).unwrap(),
        Some(String::new()),
        "empty bytes are an empty string, not null"
    );
    assert_eq!(encoded(&Nullable(Utf8), &None), None);
    assert_eq!(
        encoded(&Nullable(Utf8), &Some(String::new())),
        Some(Vec::new())
    );
    assert!(Nullable(I32).is_null(&None::<i32>));
    assert!(!Nullable(I32).is_null(&Some(0_i32)));
}

#[test]
fn void_is_null_both_ways_like_java() {
    assert!(matches!(Void.decode_nullable(None), Ok(())));
    assert!(matches!(Void.decode(&[]), Err(CodecError::NotNull(0))));
    assert!(matches!(
        Void.decode_nullable(Some(&[1])),
        Err(CodecError::NotNull(1))
    ));
    assert_eq!(encoded(&Void, &()), None);
    assert!(Void.is_null(&()));
}

// ---------------------------------------------------------------------------------------------
// Serde codecs
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Probe {
    id: u32,
    name: String,
    tags: Vec<u8>,
    score: Option<i64>,
}

fn probe() -> Probe {
    Probe {
        id: 7,
        name: "ab".to_string(),
        tags: vec![1],
        score: None,
    }
}

#[test]
fn json_round_trips_a_struct_with_the_expected_bytes() {
    let codec = Json::<Probe>::new();
    let bytes = encoded(&codec, &probe()).unwrap();
    assert_eq!(
        String::from_utf8(bytes.clone()).unwrap(),
        r#"{"id":7,"name":"ab","tags":[1],"score":null}"#
    );
    assert_eq!(codec.decode(&bytes).unwrap(), probe());
    let with_score = Probe {
        score: Some(-3),
        ..probe()
    };
    assert_eq!(
        codec
            .decode(&encoded(&codec, &with_score).unwrap())
            .unwrap(),
        with_score
    );
}

#[test]
fn json_rejects_malformed_and_mistyped_input() {
    let codec = Json::<Probe>::new();
    for bad in [
        &b"{not json"[..],
        b"",
        br#"{"id":7,"name":"ab","tags":[1]"#,
        br#"{"id":"seven","name":"ab","tags":[],"score":null}"#,
        br#"{"name":"ab","tags":[],"score":null}"#,
        br#"{"id":7,"name":"ab","tags":[],"score":null} trailing"#,
    ] {
        let result = codec.decode(bad);
        assert!(
            matches!(result, Err(CodecError::Json(_))),
            "{:?} gave {result:?}",
            String::from_utf8_lossy(bad)
        );
    }
}

#[test]
fn bincode_round_trips_a_struct_with_standard_config_bytes() {
    let codec = Bincode::<Probe>::new();
    let bytes = encoded(&codec, &probe()).unwrap();
    // Standard config: varint lengths and integers, `None` as 0.
    assert_eq!(bytes, [7, 2, b'a', b'b', 1, 1, 0]);
    assert_eq!(codec.decode(&bytes).unwrap(), probe());
    let big = Probe {
        id: u32::MAX,
        name: "é".repeat(300),
        tags: (0..=255).collect(),
        score: Some(i64::MIN),
    };
    assert_eq!(codec.decode(&encoded(&codec, &big).unwrap()).unwrap(), big);
}

#[test]
fn bincode_rejects_trailing_garbage() {
    let codec = Bincode::<Probe>::new();
    let mut bytes = encoded(&codec, &probe()).unwrap();
    bytes.extend_from_slice(&[0xde, 0xad]);
    match codec.decode(&bytes) {
        Err(CodecError::TrailingBytes {
            type_name: t,
            remaining,
        }) => {
            assert_eq!(remaining, 2);
            assert_eq!(t, type_name::<Probe>());
        }
        other => panic!("expected TrailingBytes, got {other:?}"),
    }
}

#[test]
fn bincode_rejects_truncated_input() {
    let codec = Bincode::<Probe>::new();
    let bytes = encoded(&codec, &probe()).unwrap();
    for cut in 0..bytes.len() {
        let result = codec.decode(&bytes[..cut]);
        assert!(
            matches!(result, Err(CodecError::Bincode(_))),
            "{cut} bytes gave {result:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Default codecs
// ---------------------------------------------------------------------------------------------

fn codec_of<T: DefaultCodec>() -> TypeId
where
    T::Codec: 'static,
{
    TypeId::of::<T::Codec>()
}

#[test]
fn default_codec_picks_the_java_compatible_codec() {
    assert_eq!(codec_of::<String>(), TypeId::of::<Utf8>());
    assert_eq!(codec_of::<Vec<u8>>(), TypeId::of::<Bytes>());
    assert_eq!(codec_of::<i16>(), TypeId::of::<I16>());
    assert_eq!(codec_of::<i32>(), TypeId::of::<I32>());
    assert_eq!(codec_of::<i64>(), TypeId::of::<I64>());
    assert_eq!(codec_of::<f32>(), TypeId::of::<F32>());
    assert_eq!(codec_of::<f64>(), TypeId::of::<F64>());
    assert_eq!(codec_of::<bool>(), TypeId::of::<Bool>());
    assert_eq!(codec_of::<()>(), TypeId::of::<Void>());
    assert_eq!(codec_of::<Option<String>>(), TypeId::of::<Nullable<Utf8>>());
    assert_eq!(codec_of::<Option<i64>>(), TypeId::of::<Nullable<I64>>());
    assert_eq!(
        codec_of::<Option<Option<Vec<u8>>>>(),
        TypeId::of::<Nullable<Nullable<Bytes>>>()
    );
}

#[test]
fn default_codecs_encode_like_java() {
    assert_eq!(encoded(&i64::codec(), &-1_i64), Some(vec![0xff; 8]));
    assert_eq!(encoded(&i32::codec(), &42_i32), Some(vec![0, 0, 0, 42]));
    assert_eq!(encoded(&i16::codec(), &-2_i16), Some(vec![0xff, 0xfe]));
    assert_eq!(
        encoded(&f64::codec(), &1.5_f64),
        Some(hex("3ff8000000000000"))
    );
    assert_eq!(encoded(&f32::codec(), &-0.0_f32), Some(hex("80000000")));
    assert_eq!(encoded(&bool::codec(), &true), Some(vec![1]));
    assert_eq!(
        encoded(&String::codec(), &"hello".to_string()),
        Some(b"hello".to_vec())
    );
    assert_eq!(
        encoded(&<Vec<u8>>::codec(), &vec![1, 2, 3]),
        Some(vec![1, 2, 3])
    );
    assert_eq!(encoded(&<()>::codec(), &()), None);
    assert_eq!(encoded(&<Option<String>>::codec(), &None), None);
    assert_eq!(
        encoded(&<Option<i32>>::codec(), &Some(1_i32)),
        Some(vec![0, 0, 0, 1])
    );
}
