//! Runs effects on tokio tasks and reports back on the one message channel. Results carry the
//! request id they were asked with; `App::update` drops those it no longer waits for.

use std::sync::Arc;

use tokio::sync::Semaphore;
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::AbortHandle;

use crate::source::referrers::{ExploreOptions, expand};

use super::app::{Effect, Msg};

/// Expansions in flight at once; sources cap per-registry concurrency themselves, this keeps a
/// fast scroller from queueing thousands of tasks.
const MAX_TASKS: usize = 32;

pub struct Effects {
    tx: UnboundedSender<Msg>,
    limit: Arc<Semaphore>,
    /// Only the newest description matters: the previous one is cancelled.
    describing: Option<AbortHandle>,
}

impl Effects {
    pub fn new(tx: UnboundedSender<Msg>) -> Self {
        Effects { tx, limit: Arc::new(Semaphore::new(MAX_TASKS)), describing: None }
    }

    /// Starts a network or file effect; hands back the ones that belong to the terminal
    /// (clipboard, mouse, quit).
    pub fn spawn(&mut self, effect: Effect) -> Option<Effect> {
        let tx = self.tx.clone();
        match effect {
            Effect::Expand { request, node, source, req } => {
                let limit = self.limit.clone();
                tokio::spawn(async move {
                    let _permit = limit.acquire_owned().await;
                    let result = expand(&*source, &req, &ExploreOptions::default()).await.map_err(|e| e.to_string());
                    let _ = tx.send(Msg::Expanded { request, node, result });
                });
                None
            }
            Effect::Describe { request, node, source, artifact, preview_limit } => {
                if let Some(previous) = self.describing.take() {
                    previous.abort();
                }
                let task = tokio::spawn(async move {
                    let details = crate::artifact::describe(&*source, &artifact, preview_limit).await;
                    let _ = tx.send(Msg::Described { request, node, details });
                });
                self.describing = Some(task.abort_handle());
                None
            }
            Effect::Open { request, target, options } => {
                tokio::spawn(async move {
                    let t = target.clone();
                    // Opening reads files and may build TLS clients: keep it off the runtime's workers.
                    let result = match tokio::task::spawn_blocking(move || crate::open::open(&t, &options)).await {
                        Ok(r) => r.map_err(|e| e.to_string()),
                        Err(e) => Err(format!("the open task failed: {e}")),
                    };
                    let _ = tx.send(Msg::Opened { request, target, result });
                });
                None
            }
            other => Some(other),
        }
    }
}
