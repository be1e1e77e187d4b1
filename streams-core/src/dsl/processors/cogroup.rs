//! What the aggregate processors of a cogroup fold with — Kafka Streams gives each input's
//! `KStreamAggregate` (or windowed / session aggregate) the cogroup's one initializer and that
//! input's own aggregator.

use std::sync::Arc;

use super::aggregate::StreamAggregator;
use super::session_aggregate::SessionAggregator;
use super::window_aggregate::WindowAggregator;

/// The cogroup's initializer, shared by the aggregate processors of all its inputs.
pub(crate) type InitFn<VA> = Arc<dyn Fn() -> VA + Send + Sync>;

/// The session merger of a session-windowed cogroup.
pub(crate) type MergeFn<K, VA> = Arc<dyn Fn(&K, VA, VA) -> VA + Send + Sync>;

/// One input's fold: `aggregator(key, value, aggregate)` from the shared `initializer()`.
pub(crate) struct CogroupAggregator<VA, F> {
    pub(crate) initializer: InitFn<VA>,
    pub(crate) aggregator: Arc<F>,
}

impl<VA, F> CogroupAggregator<VA, F> {
    fn fold<K, V>(&self, key: &K, value: V, aggregate: Option<VA>) -> VA
    where
        F: Fn(&K, V, VA) -> VA,
    {
        let aggregate = aggregate.unwrap_or_else(|| (self.initializer)());
        (self.aggregator)(key, value, aggregate)
    }
}

impl<K, V, VA, F> StreamAggregator<K, V, VA> for CogroupAggregator<VA, F>
where
    VA: 'static,
    F: Fn(&K, V, VA) -> VA + Send + Sync + 'static,
{
    fn apply(&self, key: &K, value: V, aggregate: Option<VA>) -> VA {
        self.fold(key, value, aggregate)
    }
}

impl<K, V, VA, F> WindowAggregator<K, V, VA> for CogroupAggregator<VA, F>
where
    VA: 'static,
    F: Fn(&K, V, VA) -> VA + Send + Sync + 'static,
{
    fn initial(&self) -> Option<VA> {
        Some((self.initializer)())
    }

    fn apply(&self, key: &K, value: V, aggregate: Option<VA>) -> VA {
        self.fold(key, value, aggregate)
    }
}

/// One input's fold in session windows, with the cogroup's session merger.
pub(crate) struct CogroupSessionAggregator<K, VA, F> {
    pub(crate) fold: CogroupAggregator<VA, F>,
    pub(crate) merger: MergeFn<K, VA>,
}

impl<K, V, VA, F> SessionAggregator<K, V, VA> for CogroupSessionAggregator<K, VA, F>
where
    K: 'static,
    VA: 'static,
    F: Fn(&K, V, VA) -> VA + Send + Sync + 'static,
{
    fn initial(&self) -> Option<VA> {
        Some((self.fold.initializer)())
    }

    fn apply(&self, key: &K, value: V, aggregate: Option<VA>) -> VA {
        self.fold.fold(key, value, aggregate)
    }

    fn merge(&self, key: &K, aggregate: Option<VA>, session: VA) -> VA {
        let aggregate = aggregate.unwrap_or_else(|| (self.fold.initializer)());
        (self.merger)(key, aggregate, session)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_input_folds_from_the_shared_initializer() {
        let initializer: InitFn<String> = Arc::new(|| "init".to_string());
        let a = CogroupAggregator {
            initializer: Arc::clone(&initializer),
            aggregator: Arc::new(|_k: &String, v: i64, agg: String| format!("{agg}|a:{v}")),
        };
        let key = "k".to_string();
        assert_eq!(
            StreamAggregator::apply(&a, &key, 1, None),
            "init|a:1".to_string()
        );
        assert_eq!(
            WindowAggregator::<String, i64, String>::initial(&a),
            Some("init".to_string())
        );
        let merger: MergeFn<String, String> = Arc::new(|_k, l, r| format!("{l}+{r}"));
        let s = CogroupSessionAggregator { fold: a, merger };
        assert_eq!(
            SessionAggregator::<String, i64, String>::merge(&s, &key, None, "x".into()),
            "init+x"
        );
    }
}
