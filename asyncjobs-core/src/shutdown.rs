//! Explicit, recursive shutdown: every job's `co_shutdown`, nested ones too.

use std::sync::Arc;

use futures::future::{join_all, BoxFuture, FutureExt};

use crate::error::SchedulerError;
use crate::job::Body;
use crate::scheduler::{NestedSlot, Scheduler};

impl Scheduler {
    /// Calls `co_shutdown` on every job, nested schedulers included, concurrently
    /// and once per scheduler; never called by a run. Waits at most the
    /// `shutdown_timeout` (1 s by default): true when every hook finished in time.
    pub async fn co_shutdown(&mut self) -> bool {
        if self.shut_down {
            return true;
        }
        self.shut_down = true;
        let mut hooks: Vec<BoxFuture<'_, bool>> = std::mem::take(&mut self.shutdowns)
            .into_iter()
            .map(|(_, f)| f.map(|()| true).boxed())
            .collect();
        for r in &self.records {
            match &r.body {
                Body::Future { .. } => {}
                Body::Abstract(job) => hooks.push(job.shutdown()),
            }
        }
        let all = join_all(hooks);
        match self.shutdown_timeout {
            None => all.await.into_iter().all(|ok| ok),
            Some(t) => match tokio::time::timeout(t, all).await {
                Ok(done) => done.into_iter().all(|ok| ok),
                Err(_) => false,
            },
        }
    }

    /// Blocking [`co_shutdown`](Self::co_shutdown) on a runtime of its own;
    /// [`SchedulerError::InsideRuntime`] when called from inside a runtime.
    pub fn shutdown(&mut self) -> Result<bool, SchedulerError> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(SchedulerError::InsideRuntime);
        }
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| SchedulerError::Runtime(e.to_string()))?;
        Ok(rt.block_on(self.co_shutdown()))
    }

    /// Whether [`shutdown`](Self::shutdown) has been called.
    pub fn is_shut_down(&self) -> bool {
        self.shut_down
    }
}

/// Shuts a nested scheduler down, borrowing it out of its slot meanwhile.
pub(crate) fn shutdown_nested(slot: Arc<NestedSlot>) -> BoxFuture<'static, bool> {
    async move {
        match slot.lease() {
            Some(mut inner) => inner.co_shutdown().await,
            None => true,
        }
    }
    .boxed()
}
