//! The OCI manifest / index parser, and what the graph derives from a parsed manifest.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = sigscope::oci::Manifest::parse(data) {
        let _ = m.is_index();
        let _ = m.effective_artifact_type();
        let _ = m.layers().len();
        let _ = m.to_json();
    }
});
