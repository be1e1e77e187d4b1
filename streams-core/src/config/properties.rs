//! Java `.properties` text: `key=value` (or `key: value`, `key value`) lines, `#`/`!` comments,
//! blank lines, `\` line continuations and the common escapes.

use std::path::Path;

use super::ConfigError;

/// Parses properties text into (key, value) pairs, in order; `origin` names the source in
/// errors.
pub(crate) fn parse(text: &str, origin: &Path) -> Result<Vec<(String, String)>, ConfigError> {
    let mut out = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((index, line)) = lines.next() {
        let start_line = index + 1;
        let first = line.trim_start();
        if first.is_empty() || first.starts_with('#') || first.starts_with('!') {
            continue;
        }
        // Join continuation lines: a line ending in an odd number of backslashes.
        let mut logical = String::from(first);
        while ends_with_continuation(&logical) {
            logical.pop();
            match lines.next() {
                Some((_, next)) => logical.push_str(next.trim_start()),
                None => break,
            }
        }
        let (key, value) = split_key_value(&logical);
        let key = unescape(key).map_err(|reason| ConfigError::Parse {
            path: origin.to_path_buf(),
            line: start_line,
            reason,
        })?;
        let value = unescape(value.trim_end()).map_err(|reason| ConfigError::Parse {
            path: origin.to_path_buf(),
            line: start_line,
            reason,
        })?;
        if key.is_empty() {
            return Err(ConfigError::Parse {
                path: origin.to_path_buf(),
                line: start_line,
                reason: "a line with a value but no key".to_string(),
            });
        }
        out.push((key, value));
    }
    Ok(out)
}

fn ends_with_continuation(line: &str) -> bool {
    line.bytes().rev().take_while(|&b| b == b'\\').count() % 2 == 1
}

/// Splits at the first unescaped `=`, `:` or whitespace; the value loses leading blanks and
/// one separator.
fn split_key_value(line: &str) -> (&str, &str) {
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'=' | b':' | b' ' | b'\t' => break,
            _ => i += 1,
        }
    }
    let i = i.min(bytes.len());
    let key = &line[..i];
    let mut rest = line[i..].trim_start_matches([' ', '\t']);
    if let Some(r) = rest.strip_prefix(['=', ':']) {
        rest = r.trim_start_matches([' ', '\t']);
    }
    (key, rest)
}

fn unescape(s: &str) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('f') => out.push('\u{c}'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                let code = u32::from_str_radix(&hex, 16)
                    .ok()
                    .and_then(char::from_u32)
                    .ok_or_else(|| format!("bad unicode escape `\\u{hex}`"))?;
                out.push(code);
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Vec<(String, String)> {
        parse(text, Path::new("<test>")).expect("parses")
    }

    #[test]
    fn forms() {
        let text = "# comment\n! also\n\napplication.id = app\nbootstrap.servers:localhost:9092\n\
                    num.stream.threads 2\n  commit.interval.ms=100  \nempty=\n";
        assert_eq!(
            p(text),
            vec![
                ("application.id".into(), "app".into()),
                ("bootstrap.servers".into(), "localhost:9092".into()),
                ("num.stream.threads".into(), "2".into()),
                ("commit.interval.ms".into(), "100".into()),
                ("empty".into(), String::new()),
            ]
        );
    }

    #[test]
    fn continuation_and_escapes() {
        let text = "sasl.jaas.config=a \\\n    b\nkey\\=x=v\\tw\nu=\\u0041\n";
        assert_eq!(
            p(text),
            vec![
                ("sasl.jaas.config".into(), "a b".into()),
                ("key=x".into(), "v\tw".into()),
                ("u".into(), "A".into()),
            ]
        );
    }

    #[test]
    fn errors_name_the_line() {
        let err = parse("a=1\n=2\n", Path::new("app.properties")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "app.properties:2: a line with a value but no key"
        );
    }
}
