//! OCI distribution registry over HTTP. (Being written.)
