//! The Notary Project specification: trust policy, trust stores (from a Notation directory
//! or given in memory), envelopes and their header vocabulary, certificate chains, RFC 3161
//! timestamps, revocation, verification plugins, and the workflow that ties them together.
//! Takes bytes, descriptors and "now" as parameters; never imports the UI, a source or the
//! graph.

pub mod chain;
pub mod dir;
pub mod dn;
pub mod envelope;
pub mod plugin;
pub mod policy;
pub mod revocation;
pub mod timestamp;
pub mod truststore;
pub mod verifier;
pub mod whatif;
