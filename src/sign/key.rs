//! A local private key and its certificate chain, read from PEM files, as a [`super::Signer`].
