//! Runs effects on tokio tasks and reports back on the one message channel. Results carry the
//! request id they were asked with; `App::update` drops those it no longer waits for.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::AbortHandle;

use crate::error::Error;
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
    /// And one set of Kyverno policy files.
    watching_kyverno: Option<AbortHandle>,
}

impl Effects {
    pub fn new(tx: UnboundedSender<Msg>) -> Self {
        Effects {
            tx,
            limit: Arc::new(Semaphore::new(MAX_TASKS)),
            describing: None,
            watching: None,
            watching_kyverno: None,
        }
    }

    /// Starts a network or file effect on a task; hands back the ones that belong to the
    /// terminal (clipboard, mouse, suspend, quit). What each effect does is [`execute`]'s; this
    /// only decides how it runs: at most [`MAX_TASKS`] loads at once, the newest description
    /// only, one policy watcher.
    pub fn spawn(&mut self, effect: Effect) -> Option<Effect> {
        let tx = self.tx.clone();
        match effect {
            Effect::WatchPolicy { dir } => {
                if let Some(previous) = self.watching.take() {
                    previous.abort();
                }
                self.watching = Some(tokio::spawn(watch_policy(dir, tx)).abort_handle());
                None
            }
            Effect::WatchKyverno { paths } => {
                if let Some(previous) = self.watching_kyverno.take() {
                    previous.abort();
                }
                self.watching_kyverno = Some(tokio::spawn(watch_kyverno(paths, tx)).abort_handle());
                None
            }
            // Replays come with every image when Kyverno policies are loaded: bounded like loads.
            e @ (Effect::Expand { .. }
            | Effect::Verify { .. }
            | Effect::VerifyCosign { .. }
            | Effect::Explain { .. }) => {
                let limit = self.limit.clone();
                tokio::spawn(async move {
                    let _permit = limit.acquire_owned().await;
                    send(&tx, execute(e).await);
                });
                None
            }
            e @ Effect::Describe { .. } => {
                if let Some(previous) = self.describing.take() {
                    previous.abort();
                }
                self.describing = Some(tokio::spawn(async move { send(&tx, execute(e).await) }).abort_handle());
                None
            }
            e @ (Effect::Open { .. }
            | Effect::WritePolicy { .. }
            | Effect::SaveHistory { .. }
            | Effect::Sign { .. }
            | Effect::ListSigningProfiles { .. }) => {
                tokio::spawn(async move { send(&tx, execute(e).await) });
                None
            }
            terminal => Some(terminal),
        }
    }
}

fn send(tx: &UnboundedSender<Msg>, msg: Option<Msg>) {
    if let Some(msg) = msg {
        let _ = tx.send(msg);
    }
}

