//! The shutdown engine: every hook at once, bounded in time.
//! [`Scheduler::co_shutdown`](crate::Scheduler::co_shutdown) gathers the hooks
//! (nested schedulers shut their own jobs down through theirs).

use std::time::Duration;

use futures::future::{join_all, BoxFuture};

use crate::run::ENDLESS;

/// Runs `hooks` concurrently, waiting at most `timeout` (`None`, or one of at
/// least [`ENDLESS`]: no limit); true when every hook finished in time and
/// reported success.
pub(crate) async fn shutdown_all(
    hooks: Vec<BoxFuture<'_, bool>>,
    timeout: Option<Duration>,
) -> bool {
    let all = join_all(hooks);
    match timeout.filter(|&t| t < ENDLESS) {
        None => all.await.into_iter().all(|ok| ok),
        Some(t) => match tokio::time::timeout(t, all).await {
            Ok(done) => done.into_iter().all(|ok| ok),
            Err(_) => false,
        },
    }
}
