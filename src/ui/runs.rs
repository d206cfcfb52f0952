//! The check runs in flight: which runs are still wanted (with the step each was started for),
//! and which checks are running, in which run, since when. One struct, so a run's checks are
//! forgotten with it.

use std::collections::BTreeMap;
use std::time::Instant;

use crate::catalog::CheckId;
use crate::engine::RunId;

#[derive(Debug, Default)]
pub(crate) struct Runs {
    last: RunId,
    /// Runs whose events are still wanted, with the step each was started for.
    wanted: BTreeMap<RunId, Option<CheckId>>,
    /// The checks running now: their run, and since when.
    checks: BTreeMap<CheckId, (RunId, Instant)>,
}

impl Runs {
    /// A new run for `scope` (every check when `None`); its id.
    pub(crate) fn start(&mut self, scope: Option<CheckId>) -> RunId {
        self.last += 1;
        self.wanted.insert(self.last, scope);
        self.last
    }

    /// Nothing running and nothing waiting to start.
    pub(crate) fn is_idle(&self) -> bool {
        self.wanted.is_empty()
    }

    /// Whether events of `run` are still wanted.
    pub(crate) fn wants(&self, run: RunId) -> bool {
        self.wanted.contains_key(&run)
    }

    pub(crate) fn check_started(&mut self, run: RunId, check: CheckId) {
        self.checks.insert(check, (run, Instant::now()));
    }

    pub(crate) fn check_finished(&mut self, check: CheckId) {
        self.checks.remove(&check);
    }

    /// Forgets `run` and the checks it was running.
    pub(crate) fn forget(&mut self, run: RunId) {
        self.wanted.remove(&run);
        self.checks.retain(|_, (of, _)| *of != run);
    }

    /// The run `check` is running in, if it is running.
    pub(crate) fn run_of(&self, check: CheckId) -> Option<RunId> {
        self.checks.get(&check).map(|(run, _)| *run)
    }

    /// Since when `check` has been running, if it is.
    pub(crate) fn since(&self, check: CheckId) -> Option<Instant> {
        self.checks.get(&check).map(|(_, since)| *since)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_forgotten_run_takes_its_checks_with_it() {
        let mut runs = Runs::default();
        assert!(runs.is_idle());
        let first = runs.start(None);
        let second = runs.start(Some(CheckId::Tls));
        assert_ne!(first, second);
        runs.check_started(first, CheckId::Dns);
        runs.check_started(second, CheckId::Tls);
        assert_eq!(runs.run_of(CheckId::Dns), Some(first));
        runs.forget(first);
        assert!(!runs.wants(first) && runs.wants(second));
        assert!(runs.since(CheckId::Dns).is_none());
        assert!(runs.since(CheckId::Tls).is_some());
        runs.check_finished(CheckId::Tls);
        runs.forget(second);
        assert!(runs.is_idle() && runs.run_of(CheckId::Tls).is_none());
    }
}
