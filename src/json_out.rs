//! JSON as sigscope writes it (stdout reports, files).
