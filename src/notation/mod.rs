//! Notation verification: trust policy, trust stores, envelopes, certificate chains,
//! RFC 3161 timestamps, revocation, and the workflow that ties them together. Takes "now"
//! as a parameter; never imports the UI.

pub mod chain;
pub mod dir;
pub mod dn;
pub mod envelope;
pub mod policy;
pub mod revocation;
pub mod timestamp;
pub mod truststore;
pub mod verify;
