//! Lifecycle states of an application and of its stream threads, with Kafka Streams'
//! transitions, and the shared cell the threads report to.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tracing::info;

use super::RuntimeError;
use super::metrics::ThreadMetrics;

/// The state of a [`KafkaStreams`](super::KafkaStreams) instance — Kafka Streams'
/// `KafkaStreams.State`.
///
/// ```text
/// Created ──start──▶ Rebalancing ◀──▶ Running
///    │                   │               │
///    └───────close───────┴──▶ PendingShutdown ──▶ NotRunning
///                        │               │
///                        └──thread error─┴──▶ PendingError ──▶ Error
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StreamsState {
    /// Built, not started.
    Created,
    /// Threads are joining the group or taking over tasks.
    Rebalancing,
    /// Every thread is processing its tasks.
    Running,
    /// `close` was called; threads are committing and stopping.
    PendingShutdown,
    /// Closed cleanly.
    NotRunning,
    /// A thread failed; the others are stopping.
    PendingError,
    /// A thread failed and every thread has stopped; see
    /// [`KafkaStreams::error`](super::KafkaStreams::error).
    Error,
}

impl StreamsState {
    /// Whether the instance is started and not closing: `Rebalancing` or `Running`.
    pub fn is_running_or_rebalancing(self) -> bool {
        matches!(self, StreamsState::Rebalancing | StreamsState::Running)
    }

    /// Whether Kafka Streams allows going from `self` to `next`.
    pub fn can_transition_to(self, next: StreamsState) -> bool {
        use StreamsState::*;
        matches!(
            (self, next),
            (Created, Rebalancing | PendingShutdown | PendingError)
                | (Rebalancing, Running | PendingShutdown | PendingError)
                | (Running, Rebalancing | PendingShutdown | PendingError)
                | (PendingShutdown, NotRunning)
                | (PendingError, Error)
        )
    }
}

/// A stream thread's state — Kafka Streams' `StreamThread.State`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ThreadState {
    /// Joining the group.
    Starting,
    /// Tasks revoked, waiting for the new assignment.
    PartitionsRevoked,
    /// Assignment received, tasks being created.
    PartitionsAssigned,
    /// Processing.
    Running,
    /// Committing and closing.
    PendingShutdown,
    /// Stopped.
    Dead,
}

type Listener = Box<dyn Fn(StreamsState, StreamsState) + Send + Sync>;

/// The application's state, its threads' states and metrics, and the first error.
pub(crate) struct Inner {
    pub(crate) state: StreamsState,
    pub(crate) threads: Vec<ThreadState>,
    pub(crate) metrics: Vec<ThreadMetrics>,
    pub(crate) error: Option<Arc<RuntimeError>>,
    /// How many times the application went into `Rebalancing`: a query compares it before and
    /// after, to notice tasks that moved while it ran.
    pub(crate) rebalances: u64,
}

/// What the application and its threads share.
pub(crate) struct Shared {
    inner: Mutex<Inner>,
    changed: Condvar,
    /// Held across a transition and its listener call, so listeners see transitions in order.
    listener: Mutex<Option<Listener>>,
}

impl Shared {
    pub(crate) fn new() -> Self {
        Shared {
            inner: Mutex::new(Inner {
                state: StreamsState::Created,
                threads: Vec::new(),
                metrics: Vec::new(),
                error: None,
                rebalances: 0,
            }),
            changed: Condvar::new(),
            listener: Mutex::new(None),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn state(&self) -> StreamsState {
        self.lock().state
    }

    pub(crate) fn set_listener(&self, listener: Listener) {
        *self.listener.lock().unwrap_or_else(|p| p.into_inner()) = Some(listener);
    }

    /// Applies `f` to the shared state; if it changed the application state (along a valid
    /// transition), logs it, calls the listener and wakes waiters.
    pub(crate) fn update<R>(&self, f: impl FnOnce(&mut Inner) -> R) -> R {
        let listener = self.listener.lock().unwrap_or_else(|p| p.into_inner());
        let (result, change) = {
            let mut inner = self.lock();
            let old = inner.state;
            let result = f(&mut inner);
            derive_app_state(&mut inner);
            if old != inner.state && inner.state == StreamsState::Rebalancing {
                inner.rebalances += 1;
            }
            (result, (old != inner.state).then_some((old, inner.state)))
        };
        self.changed.notify_all();
        if let Some((old, new)) = change {
            info!(from = ?old, to = ?new, "state transition");
            if let Some(listener) = listener.as_ref() {
                listener(new, old);
            }
        }
        result
    }

    /// A failure that shuts this instance down: the first one is kept as the error, and the
    /// state goes to `PendingError` (then `Error` once every thread has stopped). The caller
    /// stops the threads.
    pub(crate) fn fail(&self, error: RuntimeError) {
        self.update(|inner| {
            if inner.error.is_none() {
                inner.error = Some(Arc::new(error));
            }
            if inner.state.can_transition_to(StreamsState::PendingError) {
                inner.state = StreamsState::PendingError;
            }
        });
    }

    /// Moves the application to `next` if that transition is valid; returns whether it did.
    pub(crate) fn transition(&self, next: StreamsState) -> bool {
        self.update(|inner| {
            if inner.state.can_transition_to(next) {
                inner.state = next;
                true
            } else {
                false
            }
        })
    }

    pub(crate) fn set_thread_state(&self, thread: usize, state: ThreadState) {
        self.update(|inner| {
            if let Some(slot) = inner.threads.get_mut(thread) {
                *slot = state;
            }
        });
    }

    /// Waits until `done(inner)` or the deadline; returns whether `done` held.
    pub(crate) fn wait_until(&self, deadline: Instant, done: impl Fn(&Inner) -> bool) -> bool {
        let mut inner = self.lock();
        loop {
            if done(&inner) {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            let wait = (deadline - now).min(Duration::from_millis(100));
            inner = match self.changed.wait_timeout(inner, wait) {
                Ok((guard, _)) => guard,
                Err(p) => p.into_inner().0,
            };
        }
    }
}

/// The application state implied by the threads' states, as Kafka Streams derives it.
fn derive_app_state(inner: &mut Inner) {
    let alive = || inner.threads.iter().filter(|t| **t != ThreadState::Dead);
    let next = match inner.state {
        StreamsState::Rebalancing | StreamsState::Running => {
            if alive().any(|t| {
                matches!(
                    t,
                    ThreadState::Starting
                        | ThreadState::PartitionsRevoked
                        | ThreadState::PartitionsAssigned
                )
            }) {
                StreamsState::Rebalancing
            } else if alive().count() > 0 && alive().all(|t| *t == ThreadState::Running) {
                StreamsState::Running
            } else {
                inner.state
            }
        }
        StreamsState::PendingError if alive().count() == 0 => StreamsState::Error,
        state => state,
    };
    inner.state = next;
}

#[cfg(test)]
mod tests {
    use super::StreamsState::*;

    #[test]
    fn kafka_streams_transitions() {
        assert!(Created.can_transition_to(Rebalancing));
        assert!(Rebalancing.can_transition_to(Running));
        assert!(Running.can_transition_to(Rebalancing));
        assert!(Running.can_transition_to(PendingShutdown));
        assert!(PendingShutdown.can_transition_to(NotRunning));
        assert!(PendingError.can_transition_to(Error));
        assert!(!Created.can_transition_to(Running));
        assert!(!NotRunning.can_transition_to(Rebalancing));
        assert!(!Error.can_transition_to(PendingShutdown));
        assert!(!PendingShutdown.can_transition_to(Running));
    }
}
