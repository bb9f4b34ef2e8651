//! The OCI 1.1 signature manifest that carries a Notation envelope as a referrer of the
//! signed manifest.
