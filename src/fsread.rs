//! Bounded reads of local files (OCI layouts, trust stores, policies, caches, configs).
