//! The check runs in flight: which runs are still wanted (with the step each was started for),
//! and which checks are running, in which run, since when, at which attempt. One struct, so a
//! run's checks are forgotten with it.

use std::collections::BTreeMap;
use std::time::Instant;

use crate::catalog::CheckId;
use crate::check::evidence::RetryReason;
use crate::engine::RunId;

/// A check running now.
#[derive(Debug)]
pub(crate) struct Running {
    pub run: RunId,
    pub since: Instant,
    /// The attempt it is at when it asks again (the first is 1), and why.
    pub retrying: Option<(RetryReason, u32)>,
}

#[derive(Debug, Default)]
pub(crate) struct Runs {
    last: RunId,
    /// Runs whose events are still wanted, with the step each was started for.
    wanted: BTreeMap<RunId, Option<CheckId>>,
    /// The checks running now.
    checks: BTreeMap<CheckId, Running>,
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
        let running = Running {
            run,
            since: Instant::now(),
            retrying: None,
        };
        self.checks.insert(check, running);
    }

    pub(crate) fn check_retrying(&mut self, check: CheckId, why: RetryReason, attempt: u32) {
        if let Some(running) = self.checks.get_mut(&check) {
            running.retrying = Some((why, attempt));
        }
    }

    pub(crate) fn check_finished(&mut self, check: CheckId) {
        self.checks.remove(&check);
    }

    /// Forgets `run` and the checks it was running.
    pub(crate) fn forget(&mut self, run: RunId) {
        self.wanted.remove(&run);
        self.checks.retain(|_, running| running.run != run);
    }

    /// The run `check` is running in, if it is running.
    pub(crate) fn run_of(&self, check: CheckId) -> Option<RunId> {
        self.checks.get(&check).map(|running| running.run)
    }

    /// How `check` is running, if it is.
    pub(crate) fn running(&self, check: CheckId) -> Option<&Running> {
        self.checks.get(&check)
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
        assert!(runs.running(CheckId::Dns).is_none());
        assert!(runs.running(CheckId::Tls).is_some());
        runs.check_retrying(CheckId::Tls, RetryReason::ColdStart, 3);
        let tls = runs.running(CheckId::Tls).expect("running");
        assert_eq!(tls.retrying, Some((RetryReason::ColdStart, 3)));
        runs.check_finished(CheckId::Tls);
        runs.forget(second);
        assert!(runs.is_idle() && runs.run_of(CheckId::Tls).is_none());
    }
}
