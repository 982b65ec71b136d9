//! A backend that records plans, for unit tests of the apply logic.

use crate::{ApplyPlan, NetworkBackend, NetworkError};
use futures::future::BoxFuture;
use std::sync::Mutex;

/// Records every plan; can be told to fail the next apply.
#[derive(Debug, Default)]
pub struct FakeBackend {
    plans: Mutex<Vec<ApplyPlan>>,
    fail_next: Mutex<Option<String>>,
}

impl FakeBackend {
    /// Plans applied so far (failed ones included).
    pub fn plans(&self) -> Vec<ApplyPlan> {
        self.plans.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Makes the next apply fail with `message`.
    pub fn fail_next(&self, message: &str) {
        *self.fail_next.lock().unwrap_or_else(|e| e.into_inner()) = Some(message.into());
    }
}

impl NetworkBackend for FakeBackend {
    fn apply<'a>(&'a self, plan: &'a ApplyPlan) -> BoxFuture<'a, Result<(), NetworkError>> {
        self.plans
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(plan.clone());
        let failure = self
            .fail_next
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        Box::pin(async move {
            match failure {
                Some(message) => Err(NetworkError::Injected(message)),
                None => Ok(()),
            }
        })
    }

    fn kind(&self) -> lqx_api::NetworkBackendKind {
        lqx_api::NetworkBackendKind::FilesOnly
    }
}
