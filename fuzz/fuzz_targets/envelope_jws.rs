//! The JWS (flattened JSON) Notation envelope parser: any bytes give Ok or Err, never a panic,
//! a hang or an unbounded allocation.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = sigscope::notation::envelope::parse("application/jose+json", data);
});
