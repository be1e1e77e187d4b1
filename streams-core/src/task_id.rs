//! Naming tasks.

use std::fmt;

/// A task's id: `<sub-topology>_<partition>`, as in Kafka Streams (`0_3`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskId {
    /// The sub-topology.
    pub subtopology: u32,
    /// The input partition.
    pub partition: i32,
}

impl TaskId {
    /// What the processors of global stores see as their task (they run in no task of the
    /// consumer group, but in the instance's global stream thread); shown as `global`.
    pub const GLOBAL: TaskId = TaskId {
        subtopology: u32::MAX,
        partition: -1,
    };
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == TaskId::GLOBAL {
            return f.write_str("global");
        }
        write!(f, "{}_{}", self.subtopology, self.partition)
    }
}
