//! The COSE_Sign1 Notation envelope parser.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = sigscope::notation::envelope::parse("application/cose", data);
});
