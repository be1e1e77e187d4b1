//! Punctuations: periodic calls into a processor, by stream time or wall-clock time.

use std::time::Duration;

/// Which clock drives a punctuation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PunctuationType {
    /// Stream time: the highest record timestamp the task has seen. It only moves when records
    /// arrive and never goes back. The first punctuation is due at 0, so it fires as soon as the
    /// task has seen any record; then every interval.
    StreamTime,
    /// The system clock (the test driver's mock clock in tests). The first punctuation is due
    /// one interval after scheduling.
    WallClockTime,
}

/// Names a scheduled punctuation; pass it to
/// [`ProcessorContext::cancel`](super::ProcessorContext::cancel) to stop it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PunctuationId(pub(crate) u64);

/// A punctuation that is due, as handed to
/// [`Processor::punctuate`](super::Processor::punctuate).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Punctuation {
    /// Which schedule fired.
    pub id: PunctuationId,
    /// The clock's time now: the stream time or the wall-clock time, in ms. Not the due time.
    pub timestamp: i64,
    /// Which clock.
    pub kind: PunctuationType,
}

#[derive(Debug)]
struct Schedule {
    id: PunctuationId,
    node: usize,
    kind: PunctuationType,
    interval: i64,
    due: i64,
}

/// The task's scheduled punctuations, with Kafka Streams' `PunctuationSchedule` rules: when a
/// schedule fires at time `now`, its next due time is the first `due + k * interval` after `now`,
/// so intervals missed during a gap are skipped, not replayed.
#[derive(Debug, Default)]
pub(crate) struct PunctuationQueue {
    schedules: Vec<Schedule>,
    next_id: u64,
}

impl PunctuationQueue {
    pub(crate) fn schedule(
        &mut self,
        node: usize,
        interval: Duration,
        kind: PunctuationType,
        wall_clock_now: i64,
    ) -> Option<PunctuationId> {
        let interval = i64::try_from(interval.as_millis()).ok()?;
        if interval < 1 {
            return None;
        }
        let due = match kind {
            PunctuationType::StreamTime => 0,
            PunctuationType::WallClockTime => wall_clock_now.saturating_add(interval),
        };
        let id = PunctuationId(self.next_id);
        self.next_id += 1;
        self.schedules.push(Schedule {
            id,
            node,
            kind,
            interval,
            due,
        });
        Some(id)
    }

    pub(crate) fn cancel(&mut self, id: PunctuationId) {
        self.schedules.retain(|s| s.id != id);
    }

    pub(crate) fn cancel_node(&mut self, node: usize) {
        self.schedules.retain(|s| s.node != node);
    }

    /// The earliest schedule of `kind` that is due at `now`, already moved to its next due time.
    /// Returns the node to call and the punctuation to hand it.
    pub(crate) fn pop_due(
        &mut self,
        kind: PunctuationType,
        now: i64,
    ) -> Option<(usize, Punctuation)> {
        let schedule = self
            .schedules
            .iter_mut()
            .filter(|s| s.kind == kind && s.due <= now)
            .min_by_key(|s| (s.due, s.id))?;
        let next = schedule.due + schedule.interval;
        schedule.due = if now >= next {
            let missed = (now - schedule.due) / schedule.interval;
            schedule.due + (missed + 1) * schedule.interval
        } else {
            next
        };
        Some((
            schedule.node,
            Punctuation {
                id: schedule.id,
                timestamp: now,
                kind,
            },
        ))
    }
}
