//! Several ECR registries side by side (`--ecr --region A --region B`) as one source. Its
//! repositories are named by their full reference, `ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME`,
//! so each call goes to its region's registry. A region that cannot be listed (AccessDenied,
//! no such region) stands in the list as one entry, `ECR REGION`, whose tags fail with that
//! error: that node fails, the other regions are listed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;

use super::EcrSource;
use crate::error::{Error, Result};
use crate::oci::Descriptor;
use crate::source::{FetchedManifest, NewReferrer, Source, SourceStats, StoredReferrer};

pub struct EcrRegions {
    regions: Vec<(String, Arc<EcrSource>)>,
    /// Why a region's entry failed, by the entry's name.
    failed: Mutex<HashMap<String, Error>>,
}

/// The entry standing for a region whose repositories could not be listed.
fn region_entry(region: &str) -> String {
    format!("ECR {region}")
}

impl EcrRegions {
    pub fn new(regions: Vec<(String, Arc<EcrSource>)>) -> Self {
        EcrRegions { regions, failed: Mutex::default() }
    }

    /// The regions' registry and the repository inside it.
    fn route<'a>(&self, repository: &'a str) -> Result<(&EcrSource, &'a str)> {
        if let Some(e) = self.failed.lock().expect("failed lock").get(repository) {
            return Err(e.clone());
        }
        let (host, name) = repository.split_once('/').unwrap_or((repository, ""));
        self.regions
            .iter()
            .find(|(_, s)| s.registry_host().is_some_and(|h| h.eq_ignore_ascii_case(host)))
            .map(|(_, s)| (s.as_ref(), name))
            .ok_or_else(|| {
                Error::Usage(format!(
                    "{} is not in the ECR registries opened ({})",
                    crate::sanitize::clip(repository, 200),
                    self.regions.iter().map(|(r, _)| r.as_str()).collect::<Vec<_>>().join(", ")
                ))
            })
    }
}

#[async_trait]
impl Source for EcrRegions {
    fn name(&self) -> String {
        format!("ECR ({})", self.regions.iter().map(|(r, _)| r.as_str()).collect::<Vec<_>>().join(", "))
    }

    fn host(&self) -> String {
        self.name()
    }

    fn repository_ref(&self, repository: &str) -> String {
        repository.to_string()
    }

    async fn repositories(&self) -> Result<Vec<String>> {
        let listed = futures::future::join_all(self.regions.iter().map(|(_, s)| s.describe_repositories())).await;
        let mut names = Vec::new();
        let mut failed = self.failed.lock().expect("failed lock");
        for ((region, source), result) in self.regions.iter().zip(listed) {
            match (result, source.registry_host()) {
                (Ok(repos), Some(host)) => names.extend(repos.into_iter().map(|r| format!("{host}/{}", r.name))),
                // Nothing listed, so no account learned: an empty registry.
                (Ok(_), None) => {}
                (Err(e), _) => {
                    failed.insert(region_entry(region), e);
                    names.push(region_entry(region));
                }
            }
        }
        Ok(names)
    }

    async fn tags(&self, repository: &str) -> Result<Arc<Vec<String>>> {
        let (source, name) = self.route(repository)?;
        source.tags(name).await
    }

    async fn manifest(&self, repository: &str, reference: &str) -> Result<Arc<FetchedManifest>> {
        let (source, name) = self.route(repository)?;
        source.manifest(name, reference).await
    }

    async fn blob(&self, repository: &str, descriptor: &Descriptor, limit: u64) -> Result<Bytes> {
        let (source, name) = self.route(repository)?;
        source.blob(name, descriptor, limit).await
    }

    async fn referrers_api(
        &self,
        repository: &str,
        digest: &str,
        artifact_type: Option<&str>,
    ) -> Result<Option<Vec<Descriptor>>> {
        let (source, name) = self.route(repository)?;
        source.referrers_api(name, digest, artifact_type).await
    }

    fn forget_names(&self, repository: Option<&str>) {
        match repository.map(|r| self.route(r)) {
            Some(Ok((source, name))) => source.forget_names(Some(name)),
            Some(Err(_)) => {}
            None => {
                self.failed.lock().expect("failed lock").clear();
                for (_, s) in &self.regions {
                    s.forget_names(None);
                }
            }
        }
    }

    fn stats(&self) -> SourceStats {
        let mut total = SourceStats::default();
        for (_, s) in &self.regions {
            let one = s.stats();
            total.requests += one.requests;
            total.manifests_fetched += one.manifests_fetched;
            total.blobs_fetched += one.blobs_fetched;
            total.cache_hits += one.cache_hits;
        }
        total
    }

    async fn push_referrer(&self, repository: &str, referrer: &NewReferrer) -> Result<StoredReferrer> {
        let (source, name) = self.route(repository)?;
        source.push_referrer(name, referrer).await
    }

    fn known_record(&self, repository: &str, digest: &str) -> Option<crate::source::KnownRecord> {
        let (source, name) = self.route(repository).ok()?;
        source.known_record(name, digest)
    }

    async fn load_records(&self, repository: &str) -> Result<()> {
        let (source, name) = self.route(repository)?;
        source.load_records(name).await
    }

    async fn registry_facts(&self, repository: &str, digest: &str) -> Result<Option<crate::source::RegistryFacts>> {
        let (source, name) = self.route(repository)?;
        source.registry_facts(name, digest).await
    }
}
