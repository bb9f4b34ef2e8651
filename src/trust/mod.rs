//! Notation verification: trust policy, trust stores, envelopes, certificate chains,
//! RFC 3161 timestamps, revocation. Takes "now" as a parameter; never imports the UI.

pub mod dn;
pub mod policy;
pub mod revocation;
pub mod timestamp;
pub mod truststore;
