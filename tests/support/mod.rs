//! Test support shared by the integration tests (`mod support;`): real registry servers,
//! a hostile stand-in server for bad answers, and a fixture builder.
#![allow(dead_code, unused_imports)]

pub mod fixtures;
pub mod hostile;
pub mod servers;

pub use fixtures::{Fixture, seed};
pub use hostile::Hostile;
pub use servers::Server;

use sigscope::source::registry::{RegistryOptions, RegistrySource};

/// Options for loopback test servers: short timeouts so a broken server fails fast.
pub fn test_options() -> RegistryOptions {
    RegistryOptions {
        connect_timeout: std::time::Duration::from_secs(5),
        read_timeout: std::time::Duration::from_secs(10),
        docker_config: Some(std::path::PathBuf::from("/nonexistent/sigscope-test-docker-config")),
        ..RegistryOptions::default()
    }
}

pub fn source(host: &str, opts: RegistryOptions) -> RegistrySource {
    RegistrySource::new(host, opts).expect("registry source")
}
