//! The Notary Project's names, declared once: the `io.cncf.notary.*` signed attributes and
//! unsigned headers of an envelope, the signature manifest's annotation and the signing scheme values. Parsers, the display decoders and the signers all import these, so
//! a typo in one of them cannot make a signer and a verifier disagree.

/// Signed: `notary.x509` or `notary.x509.signingAuthority`.
pub const SIGNING_SCHEME: &str = "io.cncf.notary.signingScheme";
/// Signed, `notary.x509` only: the signer's claimed time.
pub const SIGNING_TIME: &str = "io.cncf.notary.signingTime";
/// Signed, `notary.x509.signingAuthority` only: a time the signing authority vouches for.
pub const AUTHENTIC_SIGNING_TIME: &str = "io.cncf.notary.authenticSigningTime";
pub const EXPIRY: &str = "io.cncf.notary.expiry";
/// Signed: the verification plugin a verifier must run for this signature.
pub const VERIFICATION_PLUGIN: &str = "io.cncf.notary.verificationPlugin";
pub const VERIFICATION_PLUGIN_MIN_VERSION: &str = "io.cncf.notary.verificationPluginMinVersion";
/// Unsigned: an RFC 3161 token countersigning the signature.
pub const TIMESTAMP_SIGNATURE: &str = "io.cncf.notary.timestampSignature";
/// Unsigned: free text naming the signing tool.
pub const SIGNING_AGENT: &str = "io.cncf.notary.signingAgent";

/// The signed attributes this verifier understands itself; any other name in `crit` is an
/// extension only a verification plugin may process.
pub const KNOWN_SIGNED: [&str; 6] = [
    SIGNING_SCHEME,
    SIGNING_TIME,
    AUTHENTIC_SIGNING_TIME,
    EXPIRY,
    VERIFICATION_PLUGIN,
    VERIFICATION_PLUGIN_MIN_VERSION,
];

/// Annotation of a signature manifest: the SHA-256 thumbprints of the signing chain. Declared
/// with the other OCI annotations (oci/ is below everything), named here too.
pub use crate::oci::annotations::NOTATION_THUMBPRINT as THUMBPRINT_ANNOTATION;
/// The media type of the payload a Notation signature signs (declared with the OCI media types).
pub use crate::oci::media::NOTATION_PAYLOAD as PAYLOAD_MEDIA_TYPE;

/// Values of [`SIGNING_SCHEME`].
pub const SCHEME_X509: &str = "notary.x509";
pub const SCHEME_SIGNING_AUTHORITY: &str = "notary.x509.signingAuthority";
