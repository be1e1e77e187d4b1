use streams::dsl::{BufferConfig, Suppressed};
use streams::topology;

fn main() {
    let _ = topology! {
        source views: <String, String> = "views" as utf8;
        sink out: <String, Option<i64>> = "out" as utf8, default;
        views -> .group_by_key()
            -> .count()
            -> .suppress(Suppressed::until_window_closes(BufferConfig::unbounded()))
            -> .to_stream()
            -> out;
    };
}
