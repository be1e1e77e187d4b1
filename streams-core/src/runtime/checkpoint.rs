//! A task's `.checkpoint` file: for each changelog partition of its persistent stores, the
//! offset of the last changelog record its local store is known to contain. Same text layout
//! as Kafka Streams' `OffsetCheckpoint` (version 0):
//!
//! ```text
//! 0
//! <number of entries>
//! <topic> <partition> <offset>
//! ```
//!
//! Written after commits (once enough changelog records went by, and always on clean close),
//! atomically (temp file + rename). A missing file means "restore everything"; so does a
//! corrupt one, with a warning.

use std::collections::HashMap;
use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

/// The file name inside the task directory.
pub(crate) const FILE_NAME: &str = ".checkpoint";

const VERSION: &str = "0";

/// Changelog offsets by (topic, partition).
pub(crate) type Offsets = HashMap<(String, i32), i64>;

/// The checkpoint file of a task directory.
pub(crate) fn path(task_dir: &Path) -> PathBuf {
    task_dir.join(FILE_NAME)
}

/// Reads a checkpoint; `Ok(empty)` if there is none.
pub(crate) fn read(file: &Path) -> Result<Offsets, String> {
    let text = match fs::read_to_string(file) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Offsets::new()),
        Err(e) => return Err(format!("cannot read `{}`: {e}", file.display())),
    };
    parse(&text).map_err(|e| format!("corrupt checkpoint `{}`: {e}", file.display()))
}

fn parse(text: &str) -> Result<Offsets, String> {
    let mut lines = text.lines();
    match lines.next() {
        Some(VERSION) => {}
        other => return Err(format!("unknown version {other:?}")),
    }
    let count: usize = lines
        .next()
        .and_then(|l| l.trim().parse().ok())
        .ok_or("missing entry count")?;
    let mut offsets = Offsets::with_capacity(count);
    for line in lines.by_ref().take(count) {
        let mut parts = line.rsplitn(3, ' ');
        let (Some(offset), Some(partition), Some(topic)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return Err(format!("malformed entry `{line}`"));
        };
        let partition: i32 = partition
            .parse()
            .map_err(|_| format!("bad partition in `{line}`"))?;
        let offset: i64 = offset
            .parse()
            .map_err(|_| format!("bad offset in `{line}`"))?;
        offsets.insert((topic.to_string(), partition), offset);
    }
    if offsets.len() != count {
        return Err(format!("{} entries, expected {count}", offsets.len()));
    }
    Ok(offsets)
}

/// Writes a checkpoint atomically.
pub(crate) fn write(file: &Path, offsets: &Offsets) -> io::Result<()> {
    let mut entries: Vec<_> = offsets.iter().collect();
    entries.sort();
    let mut text = format!("{VERSION}\n{}\n", entries.len());
    for ((topic, partition), offset) in entries {
        text.push_str(&format!("{topic} {partition} {offset}\n"));
    }
    if let Some(dir) = file.parent() {
        fs::create_dir_all(dir)?;
    }
    let tmp = file.with_extension("tmp");
    let mut f = fs::File::create(&tmp)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    drop(f);
    fs::rename(&tmp, file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_in_kafka_streams_layout() {
        let dir = crate::state::TempDir::new("checkpoint-test").expect("dir");
        let file = path(dir.path());
        assert!(read(&file).expect("missing is empty").is_empty());
        let mut offsets = Offsets::new();
        offsets.insert(("app-counts-changelog".to_string(), 3), 41);
        offsets.insert(("app-a b-changelog".to_string(), 3), 7);
        write(&file, &offsets).expect("write");
        assert_eq!(
            fs::read_to_string(&file).expect("text"),
            "0\n2\napp-a b-changelog 3 7\napp-counts-changelog 3 41\n"
        );
        assert_eq!(read(&file).expect("read"), offsets);
    }

    #[test]
    fn corrupt_files_are_errors() {
        for text in [
            "",
            "1\n0\n",
            "0\n2\nt 0 1\n",
            "0\n1\nt x 1\n",
            "0\n1\nt 0\n",
        ] {
            assert!(parse(text).is_err(), "{text:?} parsed");
        }
    }
}
