//! Runs effects on tokio tasks and reports back on the one message channel. Results carry the
//! request id they were asked with; `App::update` drops those it no longer waits for.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::AbortHandle;

use crate::graph::expand::{ExploreOptions, expand};

use super::app::{Effect, Msg};

/// Expansions in flight at once; sources cap per-registry concurrency themselves, this keeps a
/// fast scroller from queueing thousands of tasks.
const MAX_TASKS: usize = 32;

pub struct Effects {
    tx: UnboundedSender<Msg>,
    limit: Arc<Semaphore>,
    /// Only the newest description matters: the previous one is cancelled.
    describing: Option<AbortHandle>,
    /// One Notation directory is watched at a time.
    watching: Option<AbortHandle>,
}

impl Effects {
    pub fn new(tx: UnboundedSender<Msg>) -> Self {
        Effects { tx, limit: Arc::new(Semaphore::new(MAX_TASKS)), describing: None, watching: None }
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
                    let details = crate::inspect::describe(&*source, &artifact, preview_limit).await;
                    let _ = tx.send(Msg::Described { request, node, details });
                });
                self.describing = Some(task.abort_handle());
                None
            }
            Effect::Open { request, target, options } => {
                tokio::spawn(async move {
                    let t = target.clone();
                    // Opening reads files and may build TLS clients: keep it off the runtime's workers.
                    let open = move || crate::open::open(&t, &options_for(&t, *options));
                    let result = match tokio::task::spawn_blocking(open).await {
                        Ok(r) => r.map_err(|e| e.to_string()),
                        Err(e) => Err(format!("the open task failed: {e}")),
                    };
                    let _ = tx.send(Msg::Opened { request, target, result });
                });
                None
            }
            Effect::Verify { request, node, source, repository, subject, tag, verifier, now } => {
                let limit = self.limit.clone();
                tokio::spawn(async move {
                    let _permit = limit.acquire_owned().await;
                    let result = crate::verify::verify_tag_or_artifact(
                        &*source,
                        &repository,
                        tag.as_deref(),
                        &subject,
                        &verifier,
                        now,
                    )
                    .await
                    .map_err(|e| e.to_string());
                    let _ = tx.send(Msg::Verified { request, node, result });
                });
                None
            }
            Effect::WatchPolicy { dir } => {
                if let Some(previous) = self.watching.take() {
                    previous.abort();
                }
                self.watching = Some(tokio::spawn(watch_policy(dir, tx)).abort_handle());
                None
            }
            Effect::WritePolicy { path, json } => {
                tokio::spawn(async move {
                    let p = path.clone();
                    let result = match tokio::task::spawn_blocking(move || super::verify::write_atomic(&p, &json)).await
                    {
                        Ok(Ok(())) => Ok(path),
                        Ok(Err(e)) => Err(format!("{}: {e}", path.display())),
                        Err(e) => Err(format!("the write task failed: {e}")),
                    };
                    let _ = tx.send(Msg::PolicyWritten(result));
                });
                None
            }
            Effect::SaveHistory { path, text } => {
                tokio::spawn(async move {
                    let p = path.clone();
                    let failed = match tokio::task::spawn_blocking(move || super::prompt::save(&p, &text)).await {
                        Ok(Ok(())) => None,
                        Ok(Err(e)) => Some(format!("cannot save the prompt history to {}: {e}", path.display())),
                        Err(e) => Some(format!("the history task failed: {e}")),
                    };
                    if let Some(text) = failed {
                        let _ = tx.send(Msg::EffectFailed(text));
                    }
                });
                None
            }
            other => Some(other),
        }
    }
}

/// `:open` takes any kind of target whatever sigscope was started with: a directory holding
/// an OCI image layout (`PATH[:tag|@digest]`) is opened as one, anything else as a registry.
pub fn options_for(target: &str, mut options: crate::open::OpenOptions) -> crate::open::OpenOptions {
    let layout = match crate::oci::reference::parse_layout_target(target) {
        Ok(crate::oci::reference::Target::Layout { path, .. }) => {
            std::path::Path::new(&path).join("oci-layout").is_file()
        }
        _ => false,
    };
    options.oci_layout = layout;
    options
}

/// How often the Notation directory is looked at: a change shows within a second.
const POLL: Duration = Duration::from_millis(400);

/// Reads the Notation directory, reports it, then polls sizes and modification times of the
/// policy files and trust stores and reports again after each change. Ends with the app.
async fn watch_policy(dir: PathBuf, tx: UnboundedSender<Msg>) {
    let mut last = None;
    loop {
        let d = dir.clone();
        let Ok(print) = tokio::task::spawn_blocking(move || super::verify::fingerprint(&d)).await else { return };
        if last.as_ref() != Some(&print) {
            // A file being written may be caught half-way; the next poll sees the rest.
            let d = dir.clone();
            let Ok(snapshot) = tokio::task::spawn_blocking(move || super::verify::snapshot(&d)).await else { return };
            if tx.send(Msg::PolicyLoaded(Box::new(snapshot))).is_err() {
                return;
            }
            last = Some(print);
        }
        tokio::time::sleep(POLL).await;
    }
}
