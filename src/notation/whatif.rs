//! What-if edits of a trust policy: changes to statements that exist only on screen until
//! written (level, trust stores, trusted identities), laid over whatever policy the file holds.

use std::collections::BTreeMap;

use crate::notation::dn::Dn;
use crate::notation::policy::{Level, TrustPolicy, TrustStoreRef, TrustedIdentity};

/// Changes to one statement that exist only on screen until written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatementEdit {
    pub level: Option<Level>,
    pub trust_stores: Option<Vec<TrustStoreRef>>,
    pub trusted_identities: Option<Vec<TrustedIdentity>>,
}

/// What-if edits by statement name, laid over whatever policy the file holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WhatIf {
    pub edits: BTreeMap<String, StatementEdit>,
}

impl WhatIf {
    pub fn is_active(&self) -> bool {
        self.edits.values().any(|e| *e != StatementEdit::default())
    }

    /// The policy with the edits applied. A statement moved to `skip` loses its stores,
    /// identities and overrides (the specification forbids them there); moving it back
    /// restores them from the file.
    pub fn apply(&self, base: &TrustPolicy) -> TrustPolicy {
        let mut p = base.clone();
        for s in &mut p.statements {
            let Some(e) = self.edits.get(&s.name) else { continue };
            if let Some(l) = e.level {
                s.level = l;
            }
            if let Some(t) = &e.trust_stores {
                s.trust_stores = t.clone();
            }
            if let Some(i) = &e.trusted_identities {
                s.trusted_identities = i.clone();
            }
            if s.level == Level::Skip {
                s.trust_stores.clear();
                s.trusted_identities.clear();
                s.overrides.clear();
            }
        }
        p
    }

    /// Drops edits that the file now says itself (after a reload or a write).
    pub fn prune(&mut self, base: &TrustPolicy) {
        self.edits.retain(|name, e| {
            let Some(s) = base.statement(name) else { return false };
            if e.level == Some(s.level) {
                e.level = None;
            }
            if e.trust_stores.as_ref() == Some(&s.trust_stores) {
                e.trust_stores = None;
            }
            if e.trusted_identities.as_ref() == Some(&s.trusted_identities) {
                e.trusted_identities = None;
            }
            *e != StatementEdit::default()
        });
    }

    /// Cycles the level of `statement`: strict → permissive → audit → skip → strict.
    pub fn cycle_level(&mut self, base: &TrustPolicy, statement: &str) -> Option<Level> {
        let current = self.apply(base).statement(statement)?.level;
        let i = Level::ALL.iter().position(|l| *l == current).unwrap_or(0);
        let next = Level::ALL[(i + 1) % Level::ALL.len()];
        let original = base.statement(statement)?.level;
        let e = self.edits.entry(statement.to_string()).or_default();
        e.level = (next != original).then_some(next);
        Some(next)
    }

    /// Cycles the trust stores of `statement`: as in the file → each store on disk alone → back.
    pub fn cycle_store(
        &mut self,
        base: &TrustPolicy,
        statement: &str,
        available: &[TrustStoreRef],
    ) -> Option<Vec<TrustStoreRef>> {
        let original = base.statement(statement)?.trust_stores.clone();
        let mut options: Vec<Vec<TrustStoreRef>> = vec![original.clone()];
        for s in available {
            let alone = vec![s.clone()];
            if !options.contains(&alone) {
                options.push(alone);
            }
        }
        let e = self.edits.entry(statement.to_string()).or_default();
        let current = e.trust_stores.clone().unwrap_or_else(|| original.clone());
        let i = options.iter().position(|o| *o == current).unwrap_or(0);
        let next = options[(i + 1) % options.len()].clone();
        e.trust_stores = (next != original).then(|| next.clone());
        Some(next)
    }

    /// Toggles the trusted identities of `statement` between `*` and `x509.subject:<signer>`.
    pub fn toggle_identity(
        &mut self,
        base: &TrustPolicy,
        statement: &str,
        signer: Option<&str>,
    ) -> Result<Vec<TrustedIdentity>, String> {
        let original =
            base.statement(statement).ok_or("the statement is gone from the policy")?.trusted_identities.clone();
        let e = self.edits.entry(statement.to_string()).or_default();
        let current = e.trusted_identities.clone().unwrap_or_else(|| original.clone());
        let next = if current == [TrustedIdentity::Any] {
            let signer = signer.ok_or("no signer to trust: select an image with a signature that names its signer")?;
            let dn = Dn::parse(signer)
                .and_then(|dn| dn.require_mandatory(signer).map(|()| dn))
                .map_err(|err| format!("cannot trust the signer's subject as an identity: {err}"))?;
            vec![TrustedIdentity::X509Subject(dn)]
        } else {
            vec![TrustedIdentity::Any]
        };
        e.trusted_identities = (next != original).then(|| next.clone());
        Ok(next)
    }
}
