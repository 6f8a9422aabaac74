//! The runtime SSH sessions live on.
//!
//! Connections (russh's session tasks) and the clean-up of cancelled commands
//! run on a small process-wide runtime of their own, not on the caller's: so a
//! connection survives the runtime that `Scheduler::run()` builds and drops,
//! and the signal that stops a cancelled remote command is still sent when the
//! caller's runtime is shutting down. Callers talk to these tasks through
//! channels, which work across runtimes.

use std::future::Future;
use std::sync::OnceLock;

use tokio::runtime::{Handle, Runtime};

fn runtime() -> Option<&'static Runtime> {
    static RT: OnceLock<Option<Runtime>> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("asyncjobs-ssh")
            .enable_all()
            .build()
            .ok()
    })
    .as_ref()
}

/// The handle to spawn on: ours, or the caller's if ours could not be built.
pub(crate) fn handle() -> Option<Handle> {
    runtime()
        .map(|rt| rt.handle().clone())
        .or_else(|| Handle::try_current().ok())
}

/// Runs `fut` on the SSH runtime and waits for it; aborted if the caller is dropped.
pub(crate) async fn run<F>(fut: F) -> Option<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let h = handle()?;
    let task = AbortOnDrop(h.spawn(fut));
    let mut task = task;
    (&mut task.0).await.ok()
}

/// Spawns `fut` on the SSH runtime, detached (used from `Drop`).
pub(crate) fn spawn<F>(fut: F) -> bool
where
    F: Future<Output = ()> + Send + 'static,
{
    match handle() {
        Some(h) => {
            h.spawn(fut);
            true
        }
        None => false,
    }
}

struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Tasks alive on the SSH runtime (sessions, clean-ups); for leak tests.
pub(crate) fn alive_tasks() -> usize {
    runtime().map_or(0, |rt| rt.metrics().num_alive_tasks())
}
