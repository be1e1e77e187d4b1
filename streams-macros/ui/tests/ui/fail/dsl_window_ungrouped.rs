use std::time::Duration;

use streams::dsl::TimeWindows;
use streams::topology;

fn main() {
    let _ = topology! {
        source views: <String, String> = "views" as utf8;
        sink out: <String, String> = "out" as utf8;
        views -> .windowed_by(TimeWindows::of_size_with_no_grace(Duration::from_secs(60)))
            -> .count()
            -> .to_stream()
            -> out;
    };
}