/// Does one effect and says how it ended, as the message `update` gets. The one place that maps
/// an effect to its result: the runner and the tests' harness both call it. File and TLS work
/// runs on the blocking pool, never on the async workers. `None` for effects that answer only
/// when they fail (saving the history) or that are not run here (the watcher, the terminal's).
pub async fn execute(effect: Effect) -> Option<Msg> {
    match effect {
        Effect::Expand { request, node, source, req } => {
            let result = expand(&*source, &req, &ExploreOptions::default()).await;
            Some(Msg::Expanded { request, node, result })
        }
        Effect::Describe { request, node, source, artifact, preview_limit } => {
            let details = crate::describe::describe(&*source, &artifact, preview_limit).await;
            Some(Msg::Described { request, node, details })
        }
        Effect::Open { request, target, options } => {
            let t = target.clone();
            let open = move || crate::open::open(&t, &options_for(&t, *options));
            let result = match tokio::task::spawn_blocking(open).await {
                Ok(r) => r,
                Err(e) => Err(Error::Io { path: target.clone(), detail: format!("the open task failed: {e}") }),
            };
            Some(Msg::Opened { request, target, result })
        }
        Effect::Verify { request, node, source, repository, subject, tag, verifier, now } => {
            let result =
                crate::verify::verify_tag_or_artifact(&*source, &repository, tag.as_deref(), &subject, &verifier, now)
                    .await;
            Some(Msg::Verified { request, node, result })
        }
        Effect::VerifyCosign { request, node, source, repository, subject, keys } => {
            let result = crate::verify::cosign::verify_cosign(&*source, &repository, &subject, &keys).await;
            Some(Msg::CosignVerified { request, node, result })
        }
        Effect::Sign { request, node, source, repository, subject, key, envelope, now, aws } => {
            let result = sign(&*source, &repository, &subject, &key, envelope, now, &aws).await.map(Box::new);
            Some(Msg::Signed { request, node, result })
        }
        Effect::Explain { request, node, source, repository, subject, image, resource, policies, revocation, now } => {
            let check = crate::explain::ImageSignatures::new(source, repository, *subject, now, revocation);
            let explanation = crate::kyverno::replay::replay(&policies, &image, &resource, &check).await;
            let error = check.registry_error.lock().expect("error lock").take().map(|e| e.to_string());
            Some(Msg::Explained { request, node, explanation: Box::new(explanation), error })
        }
        Effect::ListSigningProfiles { request, settings } => {
            let result = crate::sign::aws_signer::list_profiles(&settings).await;
            Some(Msg::SigningProfiles { request, result })
        }
        Effect::WritePolicy { path, json } => {
            let p = path.clone();
            let result = match tokio::task::spawn_blocking(move || crate::notation::dir::write_atomic(&p, &json)).await
            {
                Ok(Ok(())) => Ok(path),
                Ok(Err(e)) => Err(Error::io(&path, e)),
                Err(e) => Err(Error::io(&path, format!("the write task failed: {e}"))),
            };
            Some(Msg::PolicyWritten(result))
        }
        Effect::SaveHistory { path, text } => {
            let p = path.clone();
            match tokio::task::spawn_blocking(move || super::prompt::save(&p, &text)).await {
                Ok(Ok(())) => None,
                Ok(Err(e)) => {
                    Some(Msg::EffectFailed(format!("cannot save the prompt history to {}: {e}", path.display())))
                }
                Err(e) => Some(Msg::EffectFailed(format!("the history task failed: {e}"))),
            }
        }
        Effect::WatchPolicy { .. }
        | Effect::WatchKyverno { .. }
        | Effect::Copy(_)
        | Effect::SetMouse(_)
        | Effect::Suspend
        | Effect::Quit => None,
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
        let Ok(print) = tokio::task::spawn_blocking(move || crate::notation::dir::fingerprint(&d)).await else {
            return;
        };
        if last.as_ref() != Some(&print) {
            // A file being written may be caught half-way; the next poll sees the rest.
            let d = dir.clone();
            let Ok(snapshot) = tokio::task::spawn_blocking(move || crate::notation::dir::snapshot(&d)).await else {
                return;
            };
            if tx.send(Msg::PolicyLoaded(Box::new(snapshot))).is_err() {
                return;
            }
            last = Some(print);
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Polls the Kyverno policy files (sizes and modification times, a directory's files too) and
/// reads them again after each change; the first look only takes the fingerprint, as the
/// policies were read at start. Ends with the app.
async fn watch_kyverno(paths: Vec<PathBuf>, tx: UnboundedSender<Msg>) {
    use crate::kyverno::files;
    let mut last = None;
    loop {
        let p = paths.clone();
        let Ok(print) = tokio::task::spawn_blocking(move || files::fingerprint(&p)).await else { return };
        if last.is_some() && last.as_ref() != Some(&print) {
            let p = paths.clone();
            let Ok(loaded) = tokio::task::spawn_blocking(move || files::load_paths(&p)).await else { return };
            if tx.send(Msg::KyvernoLoaded(loaded.map(Arc::new))).is_err() {
                return;
            }
        }
        last = Some(print);
        tokio::time::sleep(POLL).await;
    }
}

/// The TSA of a configured key, its root file read on the blocking pool, with the same checks
/// as `sign --timestamp-url` and one request's timeout.
async fn tsa_options(
    name: &str,
    url: &str,
    root: &std::path::Path,
    timeout: std::time::Duration,
) -> Result<crate::sign::timestamp::TimestampOptions, Error> {
    let (url, root) = (url.to_string(), root.to_path_buf());
    let settings =
        (format!("[[signing.key]] {name}: timestamp_url"), format!("[[signing.key]] {name}: timestamp_root_cert"));
    tokio::task::spawn_blocking(move || {
        crate::sign::timestamp::TimestampOptions::from_files(&url, &root, timeout, (&settings.0, &settings.1))
    })
    .await
    .map_err(|e| Error::Io { path: name.to_string(), detail: format!("the read task failed: {e}") })?
}

/// Loads the key (files are read on the blocking pool) and runs the signing pipeline.
async fn sign(
    source: &dyn crate::source::Source,
    repository: &str,
    subject: &crate::oci::Descriptor,
    key: &super::config::SigningKey,
    envelope: crate::sign::pipeline::EnvelopeFormat,
    now: chrono::DateTime<chrono::Utc>,
    aws: &crate::sign::aws_signer::AwsSignerSettings,
) -> Result<crate::sign::pipeline::Signed, Error> {
    use super::config::KeySource;
    use crate::sign::aws_signer;
    use crate::sign::pipeline::{EnvelopeSigner, LocalEnvelopes, SignOptions, sign_manifest};
    let signer: Box<dyn EnvelopeSigner> = match &key.source {
        KeySource::AwsSigner { profile, region } => {
            // The service writes the envelope and its attributes; it is checked, then stored.
            aws_signer::require_jws(envelope)?;
            let profile = aws_signer::ProfileRef::parse(profile)?;
            let settings = aws_signer::AwsSignerSettings { region: region.clone(), ..aws.clone() };
            let signer = aws_signer::AwsSigner::new(profile, &settings).await?;
            return aws_signer::sign_manifest(source, repository, subject, &signer).await;
        }
        KeySource::Demo => Box::new(LocalEnvelopes(crate::demo::keys::demo_signer())),
        KeySource::Files { key: k, cert } => {
            let (k, cert) = (k.clone(), cert.clone());
            let loaded =
                tokio::task::spawn_blocking(move || crate::sign::key::LocalSigner::from_files_at(&k, &cert, now))
                    .await
                    .map_err(|e| Error::Io { path: key.name.clone(), detail: format!("the key task failed: {e}") })?;
            Box::new(LocalEnvelopes(loaded?))
        }
    };
    let timestamp = match &key.timestamp {
        None => None,
        Some((url, root)) => Some(tsa_options(&key.name, url, root, aws.aws.attempt_timeout).await?),
    };
    let options = SignOptions { format: envelope, signing_time: now, expiry: None, timestamp };
    sign_manifest(source, repository, subject, signer.as_ref(), &options).await
}
