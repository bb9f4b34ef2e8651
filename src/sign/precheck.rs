//! What is checked before anything is signed, as notation's signer does: the chain in order,
//! the leaf fit for code signing, the private key matching the leaf.
